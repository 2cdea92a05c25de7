//! Walmart's notifications (webhooks): the subscriptions API (`/v3/webhooks/...`), and the
//! delivery of order events to subscribed URLs with Walmart's behaviours (retries with back-off on
//! the sandbox clock, duplicates, out-of-order delivery, lost events), every choice drawn from a
//! seed.
//!
//! ```text
//! subscriptions   event type catalog, the rules of a subscription, its JSON
//! events          the bodies Walmart posts (ORDER_UPDATES, legacy order events, test samples)
//! api             the /v3/webhooks routes
//! delivery        the background sender: signing (HMAC, basic auth, OAuth), retries, the log
//! control         /_sandbox/webhooks/... and Walmart's own cancellations
//! model           settings and log records shared with the ControlClient
//! ```
//!
//! The world calls [`Hub::order_changed`] where orders are created, cancelled by Walmart or asked
//! to be cancelled; the hub turns that into one pending delivery per matching active subscription.

pub mod api;
mod client;
pub mod control;
pub mod delivery;
pub mod events;
pub mod model;
pub mod subscriptions;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use domain::Timestamp;
use tokio::sync::Notify;

use events::OrderSubEvent;
use model::{DeliveryAttempt, DeliveryOutcome, WebhookSettings, WebhookStatus};
use subscriptions::{ORDER_UPDATES, Subscription};

use crate::world::Order;

/// The seller's partner id in subscriptions and event payloads.
pub const PARTNER_ID: &str = "100009";

/// One body to deliver to one subscription.
#[derive(Debug, Clone)]
pub struct Job {
    pub seq: u64,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub sub_event_type: Option<String>,
    pub purchase_order_id: Option<String>,
    pub event_time: Timestamp,
    /// The exact bytes sent (and signed), the same for every attempt and copy.
    pub body: Arc<Vec<u8>>,
    /// Attempts made so far.
    pub attempts: u32,
    pub copy: u32,
    /// A duplicate copy follows once this one is delivered.
    pub duplicate_follows: bool,
}

/// The subscriptions, the deliveries waiting for their time, and the delivery log.
#[derive(Debug, Default)]
pub struct Hub {
    pub subscriptions: BTreeMap<String, Subscription>,
    /// By (due time, sequence): taken oldest first.
    pending: BTreeMap<(Timestamp, u64), Job>,
    /// Subscriptions with a delivery on the wire: one at a time each, so deliveries are in order
    /// unless the out-of-order mode holds one back.
    in_flight: HashSet<String>,
    pub log: Vec<DeliveryAttempt>,
    next_seq: u64,
    next_subscription: u64,
    /// Wakes the sender when something is due now.
    pub wake: Arc<Notify>,
}

/// A uniform draw in `[0, 1)` from the seed, the delivery's sequence number and the choice it is
/// for: the same choices for the same seed and events, whatever the timing.
fn draw(seed: u64, seq: u64, choice: u64) -> f64 {
    let mut z = seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ choice.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // 53 random bits as a fraction.
    (z >> 11) as f64 / (1u64 << 53) as f64
}

const DROP: u64 = 1;
const DUPLICATE: u64 = 2;
const REORDER: u64 = 3;
const EVENT_ID: u64 = 4;

impl Hub {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A UUID-shaped event id drawn from the seed and sequence: unique per delivery, repeatable.
    pub fn event_id(&mut self, seed: u64) -> (u64, String) {
        let seq = self.seq();
        let high = (draw(seed, seq, EVENT_ID) * (1u64 << 53) as f64) as u64;
        let bytes: [u8; 16] = ((u128::from(high) << 64) | u128::from(seq)).to_be_bytes();
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid().to_string();
        (seq, id)
    }

    pub fn new_subscription_id(&mut self, now: Timestamp) -> String {
        self.next_subscription += 1;
        // Walmart's ids are time-based UUIDs; a counter keeps them unique and readable here.
        format!(
            "{:08x}-b321-11ea-ac13-{:012x}",
            (now.millis() / 1000) as u32,
            self.next_subscription
        )
    }

    /// Announces an order change to every active subscription that wants it: `ORDER_UPDATES`
    /// always, the legacy event of the same name until it is removed. `lines` narrows the order
    /// summary to the lines concerned (empty: every line).
    pub fn order_changed(
        &mut self,
        settings: &WebhookSettings,
        sub_event: OrderSubEvent,
        order: &Order,
        lines: &[u32],
        now: Timestamp,
    ) {
        let targets: Vec<(String, String)> = self
            .subscriptions
            .values()
            .filter(|s| s.active())
            .filter(|s| {
                s.event_type == ORDER_UPDATES
                    || (sub_event.legacy_event_type() == Some(s.event_type.as_str())
                        && subscriptions::event_type(&s.event_type).is_some_and(|t| t.available(now)))
            })
            .map(|s| (s.subscription_id.clone(), s.event_type.clone()))
            .collect();
        if targets.is_empty() {
            return;
        }
        let summary = events::order_summary(PARTNER_ID, order, sub_event, lines);
        for (subscription_id, event_type) in targets {
            let (seq, event_id) = self.event_id(settings.seed);
            let body = if event_type == ORDER_UPDATES {
                events::order_updates(&event_id, now, sub_event, &summary)
            } else {
                events::legacy(&event_id, now, &event_type, &summary)
            };
            let job = Job {
                seq,
                subscription_id,
                event_id,
                event_type,
                sub_event_type: Some(sub_event.as_str().to_owned()),
                purchase_order_id: Some(order.purchase_order_id.clone()),
                event_time: now,
                body: Arc::new(body.to_string().into_bytes()),
                attempts: 0,
                copy: 0,
                duplicate_follows: false,
            };
            self.enqueue(settings, job, now);
        }
    }

    /// Announces a Walmart-side cancellation of `lines` (line, reason): auto-cancellations and
    /// fraud cancellations, each with the lines it concerns; other reasons announce nothing.
    pub fn walmart_cancelled(
        &mut self,
        settings: &WebhookSettings,
        order: &Order,
        lines: &[(u32, String)],
        now: Timestamp,
    ) {
        for sub_event in [OrderSubEvent::PoLineAutoCancelled, OrderSubEvent::FraudCancel] {
            let mut concerned: Vec<u32> = lines
                .iter()
                .filter(|(_, reason)| events::cancellation_event(reason) == Some(sub_event))
                .map(|(line, _)| *line)
                .collect();
            concerned.dedup();
            if !concerned.is_empty() {
                self.order_changed(settings, sub_event, order, &concerned, now);
            }
        }
    }

    /// Applies the fault modes to a new delivery and queues it.
    fn enqueue(&mut self, settings: &WebhookSettings, mut job: Job, now: Timestamp) {
        let seq = job.seq;
        if draw(settings.seed, seq, DROP) < settings.drop_rate {
            let url = self
                .subscriptions
                .get(&job.subscription_id)
                .map(|s| s.event_url.clone())
                .unwrap_or_default();
            self.log.push(attempt_record(
                &job,
                url,
                now,
                now,
                DeliveryOutcome::Dropped,
                false,
            ));
            return;
        }
        job.duplicate_follows = draw(settings.seed, seq, DUPLICATE) < settings.duplicate_rate;
        let first = now.plus(Duration::from_secs(settings.delivery_delay_secs));
        let due = if draw(settings.seed, seq, REORDER) < settings.out_of_order_rate {
            first.plus(Duration::from_secs(settings.out_of_order_delay_secs))
        } else {
            first
        };
        self.pending.insert((due, seq), job);
        self.wake.notify_one();
    }

    /// The deliveries due at `now` whose subscription has nothing on the wire, at most one per
    /// subscription, oldest first; each with the subscription as it is now. Deliveries of deleted
    /// or inactive subscriptions are logged as such and forgotten.
    pub fn take_due(&mut self, now: Timestamp) -> Vec<(Job, Subscription)> {
        let due: Vec<(Timestamp, u64)> = self
            .pending
            .range(..=(now, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        let mut taken = Vec::new();
        for key in due {
            let Some(job) = self.pending.get(&key) else {
                continue;
            };
            let subscription = self
                .subscriptions
                .get(&job.subscription_id)
                .filter(|s| s.active())
                .cloned();
            match subscription {
                None => {
                    if let Some(job) = self.pending.remove(&key) {
                        self.log.push(attempt_record(
                            &job,
                            String::new(),
                            now,
                            now,
                            DeliveryOutcome::SubscriptionGone,
                            false,
                        ));
                    }
                }
                Some(subscription) => {
                    if self.in_flight.contains(&subscription.subscription_id) {
                        continue;
                    }
                    if let Some(job) = self.pending.remove(&key) {
                        self.in_flight.insert(subscription.subscription_id.clone());
                        taken.push((job, subscription));
                    }
                }
            }
        }
        taken
    }

    /// Records an attempt's outcome; schedules the retry (after the next back-off) or the
    /// duplicate copy.
    pub fn finish(
        &mut self,
        settings: &WebhookSettings,
        mut job: Job,
        event_url: String,
        sent_at: Timestamp,
        finished_at: Timestamp,
        outcome: DeliveryOutcome,
    ) {
        self.in_flight.remove(&job.subscription_id);
        job.attempts += 1;
        let delivered = outcome.delivered();
        let backoff = settings
            .retry_backoff_secs
            .get(usize::try_from(job.attempts - 1).unwrap_or(usize::MAX))
            .copied();
        let will_retry = !delivered && backoff.is_some();
        self.log.push(attempt_record(
            &job,
            event_url,
            sent_at,
            finished_at,
            outcome,
            will_retry,
        ));
        if let (true, Some(wait)) = (will_retry, backoff) {
            let due = finished_at.plus(Duration::from_secs(wait));
            self.pending.insert((due, job.seq), job);
        } else if delivered && job.duplicate_follows {
            let copy = Job {
                attempts: 0,
                copy: job.copy + 1,
                duplicate_follows: false,
                ..job
            };
            let due = finished_at.plus(Duration::from_secs(settings.duplicate_delay_secs));
            self.pending.insert((due, copy.seq), copy);
        }
        self.wake.notify_one();
    }

    pub fn status(&self) -> WebhookStatus {
        WebhookStatus {
            subscriptions: self.subscriptions.len(),
            active_subscriptions: self.subscriptions.values().filter(|s| s.active()).count(),
            pending: self.pending.len(),
            in_flight: self.in_flight.len(),
            delivered: self.log.iter().filter(|a| a.outcome.delivered()).count(),
            dropped: self
                .log
                .iter()
                .filter(|a| a.outcome == DeliveryOutcome::Dropped)
                .count(),
            given_up: self
                .log
                .iter()
                .filter(|a| {
                    !a.outcome.delivered()
                        && a.outcome != DeliveryOutcome::SubscriptionGone
                        && a.attempt > 0
                        && !a.will_retry
                })
                .count(),
        }
    }

    /// Forgets the pending deliveries of a subscription (deleted: Walmart sends no more).
    pub fn remove_subscription(&mut self, id: &str) -> Option<Subscription> {
        self.pending.retain(|_, job| job.subscription_id != id);
        self.subscriptions.remove(id)
    }
}

fn attempt_record(
    job: &Job,
    event_url: String,
    sent_at: Timestamp,
    finished_at: Timestamp,
    outcome: DeliveryOutcome,
    will_retry: bool,
) -> DeliveryAttempt {
    let attempt = if outcome == DeliveryOutcome::Dropped {
        0
    } else {
        job.attempts
    };
    DeliveryAttempt {
        event_id: job.event_id.clone(),
        subscription_id: Some(job.subscription_id.clone()),
        event_type: job.event_type.clone(),
        sub_event_type: job.sub_event_type.clone(),
        purchase_order_id: job.purchase_order_id.clone(),
        event_url,
        event_time: job.event_time,
        attempt,
        copy: job.copy,
        sent_at,
        finished_at,
        outcome,
        will_retry,
    }
}

#[cfg(test)]
mod tests {
    use super::draw;

    #[test]
    fn draws_are_repeatable_and_spread() {
        assert_eq!(draw(7, 1, 1), draw(7, 1, 1));
        assert_ne!(draw(7, 1, 1), draw(8, 1, 1));
        let below: usize = (0..10_000).filter(|seq| draw(3, *seq, 1) < 0.2).count();
        assert!((1_700..2_300).contains(&below), "{below} of 10000 below 0.2");
    }
}
