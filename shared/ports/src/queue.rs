//! The work queue port: SQS semantics (at-least-once delivery, visibility timeout, receive count,
//! dead-letter after N receives), implemented by SQS and by an in-process queue.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The channel's queues. Each SQS-triggered function consumes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueName {
    /// Products to import (from the CLI/dashboard, or fanned out by a long import).
    CatalogImport,
    /// Listings to send for matching.
    ListingMatch,
    /// Urgent quantity changes (e.g. after an order or cancellation).
    InventorySync,
    /// Urgent price changes.
    PriceSync,
    /// Purchase orders to create in Commerce.
    OrderCreate,
    /// Walmart's new-order events (`ORDER_UPDATES` / `PO_CREATED`), from the `walmart-events`
    /// receiver to order-import.
    WalmartOrderEvents,
    /// Walmart's cancellation events (auto-cancel, fraud cancel, intent to cancel), from the
    /// `walmart-events` receiver to cancellation-sync.
    WalmartCancelEvents,
}

impl QueueName {
    pub const ALL: [QueueName; 7] = [
        QueueName::CatalogImport,
        QueueName::ListingMatch,
        QueueName::InventorySync,
        QueueName::PriceSync,
        QueueName::OrderCreate,
        QueueName::WalmartOrderEvents,
        QueueName::WalmartCancelEvents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::CatalogImport => "catalog-import",
            QueueName::ListingMatch => "listing-match",
            QueueName::InventorySync => "inventory-sync",
            QueueName::PriceSync => "price-sync",
            QueueName::OrderCreate => "order-create",
            QueueName::WalmartOrderEvents => "walmart-order-events",
            QueueName::WalmartCancelEvents => "walmart-cancel-events",
        }
    }

    /// The environment variable that carries the queue's URL in a deployed function.
    pub fn url_env_var(self) -> &'static str {
        match self {
            QueueName::CatalogImport => "CATALOG_IMPORT_QUEUE_URL",
            QueueName::ListingMatch => "LISTING_MATCH_QUEUE_URL",
            QueueName::InventorySync => "INVENTORY_SYNC_QUEUE_URL",
            QueueName::PriceSync => "PRICE_SYNC_QUEUE_URL",
            QueueName::OrderCreate => "ORDER_CREATE_QUEUE_URL",
            QueueName::WalmartOrderEvents => "WALMART_ORDER_EVENTS_QUEUE_URL",
            QueueName::WalmartCancelEvents => "WALMART_CANCEL_EVENTS_QUEUE_URL",
        }
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    /// Hidden from receivers until then.
    pub delay: Duration,
}

impl OutgoingMessage {
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A received message. It stays invisible for the visibility timeout; delete it once handled or it
/// comes back, and after the queue's maximum receives it moves to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// 1 on first delivery.
    pub receive_count: u32,
}

/// Per-queue settings, as SQS's queue attributes and redrive policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    pub visibility_timeout: Duration,
    /// Receives before a message is dead-lettered.
    pub max_receives: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue {0:?} is not configured")]
    UnknownQueue(QueueName),
    #[error("message of {bytes} bytes exceeds the 256 KiB limit")]
    TooLarge { bytes: usize },
    #[error("receipt is no longer valid (the message was received again or deleted)")]
    StaleReceipt,
    #[error("{failed} of {total} messages were not sent: {first_error}")]
    PartialSend {
        failed: usize,
        total: usize,
        first_error: String,
    },
    #[error("queue temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("queue error: {0}")]
    Backend(String),
}

/// SQS's message size limit.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// SQS's batch size limit.
pub const MAX_BATCH: usize = 10;

pub fn check_message(msg: &OutgoingMessage) -> Result<(), QueueError> {
    if msg.body.len() > MAX_MESSAGE_BYTES {
        return Err(QueueError::TooLarge {
            bytes: msg.body.len(),
        });
    }
    Ok(())
}

/// How many messages a queue holds, as SQS's approximate attributes count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueDepth {
    /// Ready to be received (`ApproximateNumberOfMessages`).
    pub waiting: u64,
    /// Received and not yet deleted (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: u64,
    /// Sent with a delay that has not passed yet (`ApproximateNumberOfMessagesDelayed`).
    pub delayed: u64,
    /// In the queue's dead-letter queue.
    pub dead_letters: u64,
}

#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn send(&self, queue: QueueName, message: OutgoingMessage) -> Result<(), QueueError>;

    /// Sends any number of messages, in batches of [`MAX_BATCH`]. Messages that fail are retried once;
    /// any still failing are reported as `PartialSend`.
    async fn send_all(&self, queue: QueueName, messages: Vec<OutgoingMessage>) -> Result<(), QueueError>;

    /// Up to `max` messages (at most 10), waiting up to `wait` for the first one.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, QueueError>;

    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError>;

    /// Makes a received message visible again after `timeout` (zero: at once).
    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        timeout: Duration,
    ) -> Result<(), QueueError>;

    /// Messages waiting in the queue's dead-letter queue (for alarms, dashboards and tests).
    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Delivery>, QueueError>;

    /// How many messages the queue and its dead-letter queue hold (approximately, as SQS counts).
    /// Wrappers that do not forward it report it unsupported.
    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        Err(QueueError::Backend(format!(
            "queue depth of {} is not available from this queue",
            queue.as_str()
        )))
    }

    /// Moves up to `max` messages of the queue's dead-letter queue back to the queue, received zero
    /// times; returns how many moved. At least once: a message may be moved twice after a crash
    /// (every handler is idempotent).
    async fn redrive(&self, queue: QueueName, max: usize) -> Result<usize, QueueError> {
        let _ = max;
        Err(QueueError::Backend(format!(
            "re-driving the dead letters of {} is not available from this queue",
            queue.as_str()
        )))
    }
}
