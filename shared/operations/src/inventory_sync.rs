//! `inventory_sync`: Commerce salable quantities reach Walmart, diff-based, for live listings only.
//!
//! **Where quantities come from.** The truth is Commerce's salable quantity (MSI: the configured
//! stock; stores without MSI: the legacy stock item), after the channel's rules (safety buffer,
//! out-of-stock threshold, maximum advertised; disabled products advertise zero). MSI has no bulk
//! salable endpoint and asking every SKU every run is too many calls, so a run asks only for SKUs
//! whose salable quantity may have moved:
//! - **source changes**: every run reads all MSI source items in bulk (300 a page) and compares them
//!   with the snapshot kept in [`StockChunk`]s (128 items for the whole channel);
//! - **reservations**: orders (of any channel) change reservations, not source items; the Commerce
//!   orders updated since the last run name the SKUs they touched. Order-create and
//!   cancellation-sync also queue those SKUs at once ([`enqueue_urgent`]);
//! - **new listings**: listings that went live since the last run get their first quantity;
//! - **drift**: see reconciliation below.
//!
//! **How quantities go.** Only differences from what Walmart was last told ([`OfferState`]) are
//! sent. Up to 200 changes (Walmart refills `PUT /v3/inventory` at 200 a minute) go as single calls,
//! which Walmart applies at once; more go as one bulk inventory feed (10 an hour), with stock-outs
//! still sent as single calls first. Both are planned against the channel's call budgets in the
//! state store, which every Lambda instance shares, so steady state never meets a 429. A single
//! call's new value is written before the call (versioned), so two invocations never race one SKU.
//!
//! **Reconciliation.** Each run also reads Walmart's quantities of its share of a daily pass over
//! every followed SKU (at most 100 a run; chunk after chunk, oldest pass first) and repairs any that
//! differ from what was sent (changes made outside Commerce, lost updates).
//!
//! **Continuation.** Marks for a recheck live in the snapshot and are cleared only when handled, and
//! cursors move only after the snapshot is saved: a run stopped at its deadline leaves the rest to
//! the next one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use domain::{
    BudgetedCall, FeedEntry, FeedId, FeedKind, FeedValue, ItemOutcome, Listing, ListingIssue, ListingStatus,
    OfferState, Operation, STOCK_CHUNKS, SentVia, Sku, StockChunk, StockSource, Stream, Timestamp,
    stock_chunk_of,
};
use ports::StoreCall;
use ports::commerce::OrderFilter;
use ports::records::{channel_pk, listing_key, listing_status_pk, load_cursor, offer_key};
use ports::{
    ApiErrorKind, Deadline, PageRequest, Query, QueueName, Records, SortRange, StoreError, Versioned,
};
use tracing::Instrument;
use walmart_client::feeds::{InventoryEntry, inventory_feeds};

use crate::Counter;
use crate::declaration::Declaration;
use crate::feeds::{
    self, COMMERCE_CONCURRENCY, Lease, STORE_CONCURRENCY, SingleSend, Stamps, advance_cursor, concurrently,
    cursor_since, running_out,
};
use crate::messages::Received;
pub use crate::messages::{UrgentSkus, enqueue_urgent};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): offers, listings and budgets;
/// feeds written in bulk; listings and feeds queried; superseded urgent changes deleted; the run
/// lease; the configuration check.
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Delete,
    StoreCall::Query,
    StoreCall::PutMany,
    StoreCall::Claim,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): none: urgent
/// changes come from others (`enqueue_urgent`).
pub const SENDS_TO: &[QueueName] = &[];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "inventory-sync",
    consumes: Some(QueueName::InventorySync),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    store_calls: STORE_CALLS,
};

pub const OPERATION: &str = "inventory-sync";

/// Changes of orders and listings are re-read this far behind their cursors.
const OVERLAP: Duration = Duration::from_secs(120);

/// Source items per Commerce page (the REST input limit many stores keep).
const SOURCE_PAGE: u32 = 300;

/// Orders per Commerce page (orders are big).
const ORDER_PAGE: u32 = 100;

/// Source item pages read at once.
const PAGES_IN_FLIGHT: usize = 4;

/// Most single `PUT /v3/inventory` calls one run plans: a minute of Walmart's refill, so the client
/// never waits long on its bucket. More changes than this go in a feed.
pub const MAX_SINGLES_PER_RUN: u32 = 200;

/// Most Walmart quantities one run reads for reconciliation (our share of `GET /v3/inventory`).
pub const RECONCILE_PER_RUN: u32 = 100;

/// How long a reconciliation pass over every followed SKU takes, where [`RECONCILE_PER_RUN`]
/// allows: runs read their share of it.
pub const RECONCILE_PASS: Duration = Duration::from_secs(24 * 3600);

/// Stores without MSI have no bulk stock read: each run rechecks this many snapshot chunks in turn.
const LEGACY_CHUNKS_PER_RUN: u32 = 4;

/// SKUs evaluated per step of a run, between deadline checks.
const RECHECK_BATCH: usize = 500;

// ---------------------------------------------------------------- the plan (pure)

/// A quantity Walmart should be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityChange {
    pub sku: Sku,
    pub quantity: u32,
    /// What Walmart was last told, if anything.
    pub previous: Option<u32>,
    /// When Commerce's salable quantity was read.
    pub read_at: Timestamp,
}

impl QuantityChange {
    /// Lower goes first: stock-outs (overselling is the costly mistake), then drops, then first
    /// quantities, then rises.
    fn urgency(&self) -> u8 {
        match self.previous {
            _ if self.quantity == 0 => 0,
            Some(previous) if self.quantity < previous => 1,
            None => 2,
            Some(_) => 3,
        }
    }

    fn is_stock_out(&self) -> bool {
        self.quantity == 0
    }
}

/// How one run sends its changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryPlan {
    /// `PUT /v3/inventory`, most urgent first.
    pub singles: Vec<QuantityChange>,
    /// One bulk feed (several files only past Walmart's size limits), most urgent first.
    pub feed: Vec<QuantityChange>,
    /// Left for a later run: no budget now.
    pub deferred: Vec<QuantityChange>,
}

/// Few changes go as single calls; many go in a feed, with stock-outs still as single calls; with
/// no feed allowed, the most urgent go as single calls and the rest wait.
pub fn plan(mut changes: Vec<QuantityChange>, singles_available: u32, feed_allowed: bool) -> InventoryPlan {
    changes.sort_by(|a, b| a.urgency().cmp(&b.urgency()).then_with(|| a.sku.cmp(&b.sku)));
    let singles_available = singles_available as usize;
    let mut out = InventoryPlan::default();
    if changes.len() <= singles_available {
        out.singles = changes;
    } else if feed_allowed {
        for change in changes {
            if change.is_stock_out() && out.singles.len() < singles_available {
                out.singles.push(change);
            } else {
                out.feed.push(change);
            }
        }
    } else {
        out.deferred = changes.split_off(singles_available);
        out.singles = changes;
    }
    out
}

/// The quantity Walmart should show for a listing with this salable quantity.
pub fn advertised(ch: &Channel, listing: &Listing, salable: f64) -> u32 {
    ch.settings
        .inventory
        .advertised_for_product(listing.product.enabled, salable)
}

// ---------------------------------------------------------------- the snapshot

/// The channel's stock snapshot as loaded, with the chunks changed by this run.
struct Snapshot {
    channel: domain::ChannelId,
    chunks: BTreeMap<u32, Versioned<StockChunk>>,
    dirty: BTreeSet<u32>,
}

impl Snapshot {
    async fn load(ch: &Channel) -> Result<Self, OpError> {
        let mut chunks = BTreeMap::new();
        let mut query = Query::partition(channel_pk(&ch.settings.id, "STOCK")).limit(32);
        loop {
            let (page, next) = ch.store.query_records::<StockChunk>(&query).await?;
            for chunk in page {
                chunks.insert(chunk.record.chunk, chunk);
            }
            match next {
                Some(token) => query = query.after(Some(token)),
                None => break,
            }
        }
        Ok(Self {
            channel: ch.settings.id.clone(),
            chunks,
            dirty: BTreeSet::new(),
        })
    }

    fn chunk(&mut self, sku: &Sku) -> (u32, &mut StockChunk) {
        let n = stock_chunk_of(sku);
        let channel = self.channel.clone();
        let chunk = self
            .chunks
            .entry(n)
            .or_insert_with(|| Versioned::new(StockChunk::new(channel, n)));
        (n, &mut chunk.record)
    }

    fn change(&mut self, sku: &Sku, f: impl FnOnce(&mut StockChunk) -> bool) -> bool {
        let (n, chunk) = self.chunk(sku);
        let changed = f(chunk);
        if changed {
            self.dirty.insert(n);
        }
        changed
    }

    fn track(&mut self, sku: &Sku) -> bool {
        self.change(sku, |c| c.track(sku.clone()))
    }

    fn is_tracked(&self, sku: &Sku) -> bool {
        self.chunks
            .get(&stock_chunk_of(sku))
            .is_some_and(|c| c.record.is_tracked(sku))
    }

    fn mark_recheck(&mut self, sku: &Sku) -> bool {
        self.change(sku, |c| c.mark_recheck(sku))
    }

    fn rechecked(&mut self, sku: &Sku) {
        self.change(sku, |c| c.rechecked(sku));
    }

    fn untrack(&mut self, sku: &Sku) {
        self.change(sku, |c| c.untrack(sku));
    }

    fn observe_sources(&mut self, sku: &Sku, quantity: f64) -> bool {
        self.change(sku, |c| c.observe_sources(sku, quantity))
    }

    fn tracked(&self) -> Vec<Sku> {
        self.chunks
            .values()
            .flat_map(|c| c.record.entries.keys().cloned())
            .collect()
    }

    fn rechecks(&self) -> Vec<Sku> {
        self.chunks
            .values()
            .flat_map(|c| c.record.rechecks().cloned())
            .collect()
    }

    fn mark_chunk(&mut self, n: u32) {
        if let Some(chunk) = self.chunks.get_mut(&n) {
            let skus: Vec<Sku> = chunk.record.entries.keys().cloned().collect();
            let mut changed = false;
            for sku in &skus {
                changed |= chunk.record.mark_recheck(sku);
            }
            if changed {
                self.dirty.insert(n);
            }
        }
    }

    /// Writes the changed chunks. Runs hold a lease, so a lost race means a run outlived its lease:
    /// its changes to that chunk are dropped and found again by the next run.
    async fn save(&mut self, ch: &Channel, report: &mut RunReport) -> Result<(), OpError> {
        let dirty: Vec<u32> = std::mem::take(&mut self.dirty).into_iter().collect();
        let chunks: Vec<Versioned<StockChunk>> = dirty.iter().filter_map(|n| self.chunks.remove(n)).collect();
        let saved = concurrently(chunks, STORE_CONCURRENCY, |mut chunk| async move {
            let result = if chunk.record.entries.is_empty() && chunk.version.is_some() {
                let key = ports::records::stock_chunk_key(&chunk.record.channel, chunk.record.chunk);
                let expect = chunk.version.map_or(ports::Expect::Any, ports::Expect::Version);
                ch.store.delete(&key, expect).await
            } else {
                ch.store.save(&mut chunk).await
            };
            (chunk, result)
        })
        .await;
        for (chunk, result) in saved {
            match result {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { .. }) => {
                    report.problem(format!(
                        "stock chunk {} changed under this run",
                        chunk.record.chunk
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            self.chunks.insert(chunk.record.chunk, chunk);
        }
        report.add(Counter::SnapshotChunksWritten, dirty.len() as u64);
        Ok(())
    }
}

// ---------------------------------------------------------------- runs

/// Handles one urgent message: the SKUs' quantities are checked now and changes sent as single
/// calls while the budget allows. What the budget does not allow is left to the schedule, which
/// finds the same SKUs through the orders that changed them.
pub async fn handle_message(
    ch: &Channel,
    message: &Received<UrgentSkus>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let skus: Vec<Sku> = message
        .body
        .skus
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut report = RunReport::new(Operation::InventorySync);
    let mut changes = Vec::new();
    let mut offers = HashMap::new();
    for (sku, evaluation) in evaluate_all(ch, skus, deadline).await {
        match evaluation {
            Ok(Evaluation::Changed(changed)) => {
                let (change, offer) = *changed;
                offers.insert(sku, offer);
                changes.push(change);
            }
            Ok(Evaluation::Unchanged) => report.add(Counter::Unchanged, 1),
            Ok(Evaluation::NotLive) => report.add(Counter::NotLive, 1),
            // Nothing is sent when the store is misconfigured: its answers say nothing of stock.
            Err(e) if e.is_retryable() || e.configuration_problem().is_some() => return Err(e),
            Err(e) => report.problem(format!("{sku}: {e}")),
        }
    }
    let available = feeds::budget(ch, BudgetedCall::InventoryUpdate)
        .await?
        .available(ch.clock.now())
        .min(MAX_SINGLES_PER_RUN);
    let plan = plan(changes, available, false);
    report.add(Counter::Deferred, plan.deferred.len() as u64);
    send_singles(ch, plan.singles, &mut offers, None, deadline, &mut report).await?;
    tracing::info!(message_id = %message.message_id, counts = ?report.counts, "urgent inventory handled");
    Ok(())
}

/// The scheduled run, one at a time per channel (a lease).
pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::InventorySync);
    let Some(lease) = Lease::take(ch, OPERATION, "scheduled-run", deadline).await? else {
        report.add(crate::RUN_IN_PROGRESS_ELSEWHERE, 1);
        return Ok(report);
    };
    let outcome = run_locked(ch, deadline, &mut report).await;
    lease.release(ch).await?;
    outcome.map(|()| report)
}

async fn run_locked(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let mut snapshot = Snapshot::load(ch).await?;
    let in_flight = poll_feeds(ch, &mut snapshot, deadline, report).await?;

    let (listings_cursor, listings_since) =
        cursor_since(ch, Stream::InventoryListings, OVERLAP, Stamps::Ours).await?;
    let listings_seen = track_new_listings(ch, &mut snapshot, listings_since, report).await?;

    let (orders_cursor, orders_since) =
        cursor_since(ch, Stream::InventoryOrders, OVERLAP, Stamps::Commerce).await?;
    // A stream never read starts now: earlier orders are in the salable quantities already.
    let first_read = orders_since.is_none().then(|| ch.clock.now().minus(OVERLAP));
    let orders_from = orders_since.or(first_read).unwrap_or(Timestamp::EPOCH);
    let (urgent, orders_seen) = order_activity(ch, &mut snapshot, orders_from, deadline, report).await?;
    let orders_seen = orders_seen.max(first_read);

    match ch.settings.stock {
        StockSource::Msi { .. } => scan_sources(ch, &mut snapshot, deadline, report).await?,
        StockSource::Legacy => {
            let slot =
                u32::try_from(ch.clock.now().millis() / 300_000 % i64::from(STOCK_CHUNKS)).unwrap_or(0);
            for i in 0..LEGACY_CHUNKS_PER_RUN {
                snapshot.mark_chunk((slot * LEGACY_CHUNKS_PER_RUN + i) % STOCK_CHUNKS);
            }
        }
    }
    reconcile(ch, &mut snapshot, &in_flight, deadline, report).await?;
    process_rechecks(ch, &mut snapshot, &urgent, deadline, report).await?;
    report.add(Counter::Tracked, snapshot.tracked().len() as u64);
    snapshot.save(ch, report).await?;
    // Cursors move only once what they found is saved as marks in the snapshot.
    if let Some(seen) = listings_seen {
        advance_cursor(ch, listings_cursor, seen).await?;
    }
    if let Some(seen) = orders_seen {
        advance_cursor(ch, orders_cursor, seen).await?;
    }
    Ok(())
}

/// Listings that went live since the cursor start being followed. Returns the newest change seen.
async fn track_new_listings(
    ch: &Channel,
    snapshot: &mut Snapshot,
    since: Option<Timestamp>,
    report: &mut RunReport,
) -> Result<Option<Timestamp>, OpError> {
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
                if snapshot.track(&listing.record.sku) {
                    report.add(Counter::ListingsFollowed, 1);
                }
            }
            match next {
                Some(token) => query = query.after(Some(token)),
                None => break,
            }
        }
    }
    Ok(newest)
}

/// SKUs of Commerce orders changed since `since` are rechecked (their reservations moved). Reads by
/// keyset: each next read starts at the newest change seen, so orders changing while being read
/// never shift a page. Returns those SKUs and the newest change seen.
async fn order_activity(
    ch: &Channel,
    snapshot: &mut Snapshot,
    since: Timestamp,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(BTreeSet<Sku>, Option<Timestamp>), OpError> {
    let filter = OrderFilter::default();
    let mut from = since;
    let mut request = PageRequest::first(ORDER_PAGE);
    let mut urgent = BTreeSet::new();
    let mut newest = None;
    loop {
        if running_out(deadline) {
            report.complete = false;
            // What was read is marked; everything changed before `from` was read.
            return Ok((urgent, Some(from).filter(|f| *f > since)));
        }
        let page = ch.commerce.orders_page(from, &filter, request, deadline).await?;
        report.add(Counter::OrdersRead, page.items.len() as u64);
        let page_newest = page.items.iter().filter_map(|o| o.updated_at).max();
        for order in &page.items {
            for item in &order.items {
                if let Some(sku) = &item.sku
                    && snapshot.is_tracked(sku)
                {
                    snapshot.mark_recheck(sku);
                    urgent.insert(sku.clone());
                }
            }
        }
        newest = newest.max(page_newest);
        if !page.has_more(request) {
            report.add(Counter::OrderSkus, urgent.len() as u64);
            return Ok((urgent, newest));
        }
        match page_newest {
            Some(t) if t > from => {
                from = t;
                request = PageRequest::first(ORDER_PAGE);
            }
            _ => request = request.next(),
        }
    }
}

/// The fingerprint of a SKU's MSI source items: the in-stock quantity, less a thousandth per source
/// that is out of stock, so a source switched off counts as a change too.
fn source_fingerprint(items: &[ports::commerce::model::SourceItem]) -> f64 {
    items
        .iter()
        .map(|i| if i.in_stock { i.quantity } else { -0.001 })
        .sum()
}

/// Reads every MSI source item and marks the followed SKUs whose sources changed. A scan that cannot
/// finish before the deadline marks nothing (a partial sum would be a false change).
async fn scan_sources(
    ch: &Channel,
    snapshot: &mut Snapshot,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    if snapshot.chunks.is_empty() {
        return Ok(());
    }
    if running_out(deadline) {
        report.complete = false;
        return Ok(());
    }
    let first = ch
        .commerce
        .source_items_page(None, PageRequest::first(SOURCE_PAGE), deadline)
        .await?;
    let pages = u32::try_from(first.total_count.div_ceil(u64::from(SOURCE_PAGE))).unwrap_or(u32::MAX);
    let rest = concurrently((2..=pages).collect(), PAGES_IN_FLIGHT, |page| async move {
        ch.commerce
            .source_items_page(
                None,
                PageRequest {
                    page,
                    size: SOURCE_PAGE,
                },
                deadline,
            )
            .await
    })
    .await;
    let mut by_sku: HashMap<String, Vec<ports::commerce::model::SourceItem>> = HashMap::new();
    let mut read = u64::from(pages.min(1));
    for item in first.items {
        by_sku.entry(item.sku.clone()).or_default().push(item);
    }
    for page in rest {
        match page {
            Ok(page) => {
                read += 1;
                for item in page.items {
                    by_sku.entry(item.sku.clone()).or_default().push(item);
                }
            }
            Err(e) => {
                report.complete = false;
                report.problem(format!("source items not read to the end: {e}"));
                return Ok(());
            }
        }
    }
    report.add(Counter::SourcePages, read);
    let mut changed = 0;
    for sku in snapshot.tracked() {
        let fingerprint = by_sku
            .get(sku.as_str())
            .map_or(0.0, |items| source_fingerprint(items));
        if snapshot.observe_sources(&sku, fingerprint) {
            changed += 1;
        }
    }
    report.add(Counter::SourceChanges, changed);
    Ok(())
}

/// What a recheck found.
enum Evaluation {
    /// Not (or no longer) live on Walmart: not followed.
    NotLive,
    Unchanged,
    Changed(Box<(QuantityChange, Versioned<OfferState>)>),
}

async fn salable_of(ch: &Channel, sku: &Sku, deadline: &Deadline) -> Result<f64, OpError> {
    let answer = match ch.settings.stock {
        StockSource::Msi { stock_id } => ch.commerce.salable_quantity(sku, stock_id, deadline).await,
        StockSource::Legacy => ch
            .commerce
            .legacy_stock_item(sku, deadline)
            .await
            .map(|item| item.salable()),
    };
    match answer {
        Ok(quantity) => Ok(quantity),
        // A product gone from Commerce cannot be sold. Only an entity 404 says so: Magento's route
        // 404 (MSI disabled, unknown store code) is a configuration error and stops the run.
        Err(e) if e.kind == ApiErrorKind::NotFound => Ok(0.0),
        Err(e) => Err(e.into()),
    }
}

async fn evaluate(ch: &Channel, sku: &Sku, deadline: &Deadline) -> Result<Evaluation, OpError> {
    let listing = ch
        .store
        .load::<Listing>(&listing_key(&ch.settings.id, sku))
        .await?;
    let Some(listing) = listing.filter(|l| l.record.is_live_on_walmart()) else {
        return Ok(Evaluation::NotLive);
    };
    let read_at = ch.clock.now();
    let salable = salable_of(ch, sku, deadline).await?;
    let wanted = advertised(ch, &listing.record, salable);
    let offer = ch
        .store
        .load::<OfferState>(&offer_key(&ch.settings.id, sku))
        .await?
        .unwrap_or_else(|| Versioned::new(OfferState::new(ch.settings.id.clone(), sku.clone())));
    // A value read after ours was recorded meanwhile: it is the newer one.
    if offer
        .record
        .quantity
        .as_ref()
        .is_some_and(|q| q.read_after(read_at))
    {
        return Ok(Evaluation::Unchanged);
    }
    Ok(match offer.record.quantity_change(wanted) {
        None => Evaluation::Unchanged,
        Some(quantity) => Evaluation::Changed(Box::new((
            QuantityChange {
                sku: sku.clone(),
                quantity,
                previous: offer.record.quantity.as_ref().map(|q| q.value),
                read_at,
            },
            offer,
        ))),
    })
}

async fn evaluate_all(
    ch: &Channel,
    skus: Vec<Sku>,
    deadline: &Deadline,
) -> Vec<(Sku, Result<Evaluation, OpError>)> {
    concurrently(skus, COMMERCE_CONCURRENCY, |sku| async move {
        let span = tracing::debug_span!("recheck", sku = %sku);
        let evaluation = evaluate(ch, &sku, deadline).instrument(span).await;
        (sku, evaluation)
    })
    .await
}

/// Rechecks the marked SKUs (those touched by orders first), then sends what changed.
async fn process_rechecks(
    ch: &Channel,
    snapshot: &mut Snapshot,
    urgent: &BTreeSet<Sku>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    let marked = snapshot.rechecks();
    let mut queue: Vec<Sku> = marked.iter().filter(|s| urgent.contains(*s)).cloned().collect();
    queue.extend(marked.into_iter().filter(|s| !urgent.contains(s)));
    let mut changes = Vec::new();
    let mut offers = HashMap::new();
    for batch in queue.chunks(RECHECK_BATCH) {
        if running_out(deadline) {
            report.complete = false;
            break;
        }
        for (sku, evaluation) in evaluate_all(ch, batch.to_vec(), deadline).await {
            report.add(Counter::Rechecked, 1);
            match evaluation {
                Ok(Evaluation::NotLive) => {
                    snapshot.untrack(&sku);
                    report.add(Counter::NotLive, 1);
                }
                Ok(Evaluation::Unchanged) => {
                    snapshot.rechecked(&sku);
                    report.add(Counter::Unchanged, 1);
                }
                Ok(Evaluation::Changed(changed)) => {
                    let (change, offer) = *changed;
                    offers.insert(sku, offer);
                    changes.push(change);
                }
                // Nothing is sent when the store is misconfigured: its answers say nothing of stock.
                Err(e) if e.configuration_problem().is_some() => return Err(e),
                Err(e) if e.is_retryable() => report.problem(format!("{sku}: {e} (checked again next run)")),
                Err(e) => {
                    snapshot.rechecked(&sku);
                    report.problem(format!("{sku}: {e}"));
                }
            }
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let now = ch.clock.now();
    let singles = feeds::budget(ch, BudgetedCall::InventoryUpdate)
        .await?
        .available(now)
        .min(MAX_SINGLES_PER_RUN);
    let feed_allowed = feeds::budget(ch, BudgetedCall::InventoryFeed)
        .await?
        .available(now)
        > 0;
    let plan = plan(changes, singles, feed_allowed);
    report.add(Counter::Deferred, plan.deferred.len() as u64);
    send_singles(
        ch,
        plan.singles,
        &mut offers,
        Some(&mut *snapshot),
        deadline,
        report,
    )
    .await?;
    send_feed(ch, plan.feed, &mut offers, snapshot, deadline, report).await
}

/// Sends single updates (most urgent first), each after writing its value (versioned) so no other
/// invocation sends the same SKU meanwhile. Returns how many went out.
async fn send_singles(
    ch: &Channel,
    singles: Vec<QuantityChange>,
    offers: &mut HashMap<Sku, Versioned<OfferState>>,
    mut snapshot: Option<&mut Snapshot>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<u64, OpError> {
    if singles.is_empty() {
        return Ok(0);
    }
    let wanted = u32::try_from(singles.len()).unwrap_or(u32::MAX);
    let granted = feeds::reserve(ch, BudgetedCall::InventoryUpdate, wanted).await? as usize;
    let mut work = Vec::with_capacity(granted);
    for (i, change) in singles.into_iter().enumerate() {
        match offers.remove(&change.sku) {
            Some(offer) if i < granted => work.push((change, offer)),
            _ => report.add(Counter::Deferred, 1),
        }
    }
    let outcomes = concurrently(work, COMMERCE_CONCURRENCY, |(change, offer)| async move {
        let span = tracing::info_span!("inventory_update", sku = %change.sku);
        let outcome = send_single(ch, &change, offer, deadline).instrument(span).await;
        (change, outcome)
    })
    .await;
    let mut sent = 0;
    for (change, outcome) in outcomes {
        match outcome? {
            SingleSend::Sent => {
                sent += 1;
                if let Some(s) = snapshot.as_deref_mut() {
                    s.rechecked(&change.sku);
                }
            }
            SingleSend::Raced => report.add(Counter::Raced, 1),
            SingleSend::Failed { retry, problem } => {
                if !retry && let Some(s) = snapshot.as_deref_mut() {
                    s.rechecked(&change.sku);
                }
                report.problem(problem);
            }
        }
    }
    report.add(Counter::QuantitiesSentSingle, sent);
    Ok(sent)
}

fn quantity_slot(o: &mut OfferState) -> (&mut Option<domain::Sent<u32>>, &mut Option<ListingIssue>) {
    (&mut o.quantity, &mut o.quantity_issue)
}

async fn send_single(
    ch: &Channel,
    change: &QuantityChange,
    offer: Versioned<OfferState>,
    deadline: &Deadline,
) -> Result<SingleSend, OpError> {
    let now = ch.clock.now();
    feeds::send_single(
        ch,
        offer,
        quantity_slot,
        change.read_at,
        |o| o.quantity_sent(change.quantity, SentVia::Single, now),
        |quantity| ch.walmart.update_inventory(&change.sku, quantity, deadline),
        format!("{}: quantity {}", change.sku, change.quantity),
    )
    .await
}

/// Sends the feed part of a plan and records each value as sent in it.
async fn send_feed(
    ch: &Channel,
    changes: Vec<QuantityChange>,
    offers: &mut HashMap<Sku, Versioned<OfferState>>,
    snapshot: &mut Snapshot,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    if changes.is_empty() {
        return Ok(());
    }
    let entries: Vec<InventoryEntry> = changes
        .iter()
        .map(|c| InventoryEntry {
            sku: c.sku.clone(),
            quantity: c.quantity,
        })
        .collect();
    let files = inventory_feeds(&entries).map_err(|source| OpError::Feed {
        what: "inventory",
        source,
    })?;
    let mut changes = changes.into_iter();
    for file in files {
        let batch: Vec<QuantityChange> = changes.by_ref().take(file.skus.len()).collect();
        if running_out(deadline) || feeds::reserve(ch, BudgetedCall::InventoryFeed, 1).await? == 0 {
            report.add(Counter::Deferred, batch.len() as u64);
            continue;
        }
        let items = batch
            .iter()
            .map(|c| FeedEntry::new(c.sku.clone(), FeedValue::Quantity { quantity: c.quantity }))
            .collect();
        let feed_id = feeds::submit(ch, FeedKind::Inventory, &file.payload, items, deadline).await?;
        report.add(Counter::InventoryFeeds, 1);
        report.add(Counter::QuantitiesSentFeed, batch.len() as u64);
        let now = ch.clock.now();
        let work: Vec<(QuantityChange, Option<Versioned<OfferState>>)> = batch
            .into_iter()
            .map(|c| (c.clone(), offers.remove(&c.sku)))
            .collect();
        let recorded = concurrently(work, STORE_CONCURRENCY, |(change, offer)| {
            record_in_feed(ch, change, offer, feed_id.clone(), now)
        })
        .await;
        for result in recorded {
            snapshot.rechecked(&result?);
        }
    }
    Ok(())
}

async fn record_in_feed(
    ch: &Channel,
    change: QuantityChange,
    offer: Option<Versioned<OfferState>>,
    feed_id: FeedId,
    now: Timestamp,
) -> Result<Sku, OpError> {
    let via = SentVia::Feed { feed_id };
    let record = |o: &mut OfferState| {
        if o.quantity.as_ref().is_some_and(|q| q.read_after(change.read_at)) {
            return false;
        }
        o.quantity_sent(change.quantity, via.clone(), now);
        if let Some(q) = o.quantity.as_mut() {
            q.read_at = Some(change.read_at);
        }
        true
    };
    if let Some(mut offer) = offer
        && record(&mut offer.record)
    {
        match ch.store.save(&mut offer).await {
            Ok(()) => return Ok(change.sku),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    feeds::update_offer(ch, &change.sku, record).await?;
    Ok(change.sku)
}

// ---------------------------------------------------------------- feed results

/// Applies the results of inventory feeds Walmart finished: refused values are recorded on the
/// offer and, when Walmart's trouble was transient, sent again. Returns the feeds still in flight.
async fn poll_feeds(
    ch: &Channel,
    snapshot: &mut Snapshot,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<BTreeSet<FeedId>, OpError> {
    let mut in_flight = BTreeSet::new();
    for mut feed in feeds::unsettled(ch, FeedKind::Inventory).await? {
        let feed_id = feed.record.feed_id.clone();
        loop {
            if running_out(deadline) {
                report.complete = false;
                in_flight.insert(feed_id.clone());
                break;
            }
            match feeds::next_results(ch, &mut feed, deadline, report).await {
                Ok(None) => {
                    in_flight.insert(feed_id.clone());
                    break;
                }
                Ok(Some(results)) => {
                    for result in results.iter().filter(|r| r.outcome != ItemOutcome::Succeeded) {
                        let transient = result.outcome == ItemOutcome::Retried;
                        let issue = result
                            .issues
                            .first()
                            .cloned()
                            .unwrap_or_else(|| domain::walmart_issue("", ""));
                        let sku = &result.entry.sku;
                        let mut refused = false;
                        feeds::update_offer(ch, sku, |o| {
                            refused = o.quantity_refused(&feed_id, issue.clone(), transient);
                            refused
                        })
                        .await?;
                        if refused && transient {
                            snapshot.mark_recheck(sku);
                        }
                        report.add(
                            if transient {
                                Counter::FeedItemsRetried
                            } else {
                                Counter::FeedItemsRefused
                            },
                            1,
                        );
                    }
                    feeds::record_results(ch, &mut feed, &results).await?;
                    if feed.record.is_settled() {
                        report.add(Counter::FeedsSettled, 1);
                        break;
                    }
                }
                Err(OpError::Api(e)) => {
                    report.problem(format!("feed {feed_id}: {e}"));
                    in_flight.insert(feed_id.clone());
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(in_flight)
}

// ---------------------------------------------------------------- reconciliation

/// Reads Walmart's quantities of the next SKUs of the reconciliation pass (chunk after chunk, the
/// chunk whose last pass is oldest first) and marks for a recheck every SKU whose quantity differs
/// from what was sent, forgetting the sent value so the recheck sends the right one. Runs share the
/// pass so that it takes about [`RECONCILE_PASS`], with at most [`RECONCILE_PER_RUN`] reads a run.
/// SKUs never sent, or whose value is still in a feed in flight, are not read.
async fn reconcile(
    ch: &Channel,
    snapshot: &mut Snapshot,
    in_flight: &BTreeSet<FeedId>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    if running_out(deadline) {
        return Ok(());
    }
    let now = ch.clock.now();
    let mut pass = load_cursor(
        ch.store.as_ref(),
        &ch.settings.id,
        Stream::InventoryReconciliation,
        Timestamp::EPOCH,
    )
    .await?;
    let since_last = if pass.record.advanced_at == Timestamp::EPOCH {
        Duration::from_secs(300)
    } else {
        now.since(pass.record.advanced_at)
    };
    let tracked: usize = snapshot.chunks.values().map(|c| c.record.entries.len()).sum();
    let share = (tracked as f64 * since_last.as_secs_f64() / RECONCILE_PASS.as_secs_f64()).ceil() as u32;
    let wanted = share
        .clamp(1, RECONCILE_PER_RUN)
        .min(u32::try_from(tracked).unwrap_or(u32::MAX));
    let left = feeds::reserve(ch, BudgetedCall::InventoryRead, wanted).await? as usize;
    let slices = snapshot.reconciliation_slices(left);
    let skus: Vec<Sku> = slices.iter().flat_map(|(_, s, _)| s.iter().cloned()).collect();
    if skus.is_empty() {
        return Ok(());
    }
    let sent_values = sent_quantities(ch, skus, in_flight).await?;
    let read = concurrently(sent_values, 4, |(sku, sent)| async move {
        let on_walmart = ch.walmart.get_inventory(&sku, deadline).await;
        (sku, sent, on_walmart)
    })
    .await;
    report.add(Counter::Reconciled, read.len() as u64);
    for (sku, sent, on_walmart) in read {
        match on_walmart {
            Ok(quantity) if quantity == sent.value => {}
            Ok(quantity) => {
                tracing::info!(sku = %sku, sent = sent.value, on_walmart = quantity, "inventory drift");
                feeds::update_offer(ch, &sku, |o| {
                    if o.quantity.as_ref() != Some(&sent) {
                        return false;
                    }
                    o.quantity = None;
                    true
                })
                .await?;
                snapshot.mark_recheck(&sku);
                report.add(Counter::DriftFound, 1);
            }
            Err(e) => report.problem(format!("{sku}: Walmart quantity not read: {e}")),
        }
    }
    for (n, slice, finishes) in &slices {
        snapshot.change_chunk(*n, |c| {
            c.reconciled(slice, *finishes, now);
            true
        });
    }
    pass.record.advance(now, now);
    match ch.store.save(&mut pass).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The quantities last sent for these SKUs, but for those never sent or still in a feed in flight.
async fn sent_quantities(
    ch: &Channel,
    skus: Vec<Sku>,
    in_flight: &BTreeSet<FeedId>,
) -> Result<Vec<(Sku, domain::Sent<u32>)>, OpError> {
    let offers = concurrently(skus, STORE_CONCURRENCY, |sku| async move {
        let offer = ch
            .store
            .load::<OfferState>(&offer_key(&ch.settings.id, &sku))
            .await;
        (sku, offer)
    })
    .await;
    let mut sent_values = Vec::new();
    for (sku, offer) in offers {
        let Some(sent) = offer?.and_then(|o| o.record.quantity) else {
            continue;
        };
        let in_feed_in_flight = matches!(&sent.via, SentVia::Feed { feed_id } if in_flight.contains(feed_id));
        if !in_feed_in_flight {
            sent_values.push((sku, sent));
        }
    }
    Ok(sent_values)
}

impl Snapshot {
    /// The next SKUs of the reconciliation pass, at most `left`: chunk after chunk, the chunk whose
    /// last pass is oldest first; per chunk, its number, its SKUs and whether they finish its pass.
    fn reconciliation_slices(&self, mut left: usize) -> Vec<(u32, Vec<Sku>, bool)> {
        let mut order: Vec<(Option<Timestamp>, u32)> = self
            .chunks
            .values()
            .filter(|c| !c.record.entries.is_empty())
            .map(|c| (c.record.reconciled_at, c.record.chunk))
            .collect();
        order.sort();
        let mut slices = Vec::new();
        for (_, n) in order {
            if left == 0 {
                break;
            }
            if let Some(chunk) = self.chunks.get(&n) {
                let (slice, finishes) = chunk.record.reconciliation_slice(left);
                left -= slice.len();
                slices.push((n, slice, finishes));
            }
        }
        slices
    }

    fn change_chunk(&mut self, n: u32, f: impl FnOnce(&mut StockChunk) -> bool) {
        if let Some(chunk) = self.chunks.get_mut(&n)
            && f(&mut chunk.record)
        {
            self.dirty.insert(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sku: &str, quantity: u32, previous: Option<u32>) -> QuantityChange {
        QuantityChange {
            sku: Sku::new(sku).unwrap(),
            quantity,
            previous,
            read_at: Timestamp::EPOCH,
        }
    }

    #[test]
    fn few_changes_go_single_and_stock_outs_first() {
        let changes = vec![
            change("UP", 9, Some(3)),
            change("OUT", 0, Some(4)),
            change("NEW", 5, None),
            change("DOWN", 2, Some(6)),
        ];
        let p = plan(changes, 10, true);
        let order: Vec<&str> = p.singles.iter().map(|c| c.sku.as_str()).collect();
        assert_eq!(order, vec!["OUT", "DOWN", "NEW", "UP"]);
        assert!(p.feed.is_empty() && p.deferred.is_empty());
    }

    #[test]
    fn many_changes_go_in_a_feed_with_stock_outs_still_single() {
        let mut changes: Vec<_> = (0..50)
            .map(|n| change(&format!("S{n:02}"), n + 1, Some(100)))
            .collect();
        changes.push(change("OUT-A", 0, Some(3)));
        changes.push(change("OUT-B", 0, None));
        let p = plan(changes, 10, true);
        assert_eq!(p.singles.len(), 2);
        assert!(p.singles.iter().all(|c| c.quantity == 0));
        assert_eq!(p.feed.len(), 50);
        let no_feed = plan(p.feed.clone(), 10, false);
        assert_eq!((no_feed.singles.len(), no_feed.deferred.len()), (10, 40));
        assert!(plan(Vec::new(), 0, false) == InventoryPlan::default());
    }

    #[test]
    fn urgent_messages_are_the_documented_json() {
        let m: UrgentSkus = serde_json::from_str(r#"{"skus": ["A", "B"]}"#).unwrap();
        assert_eq!(m.skus.len(), 2);
        assert!(serde_json::from_str::<UrgentSkus>(r#"{"skus": [""]}"#).is_err());
        assert!(serde_json::from_str::<UrgentSkus>(r#"{"sku": "A"}"#).is_err());
    }

    #[test]
    fn fingerprints_change_when_a_source_goes_out_of_stock() {
        let item = |q: f64, status: i64| ports::commerce::model::SourceItem {
            sku: "A".into(),
            source_code: "default".into(),
            quantity: q,
            in_stock: status == 1,
        };
        assert_eq!(source_fingerprint(&[item(3.0, 1), item(2.0, 1)]), 5.0);
        assert_ne!(
            source_fingerprint(&[item(3.0, 1), item(0.0, 1)]),
            source_fingerprint(&[item(3.0, 1), item(0.0, 0)])
        );
    }
}
