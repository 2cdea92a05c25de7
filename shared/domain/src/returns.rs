//! Walmart returns, their Commerce return request, and the refund reported back to Walmart.

use serde::{Deserialize, Serialize};

use crate::{
    ChannelId, CreditMemoId, IllegalTransition, LineNumber, Money, PurchaseOrderId, ReturnOrderId, RmaId,
    Sku, Timestamp,
};

/// One returned line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// Walmart's return order line number.
    pub return_line: u32,
    /// The purchase order line it returns.
    pub order_line: LineNumber,
    pub sku: Sku,
    pub quantity: u32,
    /// What Walmart expects to refund for the line.
    pub refund_amount: Money,
}

/// Where a return stands: Adobe's Received → Refunded / Error, with the Commerce step made visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Pulled from Walmart.
    Received,
    /// A return request exists in Commerce: an RMA on Adobe Commerce, or an order comment on Magento
    /// Open Source (no RMA module), in which case `rma` is `None`.
    RequestedInCommerce { rma: Option<RmaId> },
    /// The merchant refunded offline in Commerce and Walmart was told.
    Refunded {
        credit_memo: CreditMemoId,
        amount: Money,
    },
    /// Something failed; the reason is for the merchant.
    Error { reason: String },
}

impl ReturnStatus {
    /// The status as Adobe's returns dashboard names it (Received, Refunded, Error).
    pub fn adobe_label(&self) -> &'static str {
        match self {
            ReturnStatus::Received | ReturnStatus::RequestedInCommerce { .. } => "Received",
            ReturnStatus::Refunded { .. } => "Refunded",
            ReturnStatus::Error { .. } => "Error",
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ReturnStatus::Received => "received",
            ReturnStatus::RequestedInCommerce { .. } => "requested_in_commerce",
            ReturnStatus::Refunded { .. } => "refunded",
            ReturnStatus::Error { .. } => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub channel: ChannelId,
    pub return_order_id: ReturnOrderId,
    pub purchase_order: PurchaseOrderId,
    pub lines: Vec<ReturnLine>,
    status: ReturnStatus,
    pub received_at: Timestamp,
    pub updated_at: Timestamp,
    /// When Walmart says the return was opened (its `returnOrderDate`), when it says.
    #[serde(default)]
    pub opened_at: Option<Timestamp>,
    /// When the return request was made in Commerce.
    #[serde(default)]
    pub requested_at: Option<Timestamp>,
    /// When the merchant refunded in Commerce (the credit memo's time), when Commerce says.
    #[serde(default)]
    pub refund_issued_at: Option<Timestamp>,
    /// When Walmart was told of the refund.
    #[serde(default)]
    pub refunded_at: Option<Timestamp>,
}

impl ReturnRecord {
    pub fn receive(
        channel: ChannelId,
        return_order_id: ReturnOrderId,
        purchase_order: PurchaseOrderId,
        lines: Vec<ReturnLine>,
        now: Timestamp,
    ) -> Self {
        Self {
            channel,
            return_order_id,
            purchase_order,
            lines,
            status: ReturnStatus::Received,
            received_at: now,
            updated_at: now,
            opened_at: None,
            requested_at: None,
            refund_issued_at: None,
            refunded_at: None,
        }
    }

    pub fn status(&self) -> &ReturnStatus {
        &self.status
    }

    pub fn refund_total(&self) -> Money {
        self.lines.iter().map(|l| l.refund_amount).sum()
    }

    /// The Commerce return (RMA) id, once requested there on Adobe Commerce.
    pub fn rma(&self) -> Option<RmaId> {
        match &self.status {
            ReturnStatus::RequestedInCommerce { rma } => *rma,
            _ => None,
        }
    }

    /// Whether the return is known to Commerce and waits for the merchant's refund.
    pub fn awaits_refund(&self) -> bool {
        matches!(self.status, ReturnStatus::RequestedInCommerce { .. })
    }

    pub fn requested_in_commerce(
        &mut self,
        rma: Option<RmaId>,
        now: Timestamp,
    ) -> Result<(), IllegalTransition> {
        match self.status {
            ReturnStatus::Received | ReturnStatus::Error { .. } => {
                self.status = ReturnStatus::RequestedInCommerce { rma };
                self.updated_at = now;
                self.requested_at = Some(now);
                Ok(())
            }
            _ => Err(IllegalTransition::new(
                "return",
                &self.status,
                "requested_in_commerce",
            )),
        }
    }

    /// Refunds are reported only for returns known to Commerce, and only once.
    pub fn refunded(
        &mut self,
        credit_memo: CreditMemoId,
        amount: Money,
        now: Timestamp,
    ) -> Result<(), IllegalTransition> {
        match self.status {
            ReturnStatus::RequestedInCommerce { .. } | ReturnStatus::Error { .. } => {
                self.status = ReturnStatus::Refunded { credit_memo, amount };
                self.updated_at = now;
                self.refunded_at = Some(now);
                Ok(())
            }
            _ => Err(IllegalTransition::new("return", &self.status, "refunded")),
        }
    }

    /// When the record may be deleted: [`crate::SETTLED_RETENTION`] after it was refunded.
    pub fn expires_at(&self) -> Option<Timestamp> {
        matches!(self.status, ReturnStatus::Refunded { .. })
            .then(|| self.updated_at.plus(crate::SETTLED_RETENTION))
    }

    pub fn failed(&mut self, reason: String, now: Timestamp) -> Result<(), IllegalTransition> {
        match self.status {
            ReturnStatus::Refunded { .. } => Err(IllegalTransition::new("return", &self.status, "error")),
            _ => {
                self.status = ReturnStatus::Error {
                    reason: crate::bounded_reason(reason),
                };
                self.updated_at = now;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_lifecycle() {
        let now = Timestamp::from_millis(1);
        let mut r = ReturnRecord::receive(
            ChannelId::new("main").unwrap(),
            ReturnOrderId::new("R1").unwrap(),
            PurchaseOrderId::new("1").unwrap(),
            vec![ReturnLine {
                return_line: 1,
                order_line: LineNumber(1),
                sku: Sku::new("A").unwrap(),
                quantity: 1,
                refund_amount: Money::from_cents(1080),
            }],
            now,
        );
        assert!(
            r.refunded(CreditMemoId(1), Money::from_cents(1080), now).is_err(),
            "not in Commerce yet"
        );
        assert_eq!(r.status().adobe_label(), "Received");
        r.requested_in_commerce(Some(RmaId(9)), now).unwrap();
        assert_eq!(r.rma(), Some(RmaId(9)));
        assert!(r.awaits_refund());
        assert_eq!(r.status().adobe_label(), "Received");
        assert!(r.requested_in_commerce(None, now).is_err());
        r.refunded(CreditMemoId(1), r.refund_total(), now).unwrap();
        assert_eq!(r.status().as_str(), "refunded");
        assert!(
            r.refunded(CreditMemoId(2), Money::ZERO, now).is_err(),
            "once per return"
        );
        assert!(r.failed("late".into(), now).is_err());
    }
}
