//! `listing_match`: draft listings go to Walmart in MP_ITEM_MATCH feeds; the feeds' item results
//! come back as Match (or Staged for Match while the Walmart store is not live) with the WPID, or
//! Error with a reason a merchant can act on.
//!
//! - **Messages** ([`MatchRequest`] on the listing-match queue): "drafts are waiting" from
//!   catalog-import, or SKUs of failed listings the merchant wants matched again. Either way the
//!   handler builds the next feed if one is due.
//! - **Schedule**: polls unsettled match feeds (status, then item details page by page), publishes
//!   staged matches once the store is live, and builds the next feed if one is due.
//!
//! Feeds carry up to Walmart's 10,000 items (and 10 MB). Walmart allows 20 match feeds an hour, kept
//! in the channel's shared call budget; a full feed goes at once, a partial one only after its
//! oldest draft waited a minute (so a big import fills feeds) and three minutes after the previous
//! feed (so partial feeds alone can never use up the hour). One invocation builds feeds at a time
//! (a lease), so concurrent messages never send the same draft twice.

use std::time::Duration;

use domain::{
    FeedEntry, FeedKind, FeedValue, ItemOutcome, Listing, ListingIssue, ListingStatus, Operation, Sku,
    Timestamp,
};
use ports::StoreCall;
use ports::records::{listing_key, listing_status_pk};
use ports::{Deadline, Query, QueueName, Records, StoreError, Versioned};
use walmart_client::feeds::{ItemMatchEntry, item_match_feeds, max_items};

use crate::Counter;
use crate::declaration::Declaration;
use crate::feeds::{self, ItemResult, Lease, STORE_CONCURRENCY, concurrently, running_out};
use crate::messages::Received;
pub use crate::messages::{MatchRequest, request_match};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): listings and feed records;
/// feeds written in bulk (`feeds::submit`, `feeds::record_results`); unsettled feeds queried; the
/// match-feed lease; the configuration check; a match feed's intent record, deleted once its
/// listings are marked (`feeds::forget_submission`).
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
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): listings to
/// send are queued to itself.
pub const SENDS_TO: &[QueueName] = &[QueueName::ListingMatch];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "listing-match",
    consumes: Some(QueueName::ListingMatch),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

pub const OPERATION: &str = "listing-match";

/// A partial feed waits until its oldest draft is this old, so the drafts of a big import share feeds.
pub const MIN_DRAFT_AGE: Duration = Duration::from_secs(60);

/// A partial feed goes at most this often: 20 feeds an hour.
pub const PARTIAL_FEED_PACE: Duration = Duration::from_secs(180);

/// Handles one message: resubmits the failed listings it names, then builds a feed if one is due.
pub async fn handle_message(
    ch: &Channel,
    message: &Received<MatchRequest>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let request = &message.body;
    let mut report = RunReport::new(Operation::ListingMatch);
    for sku in &request.skus {
        resubmit(ch, sku, &mut report).await?;
    }
    send_due_feeds(ch, deadline, &mut report).await?;
    tracing::info!(message_id = %message.message_id, counts = ?report.counts, "match message handled");
    Ok(())
}

/// The scheduled run: results of earlier feeds first, then staged matches, then the next feed.
pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::ListingMatch);
    poll_feeds(ch, deadline, &mut report).await?;
    if ch.settings.walmart_store_live {
        publish_staged(ch, deadline, &mut report).await?;
    }
    send_due_feeds(ch, deadline, &mut report).await?;
    Ok(report)
}

async fn resubmit(ch: &Channel, sku: &Sku, report: &mut RunReport) -> Result<(), OpError> {
    let now = ch.clock.now();
    let mut outcome = None;
    let found = ch
        .store
        .update::<Listing, OpError, _>(&listing_key(&ch.settings.id, sku), |listing| {
            if listing.status() != ListingStatus::Error {
                outcome = Some(listing.status() == ListingStatus::Draft);
                return Ok(false);
            }
            outcome = Some(listing.resubmit(now));
            Ok(true)
        })
        .await?;
    match (found, outcome) {
        (None, _) => report.problem(format!("{sku}: no such listing")),
        (Some(_), Some(true)) => report.add(Counter::Resubmitted, 1),
        (Some(listing), _) => report.problem(format!(
            "{sku}: cannot be matched again as it is ({})",
            listing
                .issues
                .first()
                .map_or("not in Error", |i| i.message.as_str())
        )),
    }
    Ok(())
}

// ---------------------------------------------------------------- sending

/// Builds and sends the feeds that are due, under the channel's match-feed lease.
async fn send_due_feeds(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let Some(lease) = Lease::take(ch, OPERATION, "match-feed", deadline).await? else {
        report.add(Counter::FeedBuilderBusy, 1);
        return Ok(());
    };
    let sent = send_feeds_locked(ch, deadline, report).await;
    lease.release(ch).await?;
    sent
}

/// The oldest drafts, at most a feed's worth.
async fn oldest_drafts(ch: &Channel, max: usize) -> Result<Vec<Versioned<Listing>>, OpError> {
    let mut drafts = Vec::new();
    let mut query =
        Query::status_index(listing_status_pk(&ch.settings.id, ListingStatus::Draft)).limit(1_000);
    while drafts.len() < max {
        let (page, next) = ch.store.query_records::<Listing>(&query).await?;
        drafts.extend(page);
        match next {
            Some(token) => query = query.after(Some(token)),
            None => break,
        }
    }
    drafts.truncate(max);
    Ok(drafts)
}

async fn send_feeds_locked(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    if let Some((feed_id, skus)) = feeds::adopt_lost_submission(ch, FeedKind::ItemMatch, deadline).await? {
        report.add(Counter::MatchFeedsAdopted, 1);
        let now = ch.clock.now();
        let drafts = oldest_drafts(ch, usize::MAX).await?;
        let sent: Vec<_> = drafts
            .into_iter()
            .filter(|d| skus.contains(&d.record.sku))
            .collect();
        let marked = concurrently(sent, STORE_CONCURRENCY, |listing| {
            mark_submitted(ch, listing, feed_id.clone(), now)
        })
        .await;
        for result in marked {
            result?;
        }
        // The feed may have been polled while these listings were still drafts (their sender died
        // before marking them): its results passed them by, so the recorded ones apply now.
        let recorded = feeds::recorded_results(ch, &feed_id, &skus).await?;
        if !recorded.is_empty() {
            report.add(Counter::AdoptedResultsApplied, recorded.len() as u64);
            apply_results(ch, &feed_id, &recorded, report).await?;
        }
        feeds::forget_submission(ch, FeedKind::ItemMatch).await?;
    }
    let feed_items = max_items(feeds::feed_type(FeedKind::ItemMatch));
    loop {
        if running_out(deadline) {
            report.complete = false;
            return Ok(());
        }
        let drafts = oldest_drafts(ch, feed_items).await?;
        let Some(oldest) = drafts.first() else {
            return Ok(());
        };
        let now = ch.clock.now();
        let full = drafts.len() >= feed_items;
        if !full {
            let waited = now.since(oldest.record.status_changed_at);
            let last_feed = feeds::budget(ch, feeds::feed_budget(FeedKind::ItemMatch))
                .await?
                .last_grant_at();
            let paced = last_feed.is_none_or(|at| now.since(at) >= PARTIAL_FEED_PACE);
            if waited < MIN_DRAFT_AGE || !paced {
                report.add(Counter::DraftsWaiting, drafts.len() as u64);
                return Ok(());
            }
        }
        let sent = send_feed(ch, drafts, now, deadline, report).await?;
        if !sent || !full {
            return Ok(());
        }
    }
}

/// Sends one feed of `drafts`; returns false when the hour's feed budget is used up.
async fn send_feed(
    ch: &Channel,
    drafts: Vec<Versioned<Listing>>,
    now: Timestamp,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<bool, OpError> {
    let mut entries = Vec::with_capacity(drafts.len());
    let mut sendable = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let listing = &draft.record;
        let price = listing.product.walmart_price(&ch.settings.pricing, now);
        match (&listing.gtin, price, listing.product.weight_lb) {
            (Some(gtin), Some(price), Some(weight)) => {
                entries.push(ItemMatchEntry {
                    sku: listing.sku.clone(),
                    gtin: gtin.clone(),
                    price,
                    shipping_weight_lb: weight,
                });
                sendable.push((draft, price));
            }
            // A Draft always passed our checks; one that did not is left for catalog-import to fix.
            _ => report.problem(format!(
                "{}: draft without identifier, price or weight",
                listing.sku
            )),
        }
    }
    let files = item_match_feeds(&entries).map_err(|source| OpError::Feed {
        what: "match",
        source,
    })?;
    let mut drafts = sendable.into_iter();
    for file in files {
        let batch: Vec<(Versioned<Listing>, domain::Money)> = drafts.by_ref().take(file.skus.len()).collect();
        if feeds::reserve(ch, feeds::feed_budget(FeedKind::ItemMatch), 1).await? == 0 {
            report.add(Counter::FeedBudgetExhausted, 1);
            report.add(Counter::DraftsWaiting, batch.len() as u64);
            return Ok(false);
        }
        let items: Vec<FeedEntry> = batch
            .iter()
            .map(|(l, price)| FeedEntry::new(l.record.sku.clone(), FeedValue::Match { price: *price }))
            .collect();
        let feed_id = feeds::submit(ch, FeedKind::ItemMatch, &file.payload, items, deadline).await?;
        report.add(Counter::MatchFeeds, 1);
        report.add(Counter::ListingsSent, batch.len() as u64);
        let marked = concurrently(batch, STORE_CONCURRENCY, |(listing, _)| {
            mark_submitted(ch, listing, feed_id.clone(), now)
        })
        .await;
        for result in marked {
            result?;
        }
        feeds::forget_submission(ch, FeedKind::ItemMatch).await?;
    }
    Ok(true)
}

async fn mark_submitted(
    ch: &Channel,
    mut listing: Versioned<Listing>,
    feed_id: domain::FeedId,
    now: Timestamp,
) -> Result<(), OpError> {
    listing.record.submitted(feed_id.clone(), now)?;
    match ch.store.save(&mut listing).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => {
            // Catalog-import changed it meanwhile: still a draft, it is in this feed.
            let key = listing_key(&listing.record.channel, &listing.record.sku);
            ch.store
                .update::<Listing, OpError, _>(&key, |stored| {
                    if stored.status() != ListingStatus::Draft {
                        return Ok(false);
                    }
                    stored.submitted(feed_id.clone(), now)?;
                    Ok(true)
                })
                .await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- results

async fn poll_feeds(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let mut feeds = feeds::FeedResults::unsettled(ch, FeedKind::ItemMatch).await?;
    while let Some(page) = feeds.next_page(ch, deadline, report).await? {
        apply_results(ch, &page.feed_id, &page.results, report).await?;
        feeds.applied(ch, &page, report).await?;
    }
    report.add(Counter::FeedsProcessing, feeds.finish().processing.len() as u64);
    Ok(())
}

/// Moves each listing of the results to its outcome (only while it still waits for this feed), and
/// records the price Walmart got with each match.
async fn apply_results(
    ch: &Channel,
    feed_id: &domain::FeedId,
    results: &[ItemResult],
    report: &mut RunReport,
) -> Result<(), OpError> {
    let now = ch.clock.now();
    let live = ch.settings.walmart_store_live;
    let applied = concurrently(results.to_vec(), STORE_CONCURRENCY, |result| async move {
        let key = listing_key(&ch.settings.id, &result.entry.sku);
        let mut moved_to = None;
        ch.store
            .update::<Listing, OpError, _>(&key, |listing| {
                moved_to = None;
                if listing.status() != ListingStatus::Processing || listing.feed_id.as_ref() != Some(feed_id)
                {
                    return Ok(false);
                }
                match (result.outcome, &result.wpid) {
                    (ItemOutcome::Succeeded, Some(wpid)) => listing.matched(wpid.clone(), live, now)?,
                    (ItemOutcome::Succeeded, None) => listing.failed(
                        vec![ListingIssue::new(
                            "CM_NO_WPID",
                            "Walmart reported the match without the item's WPID; it is matched again.",
                        )],
                        now,
                    )?,
                    (ItemOutcome::Rejected, _) => {
                        let issues = if result.issues.is_empty() {
                            vec![domain::walmart_issue("", "")]
                        } else {
                            result.issues.clone()
                        };
                        listing.failed(issues, now)?;
                    }
                    (ItemOutcome::Retried, _) => {
                        let issue = result.issues.first().cloned().unwrap_or_else(|| {
                            ListingIssue::new(domain::ISSUE_WALMART_RETRY, "Walmart had a temporary problem.")
                        });
                        listing.requeue(issue, now)?;
                    }
                }
                moved_to = Some(listing.status());
                Ok(true)
            })
            .await?;
        if let (Some(status), FeedValue::Match { price }) = (moved_to, result.entry.value)
            && matches!(status, ListingStatus::Match | ListingStatus::StagedForMatch)
        {
            let via = domain::SentVia::Feed {
                feed_id: feed_id.clone(),
            };
            feeds::record_price(ch, &result.entry.sku, price, via).await?;
        }
        Ok::<_, OpError>(moved_to)
    })
    .await;
    for outcome in applied {
        match outcome? {
            Some(ListingStatus::Match | ListingStatus::StagedForMatch) => report.add(Counter::Matched, 1),
            Some(ListingStatus::Error) => report.add(Counter::MatchErrors, 1),
            Some(ListingStatus::Draft) => report.add(Counter::Requeued, 1),
            _ => report.add(Counter::ResultsStale, 1),
        }
    }
    Ok(())
}

/// The store is live: staged matches are published.
async fn publish_staged(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let mut query =
        Query::status_index(listing_status_pk(&ch.settings.id, ListingStatus::StagedForMatch)).limit(500);
    loop {
        if running_out(deadline) {
            report.complete = false;
            return Ok(());
        }
        let (staged, next) = ch.store.query_records::<Listing>(&query).await?;
        let now = ch.clock.now();
        let published = concurrently(staged, STORE_CONCURRENCY, |listing| async move {
            let key = listing_key(&listing.record.channel, &listing.record.sku);
            let mut moved = false;
            ch.store
                .update::<Listing, OpError, _>(&key, |stored| {
                    moved = false;
                    if stored.status() != ListingStatus::StagedForMatch {
                        return Ok(false);
                    }
                    stored.store_went_live(now)?;
                    moved = true;
                    Ok(true)
                })
                .await?;
            Ok::<_, OpError>(moved)
        })
        .await;
        for result in published {
            if result? {
                report.add(Counter::Published, 1);
            }
        }
        // Pages go on from the last key read, so an index entry that lags behind its item is
        // passed over rather than read again and again.
        match next {
            Some(token) => query = query.after(Some(token)),
            None => return Ok(()),
        }
    }
}
