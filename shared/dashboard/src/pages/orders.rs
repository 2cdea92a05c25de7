//! Orders: Adobe's status cards, a filter by state and order date, search by purchase order or
//! Commerce order number, and each order's detail: both sides' totals, its lines, shipments, its
//! history and how long each step took. No buyer name, address, phone or e-mail is shown anywhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use domain::{OrderSummary, PurchaseOrderId, Timestamp};
use operations::dashboard::order_list::{OrderDetail, OrderState, find_order, order_detail, order_rows};
use operations::dashboard::{DateRange, OrderRow};
use ports::PageToken;

use super::PageResult;
use crate::Ctx;
use crate::html::{Nav, action_button, duration, esc, q, when};

/// `YYYY-MM-DD` as the start (or end) of that day, UTC.
fn day(raw: Option<&str>, end: bool) -> Option<Timestamp> {
    let raw = raw?;
    let time = if end { "T23:59:59.999Z" } else { "T00:00:00Z" };
    Timestamp::parse_rfc3339(&format!("{raw}{time}")).ok()
}

pub async fn list(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let ch = ctx.channel();
    if let Some(term) = ctx.param("q")
        && let Some(found) = find_order(ch, term).await?
    {
        return Ok(crate::html::redirect(&format!(
            "/orders/{}",
            q(found.row.walmart_order.as_str())
        )));
    }
    let status = ctx.param("status").and_then(OrderState::parse);
    let range = DateRange {
        from: day(ctx.param("from"), false),
        to: day(ctx.param("to"), true),
    };
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let counts = operations::dashboard::order_counts(ch.store.as_ref(), &ch.settings.id, range).await?;
    let page = order_rows(ch, status, range, ctx.page_size(), after.clone()).await?;
    let searched_nothing = ctx.param("q").is_some();
    Ok(ctx.page(t.orders, Nav::Orders, |viewer| {
        let mut out = String::new();
        if searched_nothing {
            let _ = write!(out, "<p class=\"error\" role=\"alert\">{}</p>", t.not_found);
        }
        let dates = date_params(ctx);
        status_cards(&mut out, ctx, status, &counts, &dates);
        search_and_filter(&mut out, ctx, status);
        order_table(&mut out, ctx, &page.rows);
        pager(&mut out, ctx, status, &dates, after.is_some(), page.next.as_ref());
        reimport_form(&mut out, ctx, &(viewer.token)());
        out
    }))
}

/// The date filter as query parameters to carry along (`&amp;from=...&amp;to=...`).
fn date_params(ctx: &Ctx<'_>) -> String {
    let mut dates = String::new();
    for (name, value) in [("from", ctx.param("from")), ("to", ctx.param("to"))] {
        if let Some(v) = value {
            let _ = write!(dates, "&amp;{name}={}", q(v));
        }
    }
    dates
}

/// Adobe's status cards, each with its count in the date range and a link filtering by it.
fn status_cards(
    out: &mut String,
    ctx: &Ctx<'_>,
    status: Option<OrderState>,
    counts: &BTreeMap<&'static str, u64>,
    dates: &str,
) {
    let t = ctx.lang.text();
    let count = |s: OrderState| {
        s.summaries()
            .iter()
            .map(|x| counts.get(x.as_str()).copied().unwrap_or(0))
            .sum::<u64>()
    };
    out.push_str("<div class=\"cards\">");
    let total: u64 = counts.values().sum();
    let _ = write!(
        out,
        "<a class=\"card{}\" href=\"/orders?{}\"><span>{}</span><strong>{total}</strong></a>",
        if status.is_none() { " current" } else { "" },
        dates.trim_start_matches("&amp;"),
        t.all
    );
    for s in OrderState::ALL {
        let n = count(s);
        let _ = write!(
            out,
            "<a class=\"card status-{}{}\" href=\"/orders?status={}{dates}\"><span>{}</span><strong>{n}</strong></a>",
            s.as_str(),
            if status == Some(s) { " current" } else { "" },
            s.as_str(),
            ctx.lang.order_state(s)
        );
    }
    out.push_str("</div>");
}

/// The search by purchase order or Commerce order number, and the filter by state and date.
fn search_and_filter(out: &mut String, ctx: &Ctx<'_>, status: Option<OrderState>) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<form method=\"get\" action=\"/orders\" class=\"search\"><input name=\"q\" placeholder=\"{p}\" aria-label=\"{p}\" id=\"order-search\"><button>{}</button></form>",
        t.search,
        p = t.search_order
    );
    let _ = write!(
        out,
        "<form method=\"get\" action=\"/orders\" class=\"filter\"><label>{}<select name=\"status\" data-autosubmit><option value=\"\">{}</option>",
        t.status, t.all
    );
    for s in OrderState::ALL {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{}</option>",
            s.as_str(),
            if status == Some(s) { " selected" } else { "" },
            ctx.lang.order_state(s)
        );
    }
    let _ = write!(
        out,
        "</select></label><label>{}<input type=\"date\" name=\"from\" value=\"{}\"></label><label>{}<input type=\"date\" name=\"to\" value=\"{}\"></label><button>{}</button></form>",
        t.from,
        esc(ctx.param("from").unwrap_or_default()),
        t.to,
        esc(ctx.param("to").unwrap_or_default()),
        t.filter
    );
}

/// The orders of the page, one row each.
fn order_table(out: &mut String, ctx: &Ctx<'_>, rows: &[OrderRow]) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<table class=\"grid\" id=\"orders\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.walmart_order,
        t.customer_order,
        t.commerce_order,
        t.items,
        t.order_value,
        t.ordered,
        t.ship_method,
        t.last_update,
        t.status,
        t.status_details
    );
    if rows.is_empty() {
        let _ = write!(out, "<tr><td colspan=\"10\">{}</td></tr>", t.no_rows);
    }
    for row in rows {
        let po = esc(row.walmart_order.as_str());
        let _ = write!(
            out,
            "<tr><td><a href=\"/orders/{}\">{po}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"status status-{}\">{}</span></td><td>{}</td></tr>",
            q(row.walmart_order.as_str()),
            esc(&row.customer_order),
            row.commerce_order_number
                .as_deref()
                .map_or_else(|| "—".to_owned(), esc),
            row.items,
            row.order_value,
            when(row.ordered_at),
            esc(&row.ship_method),
            when(row.last_update),
            row.status.as_str(),
            ctx.lang.order_status(row.status),
            status_detail(row, ctx)
        );
    }
    out.push_str("</tbody></table>");
}

/// Links to the first page (when past it) and the next (when there is one), keeping the filter.
fn pager(
    out: &mut String,
    ctx: &Ctx<'_>,
    status: Option<OrderState>,
    dates: &str,
    past_first: bool,
    next: Option<&PageToken>,
) {
    let t = ctx.lang.text();
    out.push_str("<nav class=\"pages\">");
    if past_first {
        let _ = write!(
            out,
            "<a href=\"/orders?status={}{dates}\">{}</a> ",
            status.map_or("", |s| s.as_str()),
            t.first_page
        );
    }
    if let Some(next) = next {
        let _ = write!(
            out,
            "<a rel=\"next\" href=\"/orders?status={}{dates}&amp;after={}\">{}</a>",
            status.map_or("", |s| s.as_str()),
            q(&next.0),
            t.next_page
        );
    }
    out.push_str("</nav>");
}

/// The merchant's "import Walmart orders again" for a date range.
fn reimport_form(out: &mut String, ctx: &Ctx<'_>, csrf_token: &str) {
    let t = ctx.lang.text();
    let _ = write!(
        out,
        "<section><h2>{}</h2><form method=\"post\" action=\"/actions/reimport\" class=\"filter\">{}<input type=\"hidden\" name=\"back\" value=\"/orders\">\
         <label>{}<input type=\"date\" name=\"from\" required></label><label>{}<input type=\"date\" name=\"to\" required></label>\
         <button data-confirm=\"{}?\">{}</button></form><p class=\"hint\">{}</p></section>",
        t.reimport,
        crate::html::csrf_field(csrf_token),
        t.from,
        t.to,
        t.reimport,
        t.reimport,
        t.reimport_hint
    );
}

fn status_detail(row: &OrderRow, ctx: &Ctx<'_>) -> String {
    let mut out = row.status_detail.as_deref().map(esc).unwrap_or_default();
    if row.status == OrderSummary::ReturnRequested {
        let _ = write!(
            out,
            " <a href=\"/returns\">{}</a>",
            ctx.lang.text().return_requested
        );
    }
    out
}

pub async fn detail(ctx: &Ctx<'_>, po: &str) -> PageResult {
    let t = ctx.lang.text();
    let po = url::form_urlencoded::parse(format!("p={po}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let found = match PurchaseOrderId::new(&po) {
        Ok(po) => order_detail(ctx.channel(), &po).await?,
        Err(_) => None,
    };
    let Some(detail) = found else {
        return Ok(crate::html::html(
            http::StatusCode::NOT_FOUND,
            crate::html::layout(ctx.lang, t.not_found, Nav::Orders, None, None, ""),
        ));
    };
    let row = &detail.row;
    let title = format!("{} {}", t.order_detail, row.walmart_order);
    Ok(ctx.page(&title, Nav::Orders, |viewer| {
        let mut out = String::new();
        let _ = write!(
            out,
            "<dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"commerce-number\">{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><span class=\"status status-{}\" id=\"order-status\">{}</span> {}</dd></dl>",
            t.walmart_order,
            esc(row.walmart_order.as_str()),
            t.customer_order,
            esc(&row.customer_order),
            t.commerce_order,
            row.commerce_order_number.as_deref().map_or_else(|| "—".to_owned(), esc),
            t.ordered,
            when(row.ordered_at),
            t.ship_method,
            esc(&row.ship_method),
            t.last_update,
            when(row.last_update),
            t.status,
            row.status.as_str(),
            ctx.lang.order_status(row.status),
            row.status_detail.as_deref().map(esc).unwrap_or_default()
        );
        if row.status == OrderSummary::Error {
            out.push_str(&action_button(
                viewer,
                "retry-order",
                &[("po", row.walmart_order.as_str())],
                t.retry_order,
                &format!("/orders/{}", row.walmart_order.as_str()),
            ));
        }
        out.push_str(&totals(ctx, row));
        out.push_str(&lines(ctx, &detail));
        out.push_str(&steps(ctx, &detail));
        out.push_str(&shipments(ctx, &detail));
        out.push_str(&history(ctx, &detail));
        out
    }))
}

fn totals(ctx: &Ctx<'_>, row: &OrderRow) -> String {
    let t = ctx.lang.text();
    let Some(totals) = row.totals else {
        return format!("<p>{}: {} {}</p>", t.order_value, t.walmart, row.order_value);
    };
    let mut out = format!(
        "<h2>{}</h2><table class=\"grid\"><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.totals, t.walmart, t.commerce
    );
    for (label, key, w, c) in [
        (
            t.items_total,
            "items",
            totals.walmart.items,
            totals.commerce.items,
        ),
        (
            t.shipping,
            "shipping",
            totals.walmart.shipping,
            totals.commerce.shipping,
        ),
        (t.tax, "tax", totals.walmart.tax, totals.commerce.tax),
    ] {
        let differs = if row.totals_differ.contains(&key) {
            " class=\"differs\""
        } else {
            ""
        };
        let _ = write!(out, "<tr{differs}><td>{label}</td><td>{w}</td><td>{c}</td></tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn lines(ctx: &Ctx<'_>, detail: &OrderDetail) -> String {
    let t = ctx.lang.text();
    let mut out = format!(
        "<h2>{}</h2><table class=\"grid\"><thead><tr><th>{}</th><th>SKU</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.lines,
        t.line,
        t.ordered_qty,
        t.shipped_qty,
        t.cancelled_qty,
        t.returned_qty,
        t.refunded_qty,
        t.price
    );
    for line in &detail.lines {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td></tr>",
            line.number,
            esc(line.sku.as_str()),
            line.ordered,
            line.shipped,
            line.cancelled,
            line.returned,
            line.refunded,
            line.unit_price,
            line.commerce_unit_price
                .map_or_else(|| "—".to_owned(), |p| p.to_string())
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn steps(ctx: &Ctx<'_>, detail: &OrderDetail) -> String {
    let t = ctx.lang.text();
    if detail.steps.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<h2>{}</h2><table class=\"grid\" id=\"steps\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.steps, t.step, t.when, t.took, t.bound
    );
    for s in &detail.steps {
        let late = if s.took > s.bound { " class=\"error\"" } else { "" };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td{late}>{}</td><td>{}</td></tr>",
            esc(&s.step.replace('_', " ")),
            when(s.to),
            duration(s.took),
            duration(s.bound)
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn shipments(ctx: &Ctx<'_>, detail: &OrderDetail) -> String {
    let t = ctx.lang.text();
    if detail.shipments.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<h2>{}</h2><table class=\"grid\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.shipments, t.when, t.tracking, t.lines, t.on_walmart
    );
    for s in &detail.shipments {
        let lines: Vec<String> = s.lines.iter().map(|(l, n)| format!("{l}×{n}")).collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            when(s.shipped_at),
            esc(&s.carrier),
            esc(&s.tracking_number),
            esc(&lines.join(", ")),
            s.on_walmart_at.map_or_else(|| "—".to_owned(), when)
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// The history, each entry with the time since the one before (how long the step took).
fn history(ctx: &Ctx<'_>, detail: &OrderDetail) -> String {
    let t = ctx.lang.text();
    let mut out = format!(
        "<h2>{}</h2><table class=\"grid\" id=\"history\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t.history, t.when, t.line, t.event, t.took
    );
    let mut previous = detail.row.ordered_at;
    for entry in &detail.history {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            when(entry.at),
            entry.line.map_or_else(String::new, |l| l.to_string()),
            esc(&entry.event.replace('_', " ")),
            entry
                .detail
                .as_deref()
                .map_or_else(String::new, |d| format!(": {}", esc(d))),
            duration(entry.at.since(previous))
        );
        previous = entry.at;
    }
    out.push_str("</tbody></table>");
    out
}
