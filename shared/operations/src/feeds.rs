//! What listing-match, inventory-sync and price-sync share: call budgets kept in the state store
//! (every Lambda instance has its own client buckets, so the plan must be shared), feed submission
//! with the items stored for the dashboard, polling of feed results page by page, a mutex lease, and
//! a little concurrency plumbing.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use domain::{
    BudgetedCall, CallBudget, FeedChunk, FeedEntry, FeedId, FeedKind, FeedRecord, FeedStatus, ItemOutcome,
    ListingIssue, OfferState, Sent, Sku, Stream, Timestamp, Wpid, walmart_issue,
};
use futures::{StreamExt, stream};
use ports::records::{budget_key, channel_pk, feed_chunk_key, feed_status_pk, load_cursor, offer_key};
use ports::walmart::{FeedItemResult, FeedStatusPage, FeedType, IngestionStatus, SkippedRecord};
use ports::{
    ApiError, Claim, ClaimTerms, ClaimToken, Deadline, Expect, IdempotencyKey, Item, Key, Query, Records,
    StoreError, Versioned,
};
use tracing::Instrument;

use crate::order_support::caused_by_request;
use crate::{Channel, Counter, OpError, RunReport, SKIPPED_WALMART_RECORDS, UNKNOWN_WALMART_VALUES};

/// State-store calls in flight at once when one run touches many records.
pub(crate) const STORE_CONCURRENCY: usize = 16;

/// Commerce calls in flight at once (Commerce publishes no rate limit; a handful keeps a store's
/// PHP workers from queueing).
pub(crate) const COMMERCE_CONCURRENCY: usize = 8;

/// Item details asked for per feed status call (the maximum of Walmart's newer docs; the client
/// falls back to the spec's 50 for the process when Walmart refuses it).
pub(crate) const DETAILS_PAGE: u32 = 1000;

/// Run report count: feed status calls that fell back to the spec's details page.
pub const FEED_DETAILS_PAGE_FALLBACKS: Counter = Counter::FeedDetailsPageFallbacks;

/// Time kept back at the end of a run to save what it did.
pub(crate) const SAVE_MARGIN: Duration = Duration::from_secs(5);

/// Whether a run should stop starting new work.
pub(crate) fn running_out(deadline: &Deadline) -> bool {
    deadline.remaining() <= SAVE_MARGIN
}

/// Runs `f` over `items`, `limit` at a time, and collects the results in completion order.
pub(crate) async fn concurrently<T, R, F, Fut>(items: Vec<T>, limit: usize, f: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    stream::iter(items)
        .map(f)
        .buffer_unordered(limit.max(1))
        .collect()
        .await
}

pub(crate) fn feed_type(kind: FeedKind) -> FeedType {
    match kind {
        FeedKind::ItemMatch => FeedType::ItemMatch,
        FeedKind::Inventory => FeedType::Inventory,
        FeedKind::Price => FeedType::Price,
    }
}

pub(crate) fn feed_budget(kind: FeedKind) -> BudgetedCall {
    match kind {
        FeedKind::ItemMatch => BudgetedCall::ItemMatchFeed,
        FeedKind::Inventory => BudgetedCall::InventoryFeed,
        FeedKind::Price => BudgetedCall::PriceFeed,
    }
}

// ---------------------------------------------------------------- budgets

/// The channel's ledger of `call`, as stored (or a fresh one).
pub(crate) async fn budget(ch: &Channel, call: BudgetedCall) -> Result<CallBudget, OpError> {
    Ok(ch
        .store
        .load::<CallBudget>(&budget_key(&ch.settings.id, call))
        .await?
        .map_or_else(|| CallBudget::new(ch.settings.id.clone(), call), |v| v.record))
}

/// Reserves up to `wanted` calls of `call` in the channel's shared ledger; returns how many were
/// granted (0 when the window is used up). Call only what was granted.
pub(crate) async fn reserve(ch: &Channel, call: BudgetedCall, wanted: u32) -> Result<u32, OpError> {
    if wanted == 0 {
        return Ok(0);
    }
    let key = budget_key(&ch.settings.id, call);
    // Contention is a handful of concurrent invocations at most.
    for _ in 0..16 {
        let now = ch.clock.now();
        match ch.store.load::<CallBudget>(&key).await? {
            None => {
                let mut fresh = CallBudget::new(ch.settings.id.clone(), call);
                let granted = fresh.reserve(wanted, now);
                if ch.store.insert_new(&fresh).await? {
                    return Ok(granted);
                }
            }
            Some(mut current) => {
                let granted = current.record.reserve(wanted, now);
                if granted == 0 {
                    return Ok(0);
                }
                match ch.store.save(&mut current).await {
                    Ok(()) => return Ok(granted),
                    Err(StoreError::ConditionFailed { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(OpError::Busy(format!("the {} budget", call.as_str())))
}

// ---------------------------------------------------------------- offers

/// Records a price Walmart was given outside price-sync (the match feed of a new listing).
pub async fn record_price(
    ch: &Channel,
    sku: &Sku,
    price: domain::Money,
    via: domain::SentVia,
) -> Result<(), OpError> {
    let now = ch.clock.now();
    update_offer(ch, sku, |offer| {
        offer.price_sent(price, via.clone(), now);
        true
    })
    .await?;
    Ok(())
}

/// Reads, changes and writes a SKU's offer state (a fresh one when none is stored), retrying lost
/// races. `change` returns false to write nothing. Returns the state as written (or as read).
pub(crate) async fn update_offer<F>(ch: &Channel, sku: &Sku, mut change: F) -> Result<OfferState, OpError>
where
    F: FnMut(&mut OfferState) -> bool + Send,
{
    let key = offer_key(&ch.settings.id, sku);
    for _ in 0..8 {
        let mut current = ch
            .store
            .load::<OfferState>(&key)
            .await?
            .unwrap_or_else(|| Versioned::new(OfferState::new(ch.settings.id.clone(), sku.clone())));
        if !change(&mut current.record) {
            return Ok(current.record);
        }
        match ch.store.save(&mut current).await {
            Ok(()) => return Ok(current.record),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::Busy(format!("the offer of {sku}")))
}

/// What became of one value sent to Walmart in a single call.
pub(crate) enum SingleSend {
    Sent,
    /// Another invocation changed the offer first; the next run looks again.
    Raced,
    Failed {
        retry: bool,
        problem: String,
    },
}

/// The value of an offer a single call sends: its last-sent slot and its issue slot.
pub(crate) type OfferSlot<T> = fn(&mut OfferState) -> (&mut Option<Sent<T>>, &mut Option<ListingIssue>);

/// Sends one value (a quantity or a price) in a single call, written ahead: `record_sent` marks it
/// sent in the offer (with `read_at`, when Commerce's value was read, and unconfirmed), which is
/// saved with its version before the call runs, so a concurrent run or a redelivery never sends the
/// same value twice and a value read earlier never replaces one read later.
///
/// Two invocations' calls can still reach Walmart in either order (a slow answer, a retry after a
/// lost one). So after its call succeeds, the sender looks again: when the offer still holds its
/// value, it is confirmed (unless it replaced another unconfirmed value, whose call may still land:
/// then it stays unconfirmed and the next evaluation sends it again); when someone wrote since,
/// the sender sends that newer value again, so whichever call lands last carries the newest value.
///
/// On failure the write-ahead is undone unless someone moved on since (the value before stays
/// unconfirmed: the failed call may have landed); Walmart's refusal of the value itself keeps it,
/// so the same refused value is not sent every run. Either way the offer carries Walmart's reason.
/// `what` names the value in the problem.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_single<T, C, F>(
    ch: &Channel,
    mut offer: Versioned<OfferState>,
    slot: OfferSlot<T>,
    read_at: Timestamp,
    record_sent: impl Fn(&mut OfferState),
    call: C,
    what: String,
) -> Result<SingleSend, OpError>
where
    T: Clone + PartialEq + Send + Sync,
    C: Fn(T) -> F,
    F: Future<Output = Result<(), ApiError>>,
{
    let sku = offer.record.sku.clone();
    let key = offer_key(&ch.settings.id, &sku);
    let mut races = 0;
    let (before, written) = loop {
        let before = slot(&mut offer.record).0.clone();
        if before.as_ref().is_some_and(|b| b.read_after(read_at)) {
            return Ok(SingleSend::Raced);
        }
        record_sent(&mut offer.record);
        if let Some(sent) = slot(&mut offer.record).0.as_mut() {
            sent.read_at = Some(read_at);
            sent.unconfirmed = true;
        }
        let written = slot(&mut offer.record).0.clone();
        match ch.store.save(&mut offer).await {
            Ok(()) => break (before, written),
            // Someone wrote first: ours still goes if theirs was read earlier.
            Err(StoreError::ConditionFailed { .. }) if races < 4 => {
                races += 1;
                offer =
                    ch.store.load::<OfferState>(&key).await?.unwrap_or_else(|| {
                        Versioned::new(OfferState::new(ch.settings.id.clone(), sku.clone()))
                    });
            }
            Err(StoreError::ConditionFailed { .. }) => return Ok(SingleSend::Raced),
            Err(e) => return Err(e.into()),
        }
    };
    let Some(value) = written.as_ref().map(|w| w.value.clone()) else {
        return Ok(SingleSend::Raced);
    };
    match call(value).await {
        Ok(()) => {
            let contested = before.as_ref().is_some_and(|b| b.unconfirmed);
            confirm(ch, &sku, slot, written, contested, &call).await?;
            Ok(SingleSend::Sent)
        }
        Err(e) => {
            // Only a refusal of the value itself repeats when the same value is sent again: it is
            // kept (not sent every run). Anything else (a timeout, a 5xx, credentials Walmart
            // rejected) says nothing about the value, which then does not count as sent.
            let retry = !caused_by_request(&e);
            let issue = ListingIssue::new(
                format!("CM_WALMART_{}", e.kind.as_str().to_uppercase()),
                e.message.clone(),
            );
            update_offer(ch, &sku, |o| {
                let (value, issue_slot) = slot(o);
                if *value != written {
                    return false;
                }
                if retry {
                    // The failed call may have landed: what was there before is not known to hold.
                    *value = before.clone().map(|mut b| {
                        b.unconfirmed = true;
                        b
                    });
                } else if let Some(v) = value.as_mut() {
                    v.unconfirmed = false;
                }
                *issue_slot = Some(issue.clone());
                true
            })
            .await?;
            Ok(SingleSend::Failed {
                retry,
                problem: format!("{what} not sent: {e}"),
            })
        }
    }
}

/// After a successful single call of `written`: confirms it if the offer still holds it, or sends
/// the value written since again (a few rounds; what is left stays unconfirmed for the next run).
async fn confirm<T, C, F>(
    ch: &Channel,
    sku: &Sku,
    slot: OfferSlot<T>,
    written: Option<Sent<T>>,
    contested: bool,
    call: &C,
) -> Result<(), OpError>
where
    T: Clone + PartialEq + Send + Sync,
    C: Fn(T) -> F,
    F: Future<Output = Result<(), ApiError>>,
{
    let mut last_sent = written;
    for round in 0..3 {
        let mut newer = None;
        update_offer(ch, sku, |o| {
            let current = slot(o).0;
            if *current == last_sent {
                if round == 0
                    && !contested
                    && let Some(c) = current.as_mut()
                {
                    c.unconfirmed = false;
                    return true;
                }
                return false;
            }
            newer = current.clone();
            false
        })
        .await?;
        let Some(newer) = newer else {
            return Ok(());
        };
        let value = newer.value.clone();
        last_sent = Some(newer);
        if let Err(e) = call(value).await {
            tracing::info!(sku = %sku, error = %e, "a newer value written meanwhile was not sent again");
            return Ok(());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- leases

/// A mutex over one piece of work of the channel (e.g. "build the next match feed"), on the
/// idempotency records: held until released, or until the holder's lease runs out if it crashed.
pub(crate) struct Lease {
    key: IdempotencyKey,
    token: ClaimToken,
}

impl Lease {
    /// Takes the lease, or `None` when another invocation holds it.
    pub(crate) async fn take(
        ch: &Channel,
        operation: &str,
        what: &str,
        deadline: &Deadline,
    ) -> Result<Option<Lease>, OpError> {
        let key = IdempotencyKey::new(operation, &ch.settings.id, what);
        let now = ch.clock.now();
        // The lease is kept in the clock's time; the deadline is real time.
        let lease = ch
            .clock
            .elapsed_during(deadline.remaining())
            .min(Duration::from_secs(15 * 60));
        let terms = ClaimTerms {
            now,
            in_progress_until: now.plus(lease),
            expires_at: now.plus(lease),
        };
        match ch.store.claim(&key, terms).await? {
            Claim::Acquired(token) => Ok(Some(Lease { key, token })),
            // Nobody completes these leases; a completed record expires with its lease like a
            // held one.
            Claim::InProgress { .. } | Claim::Completed(_) => Ok(None),
        }
    }

    pub(crate) async fn release(self, ch: &Channel) -> Result<(), OpError> {
        match ch.store.release(&self.key, &self.token).await {
            // The run outlived its lease and another took the work: nothing of ours to give back.
            Err(StoreError::ClaimLost { key }) => {
                tracing::warn!(%key, "lease ran out before its run ended; another run holds it now");
                Ok(())
            }
            other => Ok(other?),
        }
    }
}

// ---------------------------------------------------------------- cursors

/// A change committed late, with a time earlier than changes already read, shows up within this
/// long; a stream's newest change read that long ago needs no re-reading.
pub(crate) const SETTLE: Duration = Duration::from_secs(600);

/// How a stream stamps its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamps {
    /// Commerce's `updated_at`: whole seconds, Commerce's clock, searched with "at or after".
    Commerce,
    /// Our own record times (listing status changes): milliseconds, our clock.
    Ours,
}

/// Where to read a stream from: the newest change seen, less an overlap for changes committed late
/// with an earlier time, until that newest change has settled (then just after it, so a quiet
/// stream is not re-read run after run). `None` for a stream never read.
pub(crate) async fn cursor_since(
    ch: &Channel,
    stream: Stream,
    overlap: Duration,
    stamps: Stamps,
) -> Result<(Versioned<domain::SyncCursor>, Option<Timestamp>), OpError> {
    let cursor = load_cursor(ch.store.as_ref(), &ch.settings.id, stream, Timestamp::EPOCH).await?;
    let seen = cursor.record.seen_until;
    if seen == Timestamp::EPOCH {
        return Ok((cursor, None));
    }
    // `advanced_at` is when `seen` was reached: the cursor is saved only when it moves.
    let settled = ch.clock.now().since(cursor.record.advanced_at) >= SETTLE;
    let since = match (settled, stamps) {
        (false, _) => seen.minus(overlap),
        (true, Stamps::Commerce) => seen.plus(Duration::from_secs(1)),
        (true, Stamps::Ours) => seen.plus(Duration::from_millis(1)),
    };
    Ok((cursor, Some(since)))
}

/// Moves a cursor forward and saves it; a cursor that would not move is left as it is (so its
/// `advanced_at` says when its newest change was first seen). A lost race with another run is
/// harmless (both read the same stream) and is left to the next run.
pub(crate) async fn advance_cursor(
    ch: &Channel,
    mut cursor: Versioned<domain::SyncCursor>,
    seen_until: Timestamp,
) -> Result<(), OpError> {
    if seen_until <= cursor.record.seen_until {
        return Ok(());
    }
    cursor.record.advance(seen_until, ch.clock.now());
    match ch.store.save(&mut cursor).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- feeds

/// Records a value sent in a feed on its offer (`record_sent`, with when it was read), unless a
/// value read later is recorded there already. The offer as read before the feed went is tried
/// first; on a race it is read again.
pub(crate) async fn record_in_feed<T>(
    ch: &Channel,
    offer: Option<Versioned<OfferState>>,
    sku: &Sku,
    slot: OfferSlot<T>,
    read_at: Timestamp,
    record_sent: impl Fn(&mut OfferState) + Send + Sync,
) -> Result<(), OpError> {
    let record = |o: &mut OfferState| {
        if slot(o).0.as_ref().is_some_and(|v| v.read_after(read_at)) {
            return false;
        }
        record_sent(o);
        if let Some(sent) = slot(o).0.as_mut() {
            sent.read_at = Some(read_at);
        }
        true
    };
    if let Some(mut offer) = offer
        && record(&mut offer.record)
    {
        match ch.store.save(&mut offer).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    update_offer(ch, sku, record).await?;
    Ok(())
}

/// A change of one offer value bound for a feed: the entry the feed records for it.
pub(crate) trait FeedChange {
    fn feed_entry(&self) -> FeedEntry;
}

/// Sends changes in feed files (as `walmart_client::feeds` cut them to Walmart's limits), one
/// budget grant each: [`next`](Self::next) submits the next file the budget and the deadline allow
/// and gives its id and changes to record as sent in it; the changes of files that could not go
/// wait for a later run ([`waiting`](Self::waiting)).
pub(crate) struct FeedSender<C> {
    kind: FeedKind,
    budget: BudgetedCall,
    files: std::vec::IntoIter<walmart_client::feeds::Feed>,
    changes: std::vec::IntoIter<C>,
    waiting: u64,
}

impl<C: FeedChange> FeedSender<C> {
    /// `files` holds the changes in order, each file as many as its SKUs.
    pub(crate) fn new(
        kind: FeedKind,
        budget: BudgetedCall,
        files: Vec<walmart_client::feeds::Feed>,
        changes: Vec<C>,
    ) -> Self {
        Self {
            kind,
            budget,
            files: files.into_iter(),
            changes: changes.into_iter(),
            waiting: 0,
        }
    }

    /// Submits the next file that may go; `None` when none is left.
    pub(crate) async fn next(
        &mut self,
        ch: &Channel,
        deadline: &Deadline,
    ) -> Result<Option<(FeedId, Vec<C>)>, OpError> {
        for file in self.files.by_ref() {
            let batch: Vec<C> = self.changes.by_ref().take(file.skus.len()).collect();
            if running_out(deadline) || reserve(ch, self.budget, 1).await? == 0 {
                self.waiting += batch.len() as u64;
                continue;
            }
            let entries = batch.iter().map(FeedChange::feed_entry).collect();
            let feed_id = submit(ch, self.kind, &file.payload, entries, deadline).await?;
            return Ok(Some((feed_id, batch)));
        }
        Ok(None)
    }

    /// How many changes wait for a later run (no budget or no time left for their file).
    pub(crate) fn waiting(&self) -> u64 {
        self.waiting
    }
}

/// Submits a feed file and stores its record and items (the record last: a pending record always
/// has its items). Returns the feed id.
pub(crate) async fn submit(
    ch: &Channel,
    kind: FeedKind,
    payload: &serde_json::Value,
    entries: Vec<FeedEntry>,
    deadline: &Deadline,
) -> Result<FeedId, OpError> {
    let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    let started = ch.clock.now();
    // Match feeds: written before the feed goes out and removed once its listings are marked
    // (`forget_submission`), so an invocation that dies in between leaves it, and the next one adopts
    // the feed (`adopt_lost_submission`) instead of sending the same listings again. Quantity and
    // price feeds carry values sent again harmlessly, so they keep none.
    let (mut intent, entries) = if kind == FeedKind::ItemMatch {
        let intent = SubmissionIntent {
            started,
            count,
            feed_id: None,
            entries,
        };
        (Some(intent), Vec::new())
    } else {
        (None, entries)
    };
    if let Some(intent) = &intent {
        save_intent(ch, kind, intent).await?;
    }
    let feed_id = match ch.walmart.submit_feed(feed_type(kind), payload, deadline).await {
        Ok(feed_id) => feed_id,
        Err(e) if !e.is_retryable() => return Err(e.into()),
        // Ambiguous (timeout, 5xx, lost answer): the feed may have arrived. Walmart's feed list
        // says; it is never submitted twice on a guess.
        Err(e) => match arrived_feed(ch, kind, count, started, deadline).await? {
            Some(feed_id) => {
                tracing::info!(feed_id = %feed_id, error = %e, "feed's answer was lost, but Walmart lists it");
                feed_id
            }
            None => return Err(e.into()),
        },
    };
    tracing::info!(feed_id = %feed_id, kind = kind.as_str(), items = count, "feed submitted");
    let entries = match intent.take() {
        Some(mut intent) => {
            intent.feed_id = Some(feed_id.clone());
            save_intent(ch, kind, &intent).await?;
            intent.entries
        }
        None => entries,
    };
    let record = FeedRecord::submitted(
        ch.settings.id.clone(),
        feed_id.clone(),
        kind,
        count,
        ch.clock.now(),
    );
    let chunks = FeedChunk::split(&ch.settings.id, &feed_id, entries);
    ch.store.save_all(&chunks).await?;
    ch.store.save_all(std::slice::from_ref(&record)).await?;
    Ok(feed_id)
}

/// What a submission is about to send, kept until its feed is recorded.
#[derive(serde::Serialize, serde::Deserialize)]
struct SubmissionIntent {
    started: Timestamp,
    count: u32,
    /// Walmart's id, once its answer arrived.
    feed_id: Option<FeedId>,
    entries: Vec<FeedEntry>,
}

async fn save_intent(ch: &Channel, kind: FeedKind, intent: &SubmissionIntent) -> Result<(), OpError> {
    let body = serde_json::to_value(intent).map_err(|source| OpError::Encoding {
        what: "a feed submission intent",
        source,
    })?;
    ch.store
        .put(
            Item {
                key: submission_intent_key(ch, kind),
                index: None,
                expires_at: None,
                body,
            },
            Expect::Any,
        )
        .await?;
    Ok(())
}

fn submission_intent_key(ch: &Channel, kind: FeedKind) -> Key {
    Key::new(channel_pk(&ch.settings.id, "FEED_INTENT"), kind.as_str())
}

/// A match feed an earlier invocation sent and died before finishing with: when Walmart lists it,
/// it is recorded (if it is not yet) as [`submit`] would have, and its id and SKUs are returned for
/// the caller to mark as sent before [`forget_submission`]; when Walmart never got it, it is
/// forgotten. Call it under the lease that builds match feeds.
pub(crate) async fn adopt_lost_submission(
    ch: &Channel,
    kind: FeedKind,
    deadline: &Deadline,
) -> Result<Option<(FeedId, Vec<Sku>)>, OpError> {
    let key = submission_intent_key(ch, kind);
    let Some(stored) = ch.store.get(&key).await? else {
        return Ok(None);
    };
    let intent: SubmissionIntent =
        serde_json::from_value(stored.item.body).map_err(|source| OpError::Unreadable {
            what: "a feed submission intent",
            source,
        })?;
    // Walmart's answer recorded in the intent, or (lost with the invocation) the feed Walmart lists
    // that nothing recorded.
    let sent = match intent.feed_id.clone() {
        Some(feed_id) => Some(feed_id),
        None => arrived_feed(ch, kind, intent.count, intent.started, deadline).await?,
    };
    let Some(feed_id) = sent else {
        forget_submission(ch, kind).await?;
        return Ok(None);
    };
    tracing::warn!(feed_id = %feed_id, kind = kind.as_str(), "a feed sent by an invocation that died before finishing is adopted");
    let skus = intent.entries.iter().map(|e| e.sku.clone()).collect();
    let recorded = ch
        .store
        .load::<FeedRecord>(&ports::records::feed_key(&ch.settings.id, &feed_id))
        .await?
        .is_some();
    if !recorded {
        let record = FeedRecord::submitted(
            ch.settings.id.clone(),
            feed_id.clone(),
            kind,
            intent.count,
            intent.started,
        );
        let chunks = FeedChunk::split(&ch.settings.id, &feed_id, intent.entries);
        ch.store.save_all(&chunks).await?;
        ch.store.save_all(std::slice::from_ref(&record)).await?;
    }
    Ok(Some((feed_id, skus)))
}

/// The results already recorded for `skus` in a feed's chunks: what an adopted feed's poll applied
/// (or passed by, for listings its dead sender never marked) before the adoption.
pub(crate) async fn recorded_results(
    ch: &Channel,
    feed_id: &FeedId,
    skus: &[Sku],
) -> Result<Vec<ItemResult>, OpError> {
    let mut results = Vec::new();
    let mut index = 0;
    while let Some(chunk) = load_chunk(ch, feed_id, index).await? {
        let first = index.saturating_mul(u32::try_from(domain::FEED_CHUNK_ITEMS).unwrap_or(u32::MAX));
        for (at, entry) in chunk.record.entries.iter().enumerate() {
            let Some(outcome) = entry.outcome else {
                continue;
            };
            if !skus.contains(&entry.sku) {
                continue;
            }
            results.push(ItemResult {
                position: first.saturating_add(u32::try_from(at).unwrap_or(u32::MAX)),
                entry: entry.clone(),
                outcome,
                wpid: entry.wpid.clone(),
                issues: entry.issues.clone(),
            });
        }
        index += 1;
    }
    Ok(results)
}

/// The submission of a `kind` feed is finished with (its items marked as sent).
pub(crate) async fn forget_submission(ch: &Channel, kind: FeedKind) -> Result<(), OpError> {
    ch.store
        .delete(&submission_intent_key(ch, kind), Expect::Any)
        .await?;
    Ok(())
}

/// How far Walmart's `feedDate` may lie before our clock's submission time (clock skew).
const FEED_DATE_SKEW: Duration = Duration::from_secs(5 * 60);

/// A feed of `kind` with `count` items that Walmart lists as submitted since `started` and the
/// channel has not recorded: the submission whose answer was lost.
async fn arrived_feed(
    ch: &Channel,
    kind: FeedKind,
    count: u32,
    started: Timestamp,
    deadline: &Deadline,
) -> Result<Option<FeedId>, OpError> {
    let wanted_type = feed_type(kind).as_str();
    let since = started.minus(FEED_DATE_SKEW);
    for feed in ch.walmart.recent_feeds(deadline).await? {
        let fits = feed.feed_type == wanted_type
            && feed.submitted_at.is_some_and(|at| at >= since)
            && (feed.items_received == 0 || feed.items_received == count);
        if fits
            && ch
                .store
                .load::<FeedRecord>(&ports::records::feed_key(&ch.settings.id, &feed.feed_id))
                .await?
                .is_none()
        {
            return Ok(Some(feed.feed_id));
        }
    }
    Ok(None)
}

/// The channel's feeds of `kind` whose results are not all applied yet, oldest first.
pub(crate) async fn unsettled(ch: &Channel, kind: FeedKind) -> Result<Vec<Versioned<FeedRecord>>, OpError> {
    let mut feeds = Vec::new();
    let mut query = Query::status_index(feed_status_pk(&ch.settings.id, false)).limit(100);
    loop {
        let (page, next) = ch.store.query_records::<FeedRecord>(&query).await?;
        feeds.extend(page.into_iter().filter(|f| f.record.kind == kind));
        match next {
            Some(token) => query = query.after(Some(token)),
            None => return Ok(feeds),
        }
    }
}

/// One feed item's outcome, with what was sent.
#[derive(Debug, Clone)]
pub(crate) struct ItemResult {
    pub position: u32,
    pub entry: FeedEntry,
    pub outcome: ItemOutcome,
    pub wpid: Option<Wpid>,
    pub issues: Vec<ListingIssue>,
}

/// An item's outcome and what to tell the merchant about it.
fn outcome_of(item: &FeedItemResult) -> (ItemOutcome, Vec<ListingIssue>) {
    let outcome = match &item.status {
        IngestionStatus::Success => ItemOutcome::Succeeded,
        IngestionStatus::DataError => ItemOutcome::Rejected,
        // Walmart's own trouble, or an item still in progress in a finished feed: send it again.
        IngestionStatus::SystemError | IngestionStatus::TimeoutError | IngestionStatus::InProgress => {
            ItemOutcome::Retried
        }
        // A status Walmart added since: this item alone goes to Error, saying what Walmart sent.
        IngestionStatus::Other(raw) => {
            let mut issues = explained(&item.issues);
            issues.push(ListingIssue::new(
                domain::ISSUE_WALMART_UNREADABLE,
                format!(
                    "Walmart reported the item with status {raw:?}, which the channel does not know; \
                     check the item in Seller Center."
                ),
            ));
            return (ItemOutcome::Rejected, issues);
        }
    };
    (outcome, explained(&item.issues))
}

fn explained(issues: &[ListingIssue]) -> Vec<ListingIssue> {
    issues
        .iter()
        .map(|i| walmart_issue(&i.code, &i.message))
        .collect()
}

async fn load_chunk(
    ch: &Channel,
    feed_id: &FeedId,
    index: u32,
) -> Result<Option<Versioned<FeedChunk>>, OpError> {
    Ok(ch
        .store
        .load::<FeedChunk>(&feed_chunk_key(&ch.settings.id, feed_id, index))
        .await?)
}

/// One polling step: the feed's status and, once Walmart is done with it, the next page of item
/// results (`None` while Walmart is still processing). Results carry what was sent for each item.
pub(crate) async fn next_results(
    ch: &Channel,
    feed: &mut Versioned<FeedRecord>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<Option<Vec<ItemResult>>, OpError> {
    let offset = feed.record.results_applied;
    let page = ch
        .walmart
        .feed_status(&feed.record.feed_id, offset, DETAILS_PAGE, deadline)
        .await?;
    if page.details_page_fell_back {
        report.add(FEED_DETAILS_PAGE_FALLBACKS, 1);
    }
    let record = &mut feed.record;
    report_unusual(&record.feed_id, &page, report);
    record.status = page.status.clone();
    record.checked_at = Some(ch.clock.now());
    record.items_succeeded = page.items_succeeded;
    record.items_failed = page.items_failed;
    record.feed_errors = explained(&page.feed_errors);
    if !page.status.is_done() {
        match ch.store.save(feed).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        return Ok(None);
    }
    // Walmart's positions, or ours when an item has none; past the items Walmart reports, every
    // remaining item shares the feed's fate (a feed in ERROR reports no items).
    let mut by_position: Vec<(u32, &FeedItemResult)> = page
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.index.unwrap_or(offset + i as u32), item))
        .filter(|(position, _)| *position >= offset && *position < record.item_count)
        .collect();
    by_position.sort_by_key(|(p, _)| *p);
    // Item details Walmart sent but that could not be read stand at their place in the page.
    let unreadable = &page.skipped;
    let last_unreadable = unreadable.iter().map(|s| offset + s.index).max();
    let covered_to = match (by_position.last().map(|(p, _)| *p), last_unreadable) {
        (None, None) => record.item_count,
        (reported, unread) => reported
            .max(unread)
            .map_or(offset, |p| p + 1)
            .min(record.item_count),
    };
    let mut results = Vec::new();
    let (first_chunk, _) = FeedChunk::locate(offset);
    let (last_chunk, _) = FeedChunk::locate(covered_to.saturating_sub(1).max(offset));
    let mut reported = by_position.into_iter().peekable();
    for index in first_chunk..=last_chunk {
        let Some(chunk) = load_chunk(ch, &record.feed_id, index).await? else {
            tracing::warn!(feed_id = %record.feed_id, chunk = index, "feed items missing; results skipped");
            continue;
        };
        for (i, entry) in chunk.record.entries.into_iter().enumerate() {
            let position = index * domain::FEED_CHUNK_ITEMS as u32 + i as u32;
            if position < offset || position >= covered_to {
                continue;
            }
            while reported.peek().is_some_and(|(p, _)| *p < position) {
                reported.next();
            }
            let walmart_result = reported
                .peek()
                .filter(|(p, _)| *p == position)
                .map(|(_, item)| *item);
            let unread = unreadable.iter().find(|s| offset + s.index == position);
            let result = result_at(position, entry, walmart_result, unread, &record.feed_errors);
            results.push(result);
        }
    }
    Ok(Some(results))
}

/// Counts and names, for the operator, what of a status page the channel could not use: statuses
/// it does not know and item details that could not be read.
fn report_unusual(feed_id: &FeedId, page: &FeedStatusPage, report: &mut RunReport) {
    if let FeedStatus::Other(raw) = &page.status {
        report.add(UNKNOWN_WALMART_VALUES, 1);
        report.problem(format!(
            "feed {feed_id}: Walmart reports status {raw:?}, which the channel does not know; polled again later"
        ));
    }
    for item in &page.items {
        if let IngestionStatus::Other(raw) = &item.status {
            report.add(UNKNOWN_WALMART_VALUES, 1);
            report.problem(format!(
                "feed {feed_id} item {}: ingestion status {raw:?} is not one the channel knows",
                item.sku.as_ref().map_or("?", |s| s.as_str())
            ));
        }
    }
    for skipped in &page.skipped {
        report.add(SKIPPED_WALMART_RECORDS, 1);
        report.problem(format!("feed {feed_id} item details: {skipped}"));
    }
}

/// The result of the item sent at `position`: Walmart's own, or the item goes to Error when its
/// result could not be read (`unread`) or the whole feed failed (`feed_errors`), or it is sent
/// again when Walmart reported nothing for it.
fn result_at(
    position: u32,
    entry: FeedEntry,
    walmart_result: Option<&FeedItemResult>,
    unread: Option<&SkippedRecord>,
    feed_errors: &[ListingIssue],
) -> ItemResult {
    if let Some(item) = walmart_result {
        let (outcome, issues) = outcome_of(item);
        return ItemResult {
            position,
            entry,
            outcome,
            wpid: item.wpid.clone(),
            issues,
        };
    }
    let (outcome, issues) = if let Some(skipped) = unread {
        (
            ItemOutcome::Rejected,
            vec![ListingIssue::new(
                domain::ISSUE_WALMART_UNREADABLE,
                format!(
                    "Walmart's result for the item could not be read: {}",
                    skipped.reason
                ),
            )],
        )
    } else if !feed_errors.is_empty() {
        (ItemOutcome::Rejected, feed_errors.to_vec())
    } else {
        (
            ItemOutcome::Retried,
            vec![ListingIssue::new(
                domain::ISSUE_WALMART_RETRY,
                "Walmart reported no result for the item; it is sent again.",
            )],
        )
    };
    ItemResult {
        position,
        entry,
        outcome,
        wpid: None,
        issues,
    }
}

/// Stores the outcomes of `results` with the feed's items and moves the feed past them; the feed
/// is settled once every item has its result.
pub(crate) async fn record_results(
    ch: &Channel,
    feed: &mut Versioned<FeedRecord>,
    results: &[ItemResult],
) -> Result<(), OpError> {
    let feed_id = feed.record.feed_id.clone();
    let mut touched: Vec<FeedChunk> = Vec::new();
    for result in results {
        let (index, at) = FeedChunk::locate(result.position);
        if touched.last().is_none_or(|c| c.index != index) {
            match load_chunk(ch, &feed_id, index).await? {
                Some(chunk) => touched.push(chunk.record),
                None => continue,
            }
        }
        if let Some(entry) = touched.last_mut().and_then(|c| c.entries.get_mut(at)) {
            entry.outcome = Some(result.outcome);
            entry.wpid = result.wpid.clone();
            entry.issues = result.issues.clone();
        }
    }
    ch.store.save_all(&touched).await?;
    let done_to = results
        .iter()
        .map(|r| r.position + 1)
        .max()
        .unwrap_or(feed.record.item_count);
    feed.record.results_applied = feed.record.results_applied.max(done_to);
    if feed.record.results_applied >= feed.record.item_count {
        feed.record.settle(ch.clock.now());
        tracing::info!(
            feed_id = %feed_id,
            succeeded = feed.record.items_succeeded,
            failed = feed.record.items_failed,
            "feed results applied"
        );
    }
    ch.store.save(feed).await?;
    Ok(())
}

/// How reading one kind's unsettled feeds came out ([`FeedResults`]).
#[derive(Debug, Default)]
pub(crate) struct FeedPoll {
    /// Feeds Walmart is still processing.
    pub(crate) processing: BTreeSet<FeedId>,
    /// Feeds whose results could not be read this run (Walmart's answer failed, or the run ran out
    /// of time before them): read again next run.
    pub(crate) unread: BTreeSet<FeedId>,
}

impl FeedPoll {
    /// Feeds whose results are not all applied yet: what was sent in them is still in flight.
    pub(crate) fn in_flight(&self) -> BTreeSet<FeedId> {
        self.processing.union(&self.unread).cloned().collect()
    }
}

/// The results of one kind's unsettled feeds, read page by page as far as Walmart has them:
/// [`next_page`](Self::next_page) gives a page to apply, [`applied`](Self::applied) records it
/// applied (a feed with all its results is settled and counted). A feed whose status Walmart does
/// not give is reported as a problem and read again next run; when the run runs out of time, the
/// feeds left are too (and the run is incomplete).
pub(crate) struct FeedResults {
    feeds: std::vec::IntoIter<Versioned<FeedRecord>>,
    current: Option<Versioned<FeedRecord>>,
    poll: FeedPoll,
}

/// One page of a feed's item results.
pub(crate) struct ResultsPage {
    pub(crate) feed_id: FeedId,
    pub(crate) results: Vec<ItemResult>,
}

impl FeedResults {
    pub(crate) async fn unsettled(ch: &Channel, kind: FeedKind) -> Result<Self, OpError> {
        Ok(FeedResults {
            feeds: unsettled(ch, kind).await?.into_iter(),
            current: None,
            poll: FeedPoll::default(),
        })
    }

    /// The next page of results to apply; `None` once every feed is read as far as Walmart has it
    /// or the run is running out of time.
    pub(crate) async fn next_page(
        &mut self,
        ch: &Channel,
        deadline: &Deadline,
        report: &mut RunReport,
    ) -> Result<Option<ResultsPage>, OpError> {
        loop {
            if self.current.is_none() {
                self.current = self.feeds.next();
            }
            let Some(feed) = self.current.as_mut() else {
                return Ok(None);
            };
            let feed_id = feed.record.feed_id.clone();
            if running_out(deadline) {
                report.complete = false;
                self.poll.unread.insert(feed_id);
                self.poll
                    .unread
                    .extend(self.feeds.by_ref().map(|f| f.record.feed_id));
                self.current = None;
                return Ok(None);
            }
            let span = tracing::info_span!("feed_results", %feed_id);
            match next_results(ch, feed, deadline, report).instrument(span).await {
                Ok(Some(results)) => return Ok(Some(ResultsPage { feed_id, results })),
                Ok(None) => {
                    self.poll.processing.insert(feed_id);
                }
                Err(OpError::Api(e)) => {
                    report.problem(format!("feed {feed_id}: {e}"));
                    self.poll.unread.insert(feed_id);
                }
                Err(e) => return Err(e),
            }
            self.current = None;
        }
    }

    /// Records the page [`next_page`](Self::next_page) gave as applied.
    pub(crate) async fn applied(
        &mut self,
        ch: &Channel,
        page: &ResultsPage,
        report: &mut RunReport,
    ) -> Result<(), OpError> {
        let Some(feed) = self.current.as_mut() else {
            return Ok(());
        };
        record_results(ch, feed, &page.results).await?;
        if feed.record.is_settled() {
            report.add(Counter::FeedsSettled, 1);
            self.current = None;
        }
        Ok(())
    }

    /// How the feeds were read.
    pub(crate) fn finish(self) -> FeedPoll {
        self.poll
    }
}

/// Records Walmart's refusal of the offer value a feed carried (`OfferState::quantity_refused`,
/// `price_refused`); says whether the offer took it (it still waited for this feed).
pub(crate) type Refusal = fn(&mut OfferState, &FeedId, ListingIssue, bool) -> bool;

/// [`FeedResults`] of the feeds of one offer value (quantities, prices): every item Walmart
/// did not accept is recorded on its offer with `refuse` and counted as refused or retried.
/// Returns how the feeds were read and the SKUs whose value is to be sent again (Walmart's trouble
/// was transient).
pub(crate) async fn poll_offer_feeds(
    ch: &Channel,
    kind: FeedKind,
    refuse: Refusal,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(FeedPoll, BTreeSet<Sku>), OpError> {
    let mut again = BTreeSet::new();
    let mut feeds = FeedResults::unsettled(ch, kind).await?;
    while let Some(page) = feeds.next_page(ch, deadline, report).await? {
        for result in page
            .results
            .iter()
            .filter(|r| r.outcome != ItemOutcome::Succeeded)
        {
            let transient = result.outcome == ItemOutcome::Retried;
            let issue = result
                .issues
                .first()
                .cloned()
                .unwrap_or_else(|| walmart_issue("", ""));
            let mut refused = false;
            update_offer(ch, &result.entry.sku, |o| {
                refused = refuse(o, &page.feed_id, issue.clone(), transient);
                refused
            })
            .await?;
            if refused && transient {
                again.insert(result.entry.sku.clone());
            }
            let counter = if transient {
                Counter::FeedItemsRetried
            } else {
                Counter::FeedItemsRefused
            };
            report.add(counter, 1);
        }
        for sku in overwritten_by_feed(ch, &page).await? {
            report.add(Counter::FeedOverwroteNewer, 1);
            again.insert(sku);
        }
        feeds.applied(ch, &page, report).await?;
    }
    Ok((feeds.finish(), again))
}

/// The SKUs of a page's applied items whose offer recorded a newer value than the feed carried
/// (`OfferState::overwritten_by_feed`): Walmart may show the feed's older value now, so the newer
/// one is marked unconfirmed and returned to be sent again. One offer read per item applied.
async fn overwritten_by_feed(ch: &Channel, page: &ResultsPage) -> Result<Vec<Sku>, OpError> {
    let feed_id = &page.feed_id;
    let applied: Vec<(Sku, domain::FeedValue)> = page
        .results
        .iter()
        .filter(|r| r.outcome == ItemOutcome::Succeeded)
        .map(|r| (r.entry.sku.clone(), r.entry.value))
        .collect();
    let checked = concurrently(applied, STORE_CONCURRENCY, |(sku, value)| async move {
        let mut overwritten = false;
        let updated = update_offer(ch, &sku, |o| {
            overwritten = o.overwritten_by_feed(feed_id, &value);
            overwritten
        })
        .await;
        (sku, updated.map(|_| overwritten))
    })
    .await;
    let mut skus = Vec::new();
    for (sku, overwritten) in checked {
        if overwritten? {
            tracing::info!(%sku, %feed_id, "a newer value may be overwritten by an older feed; sent again");
            skus.push(sku);
        }
    }
    Ok(skus)
}
