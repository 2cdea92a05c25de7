//! The sandbox's records, shared by the server and [`crate::ControlClient`]. Amounts are
//! `domain::Money`, serialised as integer cents.

use domain::{Money, Timestamp};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------- control API inputs

/// An item of Walmart's catalog, to match listings against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItemSpec {
    /// GTIN-8, UPC-A, EAN-13 or GTIN-14 with a valid check digit.
    pub gtin: String,
    pub product_name: String,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    /// Walmart's price for the item, shown by catalog search.
    #[serde(default)]
    pub price: Option<Money>,
    /// Chosen by the sandbox when absent.
    #[serde(default)]
    pub wpid: Option<String>,
}

/// A seller item set up directly (as if matched long ago), for large benchmark catalogs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerItemSpec {
    pub sku: String,
    /// Must be in the catalog; the item gets the catalog item's WPID.
    pub gtin: String,
    #[serde(default)]
    pub price: Option<Money>,
    #[serde(default)]
    pub quantity: Option<u32>,
}

/// Buyer's address of a new order. Personal data in real life; made up in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipToSpec {
    pub name: String,
    pub address1: String,
    #[serde(default)]
    pub address2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    #[serde(default = "default_country")]
    pub country: String,
    #[serde(default = "default_phone")]
    pub phone: String,
}

fn default_country() -> String {
    "USA".to_owned()
}

fn default_phone() -> String {
    "5555550100".to_owned()
}

impl Default for ShipToSpec {
    fn default() -> Self {
        Self {
            name: "Sandbox Buyer".to_owned(),
            address1: "702 SW 8th St".to_owned(),
            address2: None,
            city: "Bentonville".to_owned(),
            state: "AR".to_owned(),
            postal_code: "72716".to_owned(),
            country: default_country(),
            phone: default_phone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrderLine {
    pub sku: String,
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Money,
    /// Tax of the whole line.
    #[serde(default)]
    pub tax: Money,
    /// Shipping charge of the whole line.
    #[serde(default)]
    pub shipping: Money,
    /// Defaults to the seller item's or catalog item's name.
    #[serde(default)]
    pub product_name: Option<String>,
}

/// A buyer's order, placed through the control API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    pub lines: Vec<NewOrderLine>,
    #[serde(default)]
    pub ship_to: ShipToSpec,
    /// `Standard`, `Express`, `OneDay`, `Freight`, `WhiteGlove` or `Value`.
    #[serde(default = "default_method")]
    pub method_code: String,
    /// Defaults to the sandbox clock's now.
    #[serde(default)]
    pub order_date: Option<Timestamp>,
    /// Chosen by the sandbox when absent.
    #[serde(default)]
    pub purchase_order_id: Option<String>,
}

fn default_method() -> String {
    "Standard".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedOrder {
    pub purchase_order_id: String,
    pub customer_order_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineQuantitySpec {
    pub line: u32,
    pub quantity: u32,
}

/// Walmart-side (buyer or Walmart) cancellation of unshipped units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerCancellation {
    pub lines: Vec<LineQuantitySpec>,
    #[serde(default = "default_buyer_reason")]
    pub reason: String,
}

fn default_buyer_reason() -> String {
    "CUSTOMER_CANCEL".to_owned()
}

/// The buyer asks to cancel lines (`intentToCancel`); every unshipped line when `lines` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRequest {
    #[serde(default)]
    pub lines: Vec<u32>,
}

/// A buyer's return of shipped units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReturn {
    pub purchase_order_id: String,
    pub lines: Vec<LineQuantitySpec>,
    #[serde(default = "default_return_reason")]
    pub reason: String,
}

fn default_return_reason() -> String {
    "CUSTOMER_CHANGED_MIND".to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedReturn {
    pub return_order_id: String,
    pub customer_order_id: String,
}

// ---------------------------------------------------------------- what "Walmart" received

/// How a quantity or price reached the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum UpdateSource {
    Single,
    Feed { feed_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueUpdate<T> {
    pub sku: String,
    pub value: T,
    pub source: UpdateSource,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckRecord {
    pub purchase_order_id: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRecord {
    pub purchase_order_id: String,
    pub line: u32,
    pub quantity: u32,
    pub seller_order_id: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub other_carrier: Option<String>,
    pub tracking_url: Option<String>,
    pub method_code: String,
    pub ship_date_time: i64,
    pub at: Timestamp,
}

/// Who cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// Through `POST /v3/orders/{id}/cancel`.
    Seller,
    /// Through the control API (buyer or Walmart).
    Buyer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRecord {
    pub purchase_order_id: String,
    pub line: u32,
    pub quantity: u32,
    pub reason: String,
    pub by: CancelledBy,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub purchase_order_id: String,
    pub line: u32,
    pub reason: String,
    /// Refunded amount, positive (Walmart receives it negative).
    pub amount: Money,
    pub tax: Money,
    pub comments: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRefundRecord {
    pub return_order_id: String,
    pub customer_order_id: String,
    pub lines: Vec<u32>,
    pub at: Timestamp,
}

/// Everything the seller told "Walmart" about orders and returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub acknowledgements: Vec<AckRecord>,
    pub shipments: Vec<ShipmentRecord>,
    pub cancellations: Vec<CancellationRecord>,
    pub refunds: Vec<RefundRecord>,
    pub return_refunds: Vec<ReturnRefundRecord>,
}

/// Calls and 429s of one endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointCounters {
    pub calls: u64,
    pub throttled: u64,
}

/// A summary of the sandbox's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSummary {
    pub now: Option<Timestamp>,
    pub catalog_items: usize,
    pub seller_items: usize,
    pub inventory_skus: usize,
    pub priced_skus: usize,
    pub feeds: usize,
    pub feeds_pending: usize,
    pub orders: usize,
    pub returns: usize,
    pub live_tokens: usize,
}

/// A feed as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSummary {
    pub feed_id: String,
    pub feed_type: String,
    pub status: String,
    pub submitted_at: Timestamp,
    pub items_received: usize,
    pub items_succeeded: usize,
    pub items_failed: usize,
}

/// A value the sandbox puts into one record each time it renders it (`POST /_sandbox/overrides`):
/// what production can send and the sandbox's own records never hold, a status or carrier Walmart
/// added since, or a record Walmart sent badly. Every other record of the page stays as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordOverride {
    pub record: OverriddenRecord,
    /// JSON pointer into the record as rendered (e.g.
    /// `/orderLines/orderLine/0/orderLineStatuses/orderLineStatus/0/status`); a missing last member
    /// is added, and `""` replaces the whole record.
    pub pointer: String,
    pub value: serde_json::Value,
}

/// The record a [`RecordOverride`] changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OverriddenRecord {
    /// A purchase order, wherever it is rendered (lists, `GET /v3/orders/{id}`, line updates).
    Order { purchase_order_id: String },
    /// A feed's status (`GET /v3/feeds/{feedId}`, without its item details).
    Feed { feed_id: String },
    /// One item detail of a feed, by its index in the feed.
    FeedItem { feed_id: String, index: usize },
    /// A seller item of `GET /v3/items`.
    Item { sku: String },
    /// A return order of `GET /v3/returns`.
    Return { return_order_id: String },
}
