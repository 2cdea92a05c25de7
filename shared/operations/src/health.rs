//! The channel's configuration health: a Commerce store not set up as the channel needs (an
//! unknown store code, Multi-Source Inventory disabled, the payment method switched off) stops
//! every operation before it sends anything, and is kept as one record the dashboard shows and the
//! local runner reports, until a check passes again.
//!
//! Why stop everything: such an answer says nothing about the data. Magento's 404 `"Request does
//! not match any route."` read as "product gone" would advertise zero for every listing on Walmart.

use domain::{ChannelId, Operation, StockSource, Timestamp};
use ports::records::channel_pk;
use ports::{Api, ApiError, ApiErrorKind, Deadline, Key, Record, Records, StateStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};

use crate::{Channel, OpError};

/// The health of the channel's Commerce configuration, `CH#{ch}#HEALTH` / `commerce`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationHealth {
    pub channel: ChannelId,
    /// What is wrong, with the remedy; `None` once a check passed again.
    pub problem: Option<String>,
    /// The operation that found it last.
    pub found_by: Option<String>,
    /// Found by the set-up check (store code, MSI), which every operation repeats; otherwise found
    /// by one operation's work (the payment method by order-create), which only it can see fixed.
    #[serde(default)]
    pub found_at_setup: bool,
    /// The configuration check that failed (the `code` of the error: a route Magento's router did
    /// not serve, a payment method the cart did not offer): only that check passing again proves
    /// the problem fixed.
    #[serde(default)]
    pub check: Option<String>,
    pub since: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// How many runs or messages it stopped.
    pub occurrences: u64,
}

impl Record for ConfigurationHealth {
    fn key(&self) -> Key {
        health_key(&self.channel)
    }
}

pub fn health_key(channel: &ChannelId) -> Key {
    Key::new(channel_pk(channel, "HEALTH"), "commerce")
}

/// The channel's Commerce configuration problem, if one is recorded (for the dashboard).
pub async fn configuration_problem(
    store: &dyn StateStore,
    channel: &ChannelId,
) -> Result<Option<ConfigurationHealth>, StoreError> {
    Ok(store
        .load::<ConfigurationHealth>(&health_key(channel))
        .await?
        .map(|v| v.record)
        .filter(|h| h.problem.is_some()))
}

/// How an operation may go on after [`commerce_ready`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// This operation found the recorded problem: it works to see whether it is fixed, and clears
    /// the record when its work proves it: the failed check passes during the work (a message
    /// handled without reaching that call proves nothing).
    Rechecking {
        /// The failed check; `None` for a record written before checks were named, which any
        /// successful work clears.
        check: Option<String>,
        /// How often the check had passed in this process before the work.
        passed_before: u64,
    },
}

/// Checks the store's set-up before an operation works (remembered by the client after the first
/// success, so after the cold start this costs one state-store read). A configuration problem,
/// found now or recorded by another operation, stops the operation: it must not go on.
pub async fn commerce_ready(
    ch: &Channel,
    operation: Operation,
    deadline: &Deadline,
) -> Result<Readiness, OpError> {
    let needs_msi = matches!(ch.settings.stock, StockSource::Msi { .. });
    if let Err(error) = ch.commerce.store_setup(needs_msi, deadline).await {
        let error = OpError::Api(error);
        report(ch, operation, &error, true).await;
        return Err(error);
    }
    let Some(health) = configuration_problem(ch.store.as_ref(), &ch.settings.id).await? else {
        return Ok(Readiness::Ready);
    };
    if health.found_at_setup {
        // The set-up check just passed: whatever it found is fixed.
        clear_problem(ch).await?;
        return Ok(Readiness::Ready);
    }
    if health.found_by.as_deref() == Some(operation.function_name()) {
        let passed_before = health
            .check
            .as_deref()
            .map_or(0, |check| ch.commerce.checks_passed(check));
        return Ok(Readiness::Rechecking {
            check: health.check,
            passed_before,
        });
    }
    let problem = health.problem.unwrap_or_default();
    tracing::warn!(operation = operation.function_name(), %problem, "stopped until the configuration is fixed");
    Err(OpError::Api(ApiError::new(
        Api::Commerce,
        ApiErrorKind::Configuration,
        format!("stopped until fixed: {problem}"),
    )))
}

/// After an operation's work: records a configuration problem it ran into, or clears the one it
/// was rechecking when the work proved it fixed.
pub async fn work_finished<T>(
    ch: &Channel,
    operation: Operation,
    readiness: Readiness,
    outcome: &Result<T, OpError>,
) {
    if let Err(error) = outcome
        && error.configuration_problem().is_some()
    {
        report(ch, operation, error, false).await;
        return;
    }
    if proven_fixed(ch, &readiness, outcome.is_ok())
        && let Err(e) = clear_problem(ch).await
    {
        tracing::warn!(error = %e, "could not clear the configuration problem");
    }
}

/// Whether work that did not run into a configuration problem proved the one it was rechecking
/// fixed: the failed check passed meanwhile (whatever else went wrong after it).
fn proven_fixed(ch: &Channel, readiness: &Readiness, succeeded: bool) -> bool {
    match readiness {
        Readiness::Ready => false,
        Readiness::Rechecking {
            check: Some(check),
            passed_before,
        } => ch.commerce.checks_passed(check) > *passed_before,
        Readiness::Rechecking { check: None, .. } => succeeded,
    }
}

/// Logs and records a failure when it is a configuration problem (anything else is the
/// operation's own business).
async fn report(ch: &Channel, operation: Operation, error: &OpError, at_setup: bool) {
    let Some(api) = error.configuration_problem() else {
        return;
    };
    tracing::error!(
        operation = operation.function_name(),
        api = %api.api,
        problem = %api.message,
        metric = "ConfigurationErrors",
        "stopped: the store is not configured as the channel needs"
    );
    if let Err(e) = record_problem(ch, operation, api, at_setup).await {
        tracing::warn!(error = %e, "could not record the configuration problem");
    }
}

async fn record_problem(
    ch: &Channel,
    operation: Operation,
    error: &ApiError,
    at_setup: bool,
) -> Result<(), StoreError> {
    let now = ch.clock.now();
    let key = health_key(&ch.settings.id);
    if error.message.starts_with("stopped until fixed: ") {
        // Another operation's problem, already recorded.
        return Ok(());
    }
    let problem = format!("{} configuration: {}", error.api, error.message);
    // A lost race only loses a count: the next failure writes it again.
    let mut health = ch
        .store
        .load::<ConfigurationHealth>(&key)
        .await?
        .unwrap_or_else(|| Versioned::new(healthy(&ch.settings.id)));
    let record = &mut health.record;
    if record.problem.as_deref() != Some(problem.as_str()) {
        record.since = Some(now);
        record.occurrences = 0;
    }
    record.problem = Some(problem);
    record.found_by = Some(operation.function_name().to_owned());
    record.found_at_setup = at_setup;
    record.check = error.code.clone();
    record.last_seen = Some(now);
    record.occurrences += 1;
    match ch.store.save(&mut health).await {
        Err(StoreError::ConditionFailed { .. }) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn clear_problem(ch: &Channel) -> Result<(), StoreError> {
    let key = health_key(&ch.settings.id);
    let Some(mut health) = ch.store.load::<ConfigurationHealth>(&key).await? else {
        return Ok(());
    };
    if health.record.problem.is_none() {
        return Ok(());
    }
    tracing::info!(was = ?health.record.problem, "the Commerce configuration problem is fixed");
    health.record = healthy(&ch.settings.id);
    match ch.store.save(&mut health).await {
        Err(StoreError::ConditionFailed { .. }) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

fn healthy(channel: &ChannelId) -> ConfigurationHealth {
    ConfigurationHealth {
        channel: channel.clone(),
        problem: None,
        found_by: None,
        found_at_setup: false,
        check: None,
        since: None,
        last_seen: None,
        occurrences: 0,
    }
}

/// The push subscription's standing problem (missing on Walmart, test notification failing),
/// recorded beside the configuration's by order-import's subscription check.
pub use crate::push_subscription::push_problem as push_subscription_problem;

impl OpError {
    /// The API error behind this failure when it is a configuration problem.
    pub fn configuration_problem(&self) -> Option<&ApiError> {
        match self {
            OpError::Api(e) if e.kind == ApiErrorKind::Configuration => Some(e),
            _ => None,
        }
    }
}
