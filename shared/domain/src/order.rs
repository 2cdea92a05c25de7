//! Walmart purchase orders and the one dashboard record each has: its Commerce link, per-line
//! progress with quantities, a status history and the summary status Adobe's dashboard shows.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    ChannelId, CommerceOrderId, CommerceShipmentId, CreditMemoId, CustomerOrderId, IllegalTransition,
    IncrementId, LineNumber, MethodCode, Money, PurchaseOrderId, ReturnOrderId, Sku, Timestamp,
    bounded_reason,
};

/// Buyer's shipping address. Personal data: it is stored and sent to Commerce, never logged, so
/// `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipTo {
    pub name: String,
    pub address1: String,
    pub address2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
    pub phone: Option<String>,
    /// Walmart's relay email for the buyer.
    pub email: Option<String>,
}

impl ShipTo {
    /// Nothing of the buyer: what an order record keeps once the Commerce order exists (the
    /// address went to Commerce, which keeps it; the channel needs only ids from then on).
    pub fn erased() -> Self {
        Self {
            name: String::new(),
            address1: String::new(),
            address2: None,
            city: String::new(),
            state: String::new(),
            postal_code: String::new(),
            country: String::new(),
            phone: None,
            email: None,
        }
    }

    pub fn is_erased(&self) -> bool {
        *self == Self::erased()
    }
}

impl fmt::Debug for ShipTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShipTo([redacted])")
    }
}

/// Walmart's status of an order line quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WalmartLineStatus {
    Created,
    Acknowledged,
    Shipped,
    Delivered,
    Cancelled,
}

/// One line of a Walmart purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub number: LineNumber,
    pub sku: Sku,
    pub product_name: String,
    pub quantity: u32,
    /// Item price per unit.
    pub unit_price: Money,
    /// Tax for the whole line.
    pub tax: Money,
    /// Shipping charge for the whole line.
    pub shipping: Money,
    pub status: WalmartLineStatus,
}

impl OrderLine {
    pub fn total(&self) -> Money {
        self.unit_price * self.quantity + self.tax + self.shipping
    }
}

/// A Walmart purchase order as read from Walmart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub id: PurchaseOrderId,
    pub customer_order_id: CustomerOrderId,
    pub order_date: Timestamp,
    pub method_code: MethodCode,
    pub ship_to: ShipTo,
    pub lines: Vec<OrderLine>,
}

impl PurchaseOrder {
    pub fn line(&self, number: LineNumber) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.number == number)
    }

    pub fn total(&self) -> Money {
        self.lines.iter().map(OrderLine::total).sum()
    }
}

/// An order's amounts by kind: what the items cost, the shipping charged and the tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotals {
    pub items: Money,
    pub shipping: Money,
    pub tax: Money,
}

impl OrderTotals {
    /// Walmart's amounts for a purchase order (line prices times quantities, line shipping, line tax).
    pub fn of_walmart(order: &PurchaseOrder) -> Self {
        Self {
            items: order.lines.iter().map(|l| l.unit_price * l.quantity).sum(),
            shipping: order.lines.iter().map(|l| l.shipping).sum(),
            tax: order.lines.iter().map(|l| l.tax).sum(),
        }
    }

    pub fn total(&self) -> Money {
        self.items + self.shipping + self.tax
    }
}

/// Walmart's and Commerce's amounts of the same order side by side. They differ when Commerce adds
/// its own shipping (flat rate, $5 per item by default) or tax, or charges catalog prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsComparison {
    pub walmart: OrderTotals,
    pub commerce: OrderTotals,
}

impl TotalsComparison {
    /// Which amounts differ: `items`, `shipping`, `tax`.
    pub fn differences(&self) -> Vec<&'static str> {
        let (w, c) = (&self.walmart, &self.commerce);
        [
            ("items", w.items != c.items),
            ("shipping", w.shipping != c.shipping),
            ("tax", w.tax != c.tax),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }

    pub fn differ(&self) -> bool {
        self.walmart != self.commerce
    }
}

/// The Commerce order created for a purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommerceOrderLink {
    pub order_id: CommerceOrderId,
    pub increment_id: IncrementId,
}

/// Where the creation of the Commerce order stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CreationState {
    /// Recorded; waiting for order-create.
    Pending { attempts: u32 },
    /// The Commerce order exists.
    Created { link: CommerceOrderLink },
    /// Could not be created; `attempts` so far. Retried until the channel's limit, then waits for a
    /// re-drive after the merchant fixes the cause.
    Failed { reason: String, attempts: u32 },
}

/// Per-line quantities through the order's life. Invariants: `shipped + cancelled <= ordered`,
/// `returned <= shipped`, `refunded <= returned`, `cancel_pending_in_commerce <= cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineProgress {
    pub number: LineNumber,
    pub ordered: u32,
    pub shipped: u32,
    pub cancelled: u32,
    pub returned: u32,
    pub refunded: u32,
    /// The Commerce order item the line was placed as (one item per SKU, so lines sharing a SKU
    /// share it).
    #[serde(default)]
    pub order_item_id: Option<u64>,
    /// What Commerce charges per unit, beside Walmart's `OrderLine::unit_price`.
    #[serde(default)]
    pub commerce_unit_price: Option<Money>,
    /// Units cancelled on Walmart that the Commerce order still holds (not yet cancelled or
    /// annotated there).
    #[serde(default)]
    pub cancel_pending_in_commerce: u32,
}

impl LineProgress {
    /// Units neither shipped nor cancelled.
    pub fn open(&self) -> u32 {
        // Invariant shipped + cancelled <= ordered; saturating so a corrupted record reads as
        // nothing open rather than wrapping.
        self.ordered
            .saturating_sub(self.shipped)
            .saturating_sub(self.cancelled)
    }
}

/// Something the channel must do for an order after it exists, for sync problems on the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum SyncTask {
    /// Acknowledge the order on Walmart.
    Acknowledge,
    /// Send a Commerce shipment to Walmart.
    Shipment { shipment_id: CommerceShipmentId },
    /// Invoice shipped units in Commerce (so the merchant can refund later).
    Invoice { shipment_id: CommerceShipmentId },
    /// Cancel on Walmart what was cancelled in Commerce.
    CancelOnWalmart,
    /// Reflect in Commerce what was cancelled on Walmart.
    CancelInCommerce,
    /// Open a return request in Commerce for a Walmart return.
    ReturnRequest { return_order_id: ReturnOrderId },
    /// Report a credit memo to Walmart as a refund.
    Refund { credit_memo: CreditMemoId },
    /// Cancel a duplicate Commerce order of the purchase order (it holds stock).
    CancelDuplicate,
    /// Read the order as Walmart shows it: Walmart sent values the channel does not know (a new
    /// line status, a carrier), so what it says about those lines is not followed.
    ReadWalmartOrder,
}

/// A sync task that failed and needs the merchant (or a later run): the order shows Error with
/// the reason until the task succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProblem {
    #[serde(flatten)]
    pub task: SyncTask,
    pub reason: String,
    pub at: Timestamp,
}

/// What happened, for the per-line status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OrderEvent {
    Imported,
    Acknowledged,
    Created {
        increment_id: IncrementId,
    },
    PriceDifference {
        walmart: Money,
        commerce: Money,
    },
    /// The Commerce order's items, shipping or tax total differs from Walmart's.
    TotalsDifference {
        walmart: OrderTotals,
        commerce: OrderTotals,
    },
    Shipped {
        quantity: u32,
    },
    Cancelled {
        quantity: u32,
    },
    ReturnRequested {
        quantity: u32,
    },
    Refunded {
        quantity: u32,
        amount: Money,
    },
    Failed {
        reason: String,
    },
    Redriven,
    /// Walmart-side cancellation reflected in Commerce by cancelling the Commerce order.
    CommerceOrderCancelled,
    /// Walmart-side cancellation the Commerce order could not take (partial, or not cancellable):
    /// an order comment tells the merchant.
    CancellationNoted {
        reason: String,
    },
    /// The customer asked to cancel the line on Walmart (`intentToCancel`); the merchant decides.
    CancellationRequested,
    /// The customer's cancellation request is on the Commerce order as a comment.
    CancellationRequestNoted,
    /// A Walmart return linked to the order.
    ReturnLinked {
        return_order_id: ReturnOrderId,
    },
    SyncFailed {
        #[serde(flatten)]
        task: SyncTask,
        reason: String,
    },
    SyncRecovered {
        #[serde(flatten)]
        task: SyncTask,
    },
    /// A second Commerce order carrying this purchase order (placed by an attempt that raced the
    /// linked one) was cancelled in Commerce so it holds no stock.
    DuplicateCancelled {
        increment_id: IncrementId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// `None` for order-level events.
    pub line: Option<LineNumber>,
    #[serde(flatten)]
    pub event: OrderEvent,
}

/// The dashboard's summary status, a superset of Adobe's (Open, Partially Shipped, Shipped,
/// Canceled, Return requested, Error). `Pending` (not yet created in Commerce or not yet
/// acknowledged) shows as Open on Adobe's dashboard but has its own index bucket, so finding
/// stuck orders is one small query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSummary {
    Pending,
    Open,
    PartiallyShipped,
    Shipped,
    Canceled,
    ReturnRequested,
    Refunded,
    Error,
}

impl OrderSummary {
    pub const ALL: [OrderSummary; 8] = [
        OrderSummary::Pending,
        OrderSummary::Open,
        OrderSummary::PartiallyShipped,
        OrderSummary::Shipped,
        OrderSummary::Canceled,
        OrderSummary::ReturnRequested,
        OrderSummary::Refunded,
        OrderSummary::Error,
    ];

    /// The status as Adobe's order dashboard names it.
    pub fn adobe_label(self) -> &'static str {
        match self {
            OrderSummary::Pending | OrderSummary::Open => "Open",
            OrderSummary::PartiallyShipped => "Partially Shipped",
            OrderSummary::Shipped => "Shipped",
            OrderSummary::Canceled => "Canceled",
            OrderSummary::ReturnRequested => "Return requested",
            OrderSummary::Refunded => "Refunded",
            OrderSummary::Error => "Error",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderSummary::Pending => "pending",
            OrderSummary::Open => "open",
            OrderSummary::PartiallyShipped => "partially_shipped",
            OrderSummary::Shipped => "shipped",
            OrderSummary::Canceled => "canceled",
            OrderSummary::ReturnRequested => "return_requested",
            OrderSummary::Refunded => "refunded",
            OrderSummary::Error => "error",
        }
    }
}

/// A quantity movement that the line cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("purchase order {po} has no line {line}")]
    UnknownLine { po: PurchaseOrderId, line: LineNumber },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
}

/// How long a settled order or return is kept after its last change: past Walmart's return window
/// (up to 90 days after delivery for most items) with room for the refund, so a return still finds
/// its order. The state table's TTL then deletes it (within a few days).
pub const SETTLED_RETENTION: std::time::Duration = std::time::Duration::from_secs(180 * 24 * 3600);

/// Most history entries a record keeps: with reasons bounded to [`crate::MAX_REASON_CHARS`], a
/// full history stays far below DynamoDB's 400 KB item limit.
pub const MAX_HISTORY_ENTRIES: usize = 200;

/// The one record per purchase order behind the order dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub channel: ChannelId,
    pub order: PurchaseOrder,
    creation: CreationState,
    acknowledged_at: Option<Timestamp>,
    lines: Vec<LineProgress>,
    pub history: Vec<HistoryEntry>,
    pub imported_at: Timestamp,
    pub updated_at: Timestamp,
    /// Failed sync tasks; any makes the summary Error.
    #[serde(default)]
    problems: Vec<SyncProblem>,
    /// Walmart returns of this order.
    #[serde(default)]
    returns: Vec<ReturnOrderId>,
    /// Lines the customer asked to cancel on Walmart (`intentToCancel`).
    #[serde(default)]
    cancel_requested: Vec<LineNumber>,
    /// Whether the Commerce order carries a comment for every requested line.
    #[serde(default)]
    cancel_request_noted: bool,
    /// Walmart's and Commerce's totals of the placed order, once the Commerce order is read.
    #[serde(default)]
    totals: Option<TotalsComparison>,
}

impl OrderRecord {
    /// A newly seen purchase order. Lines Walmart already reports as cancelled start cancelled.
    pub fn import(channel: ChannelId, order: PurchaseOrder, now: Timestamp) -> Self {
        let lines = order
            .lines
            .iter()
            .map(|l| LineProgress {
                number: l.number,
                ordered: l.quantity,
                shipped: 0,
                cancelled: 0,
                returned: 0,
                refunded: 0,
                order_item_id: None,
                commerce_unit_price: None,
                cancel_pending_in_commerce: 0,
            })
            .collect();
        let acknowledged_at = order
            .lines
            .iter()
            .any(|l| l.status != WalmartLineStatus::Created && l.status != WalmartLineStatus::Cancelled)
            .then_some(now);
        Self {
            channel,
            order,
            creation: CreationState::Pending { attempts: 0 },
            acknowledged_at,
            lines,
            history: vec![HistoryEntry {
                at: now,
                line: None,
                event: OrderEvent::Imported,
            }],
            imported_at: now,
            updated_at: now,
            problems: Vec::new(),
            returns: Vec::new(),
            cancel_requested: Vec::new(),
            cancel_request_noted: false,
            totals: None,
        }
    }

    pub fn creation(&self) -> &CreationState {
        &self.creation
    }

    pub fn commerce_link(&self) -> Option<&CommerceOrderLink> {
        match &self.creation {
            CreationState::Created { link } => Some(link),
            _ => None,
        }
    }

    pub fn acknowledged_at(&self) -> Option<Timestamp> {
        self.acknowledged_at
    }

    pub fn lines(&self) -> &[LineProgress] {
        &self.lines
    }

    fn record(&mut self, now: Timestamp, line: Option<LineNumber>, event: OrderEvent) {
        if self.history.len() >= MAX_HISTORY_ENTRIES {
            // Failures repeat (a sync retried for days with changing reasons); the story's
            // milestones do not. The oldest failure goes first, else the oldest entry after the
            // import.
            let oldest = self
                .history
                .iter()
                .position(|h| {
                    matches!(
                        h.event,
                        OrderEvent::Failed { .. }
                            | OrderEvent::SyncFailed { .. }
                            | OrderEvent::SyncRecovered { .. }
                    )
                })
                .unwrap_or(1.min(self.history.len() - 1));
            self.history.remove(oldest);
        }
        self.history.push(HistoryEntry { at: now, line, event });
        self.updated_at = now;
    }

    /// A duplicate Commerce order of this purchase order was cancelled in Commerce.
    pub fn duplicate_cancelled(&mut self, increment_id: IncrementId, now: Timestamp) {
        let event = OrderEvent::DuplicateCancelled { increment_id };
        if !self.history.iter().any(|h| h.event == event) {
            self.record(now, None, event);
        }
    }

    /// The Commerce order was placed (or found, after a crash).
    pub fn created(&mut self, link: CommerceOrderLink, now: Timestamp) -> Result<(), IllegalTransition> {
        match &self.creation {
            CreationState::Pending { .. } | CreationState::Failed { .. } => {}
            CreationState::Created { link: existing } if *existing == link => return Ok(()),
            other => return Err(IllegalTransition::new("order creation", other, "created")),
        }
        let increment_id = link.increment_id.clone();
        self.creation = CreationState::Created { link };
        // Buyer data only while needed: it was needed to place (or find) the Commerce order.
        self.order.ship_to = ShipTo::erased();
        self.record(now, None, OrderEvent::Created { increment_id });
        Ok(())
    }

    /// An attempt failed. Returns whether another attempt is allowed under `max_attempts`.
    pub fn creation_failed(
        &mut self,
        reason: String,
        max_attempts: u32,
        now: Timestamp,
    ) -> Result<bool, IllegalTransition> {
        let attempts = match &self.creation {
            CreationState::Pending { attempts } | CreationState::Failed { attempts, .. } => {
                attempts.saturating_add(1)
            }
            other => return Err(IllegalTransition::new("order creation", other, "failed")),
        };
        let reason = bounded_reason(reason);
        self.creation = CreationState::Failed {
            reason: reason.clone(),
            attempts,
        };
        self.record(now, None, OrderEvent::Failed { reason });
        Ok(attempts < max_attempts)
    }

    /// The merchant fixed the cause: the order may be attempted again from zero.
    pub fn redrive(&mut self, now: Timestamp) -> Result<(), IllegalTransition> {
        match &self.creation {
            CreationState::Failed { .. } => {
                self.creation = CreationState::Pending { attempts: 0 };
                self.record(now, None, OrderEvent::Redriven);
                Ok(())
            }
            other => Err(IllegalTransition::new("order creation", other, "pending")),
        }
    }

    /// Walmart accepted our acknowledgement.
    pub fn acknowledged(&mut self, now: Timestamp) -> Result<(), IllegalTransition> {
        if self.acknowledged_at.is_some() {
            return Err(IllegalTransition::new(
                "order acknowledgement",
                "acknowledged",
                "acknowledged",
            ));
        }
        self.acknowledged_at = Some(now);
        self.record(now, None, OrderEvent::Acknowledged);
        Ok(())
    }

    pub fn note_price_difference(
        &mut self,
        line: LineNumber,
        walmart: Money,
        commerce: Money,
        now: Timestamp,
    ) {
        self.record(now, Some(line), OrderEvent::PriceDifference { walmart, commerce });
    }

    fn line_mut(&mut self, number: LineNumber) -> Result<&mut LineProgress, OrderError> {
        let po = self.order.id.clone();
        self.lines
            .iter_mut()
            .find(|l| l.number == number)
            .ok_or(OrderError::UnknownLine { po, line: number })
    }

    pub fn line(&self, number: LineNumber) -> Option<&LineProgress> {
        self.lines.iter().find(|l| l.number == number)
    }

    /// Units of a line shipped. Only open units can ship.
    pub fn ship(&mut self, number: LineNumber, quantity: u32, now: Timestamp) -> Result<(), OrderError> {
        let line = self.line_mut(number)?;
        if quantity == 0 || quantity > line.open() {
            return Err(IllegalTransition::new(
                "line quantity",
                format!("{} open", line.open()),
                format!("ship {quantity}"),
            )
            .into());
        }
        line.shipped += quantity;
        self.record(now, Some(number), OrderEvent::Shipped { quantity });
        Ok(())
    }

    /// Units of a line cancelled. Shipped units cannot be cancelled.
    pub fn cancel(&mut self, number: LineNumber, quantity: u32, now: Timestamp) -> Result<(), OrderError> {
        let line = self.line_mut(number)?;
        if quantity == 0 || quantity > line.open() {
            return Err(IllegalTransition::new(
                "line quantity",
                format!("{} open", line.open()),
                format!("cancel {quantity}"),
            )
            .into());
        }
        line.cancelled += quantity;
        self.record(now, Some(number), OrderEvent::Cancelled { quantity });
        Ok(())
    }

    /// The buyer asked to return shipped units.
    pub fn return_requested(
        &mut self,
        number: LineNumber,
        quantity: u32,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        let line = self.line_mut(number)?;
        if quantity == 0
            || line
                .returned
                .checked_add(quantity)
                .is_none_or(|total| total > line.shipped)
        {
            return Err(IllegalTransition::new(
                "line quantity",
                format!("{} shipped, {} returned", line.shipped, line.returned),
                format!("return {quantity}"),
            )
            .into());
        }
        line.returned += quantity;
        self.record(now, Some(number), OrderEvent::ReturnRequested { quantity });
        Ok(())
    }

    /// Returned units refunded.
    pub fn refunded(
        &mut self,
        number: LineNumber,
        quantity: u32,
        amount: Money,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        let line = self.line_mut(number)?;
        if quantity == 0
            || line
                .refunded
                .checked_add(quantity)
                .is_none_or(|total| total > line.returned)
        {
            return Err(IllegalTransition::new(
                "line quantity",
                format!("{} returned, {} refunded", line.returned, line.refunded),
                format!("refund {quantity}"),
            )
            .into());
        }
        line.refunded += quantity;
        self.record(now, Some(number), OrderEvent::Refunded { quantity, amount });
        Ok(())
    }

    /// The status the dashboard shows, derived from the record (never stored separately, so it cannot
    /// disagree with the lines).
    pub fn summary(&self) -> OrderSummary {
        if matches!(self.creation, CreationState::Failed { .. }) || !self.problems.is_empty() {
            return OrderSummary::Error;
        }
        // In u64: many lines of large quantities cannot overflow the totals.
        let sum = |f: fn(&LineProgress) -> u32| self.lines.iter().map(|l| u64::from(f(l))).sum::<u64>();
        let (ordered, shipped, cancelled) = (sum(|l| l.ordered), sum(|l| l.shipped), sum(|l| l.cancelled));
        let (returned, refunded) = (sum(|l| l.returned), sum(|l| l.refunded));
        if returned > 0 {
            return if refunded == returned {
                OrderSummary::Refunded
            } else {
                OrderSummary::ReturnRequested
            };
        }
        if cancelled == ordered {
            return OrderSummary::Canceled;
        }
        if self.commerce_link().is_none() || self.acknowledged_at.is_none() {
            return OrderSummary::Pending;
        }
        if shipped > 0 && shipped + cancelled == ordered {
            return OrderSummary::Shipped;
        }
        if shipped > 0 {
            return OrderSummary::PartiallyShipped;
        }
        OrderSummary::Open
    }

    /// What the dashboard's "Status details" column shows: why the order is in error, or that a
    /// return is open.
    pub fn status_detail(&self) -> Option<String> {
        let mut details = Vec::new();
        if let CreationState::Failed { reason, attempts } = &self.creation {
            details.push(format!(
                "Commerce order not created after {attempts} attempt(s): {reason}"
            ));
        }
        details.extend(self.problems.iter().map(|p| p.reason.clone()));
        let still_open: Vec<String> = self
            .cancel_requested
            .iter()
            .filter(|n| self.line(**n).is_some_and(|l| l.open() > 0))
            .map(|n| n.to_string())
            .collect();
        if !still_open.is_empty() {
            details.push(format!(
                "Customer asked to cancel on Walmart (line {})",
                still_open.join(", ")
            ));
        }
        if details.is_empty() && self.summary() == OrderSummary::ReturnRequested {
            details.push("Return requested".to_owned());
        }
        (!details.is_empty()).then(|| details.join("; "))
    }

    /// Records what Commerce made of a line: its order item and unit price. A price that differs
    /// from Walmart's is flagged in the history.
    pub fn link_line(
        &mut self,
        number: LineNumber,
        order_item_id: Option<u64>,
        commerce_unit_price: Option<Money>,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        let walmart =
            self.order
                .line(number)
                .map(|l| l.unit_price)
                .ok_or_else(|| OrderError::UnknownLine {
                    po: self.order.id.clone(),
                    line: number,
                })?;
        let line = self.line_mut(number)?;
        let first_time = line.order_item_id.is_none() && line.commerce_unit_price.is_none();
        line.order_item_id = order_item_id.or(line.order_item_id);
        line.commerce_unit_price = commerce_unit_price.or(line.commerce_unit_price);
        if first_time
            && let Some(commerce) = commerce_unit_price
            && commerce != walmart
        {
            self.note_price_difference(number, walmart, commerce, now);
        }
        Ok(())
    }

    /// Walmart's and Commerce's totals of the order as placed, if the Commerce order was read.
    pub fn totals(&self) -> Option<&TotalsComparison> {
        self.totals.as_ref()
    }

    /// Records Commerce's totals of the order placed from `placed` beside Walmart's; a difference
    /// is flagged in the history once (the order's status does not change: the merchant decides).
    pub fn compare_totals(&mut self, placed: &PurchaseOrder, commerce: OrderTotals, now: Timestamp) {
        let comparison = TotalsComparison {
            walmart: OrderTotals::of_walmart(placed),
            commerce,
        };
        let first_time = self.totals.is_none();
        self.totals = Some(comparison);
        if first_time && comparison.differ() {
            self.record(
                now,
                None,
                OrderEvent::TotalsDifference {
                    walmart: comparison.walmart,
                    commerce,
                },
            );
        }
    }

    /// The purchase order as it should be placed in Commerce now: units already cancelled on
    /// Walmart are left out, and lines with nothing left are dropped.
    pub fn order_to_place(&self) -> PurchaseOrder {
        let mut order = self.order.clone();
        order.lines.retain_mut(|line| {
            let open = self.line(line.number).map_or(line.quantity, LineProgress::open);
            line.quantity = open;
            open > 0
        });
        order
    }

    /// The Commerce order was placed from `placed` (what [`Self::order_to_place`] gave then). Units
    /// Walmart cancelled since are still in the Commerce order: they are marked for reflection there.
    pub fn created_from(
        &mut self,
        link: CommerceOrderLink,
        placed: &PurchaseOrder,
        now: Timestamp,
    ) -> Result<(), IllegalTransition> {
        let newly = self.commerce_link().is_none();
        self.created(link, now)?;
        if newly {
            for line in &mut self.lines {
                let placed_qty = placed.line(line.number).map_or(0, |l| l.quantity);
                let expected_open = line.ordered - line.shipped - line.cancelled;
                line.cancel_pending_in_commerce = placed_qty.saturating_sub(expected_open);
            }
        }
        Ok(())
    }

    /// Units cancelled on Walmart (by the buyer or Walmart). Once the Commerce order exists they
    /// stay pending until reflected there.
    pub fn cancelled_on_walmart(
        &mut self,
        number: LineNumber,
        quantity: u32,
        now: Timestamp,
    ) -> Result<(), OrderError> {
        self.cancel(number, quantity, now)?;
        if self.commerce_link().is_some() {
            let line = self.line_mut(number)?;
            line.cancel_pending_in_commerce = line.cancel_pending_in_commerce.saturating_add(quantity);
        }
        Ok(())
    }

    /// The customer asked Walmart to cancel `lines`. Returns whether any line is new (then the
    /// Commerce order needs a comment again).
    pub fn customer_asked_to_cancel(&mut self, lines: &[LineNumber], now: Timestamp) -> bool {
        let mut changed = false;
        for number in lines {
            if self.line(*number).is_some() && !self.cancel_requested.contains(number) {
                self.cancel_requested.push(*number);
                self.record(now, Some(*number), OrderEvent::CancellationRequested);
                changed = true;
            }
        }
        if changed {
            self.cancel_requested.sort();
            self.cancel_request_noted = false;
        }
        changed
    }

    /// Lines the customer asked to cancel on Walmart: the only lines a Commerce cancellation sends
    /// to Walmart as customer-requested, and the lines shipped with `intentToCancelOverride`.
    pub fn cancel_requested(&self) -> &[LineNumber] {
        &self.cancel_requested
    }

    /// Whether the customer's cancellation request still needs its comment on the Commerce order.
    pub fn cancel_request_pending_in_commerce(&self) -> bool {
        !self.cancel_requested.is_empty() && !self.cancel_request_noted && self.commerce_link().is_some()
    }

    /// The Commerce order now carries the comment for the customer's cancellation request.
    pub fn cancel_request_noted(&mut self, now: Timestamp) {
        if !self.cancel_request_noted {
            self.cancel_request_noted = true;
            self.record(now, None, OrderEvent::CancellationRequestNoted);
        }
    }

    /// Walmart cancellations the Commerce order does not reflect yet, per line.
    pub fn cancellations_pending_in_commerce(&self) -> Vec<(LineNumber, u32)> {
        self.lines
            .iter()
            .filter(|l| l.cancel_pending_in_commerce > 0)
            .map(|l| (l.number, l.cancel_pending_in_commerce))
            .collect()
    }

    /// The pending Walmart cancellations are now reflected in Commerce: by cancelling the Commerce
    /// order (`None`), or by a comment because it could not be cancelled (`Some(reason)`).
    pub fn cancellations_reflected(&mut self, noted_instead: Option<String>, now: Timestamp) {
        if self.lines.iter().all(|l| l.cancel_pending_in_commerce == 0) {
            return;
        }
        for line in &mut self.lines {
            line.cancel_pending_in_commerce = 0;
        }
        let event = match noted_instead {
            None => OrderEvent::CommerceOrderCancelled,
            Some(reason) => OrderEvent::CancellationNoted {
                reason: bounded_reason(reason),
            },
        };
        self.record(now, None, event);
    }

    /// Spreads `quantity` units of a Commerce order item over the Walmart lines placed as it (by
    /// order item id, else by SKU), filling each line's open units in line order. Fails when the
    /// lines have fewer open units.
    pub fn allocate_open(
        &self,
        order_item_id: Option<u64>,
        sku: Option<&Sku>,
        quantity: u32,
    ) -> Result<Vec<crate::LineQuantity>, OrderError> {
        let candidates = self.lines_of_item(order_item_id, sku);
        let mut left = quantity;
        let mut out = Vec::new();
        for number in &candidates {
            if left == 0 {
                break;
            }
            let open = self.line(*number).map_or(0, LineProgress::open);
            let take = open.min(left);
            if take > 0 {
                out.push(crate::LineQuantity {
                    line: *number,
                    quantity: take,
                });
                left -= take;
            }
        }
        if left > 0 {
            return Err(IllegalTransition::new(
                "line quantity",
                format!("{} open on lines {candidates:?}", quantity - left),
                format!("allocate {quantity} of item {order_item_id:?} / {sku:?}"),
            )
            .into());
        }
        Ok(out)
    }

    /// The Walmart lines placed as a Commerce order item: by order item id when the record knows
    /// it, else by SKU.
    pub fn lines_of_item(&self, order_item_id: Option<u64>, sku: Option<&Sku>) -> Vec<LineNumber> {
        let by_item: Vec<LineNumber> = order_item_id
            .map(|id| {
                self.lines
                    .iter()
                    .filter(|l| l.order_item_id == Some(id))
                    .map(|l| l.number)
                    .collect()
            })
            .unwrap_or_default();
        if !by_item.is_empty() {
            return by_item;
        }
        let Some(sku) = sku else {
            return Vec::new();
        };
        self.order
            .lines
            .iter()
            .filter(|l| l.sku == *sku)
            .map(|l| l.number)
            .collect()
    }

    pub fn problems(&self) -> &[SyncProblem] {
        &self.problems
    }

    /// A sync task failed: the order shows Error with the reason until the task succeeds.
    pub fn sync_failed(&mut self, task: SyncTask, reason: String, now: Timestamp) {
        let reason = bounded_reason(reason);
        if let Some(existing) = self.problems.iter_mut().find(|p| p.task == task) {
            if existing.reason == reason {
                return;
            }
            existing.reason = reason.clone();
            existing.at = now;
        } else {
            self.problems.push(SyncProblem {
                task: task.clone(),
                reason: reason.clone(),
                at: now,
            });
        }
        self.record(now, None, OrderEvent::SyncFailed { task, reason });
    }

    /// A task that had failed succeeded. Returns whether there was a problem to clear.
    pub fn sync_recovered(&mut self, task: &SyncTask, now: Timestamp) -> bool {
        let before = self.problems.len();
        self.problems.retain(|p| p.task != *task);
        let cleared = self.problems.len() < before;
        if cleared {
            self.record(now, None, OrderEvent::SyncRecovered { task: task.clone() });
        }
        cleared
    }

    pub fn returns(&self) -> &[ReturnOrderId] {
        &self.returns
    }

    /// Links a Walmart return to the order (once).
    pub fn link_return(&mut self, return_order_id: ReturnOrderId, now: Timestamp) -> bool {
        if self.returns.contains(&return_order_id) {
            return false;
        }
        self.returns.push(return_order_id.clone());
        self.record(now, None, OrderEvent::ReturnLinked { return_order_id });
        true
    }

    /// When the record may be deleted: [`SETTLED_RETENTION`] after its last change, once the
    /// order is settled (shipped, cancelled or refunded, with no problem open). Open, pending and
    /// failed orders are kept while work remains. A later change (a return) moves the date.
    pub fn expires_at(&self) -> Option<Timestamp> {
        matches!(
            self.summary(),
            OrderSummary::Shipped | OrderSummary::Canceled | OrderSummary::Refunded
        )
        .then(|| self.updated_at.plus(SETTLED_RETENTION))
    }

    /// Every unit is shipped or cancelled.
    pub fn is_fulfilled(&self) -> bool {
        self.lines.iter().all(|l| l.open() == 0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample_order() -> PurchaseOrder {
        let line = |n: u32, sku: &str, qty: u32| OrderLine {
            number: LineNumber(n),
            sku: Sku::new(sku).unwrap(),
            product_name: format!("Product {sku}"),
            quantity: qty,
            unit_price: Money::from_cents(1000),
            tax: Money::from_cents(80),
            shipping: Money::ZERO,
            status: WalmartLineStatus::Created,
        };
        PurchaseOrder {
            id: PurchaseOrderId::new("1796277083022").unwrap(),
            customer_order_id: CustomerOrderId::new("5401787453925").unwrap(),
            order_date: Timestamp::from_millis(1),
            method_code: MethodCode::new("Standard").unwrap(),
            ship_to: ShipTo {
                name: "Jane Doe".into(),
                address1: "1 Main St".into(),
                address2: None,
                city: "Bentonville".into(),
                state: "AR".into(),
                postal_code: "72712".into(),
                country: "USA".into(),
                phone: Some("5555550100".into()),
                email: Some("relay@relay.walmart.com".into()),
            },
            lines: vec![line(1, "MUG-1", 2), line(2, "CUP-1", 1)],
        }
    }

    #[test]
    fn quantities_past_u32_are_refused_not_wrapped() {
        let mut r = record();
        let t = Timestamp::from_millis(2);
        r.ship(LineNumber(1), 1, t).unwrap();
        r.return_requested(LineNumber(1), 1, t).unwrap();
        // returned (1) + u32::MAX would wrap to 0 in release and pass a naive check.
        assert!(r.return_requested(LineNumber(1), u32::MAX, t).is_err());
        r.refunded(LineNumber(1), 1, Money::ZERO, t).unwrap();
        assert!(r.refunded(LineNumber(1), u32::MAX, Money::ZERO, t).is_err());
        assert!(r.ship(LineNumber(2), u32::MAX, t).is_err());
    }

    #[test]
    fn only_settled_orders_expire() {
        let mut r = record();
        assert_eq!(r.expires_at(), None, "pending");
        r.created(link(), Timestamp::from_millis(3)).unwrap();
        r.acknowledged(Timestamp::from_millis(4)).unwrap();
        assert_eq!(r.expires_at(), None, "open");
        r.cancel(LineNumber(1), 2, Timestamp::from_millis(5)).unwrap();
        r.cancel(LineNumber(2), 1, Timestamp::from_millis(5)).unwrap();
        assert_eq!(r.summary(), OrderSummary::Canceled);
        assert_eq!(r.expires_at(), Some(r.updated_at.plus(SETTLED_RETENTION)));
    }

    #[test]
    fn the_buyer_is_forgotten_once_the_commerce_order_exists() {
        let mut r = record();
        assert!(!r.order.ship_to.is_erased());
        r.creation_failed("down".into(), 5, Timestamp::from_millis(2))
            .unwrap();
        assert!(!r.order.ship_to.is_erased(), "a retry needs the address");
        r.created(link(), Timestamp::from_millis(3)).unwrap();
        assert!(r.order.ship_to.is_erased());
        let stored = serde_json::to_string(&r).unwrap();
        for buyer in [
            "Jane Doe",
            "1 Main St",
            "5555550100",
            "relay@relay.walmart.com",
            "72712",
        ] {
            assert!(!stored.contains(buyer), "{buyer} in {stored}");
        }
        assert_eq!(r.order.total(), sample_order().total(), "totals stay");
    }

    /// However long and however often the reasons, a record stays far below DynamoDB's 400 KB
    /// item limit, and the story's milestones stay in its history.
    #[test]
    fn endless_long_failures_keep_a_record_small() {
        let mut r = record();
        let t = Timestamp::from_millis(2);
        let huge = "Invalid value of \"1 Main St\" for street. ".repeat(2_000);
        for n in 0..5_000u32 {
            r.sync_failed(SyncTask::CancelOnWalmart, format!("{n}: {huge}"), t);
            r.creation_failed(format!("{n}: {huge}"), u32::MAX, t).unwrap();
        }
        r.cancellations_reflected(None, t);
        let size = serde_json::to_vec(&r).unwrap().len();
        assert!(size < 200_000, "{size} bytes");
        assert_eq!(r.history.len(), MAX_HISTORY_ENTRIES);
        assert_eq!(r.history[0].event, OrderEvent::Imported);
        assert!(r.problems()[0].reason.chars().count() <= crate::MAX_REASON_CHARS + 1);
    }

    fn record() -> OrderRecord {
        OrderRecord::import(
            ChannelId::new("main").unwrap(),
            sample_order(),
            Timestamp::from_millis(1),
        )
    }

    fn link() -> CommerceOrderLink {
        CommerceOrderLink {
            order_id: CommerceOrderId(42),
            increment_id: IncrementId::new("000000042").unwrap(),
        }
    }

    #[test]
    fn pii_never_reaches_debug_output() {
        let rendered = format!("{:?}", record());
        assert!(!rendered.contains("Jane"), "{rendered}");
        assert!(!rendered.contains("Main St"));
        assert!(!rendered.contains("relay@"));
    }

    #[test]
    fn creation_lifecycle_with_bounded_retries_and_redrive() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        assert!(
            r.creation_failed("unknown SKU".into(), 2, now).unwrap(),
            "1 of 2 attempts"
        );
        assert_eq!(r.summary(), OrderSummary::Error);
        assert!(
            !r.creation_failed("unknown SKU".into(), 2, now).unwrap(),
            "limit reached"
        );
        r.redrive(now).unwrap();
        assert_eq!(r.creation(), &CreationState::Pending { attempts: 0 });
        r.created(link(), now).unwrap();
        r.created(link(), now).unwrap();
        assert_eq!(
            r.history
                .iter()
                .filter(|h| matches!(h.event, OrderEvent::Created { .. }))
                .count(),
            1
        );
        let other = CommerceOrderLink {
            order_id: CommerceOrderId(43),
            increment_id: IncrementId::new("43").unwrap(),
        };
        assert!(
            r.created(other, now).is_err(),
            "never relinked to a second Commerce order"
        );
        assert!(r.creation_failed("late".into(), 5, now).is_err());
        assert!(r.redrive(now).is_err());
        r.acknowledged(now).unwrap();
        assert!(r.acknowledged(now).is_err());
    }

    #[test]
    fn line_quantities_drive_the_summary() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        assert_eq!(r.summary(), OrderSummary::Pending, "not in Commerce yet");
        r.created(link(), now).unwrap();
        assert_eq!(r.summary(), OrderSummary::Pending, "not acknowledged yet");
        r.acknowledged(now).unwrap();
        assert_eq!(r.summary(), OrderSummary::Open);
        assert_eq!(r.summary().adobe_label(), "Open");
        r.ship(LineNumber(1), 1, now).unwrap();
        assert_eq!(r.summary(), OrderSummary::PartiallyShipped);
        assert!(r.ship(LineNumber(1), 2, now).is_err(), "only one unit left open");
        r.cancel(LineNumber(1), 1, now).unwrap();
        assert!(r.cancel(LineNumber(1), 1, now).is_err(), "nothing open");
        r.ship(LineNumber(2), 1, now).unwrap();
        assert_eq!(r.summary(), OrderSummary::Shipped);
        assert!(r.is_fulfilled());
        assert!(
            r.return_requested(LineNumber(1), 2, now).is_err(),
            "only one unit shipped"
        );
        r.return_requested(LineNumber(1), 1, now).unwrap();
        assert_eq!(r.summary(), OrderSummary::ReturnRequested);
        assert!(
            r.refunded(LineNumber(2), 1, Money::from_cents(1), now).is_err(),
            "line 2 not returned"
        );
        r.refunded(LineNumber(1), 1, Money::from_cents(1080), now)
            .unwrap();
        assert_eq!(r.summary(), OrderSummary::Refunded);
        assert!(matches!(
            r.ship(LineNumber(9), 1, now),
            Err(OrderError::UnknownLine { .. })
        ));
    }

    #[test]
    fn fully_cancelled_order_is_canceled() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        r.cancel(LineNumber(1), 2, now).unwrap();
        r.cancel(LineNumber(2), 1, now).unwrap();
        assert_eq!(r.summary(), OrderSummary::Canceled);
        assert!(
            r.ship(LineNumber(2), 1, now).is_err(),
            "a cancelled line cannot ship"
        );
    }

    #[test]
    fn lines_link_to_commerce_items_and_flag_price_differences() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        r.link_line(LineNumber(1), Some(7), Some(Money::from_cents(1000)), now)
            .unwrap();
        r.link_line(LineNumber(2), Some(8), Some(Money::from_cents(1200)), now)
            .unwrap();
        let flagged: Vec<_> = r
            .history
            .iter()
            .filter(|h| matches!(h.event, OrderEvent::PriceDifference { .. }))
            .map(|h| h.line)
            .collect();
        assert_eq!(flagged, vec![Some(LineNumber(2))]);
        r.link_line(LineNumber(2), Some(8), Some(Money::from_cents(1200)), now)
            .unwrap();
        assert_eq!(
            r.history
                .iter()
                .filter(|h| matches!(h.event, OrderEvent::PriceDifference { .. }))
                .count(),
            1,
            "flagged once"
        );
        assert!(r.link_line(LineNumber(9), None, None, now).is_err());
        assert_eq!(r.lines_of_item(Some(8), None), vec![LineNumber(2)]);
        let cup = Sku::new("CUP-1").unwrap();
        assert_eq!(r.lines_of_item(Some(99), Some(&cup)), vec![LineNumber(2)]);
    }

    #[test]
    fn allocation_fills_open_units_of_lines_sharing_an_item() {
        let mut order = sample_order();
        order.lines[1].sku = order.lines[0].sku.clone();
        let mut r = OrderRecord::import(ChannelId::new("main").unwrap(), order, Timestamp::from_millis(1));
        let now = Timestamp::from_millis(2);
        r.link_line(LineNumber(1), Some(7), None, now).unwrap();
        r.link_line(LineNumber(2), Some(7), None, now).unwrap();
        let all = r.allocate_open(Some(7), None, 3).unwrap();
        assert_eq!(
            all,
            vec![
                crate::LineQuantity {
                    line: LineNumber(1),
                    quantity: 2
                },
                crate::LineQuantity {
                    line: LineNumber(2),
                    quantity: 1
                },
            ]
        );
        r.ship(LineNumber(1), 1, now).unwrap();
        assert_eq!(
            r.allocate_open(Some(7), None, 1).unwrap(),
            vec![crate::LineQuantity {
                line: LineNumber(1),
                quantity: 1
            }]
        );
        assert!(r.allocate_open(Some(7), None, 3).is_err(), "only 2 open");
        assert!(r.allocate_open(Some(99), None, 1).is_err(), "unknown item");
    }

    #[test]
    fn walmart_cancellations_before_and_after_creation() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        // Before creation: the cancelled unit is simply not placed.
        r.cancelled_on_walmart(LineNumber(1), 1, now).unwrap();
        let placed = r.order_to_place();
        assert_eq!(placed.lines.len(), 2);
        assert_eq!(placed.line(LineNumber(1)).unwrap().quantity, 1);
        // Cancelled again while the order was being placed: that unit is in Commerce.
        r.cancelled_on_walmart(LineNumber(2), 1, now).unwrap();
        r.created_from(link(), &placed, now).unwrap();
        assert_eq!(r.cancellations_pending_in_commerce(), vec![(LineNumber(2), 1)]);
        // After creation every Walmart cancellation is pending in Commerce until reflected.
        r.cancelled_on_walmart(LineNumber(1), 1, now).unwrap();
        assert_eq!(
            r.cancellations_pending_in_commerce(),
            vec![(LineNumber(1), 1), (LineNumber(2), 1)]
        );
        r.cancellations_reflected(None, now);
        assert!(r.cancellations_pending_in_commerce().is_empty());
        assert_eq!(r.summary(), OrderSummary::Canceled);
        let reflected = r
            .history
            .iter()
            .filter(|h| h.event == OrderEvent::CommerceOrderCancelled)
            .count();
        r.cancellations_reflected(None, now);
        assert_eq!(reflected, 1);
        assert_eq!(
            r.history
                .iter()
                .filter(|h| h.event == OrderEvent::CommerceOrderCancelled)
                .count(),
            1,
            "nothing pending, nothing recorded"
        );
        let mut all_gone = record();
        all_gone.cancelled_on_walmart(LineNumber(1), 2, now).unwrap();
        all_gone.cancelled_on_walmart(LineNumber(2), 1, now).unwrap();
        assert!(all_gone.order_to_place().lines.is_empty());
    }

    #[test]
    fn sync_problems_make_the_order_an_error_until_recovered() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        r.created(link(), now).unwrap();
        r.acknowledged(now).unwrap();
        let task = SyncTask::Shipment {
            shipment_id: crate::CommerceShipmentId(5),
        };
        r.sync_failed(task.clone(), "carrier unknown".into(), now);
        r.sync_failed(task.clone(), "carrier unknown".into(), now);
        assert_eq!(r.problems().len(), 1);
        assert_eq!(r.summary(), OrderSummary::Error);
        assert_eq!(r.status_detail().as_deref(), Some("carrier unknown"));
        assert!(r.sync_recovered(&task, now));
        assert!(!r.sync_recovered(&task, now));
        assert_eq!(r.summary(), OrderSummary::Open);
        assert_eq!(r.status_detail(), None);
        let round_trip: OrderRecord = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(round_trip, r);
    }

    #[test]
    fn returns_link_once_and_old_records_still_read() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        let id = ReturnOrderId::new("R1").unwrap();
        assert!(r.link_return(id.clone(), now));
        assert!(!r.link_return(id.clone(), now));
        assert_eq!(r.returns(), &[id]);
        // A record written before the newer fields existed.
        let mut old = serde_json::to_value(record()).unwrap();
        old.as_object_mut().unwrap().remove("problems");
        old.as_object_mut().unwrap().remove("returns");
        for line in old["lines"].as_array_mut().unwrap() {
            line.as_object_mut().unwrap().remove("order_item_id");
        }
        let read: OrderRecord = serde_json::from_value(old).unwrap();
        assert!(read.problems().is_empty());
        assert_eq!(
            OrderSummary::parse("partially_shipped"),
            Some(OrderSummary::PartiallyShipped)
        );
    }
}
