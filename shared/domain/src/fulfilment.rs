//! Shipments and cancellations made in Commerce (or on Walmart) and their delivery to the other side.

use std::time::Duration;

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

/// A shipment of a channel order found without a tracking number. Magento adds tracking later
/// without moving the shipment's `updated_at` (`TrackRepository::save` writes only the track row),
/// so the shipment is read again by id on a back-off until a track appears: first after
/// [`TrackingWait::FIRST_CHECK`], each wait twice the last up to [`TrackingWait::LONGEST_INTERVAL`].
/// After [`TrackingWait::REPORT_AFTER`] the order shows Error (checks go on, so tracking added
/// later still reaches Walmart and clears it); after [`TrackingWait::FORGET_AFTER`] it is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingWait {
    pub channel: ChannelId,
    pub shipment_id: CommerceShipmentId,
    pub purchase_order: PurchaseOrderId,
    pub first_seen: Timestamp,
    pub next_check: Timestamp,
    /// Re-reads that still found no tracking.
    pub checks: u32,
    /// The order was marked Error for it.
    #[serde(default)]
    pub reported: bool,
}

/// What a re-read without tracking leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StillWaiting {
    /// Read again at `next_check`.
    Later,
    /// Waited past [`TrackingWait::REPORT_AFTER`]: the order shows Error with this reason.
    Report(String),
    /// Waited past [`TrackingWait::FORGET_AFTER`]: no more checks.
    GiveUp,
}

impl TrackingWait {
    pub const FIRST_CHECK: Duration = Duration::from_secs(5 * 60);
    pub const LONGEST_INTERVAL: Duration = Duration::from_secs(6 * 3600);
    /// Walmart expects ship confirmation within its ship-by window (days): three days without
    /// tracking needs the merchant.
    pub const REPORT_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
    pub const FORGET_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);

    pub fn new(
        channel: ChannelId,
        shipment_id: CommerceShipmentId,
        purchase_order: PurchaseOrderId,
        now: Timestamp,
    ) -> Self {
        Self {
            channel,
            shipment_id,
            purchase_order,
            first_seen: now,
            next_check: now.plus(Self::FIRST_CHECK),
            checks: 0,
            reported: false,
        }
    }

    pub fn is_due(&self, now: Timestamp) -> bool {
        self.next_check <= now
    }

    /// A re-read at `now` still found no tracking: schedules the next one (doubling the interval
    /// up to the longest) and says whether the merchant must hear of it now, or the wait ends.
    pub fn still_waiting(&mut self, now: Timestamp) -> StillWaiting {
        let waited = now.since(self.first_seen);
        if waited >= Self::FORGET_AFTER {
            return StillWaiting::GiveUp;
        }
        self.checks = self.checks.saturating_add(1);
        let interval = Self::FIRST_CHECK
            .saturating_mul(2u32.saturating_pow(self.checks.min(16)))
            .min(Self::LONGEST_INTERVAL);
        self.next_check = now.plus(interval);
        if waited >= Self::REPORT_AFTER && !self.reported {
            self.reported = true;
            return StillWaiting::Report(format!(
                "shipment {} has had no tracking number for {} days: add the carrier and tracking \
                 number to it in Commerce, or ship the order on Walmart",
                self.shipment_id,
                waited.as_secs() / (24 * 3600)
            ));
        }
        StillWaiting::Later
    }
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
    /// When the cancellation happened on its origin's side, when that side says (Commerce's order
    /// time for a cancellation made in Commerce).
    #[serde(default)]
    pub requested_at: Option<Timestamp>,
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

    #[test]
    fn a_shipment_waits_for_tracking_on_a_doubling_back_off_then_is_reported_then_dropped() {
        let start = Timestamp::from_millis(1_000_000);
        let mut wait = TrackingWait::new(
            ChannelId::new("main").unwrap(),
            CommerceShipmentId(7),
            PurchaseOrderId::new("1").unwrap(),
            start,
        );
        assert_eq!(wait.next_check, start.plus(TrackingWait::FIRST_CHECK));
        assert!(!wait.is_due(start));
        let mut now = wait.next_check;
        let mut intervals = Vec::new();
        let mut reports = Vec::new();
        loop {
            match wait.still_waiting(now) {
                StillWaiting::Later => {}
                StillWaiting::Report(reason) => reports.push(reason),
                StillWaiting::GiveUp => break,
            }
            intervals.push(wait.next_check.since(now).as_secs());
            now = wait.next_check;
        }
        assert_eq!(&intervals[..3], &[600, 1200, 2400]);
        assert!(intervals.iter().all(|s| *s <= 6 * 3600));
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(reports[0].contains("shipment 7 has had no tracking number for 3 days"));
        assert!(now.since(start) >= TrackingWait::FORGET_AFTER);
    }
}
