//! The channel's queue messages, each with the queue it travels on, written once: how a message is
//! encoded and decoded ([`QueueMessage`]), and how any sender sends many ([`send_all`], the one send
//! loop). The registry decodes each delivery into its typed message before the operation's handler
//! sees it ([`Received`], as `aws_lambda_events`' `SqsEventObj<T>` does): no handler parses JSON,
//! and a malformed body is an [`OpError::BadMessage`] (bad input, with serde's error as its source)
//! that fails its own record only; a message of ours that cannot be encoded is an
//! [`OpError::Encoding`], a defect.
//!
//! The wire format of every message is fixed: messages in flight during a deployment must decode.

use std::marker::PhantomData;
use std::time::Duration;

use domain::{ChannelId, PurchaseOrderId, Sku, Timestamp};
use ports::{OutgoingMessage, QueueName};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Channel, OpError};

/// A queued message as any queue delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub message_id: String,
    pub body: String,
    /// 1 on first delivery.
    pub receive_count: u32,
}

impl Message {
    /// The delivery with its body decoded as the message its queue carries.
    pub fn decode<M: QueueMessage>(&self) -> Result<Received<M>, OpError> {
        let body = serde_json::from_str(&self.body).map_err(|source| OpError::BadMessage {
            what: format!("{} message {}", M::QUEUE.as_str(), self.message_id),
            source,
        })?;
        Ok(Received {
            message_id: self.message_id.clone(),
            receive_count: self.receive_count,
            body,
        })
    }
}

/// A delivered message, its body decoded: what a message handler receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<M> {
    pub message_id: String,
    /// 1 on first delivery.
    pub receive_count: u32,
    pub body: M,
}

/// A message of one queue, JSON on the wire.
pub trait QueueMessage: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The queue that carries it.
    const QUEUE: QueueName;

    fn encode(&self) -> Result<OutgoingMessage, OpError> {
        serde_json::to_string(self)
            .map(OutgoingMessage::new)
            .map_err(|source| OpError::Encoding {
                what: Self::QUEUE.as_str(),
                source,
            })
    }
}

/// Sends messages to their queue: the one send loop every sender goes through (the queue batches
/// them by SQS's limit and retries failed entries once). Nothing is sent for none.
pub async fn send_all<M: QueueMessage>(ch: &Channel, messages: &[M]) -> Result<(), OpError> {
    let encoded = messages
        .iter()
        .map(QueueMessage::encode)
        .collect::<Result<Vec<_>, _>>()?;
    if !encoded.is_empty() {
        ch.queues.send_all(M::QUEUE, encoded).await?;
    }
    Ok(())
}

/// Sends one message, hidden from receivers for `delay`.
pub async fn send_delayed<M: QueueMessage>(
    ch: &Channel,
    message: &M,
    delay: Duration,
) -> Result<(), OpError> {
    ch.queues.send(M::QUEUE, message.encode()?.delayed(delay)).await?;
    Ok(())
}

// ---------------------------------------------------------------- SKUs needing an operation now

/// SKUs per message when a caller asks for many.
const SKUS_PER_MESSAGE: usize = 1_000;

/// A queue that carries [`SkusNow`] messages.
pub trait SkuQueue: Send + Sync + 'static {
    const QUEUE: QueueName;
}

/// "These SKUs need the operation now", JSON `{"skus": [...]}`: one shape for the three queues
/// that carry it (what "now" means is the consumer's: match again, send the quantity, send the
/// price). A missing list is an empty one (listing-match reads `{}` as "drafts are waiting").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct SkusNow<Q: SkuQueue> {
    #[serde(default)]
    pub skus: Vec<Sku>,
    #[serde(skip)]
    queue: PhantomData<Q>,
}

impl<Q: SkuQueue> SkusNow<Q> {
    pub fn new(skus: Vec<Sku>) -> Self {
        Self {
            skus,
            queue: PhantomData,
        }
    }

    /// Sends `skus` in messages of at most [`SKUS_PER_MESSAGE`]; none for none.
    pub async fn send(ch: &Channel, skus: &[Sku]) -> Result<(), OpError> {
        let messages: Vec<Self> = skus
            .chunks(SKUS_PER_MESSAGE)
            .map(|c| Self::new(c.to_vec()))
            .collect();
        send_all(ch, &messages).await
    }
}

impl<Q: SkuQueue> Default for SkusNow<Q> {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl<Q: SkuQueue> QueueMessage for SkusNow<Q> {
    const QUEUE: QueueName = Q::QUEUE;
}

/// The listing-match queue: failed listings to match again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToListingMatch;
impl SkuQueue for ToListingMatch {
    const QUEUE: QueueName = QueueName::ListingMatch;
}

/// The inventory-sync queue: SKUs whose salable quantity just changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToInventorySync;
impl SkuQueue for ToInventorySync {
    const QUEUE: QueueName = QueueName::InventorySync;
}

/// The price-sync queue: SKUs to price now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToPriceSync;
impl SkuQueue for ToPriceSync {
    const QUEUE: QueueName = QueueName::PriceSync;
}

/// A listing-match message: SKUs of failed listings to match again; none only says drafts are
/// waiting.
pub type MatchRequest = SkusNow<ToListingMatch>;
/// An inventory-sync message: SKUs whose salable quantity just changed (after an order or a
/// cancellation).
pub type UrgentSkus = SkusNow<ToInventorySync>;
/// A price-sync message: SKUs to price now.
pub type PriceSkus = SkusNow<ToPriceSync>;

/// Queues a match request (SKUs to retry; none: one message saying drafts are waiting).
pub async fn request_match(ch: &Channel, skus: &[Sku]) -> Result<(), OpError> {
    if skus.is_empty() {
        return send_all(ch, &[MatchRequest::default()]).await;
    }
    MatchRequest::send(ch, skus).await
}

/// Queues an urgent inventory sync of `skus`, each once (order-create after placing an order,
/// cancellation-sync after a cancellation).
pub async fn enqueue_urgent(ch: &Channel, skus: &[Sku]) -> Result<(), OpError> {
    let unique: std::collections::BTreeSet<&Sku> = skus.iter().collect();
    let unique: Vec<Sku> = unique.into_iter().cloned().collect();
    UrgentSkus::send(ch, &unique).await
}

/// Queues SKUs to be priced now.
pub async fn enqueue_prices(ch: &Channel, skus: &[Sku]) -> Result<(), OpError> {
    PriceSkus::send(ch, skus).await
}

// ---------------------------------------------------------------- catalog-import

/// A message of the catalog-import queue (JSON, tagged by `kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportRequest {
    /// Import these products now: `{"kind": "skus", "skus": ["MUG-1", ...]}`.
    Skus { skus: Vec<Sku> },
    /// Import every product of the channel's selection: `{"kind": "selection"}`.
    Selection,
    /// One page of a catalog read (fanned out by a run): the selection's products changed since
    /// `changed_since` (all of them when absent), page `page` of `size`.
    Page {
        #[serde(default)]
        changed_since: Option<Timestamp>,
        page: u32,
        size: u32,
    },
}

impl QueueMessage for ImportRequest {
    const QUEUE: QueueName = QueueName::CatalogImport;
}

/// Queues an import of `skus` (for the CLI, the dashboard and the API).
pub async fn request_import(ch: &Channel, skus: &[Sku]) -> Result<(), OpError> {
    let messages: Vec<ImportRequest> = skus
        .chunks(SKUS_PER_MESSAGE)
        .map(|chunk| ImportRequest::Skus { skus: chunk.to_vec() })
        .collect();
    send_all(ch, &messages).await
}

// ---------------------------------------------------------------- order-create

/// The order-create queue's message: create the Commerce order of this purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOrder {
    pub channel: ChannelId,
    pub purchase_order_id: PurchaseOrderId,
}

impl QueueMessage for CreateOrder {
    const QUEUE: QueueName = QueueName::OrderCreate;
}

impl CreateOrder {
    pub fn new(ch: &Channel, purchase_order_id: PurchaseOrderId) -> Self {
        Self {
            channel: ch.settings.id.clone(),
            purchase_order_id,
        }
    }

    pub fn message(&self) -> Result<OutgoingMessage, OpError> {
        self.encode()
    }

    pub fn parse(body: &str) -> Result<Self, OpError> {
        serde_json::from_str(body).map_err(|source| OpError::BadMessage {
            what: "not a create-order message".to_owned(),
            source,
        })
    }
}

// ---------------------------------------------------------------- Walmart's order notifications

/// What the `walmart-events` receiver queues of one `ORDER_UPDATES` notification: what its consumer
/// needs to act and no buyer data (the event is a summary; the consumer reads the order itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalmartEvent {
    /// `source.eventId`: each event is acted on once.
    pub event_id: String,
    /// `payload.subEventType`, e.g. `PO_CREATED`.
    pub sub_event: String,
    pub purchase_order_id: PurchaseOrderId,
    /// `source.eventTime` as Walmart sent it, for logs.
    #[serde(default)]
    pub event_time: Option<String>,
}

/// order-import's event queue: a new purchase order (`PO_CREATED`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderEvent(pub WalmartEvent);

impl QueueMessage for OrderEvent {
    const QUEUE: QueueName = QueueName::WalmartOrderEvents;
}

/// cancellation-sync's event queue: a Walmart-side cancellation or a customer's request to cancel
/// (`PO_LINE_AUTOCANCELLED`, `FRAUD_CANCEL`, `INTENT_TO_CANCEL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CancelEvent(pub WalmartEvent);

impl QueueMessage for CancelEvent {
    const QUEUE: QueueName = QueueName::WalmartCancelEvents;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::new(s).unwrap()
    }

    fn message(body: &str) -> Message {
        Message {
            message_id: "m1".into(),
            body: body.into(),
            receive_count: 2,
        }
    }

    #[test]
    fn sku_messages_keep_their_wire_format() {
        let urgent = UrgentSkus::new(vec![sku("A"), sku("B")]);
        assert_eq!(urgent.encode().unwrap().body, r#"{"skus":["A","B"]}"#);
        let decoded: Received<PriceSkus> = message(r#"{"skus":["A"]}"#).decode().unwrap();
        assert_eq!(decoded.body.skus, vec![sku("A")]);
        assert_eq!(decoded.receive_count, 2);
        let drafts: Received<MatchRequest> = message("{}").decode().unwrap();
        assert!(drafts.body.skus.is_empty());
        let err = message(r#"{"skus": 5}"#).decode::<UrgentSkus>().unwrap_err();
        assert!(
            matches!(&err, OpError::BadMessage { what, .. } if what == "inventory-sync message m1"),
            "{err}"
        );
        assert!(
            message(r#"{"skus":[],"more":1}"#)
                .decode::<MatchRequest>()
                .is_err()
        );
    }

    #[test]
    fn import_and_create_messages_keep_their_wire_format() {
        let page = ImportRequest::Page {
            changed_since: None,
            page: 2,
            size: 300,
        };
        assert_eq!(
            page.encode().unwrap().body,
            r#"{"kind":"page","changed_since":null,"page":2,"size":300}"#
        );
        let selection: Received<ImportRequest> = message(r#"{"kind":"selection"}"#).decode().unwrap();
        assert_eq!(selection.body, ImportRequest::Selection);
        assert!(
            message(r#"{"kind":"everything"}"#)
                .decode::<ImportRequest>()
                .is_err()
        );
        let create: Received<CreateOrder> =
            message(r#"{"channel":"main","purchase_order_id":"1796000000001"}"#)
                .decode()
                .unwrap();
        assert_eq!(create.body.purchase_order_id.as_str(), "1796000000001");
    }
}
