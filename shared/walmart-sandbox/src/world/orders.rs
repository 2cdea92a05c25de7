//! Purchase orders and Walmart's line-status rules: acknowledge, ship, cancel, refund, and the
//! buyer's cancellation request.

use std::collections::HashMap;

use axum::http::StatusCode;
use domain::{Money, Timestamp};

use super::*;
use crate::errors::WalmartFault;
use crate::model::*;

/// Walmart's per-quantity line states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    Created,
    Acknowledged,
    Shipped,
    Cancelled,
}

impl LineState {
    pub fn as_str(self) -> &'static str {
        match self {
            LineState::Created => "Created",
            LineState::Acknowledged => "Acknowledged",
            LineState::Shipped => "Shipped",
            LineState::Cancelled => "Cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    pub ship_date_time: i64,
    pub carrier: Option<String>,
    pub other_carrier: Option<String>,
    pub method_code: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuantity {
    pub state: LineState,
    pub quantity: u32,
    pub cancellation_reason: Option<String>,
    pub tracking: Option<Tracking>,
}

#[derive(Debug, Clone)]
pub struct LineRefund {
    pub reason: String,
    pub amount: Money,
    pub tax: Money,
    pub comments: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OrderLine {
    pub number: u32,
    pub sku: String,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub tax: Money,
    pub shipping: Money,
    pub status_date: Timestamp,
    pub statuses: Vec<StatusQuantity>,
    pub refunds: Vec<LineRefund>,
    /// The customer asked to cancel the line (`intentToCancel`).
    pub intent_to_cancel: bool,
}

impl OrderLine {
    pub fn quantity_in(&self, state: LineState) -> u32 {
        self.statuses
            .iter()
            .filter(|s| s.state == state)
            .map(|s| s.quantity)
            .sum()
    }

    /// Moves `quantity` units out of the first of `from` states that has them, into `to`.
    fn move_units(&mut self, from: &[LineState], quantity: u32, to: StatusQuantity, now: Timestamp) {
        let mut left = quantity;
        for state in from {
            for entry in self.statuses.iter_mut().filter(|s| s.state == *state) {
                let take = entry.quantity.min(left);
                entry.quantity -= take;
                left -= take;
            }
        }
        self.statuses.retain(|s| s.quantity > 0);
        // Same state and same details: one entry with the summed quantity, as Walmart shows it.
        match self.statuses.iter_mut().find(|s| {
            s.state == to.state
                && s.cancellation_reason == to.cancellation_reason
                && s.tracking == to.tracking
        }) {
            Some(existing) => existing.quantity += to.quantity,
            None => self.statuses.push(to),
        }
        self.status_date = now;
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub purchase_order_id: String,
    pub customer_order_id: String,
    pub customer_email: String,
    pub order_date: Timestamp,
    pub modified_at: Timestamp,
    pub method_code: String,
    pub ship_to: ShipToSpec,
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn has_state(&self, state: LineState) -> bool {
        self.lines.iter().any(|l| l.quantity_in(state) > 0)
    }

    fn line_mut(&mut self, number: u32) -> Result<&mut OrderLine, WalmartFault> {
        let po = self.purchase_order_id.clone();
        self.lines.iter_mut().find(|l| l.number == number).ok_or_else(|| {
            WalmartFault::bad_request(
                "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                "lineNumber",
                format!("Purchase order {po} has no line {number}"),
            )
        })
    }
}

pub use ports::walmart::{KNOWN_CARRIERS, METHOD_CODES};

/// The cancellation reason reserved for lines the customer asked to cancel.
pub const CUSTOMER_REQUESTED: &str = "CUSTOMER_REQUESTED_SELLER_TO_CANCEL";

pub const SELLER_CANCEL_REASONS: &[&str] = &[
    "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
    "SELLER_CANCEL_PRICING_ERROR",
    "SELLER_CANCEL_OUT_OF_STOCK",
    "SELLER_CANCEL_FRAUD_STOP_SHIPMENT",
    "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE",
];

pub const REFUND_REASONS: &[&str] = &[
    "BillingError",
    "TaxExemptCustomer",
    "ItemNotAsAdvertised",
    "IncorrectItemReceived",
    "CancelledYetShipped",
    "ItemNotReceivedByCustomer",
    "IncorrectShippingPrice",
    "DamagedItem",
    "DefectiveItem",
    "CustomerChangedMind",
    "CustomerReceivedItemLate",
    "Missing Parts / Instructions",
    "Finance -> Goodwill",
    "Finance -> Rollback",
    "Buyer canceled",
    "Customer returned item",
    "General adjustment",
    "Merchandise not received",
    "Quality -> Missing Parts / Instructions",
    "Shipping & Delivery -> Damaged",
    "Shipping & Delivery -> Shipping Price Discrepancy",
    "Others",
];

/// One requested line move of a seller's ship call.
#[derive(Debug, Clone)]
pub struct ShipRequestLine {
    pub line: u32,
    pub quantity: u32,
    pub seller_order_id: String,
    pub tracking: Tracking,
    /// `intentToCancelOverride: true` on the line.
    pub intent_to_cancel_override: bool,
}

#[derive(Debug, Clone)]
pub struct CancelRequestLine {
    pub line: u32,
    pub quantity: u32,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct RefundRequestLine {
    pub line: u32,
    pub reason: String,
    pub amount: Money,
    pub tax: Money,
    pub comments: Option<String>,
}

/// The order, borrowing only the order map so the received log stays writable.
fn order_in<'a>(orders: &'a mut HashMap<String, Order>, id: &str) -> Result<&'a mut Order, WalmartFault> {
    orders.get_mut(id).ok_or_else(|| {
        WalmartFault::not_found(
            "CONTENT_NOT_FOUND.GMP_ORDER_API",
            format!("Purchase order {id} was not found"),
        )
    })
}

fn order_fault(description: impl Into<String>) -> WalmartFault {
    WalmartFault::bad_request("INVALID_REQUEST_CONTENT.GMP_ORDER_API", "orderLines", description)
}

fn order_conflict(description: impl Into<String>) -> WalmartFault {
    WalmartFault::new(
        StatusCode::BAD_REQUEST,
        "INVALID_STATUS_TRANSITION.GMP_ORDER_API",
        description,
    )
}

impl World {
    pub fn create_order(&mut self, spec: NewOrder, now: Timestamp) -> Result<CreatedOrder, String> {
        if spec.lines.is_empty() {
            return Err("an order needs at least one line".to_owned());
        }
        if !METHOD_CODES.contains(&spec.method_code.as_str()) {
            return Err(format!(
                "method code {:?} is not one of {METHOD_CODES:?}",
                spec.method_code
            ));
        }
        let seq = self.seq();
        let purchase_order_id = spec
            .purchase_order_id
            .unwrap_or_else(|| (1_796_000_000_000u64 + seq).to_string());
        if purchase_order_id.is_empty() || !purchase_order_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("purchase order id {purchase_order_id:?} must be digits"));
        }
        if self.orders.contains_key(&purchase_order_id) {
            return Err(format!("purchase order {purchase_order_id} exists"));
        }
        let order_date = spec.order_date.unwrap_or(now);
        let mut lines = Vec::with_capacity(spec.lines.len());
        for (i, line) in spec.lines.into_iter().enumerate() {
            if line.quantity == 0 {
                return Err(format!("line {} has no quantity", i + 1));
            }
            if line.sku.is_empty() {
                return Err(format!("line {} has no sku", i + 1));
            }
            let product_name = line
                .product_name
                .or_else(|| self.items.get(&line.sku).map(|item| item.product_name.clone()))
                .unwrap_or_else(|| format!("Item {}", line.sku));
            lines.push(OrderLine {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                sku: line.sku,
                product_name,
                quantity: line.quantity,
                unit_price: line.unit_price,
                tax: line.tax,
                shipping: line.shipping,
                status_date: order_date,
                statuses: vec![StatusQuantity {
                    state: LineState::Created,
                    quantity: line.quantity,
                    cancellation_reason: None,
                    tracking: None,
                }],
                refunds: Vec::new(),
                intent_to_cancel: false,
            });
        }
        let customer_order_id = (5_400_000_000_000u64 + seq).to_string();
        let order = Order {
            customer_email: format!("{:032X}@relay.walmart.com", u128::from(seq)),
            purchase_order_id: purchase_order_id.clone(),
            customer_order_id: customer_order_id.clone(),
            order_date,
            modified_at: now,
            method_code: spec.method_code,
            ship_to: spec.ship_to,
            lines,
        };
        self.orders_by_date
            .insert((order_date, seq), purchase_order_id.clone());
        self.orders.insert(purchase_order_id.clone(), order);
        if let Some(order) = self.orders.get(&purchase_order_id) {
            let created = crate::webhooks::events::OrderSubEvent::PoCreated;
            self.webhooks
                .order_changed(&self.settings.webhooks, created, order, &[], now);
        }
        Ok(CreatedOrder {
            purchase_order_id,
            customer_order_id,
        })
    }

    pub fn order(&self, id: &str) -> Result<&Order, WalmartFault> {
        self.orders.get(id).ok_or_else(|| {
            WalmartFault::not_found(
                "CONTENT_NOT_FOUND.GMP_ORDER_API",
                format!("Purchase order {id} was not found"),
            )
        })
    }

    /// Acknowledges every Created unit. Acknowledging again is accepted and changes nothing.
    pub fn acknowledge(&mut self, id: &str, now: Timestamp) -> Result<(), WalmartFault> {
        let order = order_in(&mut self.orders, id)?;
        if order
            .lines
            .iter()
            .all(|l| l.quantity_in(LineState::Cancelled) == l.quantity)
        {
            return Err(order_conflict(format!("Purchase order {id} is cancelled")));
        }
        let mut changed = false;
        for line in &mut order.lines {
            let created = line.quantity_in(LineState::Created);
            if created > 0 {
                line.move_units(
                    &[LineState::Created],
                    created,
                    StatusQuantity {
                        state: LineState::Acknowledged,
                        quantity: created,
                        cancellation_reason: None,
                        tracking: None,
                    },
                    now,
                );
                changed = true;
            }
        }
        if changed {
            order.modified_at = now;
        }
        self.received.acknowledgements.push(AckRecord {
            purchase_order_id: id.to_owned(),
            at: now,
        });
        Ok(())
    }

    /// Ships units: only acknowledged units can ship; the whole request is checked before
    /// anything changes.
    pub fn ship(
        &mut self,
        id: &str,
        lines: Vec<ShipRequestLine>,
        now: Timestamp,
    ) -> Result<(), WalmartFault> {
        let order = order_in(&mut self.orders, id)?;
        let mut wanted: HashMap<u32, u32> = HashMap::new();
        for request in &lines {
            *wanted.entry(request.line).or_default() += request.quantity;
        }
        for request in &lines {
            let line = order.line_mut(request.line)?;
            if line.intent_to_cancel && !request.intent_to_cancel_override {
                return Err(order_fault(format!(
                    "Line {}: the customer asked to cancel it; pass intentToCancelOverride true to ship it anyway",
                    request.line
                )));
            }
        }
        for (number, quantity) in &wanted {
            let line = order.line_mut(*number)?;
            let acknowledged = line.quantity_in(LineState::Acknowledged);
            if *quantity > acknowledged {
                let created = line.quantity_in(LineState::Created);
                let cancelled = line.quantity_in(LineState::Cancelled);
                let reason = if created > 0 {
                    format!(
                        "Line {number}: {created} unit(s) not acknowledged; acknowledge the order before shipping"
                    )
                } else if cancelled == line.quantity {
                    format!("Line {number} is cancelled and cannot be shipped")
                } else {
                    format!(
                        "Line {number}: {quantity} unit(s) to ship but only {acknowledged} acknowledged unit(s) open"
                    )
                };
                return Err(order_conflict(reason));
            }
        }
        for request in lines {
            let line = order.line_mut(request.line)?;
            line.move_units(
                &[LineState::Acknowledged],
                request.quantity,
                StatusQuantity {
                    state: LineState::Shipped,
                    quantity: request.quantity,
                    cancellation_reason: None,
                    tracking: Some(request.tracking.clone()),
                },
                now,
            );
            self.received.shipments.push(ShipmentRecord {
                purchase_order_id: id.to_owned(),
                line: request.line,
                quantity: request.quantity,
                seller_order_id: request.seller_order_id,
                tracking_number: request.tracking.tracking_number,
                carrier: request.tracking.carrier,
                other_carrier: request.tracking.other_carrier,
                tracking_url: request.tracking.tracking_url,
                method_code: request.tracking.method_code,
                ship_date_time: request.tracking.ship_date_time,
                at: now,
            });
        }
        order.modified_at = now;
        Ok(())
    }

    /// Cancels unshipped units (Created or Acknowledged); shipped units cannot be cancelled.
    pub fn cancel(
        &mut self,
        id: &str,
        lines: Vec<CancelRequestLine>,
        by: CancelledBy,
        now: Timestamp,
    ) -> Result<(), WalmartFault> {
        let order = order_in(&mut self.orders, id)?;
        let mut wanted: HashMap<u32, u32> = HashMap::new();
        for request in &lines {
            *wanted.entry(request.line).or_default() += request.quantity;
        }
        for request in &lines {
            let line = order.line_mut(request.line)?;
            // "Cancellation reason should not be CUSTOMER_REQUESTED_SELLER_TO_CANCEL for non
            // intent to cancel orders" (orders spec, cancellationReason).
            if by == CancelledBy::Seller && request.reason == CUSTOMER_REQUESTED && !line.intent_to_cancel {
                return Err(WalmartFault::bad_request(
                    "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                    "cancellationReason",
                    format!(
                        "Line {}: {CUSTOMER_REQUESTED} is only for lines the customer asked to cancel",
                        request.line
                    ),
                ));
            }
        }
        for (number, quantity) in &wanted {
            let line = order.line_mut(*number)?;
            let open = line.quantity_in(LineState::Created) + line.quantity_in(LineState::Acknowledged);
            if *quantity > open {
                return Err(order_conflict(format!(
                    "Line {number}: {quantity} unit(s) to cancel but only {open} unshipped unit(s)"
                )));
            }
        }
        let announced: Vec<(u32, String)> = lines.iter().map(|r| (r.line, r.reason.clone())).collect();
        for request in lines {
            let line = order.line_mut(request.line)?;
            line.move_units(
                &[LineState::Created, LineState::Acknowledged],
                request.quantity,
                StatusQuantity {
                    state: LineState::Cancelled,
                    quantity: request.quantity,
                    cancellation_reason: Some(request.reason.clone()),
                    tracking: None,
                },
                now,
            );
            self.received.cancellations.push(CancellationRecord {
                purchase_order_id: id.to_owned(),
                line: request.line,
                quantity: request.quantity,
                reason: request.reason,
                by,
                at: now,
            });
        }
        order.modified_at = now;
        if by == CancelledBy::Buyer {
            self.webhooks
                .walmart_cancelled(&self.settings.webhooks, order, &announced, now);
        }
        Ok(())
    }

    /// Refunds shipped lines only.
    pub fn refund(
        &mut self,
        id: &str,
        lines: Vec<RefundRequestLine>,
        now: Timestamp,
    ) -> Result<(), WalmartFault> {
        let order = order_in(&mut self.orders, id)?;
        for request in &lines {
            let line = order.line_mut(request.line)?;
            if line.quantity_in(LineState::Shipped) == 0 {
                return Err(order_conflict(format!(
                    "Line {} has no shipped units; only shipped lines can be refunded",
                    request.line
                )));
            }
            let already: Money = line.refunds.iter().map(|r| r.amount).sum();
            let limit = line.unit_price * line.quantity;
            if already + request.amount > limit {
                return Err(order_fault(format!(
                    "Line {}: refunds of {} would exceed the line's {}",
                    request.line,
                    already + request.amount,
                    limit
                )));
            }
        }
        for request in lines {
            let line = order.line_mut(request.line)?;
            line.refunds.push(LineRefund {
                reason: request.reason.clone(),
                amount: request.amount,
                tax: request.tax,
                comments: request.comments.clone(),
            });
            line.status_date = now;
            self.received.refunds.push(RefundRecord {
                purchase_order_id: id.to_owned(),
                line: request.line,
                reason: request.reason,
                amount: request.amount,
                tax: request.tax,
                comments: request.comments,
                at: now,
            });
        }
        order.modified_at = now;
        Ok(())
    }

    /// The buyer asks to cancel lines (all unshipped lines when `lines` is empty): Walmart marks
    /// them `intentToCancel` and the order as modified; the seller decides.
    pub fn request_cancellation(
        &mut self,
        id: &str,
        lines: &[u32],
        now: Timestamp,
    ) -> Result<(), WalmartFault> {
        let order = order_in(&mut self.orders, id)?;
        for number in lines {
            order.line_mut(*number)?;
        }
        let mut changed = Vec::new();
        for line in order.lines.iter_mut() {
            let open = line.quantity_in(LineState::Created) + line.quantity_in(LineState::Acknowledged);
            if open > 0 && (lines.is_empty() || lines.contains(&line.number)) && !line.intent_to_cancel {
                line.intent_to_cancel = true;
                line.status_date = now;
                changed.push(line.number);
            }
        }
        if changed.is_empty() {
            return Err(order_fault(format!(
                "Purchase order {id} has no unshipped line to cancel"
            )));
        }
        order.modified_at = now;
        let intent = crate::webhooks::events::OrderSubEvent::IntentToCancel;
        self.webhooks
            .order_changed(&self.settings.webhooks, intent, order, &changed, now);
        Ok(())
    }
}
