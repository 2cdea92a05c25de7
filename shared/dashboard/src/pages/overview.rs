//! The overview: per operation its last run and outcome, the last 24 h's delays against the
//! documented ones, failures, queue and dead-letter depth, the pause switch; Walmart's remaining
//! budgets; the match mode; and a plain sentence for anything that needs the merchant.

use std::fmt::Write as _;

use operations::dashboard::overview::{BudgetStatus, Latency, OperationStatus, Overview, overview};
use operations::merchant::MatchMode;
use operations::run_log::{RunEntry, RunOutcome};

use super::PageResult;
use crate::Ctx;
use crate::html::{Nav, Viewer, action_button, csrf_field, duration, esc, when};

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let view = overview(ctx.channel()).await?;
    Ok(ctx.page(t.overview, Nav::Overview, |viewer| render(ctx, viewer, &view)))
}

fn outcome(ctx: &Ctx<'_>, run: &RunEntry) -> String {
    let t = ctx.lang.text();
    let (class, label, detail) = match &run.outcome {
        RunOutcome::Succeeded { complete, .. } => (
            "ok",
            t.ok,
            if *complete {
                String::new()
            } else {
                format!(" ({})", t.incomplete)
            },
        ),
        RunOutcome::Paused => ("paused", t.paused, String::new()),
        RunOutcome::Failed { reason, .. } => ("error", t.failed, format!(": {}", esc(reason))),
    };
    format!(
        "{} <span class=\"status status-{class}\">{label}</span>{detail}",
        when(run.finished_at)
    )
}

fn render(ctx: &Ctx<'_>, viewer: &Viewer<'_>, view: &Overview) -> String {
    let mut out = String::new();
    attention_section(&mut out, ctx, view);
    operations_table(&mut out, ctx, viewer, &view.operations);
    budgets_table(&mut out, ctx, &view.budgets);
    match_mode_form(&mut out, ctx, viewer, view.match_mode);
    out
}

/// What needs the merchant, each in a plain sentence of the page's language, and what could not
/// be read.
fn attention_section(out: &mut String, ctx: &Ctx<'_>, view: &Overview) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<section class=\"attention\" id=\"attention\"><h2>{}</h2>",
        t.needs_you
    );
    if view.attention.is_empty() {
        let _ = write!(out, "<p>{}</p>", t.all_well);
    } else {
        out.push_str("<ul>");
        for item in &view.attention {
            let _ = write!(out, "<li>{}</li>", esc(&ctx.lang.attention(item)));
        }
        out.push_str("</ul>");
    }
    for problem in &view.problems {
        let _ = write!(out, "<p class=\"error\">{}</p>", esc(problem));
    }
    out.push_str("</section>");
}

/// One row per operation: last run, latency against its delay, failures, queue, pause switch.
fn operations_table(out: &mut String, ctx: &Ctx<'_>, viewer: &Viewer<'_>, operations: &[OperationStatus]) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<table class=\"grid\" id=\"operations\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.operation, t.last_run, t.latency, t.documented_delay, t.failures, t.queue, t.state
    );
    for op in operations {
        let last = [op.last_run.as_ref(), op.last_message.as_ref()]
            .into_iter()
            .flatten()
            .max_by_key(|r| r.finished_at)
            .map_or_else(|| t.never.to_owned(), |r| outcome(ctx, r));
        let (latency, bound) = latency_cells(&op.latency);
        let queue = queue_cell(ctx, viewer, op);
        let switch = pause_switch(ctx, viewer, op);
        let _ = write!(
            out,
            "<tr id=\"op-{}\"><td>{}<br><small>{}</small></td><td>{last}</td><td>{latency}</td><td>{bound}</td><td>{}</td><td>{queue}</td><td>{switch}</td></tr>",
            op.function,
            esc(ctx.lang.operation(op.operation)),
            op.function,
            op.failures
        );
    }
    out.push_str("</tbody></table>");
    let _ = write!(out, "<p class=\"hint\">* {}</p>", t.target_delay_note);
}

/// The latency cell (p50 / p99 of each measured path, red past its bound) and the bound cell
/// (`*` where Adobe documents no delay).
fn latency_cells(latencies: &[Latency]) -> (String, String) {
    let mut latency = String::new();
    let mut bound = String::new();
    for l in latencies {
        let figure = |d: Option<std::time::Duration>| d.map_or_else(|| "—".to_owned(), duration);
        let class = if l.within_bound() { "" } else { " class=\"error\"" };
        let _ = write!(
            latency,
            "<p{class}>{} / {} <small>({} × {})</small></p>",
            figure(l.p50),
            figure(l.p99),
            l.samples,
            esc(l.path)
        );
        let _ = write!(
            bound,
            "<p>{}{}</p>",
            duration(l.bound),
            if l.documented { "" } else { " *" }
        );
    }
    (latency, bound)
}

/// Waiting messages / dead letters, with the re-drive button when any are dead.
fn queue_cell(ctx: &Ctx<'_>, viewer: &Viewer<'_>, op: &OperationStatus) -> String {
    match (&op.queue, &op.queue_depth) {
        (Some(queue), Some(depth)) => {
            let mut cell = format!(
                "{} / <span class=\"{}\">{}</span>",
                depth.waiting + depth.in_flight + depth.delayed,
                if depth.dead_letters > 0 { "error" } else { "" },
                depth.dead_letters
            );
            if depth.dead_letters > 0 {
                cell.push_str(&action_button(
                    viewer,
                    "redrive",
                    &[("queue", queue.as_str())],
                    ctx.lang.text().redrive,
                    "/",
                ));
            }
            cell
        }
        (Some(_), None) => "?".to_owned(),
        (None, _) => "—".to_owned(),
    }
}

/// Running or paused (by whom, since when), with the button that flips it.
fn pause_switch(ctx: &Ctx<'_>, viewer: &Viewer<'_>, op: &OperationStatus) -> String {
    let t = ctx.lang.text();
    match &op.paused {
        Some(pause) => format!(
            "<span class=\"status status-error\">{}</span> <small>{} {}</small> {}",
            t.paused,
            esc(&pause.by),
            when(pause.since),
            action_button(viewer, "resume", &[("operation", op.function)], t.resume, "/")
        ),
        None => format!(
            "<span class=\"status status-ok\">{}</span> {}",
            t.running,
            action_button(viewer, "pause", &[("operation", op.function)], t.pause, "/")
        ),
    }
}

/// Walmart's rate-limited calls and what is left of each.
fn budgets_table(out: &mut String, ctx: &Ctx<'_>, budgets: &[BudgetStatus]) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<h2>{}</h2><table class=\"grid\" id=\"budgets\"><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.budgets, t.remaining, t.limit
    );
    for b in budgets {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{} / {}</td></tr>",
            esc(b.call.as_str()),
            b.remaining,
            b.limit,
            duration(b.window)
        );
    }
    out.push_str("</tbody></table>");
}

/// The choice between matching imported products automatically and waiting for the merchant.
fn match_mode_form(out: &mut String, ctx: &Ctx<'_>, viewer: &Viewer<'_>, mode: MatchMode) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<h2>{m}</h2><form method=\"post\" action=\"/actions/match-mode\" class=\"filter\">{}<input type=\"hidden\" name=\"back\" value=\"/\">\
         <label><span><input type=\"radio\" name=\"mode\" value=\"automatic\"{}> {}</span></label>\
         <label><span><input type=\"radio\" name=\"mode\" value=\"manual\"{}> {}</span></label><button>{}</button></form>",
        csrf_field(&(viewer.token)()),
        if mode == MatchMode::Automatic {
            " checked"
        } else {
            ""
        },
        t.match_auto,
        if mode == MatchMode::Manual { " checked" } else { "" },
        t.match_manual,
        t.save,
        m = t.match_mode,
    );
}
