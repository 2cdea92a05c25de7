//! The activity log: every merchant action, who did it, when, and what came of it.

use std::fmt::Write as _;

use ports::PageToken;

use super::PageResult;
use crate::Ctx;
use crate::html::{Nav, esc, q, when};

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let ch = ctx.channel();
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let page =
        operations::merchant::recent_actions(ch.store.as_ref(), &ch.settings.id, ctx.page_size(), after)
            .await?;
    Ok(ctx.page(t.audit, Nav::Audit, |_| {
        let mut out = format!(
            "<table class=\"grid\" id=\"audit\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            t.when, t.who, t.action, t.result
        );
        if page.rows.is_empty() {
            let _ = write!(out, "<tr><td colspan=\"4\">{}</td></tr>", t.no_rows);
        }
        for entry in &page.rows {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                when(entry.at),
                esc(&entry.actor.0),
                esc(&entry.action.describe()),
                if entry.succeeded { "" } else { "error" },
                esc(&entry.result)
            );
        }
        out.push_str("</tbody></table>");
        if let Some(next) = &page.next {
            let _ = write!(out, "<nav class=\"pages\"><a rel=\"next\" href=\"/audit?after={}\">{}</a></nav>", q(&next.0), t.next_page);
        }
        out
    }))
}
