//! The channel's `ORDER_UPDATES` subscription on Walmart, kept by order-import's scheduled run:
//! on the first run after a deploy that changed it (URL, auth method or header) and once a day
//! after, it creates or updates the subscription to the channel's own receiver URL, removes the
//! legacy order subscriptions (`PO_CREATED`, `PO_LINE_AUTOCANCELLED`, `INTENT_TO_CANCEL`) that
//! deliver to that URL, and asks Walmart for a test notification. A subscription missing on
//! Walmart (lost, or deleted by hand) is re-created and reported; a failed test notification is
//! reported. Both show in the run report and in the health record the dashboard and the local
//! runner read ([`push_problem`]); while a problem stands the check runs on every run.
//!
//! The polls stay: they are the backstop that still meets every documented delay with no events
//! at all. What they find that events missed is counted ([`ORDERS_FOUND_BY_POLL_NOT_EVENT`],
//! [`CANCELLATIONS_FOUND_BY_POLL_NOT_EVENT`]): the health of the push path.

use std::time::Duration;

use domain::{ChannelId, Timestamp};
use ports::records::channel_pk;
use ports::webhooks::{LEGACY_ORDER_EVENTS, ORDER_UPDATES, SubscriptionRequest};
use ports::{Deadline, Key, Record, Records, StateStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};

use crate::{Channel, Counter, RunReport};

/// Run report counts of the polls: orders (order-import) and Walmart-side cancellations
/// (cancellation-sync) a poll found before any event did, while push is on.
pub const ORDERS_FOUND_BY_POLL_NOT_EVENT: Counter = Counter::OrdersFoundByPollNotEvent;
pub const CANCELLATIONS_FOUND_BY_POLL_NOT_EVENT: Counter = Counter::CancellationsFoundByPollNotEvent;

/// Run report counts of the subscription check.
pub const SUBSCRIPTION_CREATED: Counter = Counter::PushSubscriptionCreated;
pub const SUBSCRIPTION_UPDATED: Counter = Counter::PushSubscriptionUpdated;
pub const SUBSCRIPTION_MISSING: Counter = Counter::PushSubscriptionMissing;
pub const LEGACY_SUBSCRIPTIONS_REMOVED: Counter = Counter::LegacySubscriptionsRemoved;
pub const TEST_NOTIFICATION_FAILED: Counter = Counter::PushTestNotificationFailed;

/// A healthy subscription is checked again after this.
pub const RECHECK_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The push subscription's health, `CH#{ch}#HEALTH` / `push-subscription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushHealth {
    pub channel: ChannelId,
    /// What is wrong (missing subscription, failed test notification); `None` when healthy.
    pub problem: Option<String>,
    /// The subscription as last created or found.
    pub subscription_id: Option<String>,
    /// What the check was for: URL, auth method and header (a deploy changing them rechecks).
    pub wanted: String,
    pub checked_at: Timestamp,
}

impl Record for PushHealth {
    fn key(&self) -> Key {
        push_health_key(&self.channel)
    }
}

pub fn push_health_key(channel: &ChannelId) -> Key {
    Key::new(channel_pk(channel, "HEALTH"), "push-subscription")
}

/// The push subscription's recorded problem, if any (for the dashboard and the local runner).
pub async fn push_problem(store: &dyn StateStore, channel: &ChannelId) -> Result<Option<String>, StoreError> {
    Ok(store
        .load::<PushHealth>(&push_health_key(channel))
        .await?
        .and_then(|v| v.record.problem))
}

/// Whether the subscription is due for a check: never checked, changed by a deploy, a problem
/// standing, or a day since the last.
pub fn check_due(last: Option<&PushHealth>, wanted: &str, now: Timestamp) -> bool {
    match last {
        None => true,
        Some(h) => h.wanted != wanted || h.problem.is_some() || now.since(h.checked_at) >= RECHECK_AFTER,
    }
}

/// Keeps the subscription when due. Never fails the run: problems go to the report and the
/// health record (the polls carry the orders meanwhile).
pub async fn maintain(ch: &Channel, deadline: &Deadline, report: &mut RunReport) {
    let (Some(url), Some(auth)) = (
        ch.settings.push.event_url.clone(),
        crate::walmart_events::receiver_auth(&ch.settings.push),
    ) else {
        return;
    };
    let wanted_desc = format!("{url} {} {}", auth.method(), auth.header_name());
    let key = push_health_key(&ch.settings.id);
    let last = match ch.store.load::<PushHealth>(&key).await {
        Ok(last) => last,
        Err(e) => {
            report.problem(format!("push subscription health not read: {e}"));
            return;
        }
    };
    let now = ch.clock.now();
    if !check_due(last.as_ref().map(|v| &v.record), &wanted_desc, now) {
        return;
    }
    let wanted = SubscriptionRequest::order_updates(url.clone(), auth);
    let known_id = last.as_ref().and_then(|v| v.record.subscription_id.clone());
    let (subscription_id, problem) = check(ch, &wanted, known_id.as_deref(), deadline, report).await;
    if let Some(problem) = &problem {
        report.problem(problem.clone());
        tracing::warn!(%problem, metric = "PushSubscriptionProblems", "push subscription problem");
    }
    let record = PushHealth {
        channel: ch.settings.id.clone(),
        problem,
        subscription_id,
        wanted: wanted_desc,
        checked_at: now,
    };
    let mut versioned = last.unwrap_or_else(|| Versioned::new(record.clone()));
    versioned.record = record;
    // A lost race only means another run checked at the same time.
    if let Err(e) = ch.store.save(&mut versioned).await
        && !matches!(e, StoreError::ConditionFailed { .. })
    {
        report.problem(format!("push subscription health not saved: {e}"));
    }
}

/// Creates or updates the subscription, removes legacy ones, tests it. Returns the subscription
/// id and the problem found.
async fn check(
    ch: &Channel,
    wanted: &SubscriptionRequest,
    known_id: Option<&str>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> (Option<String>, Option<String>) {
    let listed = match ch.walmart.list_subscriptions(deadline).await {
        Ok(listed) => listed,
        Err(e) => {
            return (
                known_id.map(str::to_owned),
                Some(format!("Walmart subscriptions not read: {e}")),
            );
        }
    };
    let mut problems = Vec::new();
    for legacy in listed
        .iter()
        .filter(|s| LEGACY_ORDER_EVENTS.contains(&s.event_type.as_str()) && s.delivers_to(&wanted.event_url))
    {
        match ch
            .walmart
            .delete_subscription(&legacy.subscription_id, deadline)
            .await
        {
            Ok(()) => report.add(LEGACY_SUBSCRIPTIONS_REMOVED, 1),
            Err(e) => problems.push(format!(
                "legacy {} subscription {} not removed: {e}",
                legacy.event_type, legacy.subscription_id
            )),
        }
    }
    // Walmart keeps one subscription per event type and seller: ours is the one delivering here,
    // else the seller's ORDER_UPDATES subscription is pointed here (a redeploy moved the URL).
    let ours = listed
        .iter()
        .find(|s| s.event_type == ORDER_UPDATES && s.delivers_to(&wanted.event_url))
        .or_else(|| listed.iter().find(|s| s.event_type == ORDER_UPDATES));
    let id = match ours {
        // Updated daily even when it looks right: a rotated secret does not show.
        Some(existing) => match ch
            .walmart
            .update_subscription(&existing.subscription_id, wanted, deadline)
            .await
        {
            Ok(()) => {
                report.add(SUBSCRIPTION_UPDATED, 1);
                Some(existing.subscription_id.clone())
            }
            Err(e) => {
                problems.push(format!("ORDER_UPDATES subscription not updated: {e}"));
                Some(existing.subscription_id.clone())
            }
        },
        None => {
            if known_id.is_some() {
                report.add(SUBSCRIPTION_MISSING, 1);
                tracing::warn!("the ORDER_UPDATES subscription is missing on Walmart; creating it again");
            }
            match ch.walmart.create_subscription(wanted, deadline).await {
                Ok(id) => {
                    report.add(SUBSCRIPTION_CREATED, 1);
                    Some(id)
                }
                Err(e) => {
                    report.add(SUBSCRIPTION_MISSING, u64::from(known_id.is_none()));
                    problems.push(format!(
                        "ORDER_UPDATES subscription to {} missing and not created: {e}",
                        wanted.event_url
                    ));
                    None
                }
            }
        }
    };
    if id.is_some()
        && let Err(e) = ch.walmart.test_notification(wanted, deadline).await
    {
        report.add(TEST_NOTIFICATION_FAILED, 1);
        problems.push(format!(
            "Walmart's test notification to {} failed: {e}",
            wanted.event_url
        ));
    }
    let problem = (!problems.is_empty()).then(|| problems.join("; "));
    (id, problem)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checks_are_daily_unless_changed_or_failing() {
        let at = |h: i64| Timestamp::from_millis(h * 3_600_000);
        let healthy = PushHealth {
            channel: ChannelId::new("main").unwrap(),
            problem: None,
            subscription_id: Some("s".into()),
            wanted: "u HMAC h".into(),
            checked_at: at(0),
        };
        assert!(check_due(None, "u HMAC h", at(0)));
        assert!(!check_due(Some(&healthy), "u HMAC h", at(23)));
        assert!(check_due(Some(&healthy), "u HMAC h", at(24)));
        assert!(
            check_due(Some(&healthy), "v HMAC h", at(1)),
            "a deploy changed it"
        );
        let failing = PushHealth {
            problem: Some("x".into()),
            ..healthy
        };
        assert!(check_due(Some(&failing), "u HMAC h", at(1)));
    }
}
