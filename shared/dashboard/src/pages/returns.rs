//! Returns: Received, Refunded, Error, with the Commerce return and credit memo.

use std::fmt::Write as _;

use domain::ReturnStatus;
use operations::dashboard::ReturnBucket;
use ports::PageToken;

use super::PageResult;
use crate::html::{Nav, action_button, esc, q, when};
use crate::{Ctx, data};

const BUCKETS: [ReturnBucket; 4] = [
    ReturnBucket::Received,
    ReturnBucket::RequestedInCommerce,
    ReturnBucket::Refunded,
    ReturnBucket::Error,
];

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let bucket = ctx
        .param("status")
        .and_then(|s| BUCKETS.into_iter().find(|b| b.as_str() == s));
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let mut rows = Vec::new();
    let mut next = None;
    match bucket {
        Some(b) => {
            let page = data::returns(ctx.channel(), b, ctx.page_size(), after).await?;
            rows = page.rows;
            next = page.next;
        }
        None => {
            for b in BUCKETS {
                rows.extend(data::returns(ctx.channel(), b, ctx.page_size(), None).await?.rows);
            }
            rows.sort_by_key(|r| std::cmp::Reverse(r.received_at));
            rows.truncate(ctx.page_size() as usize);
        }
    }
    Ok(ctx.page(t.returns, Nav::Returns, |viewer| {
        let mut out = String::from("<div class=\"cards\">");
        let _ = write!(
            out,
            "<a class=\"card{}\" href=\"/returns\"><span>{}</span></a>",
            if bucket.is_none() { " current" } else { "" },
            t.all
        );
        for (b, label) in [
            (ReturnBucket::Received, t.received),
            (ReturnBucket::Refunded, t.refunded),
            (ReturnBucket::Error, t.error),
        ] {
            let _ = write!(
                out,
                "<a class=\"card{}\" href=\"/returns?status={}\"><span>{label}</span></a>",
                if bucket == Some(b) { " current" } else { "" },
                b.as_str()
            );
        }
        let _ = write!(
            out,
            "</div><table class=\"grid\" id=\"returns\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
            t.return_id, t.walmart_order, t.rma, t.credit_memo, t.refund, t.received_at, t.status
        );
        if rows.is_empty() {
            let _ = write!(out, "<tr><td colspan=\"8\">{}</td></tr>", t.no_rows);
        }
        for r in &rows {
            let (label, detail, credit_memo) = match r.status() {
                ReturnStatus::Received | ReturnStatus::RequestedInCommerce { .. } => (t.received, String::new(), None),
                ReturnStatus::Refunded { credit_memo, .. } => (t.refunded, String::new(), Some(credit_memo.to_string())),
                ReturnStatus::Error { reason } => (t.error, reason.clone(), None),
            };
            let retry = if matches!(r.status(), ReturnStatus::Error { .. }) {
                action_button(viewer, "retry-return", &[("return", r.return_order_id.as_str())], t.retry_return, "/returns")
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td><a href=\"/orders/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"status\">{label}</span> {}</td><td>{retry}</td></tr>",
                esc(r.return_order_id.as_str()),
                q(r.purchase_order.as_str()),
                esc(r.purchase_order.as_str()),
                r.rma().map_or_else(|| "—".to_owned(), |m| esc(&m.to_string())),
                credit_memo.map_or_else(|| "—".to_owned(), |c| esc(&c)),
                r.refund_total(),
                when(r.received_at),
                esc(&detail)
            );
        }
        out.push_str("</tbody></table>");
        if let (Some(b), Some(next)) = (bucket, &next) {
            let _ = write!(
                out,
                "<nav class=\"pages\"><a rel=\"next\" href=\"/returns?status={}&amp;after={}\">{}</a></nav>",
                b.as_str(),
                q(&next.0),
                t.next_page
            );
        }
        out
    }))
}
