//! Shipments and cancellations made in Commerce (or on Walmart) and their delivery to the other side.

use serde::{Deserialize, Serialize};

use crate::{
    ChannelId, CommerceShipmentId, IllegalTransition, LineNumber, MethodCode, PurchaseOrderId, Timestamp,
};

/// Quantity of one purchase-order line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineQuantity {
    pub line: LineNumber,
    pub quantity: u32,
}

/// The carrier as Walmart wants it: one of its known carriers, or another one with a tracking URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Carrier {
    Known { name: String },
    Other { name: String, tracking_url: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    pub carrier: Carrier,
    pub method: MethodCode,
    pub shipped_at: Timestamp,
}

/// Progress of sending something to the other side, shared by shipments, cancellations and refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    Pending,
    Sent { at: Timestamp },
    Failed { reason: String, at: Timestamp },
}

impl Delivery {
    /// Pending or failed may be (re)sent; sent is final.
    pub fn mark_sent(&mut self, at: Timestamp) -> Result<(), IllegalTransition> {
        match self {
            Delivery::Sent { .. } => Err(IllegalTransition::new("delivery", &*self, "sent")),
            _ => {
                *self = Delivery::Sent { at };
                Ok(())
            }
        }
    }

    pub fn mark_failed(&mut self, reason: String, at: Timestamp) -> Result<(), IllegalTransition> {
        match self {
            Delivery::Sent { .. } => Err(IllegalTransition::new("delivery", &*self, "failed")),
            _ => {
                *self = Delivery::Failed {
                    reason: crate::bounded_reason(reason),
                    at,
                };
                Ok(())
            }
        }
    }

    pub fn is_sent(&self) -> bool {
        matches!(self, Delivery::Sent { .. })
    }
}

/// A Commerce shipment of a channel order, to be sent to Walmart once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRecord {
    pub channel: ChannelId,
    pub shipment_id: CommerceShipmentId,
    pub purchase_order: PurchaseOrderId,
    pub lines: Vec<LineQuantity>,
    pub tracking: Tracking,
    pub delivery: Delivery,
    /// The shipped units are invoiced in Commerce (so the merchant can refund them later), or
    /// invoicing at shipment is off.
    #[serde(default)]
    pub invoiced: bool,
}

/// Why lines were cancelled, in Walmart's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelReason {
    /// The buyer asked the seller to cancel.
    CustomerRequestedSellerToCancel,
    /// The seller cancels, e.g. out of stock.
    SellerCancellation,
}

/// Which side a cancellation started on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Commerce,
    Walmart,
}

/// Lines cancelled on one side, to be reflected on the other once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRecord {
    pub channel: ChannelId,
    pub purchase_order: PurchaseOrderId,
    pub origin: Origin,
    pub lines: Vec<LineQuantity>,
    pub reason: CancelReason,
    pub delivery: Delivery,
    pub recorded_at: Timestamp,
    /// The reason exactly as Walmart has it (e.g. `SELLER_CANCEL_PRICING_ERROR`, `CUSTOMER_CANCEL`).
    #[serde(default)]
    pub walmart_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_is_final_once_sent() {
        let mut d = Delivery::Pending;
        d.mark_failed("timeout".into(), Timestamp::from_millis(1))
            .unwrap();
        d.mark_sent(Timestamp::from_millis(2)).unwrap();
        assert!(d.is_sent());
        assert!(d.mark_sent(Timestamp::from_millis(3)).is_err());
        assert!(d.mark_failed("x".into(), Timestamp::from_millis(3)).is_err());
    }
}
