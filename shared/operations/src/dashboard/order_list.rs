//! The orders page: Adobe's order states (Open, Partially Shipped, Shipped, Canceled, Return
//! requested, Error; and Refunded, which the channel tells apart) with the purchase order, customer
//! order, Commerce order number, order date and totals on both sides; one order in full with its
//! lines, history (acknowledged, shipped with tracking, cancelled, returned, refunded) and how long
//! each step took. Filter by state and order date; find by purchase order or Commerce order number.
//!
//! Reads only keys: a state is one or more status-index partitions (sorted by order date), merged
//! newest first; a purchase order is its record's key; a Commerce order number is one entry of the
//! Commerce order index (`dashboard::commerce_number_pk`).

use std::time::Duration;

use domain::{
    LineNumber, Money, OrderEvent, OrderRecord, OrderSummary, PurchaseOrderId, ShipmentRecord, Sku,
    Timestamp, WalmartLineStatus,
};
use ports::records::order_pk;
use ports::{PageToken, Query, Record, Records, SortRange, StateStore, StoreError};
use serde::{Deserialize, Serialize};

use super::return_list::{ReturnRow, return_row};
use super::{CommerceOrderIndex, DateRange, OrderRow, RowsPage, commerce_number_pk, load_order, return_key};
use crate::Channel;

/// Adobe's order states (and Refunded, which the channel shows apart from Return requested).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Open,
    PartiallyShipped,
    Shipped,
    Canceled,
    ReturnRequested,
    Refunded,
    Error,
}

impl OrderState {
    pub const ALL: [OrderState; 7] = [
        OrderState::Open,
        OrderState::PartiallyShipped,
        OrderState::Shipped,
        OrderState::Canceled,
        OrderState::ReturnRequested,
        OrderState::Refunded,
        OrderState::Error,
    ];

    /// The channel's summaries shown under this state (Open covers orders still being taken in).
    pub fn summaries(self) -> &'static [OrderSummary] {
        match self {
            OrderState::Open => &[OrderSummary::Pending, OrderSummary::Open],
            OrderState::PartiallyShipped => &[OrderSummary::PartiallyShipped],
            OrderState::Shipped => &[OrderSummary::Shipped],
            OrderState::Canceled => &[OrderSummary::Canceled],
            OrderState::ReturnRequested => &[OrderSummary::ReturnRequested],
            OrderState::Refunded => &[OrderSummary::Refunded],
            OrderState::Error => &[OrderSummary::Error],
        }
    }

    pub fn of(summary: OrderSummary) -> Self {
        match summary {
            OrderSummary::Pending | OrderSummary::Open => OrderState::Open,
            OrderSummary::PartiallyShipped => OrderState::PartiallyShipped,
            OrderSummary::Shipped => OrderState::Shipped,
            OrderSummary::Canceled => OrderState::Canceled,
            OrderSummary::ReturnRequested => OrderState::ReturnRequested,
            OrderSummary::Refunded => OrderState::Refunded,
            OrderSummary::Error => OrderState::Error,
        }
    }

    /// Adobe's name of the state.
    pub fn label(self) -> &'static str {
        self.summaries()[0].adobe_label()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Open => "open",
            OrderState::PartiallyShipped => "partially_shipped",
            OrderState::Shipped => "shipped",
            OrderState::Canceled => "canceled",
            OrderState::ReturnRequested => "return_requested",
            OrderState::Refunded => "refunded",
            OrderState::Error => "error",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

const INDEX_TOKEN: &str = "idx:";

/// The index sort-key range of a page: the date range, below the token's key (newest first).
fn page_range(range: DateRange, below: Option<&str>) -> SortRange {
    let lo = range.from.map(Timestamp::to_rfc3339);
    let hi_dates = range.to.map(|to| format!("{}~", to.to_rfc3339()));
    let hi = match (hi_dates, below) {
        (Some(h), Some(b)) => Some(if b < h.as_str() { b.to_owned() } else { h }),
        (h, b) => h.or(b.map(str::to_owned)),
    };
    match (lo, hi) {
        (None, None) => SortRange::All,
        (Some(lo), None) => SortRange::From(lo),
        (None, Some(hi)) => SortRange::To(hi),
        (Some(lo), Some(hi)) => SortRange::Between(lo, hi),
    }
}

/// One page over several status-index partitions, newest first by index sort key: each partition
/// is read for one page below the token, the results merged. The token is the index sort key of
/// the last row (ids in the keys make it unique).
pub(super) async fn merged_page<R: Record>(
    store: &dyn StateStore,
    partitions: Vec<String>,
    range: DateRange,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<R>, StoreError> {
    let limit = limit.clamp(1, 500) as usize;
    let below = after
        .as_ref()
        .and_then(|t| t.0.strip_prefix(INDEX_TOKEN))
        .map(str::to_owned);
    let mut found: Vec<(String, R)> = Vec::new();
    for pk in partitions {
        let query = Query::status_index(pk)
            .range(page_range(range, below.as_deref()))
            .descending()
            .limit(limit as u32 + 1);
        let (records, _) = store.query_records::<R>(&query).await?;
        for v in records {
            let Some(index) = v.record.index() else {
                continue;
            };
            if below.as_deref() == Some(index.sk.as_str()) {
                continue;
            }
            found.push((index.sk, v.record));
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.dedup_by(|a, b| a.0 == b.0);
    let more = found.len() > limit;
    found.truncate(limit);
    let next = if more {
        found
            .last()
            .map(|(sk, _)| PageToken(format!("{INDEX_TOKEN}{sk}")))
    } else {
        None
    };
    Ok(RowsPage {
        rows: found.into_iter().map(|(_, r)| r).collect(),
        next,
    })
}

/// A page of orders in a state (every state when `None`), newest order first, within the
/// order-date range.
pub async fn order_rows(
    ch: &Channel,
    state: Option<OrderState>,
    range: DateRange,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<OrderRow>, StoreError> {
    let summaries: Vec<OrderSummary> = match state {
        Some(state) => state.summaries().to_vec(),
        None => OrderSummary::ALL.to_vec(),
    };
    let partitions = summaries
        .into_iter()
        .map(|s| ports::records::order_status_pk(&ch.settings.id, s))
        .collect();
    let page = merged_page::<OrderRecord>(ch.store.as_ref(), partitions, range, limit, after).await?;
    Ok(RowsPage {
        rows: page.rows.iter().map(OrderRow::of).collect(),
        next: page.next,
    })
}

/// The purchase order a Commerce order number belongs to (one index query).
pub async fn purchase_order_by_commerce_number(
    store: &dyn StateStore,
    channel: &domain::ChannelId,
    number: &str,
) -> Result<Option<PurchaseOrderId>, StoreError> {
    let number = number.trim();
    if number.is_empty() {
        return Ok(None);
    }
    let query = Query::status_index(commerce_number_pk(channel))
        .range(SortRange::Between(number.to_owned(), number.to_owned()))
        .limit(1);
    let (found, _) = store.query_records::<CommerceOrderIndex>(&query).await?;
    Ok(found.into_iter().next().map(|v| v.record.purchase_order))
}

/// Finds an order by its Walmart purchase order number or its Commerce order number (exact).
pub async fn find_order(ch: &Channel, search: &str) -> Result<Option<OrderDetail>, StoreError> {
    let search = search.trim();
    if let Ok(po) = PurchaseOrderId::new(search)
        && let Some(detail) = order_detail(ch, &po).await?
    {
        return Ok(Some(detail));
    }
    match purchase_order_by_commerce_number(ch.store.as_ref(), &ch.settings.id, search).await? {
        Some(po) => order_detail(ch, &po).await,
        None => Ok(None),
    }
}

/// One order line as the merchant reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLineView {
    pub number: LineNumber,
    pub sku: Sku,
    pub product_name: String,
    pub ordered: u32,
    pub unit_price: Money,
    pub commerce_unit_price: Option<Money>,
    pub walmart_status: WalmartLineStatus,
    pub shipped: u32,
    pub cancelled: u32,
    pub returned: u32,
    pub refunded: u32,
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryView {
    pub at: Timestamp,
    pub line: Option<LineNumber>,
    /// The event's name (`imported`, `acknowledged`, `created`, `shipped`, `cancelled`,
    /// `return_requested`, `refunded`, `failed`, ...).
    pub event: &'static str,
    /// Its particulars (a quantity, an amount, a reason).
    pub detail: Option<String>,
}

impl HistoryView {
    fn of(entry: &domain::HistoryEntry) -> Self {
        let (event, detail) = match &entry.event {
            OrderEvent::Imported => ("imported", None),
            OrderEvent::Acknowledged => ("acknowledged", None),
            OrderEvent::Created { increment_id } => ("created", Some(increment_id.to_string())),
            OrderEvent::PriceDifference { walmart, commerce } => (
                "price_difference",
                Some(format!("Walmart {walmart}, Commerce {commerce}")),
            ),
            OrderEvent::TotalsDifference { walmart, commerce } => (
                "totals_difference",
                Some(format!(
                    "Walmart {}, Commerce {}",
                    walmart.total(),
                    commerce.total()
                )),
            ),
            OrderEvent::Shipped { quantity } => ("shipped", Some(quantity.to_string())),
            OrderEvent::Cancelled { quantity } => ("cancelled", Some(quantity.to_string())),
            OrderEvent::ReturnRequested { quantity } => ("return_requested", Some(quantity.to_string())),
            OrderEvent::Refunded { quantity, amount } => {
                ("refunded", Some(format!("{quantity} for {amount}")))
            }
            OrderEvent::Failed { reason } => ("failed", Some(reason.clone())),
            OrderEvent::Redriven => ("redriven", None),
            OrderEvent::CommerceOrderCancelled => ("commerce_order_cancelled", None),
            OrderEvent::CancellationNoted { reason } => ("cancellation_noted", Some(reason.clone())),
            OrderEvent::CancellationRequested => ("cancellation_requested", None),
            OrderEvent::CancellationRequestNoted => ("cancellation_request_noted", None),
            OrderEvent::ReturnLinked { return_order_id } => {
                ("return_linked", Some(return_order_id.to_string()))
            }
            OrderEvent::SyncFailed { reason, .. } => ("sync_failed", Some(reason.clone())),
            OrderEvent::SyncRecovered { .. } => ("sync_recovered", None),
            OrderEvent::DuplicateCancelled { increment_id } => {
                ("duplicate_cancelled", Some(increment_id.to_string()))
            }
        };
        Self {
            at: entry.at,
            line: entry.line,
            event,
            detail,
        }
    }
}

/// A shipment of the order, with its tracking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipmentView {
    pub shipment_id: String,
    pub tracking_number: String,
    pub carrier: String,
    pub shipped_at: Timestamp,
    /// `(line, quantity)`.
    pub lines: Vec<(LineNumber, u32)>,
    /// When Walmart was told (the first shipped entry of the history after the shipment).
    pub on_walmart_at: Option<Timestamp>,
}

/// How long one step of the order's story took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDuration {
    /// `imported` (ordered on Walmart → in the channel), `created_in_commerce`, `acknowledged`,
    /// `shipment_on_walmart` (shipped in Commerce → tracking on Walmart).
    pub step: &'static str,
    pub from: Timestamp,
    pub to: Timestamp,
    #[serde(with = "crate::latency::secs")]
    pub took: Duration,
    /// The operation's documented (or target) delay for the step.
    #[serde(with = "crate::latency::secs")]
    pub bound: Duration,
}

/// One order in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderDetail {
    pub row: OrderRow,
    pub lines: Vec<OrderLineView>,
    pub history: Vec<HistoryView>,
    pub steps: Vec<StepDuration>,
    pub shipments: Vec<ShipmentView>,
    pub returns: Vec<ReturnRow>,
}

fn step(step: &'static str, from: Timestamp, to: Timestamp, operation: domain::Operation) -> StepDuration {
    StepDuration {
        step,
        from,
        to,
        took: to.since(from),
        bound: operation.target_delay(),
    }
}

/// The steps of an order's story and how long each took.
pub fn step_durations(record: &OrderRecord, shipments: &[ShipmentView]) -> Vec<StepDuration> {
    use domain::Operation;
    let mut steps = vec![step(
        "imported",
        record.order.order_date,
        record.imported_at,
        Operation::OrderImport,
    )];
    if let Some(created) = record
        .history
        .iter()
        .find(|h| matches!(h.event, OrderEvent::Created { .. }))
    {
        steps.push(step(
            "created_in_commerce",
            record.imported_at,
            created.at,
            Operation::OrderCreate,
        ));
    }
    if let Some(acknowledged) = record.acknowledged_at() {
        steps.push(step(
            "acknowledged",
            record.imported_at,
            acknowledged,
            Operation::OrderCreate,
        ));
    }
    for shipment in shipments {
        if let Some(on_walmart) = shipment.on_walmart_at {
            steps.push(step(
                "shipment_on_walmart",
                shipment.shipped_at,
                on_walmart,
                Operation::ShipmentSync,
            ));
        }
    }
    steps
}

/// An order in full: its row, lines, history, shipments, returns and step durations.
pub async fn order_detail(ch: &Channel, po: &PurchaseOrderId) -> Result<Option<OrderDetail>, StoreError> {
    let store = ch.store.as_ref();
    let Some(record) = load_order(store, &ch.settings.id, po).await? else {
        return Ok(None);
    };
    let record = record.record;
    let shipment_query = Query::partition(order_pk(&ch.settings.id, po))
        .range(SortRange::Prefix("SHIPMENT#".into()))
        .limit(100);
    let shipments: Vec<ShipmentRecord> = ports::query_all(store, shipment_query)
        .await?
        .into_iter()
        .filter_map(|s| serde_json::from_value(s.item.body).ok())
        .collect();
    let shipments: Vec<ShipmentView> = shipments
        .iter()
        .map(|s| ShipmentView {
            shipment_id: s.shipment_id.to_string(),
            tracking_number: s.tracking.number.clone(),
            carrier: match &s.tracking.carrier {
                domain::Carrier::Known { name } | domain::Carrier::Other { name, .. } => name.clone(),
            },
            shipped_at: s.tracking.shipped_at,
            lines: s.lines.iter().map(|l| (l.line, l.quantity)).collect(),
            on_walmart_at: record
                .history
                .iter()
                .filter(|h| {
                    matches!(h.event, OrderEvent::Shipped { .. })
                        && h.at >= s.tracking.shipped_at
                        && s.lines.iter().any(|l| Some(l.line) == h.line)
                })
                .map(|h| h.at)
                .min(),
        })
        .collect();
    let mut returns = Vec::new();
    for id in record.returns() {
        if let Some(found) = store
            .load::<domain::ReturnRecord>(&return_key(&ch.settings.id, id))
            .await?
        {
            returns.push(return_row(&found.record));
        }
    }
    let lines = record
        .order
        .lines
        .iter()
        .map(|line| {
            let progress = record.line(line.number);
            OrderLineView {
                number: line.number,
                sku: line.sku.clone(),
                product_name: line.product_name.clone(),
                ordered: line.quantity,
                unit_price: line.unit_price,
                commerce_unit_price: progress.and_then(|p| p.commerce_unit_price),
                walmart_status: line.status,
                shipped: progress.map_or(0, |p| p.shipped),
                cancelled: progress.map_or(0, |p| p.cancelled),
                returned: progress.map_or(0, |p| p.returned),
                refunded: progress.map_or(0, |p| p.refunded),
            }
        })
        .collect();
    Ok(Some(OrderDetail {
        row: OrderRow::of(&record),
        lines,
        history: record.history.iter().map(HistoryView::of).collect(),
        steps: step_durations(&record, &shipments),
        shipments,
        returns,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_continue_below_the_token_within_the_dates() {
        let t = Timestamp::from_millis;
        let range = DateRange {
            from: Some(t(1_000)),
            to: Some(t(9_000)),
        };
        let key = |ms, po: &str| format!("{}#{po}", t(ms).to_rfc3339());
        let below = key(5_000, "7");
        let r = page_range(range, Some(&below));
        assert!(r.contains(&key(4_000, "1")));
        assert!(r.contains(&below));
        assert!(!r.contains(&key(6_000, "1")));
        assert!(!r.contains(&key(500, "1")));
        assert!(page_range(DateRange::default(), None).contains("x"));
        assert!(!page_range(DateRange::default(), Some(&below)).contains(&key(6_000, "1")));
    }
}
