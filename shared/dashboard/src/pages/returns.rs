//! Returns: Received, Refunded, Error, with the Commerce return and credit memo.

use std::fmt::Write as _;

use operations::dashboard::DateRange;
use operations::dashboard::return_list::{ReturnState, return_rows};
use ports::PageToken;

use super::PageResult;
use crate::Ctx;
use crate::html::{Nav, action_button, esc, q, when};

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let state = ctx.param("status").and_then(ReturnState::parse);
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let page = return_rows(ctx.channel(), state, DateRange::default(), ctx.page_size(), after).await?;
    Ok(ctx.page(t.returns, Nav::Returns, |viewer| {
        let mut out = String::from("<div class=\"cards\">");
        let _ = write!(
            out,
            "<a class=\"card{}\" href=\"/returns\"><span>{}</span></a>",
            if state.is_none() { " current" } else { "" },
            t.all
        );
        for s in ReturnState::ALL {
            let label = match s {
                ReturnState::Received => t.received,
                ReturnState::Refunded => t.refunded,
                ReturnState::Error => t.error,
            };
            let _ = write!(
                out,
                "<a class=\"card{}\" href=\"/returns?status={}\"><span>{label}</span></a>",
                if state == Some(s) { " current" } else { "" },
                s.as_str()
            );
        }
        let _ = write!(
            out,
            "</div><table class=\"grid\" id=\"returns\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
            t.return_id, t.walmart_order, t.rma, t.credit_memo, t.refund, t.received_at, t.status
        );
        if page.rows.is_empty() {
            let _ = write!(out, "<tr><td colspan=\"8\">{}</td></tr>", t.no_rows);
        }
        for r in &page.rows {
            let label = match r.state {
                ReturnState::Received => t.received,
                ReturnState::Refunded => t.refunded,
                ReturnState::Error => t.error,
            };
            let retry = if r.state == ReturnState::Error {
                action_button(viewer, "retry-return", &[("return", r.return_order_id.as_str())], t.retry_return, "/returns")
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td><a href=\"/orders/{}\">{}</a></td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td><span class=\"status status-{}\">{label}</span> {}</td><td>{retry}</td></tr>",
                esc(r.return_order_id.as_str()),
                q(r.purchase_order.as_str()),
                esc(r.purchase_order.as_str()),
                r.commerce_return.as_ref().map_or_else(|| "—".to_owned(), |m| esc(&m.to_string())),
                r.credit_memo.as_ref().map_or_else(|| "—".to_owned(), |c| esc(&c.to_string())),
                r.refunded.map_or_else(|| "—".to_owned(), |m| m.to_string()),
                r.refund_expected,
                when(r.received_at),
                r.state.as_str(),
                r.error.as_deref().map(esc).unwrap_or_default()
            );
        }
        out.push_str("</tbody></table>");
        if let Some(next) = &page.next {
            let _ = write!(
                out,
                "<nav class=\"pages\"><a rel=\"next\" href=\"/returns?status={}&amp;after={}\">{}</a></nav>",
                state.map_or("", |s| s.as_str()),
                q(&next.0),
                t.next_page
            );
        }
        out
    }))
}
