//! `catalog_import`: the Commerce products the merchant chose for Walmart become listings.
//!
//! - **Messages** ([`ImportRequest`] on the catalog-import queue): SKUs to import now (CLI, dashboard,
//!   API), the whole selection, or one page of a catalog read fanned out by a bigger import.
//! - **Schedule**: the products of the selection changed since the cursor (with an overlap window).
//!   A run reads the first page (and the last, which holds the newest change) itself and fans the
//!   pages between out to its own queue, one message per page, so a 100,000-product catalog is
//!   imported by many invocations in parallel within the documented five minutes.
//!
//! Each simple product becomes a [`Listing`] with its UPC/GTIN (from the configured attribute),
//! price, weight and status; configurable products are imported as their simple children. Products
//! without a valid identifier, price or weight become listings in Error with the reason. New listings
//! are written in batches; changed ones with a version check. New and changed drafts nudge
//! listing-match, which sends them to Walmart.

use std::collections::BTreeSet;
use std::time::Duration;

use domain::{Listing, ListingStatus, Operation, Sku, Stream, Timestamp};
use ports::StoreCall;
use ports::commerce::ProductQuery;
use ports::commerce::model::Product;
use ports::records::listing_key;
use ports::{Deadline, PageRequest, QueueName, Records, StoreError, Versioned};

use crate::Counter;
use crate::declaration::Declaration;
use crate::feeds::{self, STORE_CONCURRENCY, concurrently, running_out};
use crate::messages::{self, Received};
pub use crate::messages::{ImportRequest, request_import};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): listings loaded, saved and
/// updated; new ones written in bulk; the product stream's cursor; the configuration check
/// (`health`).
pub const STORE_CALLS: &[StoreCall] = &[StoreCall::Get, StoreCall::Put, StoreCall::PutMany];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): a long import
/// fans its pages out to itself, and hands new listings to matching
/// (`listing_match::request_match`).
pub const SENDS_TO: &[QueueName] = &[QueueName::CatalogImport, QueueName::ListingMatch];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "catalog-import",
    consumes: Some(QueueName::CatalogImport),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

/// Products per Commerce page (the REST input limit many stores keep).
pub const PAGE_SIZE: u32 = 300;

/// Changes are re-read this far behind the cursor: `updated_at` has whole seconds and a change can
/// commit late with an earlier time. Re-reading is harmless (unchanged products are not written).
const OVERLAP: Duration = Duration::from_secs(120);

/// New listings per batch write.
const WRITE_BATCH: usize = 500;

fn selected(ch: &Channel, changed_since: Option<Timestamp>) -> ProductQuery {
    ProductQuery::Selected {
        selection: ch.settings.selection.clone(),
        changed_since,
    }
}

/// Handles one message of the catalog-import queue.
pub async fn handle_message(
    ch: &Channel,
    message: &Received<ImportRequest>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let request = message.body.clone();
    let mut report = RunReport::new(Operation::CatalogImport);
    match request {
        ImportRequest::Skus { skus } => {
            let products = ch.commerce.products_by_skus(&skus, deadline).await?;
            let found: BTreeSet<&str> = products.iter().map(|p| p.sku.as_str()).collect();
            for missing in skus.iter().filter(|s| !found.contains(s.as_str())) {
                report.problem(format!("{missing}: no such product in Commerce"));
            }
            import_products(ch, products, deadline, &mut report).await?;
        }
        ImportRequest::Selection => {
            import_query(ch, None, deadline, &mut report).await?;
        }
        ImportRequest::Page {
            changed_since,
            page,
            size,
        } => {
            let request = PageRequest {
                page: page.max(1),
                size: size.clamp(1, PAGE_SIZE),
            };
            let found = ch
                .commerce
                .products_page(&selected(ch, changed_since), request, deadline)
                .await?;
            import_products(ch, found.items, deadline, &mut report).await?;
        }
    }
    nudge_matching(ch, &report).await?;
    tracing::info!(message_id = %message.message_id, counts = ?report.counts, "import message handled");
    for problem in &report.problems {
        tracing::warn!(problem = %problem, "import problem");
    }
    Ok(())
}

/// The scheduled run: products of the selection changed since the cursor.
pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::CatalogImport);
    let (cursor, since) =
        feeds::cursor_since(ch, Stream::CommerceProducts, OVERLAP, feeds::Stamps::Commerce).await?;
    let seen_until = import_query(ch, since, deadline, &mut report).await?;
    if let Some(seen_until) = seen_until {
        feeds::advance_cursor(ch, cursor, seen_until).await?;
    }
    nudge_matching(ch, &report).await?;
    Ok(report)
}

/// Imports the selection's products changed since `since` (all when `None`): the first and last
/// pages here, the pages between fanned out to the queue. Returns the newest change seen, for the
/// cursor (the last page holds it when reading by change time).
async fn import_query(
    ch: &Channel,
    since: Option<Timestamp>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<Option<Timestamp>, OpError> {
    let query = selected(ch, since);
    let first = PageRequest::first(PAGE_SIZE);
    let page = ch.commerce.products_page(&query, first, deadline).await?;
    report.add(Counter::ProductsMatching, page.total_count);
    if page.total_count == 0 {
        return Ok(None);
    }
    let pages = u32::try_from(page.total_count.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(u32::MAX);
    let has_more = page.has_more(first);
    let mut newest = newest_change(&page.items);
    import_products(ch, page.items, deadline, report).await?;
    if has_more {
        let last = PageRequest {
            page: pages,
            size: PAGE_SIZE,
        };
        let messages: Vec<ImportRequest> = (2..pages)
            .map(|page| ImportRequest::Page {
                changed_since: since,
                page,
                size: PAGE_SIZE,
            })
            .collect();
        // Fanned out before the last page is read: whatever happens next, every page is queued.
        report.add(Counter::PagesFannedOut, messages.len() as u64);
        messages::send_all(ch, &messages).await?;
        if running_out(deadline) {
            messages::send_all(
                ch,
                &[ImportRequest::Page {
                    changed_since: since,
                    page: pages,
                    size: PAGE_SIZE,
                }],
            )
            .await?;
            report.add(Counter::PagesFannedOut, 1);
        } else {
            let tail = ch.commerce.products_page(&query, last, deadline).await?;
            newest = newest.max(newest_change(&tail.items));
            import_products(ch, tail.items, deadline, report).await?;
        }
    }
    Ok(newest)
}

fn newest_change(products: &[Product]) -> Option<Timestamp> {
    products.iter().filter_map(|p| p.updated_at).max()
}

/// Tells listing-match that drafts are waiting (one small message; it batches them into feeds).
async fn nudge_matching(ch: &Channel, report: &RunReport) -> Result<(), OpError> {
    if report.count(Counter::Drafts) > 0 {
        messages::request_match(ch, &[]).await?;
    }
    Ok(())
}

/// Turns products into listings: new ones in batches, changed ones with a version check, unchanged
/// ones not written at all.
pub async fn import_products(
    ch: &Channel,
    products: Vec<Product>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    let simples = simple_products(ch, products, deadline, report).await?;
    let zone = crate::store_time_zone(ch, deadline).await?;
    let now = ch.clock.now();
    let gtin_attribute = ch.settings.gtin_attribute.as_str();
    let loaded = concurrently(simples, STORE_CONCURRENCY, |(sku, product)| async move {
        let existing = ch
            .store
            .load::<Listing>(&listing_key(&ch.settings.id, &sku))
            .await;
        (sku, product, existing)
    })
    .await;
    let mut created = Vec::new();
    let mut changed = Vec::new();
    for (sku, product, existing) in loaded {
        let snapshot = product.to_snapshot(gtin_attribute, &zone);
        match existing? {
            None => {
                let listing = Listing::import(ch.settings.id.clone(), sku, snapshot, now);
                report.add(Counter::ListingsCreated, 1);
                count_status(&listing, report);
                created.push(listing);
            }
            Some(mut current) if current.record.product != snapshot => {
                let before = current.record.status();
                let resend = current.record.product_changed(snapshot, now);
                report.add(Counter::ListingsUpdated, 1);
                if resend {
                    report.add(Counter::Drafts, 1);
                }
                if current.record.status() == ListingStatus::Error && before != ListingStatus::Error {
                    report.add(Counter::ListingErrors, 1);
                }
                changed.push(current);
            }
            Some(_) => report.add(Counter::Unchanged, 1),
        }
    }
    crate::merchant::hold_new_listings(ch, &mut created).await?;
    for batch in created.chunks(WRITE_BATCH) {
        ch.store.save_all(batch).await?;
    }
    let saved = concurrently(changed, STORE_CONCURRENCY, |listing| {
        save_changed(ch, listing, now)
    })
    .await;
    for result in saved {
        result?;
    }
    Ok(())
}

fn count_status(listing: &Listing, report: &mut RunReport) {
    match listing.status() {
        ListingStatus::Draft => report.add(Counter::Drafts, 1),
        ListingStatus::Error => {
            report.add(Counter::ListingErrors, 1);
            if let Some(issue) = listing.issues.first() {
                tracing::info!(sku = %listing.sku, code = %issue.code, "listing imported with an error");
            }
        }
        _ => {}
    }
}

/// Saves a changed listing; if it changed meanwhile (listing-match moved it), applies the product
/// change again to what is stored now.
async fn save_changed(ch: &Channel, mut listing: Versioned<Listing>, now: Timestamp) -> Result<(), OpError> {
    match ch.store.save(&mut listing).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => {
            let snapshot = listing.record.product.clone();
            let key = listing_key(&listing.record.channel, &listing.record.sku);
            ch.store
                .update::<Listing, OpError, _>(&key, |stored| {
                    if stored.product == snapshot {
                        return Ok(false);
                    }
                    stored.product_changed(snapshot.clone(), now);
                    Ok(true)
                })
                .await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The simple products to list: simple products as they are, configurable ones replaced by their
/// simple children, each once, with a valid SKU, in the channel's website.
async fn simple_products(
    ch: &Channel,
    products: Vec<Product>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<Vec<(Sku, Product)>, OpError> {
    let mut simples = Vec::with_capacity(products.len());
    for product in products {
        if product.is_configurable() {
            let parent = match Sku::new(product.sku.as_str()) {
                Ok(sku) => sku,
                Err(e) => {
                    report.problem(format!("configurable product skipped: {e}"));
                    continue;
                }
            };
            match ch.commerce.configurable_children(&parent, deadline).await {
                Ok(children) => {
                    report.add(Counter::ConfigurableParents, 1);
                    simples.extend(children);
                }
                Err(e) if e.is_retryable() => return Err(e.into()),
                Err(e) => report.problem(format!("{parent}: cannot read its children: {e}")),
            }
        } else {
            simples.push(product);
        }
    }
    let website = u64::from(ch.settings.website_id);
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(simples.len());
    for product in simples {
        let in_website = product.in_website(website);
        if !in_website {
            report.add(Counter::NotInWebsite, 1);
            continue;
        }
        match Sku::new(product.sku.as_str()) {
            Ok(sku) if seen.insert(sku.clone()) => out.push((sku, product)),
            Ok(_) => {}
            Err(e) => report.problem(format!("product skipped: {e}")),
        }
    }
    Ok(out)
}
