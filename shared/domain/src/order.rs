//! Walmart purchase orders and the one dashboard record each has: its Commerce link, per-line
//! progress with quantities, a status history and the summary status Adobe's dashboard shows.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    ChannelId, CommerceOrderId, CustomerOrderId, IllegalTransition, IncrementId, LineNumber, MethodCode,
    Money, PurchaseOrderId, Sku, Timestamp,
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
/// `returned <= shipped`, `refunded <= returned`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineProgress {
    pub number: LineNumber,
    pub ordered: u32,
    pub shipped: u32,
    pub cancelled: u32,
    pub returned: u32,
    pub refunded: u32,
}

impl LineProgress {
    fn open(&self) -> u32 {
        self.ordered - self.shipped - self.cancelled
    }
}

/// What happened, for the per-line status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OrderEvent {
    Imported,
    Acknowledged,
    Created { increment_id: IncrementId },
    PriceDifference { walmart: Money, commerce: Money },
    Shipped { quantity: u32 },
    Cancelled { quantity: u32 },
    ReturnRequested { quantity: u32 },
    Refunded { quantity: u32, amount: Money },
    Failed { reason: String },
    Redriven,
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
/// Canceled, Return requested, Error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSummary {
    Open,
    PartiallyShipped,
    Shipped,
    Canceled,
    ReturnRequested,
    Refunded,
    Error,
}

impl OrderSummary {
    pub fn as_str(self) -> &'static str {
        match self {
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
        self.history.push(HistoryEntry { at: now, line, event });
        self.updated_at = now;
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
            CreationState::Pending { attempts } | CreationState::Failed { attempts, .. } => attempts + 1,
            other => return Err(IllegalTransition::new("order creation", other, "failed")),
        };
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
        if quantity == 0 || line.returned + quantity > line.shipped {
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
        if quantity == 0 || line.refunded + quantity > line.returned {
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
        if matches!(self.creation, CreationState::Failed { .. }) {
            return OrderSummary::Error;
        }
        let sum = |f: fn(&LineProgress) -> u32| self.lines.iter().map(f).sum::<u32>();
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
        if shipped > 0 && shipped + cancelled == ordered {
            return OrderSummary::Shipped;
        }
        if shipped > 0 {
            return OrderSummary::PartiallyShipped;
        }
        OrderSummary::Open
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
        r.created(link(), now).unwrap();
        assert_eq!(r.summary(), OrderSummary::Open);
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
}
