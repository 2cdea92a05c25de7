//! Listings: Adobe's status cards (each a filter, with its count), a SKU search, sortable columns
//! (SKU, last status change), pages, and for an error its reason and what to fix. Drafts can be
//! sent to match, errors retried, any listing's stock and price resynced.

use std::fmt::Write as _;
use std::time::Duration;

use domain::ListingStatus;
use operations::dashboard::listings::{
    LISTING_STATUSES, ListingCounts, ListingFilter, ListingRow, ListingSort, listing_counts, listings,
};
use ports::PageToken;

use super::PageResult;
use crate::html::{Nav, csrf_field, esc, q, sortable_head, when};
use crate::{Ctx, i18n::Lang};

/// Status cards may be this old (counting 100,000 listings is a query per status).
const COUNTS_MAX_AGE: Duration = Duration::from_secs(60);

fn parse_filter(raw: Option<&str>) -> ListingFilter {
    match raw {
        Some("awaiting_selection") => ListingFilter::AwaitingSelection,
        Some(s) => LISTING_STATUSES
            .into_iter()
            .find(|status| status.as_str() == s)
            .map_or(ListingFilter::All, ListingFilter::Status),
        None => ListingFilter::All,
    }
}

fn filter_param(filter: ListingFilter) -> &'static str {
    match filter {
        ListingFilter::All => "",
        ListingFilter::Status(s) => s.as_str(),
        ListingFilter::AwaitingSelection => "awaiting_selection",
    }
}

/// The table's order from the `sort` and `dir` parameters (SKU ascending unless asked).
fn parse_sort(sort_key: &str, descending: bool) -> ListingSort {
    match (sort_key, descending) {
        ("changed", true) => ListingSort::ChangedNewest,
        ("changed", false) => ListingSort::ChangedOldest,
        (_, true) => ListingSort::SkuDescending,
        (_, false) => ListingSort::SkuAscending,
    }
}

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let ch = ctx.channel();
    let filter = parse_filter(ctx.param("status"));
    let sku = ctx.param("sku");
    let sort_key = ctx.param("sort").unwrap_or("sku").to_owned();
    let descending = ctx.param("dir") == Some("desc");
    let sort = parse_sort(&sort_key, descending);
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let counts = listing_counts(ch, COUNTS_MAX_AGE).await?;
    let page = listings(ch, filter, sort, sku, ctx.page_size(), after.clone()).await?;
    Ok(ctx.page(t.listings, Nav::Listings, |viewer| {
        let mut out = String::new();
        status_cards(&mut out, ctx, filter, &counts);
        sku_search(&mut out, ctx, filter, sku);
        let mut base = format!("status={}&amp;", filter_param(filter));
        if let Some(sku) = sku {
            let _ = write!(base, "sku={}&amp;", q(sku));
        }
        actions_toolbar(&mut out, ctx, filter, &(viewer.token)());
        listing_table(&mut out, ctx, &page.rows, &base, &sort_key, descending);
        pager(
            &mut out,
            ctx,
            &base,
            &sort_key,
            descending,
            after.is_some(),
            page.next.as_ref(),
        );
        out
    }))
}

/// Adobe's status cards, each a filter with its count (and Awaiting selection when any wait).
fn status_cards(out: &mut String, ctx: &Ctx<'_>, filter: ListingFilter, counts: &ListingCounts) {
    let t = ctx.lang.text();
    out.push_str("<div class=\"cards\" id=\"listing-cards\">");
    let card = |out: &mut String, f: ListingFilter, label: &str, n: u64, class: &str| {
        let _ = write!(
            out,
            "<a class=\"card {class}{}\" href=\"/listings?status={}\"><span>{label}</span><strong>{n}</strong></a>",
            if filter == f { " current" } else { "" },
            filter_param(f),
        );
    };
    card(out, ListingFilter::All, t.all, counts.total(), "");
    for s in LISTING_STATUSES {
        card(
            out,
            ListingFilter::Status(s),
            ctx.lang.listing_status(s),
            counts.of(s),
            &format!("status-{}", s.as_str()),
        );
    }
    if counts.awaiting_selection > 0 || filter == ListingFilter::AwaitingSelection {
        card(
            out,
            ListingFilter::AwaitingSelection,
            t.awaiting_selection,
            counts.awaiting_selection,
            "",
        );
    }
    out.push_str("</div>");
}

/// The search by SKU, within the current filter.
fn sku_search(out: &mut String, ctx: &Ctx<'_>, filter: ListingFilter, sku: Option<&str>) {
    let t = ctx.lang.text();
    let status_field = match filter {
        ListingFilter::All => String::new(),
        f => format!(
            "<input type=\"hidden\" name=\"status\" value=\"{}\">",
            filter_param(f)
        ),
    };
    let _ = write!(
        out,
        "<form method=\"get\" action=\"/listings\" class=\"search\">{status_field}<input name=\"sku\" id=\"sku-search\" placeholder=\"{s}\" value=\"{}\" aria-label=\"{s}\"><button>{}</button> <a href=\"/listings\">{}</a></form>",
        esc(sku.unwrap_or_default()),
        t.search,
        t.refresh_products,
        s = t.search_sku,
    );
}

/// Opens the form of the selected listings' actions (match, retry match, resync): the table's
/// checkboxes are its fields, so [`listing_table`] closes it.
fn actions_toolbar(out: &mut String, ctx: &Ctx<'_>, filter: ListingFilter, csrf_token: &str) {
    let t = ctx.lang.text();
    let back = format!("/listings?status={}", filter_param(filter));
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/actions/match\" id=\"listing-actions\">{}<input type=\"hidden\" name=\"back\" value=\"{}\">\
         <div class=\"toolbar\"><button data-confirm=\"{m}?\">{m}</button>\
         <button formaction=\"/actions/retry-match\">{}</button>\
         <button formaction=\"/actions/resync\">{}</button></div>",
        csrf_field(csrf_token),
        esc(&back),
        t.retry_match,
        t.resync,
        m = t.match_selected,
    );
}

/// The listings of the page under sortable column heads; closes the actions' form.
fn listing_table(
    out: &mut String,
    ctx: &Ctx<'_>,
    rows: &[ListingRow],
    base: &str,
    sort_key: &str,
    descending: bool,
) {
    let t = ctx.lang.text();
    out.push_str("<table class=\"grid\" id=\"listings\">");
    out.push_str(&sortable_head(
        &[
            ("", None),
            (t.product_name, None),
            (t.sku, Some("sku")),
            (t.walmart_item, None),
            (t.quantity, None),
            (t.price, None),
            (t.status, None),
            (t.status_changed, Some("changed")),
            (t.error_description, None),
            (t.how_to_fix, None),
        ],
        base,
        sort_key,
        descending,
    ));
    out.push_str("<tbody>");
    if rows.is_empty() {
        let _ = write!(out, "<tr><td colspan=\"10\">{}</td></tr>", t.no_rows);
    }
    for row in rows {
        out.push_str(&row_html(ctx.lang, row));
    }
    out.push_str("</tbody></table></form>");
}

/// Links to the first page (when past it) and the next (when there is one), in the same order.
fn pager(
    out: &mut String,
    ctx: &Ctx<'_>,
    base: &str,
    sort_key: &str,
    descending: bool,
    past_first: bool,
    next: Option<&PageToken>,
) {
    let t = ctx.lang.text();
    out.push_str("<nav class=\"pages\">");
    let dir = if descending { "desc" } else { "asc" };
    if past_first {
        let _ = write!(
            out,
            "<a href=\"/listings?{base}sort={}&amp;dir={dir}\">{}</a> ",
            esc(sort_key),
            t.first_page
        );
    }
    if let Some(next) = next {
        let _ = write!(
            out,
            "<a rel=\"next\" href=\"/listings?{base}sort={}&amp;dir={dir}&amp;after={}\">{}</a>",
            esc(sort_key),
            q(&next.0),
            t.next_page
        );
    }
    out.push_str("</nav>");
}

fn money(m: Option<domain::Money>) -> String {
    m.map_or_else(|| "—".to_owned(), |m| m.to_string())
}

fn row_html(lang: Lang, row: &ListingRow) -> String {
    let mut reasons = String::new();
    let mut fixes = String::new();
    for issue in &row.issues {
        let _ = write!(
            reasons,
            "<p>{} <code>{}</code></p>",
            esc(&issue.reason),
            esc(&issue.code)
        );
        let _ = write!(fixes, "<p>{}</p>", esc(issue.fix));
    }
    let status = if row.awaiting_selection {
        lang.text().awaiting_selection
    } else {
        lang.listing_status(row.status)
    };
    let price_class = if row.price_differs {
        " class=\"differs\""
    } else {
        ""
    };
    format!(
        "<tr data-sku=\"{sku}\"><td><input type=\"checkbox\" name=\"sku\" value=\"{sku}\" aria-label=\"{sku}\"></td>\
         <td>{}</td><td>{sku}</td><td>{}</td><td>{}</td><td{price_class}>{} / {}</td>\
         <td><span class=\"status status-{}\">{status}</span></td><td>{}</td><td class=\"reason\">{reasons}</td><td class=\"fix\">{fixes}</td></tr>",
        esc(&row.name),
        row.walmart_item_id
            .as_ref()
            .map_or_else(|| "—".to_owned(), |w| esc(w.as_str())),
        row.advertised_quantity
            .map_or_else(|| "—".to_owned(), |n| n.to_string()),
        money(row.walmart_price),
        money(row.commerce_price),
        match row.status {
            ListingStatus::StagedForMatch => "match",
            other => other.as_str(),
        },
        when(row.status_changed_at),
        sku = esc(row.sku.as_str()),
    )
}
