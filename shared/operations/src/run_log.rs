//! What each operation did last, for the dashboard's overview: the last scheduled run and the last
//! message of each operation (one record each, overwritten), and every failure of the last week
//! (one record each, expiring), so "failures of the last 24 h" is one query.
//!
//! Written by `registry::guarded` after each run or message, best effort: a record that cannot be
//! written is logged and the operation's outcome is unchanged.
//!
//! | record      | pk                              | sk                         |
//! |-------------|---------------------------------|----------------------------|
//! | `LastRun`   | `CH#{ch}#RUN`                   | `{function}#{trigger}`     |
//! | `RunFailure`| `CH#{ch}#RUN_FAILURE#{function}`| `{finished}#{started ms}`  |

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{ChannelId, Operation, Timestamp};
use ports::records::{channel_pk, to_item};
use ports::{Expect, Key, Query, Record, Records, SortRange, StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::{Channel, OpError, RunReport};

/// How long failures are kept.
pub const FAILURE_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// What started the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Schedule,
    Message,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Message => "message",
        }
    }
}

/// How a run or message ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Done; for a scheduled run, `complete` is false when it stopped at its deadline with work left.
    Succeeded {
        complete: bool,
        /// The run report's counts (empty for a message).
        #[serde(default)]
        counts: BTreeMap<String, u64>,
        /// Problems the run reported without failing.
        #[serde(default)]
        problems: u64,
    },
    /// Skipped: the merchant paused the operation.
    Paused,
    Failed {
        /// `OpError::kind`.
        kind: String,
        reason: String,
    },
}

impl RunOutcome {
    pub fn failed(&self) -> bool {
        matches!(self, RunOutcome::Failed { .. })
    }
}

/// One run or message of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEntry {
    pub channel: ChannelId,
    pub operation: Operation,
    pub trigger: Trigger,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    #[serde(flatten)]
    pub outcome: RunOutcome,
}

impl RunEntry {
    pub fn duration(&self) -> Duration {
        self.finished_at.since(self.started_at)
    }
}

/// The last run (or message) of an operation: [`RunEntry`] under its overwritten key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LastRun(pub RunEntry);

impl Record for LastRun {
    fn key(&self) -> Key {
        last_run_key(&self.0.channel, self.0.operation, self.0.trigger)
    }
}

pub fn last_run_key(channel: &ChannelId, operation: Operation, trigger: Trigger) -> Key {
    Key::new(
        channel_pk(channel, "RUN"),
        format!("{}#{}", operation.function_name(), trigger.as_str()),
    )
}

/// A failed run or message, kept for [`FAILURE_RETENTION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunFailure(pub RunEntry);

impl Record for RunFailure {
    fn key(&self) -> Key {
        Key::new(
            failures_pk(&self.0.channel, self.0.operation),
            format!(
                "{}#{:013}",
                self.0.finished_at.to_rfc3339(),
                self.0.started_at.millis()
            ),
        )
    }
    fn expires_at(&self) -> Option<Timestamp> {
        Some(self.0.finished_at.plus(FAILURE_RETENTION))
    }
}

pub fn failures_pk(channel: &ChannelId, operation: Operation) -> String {
    format!("CH#{channel}#RUN_FAILURE#{}", operation.function_name())
}

/// What `registry::guarded` returns: a scheduled run's report, or nothing for a message.
pub trait Outcome: Sized {
    const TRIGGER: Trigger;
    fn report(&self) -> Option<&RunReport>;
    /// What a paused operation answers instead of working: a scheduled run reports it was skipped;
    /// a message cannot be skipped (it would be deleted), so it fails retryably (`None`).
    fn paused(operation: Operation) -> Option<Self>;
}

/// The count a scheduled run reports when the merchant paused its operation.
pub const PAUSED_BY_MERCHANT: crate::Counter = crate::Counter::PausedByMerchant;

impl Outcome for RunReport {
    const TRIGGER: Trigger = Trigger::Schedule;
    fn report(&self) -> Option<&RunReport> {
        Some(self)
    }
    fn paused(operation: Operation) -> Option<Self> {
        let mut report = RunReport::new(operation);
        report.add(PAUSED_BY_MERCHANT, 1);
        Some(report)
    }
}

impl Outcome for () {
    const TRIGGER: Trigger = Trigger::Message;
    fn report(&self) -> Option<&RunReport> {
        None
    }
    fn paused(_: Operation) -> Option<Self> {
        None
    }
}

fn outcome_of<T: Outcome>(outcome: &Result<T, OpError>) -> RunOutcome {
    match outcome {
        Ok(done) => match done.report() {
            Some(report) => RunOutcome::Succeeded {
                complete: report.complete,
                counts: report.counts.clone(),
                problems: report.problems.len() as u64,
            },
            None => RunOutcome::Succeeded {
                complete: true,
                counts: BTreeMap::new(),
                problems: 0,
            },
        },
        Err(e) => RunOutcome::Failed {
            kind: e.kind().to_owned(),
            reason: domain::bounded_reason(e.to_string()),
        },
    }
}

/// Records how a run or message ended (best effort: logged when it cannot be written).
pub async fn record<T: Outcome>(
    ch: &Channel,
    operation: Operation,
    started_at: Timestamp,
    outcome: &Result<T, OpError>,
) {
    let entry = RunEntry {
        channel: ch.settings.id.clone(),
        operation,
        trigger: T::TRIGGER,
        started_at,
        finished_at: ch.clock.now(),
        outcome: outcome_of(outcome),
    };
    if let Err(e) = write(ch.store.as_ref(), entry).await {
        tracing::warn!(operation = operation.function_name(), error = %e, "run not recorded for the dashboard");
    }
}

/// Records that a run or message was skipped because the merchant paused the operation.
pub async fn record_paused<T: Outcome>(ch: &Channel, operation: Operation, started_at: Timestamp) {
    let entry = RunEntry {
        channel: ch.settings.id.clone(),
        operation,
        trigger: T::TRIGGER,
        started_at,
        finished_at: ch.clock.now(),
        outcome: RunOutcome::Paused,
    };
    if let Err(e) = write(ch.store.as_ref(), entry).await {
        tracing::warn!(operation = operation.function_name(), error = %e, "run not recorded for the dashboard");
    }
}

async fn write(store: &dyn StateStore, entry: RunEntry) -> Result<(), StoreError> {
    if entry.outcome.failed() {
        let failure = RunFailure(entry.clone());
        store.put(to_item(&failure)?, Expect::Any).await?;
    }
    // Unconditional: the newest writer wins, which is what "last run" means.
    store.put(to_item(&LastRun(entry))?, Expect::Any).await?;
    Ok(())
}

/// The last scheduled run and the last message of an operation.
pub async fn last_runs(
    store: &dyn StateStore,
    channel: &ChannelId,
    operation: Operation,
) -> Result<(Option<RunEntry>, Option<RunEntry>), StoreError> {
    let schedule = store
        .load::<LastRun>(&last_run_key(channel, operation, Trigger::Schedule))
        .await?
        .map(|v| v.record.0);
    let message = store
        .load::<LastRun>(&last_run_key(channel, operation, Trigger::Message))
        .await?
        .map(|v| v.record.0);
    Ok((schedule, message))
}

/// Failures of an operation that finished at or after `since`, newest first, at most `limit`,
/// and how many there were in all (counted up to `count_cap`).
pub async fn failures_since(
    store: &dyn StateStore,
    channel: &ChannelId,
    operation: Operation,
    since: Timestamp,
    limit: usize,
    count_cap: usize,
) -> Result<(Vec<RunEntry>, u64), StoreError> {
    let mut query = Query::partition(failures_pk(channel, operation))
        .range(SortRange::From(since.to_rfc3339()))
        .descending()
        .limit(200);
    let mut newest = Vec::new();
    let mut total = 0u64;
    let now_cap = count_cap as u64;
    loop {
        let (page, next) = store.query_records::<RunFailure>(&query).await?;
        for failure in page {
            if failure.record.0.finished_at.plus(FAILURE_RETENTION) < since {
                continue;
            }
            total += 1;
            if newest.len() < limit {
                newest.push(failure.record.0);
            }
        }
        match next {
            Some(token) if total < now_cap => query.after = Some(token),
            _ => return Ok((newest, total)),
        }
    }
}
