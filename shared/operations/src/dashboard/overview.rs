//! The overview: per operation its last run and outcome, failures of the last 24 h, the latency of
//! the last 24 h against its documented delay, its queue and dead-letter depth and whether the
//! merchant paused it; Walmart's remaining call budgets; and what needs the merchant, each as an
//! [`Attention`] (a typed item the page words in its language; [`Attention::sentence`] is the
//! English).
//!
//! Latency here is measured from the channel's own records, so it covers the steps those records
//! time (the local runner's summary measures end to end from what the sandboxes saw):
//! - catalog-import: the product's `updated_at` in Commerce → the listing written (listings whose
//!   status changed in the window, in Draft, waiting for selection, or Error by our checks);
//! - listing-match, inventory-sync, price-sync: a feed submitted → its results applied (feeds
//!   settled in the window);
//! - order-import: ordered on Walmart → recorded; order-create: recorded → Commerce order created
//!   (orders placed in the window);
//! - shipment-sync, cancellation-sync, returns-sync: not timed by the records (`samples` 0).
//!
//! Every read is a key or an index range: per operation two gets and one failure-partition query,
//! the orders and listings of the last 24 h (capped at [`MAX_SAMPLES`] each), the feeds settled in
//! the window, six budget gets, the health record and the queue attributes.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{
    BudgetedCall, CallBudget, FeedKind, FeedRecord, Listing, ListingStatus, Operation, OrderEvent,
    OrderRecord, OrderSummary, Timestamp,
};
use ports::records::{
    budget_key, feed_status_pk, listing_awaiting_selection_pk, listing_status_pk, order_status_pk,
};
use ports::{Query, QueueDepth, QueueName, Records, SortRange, StoreError};
use serde::Serialize;

use crate::Channel;
use crate::merchant::{MatchMode, MerchantSettings, Pause};
use crate::run_log::RunEntry;

/// Most samples of one kind read for the latency figures.
pub const MAX_SAMPLES: usize = 2_000;

/// The window of the overview's figures.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A feed not settled this long after it was submitted is stuck (Walmart documents most feeds
/// processed within minutes; the documented match delay is 30 min).
pub const STUCK_FEED_AFTER: Duration = Duration::from_secs(2 * 3600);

mod secs {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

mod opt_secs {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

/// The latency of one measured step over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// What is measured, from where to where.
    pub path: &'static str,
    pub samples: usize,
    #[serde(with = "opt_secs")]
    pub p50: Option<Duration>,
    #[serde(with = "opt_secs")]
    pub p99: Option<Duration>,
    /// `Operation::target_delay`, and whether it is Adobe's documented delay.
    #[serde(with = "secs")]
    pub bound: Duration,
    pub documented: bool,
}

impl Latency {
    pub fn within_bound(&self) -> bool {
        self.p99.is_none_or(|p| p <= self.bound)
    }
}

/// The `q` quantile (0..=1) of `samples` by nearest rank (as the local runner reports them).
pub fn percentile(samples: &[Duration], q: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

fn latency(operation: Operation, path: &'static str, samples: &[Duration]) -> Latency {
    Latency {
        path,
        samples: samples.len(),
        p50: percentile(samples, 0.5),
        p99: percentile(samples, 0.99),
        bound: operation.target_delay(),
        documented: operation.documented_delay().is_some(),
    }
}

/// One operation on the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationStatus {
    pub operation: Operation,
    pub function: &'static str,
    /// Adobe's name of the operation.
    pub seed_operation: &'static str,
    pub paused: Option<Pause>,
    pub last_run: Option<RunEntry>,
    pub last_message: Option<RunEntry>,
    /// Failed runs and messages in the window, and the newest few.
    pub failures: u64,
    pub recent_failures: Vec<RunEntry>,
    pub latency: Vec<Latency>,
    /// The queue it consumes, with its depth (`None`: unreadable; the error is in `problems`).
    pub queue: Option<QueueName>,
    pub queue_depth: Option<QueueDepth>,
}

/// One of Walmart's rate-limited calls and what is left of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetStatus {
    pub call: BudgetedCall,
    pub limit: u32,
    #[serde(with = "secs")]
    pub window: Duration,
    pub remaining: u32,
    pub last_used_at: Option<Timestamp>,
}

/// Something that needs the merchant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "attention", rename_all = "snake_case")]
pub enum Attention {
    /// The Commerce store is not set up as the channel needs: every operation is stopped.
    ConfigurationError {
        problem: String,
        since: Option<Timestamp>,
    },
    Paused {
        operation: Operation,
        by: String,
        since: Timestamp,
    },
    /// A feed Walmart has not finished long after it was sent.
    StuckFeed {
        feed_id: String,
        kind: FeedKind,
        submitted_at: Timestamp,
    },
    /// A Walmart budget is used up: its calls wait until the window frees up.
    Throttled {
        call: BudgetedCall,
        until: Option<Timestamp>,
    },
    DeadLetters {
        queue: QueueName,
        count: u64,
    },
    /// Runs or messages failed in the window.
    Failing {
        operation: Operation,
        failures: u64,
        last_reason: Option<String>,
    },
    /// Orders recorded but not created in Commerce within the documented delay.
    OrdersNotCreated {
        count: u64,
    },
    OrdersInError {
        count: u64,
    },
    /// Drafts waiting for the merchant's selection (manual match mode).
    DraftsAwaitingSelection {
        count: u64,
    },
}

impl Attention {
    /// The item in plain English.
    pub fn sentence(&self) -> String {
        match self {
            Attention::ConfigurationError { problem, .. } => format!(
                "The Commerce store is not set up as the channel needs, so every operation is stopped: {problem}"
            ),
            Attention::Paused { operation, by, since } => format!(
                "{} is paused (by {by} since {}); resume it to sync again.",
                operation.seed_operation(),
                since.to_rfc3339()
            ),
            Attention::StuckFeed {
                feed_id,
                kind,
                submitted_at,
            } => format!(
                "Walmart has not finished the {} feed {feed_id} sent at {}; it is still polled. Check it in Seller Center.",
                kind_name(*kind),
                submitted_at.to_rfc3339()
            ),
            Attention::Throttled { call, until } => format!(
                "Walmart's limit for {} is used up{}; those updates wait until then.",
                call.as_str(),
                until
                    .map(|u| format!(" until {}", u.to_rfc3339()))
                    .unwrap_or_default()
            ),
            Attention::DeadLetters { queue, count } => format!(
                "{count} message(s) of {} failed repeatedly and wait in its dead-letter queue: fix the cause, then re-drive them.",
                queue.as_str()
            ),
            Attention::Failing {
                operation,
                failures,
                last_reason,
            } => format!(
                "{} failed {failures} time(s) in the last 24 hours{}.",
                operation.seed_operation(),
                last_reason
                    .as_ref()
                    .map(|r| format!(", last: {r}"))
                    .unwrap_or_default()
            ),
            Attention::OrdersNotCreated { count } => format!(
                "{count} Walmart order(s) are not in Commerce yet, later than the documented 5 minutes."
            ),
            Attention::OrdersInError { count } => {
                format!("{count} order(s) are in Error: open them to see why, and retry.")
            }
            Attention::DraftsAwaitingSelection { count } => {
                format!("{count} imported product(s) wait for you to select them and send them to match.")
            }
        }
    }
}

fn kind_name(kind: FeedKind) -> &'static str {
    match kind {
        FeedKind::ItemMatch => "item match",
        FeedKind::Inventory => "inventory",
        FeedKind::Price => "price",
    }
}

/// The whole overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub generated_at: Timestamp,
    pub match_mode: MatchMode,
    pub operations: Vec<OperationStatus>,
    pub budgets: Vec<BudgetStatus>,
    pub attention: Vec<Attention>,
    /// What could not be read (a queue's attributes, ...): the rest of the page still shows.
    pub problems: Vec<String>,
}

/// The overview at the channel's clock.
pub async fn overview(ch: &Channel) -> Result<Overview, StoreError> {
    let now = ch.clock.now();
    let since = now.minus(WINDOW);
    let store = ch.store.as_ref();
    let channel = &ch.settings.id;
    let settings = crate::merchant::settings(store, channel).await?;
    let mut problems = Vec::new();
    let mut attention = Vec::new();

    if let Some(health) = crate::health::configuration_problem(store, channel).await? {
        attention.push(Attention::ConfigurationError {
            problem: health.problem.unwrap_or_default(),
            since: health.since,
        });
    }

    let latencies = measure_latencies(ch, since).await?;
    let mut operations = Vec::new();
    for operation in Operation::ALL {
        let status = operation_status(ch, &settings, operation, since, &latencies, &mut problems).await?;
        if let Some(pause) = &status.paused {
            attention.push(Attention::Paused {
                operation,
                by: pause.by.clone(),
                since: pause.since,
            });
        }
        if status.failures > 0 {
            attention.push(Attention::Failing {
                operation,
                failures: status.failures,
                last_reason: status.recent_failures.first().and_then(|f| match &f.outcome {
                    crate::run_log::RunOutcome::Failed { reason, .. } => Some(reason.clone()),
                    _ => None,
                }),
            });
        }
        if let (Some(queue), Some(depth)) = (status.queue, status.queue_depth)
            && depth.dead_letters > 0
        {
            attention.push(Attention::DeadLetters {
                queue,
                count: depth.dead_letters,
            });
        }
        operations.push(status);
    }

    let mut budgets = Vec::new();
    for call in BudgetedCall::ALL {
        let budget = store
            .load::<CallBudget>(&budget_key(channel, call))
            .await?
            .map_or_else(|| CallBudget::new(channel.clone(), call), |v| v.record);
        let (limit, window) = call.limit();
        let remaining = budget.available(now);
        if remaining == 0 {
            let until = budget
                .grants
                .iter()
                .map(|g| g.at)
                .min()
                .map(|oldest| oldest.plus(window));
            attention.push(Attention::Throttled { call, until });
        }
        budgets.push(BudgetStatus {
            call,
            limit,
            window,
            remaining,
            last_used_at: budget.last_grant_at(),
        });
    }

    let pending_feeds = Query::status_index(feed_status_pk(channel, false))
        .range(SortRange::To(now.minus(STUCK_FEED_AFTER).to_rfc3339()))
        .limit(20);
    for feed in store.query_records::<FeedRecord>(&pending_feeds).await?.0 {
        attention.push(Attention::StuckFeed {
            feed_id: feed.record.feed_id.to_string(),
            kind: feed.record.kind,
            submitted_at: feed.record.submitted_at,
        });
    }

    let not_created = count_orders_not_created(ch, now).await?;
    if not_created > 0 {
        attention.push(Attention::OrdersNotCreated { count: not_created });
    }
    let in_error = store
        .count(&Query::status_index(order_status_pk(
            channel,
            OrderSummary::Error,
        )))
        .await?;
    if in_error > 0 {
        attention.push(Attention::OrdersInError { count: in_error });
    }
    if settings.match_mode == MatchMode::Manual {
        let waiting = store
            .count(&Query::status_index(listing_awaiting_selection_pk(channel)))
            .await?;
        if waiting > 0 {
            attention.push(Attention::DraftsAwaitingSelection { count: waiting });
        }
    }

    Ok(Overview {
        generated_at: now,
        match_mode: settings.match_mode,
        operations,
        budgets,
        attention,
        problems,
    })
}

async fn operation_status(
    ch: &Channel,
    settings: &MerchantSettings,
    operation: Operation,
    since: Timestamp,
    latencies: &BTreeMap<Operation, Vec<Latency>>,
    problems: &mut Vec<String>,
) -> Result<OperationStatus, StoreError> {
    let store = ch.store.as_ref();
    let (last_run, last_message) = crate::run_log::last_runs(store, &ch.settings.id, operation).await?;
    let (recent_failures, failures) =
        crate::run_log::failures_since(store, &ch.settings.id, operation, since, 5, 10_000).await?;
    let queue = crate::registry::consumes(operation);
    let queue_depth = match queue {
        Some(queue) => match ch.queues.depth(queue).await {
            Ok(depth) => Some(depth),
            Err(e) => {
                problems.push(format!("depth of {}: {e}", queue.as_str()));
                None
            }
        },
        None => None,
    };
    Ok(OperationStatus {
        operation,
        function: operation.function_name(),
        seed_operation: operation.seed_operation(),
        paused: settings.pause_of(operation).cloned(),
        last_run,
        last_message,
        failures,
        recent_failures,
        latency: latencies.get(&operation).cloned().unwrap_or_default(),
        queue,
        queue_depth,
    })
}

/// Orders recorded, not created in Commerce, older than order-create's documented delay.
async fn count_orders_not_created(ch: &Channel, now: Timestamp) -> Result<u64, StoreError> {
    let delay = Operation::OrderCreate.target_delay();
    let query = Query::status_index(order_status_pk(&ch.settings.id, OrderSummary::Pending)).limit(500);
    let mut n = 0;
    let mut q = query;
    let mut read = 0usize;
    loop {
        let (page, next) = ch.store.query_records::<OrderRecord>(&q).await?;
        read += page.len();
        n += page
            .iter()
            .filter(|o| o.record.commerce_link().is_none() && now.since(o.record.imported_at) > delay)
            .count() as u64;
        match next {
            Some(token) if read < MAX_SAMPLES => q.after = Some(token),
            _ => return Ok(n),
        }
    }
}

/// Reads up to [`MAX_SAMPLES`] records of an index partition within an index sort-key range.
async fn sample<R: ports::Record>(ch: &Channel, pk: String, range: SortRange) -> Result<Vec<R>, StoreError> {
    let mut query = Query::status_index(pk).range(range).limit(500).descending();
    let mut out = Vec::new();
    loop {
        let (page, next) = ch.store.query_records::<R>(&query).await?;
        out.extend(page.into_iter().map(|v| v.record));
        match next {
            Some(token) if out.len() < MAX_SAMPLES => query.after = Some(token),
            _ => {
                out.truncate(MAX_SAMPLES);
                return Ok(out);
            }
        }
    }
}

/// The latency figures of the window, per operation.
pub async fn measure_latencies(
    ch: &Channel,
    since: Timestamp,
) -> Result<BTreeMap<Operation, Vec<Latency>>, StoreError> {
    let channel = &ch.settings.id;
    let from = SortRange::From(since.to_rfc3339());
    let mut out: BTreeMap<Operation, Vec<Latency>> = BTreeMap::new();

    // Orders placed in the window, every state.
    let mut imported = Vec::new();
    let mut created = Vec::new();
    for summary in OrderSummary::ALL {
        for order in sample::<OrderRecord>(ch, order_status_pk(channel, summary), from.clone()).await? {
            imported.push(order.imported_at.since(order.order.order_date));
            if let Some(entry) = order
                .history
                .iter()
                .find(|h| matches!(h.event, OrderEvent::Created { .. }))
            {
                created.push(entry.at.since(order.imported_at));
            }
        }
    }
    out.entry(Operation::OrderImport).or_default().push(latency(
        Operation::OrderImport,
        "ordered on Walmart -> order recorded",
        &imported,
    ));
    out.entry(Operation::OrderCreate).or_default().push(latency(
        Operation::OrderCreate,
        "order recorded -> Commerce order created",
        &created,
    ));

    // Listings written in the window: new ones, or moved to Draft/Error by a product change.
    let mut listed = Vec::new();
    let partitions = [
        listing_status_pk(channel, ListingStatus::Draft),
        listing_awaiting_selection_pk(channel),
        listing_status_pk(channel, ListingStatus::Error),
    ];
    for pk in partitions {
        for listing in sample::<Listing>(ch, pk, from.clone()).await? {
            // Walmart's rejections and retries are listing-match's outcomes, not imports.
            let from_walmart = (listing.status() == ListingStatus::Error && listing.feed_id.is_some())
                || listing
                    .issues
                    .iter()
                    .any(|i| i.code == domain::ISSUE_WALMART_RETRY);
            if from_walmart || listing.product.updated_at > listing.status_changed_at {
                continue;
            }
            listed.push(listing.status_changed_at.since(listing.product.updated_at));
        }
    }
    out.entry(Operation::CatalogImport).or_default().push(latency(
        Operation::CatalogImport,
        "product changed in Commerce -> listing written",
        &listed,
    ));

    // Feeds settled recently (submitted within the window plus the stuck allowance).
    let feed_from = SortRange::From(since.minus(STUCK_FEED_AFTER).to_rfc3339());
    let mut by_kind: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for feed in sample::<FeedRecord>(ch, feed_status_pk(channel, true), feed_from).await? {
        let Some(settled) = feed.settled_at.filter(|s| *s >= since) else {
            continue;
        };
        by_kind
            .entry(kind_name(feed.kind))
            .or_default()
            .push(settled.since(feed.submitted_at));
    }
    for (operation, kind, path) in [
        (
            Operation::ListingMatch,
            FeedKind::ItemMatch,
            "match feed sent -> results on the listings",
        ),
        (
            Operation::InventorySync,
            FeedKind::Inventory,
            "inventory feed sent -> processed by Walmart",
        ),
        (
            Operation::PriceSync,
            FeedKind::Price,
            "price feed sent -> processed by Walmart",
        ),
    ] {
        let samples = by_kind.remove(kind_name(kind)).unwrap_or_default();
        out.entry(operation)
            .or_default()
            .push(latency(operation, path, &samples));
    }
    for operation in [
        Operation::ShipmentSync,
        Operation::CancellationSync,
        Operation::ReturnsSync,
    ] {
        out.entry(operation)
            .or_default()
            .push(latency(operation, "not timed by the channel's records", &[]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_secs).collect();
        assert_eq!(percentile(&s, 0.5), Some(Duration::from_secs(50)));
        assert_eq!(percentile(&s, 0.99), Some(Duration::from_secs(99)));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
