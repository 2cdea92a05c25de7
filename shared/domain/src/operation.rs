//! The channel's operations, one Lambda each, and the delays Adobe documents for them.
//!
//! This table is the single home of those numbers: the SAM template's schedules are checked against
//! it, and the local runner reports observed latency beside it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    CatalogImport,
    ListingMatch,
    InventorySync,
    PriceSync,
    OrderImport,
    OrderCreate,
    ShipmentSync,
    CancellationSync,
    ReturnsSync,
}

const MINUTE: u64 = 60;

impl Operation {
    pub const ALL: [Operation; 9] = [
        Operation::CatalogImport,
        Operation::ListingMatch,
        Operation::InventorySync,
        Operation::PriceSync,
        Operation::OrderImport,
        Operation::OrderCreate,
        Operation::ShipmentSync,
        Operation::CancellationSync,
        Operation::ReturnsSync,
    ];

    /// The function crate and binary that runs the operation.
    pub fn function_name(self) -> &'static str {
        match self {
            Operation::CatalogImport => "catalog-import",
            Operation::ListingMatch => "listing-match",
            Operation::InventorySync => "inventory-sync",
            Operation::PriceSync => "price-sync",
            Operation::OrderImport => "order-import",
            Operation::OrderCreate => "order-create",
            Operation::ShipmentSync => "shipment-sync",
            Operation::CancellationSync => "cancellation-sync",
            Operation::ReturnsSync => "returns-sync",
        }
    }

    pub fn from_function_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.function_name() == name)
    }

    /// What the operation does, in the product page's words.
    pub fn seed_operation(self) -> &'static str {
        match self {
            Operation::CatalogImport => "Add products to Channel Manager",
            Operation::ListingMatch => "Match products on Walmart Marketplace",
            Operation::InventorySync => "Inventory updates",
            Operation::PriceSync => "Price updates",
            Operation::OrderImport => "Walmart order to Channel Manager",
            Operation::OrderCreate => "Order created in Commerce",
            Operation::ShipmentSync => "Shipment status update",
            Operation::CancellationSync => "Order cancellation update",
            Operation::ReturnsSync => "Returns and refunds",
        }
    }

    /// The worst-case delay Adobe documents. Returns and refunds have none; we hold them to
    /// [`Operation::target_delay`].
    pub fn documented_delay(self) -> Option<Duration> {
        let minutes = match self {
            Operation::CatalogImport => 5,
            Operation::ListingMatch => 30,
            Operation::InventorySync => 10,
            Operation::PriceSync => 5,
            Operation::OrderImport => 30,
            Operation::OrderCreate => 5,
            Operation::ShipmentSync => 5,
            Operation::CancellationSync => 5,
            Operation::ReturnsSync => return None,
        };
        Some(Duration::from_secs(minutes * MINUTE))
    }

    /// The bound the deployment is held to: the documented delay, or our own for returns.
    pub fn target_delay(self) -> Duration {
        self.documented_delay()
            .unwrap_or(Duration::from_secs(15 * MINUTE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_uses_them() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_function_name(op.function_name()), Some(op));
            assert_eq!(serde_json::to_value(op).unwrap(), op.function_name());
        }
        assert_eq!(Operation::from_function_name("nope"), None);
    }
}
