//! Return orders: opened by the buyer for shipped units, refunded once by the seller or by Walmart.

use domain::{Money, Timestamp};

use super::*;
use crate::errors::WalmartFault;
use crate::model::*;

#[derive(Debug, Clone)]
pub struct ReturnLine {
    pub number: u32,
    pub order_line: u32,
    pub sku: String,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price: Money,
    /// Tax of the returned units.
    pub tax: Money,
    pub reason: String,
    /// How the line was refunded (the spec's `refundChannel` values), `None` while it is not.
    pub refund_channel: Option<&'static str>,
}

impl ReturnLine {
    pub fn refunded(&self) -> bool {
        self.refund_channel.is_some()
    }
}

/// `refundChannel` of a refund the seller issued through `POST /v3/returns/{id}/refund`.
pub const SELLER_REFUND: &str = "SELLER_MANUAL_REFUND";

/// `refundChannel` of a refund Walmart issued itself (e.g. its automatic refund on delivery).
pub const WALMART_REFUND: &str = "WALMART_TRIGGERED_REFUND";

#[derive(Debug, Clone)]
pub struct ReturnOrder {
    pub return_order_id: String,
    pub customer_order_id: String,
    pub customer_email: String,
    pub purchase_order_id: String,
    pub created_at: Timestamp,
    pub modified_at: Timestamp,
    pub lines: Vec<ReturnLine>,
}

impl ReturnOrder {
    pub fn status(&self) -> &'static str {
        if self.lines.iter().all(ReturnLine::refunded) {
            "COMPLETED"
        } else {
            "INITIATED"
        }
    }
}

impl World {
    pub fn create_return(&mut self, spec: NewReturn, now: Timestamp) -> Result<CreatedReturn, String> {
        let seq = self.seq();
        let order = self
            .orders
            .get(&spec.purchase_order_id)
            .ok_or_else(|| format!("purchase order {} not found", spec.purchase_order_id))?;
        if spec.lines.is_empty() {
            return Err("a return needs at least one line".to_owned());
        }
        let mut lines = Vec::new();
        for (i, wanted) in spec.lines.iter().enumerate() {
            let line = order
                .lines
                .iter()
                .find(|l| l.number == wanted.line)
                .ok_or_else(|| {
                    format!(
                        "purchase order {} has no line {}",
                        order.purchase_order_id, wanted.line
                    )
                })?;
            let shipped = line.quantity_in(LineState::Shipped);
            let returned: u32 = self
                .returns
                .values()
                .filter(|r| r.purchase_order_id == order.purchase_order_id)
                .flat_map(|r| r.lines.iter())
                .filter(|l| l.order_line == wanted.line)
                .map(|l| l.quantity)
                .sum();
            if wanted.quantity == 0 || returned + wanted.quantity > shipped {
                return Err(format!(
                    "line {}: {} unit(s) shipped, {returned} already returned; cannot return {}",
                    wanted.line, shipped, wanted.quantity
                ));
            }
            let tax_per_unit = Money::from_cents(line.tax.cents() / i64::from(line.quantity.max(1)));
            lines.push(ReturnLine {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                order_line: wanted.line,
                sku: line.sku.clone(),
                product_name: line.product_name.clone(),
                quantity: wanted.quantity,
                unit_price: line.unit_price,
                tax: tax_per_unit * wanted.quantity,
                reason: spec.reason.clone(),
                refund_channel: None,
            });
        }
        let return_order_id = (103_700_000_000_000_000u64 + seq).to_string();
        let created = CreatedReturn {
            return_order_id: return_order_id.clone(),
            customer_order_id: order.customer_order_id.clone(),
        };
        let record = ReturnOrder {
            return_order_id: return_order_id.clone(),
            customer_order_id: order.customer_order_id.clone(),
            customer_email: order.customer_email.clone(),
            purchase_order_id: order.purchase_order_id.clone(),
            created_at: now,
            modified_at: now,
            lines,
        };
        self.returns_by_date.insert((now, seq), return_order_id.clone());
        self.returns.insert(return_order_id, record);
        Ok(created)
    }

    pub fn refund_return(
        &mut self,
        return_order_id: &str,
        customer_order_id: &str,
        lines: &[u32],
        now: Timestamp,
    ) -> Result<(), WalmartFault> {
        let record = self.returns.get_mut(return_order_id).ok_or_else(|| {
            WalmartFault::not_found(
                "CONTENT_NOT_FOUND.GMP_RETURNS_API",
                format!("Return order {return_order_id} was not found"),
            )
        })?;
        if record.customer_order_id != customer_order_id {
            return Err(WalmartFault::bad_request(
                "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
                "customerOrderId",
                format!(
                    "Return order {return_order_id} does not belong to customer order {customer_order_id}"
                ),
            ));
        }
        if lines.is_empty() {
            return Err(WalmartFault::bad_request(
                "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
                "refundLines",
                "At least one return line is required",
            ));
        }
        for number in lines {
            match record.lines.iter().find(|l| l.number == *number) {
                None => {
                    return Err(WalmartFault::bad_request(
                        "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
                        "returnOrderLineNumber",
                        format!("Return order {return_order_id} has no line {number}"),
                    ));
                }
                // Walmart documents no error for this (the spec lists only 200); it refuses it as a
                // request error like every other invalid refund line, never with a 409.
                Some(line) if line.refunded() => {
                    return Err(WalmartFault::bad_request(
                        "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
                        "returnOrderLineNumber",
                        format!("Return line {number} is already refunded"),
                    ));
                }
                Some(_) => {}
            }
        }
        for line in record.lines.iter_mut().filter(|l| lines.contains(&l.number)) {
            line.refund_channel = Some(SELLER_REFUND);
        }
        record.modified_at = now;
        self.received.return_refunds.push(ReturnRefundRecord {
            return_order_id: return_order_id.to_owned(),
            customer_order_id: customer_order_id.to_owned(),
            lines: lines.to_vec(),
            at: now,
        });
        Ok(())
    }

    /// Walmart refunds every unrefunded line of a return itself (its automatic refund), as a
    /// seller sees it happen without calling the refund endpoint.
    pub fn walmart_refunds_return(&mut self, return_order_id: &str, now: Timestamp) -> Result<(), String> {
        let record = self
            .returns
            .get_mut(return_order_id)
            .ok_or_else(|| format!("no return order {return_order_id}"))?;
        for line in record.lines.iter_mut().filter(|l| !l.refunded()) {
            line.refund_channel = Some(WALMART_REFUND);
        }
        record.modified_at = now;
        Ok(())
    }
}
