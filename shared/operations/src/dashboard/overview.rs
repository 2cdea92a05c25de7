//! The overview: per operation its last run and outcome, failures of the last 24 h, the latency of
//! the last 24 h against its documented delay, its queue and dead-letter depth and whether the
//! merchant paused it; Walmart's remaining call budgets; and what needs the merchant, each as an
//! [`Attention`] (a typed item the dashboard words in the page's language).
//!
//! Latency is measured from the channel's records in [`super::delays`], with the measurement the
//! local runner's summary uses ([`crate::latency`]).
//!
//! Every read is a key or an index range: per operation two gets and one failure-partition query,
//! the records [`super::delays`] reads, six budget gets, the health record, the pending feeds, the
//! pending orders (capped at [`MAX_SAMPLES`]), two index counts and the queue attributes.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{
    BudgetedCall, CallBudget, ChannelId, FeedKind, FeedRecord, Operation, OrderRecord, OrderSummary,
    Timestamp,
};
use ports::records::{budget_key, feed_status_pk, listing_awaiting_selection_pk, order_status_pk};
use ports::{Query, QueueDepth, QueueName, Records, SortRange, StateStore, StoreError};
use serde::Serialize;

pub use super::delays::{MAX_SAMPLES, STUCK_FEED_AFTER, measure_latencies};
use crate::Channel;
pub use crate::latency::{Latency, percentile};
use crate::merchant::{MatchMode, MerchantSettings, Pause};
use crate::run_log::RunEntry;

/// The window of the overview's figures.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);

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
    #[serde(with = "crate::latency::secs")]
    pub window: Duration,
    pub remaining: u32,
    pub last_used_at: Option<Timestamp>,
    /// When a used-up budget frees its next call.
    pub frees_at: Option<Timestamp>,
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
    /// Walmart's order notifications do not reach the channel (its subscription is missing or
    /// Walmart's test notification fails): orders still come by the polls, minutes instead of seconds.
    PushSubscription {
        problem: String,
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
    if let Some(problem) = crate::health::push_subscription_problem(store, channel).await? {
        attention.push(Attention::PushSubscription { problem });
    }
    let latencies = measure_latencies(ch, since).await?;
    let mut operations = Vec::new();
    for operation in Operation::ALL {
        let status = operation_status(ch, &settings, operation, since, &latencies, &mut problems).await?;
        attention.extend(operation_attention(&status));
        operations.push(status);
    }
    let budgets = budgets(store, channel, now).await?;
    attention.extend(
        budgets
            .iter()
            .filter(|b| b.remaining == 0)
            .map(|b| Attention::Throttled {
                call: b.call,
                until: b.frees_at,
            }),
    );
    attention.extend(stuck_feeds(store, channel, now).await?);
    attention.extend(records_needing_the_merchant(ch, &settings, now).await?);
    Ok(Overview {
        generated_at: now,
        match_mode: settings.match_mode,
        operations,
        budgets,
        attention,
        problems,
    })
}

/// What an operation's status asks of the merchant: resume it, look at its failures, re-drive its
/// dead letters.
fn operation_attention(status: &OperationStatus) -> Vec<Attention> {
    let mut attention = Vec::new();
    if let Some(pause) = &status.paused {
        attention.push(Attention::Paused {
            operation: status.operation,
            by: pause.by.clone(),
            since: pause.since,
        });
    }
    if status.failures > 0 {
        attention.push(Attention::Failing {
            operation: status.operation,
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
    attention
}

/// What is left of each of Walmart's budgets at `now`.
async fn budgets(
    store: &dyn StateStore,
    channel: &ChannelId,
    now: Timestamp,
) -> Result<Vec<BudgetStatus>, StoreError> {
    let mut budgets = Vec::new();
    for call in BudgetedCall::ALL {
        let budget = store
            .load::<CallBudget>(&budget_key(channel, call))
            .await?
            .map_or_else(|| CallBudget::new(channel.clone(), call), |v| v.record);
        let (limit, window) = call.limit();
        let remaining = budget.available(now);
        // Used up, the budget frees a call when its oldest grant leaves the window.
        let frees_at = (remaining == 0)
            .then(|| budget.grants.iter().map(|g| g.at).min())
            .flatten()
            .map(|oldest| oldest.plus(window));
        budgets.push(BudgetStatus {
            call,
            limit,
            window,
            remaining,
            last_used_at: budget.last_grant_at(),
            frees_at,
        });
    }
    Ok(budgets)
}

/// Feeds Walmart has not finished [`STUCK_FEED_AFTER`] after they were sent (the oldest 20).
async fn stuck_feeds(
    store: &dyn StateStore,
    channel: &ChannelId,
    now: Timestamp,
) -> Result<Vec<Attention>, StoreError> {
    let pending_feeds = Query::status_index(feed_status_pk(channel, false))
        .range(SortRange::To(now.minus(STUCK_FEED_AFTER).to_rfc3339()))
        .limit(20);
    Ok(store
        .query_records::<FeedRecord>(&pending_feeds)
        .await?
        .0
        .into_iter()
        .map(|feed| Attention::StuckFeed {
            feed_id: feed.record.feed_id.to_string(),
            kind: feed.record.kind,
            submitted_at: feed.record.submitted_at,
        })
        .collect())
}

/// Orders late or in Error, and drafts waiting for the merchant's selection (manual match mode).
async fn records_needing_the_merchant(
    ch: &Channel,
    settings: &MerchantSettings,
    now: Timestamp,
) -> Result<Vec<Attention>, StoreError> {
    let store = ch.store.as_ref();
    let channel = &ch.settings.id;
    let mut attention = Vec::new();
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
    Ok(attention)
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
