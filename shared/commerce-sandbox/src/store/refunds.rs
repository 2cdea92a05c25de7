//! Offline refunds: credit memos for invoiced items and shipping, optionally back to stock.

use super::*;
use crate::error::ApiError;
use crate::model::*;

/// An offline refund's inputs (`POST /V1/order/{id}/refund`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefundInput {
    /// (order item id, qty); empty = every refundable quantity (and the remaining shipping).
    pub items: Vec<(u64, f64)>,
    pub shipping_amount: Option<f64>,
    pub adjustment_positive: f64,
    pub adjustment_negative: f64,
    /// Order item ids whose refunded units go back to the stock's first source.
    pub return_to_stock: Vec<u64>,
    pub comment: Option<String>,
}

impl Commerce {
    /// An offline refund: a credit memo for invoiced quantities.
    pub fn refund(&mut self, order_id: u64, refund: RefundInput) -> Result<u64, ApiError> {
        let RefundInput {
            items,
            shipping_amount,
            adjustment_positive,
            adjustment_negative,
            return_to_stock,
            comment,
        } = refund;
        let (items, return_to_stock) = (items.as_slice(), return_to_stock.as_slice());
        let order = self.order(order_id)?.clone();
        let wanted = refund_quantities(&order, items)?;
        let shipping = refund_shipping(&order, shipping_amount, items.is_empty())?;
        let now = self.now();
        let memo_id = self.id();
        let increment_id = self.increment("creditmemo");
        let invoice_id = self
            .invoices
            .values()
            .filter(|i| i.order_id == order_id)
            .map(|i| i.id)
            .next_back();
        let mut lines = Vec::new();
        let mut subtotal = 0.0;
        for (item_id, qty) in &wanted {
            let Some(item) = order.item(*item_id) else {
                continue;
            };
            subtotal += item.price * qty;
            let entity_id = self.id();
            lines.push(DocumentLine {
                entity_id,
                order_item_id: *item_id,
                sku: item.sku.clone(),
                name: item.name.clone(),
                product_id: item.product_id,
                price: item.price,
                qty: *qty,
            });
            if return_to_stock.contains(item_id) {
                self.return_to_stock(order.stock_id, &item.sku, *qty)?;
            }
        }
        let memo = CreditMemo {
            id: memo_id,
            increment_id,
            order_id,
            invoice_id,
            items: lines,
            subtotal: round2(subtotal),
            shipping_amount: round2(shipping),
            adjustment_positive,
            adjustment_negative,
            comments: comment.into_iter().collect(),
            created_at: now,
            updated_at: now,
        };
        let total = memo.grand_total();
        self.credit_memos.insert(memo_id, memo);
        let order = self.order_mut(order_id)?;
        for (item_id, qty) in &wanted {
            if let Some(line) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
                line.qty_refunded += qty;
            }
        }
        order.shipping_refunded += shipping;
        order.total_refunded = round2(order.total_refunded + total);
        order.refresh_state();
        order.updated_at = now;
        Ok(memo_id)
    }

    /// Refunded units go back to the first source of the order's stock.
    fn return_to_stock(&mut self, stock_id: u64, sku: &str, qty: f64) -> Result<(), ApiError> {
        let source = self
            .stock(stock_id)
            .and_then(|s| s.sources.first().cloned())
            .unwrap_or_else(|| "default".into());
        let current = self
            .source_items
            .get(&(sku.to_owned(), source.clone()))
            .map_or(0.0, |i| i.quantity);
        self.set_source_item(sku, &source, current + qty, None)
    }
}

/// The (order item id, quantity) pairs a credit memo refunds: the given items, or every refundable
/// quantity; each within what is invoiced and not yet refunded.
fn refund_quantities(order: &Order, items: &[(u64, f64)]) -> Result<Vec<(u64, f64)>, ApiError> {
    if order.items.iter().all(|i| i.qty_to_refund() <= 0.0) {
        return Err(ApiError::bad_request(
            "The creditmemo can't be created for this order. The order has nothing invoiced to refund.",
        ));
    }
    let wanted: Vec<(u64, f64)> = if items.is_empty() {
        order
            .items
            .iter()
            .filter(|i| i.qty_to_refund() > 0.0)
            .map(|i| (i.item_id, i.qty_to_refund()))
            .collect()
    } else {
        items.to_vec()
    };
    for (item_id, qty) in &wanted {
        let line = order.item(*item_id).ok_or_else(|| {
            ApiError::bad_request_list("The \"%1\" order item doesn't exist.", &[&item_id.to_string()])
        })?;
        if *qty > line.qty_to_refund() + 1e-9 {
            let available = line.qty_to_refund() * line.price;
            return Err(ApiError::bad_request_list(
                "The most money available to refund is %1.",
                &[&format!("{available:.2}")],
            ));
        }
    }
    Ok(wanted)
}

/// The shipping amount a credit memo refunds: the given amount, or all that is left when every
/// item is refunded; never more than the invoiced shipping not yet refunded.
fn refund_shipping(order: &Order, shipping_amount: Option<f64>, all_items: bool) -> Result<f64, ApiError> {
    let shipping_left = if order.shipping_invoiced {
        order.shipping_amount - order.shipping_refunded
    } else {
        0.0
    };
    let shipping = shipping_amount.unwrap_or(if all_items { shipping_left } else { 0.0 });
    if shipping > shipping_left + 1e-9 {
        return Err(ApiError::bad_request_list(
            "Maximum shipping amount allowed to refund is: %1",
            &[&format!("{shipping_left:.2}")],
        ));
    }
    Ok(shipping)
}
