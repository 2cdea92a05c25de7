//! Orders after placement: comments, invoices, cancellation, shipments and their tracks.

use serde::{Deserialize, Serialize};

use super::*;
use crate::error::ApiError;
use crate::model::*;

/// One line of a merchant's shipment (control API): by SKU or order item id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipLine {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub order_item_id: Option<u64>,
    pub qty: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackInput {
    pub carrier_code: String,
    pub title: String,
    pub number: String,
}

impl Commerce {
    pub fn order(&self, id: u64) -> Result<&Order, ApiError> {
        self.orders.get(&id).ok_or_else(ApiError::entity_not_found)
    }

    pub(super) fn order_mut(&mut self, id: u64) -> Result<&mut Order, ApiError> {
        self.orders.get_mut(&id).ok_or_else(ApiError::entity_not_found)
    }

    pub fn add_comment(
        &mut self,
        order_id: u64,
        comment: &str,
        status: Option<String>,
        notified: i64,
        visible: i64,
    ) -> Result<(), ApiError> {
        let history_id = self.id();
        let now = self.now();
        let keeps_status = self.settings.comment_keeps_status;
        let order = self.order_mut(order_id)?;
        // Magento before the AC-1342 fix copies the history's status onto the order, so a comment
        // without `status` leaves the order with a NULL status (issue 34180).
        let status = match status {
            Some(status) => Some(status),
            None if keeps_status => order.status.clone(),
            None => None,
        };
        order.status = status.clone();
        order.histories.push(HistoryEntry {
            id: history_id,
            comment: comment.to_owned(),
            created_at: now,
            status,
            is_customer_notified: notified,
            is_visible_on_front: visible,
        });
        order.updated_at = now;
        Ok(())
    }

    /// Invoices quantities (all uninvoiced ones when `items` is empty); returns the invoice id.
    pub fn invoice(&mut self, order_id: u64, items: &[(u64, f64)]) -> Result<u64, ApiError> {
        let order = self.order(order_id)?.clone();
        if matches!(order.state.as_str(), "canceled" | "closed" | "holded")
            || order.items.iter().all(|i| i.qty_to_invoice() <= 0.0)
        {
            return Err(ApiError::bad_request(
                "The order does not allow an invoice to be created.",
            ));
        }
        let wanted: Vec<(u64, f64)> = if items.is_empty() {
            order
                .items
                .iter()
                .filter(|i| i.qty_to_invoice() > 0.0)
                .map(|i| (i.item_id, i.qty_to_invoice()))
                .collect()
        } else {
            items.to_vec()
        };
        for (item_id, qty) in &wanted {
            let line = order.item(*item_id).ok_or_else(|| {
                ApiError::bad_request_list("The \"%1\" order item doesn't exist.", &[&item_id.to_string()])
            })?;
            if *qty > line.qty_to_invoice() + 1e-9 {
                return Err(ApiError::bad_request_list(
                    "The quantity to invoice must not be greater than the uninvoiced quantity for product SKU \"%1\".",
                    &[&line.sku],
                ));
            }
        }
        let invoice_id = self.id();
        let now = self.now();
        let order = self.order_mut(order_id)?;
        let mut total = 0.0;
        for (item_id, qty) in &wanted {
            if let Some(line) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
                line.qty_invoiced += qty;
                total += line.price * qty;
            }
        }
        if !order.shipping_invoiced {
            order.shipping_invoiced = true;
            total += order.shipping_amount;
        }
        order.refresh_state();
        order.updated_at = now;
        self.invoices.insert(
            invoice_id,
            Invoice {
                id: invoice_id,
                order_id,
                items: wanted,
                grand_total: round2(total),
                created_at: now,
            },
        );
        Ok(invoice_id)
    }

    /// Cancels what is neither invoiced nor shipped; `false` when Magento could not cancel.
    pub fn cancel(&mut self, order_id: u64) -> Result<bool, ApiError> {
        let order = self.order(order_id)?.clone();
        if !order.can_cancel() {
            return Ok(false);
        }
        for item in &order.items {
            let qty = item.qty_to_cancel();
            if qty > 0.0 {
                self.reserve(
                    order.stock_id,
                    &item.sku,
                    qty,
                    "order_canceled",
                    order_id,
                    &order.increment_id,
                );
            }
        }
        let now = self.now();
        let order = self.order_mut(order_id)?;
        for item in order.items.iter_mut() {
            item.qty_canceled += item.qty_to_cancel();
        }
        order.refresh_state();
        order.updated_at = now;
        Ok(true)
    }

    /// The merchant ships (control API): whole order when `lines` is empty. Deducts source quantity
    /// and compensates the reservations, as MSI does.
    pub fn ship(
        &mut self,
        order_id: u64,
        lines: &[ShipLine],
        tracks: &[TrackInput],
    ) -> Result<u64, ApiError> {
        let order = self.order(order_id)?.clone();
        if matches!(
            order.state.as_str(),
            "canceled" | "closed" | "complete" | "holded"
        ) {
            return Err(ApiError::bad_request(
                "The order does not allow a shipment to be created.",
            ));
        }
        let wanted = shipment_quantities(&order, lines)?;
        self.check_deductible(&order, &wanted)?;
        let now = self.now();
        let shipment_id = self.id();
        let increment_id = self.increment("shipment");
        let mut doc_lines = Vec::new();
        for (item_id, qty) in &wanted {
            let Some(item) = order.item(*item_id) else {
                continue;
            };
            self.deduct_sources(order.stock_id, &item.sku, *qty)?;
            self.reserve(
                order.stock_id,
                &item.sku,
                *qty,
                "shipment_created",
                order_id,
                &order.increment_id,
            );
            let line_id = self.id();
            doc_lines.push(DocumentLine {
                entity_id: line_id,
                order_item_id: *item_id,
                sku: item.sku.clone(),
                name: item.name.clone(),
                product_id: item.product_id,
                price: item.price,
                qty: *qty,
            });
        }
        let mut track_records = Vec::new();
        for t in tracks {
            let id = self.id();
            track_records.push(Track {
                id,
                track_number: t.number.clone(),
                carrier_code: t.carrier_code.clone(),
                title: t.title.clone(),
                created_at: now,
            });
        }
        let order = self.order_mut(order_id)?;
        for (item_id, qty) in &wanted {
            if let Some(line) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
                line.qty_shipped += qty;
            }
        }
        order.refresh_state();
        order.updated_at = now;
        self.shipments.insert(
            shipment_id,
            Shipment {
                id: shipment_id,
                increment_id,
                order_id,
                items: doc_lines,
                tracks: track_records,
                created_at: now,
                updated_at: now,
            },
        );
        Ok(shipment_id)
    }

    /// Every SKU of the shipment can be deducted from the order's stock's sources; checked before
    /// anything changes.
    fn check_deductible(&self, order: &Order, wanted: &[(u64, f64)]) -> Result<(), ApiError> {
        for (item_id, qty) in wanted {
            let sku = &order.item(*item_id).map(|i| i.sku.clone()).unwrap_or_default();
            let sources = self
                .stock(order.stock_id)
                .map(|s| s.sources.clone())
                .unwrap_or_default();
            let available: f64 = sources
                .iter()
                .filter_map(|c| self.source_items.get(&(sku.clone(), c.clone())))
                .map(|i| i.quantity.max(0.0))
                .sum();
            if available + 1e-9 < *qty {
                return Err(ApiError::bad_request(
                    "Not all of your products are available in the requested quantity.",
                ));
            }
        }
        Ok(())
    }

    /// Adds a track to an existing shipment as `Sales/Model/Order/Shipment/TrackRepository::save`
    /// does (the `POST /V1/shipment/track` route, an ERP or 3PL posting tracking after shipping):
    /// only the track row is written, so the shipment's `updated_at` stays where it was and a
    /// search by `updated_at` does not find the shipment again.
    pub fn add_track(&mut self, shipment_id: u64, track: &TrackInput) -> Result<u64, ApiError> {
        if !self.shipments.contains_key(&shipment_id) {
            return Err(ApiError::entity_not_found());
        }
        let id = self.id();
        let created_at = self.now();
        let shipment = self
            .shipments
            .get_mut(&shipment_id)
            .ok_or_else(ApiError::entity_not_found)?;
        shipment.tracks.push(Track {
            id,
            track_number: track.number.clone(),
            carrier_code: track.carrier_code.clone(),
            title: track.title.clone(),
            created_at,
        });
        Ok(id)
    }
}

/// The (order item id, quantity) pairs a shipment takes: the given lines (by item id or SKU), or
/// every unshipped quantity; each within what is left to ship.
fn shipment_quantities(order: &Order, lines: &[ShipLine]) -> Result<Vec<(u64, f64)>, ApiError> {
    let wanted: Vec<(u64, f64)> = if lines.is_empty() {
        order
            .items
            .iter()
            .filter(|i| i.qty_to_ship() > 0.0)
            .map(|i| (i.item_id, i.qty_to_ship()))
            .collect()
    } else {
        lines
            .iter()
            .map(|l| {
                let item = order
                    .items
                    .iter()
                    .find(|i| Some(i.item_id) == l.order_item_id || l.sku.as_deref() == Some(i.sku.as_str()))
                    .ok_or_else(|| ApiError::bad_request("Shipment document validation error(s): The order does not contain some of the items."))?;
                Ok((item.item_id, l.qty))
            })
            .collect::<Result<_, ApiError>>()?
    };
    if wanted.is_empty() {
        return Err(ApiError::bad_request(
            "Shipment document validation error(s): You can't create a shipment without products.",
        ));
    }
    for (item_id, qty) in &wanted {
        let item = order.item(*item_id).ok_or_else(ApiError::entity_not_found)?;
        if *qty <= 0.0 || *qty > item.qty_to_ship() + 1e-9 {
            return Err(ApiError::bad_request_list(
                "The quantity to ship must not be greater than the unshipped quantity for product SKU \"%1\".",
                &[&item.sku],
            ));
        }
    }
    Ok(wanted)
}
