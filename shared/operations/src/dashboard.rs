//! The order dashboard's data: one [`OrderRecord`] per purchase order (Walmart ids, Commerce order
//! id and increment id, per-line history and the summary status), queryable by status and order
//! date; the returns dashboard's [`ReturnRecord`]s by status and date; and the Commerce order id →
//! purchase order link that lets Commerce shipments and credit memos find their order.
//!
//! Orders are indexed under `CH#{ch}#ORDER#{summary}` by `{order date}#{po}` (see `ports::records`),
//! so "errors of last week" is one query; the index entry moves whenever the summary changes
//! because every write goes through `Records::save`/`update`.

pub mod delays;
pub mod listings;
pub mod order_list;
pub mod overview;
pub mod return_list;

use std::collections::BTreeMap;

use domain::{
    ChannelId, CommerceOrderId, Money, OrderRecord, OrderSummary, PurchaseOrderId, ReturnRecord, Timestamp,
};
use ports::records::{channel_pk, order_key, order_status_pk, return_status_pk};
use ports::{Key, PageToken, Query, Record, Records, SortRange, StateStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};

/// Which purchase order a Commerce order was placed for. Written once at creation; shipments and
/// credit memos (which only name the Commerce order) find their channel order through it, and
/// anything without one is not a channel order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommerceOrderIndex {
    pub channel: ChannelId,
    pub order_id: CommerceOrderId,
    pub purchase_order: PurchaseOrderId,
    /// The Commerce order number the merchant sees: indexed, so the dashboard finds an order by it
    /// with one index query (links written before it was recorded have none).
    #[serde(default)]
    pub increment_id: Option<domain::IncrementId>,
}

impl Record for CommerceOrderIndex {
    fn key(&self) -> Key {
        commerce_order_key(&self.channel, self.order_id)
    }
    fn index(&self) -> Option<ports::IndexKey> {
        self.increment_id
            .as_ref()
            .map(|number| ports::IndexKey::new(commerce_number_pk(&self.channel), number.to_string()))
    }
}

/// The index partition of Commerce order numbers (`{increment id}` → the link above).
pub fn commerce_number_pk(channel: &ChannelId) -> String {
    channel_pk(channel, "CORDER_NUMBER")
}

pub fn commerce_order_key(channel: &ChannelId, order_id: CommerceOrderId) -> Key {
    Key::new(channel_pk(channel, "CORDER"), order_id.to_string())
}

/// The purchase order a Commerce order belongs to, if it is a channel order.
pub async fn purchase_order_of(
    store: &dyn StateStore,
    channel: &ChannelId,
    order_id: CommerceOrderId,
) -> Result<Option<PurchaseOrderId>, StoreError> {
    Ok(store
        .load::<CommerceOrderIndex>(&commerce_order_key(channel, order_id))
        .await?
        .map(|v| v.record.purchase_order))
}

/// The dashboard record of a purchase order, with its version for a conditional save.
pub async fn load_order(
    store: &dyn StateStore,
    channel: &ChannelId,
    po: &PurchaseOrderId,
) -> Result<Option<Versioned<OrderRecord>>, StoreError> {
    store.load::<OrderRecord>(&order_key(channel, po)).await
}

/// Order dates to show, both ends inclusive; `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl DateRange {
    /// The index sort-key range. Keys are `{RFC 3339 time}#{id}`, fixed width, so they sort by time;
    /// `~` sorts after the `#` that follows the time. An open start is `0`, before every year:
    /// DynamoDB refuses an empty key value.
    fn sort_range(self) -> SortRange {
        match (self.from, self.to) {
            (None, None) => SortRange::All,
            (Some(from), None) => SortRange::From(from.to_rfc3339()),
            (from, Some(to)) => SortRange::Between(
                from.map_or_else(|| "0".to_owned(), Timestamp::to_rfc3339),
                format!("{}~", to.to_rfc3339()),
            ),
        }
    }
}

/// One row of Adobe's order dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderRow {
    pub walmart_order: PurchaseOrderId,
    pub customer_order: String,
    pub commerce_order_id: Option<CommerceOrderId>,
    pub commerce_order_number: Option<String>,
    /// Units ordered.
    pub items: u32,
    pub order_value: Money,
    pub ordered_at: Timestamp,
    pub ship_method: String,
    pub last_update: Timestamp,
    pub status: OrderSummary,
    /// Adobe's name of the status ("Open", "Partially Shipped", ...).
    pub status_label: &'static str,
    pub status_detail: Option<String>,
    /// Lines the customer asked to cancel on Walmart (`intentToCancel`).
    pub cancel_requested: Vec<domain::LineNumber>,
    /// Walmart's and Commerce's items, shipping and tax totals side by side, once the Commerce
    /// order exists.
    pub totals: Option<domain::TotalsComparison>,
    /// Which totals differ (`items`, `shipping`, `tax`): Commerce added its own shipping or tax,
    /// or charged other prices.
    pub totals_differ: Vec<&'static str>,
}

impl OrderRow {
    pub fn of(record: &OrderRecord) -> Self {
        let link = record.commerce_link();
        let status = record.summary();
        Self {
            walmart_order: record.order.id.clone(),
            customer_order: record.order.customer_order_id.to_string(),
            commerce_order_id: link.map(|l| l.order_id),
            commerce_order_number: link.map(|l| l.increment_id.to_string()),
            items: record.order.lines.iter().map(|l| l.quantity).sum(),
            order_value: record.order.total(),
            ordered_at: record.order.order_date,
            ship_method: record.order.method_code.to_string(),
            last_update: record.updated_at,
            status,
            status_label: status.adobe_label(),
            status_detail: record.status_detail(),
            cancel_requested: record.cancel_requested().to_vec(),
            totals: record.totals().copied(),
            totals_differ: record
                .totals()
                .map(domain::TotalsComparison::differences)
                .unwrap_or_default(),
        }
    }
}

/// A page of dashboard rows; pass `next` back as `after` for the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsPage<R> {
    pub rows: Vec<R>,
    pub next: Option<PageToken>,
}

/// Orders in one status, newest order first, within the order-date range.
pub async fn orders(
    store: &dyn StateStore,
    channel: &ChannelId,
    status: OrderSummary,
    range: DateRange,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<OrderRecord>, StoreError> {
    let query = Query::status_index(order_status_pk(channel, status))
        .range(range.sort_range())
        .limit(limit)
        .descending()
        .after(after);
    let (records, next) = store.query_records::<OrderRecord>(&query).await?;
    Ok(RowsPage {
        rows: records.into_iter().map(|v| v.record).collect(),
        next,
    })
}

/// Statuses of orders Walmart can still change (a buyer can still cancel units).
const OPEN_ON_WALMART: [OrderSummary; 4] = [
    OrderSummary::Pending,
    OrderSummary::Open,
    OrderSummary::PartiallyShipped,
    OrderSummary::Error,
];

/// The order date of the oldest order still open on the channel (one index read per open status).
pub(crate) async fn oldest_open_order_date(
    store: &dyn StateStore,
    channel: &ChannelId,
) -> Result<Option<Timestamp>, StoreError> {
    let mut oldest: Option<Timestamp> = None;
    for status in OPEN_ON_WALMART {
        let query = Query::status_index(order_status_pk(channel, status)).limit(1);
        let (records, _) = store.query_records::<OrderRecord>(&query).await?;
        if let Some(first) = records.first() {
            let date = first.record.order.order_date;
            oldest = Some(oldest.map_or(date, |o| o.min(date)));
        }
    }
    Ok(oldest)
}

/// Every order of one status in the range, oldest first (for sweeps; bounded by how many orders
/// are in that status).
pub(crate) async fn all_orders_in(
    store: &dyn StateStore,
    channel: &ChannelId,
    status: OrderSummary,
) -> Result<Vec<OrderRecord>, StoreError> {
    let mut out = Vec::new();
    let mut query = Query::status_index(order_status_pk(channel, status)).limit(100);
    loop {
        let (records, next) = store.query_records::<OrderRecord>(&query).await?;
        out.extend(records.into_iter().map(|v| v.record));
        match next {
            Some(token) => query.after = Some(token),
            None => return Ok(out),
        }
    }
}

/// How many orders are in each status within the range (the dashboard's status cards). Counts every
/// index entry in the range (the store's count: no record is sent or decoded), the statuses at
/// once: meant for dashboards, not for operations.
pub async fn order_counts(
    store: &dyn StateStore,
    channel: &ChannelId,
    range: DateRange,
) -> Result<BTreeMap<&'static str, u64>, StoreError> {
    let counted = crate::feeds::concurrently(
        OrderSummary::ALL.to_vec(),
        crate::feeds::STORE_CONCURRENCY,
        |status| async move {
            let query = Query::status_index(order_status_pk(channel, status)).range(range.sort_range());
            (status, store.count(&query).await)
        },
    )
    .await;
    let mut counts = BTreeMap::new();
    for (status, n) in counted {
        counts.insert(status.as_str(), n?);
    }
    Ok(counts)
}

/// The index buckets of returns (Adobe's Received covers `Received` and `RequestedInCommerce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnBucket {
    Received,
    RequestedInCommerce,
    Refunded,
    Error,
}

impl ReturnBucket {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnBucket::Received => "received",
            ReturnBucket::RequestedInCommerce => "requested_in_commerce",
            ReturnBucket::Refunded => "refunded",
            ReturnBucket::Error => "error",
        }
    }
}

/// Returns in one bucket, newest first, within the received-date range.
pub async fn returns(
    store: &dyn StateStore,
    channel: &ChannelId,
    bucket: ReturnBucket,
    range: DateRange,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<ReturnRecord>, StoreError> {
    let query = Query::status_index(return_status_pk(channel, bucket.as_str()))
        .range(range.sort_range())
        .limit(limit)
        .descending()
        .after(after);
    let (records, next) = store.query_records::<ReturnRecord>(&query).await?;
    Ok(RowsPage {
        rows: records.into_iter().map(|v| v.record).collect(),
        next,
    })
}

pub fn return_key(channel: &ChannelId, id: &domain::ReturnOrderId) -> Key {
    Key::new(channel_pk(channel, "RETURN"), id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_ranges_bound_index_keys() {
        let t = |ms| Timestamp::from_millis(ms);
        let key = |ms, po: &str| format!("{}#{po}", t(ms).to_rfc3339());
        let range = DateRange {
            from: Some(t(1_000)),
            to: Some(t(2_000)),
        }
        .sort_range();
        assert!(range.contains(&key(1_000, "1")));
        assert!(range.contains(&key(2_000, "99999999999")));
        assert!(!range.contains(&key(2_001, "1")));
        assert!(!range.contains(&key(999, "1")));
        assert!(DateRange::default().sort_range().contains("anything"));
        let open_start = DateRange {
            from: None,
            to: Some(t(5)),
        }
        .sort_range();
        assert!(open_start.contains(&key(0, "1")));
        assert!(!matches!(open_start, SortRange::Between(ref lo, _) if lo.is_empty()));
    }
}
