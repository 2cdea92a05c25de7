//! RMAs: returns opened for shipped items, and their status.

use domain::Timestamp;
use serde_json::Value;

use super::*;
use crate::error::ApiError;
use crate::model::*;

impl Commerce {
    pub fn create_rma(&mut self, body: &Value) -> Result<u64, ApiError> {
        let order_id = body
            .get("order_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError::required_field("order_id"))?;
        let order = self
            .order(order_id)
            .map_err(|_| ApiError::no_such_entity("orderId", order_id))?
            .clone();
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ApiError::required_field("items"))?;
        let mut rma_items = Vec::new();
        for item in items {
            let rma_item = self.rma_item(&order, item)?;
            rma_items.push(rma_item);
        }
        let now = self.now();
        let rma_id = self.id();
        let comments = self.rma_comments(body, now);
        let increment_id = self.increment("rma");
        self.rmas.insert(
            rma_id,
            Rma {
                id: rma_id,
                increment_id,
                order_id,
                order_increment_id: order.increment_id.clone(),
                customer_id: order.customer_id.unwrap_or(0),
                customer_custom_email: body
                    .get("customer_custom_email")
                    .and_then(Value::as_str)
                    .unwrap_or(&order.customer_email)
                    .to_owned(),
                date_requested: now,
                status: "pending".into(),
                items: rma_items,
                comments,
            },
        );
        Ok(rma_id)
    }

    /// One requested item of a new return: an item of the order, not more than shipped and not
    /// already on an open return.
    fn rma_item(&mut self, order: &Order, item: &Value) -> Result<RmaItem, ApiError> {
        let order_item_id = item
            .get("order_item_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError::required_field("order_item_id"))?;
        let qty = item.get("qty_requested").and_then(Value::as_u64).unwrap_or(0);
        let line = order.item(order_item_id).ok_or_else(|| {
            ApiError::bad_request_list(
                "The \"%1\" order item doesn't exist.",
                &[&order_item_id.to_string()],
            )
        })?;
        let already: u64 = self
            .rmas
            .values()
            .filter(|r| r.order_id == order.id && r.status != "closed" && r.status != "rejected")
            .flat_map(|r| r.items.iter())
            .filter(|i| i.order_item_id == order_item_id)
            .map(|i| i.qty_requested)
            .sum();
        if qty == 0 || (already + qty) as f64 > line.qty_shipped + 1e-9 {
            return Err(ApiError::bad_request_list(
                "A quantity of %1 is greater than you can return.",
                &[&line.sku],
            ));
        }
        let text = |k: &str| {
            item.get(k)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default()
        };
        let entity_id = self.id();
        Ok(RmaItem {
            entity_id,
            order_item_id,
            qty_requested: qty,
            qty_authorized: 0,
            qty_approved: 0,
            qty_returned: 0,
            reason: text("reason"),
            condition: text("condition"),
            resolution: text("resolution"),
            status: "pending".into(),
        })
    }

    /// The admin comments a new return is created with (empty comments are dropped).
    fn rma_comments(&mut self, body: &Value, now: Timestamp) -> Vec<RmaComment> {
        let mut comments = Vec::new();
        for c in body
            .get("comments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = c.get("comment").and_then(Value::as_str).unwrap_or_default();
            if !text.is_empty() {
                let entity_id = self.id();
                comments.push(RmaComment {
                    entity_id,
                    comment: text.to_owned(),
                    created_at: now,
                    status: "pending".into(),
                    admin: true,
                });
            }
        }
        comments
    }

    /// The merchant moves a return (control API): `authorized`, `received`, `approved`, `rejected`
    /// or `closed`; item quantities follow.
    pub fn set_rma_status(&mut self, rma_id: u64, status: &str) -> Result<(), ApiError> {
        if !matches!(
            status,
            "authorized" | "received" | "approved" | "rejected" | "closed" | "processed_closed"
        ) {
            return Err(ApiError::bad_request_list("Unknown return status %1.", &[status]));
        }
        let now = self.now();
        let comment_id = self.id();
        let rma = self
            .rmas
            .get_mut(&rma_id)
            .ok_or_else(ApiError::entity_not_found)?;
        rma.status = status.to_owned();
        for item in rma.items.iter_mut() {
            match status {
                "authorized" => item.qty_authorized = item.qty_requested,
                "received" => {
                    item.qty_authorized = item.qty_requested;
                    item.qty_returned = item.qty_requested;
                }
                "approved" | "processed_closed" => {
                    item.qty_authorized = item.qty_requested;
                    item.qty_returned = item.qty_requested;
                    item.qty_approved = item.qty_requested;
                }
                _ => {}
            }
            item.status = status.to_owned();
        }
        rma.comments.push(RmaComment {
            entity_id: comment_id,
            comment: format!("Return {status}."),
            created_at: now,
            status: status.to_owned(),
            admin: true,
        });
        Ok(())
    }
}
