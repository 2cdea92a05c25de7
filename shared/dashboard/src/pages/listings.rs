//! Listings: Adobe's status cards (each a filter, with its count), a SKU search, sortable columns
//! (SKU, last status change), pages, and for an error its reason and what to fix. Drafts can be
//! sent to match, errors retried, any listing's stock and price resynced.

use std::fmt::Write as _;
use std::time::Duration;

use domain::ListingStatus;
use operations::dashboard::listings::{
    LISTING_STATUSES, ListingFilter, ListingRow, ListingSort, listing_counts, listings,
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

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let ch = ctx.channel();
    let filter = parse_filter(ctx.param("status"));
    let sku = ctx.param("sku");
    let sort_key = ctx.param("sort").unwrap_or("sku").to_owned();
    let descending = ctx.param("dir") == Some("desc");
    let sort = match (sort_key.as_str(), descending) {
        ("changed", true) => ListingSort::ChangedNewest,
        ("changed", false) => ListingSort::ChangedOldest,
        (_, true) => ListingSort::SkuDescending,
        (_, false) => ListingSort::SkuAscending,
    };
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let counts = listing_counts(ch, COUNTS_MAX_AGE).await?;
    let page = listings(ch, filter, sort, sku, ctx.page_size(), after.clone()).await?;
    Ok(ctx.page(t.listings, Nav::Listings, |viewer| {
        let mut out = String::new();
        out.push_str("<div class=\"cards\" id=\"listing-cards\">");
        let card = |out: &mut String, f: ListingFilter, label: &str, n: u64, class: &str| {
            let _ = write!(
                out,
                "<a class=\"card {class}{}\" href=\"/listings?status={}\"><span>{label}</span><strong>{n}</strong></a>",
                if filter == f { " current" } else { "" },
                filter_param(f),
            );
        };
        card(&mut out, ListingFilter::All, t.all, counts.total(), "");
        for s in LISTING_STATUSES {
            card(&mut out, ListingFilter::Status(s), ctx.lang.listing_status(s), counts.of(s), &format!("status-{}", s.as_str()));
        }
        if counts.awaiting_selection > 0 || filter == ListingFilter::AwaitingSelection {
            card(&mut out, ListingFilter::AwaitingSelection, t.awaiting_selection, counts.awaiting_selection, "");
        }
        out.push_str("</div>");
        let status_field = match filter {
            ListingFilter::All => String::new(),
            f => format!("<input type=\"hidden\" name=\"status\" value=\"{}\">", filter_param(f)),
        };
        let _ = write!(
            out,
            "<form method=\"get\" action=\"/listings\" class=\"search\">{status_field}<input name=\"sku\" id=\"sku-search\" placeholder=\"{s}\" value=\"{}\" aria-label=\"{s}\"><button>{}</button> <a href=\"/listings\">{}</a></form>",
            esc(sku.unwrap_or_default()),
            t.search,
            t.refresh_products,
            s = t.search_sku,
        );
        let mut base = format!("status={}&amp;", filter_param(filter));
        if let Some(sku) = sku {
            let _ = write!(base, "sku={}&amp;", q(sku));
        }
        let back = format!("/listings?status={}", filter_param(filter));
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/actions/match\" id=\"listing-actions\">{}<input type=\"hidden\" name=\"back\" value=\"{}\">\
             <div class=\"toolbar\"><button data-confirm=\"{m}?\">{m}</button>\
             <button formaction=\"/actions/retry-match\">{}</button>\
             <button formaction=\"/actions/resync\">{}</button></div>",
            csrf_field(&(viewer.token)()),
            esc(&back),
            t.retry_match,
            t.resync,
            m = t.match_selected,
        );
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
            &base,
            &sort_key,
            descending,
        ));
        out.push_str("<tbody>");
        if page.rows.is_empty() {
            let _ = write!(out, "<tr><td colspan=\"10\">{}</td></tr>", t.no_rows);
        }
        for row in &page.rows {
            out.push_str(&row_html(ctx.lang, row));
        }
        out.push_str("</tbody></table></form><nav class=\"pages\">");
        let dir = if descending { "desc" } else { "asc" };
        if after.is_some() {
            let _ = write!(out, "<a href=\"/listings?{base}sort={}&amp;dir={dir}\">{}</a> ", esc(&sort_key), t.first_page);
        }
        if let Some(next) = &page.next {
            let _ = write!(
                out,
                "<a rel=\"next\" href=\"/listings?{base}sort={}&amp;dir={dir}&amp;after={}\">{}</a>",
                esc(&sort_key),
                q(&next.0),
                t.next_page
            );
        }
        out.push_str("</nav>");
        out
    }))
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
