//! Listings: Adobe's status cards (each a filter, with its count), a SKU search, sortable columns,
//! pages, and for an error its reason and what to fix. Draft listings can be sent to match, error
//! listings retried, any listing's stock and price resynced.

use std::fmt::Write as _;

use domain::{Listing, ListingStatus};
use ports::PageToken;

use super::PageResult;
use crate::data::{self, ListingRow};
use crate::html::{Nav, csrf_field, esc, q, sortable_head};
use crate::{Ctx, i18n::Lang};

fn parse_status(raw: &str) -> Option<ListingStatus> {
    data::LISTING_STATUSES.into_iter().find(|s| s.as_str() == raw)
}

/// Walmart's explanation is what to fix; what Walmart said (after "Walmart says:") is the reason.
pub fn reason_and_fix(message: &str) -> (&str, &str) {
    match message.split_once(" Walmart says: ") {
        Some((fix, said)) => (said, fix),
        None => (message, ""),
    }
}

pub async fn show(ctx: &Ctx<'_>) -> PageResult {
    let t = ctx.lang.text();
    let ch = ctx.channel();
    let status = ctx.param("status").and_then(parse_status);
    let sku = ctx.param("sku");
    let sort = ctx.param("sort").unwrap_or("sku").to_owned();
    let descending = ctx.param("dir") == Some("desc");
    let after = ctx.param("after").map(|a| PageToken(a.to_owned()));
    let counts = data::listing_counts(ch).await?;
    let mut page = data::listings(ch, status, sku, ctx.page_size(), after.clone()).await?;
    sort_rows(&mut page.rows, &sort, descending);
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    Ok(ctx.page(t.listings, Nav::Listings, |viewer| {
        let mut out = String::new();
        out.push_str("<div class=\"cards\">");
        let _ = write!(
            out,
            "<a class=\"card{}\" href=\"/listings\"><span>{}</span><strong>{total}</strong></a>",
            if status.is_none() { " current" } else { "" },
            t.all
        );
        for (s, n) in &counts {
            let _ = write!(
                out,
                "<a class=\"card status-{}{}\" href=\"/listings?status={}\"><span>{}</span><strong>{n}</strong></a>",
                s.as_str(),
                if status == Some(*s) { " current" } else { "" },
                s.as_str(),
                ctx.lang.listing_status(*s)
            );
        }
        out.push_str("</div>");
        let _ = write!(
            out,
            "<form method=\"get\" action=\"/listings\" class=\"search\">{}<input name=\"sku\" placeholder=\"{}\" value=\"{}\" aria-label=\"{}\"><button>{}</button> <a href=\"/listings\">{}</a></form>",
            status.map_or_else(String::new, |s| format!("<input type=\"hidden\" name=\"status\" value=\"{}\">", s.as_str())),
            t.search_sku,
            esc(sku.unwrap_or_default()),
            t.search_sku,
            t.search,
            t.refresh_products
        );
        let back = format!(
            "/listings?{}",
            status.map_or_else(String::new, |s| format!("status={}", s.as_str()))
        );
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
        let mut base = String::new();
        if let Some(s) = status {
            let _ = write!(base, "status={}&amp;", s.as_str());
        }
        if let Some(sku) = sku {
            let _ = write!(base, "sku={}&amp;", q(sku));
        }
        out.push_str("<table class=\"grid\" id=\"listings\">");
        out.push_str(&sortable_head(
            &[
                ("", None),
                (t.product_name, Some("name")),
                (t.sku, Some("sku")),
                (t.walmart_item, None),
                (t.quantity, Some("quantity")),
                (t.price, Some("price")),
                (t.status, Some("status")),
                (t.error_description, None),
                (t.how_to_fix, None),
            ],
            &base,
            &sort,
            descending,
        ));
        out.push_str("<tbody>");
        if page.rows.is_empty() {
            let _ = write!(out, "<tr><td colspan=\"9\">{}</td></tr>", t.no_rows);
        }
        for row in &page.rows {
            out.push_str(&row_html(ctx.lang, row));
        }
        out.push_str("</tbody></table></form>");
        out.push_str("<nav class=\"pages\">");
        if after.is_some() {
            let _ = write!(out, "<a href=\"/listings?{base}sort={}&amp;dir={}\">{}</a> ", esc(&sort), if descending { "desc" } else { "asc" }, t.first_page);
        }
        if let Some(next) = &page.next {
            let _ = write!(
                out,
                "<a rel=\"next\" href=\"/listings?{base}sort={}&amp;dir={}&amp;after={}\">{}</a>",
                esc(&sort),
                if descending { "desc" } else { "asc" },
                q(&next.0),
                t.next_page
            );
        }
        out.push_str("</nav>");
        out
    }))
}

fn row_html(lang: Lang, row: &ListingRow) -> String {
    let l: &Listing = &row.listing;
    let status = l.status();
    let walmart_qty = row
        .offer
        .as_ref()
        .and_then(|o| o.quantity.as_ref())
        .map_or_else(|| "—".to_owned(), |q| q.value.to_string());
    let walmart_price = row
        .offer
        .as_ref()
        .and_then(|o| o.price.as_ref())
        .map_or_else(|| "—".to_owned(), |p| p.value.to_string());
    let commerce_price = l.product.price.map_or_else(|| "—".to_owned(), |p| p.to_string());
    let mut reasons = String::new();
    let mut fixes = String::new();
    let issues = l.issues.iter().chain(
        row.offer
            .iter()
            .flat_map(|o| o.quantity_issue.iter().chain(o.price_issue.iter())),
    );
    for issue in issues {
        let (reason, fix) = reason_and_fix(&issue.message);
        let _ = write!(
            reasons,
            "<p>{} <code>{}</code></p>",
            esc(reason),
            esc(&issue.code)
        );
        if !fix.is_empty() {
            let _ = write!(fixes, "<p>{}</p>", esc(fix));
        }
    }
    format!(
        "<tr data-sku=\"{sku}\"><td><input type=\"checkbox\" name=\"sku\" value=\"{sku}\" aria-label=\"{sku}\"></td>\
         <td>{}</td><td>{sku}</td><td>{}</td><td>{walmart_qty}</td><td>{walmart_price} / {commerce_price}</td>\
         <td><span class=\"status status-{}\">{}</span></td><td class=\"reason\">{reasons}</td><td class=\"fix\">{fixes}</td></tr>",
        esc(&l.product.name),
        l.wpid
            .as_ref()
            .map_or_else(|| "—".to_owned(), |w| esc(w.as_str())),
        status.as_str(),
        lang.listing_status(status),
        sku = esc(l.sku.as_str()),
    )
}

fn sort_rows(rows: &mut [ListingRow], key: &str, descending: bool) {
    match key {
        "name" => rows.sort_by(|a, b| a.listing.product.name.cmp(&b.listing.product.name)),
        "status" => rows.sort_by_key(|r| r.listing.status().as_str()),
        "quantity" => rows.sort_by_key(|r| {
            r.offer
                .as_ref()
                .and_then(|o| o.quantity.as_ref())
                .map(|q| q.value)
        }),
        "price" => rows.sort_by_key(|r| r.listing.product.price),
        _ => rows.sort_by(|a, b| a.listing.sku.cmp(&b.listing.sku)),
    }
    if descending {
        rows.reverse();
    }
}
