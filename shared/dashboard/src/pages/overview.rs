//! The overview: each operation with its expected delay and state, and a plain sentence for
//! anything that needs the merchant.

use std::fmt::Write as _;

use domain::Operation;

use super::PageResult;
use crate::Ctx;
use crate::html::{Nav, duration, esc};

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let ch = ctx.channel();
    let problem = operations::health::configuration_problem(ch.store.as_ref(), &ch.settings.id).await?;
    Ok(ctx.page(t.overview, Nav::Overview, |_viewer| {
        let mut out = String::new();
        let _ = write!(out, "<section class=\"attention\"><h2>{}</h2>", t.needs_you);
        match problem.as_ref().and_then(|p| p.problem.as_deref()) {
            Some(problem) => {
                let _ = write!(out, "<p class=\"error\">{}</p>", esc(problem));
            }
            None => {
                let _ = write!(out, "<p>{}</p>", t.all_well);
            }
        }
        out.push_str("</section>");
        let _ = write!(
            out,
            "<table class=\"grid\"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>",
            t.operation, t.documented_delay
        );
        for op in Operation::ALL {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(ctx.lang.operation(op)),
                op.documented_delay().map_or_else(|| "—".to_owned(), duration)
            );
        }
        out.push_str("</tbody></table>");
        out
    }))
}
