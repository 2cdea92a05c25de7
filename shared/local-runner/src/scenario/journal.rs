//! The journal: everything the merchant and buyers did, in scenario time. It is the ground truth
//! the latencies and invariants are measured against.

use domain::{Money, Timestamp};
use serde::{Deserialize, Serialize};

use super::{ProductKind, Story};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAdded {
    pub sku: String,
    pub kind: ProductKind,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockChanged {
    pub sku: String,
    pub quantity: u32,
    /// Commerce's salable quantity right after the change.
    pub salable_after: f64,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceChanged {
    pub sku: String,
    pub price: Money,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedLine {
    pub line: u32,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub purchase_order_id: String,
    pub customer_order_id: String,
    pub story: Story,
    pub lines: Vec<PlacedLine>,
    pub at: Timestamp,
}

impl OrderPlaced {
    pub fn sku_of_line(&self, line: u32) -> Option<&str> {
        self.lines.iter().find(|l| l.line == line).map(|l| l.sku.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentMade {
    pub purchase_order_id: String,
    pub commerce_order_id: u64,
    pub shipment_id: u64,
    pub track_number: String,
    pub carrier_code: String,
    /// (sku, quantity)
    pub items: Vec<(String, u32)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantCancelled {
    pub purchase_order_id: String,
    pub commerce_order_id: u64,
    /// Whether Commerce accepted the cancellation.
    pub canceled: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyerCancelled {
    pub purchase_order_id: String,
    /// (line, quantity)
    pub lines: Vec<(u32, u32)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnOpened {
    pub purchase_order_id: String,
    pub return_order_id: String,
    /// (line, quantity)
    pub lines: Vec<(u32, u32)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundMade {
    pub purchase_order_id: String,
    pub commerce_order_id: u64,
    pub credit_memo_id: u64,
    pub return_order_id: String,
    /// (sku, quantity)
    pub items: Vec<(String, u32)>,
    pub at: Timestamp,
}

/// Everything the merchant and buyers did, in scenario time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub started_at: Option<Timestamp>,
    pub products: Vec<ProductAdded>,
    pub stock_changes: Vec<StockChanged>,
    pub price_changes: Vec<PriceChanged>,
    pub orders: Vec<OrderPlaced>,
    /// Orders a buyer gave up on: nothing was buyable on Walmart.
    pub orders_not_placed: u64,
    pub shipments: Vec<ShipmentMade>,
    pub merchant_cancellations: Vec<MerchantCancelled>,
    pub buyer_cancellations: Vec<BuyerCancelled>,
    pub returns: Vec<ReturnOpened>,
    pub refunds: Vec<RefundMade>,
    /// Actions a sandbox refused (they do not fail the run; the summary lists them).
    pub refused_actions: Vec<String>,
}

impl Journal {
    pub fn order(&self, purchase_order_id: &str) -> Option<&OrderPlaced> {
        self.orders
            .iter()
            .find(|o| o.purchase_order_id == purchase_order_id)
    }
}
