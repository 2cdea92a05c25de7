//! MSI: source items, stocks, salable quantities and reservations.

use serde_json::json;

use super::*;
use crate::error::ApiError;
use crate::model::*;

impl Commerce {
    /// Sets a source item's quantity (and status: in stock when positive unless given).
    pub fn set_source_item(
        &mut self,
        sku: &str,
        source_code: &str,
        quantity: f64,
        status: Option<i64>,
    ) -> Result<(), ApiError> {
        self.product_by_sku(sku)?;
        if !self.sources.iter().any(|s| s.source_code == source_code) {
            return Err(ApiError::bad_request_list(
                "Source %1 does not exist.",
                &[source_code],
            ));
        }
        let status = status.unwrap_or(if quantity > 0.0 { 1 } else { 0 });
        self.source_items.insert(
            (sku.to_owned(), source_code.to_owned()),
            SourceItem {
                sku: sku.to_owned(),
                source_code: source_code.to_owned(),
                quantity,
                status,
            },
        );
        Ok(())
    }

    pub fn stock(&self, stock_id: u64) -> Option<&StockDef> {
        self.stocks.iter().find(|s| s.stock_id == stock_id)
    }

    pub fn stock_for_website(&self, website: &str) -> Option<&StockDef> {
        self.stocks
            .iter()
            .find(|s| s.websites.iter().any(|w| w == website))
    }

    /// Σ in-stock source quantities of the stock's enabled sources.
    pub fn source_quantity(&self, sku: &str, stock_id: u64) -> f64 {
        let Some(stock) = self.stock(stock_id) else {
            return 0.0;
        };
        stock
            .sources
            .iter()
            .filter(|code| self.sources.iter().any(|s| &s.source_code == *code && s.enabled))
            .filter_map(|code| self.source_items.get(&(sku.to_owned(), code.clone())))
            .filter(|item| item.status == 1)
            .map(|item| item.quantity)
            .sum()
    }

    /// Salable quantity = source quantity + reservations (which are negative while orders are open).
    pub fn salable_quantity(&self, sku: &str, stock_id: u64) -> f64 {
        self.source_quantity(sku, stock_id)
            + self
                .reserved
                .get(&(stock_id, sku.to_owned()))
                .copied()
                .unwrap_or(0.0)
    }

    pub fn is_salable(&self, sku: &str, stock_id: u64) -> bool {
        match self.product_by_sku(sku) {
            Ok(p) if p.status != 1 => false,
            Ok(p) if p.type_id == TYPE_CONFIGURABLE => p
                .children
                .iter()
                .filter_map(|id| self.products.get(id))
                .any(|c| c.status == 1 && self.salable_quantity(&c.sku, stock_id) > 0.0),
            Ok(p) => self.salable_quantity(&p.sku, stock_id) > 0.0,
            Err(_) => false,
        }
    }

    pub(super) fn reserve(
        &mut self,
        stock_id: u64,
        sku: &str,
        quantity: f64,
        event: &str,
        order_id: u64,
        increment_id: &str,
    ) {
        let reservation_id = self.id();
        let metadata = json!({
            "event_type": event, "object_type": "order", "object_id": order_id.to_string(),
            "object_increment_id": increment_id
        })
        .to_string();
        self.reservations.push(Reservation {
            reservation_id,
            stock_id,
            sku: sku.to_owned(),
            quantity,
            metadata,
        });
        *self.reserved.entry((stock_id, sku.to_owned())).or_insert(0.0) += quantity;
    }

    /// Deducts shipped units from the stock's sources in priority order (Magento's default source
    /// selection). Fails without changing anything when the sources cannot cover it.
    pub(super) fn deduct_sources(&mut self, stock_id: u64, sku: &str, qty: f64) -> Result<(), ApiError> {
        let sources = self
            .stock(stock_id)
            .map(|s| s.sources.clone())
            .unwrap_or_default();
        let available: f64 = sources
            .iter()
            .filter_map(|code| self.source_items.get(&(sku.to_owned(), code.clone())))
            .map(|i| i.quantity.max(0.0))
            .sum();
        if available + 1e-9 < qty {
            return Err(ApiError::bad_request(
                "Not all of your products are available in the requested quantity.",
            ));
        }
        let mut remaining = qty;
        for code in sources {
            if remaining <= 0.0 {
                break;
            }
            if let Some(item) = self.source_items.get_mut(&(sku.to_owned(), code)) {
                let take = item.quantity.max(0.0).min(remaining);
                item.quantity -= take;
                remaining -= take;
                if item.quantity <= 0.0 {
                    item.status = 0;
                }
            }
        }
        Ok(())
    }
}
