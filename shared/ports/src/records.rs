//! Typed records over the state store: where each domain record lives in the single table, and
//! the typed load/save helpers every operation uses.
//!
//! Key patterns (every key starts with the channel, so channels share a table safely):
//!
//! | record          | pk                          | sk                  | status index pk                | index sk                  |
//! |-----------------|-----------------------------|---------------------|--------------------------------|---------------------------|
//! | Listing         | `CH#{ch}#LISTING`           | `{sku}`             | `CH#{ch}#LISTING#{status}` (`#awaiting_selection` for drafts the merchant has not selected) | `{status time}#{sku}` |
//! | OfferState      | `CH#{ch}#OFFER`             | `{sku}`             | `CH#{ch}#OFFER#price_due` (when set) | `{due}#{sku}`       |
//! | FeedRecord      | `CH#{ch}#FEED`              | `{feed id}`         | `CH#{ch}#FEED#{done/pending}`  | `{submitted}#{feed id}`   |
//! | FeedChunk       | `CH#{ch}#FEED#{feed id}`    | `ITEMS#{n:05}`      | -                              | -                         |
//! | StockChunk      | `CH#{ch}#STOCK`             | `{n:03}`            | -                              | -                         |
//! | CallBudget      | `CH#{ch}#BUDGET`            | `{call}`            | -                              | -                         |
//! | OrderRecord     | `CH#{ch}#ORDER#{po}`        | `ORDER`             | `CH#{ch}#ORDER#{summary}`      | `{order date}#{po}`       |
//! | ShipmentRecord  | `CH#{ch}#ORDER#{po}`        | `SHIPMENT#{id}`     | -                              | -                         |
//! | Cancellation    | `CH#{ch}#ORDER#{po}`        | `CANCEL#{origin}#{lines}` | -                        | -                         |
//! | ReturnRecord    | `CH#{ch}#RETURN`            | `{return order id}` | `CH#{ch}#RETURN#{status}`      | `{received}#{id}`         |
//! | CommerceOrderIndex (operations) | `CH#{ch}#CORDER`  | `{order id}`        | `CH#{ch}#CORDER_NUMBER`        | `{increment id}`          |
//! | dashboard and merchant records (operations: `run_log`, `merchant`, `dashboard::listings`) | `CH#{ch}#RUN`, `CH#{ch}#RUN_FAILURE#{function}`, `CH#{ch}#MERCHANT`, `CH#{ch}#AUDIT`, `CH#{ch}#DASHBOARD` | see the modules | - | - |
//! | SyncCursor      | `CH#{ch}#CURSOR`            | `{stream}`          | -                              | -                         |
//! | idempotency     | `IDEMPOTENCY#{key}`         | `IDEMPOTENCY`       | -                              | -                         |

use serde::Serialize;
use serde::de::DeserializeOwned;

use domain::{
    BudgetedCall, CallBudget, CancellationRecord, ChannelId, FeedChunk, FeedId, FeedRecord, Listing,
    OfferState, OrderRecord, Origin, PurchaseOrderId, ReturnRecord, ShipmentRecord, Sku, StockChunk, Stream,
    SyncCursor, Timestamp,
};

use crate::state::{Expect, IndexKey, Item, Key, PageToken, Query, StateStore, StoreError, Stored, Version};

/// A domain record with a home in the state store.
pub trait Record: Serialize + DeserializeOwned + Send + Sync {
    fn key(&self) -> Key;
    fn index(&self) -> Option<IndexKey> {
        None
    }
    /// When the table's TTL may delete the record (settled orders and returns); `None` keeps it.
    fn expires_at(&self) -> Option<Timestamp> {
        None
    }
}

/// A record with the version it was read at; `None` for a record not stored yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<R> {
    pub record: R,
    pub version: Option<Version>,
}

impl<R> Versioned<R> {
    pub fn new(record: R) -> Self {
        Self {
            record,
            version: None,
        }
    }
}

pub fn channel_pk(channel: &ChannelId, kind: &str) -> String {
    format!("CH#{channel}#{kind}")
}

impl Record for Listing {
    fn key(&self) -> Key {
        listing_key(&self.channel, &self.sku)
    }
    fn index(&self) -> Option<IndexKey> {
        let pk = if self.awaits_selection() {
            listing_awaiting_selection_pk(&self.channel)
        } else {
            listing_status_pk(&self.channel, self.status())
        };
        Some(IndexKey::new(
            pk,
            format!("{}#{}", self.status_changed_at.to_rfc3339(), self.sku),
        ))
    }
}

/// Drafts waiting for the merchant's selection (manual match mode) have their own index partition,
/// so listing-match, which reads the draft partition, never sends them.
pub fn listing_awaiting_selection_pk(channel: &ChannelId) -> String {
    format!("CH#{channel}#LISTING#awaiting_selection")
}

pub fn listing_key(channel: &ChannelId, sku: &Sku) -> Key {
    Key::new(channel_pk(channel, "LISTING"), sku.as_str())
}

pub fn listing_status_pk(channel: &ChannelId, status: domain::ListingStatus) -> String {
    format!("CH#{channel}#LISTING#{}", status.as_str())
}

impl Record for OfferState {
    fn key(&self) -> Key {
        offer_key(&self.channel, &self.sku)
    }
    /// Offers whose price must be worked out again at a time (a special price starting or ending)
    /// are indexed by that time: "what is due" is one query.
    fn index(&self) -> Option<IndexKey> {
        self.price_due_at.map(|due| {
            IndexKey::new(
                offer_price_due_pk(&self.channel),
                format!("{}#{}", due.to_rfc3339(), self.sku),
            )
        })
    }
}

pub fn offer_price_due_pk(channel: &ChannelId) -> String {
    format!("CH#{channel}#OFFER#price_due")
}

pub fn offer_key(channel: &ChannelId, sku: &Sku) -> Key {
    Key::new(channel_pk(channel, "OFFER"), sku.as_str())
}

impl Record for FeedRecord {
    fn key(&self) -> Key {
        feed_key(&self.channel, &self.feed_id)
    }
    fn index(&self) -> Option<IndexKey> {
        Some(IndexKey::new(
            feed_status_pk(&self.channel, self.is_settled()),
            format!("{}#{}", self.submitted_at.to_rfc3339(), self.feed_id),
        ))
    }
}

pub fn feed_key(channel: &ChannelId, feed_id: &FeedId) -> Key {
    Key::new(channel_pk(channel, "FEED"), feed_id.as_str())
}

impl Record for FeedChunk {
    fn key(&self) -> Key {
        feed_chunk_key(&self.channel, &self.feed_id, self.index)
    }
}

pub fn feed_chunk_key(channel: &ChannelId, feed_id: &FeedId, index: u32) -> Key {
    Key::new(feed_chunks_pk(channel, feed_id), format!("ITEMS#{index:05}"))
}

/// The partition of a feed's item chunks.
pub fn feed_chunks_pk(channel: &ChannelId, feed_id: &FeedId) -> String {
    format!("CH#{channel}#FEED#{feed_id}")
}

impl Record for StockChunk {
    fn key(&self) -> Key {
        stock_chunk_key(&self.channel, self.chunk)
    }
}

pub fn stock_chunk_key(channel: &ChannelId, chunk: u32) -> Key {
    Key::new(channel_pk(channel, "STOCK"), format!("{chunk:03}"))
}

impl Record for CallBudget {
    fn key(&self) -> Key {
        budget_key(&self.channel, self.call)
    }
}

pub fn budget_key(channel: &ChannelId, call: BudgetedCall) -> Key {
    Key::new(channel_pk(channel, "BUDGET"), call.as_str())
}

/// Feeds are indexed by done/pending ("done" once every result was applied): "what must be
/// polled" is one query.
pub fn feed_status_pk(channel: &ChannelId, done: bool) -> String {
    format!("CH#{channel}#FEED#{}", if done { "done" } else { "pending" })
}

pub fn order_pk(channel: &ChannelId, po: &PurchaseOrderId) -> String {
    format!("CH#{channel}#ORDER#{po}")
}

pub fn order_key(channel: &ChannelId, po: &PurchaseOrderId) -> Key {
    Key::new(order_pk(channel, po), "ORDER")
}

pub fn order_status_pk(channel: &ChannelId, summary: domain::OrderSummary) -> String {
    format!("CH#{channel}#ORDER#{}", summary.as_str())
}

impl Record for OrderRecord {
    fn key(&self) -> Key {
        order_key(&self.channel, &self.order.id)
    }
    fn index(&self) -> Option<IndexKey> {
        Some(IndexKey::new(
            order_status_pk(&self.channel, self.summary()),
            format!("{}#{}", self.order.order_date.to_rfc3339(), self.order.id),
        ))
    }
    fn expires_at(&self) -> Option<Timestamp> {
        OrderRecord::expires_at(self)
    }
}

/// Shipments waiting for tracking, one partition per channel (a handful at a time).
pub fn tracking_waits_pk(channel: &ChannelId) -> String {
    channel_pk(channel, "TRACKING_WAIT")
}

impl Record for domain::TrackingWait {
    fn key(&self) -> Key {
        Key::new(tracking_waits_pk(&self.channel), self.shipment_id.to_string())
    }
}

impl Record for ShipmentRecord {
    fn key(&self) -> Key {
        Key::new(
            order_pk(&self.channel, &self.purchase_order),
            format!("SHIPMENT#{}", self.shipment_id),
        )
    }
}

impl Record for CancellationRecord {
    fn key(&self) -> Key {
        let origin = match self.origin {
            Origin::Commerce => "commerce",
            Origin::Walmart => "walmart",
        };
        let lines: Vec<String> = self
            .lines
            .iter()
            .map(|l| format!("{}x{}", l.line, l.quantity))
            .collect();
        Key::new(
            order_pk(&self.channel, &self.purchase_order),
            format!("CANCEL#{origin}#{}", lines.join(",")),
        )
    }
}

/// The status index partition of returns in one status (`ReturnStatus::as_str`).
pub fn return_status_pk(channel: &ChannelId, status: &str) -> String {
    format!("CH#{channel}#RETURN#{status}")
}

impl Record for ReturnRecord {
    fn key(&self) -> Key {
        Key::new(channel_pk(&self.channel, "RETURN"), self.return_order_id.as_str())
    }
    fn index(&self) -> Option<IndexKey> {
        Some(IndexKey::new(
            return_status_pk(&self.channel, self.status().as_str()),
            format!("{}#{}", self.received_at.to_rfc3339(), self.return_order_id),
        ))
    }
    fn expires_at(&self) -> Option<Timestamp> {
        ReturnRecord::expires_at(self)
    }
}

impl Record for SyncCursor {
    fn key(&self) -> Key {
        cursor_key(&self.channel, self.stream)
    }
}

pub fn cursor_key(channel: &ChannelId, stream: Stream) -> Key {
    Key::new(channel_pk(channel, "CURSOR"), stream.as_str())
}

/// The stored form of a record: its key, index entries, expiry and body. The one way to turn a
/// record into an item, so a write outside [`Records`] (a transaction) keeps the record's expiry.
pub fn to_item<R: Record>(record: &R) -> Result<Item, StoreError> {
    let body = serde_json::to_value(record)
        .map_err(|e| StoreError::Invalid(format!("cannot serialise {:?}: {e}", record.key())))?;
    Ok(Item {
        key: record.key(),
        index: record.index(),
        expires_at: record.expires_at(),
        body,
    })
}

fn from_stored<R: Record>(stored: Stored) -> Result<Versioned<R>, StoreError> {
    let key = stored.item.key;
    let record = serde_json::from_value(stored.item.body).map_err(|e| StoreError::Corrupt {
        key,
        reason: e.to_string(),
    })?;
    Ok(Versioned {
        record,
        version: Some(stored.version),
    })
}

/// Typed access to records. Implemented for every state store.
#[async_trait::async_trait]
pub trait Records {
    async fn load<R: Record>(&self, key: &Key) -> Result<Option<Versioned<R>>, StoreError>;

    /// Writes the record if nobody changed it since it was read (or, for a new one, if it does not
    /// exist yet), then records the new version. A lost race is `ConditionFailed`.
    async fn save<R: Record>(&self, record: &mut Versioned<R>) -> Result<(), StoreError>;

    /// Writes a record that must not exist yet. Returns false, writing nothing, if it does.
    async fn insert_new<R: Record>(&self, record: &R) -> Result<bool, StoreError>;

    /// Unconditional bulk write (imports).
    async fn save_all<R: Record>(&self, records: &[R]) -> Result<(), StoreError>;

    async fn query_records<R: Record>(
        &self,
        query: &Query,
    ) -> Result<(Vec<Versioned<R>>, Option<PageToken>), StoreError>;

    /// Read-modify-write with optimistic concurrency, retried on a lost race. `change` returns
    /// `Ok(false)` to skip writing. Returns the record as written (or read, if skipped).
    async fn update<R, E, F>(&self, key: &Key, change: F) -> Result<Option<R>, UpdateError<E>>
    where
        R: Record + Clone,
        E: Send,
        F: FnMut(&mut R) -> Result<bool, E> + Send;
}

/// Either the store failed or the change refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("change rejected")]
    Rejected(E),
}

/// Lost optimistic races before giving up: contention on one record is rare and short.
const UPDATE_ATTEMPTS: u32 = 8;

#[async_trait::async_trait]
impl<S: StateStore + ?Sized> Records for S {
    async fn load<R: Record>(&self, key: &Key) -> Result<Option<Versioned<R>>, StoreError> {
        self.get(key).await?.map(from_stored).transpose()
    }

    async fn save<R: Record>(&self, record: &mut Versioned<R>) -> Result<(), StoreError> {
        let expect = record.version.map_or(Expect::Absent, Expect::Version);
        let version = self.put(to_item(&record.record)?, expect).await?;
        record.version = Some(version);
        Ok(())
    }

    async fn insert_new<R: Record>(&self, record: &R) -> Result<bool, StoreError> {
        match self.put(to_item(record)?, Expect::Absent).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn save_all<R: Record>(&self, records: &[R]) -> Result<(), StoreError> {
        let items = records.iter().map(to_item).collect::<Result<Vec<_>, _>>()?;
        self.put_many(items).await
    }

    async fn query_records<R: Record>(
        &self,
        query: &Query,
    ) -> Result<(Vec<Versioned<R>>, Option<PageToken>), StoreError> {
        let page = self.query(query).await?;
        let records = page
            .items
            .into_iter()
            .map(from_stored)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((records, page.next))
    }

    async fn update<R, E, F>(&self, key: &Key, mut change: F) -> Result<Option<R>, UpdateError<E>>
    where
        R: Record + Clone,
        E: Send,
        F: FnMut(&mut R) -> Result<bool, E> + Send,
    {
        for _ in 0..UPDATE_ATTEMPTS {
            let Some(mut current) = self.load::<R>(key).await? else {
                return Ok(None);
            };
            if !change(&mut current.record).map_err(UpdateError::Rejected)? {
                return Ok(Some(current.record));
            }
            match self.save(&mut current).await {
                Ok(()) => return Ok(Some(current.record)),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable(format!("{key:?} kept changing under {UPDATE_ATTEMPTS} attempts")).into())
    }
}

/// The cursor of a stream, or a fresh one starting at `from`.
pub async fn load_cursor(
    store: &(impl StateStore + ?Sized),
    channel: &ChannelId,
    stream: Stream,
    from: Timestamp,
) -> Result<Versioned<SyncCursor>, StoreError> {
    Ok(store
        .load::<SyncCursor>(&cursor_key(channel, stream))
        .await?
        .unwrap_or_else(|| Versioned::new(SyncCursor::start(channel.clone(), stream, from))))
}
