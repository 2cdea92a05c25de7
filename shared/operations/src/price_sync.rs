//! `price_sync`: Commerce prices reach Walmart, diff-based, for live listings only.
//!
//! The Walmart price is the product's base price, or its special price while that applies and is
//! lower, after the channel's rules (markup or markdown, rounding, minimum). A run looks at:
//! - products changed in Commerce since the cursor (all products, so children of configurable
//!   products are seen too), read by keyset so changes made while reading never shift a page;
//! - offers whose special price starts or ends now (each offer keeps that time in `price_due_at`,
//!   indexed: "what is due" is one query), as those change no `updated_at`;
//! - listings that went live since the last run (their match feed carried the price of its day);
//! - items Walmart refused for a transient reason in an earlier price feed.
//!
//! Only differences from what Walmart was last told are sent. Walmart takes 100 single
//! `PUT /v3/price` calls an hour, so a run sends up to 20 as single calls (Walmart applies them at
//! once) and more as bulk price feeds (10 an hour), each SKU at most once per feed; both are planned
//! against the channel's shared call budgets. Changes no budget allows wait, and the cursor waits
//! with them.
//!
//! Messages ([`PriceSkus`] on the price-sync queue) ask for SKUs to be priced now (after a rules
//! change, from the dashboard).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use domain::{
    BudgetedCall, FeedEntry, FeedId, FeedKind, FeedValue, Listing, ListingIssue, ListingStatus, Money,
    OfferState, Operation, SentVia, Sku, StoreTimeZone, Stream, Timestamp,
};
use ports::StoreCall;
use ports::commerce::ProductQuery;
use ports::commerce::model::Product;
use ports::records::{listing_key, listing_status_pk, offer_key, offer_price_due_pk};
use ports::{Deadline, PageRequest, Query, QueueName, Records, SortRange, StoreError, Versioned};
use tracing::Instrument;
use walmart_client::feeds::{PriceEntry, price_feeds};

use crate::Counter;
use crate::declaration::Declaration;
use crate::feeds::{
    self, COMMERCE_CONCURRENCY, FeedChange, FeedSender, Lease, STORE_CONCURRENCY, SingleSend, Stamps,
    advance_cursor, concurrently, cursor_since, running_out,
};
use crate::messages::Received;
pub use crate::messages::{PriceSkus, enqueue_prices as enqueue};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): offers, listings and budgets;
/// feeds written in bulk; listings, due prices and feeds queried; the run lease; the configuration
/// check.
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Query,
    StoreCall::PutMany,
    StoreCall::Claim,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): none: the
/// queue is fed by others (`enqueue`).
pub const SENDS_TO: &[QueueName] = &[];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "price-sync",
    consumes: Some(QueueName::PriceSync),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

pub const OPERATION: &str = "price-sync";

/// Changes are re-read this far behind the cursors.
const OVERLAP: Duration = Duration::from_secs(120);

/// Products per Commerce page.
const PAGE_SIZE: u32 = 300;

/// Most single `PUT /v3/price` calls one run sends: Walmart allows 100 an hour, and runs come every
/// two minutes; more changes than this go in a feed.
pub const MAX_SINGLES_PER_RUN: u32 = 20;

// ---------------------------------------------------------------- the plan (pure)

/// A price Walmart should be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub sku: Sku,
    pub price: Money,
    pub previous: Option<Money>,
    /// When Commerce's product was read.
    pub read_at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PricePlan {
    pub singles: Vec<PriceChange>,
    pub feed: Vec<PriceChange>,
    pub deferred: Vec<PriceChange>,
}

/// Each SKU once (the last price asked for wins). Few changes go as single calls, many in feeds;
/// without a feed, as many as the single budget allows and the rest wait.
pub fn plan(changes: Vec<PriceChange>, singles_available: u32, feed_allowed: bool) -> PricePlan {
    let mut unique: BTreeMap<Sku, PriceChange> = BTreeMap::new();
    for change in changes {
        unique.insert(change.sku.clone(), change);
    }
    let mut changes: Vec<PriceChange> = unique.into_values().collect();
    let singles_available = singles_available as usize;
    let mut out = PricePlan::default();
    if changes.len() <= singles_available {
        out.singles = changes;
    } else if feed_allowed {
        out.feed = changes;
    } else {
        out.deferred = changes.split_off(singles_available);
        out.singles = changes;
    }
    out
}

// ---------------------------------------------------------------- evaluation

/// A live listing's price as Commerce has it now, beside what Walmart was told.
struct Candidate {
    change: Option<PriceChange>,
    due: Option<Timestamp>,
    offer: Versioned<OfferState>,
}

async fn evaluate(
    ch: &Channel,
    product: &Product,
    read_at: Timestamp,
    now: Timestamp,
    zone: &StoreTimeZone,
) -> Result<Option<Candidate>, OpError> {
    let Ok(sku) = Sku::new(product.sku.as_str()) else {
        return Ok(None);
    };
    let listing = ch
        .store
        .load::<Listing>(&listing_key(&ch.settings.id, &sku))
        .await?;
    if !listing.is_some_and(|l| l.record.is_live_on_walmart()) {
        return Ok(None);
    }
    let Some(base) = product.price else {
        return Err(OpError::Invalid(format!(
            "{sku}: the product has no price in Commerce"
        )));
    };
    let special = product.special_price(zone);
    let price = ch.settings.pricing.walmart_price(base, special, now);
    let due = special.and_then(|sp| sp.next_change_after(now));
    let offer = ch
        .store
        .load::<OfferState>(&offer_key(&ch.settings.id, &sku))
        .await?
        .unwrap_or_else(|| Versioned::new(OfferState::new(ch.settings.id.clone(), sku.clone())));
    // A price read after ours was recorded meanwhile: it is the newer one.
    let newer_recorded = offer.record.price.as_ref().is_some_and(|p| p.read_after(read_at));
    let change = offer
        .record
        .price_change(price)
        .filter(|_| !newer_recorded)
        .map(|price| PriceChange {
            sku,
            price,
            previous: offer.record.price.as_ref().map(|p| p.value),
            read_at,
        });
    Ok(Some(Candidate { change, due, offer }))
}

/// What one run found to do.
struct Found {
    candidates: BTreeMap<Sku, Candidate>,
    /// The store's time zone: special price dates are its days.
    zone: StoreTimeZone,
}

impl Found {
    async fn for_store(ch: &Channel, deadline: &Deadline) -> Result<Self, OpError> {
        Ok(Self {
            candidates: BTreeMap::new(),
            zone: crate::store_time_zone(ch, deadline).await?,
        })
    }

    async fn evaluate(
        &mut self,
        ch: &Channel,
        products: Vec<Product>,
        read_at: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), OpError> {
        let now = ch.clock.now();
        // A product seen twice in one run (a new listing that also changed) is worked out once.
        let products: Vec<Product> = products
            .into_iter()
            .filter(|p| Sku::new(p.sku.as_str()).map_or(true, |sku| !self.candidates.contains_key(&sku)))
            .collect();
        let zone = &self.zone;
        let evaluated = concurrently(products, STORE_CONCURRENCY, |product| async move {
            let span = tracing::debug_span!("price", sku = %product.sku);
            let candidate = evaluate(ch, &product, read_at, now, zone).instrument(span).await;
            (product.sku, candidate)
        })
        .await;
        for (sku, candidate) in evaluated {
            match candidate {
                Ok(Some(candidate)) => {
                    report.add(Counter::LiveProductsChecked, 1);
                    if let Ok(sku) = Sku::new(sku) {
                        self.candidates.insert(sku, candidate);
                    }
                }
                Ok(None) => report.add(Counter::NotListed, 1),
                Err(OpError::Invalid(problem)) => report.problem(problem),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn evaluate_skus(
        &mut self,
        ch: &Channel,
        skus: BTreeSet<Sku>,
        deadline: &Deadline,
        report: &mut RunReport,
    ) -> Result<(), OpError> {
        if skus.is_empty() {
            return Ok(());
        }
        let skus: Vec<Sku> = skus.into_iter().collect();
        let read_at = ch.clock.now();
        let products = ch.commerce.products_by_skus(&skus, deadline).await?;
        self.evaluate(ch, products, read_at, report).await
    }
}

// ---------------------------------------------------------------- runs

/// Prices the message's SKUs now. Changes no budget allows fail the message, which comes back later.
pub async fn handle_message(
    ch: &Channel,
    message: &Received<PriceSkus>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let mut report = RunReport::new(Operation::PriceSync);
    let mut found = Found::for_store(ch, deadline).await?;
    found
        .evaluate_skus(
            ch,
            message.body.skus.iter().cloned().collect(),
            deadline,
            &mut report,
        )
        .await?;
    let deferred = send(ch, found, deadline, &mut report).await?;
    tracing::info!(message_id = %message.message_id, counts = ?report.counts, "price message handled");
    if deferred > 0 {
        return Err(OpError::Busy(format!(
            "{deferred} price changes wait for Walmart's call budget"
        )));
    }
    Ok(())
}

/// The scheduled run, one at a time per channel (a lease).
pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::PriceSync);
    let Some(lease) = Lease::take(ch, OPERATION, "scheduled-run", deadline).await? else {
        report.add(crate::RUN_IN_PROGRESS_ELSEWHERE, 1);
        return Ok(report);
    };
    let outcome = run_locked(ch, deadline, &mut report).await;
    lease.release(ch).await?;
    outcome.map(|()| report)
}

async fn run_locked(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let mut found = Found::for_store(ch, deadline).await?;
    let (_, mut again) =
        feeds::poll_offer_feeds(ch, FeedKind::Price, OfferState::price_refused, deadline, report).await?;
    again.extend(due_offers(ch, report).await?);
    let (listings_cursor, listings_since) =
        cursor_since(ch, Stream::PriceListings, OVERLAP, Stamps::Ours).await?;
    let (new_live, listings_seen) = new_listings(ch, listings_since).await?;
    report.add(Counter::ListingsWentLive, new_live.len() as u64);
    again.extend(new_live);
    // Changed products first: a product read there is not asked for again by SKU.
    let (products_cursor, products_since) =
        cursor_since(ch, Stream::CommercePrices, OVERLAP, Stamps::Commerce).await?;
    let products_seen = read_changed_products(ch, &mut found, products_since, deadline, report).await?;
    again.retain(|sku| !found.candidates.contains_key(sku));
    found.evaluate_skus(ch, again, deadline, report).await?;

    let deferred = send(ch, found, deadline, report).await?;
    if deferred > 0 {
        // The deferred changes are found again only if the cursors stay where they are.
        report.complete = false;
        return Ok(());
    }
    if let Some(seen) = listings_seen {
        advance_cursor(ch, listings_cursor, seen).await?;
    }
    if let Some(seen) = products_seen {
        advance_cursor(ch, products_cursor, seen).await?;
    }
    Ok(())
}

/// Offers whose special price starts or ends by now.
async fn due_offers(ch: &Channel, report: &mut RunReport) -> Result<BTreeSet<Sku>, OpError> {
    let now = ch.clock.now();
    // Index keys are `{due}#{sku}`: everything up to `now` sorts before `now` followed by '~'.
    let upper = format!("{}~", now.to_rfc3339());
    let mut query = Query::status_index(offer_price_due_pk(&ch.settings.id))
        .range(SortRange::Between(Timestamp::EPOCH.to_rfc3339(), upper))
        .limit(1_000);
    let mut due = BTreeSet::new();
    loop {
        let (page, next) = ch.store.query_records::<OfferState>(&query).await?;
        due.extend(
            page.into_iter()
                .filter(|o| o.record.price_due_at.is_some_and(|t| t <= now))
                .map(|o| o.record.sku),
        );
        match next {
            Some(token) => query = query.after(Some(token)),
            None => break,
        }
    }
    report.add(Counter::SpecialPricesDue, due.len() as u64);
    Ok(due)
}

/// Listings that went live since the cursor, and the newest such change.
async fn new_listings(
    ch: &Channel,
    since: Option<Timestamp>,
) -> Result<(BTreeSet<Sku>, Option<Timestamp>), OpError> {
    let mut skus = BTreeSet::new();
    let mut newest = None;
    for status in [ListingStatus::Match, ListingStatus::StagedForMatch] {
        let range = since.map_or(SortRange::All, |t| SortRange::From(t.to_rfc3339()));
        let mut query = Query::status_index(listing_status_pk(&ch.settings.id, status))
            .range(range)
            .limit(1_000);
        loop {
            let (page, next) = ch.store.query_records::<Listing>(&query).await?;
            for listing in page {
                newest = newest.max(Some(listing.record.status_changed_at));
                skus.insert(listing.record.sku);
            }
            match next {
                Some(token) => query = query.after(Some(token)),
                None => break,
            }
        }
    }
    Ok((skus, newest))
}

/// Products changed since `since` (all products on the first run), read by keyset: each next read
/// starts again at the newest change seen, so products changing meanwhile never shift a page (a
/// page all within one second moves on by page number). Returns the newest change fully read.
async fn read_changed_products(
    ch: &Channel,
    found: &mut Found,
    since: Option<Timestamp>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<Option<Timestamp>, OpError> {
    let mut from = since.unwrap_or(Timestamp::EPOCH);
    let mut request = PageRequest::first(PAGE_SIZE);
    let mut newest = None;
    loop {
        if running_out(deadline) {
            report.complete = false;
            // Everything before `from` was read; the next run starts there.
            return Ok(newest.map(|_| from).or(since));
        }
        let read_at = ch.clock.now();
        let page = ch
            .commerce
            .products_page(&ProductQuery::UpdatedSince(from), request, deadline)
            .await?;
        report.add(Counter::ProductsRead, page.items.len() as u64);
        let page_newest = page.items.iter().filter_map(|p| p.updated_at).max();
        let has_more = page.has_more(request);
        found.evaluate(ch, page.items, read_at, report).await?;
        newest = newest.max(page_newest);
        if !has_more {
            return Ok(newest);
        }
        match page_newest {
            Some(t) if t > from => {
                from = t;
                request = PageRequest::first(PAGE_SIZE);
            }
            _ => request = request.next(),
        }
    }
}

/// Plans and sends the changes found, and writes the offers whose due time moved. Returns how many
/// changes had to wait.
async fn send(
    ch: &Channel,
    found: Found,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<u64, OpError> {
    let now = ch.clock.now();
    let mut offers = BTreeMap::new();
    let mut changes = Vec::new();
    let mut due_only = Vec::new();
    for (sku, candidate) in found.candidates {
        match candidate.change {
            Some(change) => {
                changes.push(change);
                offers.insert(sku, (candidate.offer, candidate.due));
            }
            None if candidate.offer.record.price_due_at != candidate.due => {
                due_only.push((candidate.offer, candidate.due));
            }
            None => report.add(Counter::Unchanged, 1),
        }
    }
    let moved = concurrently(due_only, STORE_CONCURRENCY, |(mut offer, due)| async move {
        offer.record.price_due_at = due;
        match ch.store.save(&mut offer).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(OpError::from(e)),
        }
    })
    .await;
    for result in moved {
        result?;
    }
    if changes.is_empty() {
        return Ok(0);
    }
    let singles = feeds::budget(ch, BudgetedCall::PriceUpdate)
        .await?
        .available(now)
        .min(MAX_SINGLES_PER_RUN);
    let feed_allowed = feeds::budget(ch, BudgetedCall::PriceFeed).await?.available(now) > 0;
    let plan = plan(changes, singles, feed_allowed);
    let mut deferred = plan.deferred.len() as u64;
    deferred += send_singles(ch, plan.singles, &mut offers, deadline, report).await?;
    deferred += send_feeds(ch, plan.feed, &mut offers, deadline, report).await?;
    report.add(Counter::Deferred, deferred);
    Ok(deferred)
}

type Offers = BTreeMap<Sku, (Versioned<OfferState>, Option<Timestamp>)>;

/// Single calls, each after writing its value (versioned) so no other invocation sends the same SKU
/// meanwhile. Returns how many could not be sent for lack of budget or for a transient failure.
async fn send_singles(
    ch: &Channel,
    singles: Vec<PriceChange>,
    offers: &mut Offers,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<u64, OpError> {
    if singles.is_empty() {
        return Ok(0);
    }
    let wanted = u32::try_from(singles.len()).unwrap_or(u32::MAX);
    let granted = feeds::reserve(ch, BudgetedCall::PriceUpdate, wanted).await? as usize;
    let mut waiting = singles.len().saturating_sub(granted) as u64;
    let work: Vec<_> = singles
        .into_iter()
        .take(granted)
        .filter_map(|c| offers.remove(&c.sku).map(|o| (c, o)))
        .collect();
    let outcomes = concurrently(work, COMMERCE_CONCURRENCY, |(change, (offer, due))| async move {
        let span = tracing::info_span!("price_update", sku = %change.sku);
        send_single(ch, &change, offer, due, deadline)
            .instrument(span)
            .await
    })
    .await;
    let mut sent = 0;
    for outcome in outcomes {
        match outcome? {
            SingleSend::Sent => sent += 1,
            SingleSend::Raced => report.add(Counter::Raced, 1),
            SingleSend::Failed { retry, problem } => {
                waiting += u64::from(retry);
                report.problem(problem);
            }
        }
    }
    report.add(Counter::PricesSentSingle, sent);
    Ok(waiting)
}

fn price_slot(o: &mut OfferState) -> (&mut Option<domain::Sent<Money>>, &mut Option<ListingIssue>) {
    (&mut o.price, &mut o.price_issue)
}

async fn send_single(
    ch: &Channel,
    change: &PriceChange,
    offer: Versioned<OfferState>,
    due: Option<Timestamp>,
    deadline: &Deadline,
) -> Result<SingleSend, OpError> {
    let now = ch.clock.now();
    feeds::send_single(
        ch,
        offer,
        price_slot,
        change.read_at,
        |o| {
            o.price_sent(change.price, SentVia::Single, now);
            o.price_due_at = due;
        },
        |price| ch.walmart.update_price(&change.sku, price, deadline),
        format!("{}: price {}", change.sku, change.price),
    )
    .await
}

/// Feeds of up to 10,000 prices (and 10 MB), one budget grant each. Returns how many changes had to
/// wait for the budget.
async fn send_feeds(
    ch: &Channel,
    changes: Vec<PriceChange>,
    offers: &mut Offers,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<u64, OpError> {
    if changes.is_empty() {
        return Ok(0);
    }
    let entries: Vec<PriceEntry> = changes
        .iter()
        .map(|c| PriceEntry {
            sku: c.sku.clone(),
            price: c.price,
        })
        .collect();
    let files = price_feeds(&entries).map_err(|source| OpError::Feed {
        what: "price",
        source,
    })?;
    let mut feeds = FeedSender::new(FeedKind::Price, BudgetedCall::PriceFeed, files, changes);
    while let Some((feed_id, batch)) = feeds.next(ch, deadline).await? {
        report.add(Counter::PriceFeeds, 1);
        report.add(Counter::PricesSentFeed, batch.len() as u64);
        let now = ch.clock.now();
        let work: Vec<_> = batch
            .into_iter()
            .map(|c| {
                let offer = offers.remove(&c.sku);
                (c, offer)
            })
            .collect();
        let recorded = concurrently(work, STORE_CONCURRENCY, |(change, offer)| {
            record_in_feed(ch, change, offer, feed_id.clone(), now)
        })
        .await;
        for result in recorded {
            result?;
        }
    }
    Ok(feeds.waiting())
}

impl FeedChange for PriceChange {
    fn feed_entry(&self) -> FeedEntry {
        FeedEntry::new(self.sku.clone(), FeedValue::Price { price: self.price })
    }
}

async fn record_in_feed(
    ch: &Channel,
    change: PriceChange,
    offer: Option<(Versioned<OfferState>, Option<Timestamp>)>,
    feed_id: FeedId,
    now: Timestamp,
) -> Result<(), OpError> {
    let via = SentVia::Feed { feed_id };
    let (offer, due) = offer.map_or((None, None), |(offer, due)| (Some(offer), due));
    feeds::record_in_feed(ch, offer, &change.sku, price_slot, change.read_at, |o| {
        o.price_sent(change.price, via.clone(), now);
        o.price_due_at = due;
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sku: &str, cents: i64) -> PriceChange {
        PriceChange {
            sku: Sku::new(sku).unwrap(),
            price: Money::from_cents(cents),
            previous: None,
            read_at: Timestamp::EPOCH,
        }
    }

    #[test]
    fn each_sku_once_few_single_many_in_a_feed() {
        let p = plan(
            vec![change("A", 100), change("B", 200), change("A", 150)],
            5,
            true,
        );
        assert_eq!(
            p.singles,
            vec![change("A", 150), change("B", 200)],
            "last price wins, once"
        );
        let many: Vec<_> = (0..30).map(|n| change(&format!("S{n:02}"), 100 + n)).collect();
        let p = plan(many.clone(), 20, true);
        assert_eq!((p.singles.len(), p.feed.len()), (0, 30));
        let p = plan(many, 20, false);
        assert_eq!((p.singles.len(), p.deferred.len()), (20, 10));
    }
}
