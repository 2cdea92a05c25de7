//! The activity log: every merchant action, who did it and when.

use super::PageResult;
use crate::Ctx;
use crate::html::Nav;

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    Ok(ctx.page(t.audit, Nav::Audit, |_| format!("<p>{}</p>", t.no_rows)))
}
