//! The webhook records the control API shares with [`crate::ControlClient`]: delivery settings, the
//! delivery log, and the Walmart-side cancellations that produce order events.

use domain::Timestamp;
use serde::{Deserialize, Serialize};

/// How Walmart's deliveries behave (`webhooks` in `SandboxSettings`, or
/// `PUT /_sandbox/webhooks/settings`). Every random choice is drawn from `seed` and the event's
/// sequence number, so a run with the same seed and the same events makes the same choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Seed of the drop, duplicate and out-of-order choices.
    pub seed: u64,
    /// Sandbox seconds between an event and its first delivery attempt (Walmart's own lag;
    /// "near real time", no figure published).
    pub delivery_delay_secs: u64,
    /// Share of deliveries (0..=1) never sent at all (Walmart's "events can be lost").
    pub drop_rate: f64,
    /// Share of deliveries sent twice with the same `eventId` (the second copy after the first
    /// succeeded, `duplicate_delay_secs` later).
    pub duplicate_rate: f64,
    pub duplicate_delay_secs: u64,
    /// Share of deliveries held back `out_of_order_delay_secs` (sandbox time), so later events
    /// overtake them.
    pub out_of_order_rate: f64,
    pub out_of_order_delay_secs: u64,
    /// Waits (sandbox seconds) before each retry of a delivery that got a non-2xx answer or timed
    /// out; one retry per entry, then the delivery is given up.
    pub retry_backoff_secs: Vec<u64>,
    /// How long (wall-clock milliseconds) Walmart waits for the destination's answer.
    pub timeout_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            delivery_delay_secs: 0,
            drop_rate: 0.0,
            duplicate_rate: 0.0,
            duplicate_delay_secs: 0,
            out_of_order_rate: 0.0,
            out_of_order_delay_secs: 120,
            retry_backoff_secs: vec![30, 120, 600, 1800],
            timeout_ms: 5_000,
        }
    }
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The destination answered 2xx.
    Delivered { status: u16 },
    /// The destination answered something else.
    Rejected { status: u16 },
    /// No answer within `timeout_ms`.
    TimedOut,
    /// No connection, or an OAuth token could not be had.
    Failed { message: String },
    /// The fault mode dropped the event: nothing was sent.
    Dropped,
    /// The subscription was deleted or made inactive before the delivery was sent.
    SubscriptionGone,
}

impl DeliveryOutcome {
    pub fn delivered(&self) -> bool {
        matches!(self, DeliveryOutcome::Delivered { .. })
    }
}

/// One entry of the delivery log (`GET /_sandbox/webhooks/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// `source.eventId` of the delivered body.
    pub event_id: String,
    /// `None` for `POST /v3/webhooks/test`.
    pub subscription_id: Option<String>,
    pub event_type: String,
    /// `payload.subEventType` of `ORDER_UPDATES`, or the legacy event's own type.
    pub sub_event_type: Option<String>,
    pub purchase_order_id: Option<String>,
    pub event_url: String,
    /// When the event happened (`source.eventTime`), sandbox time.
    pub event_time: Timestamp,
    /// 1 for the first try, 2 for the first retry, ... (0 for a dropped event).
    pub attempt: u32,
    /// 0 for the original delivery, 1 for the duplicate copy.
    pub copy: u32,
    /// Sandbox time the request was sent, and the answer (or the timeout) came.
    pub sent_at: Timestamp,
    pub finished_at: Timestamp,
    pub outcome: DeliveryOutcome,
    /// Another attempt is scheduled.
    pub will_retry: bool,
}

/// Counts for a settle phase or a progress line (`GET /_sandbox/webhooks/status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStatus {
    pub subscriptions: usize,
    pub active_subscriptions: usize,
    /// Deliveries waiting for their time (first tries, retries, held-back and duplicate copies).
    pub pending: usize,
    pub in_flight: usize,
    pub delivered: usize,
    pub dropped: usize,
    /// Deliveries given up after their last retry.
    pub given_up: usize,
}

/// Lines Walmart cancels itself (`POST /_sandbox/orders/{po}/auto-cancel` and `/fraud-cancel`):
/// every unshipped unit of `lines`, of every line with unshipped units when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalmartCancellation {
    #[serde(default)]
    pub lines: Vec<u32>,
}
