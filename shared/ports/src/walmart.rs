//! The Walmart port: what the channel asks of Walmart Marketplace, in domain terms.
//!
//! `walmart-client` implements it over Walmart's v3 REST API; operations see only `&dyn Walmart`.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use domain::{
    CancelReason, CustomerOrderId, FeedId, FeedStatus, Gtin, LineNumber, ListingIssue, Money, PurchaseOrder,
    PurchaseOrderId, ReturnLine, ReturnOrderId, Sku, Timestamp, Tracking, WalmartLineStatus, Wpid,
};

use crate::api::ApiError;
use crate::retry::Deadline;

/// Walmart's carriers (`carrierName.carrier` enum of the orders spec); any other carrier goes as
/// `otherCarrier` with a tracking URL. Shared by the client and the sandbox, so both hold the same list.
pub const KNOWN_CARRIERS: &[&str] = &[
    "UPS",
    "USPS",
    "FedEx",
    "Airborne",
    "OnTrac",
    "DHL Ecommerce - US",
    "LS",
    "UDS",
    "UPSMI",
    "FDX",
    "PILOT",
    "ESTES",
    "SAIA",
    "FDS Express",
    "Seko Worldwide",
    "HIT Delivery",
    "FEDEXSP",
    "RL Carriers",
    "Metropolitan Warehouse & Delivery",
    "China Post",
    "YunExpress",
    "Yellow Freight Sys",
    "AIT Worldwide Logistics",
    "Chukou1",
    "Sendle",
    "Landmark Global",
    "Sunyou",
    "Yanwen",
    "4PX",
    "GLS",
    "OSM Worldwide",
    "FIRST MILE",
    "AM Trucking",
    "CEVA",
    "India Post",
    "SF Express",
    "CNE",
    "TForce Freight",
    "AxleHire",
    "LSO",
];

/// Walmart's shipping method codes (`methodCode` enum).
pub const METHOD_CODES: &[&str] = &["Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value"];

/// Feed types the channel submits to `POST /v3/feeds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FeedType {
    /// `MP_ITEM_MATCH`: set up offers by matching existing Walmart items (spec v4).
    ItemMatch,
    /// `inventory`: bulk quantities at the default ship node (spec 1.4).
    Inventory,
    /// `MP_INVENTORY`: bulk quantities per ship node (spec 1.5).
    MultiNodeInventory,
    /// `price`: bulk prices (spec 1.7).
    Price,
}

impl FeedType {
    pub const ALL: [FeedType; 4] = [
        FeedType::ItemMatch,
        FeedType::Inventory,
        FeedType::MultiNodeInventory,
        FeedType::Price,
    ];

    /// The `feedType` query value Walmart expects.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedType::ItemMatch => "MP_ITEM_MATCH",
            FeedType::Inventory => "inventory",
            FeedType::MultiNodeInventory => "MP_INVENTORY",
            FeedType::Price => "price",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

impl fmt::Display for FeedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Walmart's status of some quantity of an order line, including `Refund`, which the domain's
/// line status does not model. A status this list does not know is kept as `Other`: the order is
/// still read, and the units in it count as in no known state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LineState {
    Created,
    Acknowledged,
    Shipped,
    Delivered,
    Cancelled,
    Refund,
    Other(String),
}

impl LineState {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "Created" => LineState::Created,
            "Acknowledged" => LineState::Acknowledged,
            "Shipped" => LineState::Shipped,
            "Delivered" => LineState::Delivered,
            "Cancelled" => LineState::Cancelled,
            "Refund" => LineState::Refund,
            other => LineState::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            LineState::Created => "Created",
            LineState::Acknowledged => "Acknowledged",
            LineState::Shipped => "Shipped",
            LineState::Delivered => "Delivered",
            LineState::Cancelled => "Cancelled",
            LineState::Refund => "Refund",
            LineState::Other(raw) => raw,
        }
    }

    /// Progress order of the states a unit moves through; cancelled, refunded and unknown states
    /// sit apart.
    pub fn rank(&self) -> Option<u8> {
        match self {
            LineState::Created => Some(0),
            LineState::Acknowledged => Some(1),
            LineState::Shipped => Some(2),
            LineState::Delivered => Some(3),
            LineState::Cancelled | LineState::Refund | LineState::Other(_) => None,
        }
    }

    /// The domain's status of a known state (`None` for a state Walmart added since).
    pub fn to_domain(&self) -> Option<WalmartLineStatus> {
        Some(match self {
            LineState::Created => WalmartLineStatus::Created,
            LineState::Acknowledged => WalmartLineStatus::Acknowledged,
            LineState::Shipped | LineState::Refund => WalmartLineStatus::Shipped,
            LineState::Delivered => WalmartLineStatus::Delivered,
            LineState::Cancelled => WalmartLineStatus::Cancelled,
            LineState::Other(_) => return None,
        })
    }
}

/// Some quantity of one line in one state, as Walmart reports it (`orderLineStatuses`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineStatusQuantity {
    pub line: LineNumber,
    pub state: LineState,
    pub quantity: u32,
    pub cancellation_reason: Option<String>,
    pub tracking_number: Option<String>,
}

/// A purchase order with Walmart's per-quantity line statuses, which the domain's single line
/// status summarises (cancellation-sync needs the quantities).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalmartOrder {
    pub order: PurchaseOrder,
    pub statuses: Vec<LineStatusQuantity>,
    /// Lines the customer asked to cancel (`intentToCancel`): only these may be cancelled with
    /// `CUSTOMER_REQUESTED_SELLER_TO_CANCEL`, and shipping them needs `intentToCancelOverride`.
    #[serde(default)]
    pub intent_to_cancel: Vec<LineNumber>,
    /// Values of Walmart enums the client does not know (a new line status, carrier, ...), each
    /// as a readable sentence naming the line: the order is read, and its record shows them.
    #[serde(default)]
    pub unknown_values: Vec<String>,
}

impl WalmartOrder {
    /// Units of `line` currently in `state`.
    pub fn quantity_in(&self, line: LineNumber, state: LineState) -> u32 {
        self.statuses
            .iter()
            .filter(|s| s.line == line && s.state == state)
            .map(|s| s.quantity)
            .sum()
    }
}

/// Walmart's per-item ingestion status; one this list does not know is kept as `Other`, and only
/// its item fails.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IngestionStatus {
    InProgress,
    Success,
    DataError,
    SystemError,
    TimeoutError,
    Other(String),
}

impl IngestionStatus {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "INPROGRESS" => IngestionStatus::InProgress,
            "SUCCESS" => IngestionStatus::Success,
            "DATA_ERROR" => IngestionStatus::DataError,
            "SYSTEM_ERROR" => IngestionStatus::SystemError,
            "TIMEOUT_ERROR" => IngestionStatus::TimeoutError,
            other => IngestionStatus::Other(other.to_owned()),
        }
    }
}

/// A record of a page (an order, a feed item, an item, a return) that could not be read: it is
/// skipped and reported, and the rest of its page is processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRecord {
    /// Position in the page, 0-based.
    pub index: u32,
    /// The record's id when it could be read (a purchase order id, a SKU, a return order id).
    pub id: Option<String>,
    pub reason: String,
    /// `WM_QOS.CORRELATION_ID` of the call that read the page, for Walmart's support.
    pub correlation_id: String,
}

impl fmt::Display for SkippedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} of the page", self.index)?;
        if let Some(id) = &self.id {
            write!(f, " ({id})")?;
        }
        write!(
            f,
            " skipped: {} [correlation id {}]",
            self.reason, self.correlation_id
        )
    }
}

/// One item of a feed and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItemResult {
    /// Position in the submitted file, 0-based.
    pub index: Option<u32>,
    pub sku: Option<Sku>,
    pub wpid: Option<Wpid>,
    pub status: IngestionStatus,
    /// Walmart's errors for the item, as listing issues (code + message).
    pub issues: Vec<ListingIssue>,
}

/// One page of a feed's status with item details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStatusPage {
    pub feed_id: FeedId,
    pub status: FeedStatus,
    pub items_received: u32,
    pub items_succeeded: u32,
    pub items_failed: u32,
    pub items_processing: u32,
    pub offset: u32,
    pub limit: u32,
    pub items: Vec<FeedItemResult>,
    /// Errors of the feed as a whole (a feed in ERROR).
    pub feed_errors: Vec<ListingIssue>,
    /// Walmart refused the large page of item details for this call, so it and every later call of
    /// the process ask for the spec's page instead (true once per process).
    pub details_page_fell_back: bool,
    /// Item details that could not be read at all (their positions stay unreported).
    pub skipped: Vec<SkippedRecord>,
}

impl FeedStatusPage {
    /// The offset of the next page of item details, if there is one.
    pub fn next_offset(&self) -> Option<u32> {
        let next = self.offset + u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        (!self.items.is_empty() && next < self.items_received).then_some(next)
    }
}

/// A feed as Walmart's feed list shows it (`GET /v3/feeds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSummary {
    pub feed_id: FeedId,
    /// Walmart's `feedType` (e.g. `price`, `MP_ITEM_MATCH`).
    pub feed_type: String,
    pub submitted_at: Option<Timestamp>,
    pub items_received: u32,
}

/// A seller item (`GET /v3/items`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerItem {
    pub sku: Sku,
    pub wpid: Option<Wpid>,
    pub gtin: Option<String>,
    pub upc: Option<String>,
    pub product_name: Option<String>,
    pub price: Option<Money>,
    /// `PUBLISHED`, `UNPUBLISHED`, ...
    pub published_status: Option<String>,
    /// `ACTIVE`, `ARCHIVED`, `RETIRED`.
    pub lifecycle_status: Option<String>,
    pub unpublished_reasons: Vec<String>,
}

/// An item of Walmart's catalog found by identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    /// Walmart's item id.
    pub item_id: String,
    pub title: Option<String>,
    pub brand: Option<String>,
    pub product_type: Option<String>,
    pub price: Option<Money>,
    pub marketplace_item: bool,
}

/// A Walmart return order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalmartReturn {
    pub return_order_id: ReturnOrderId,
    pub customer_order_id: CustomerOrderId,
    /// The purchase order of the returned lines (Walmart returns one purchase order's lines).
    pub purchase_order_id: Option<PurchaseOrderId>,
    pub returned_at: Option<Timestamp>,
    pub total_refund: Option<Money>,
    pub lines: Vec<ReturnLine>,
    /// Return line numbers Walmart already reports as refunded.
    pub refunded_lines: Vec<u32>,
}

/// Which order list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderSource {
    /// `GET /v3/orders`: every order, filterable by creation or modification dates.
    All,
    /// `GET /v3/orders/released`: orders released for fulfilment (Created, not yet acknowledged).
    Released,
}

/// The first page of an order query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersQuery {
    pub source: OrderSource,
    pub created_start: Option<Timestamp>,
    pub created_end: Option<Timestamp>,
    /// Not accepted by `Released`.
    pub modified_start: Option<Timestamp>,
    pub modified_end: Option<Timestamp>,
    /// Only orders with a line in this state.
    pub status: Option<LineState>,
    pub limit: u32,
}

impl OrdersQuery {
    pub fn created_between(start: Timestamp, end: Timestamp) -> Self {
        Self {
            source: OrderSource::All,
            created_start: Some(start),
            created_end: Some(end),
            modified_start: None,
            modified_end: None,
            status: None,
            limit: 100,
        }
    }

    /// Orders created since `created_since` and changed between `start` and `end`. Walmart reads
    /// a missing `createdStartDate` as "the last 7 days", so changes to older orders need it.
    pub fn modified_between(created_since: Timestamp, start: Timestamp, end: Timestamp) -> Self {
        Self {
            created_start: Some(created_since),
            created_end: None,
            modified_start: Some(start),
            modified_end: Some(end),
            ..Self::created_between(start, end)
        }
    }

    pub fn released(start: Timestamp, end: Timestamp) -> Self {
        Self {
            source: OrderSource::Released,
            ..Self::created_between(start, end)
        }
    }
}

/// Where the next page of an order query starts: Walmart's `nextCursor`, a whole query string
/// appended to the list path as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersCursor {
    pub source: OrderSource,
    pub query: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersPage {
    pub orders: Vec<WalmartOrder>,
    pub next_cursor: Option<OrdersCursor>,
    /// Orders of the page that could not be read.
    pub skipped: Vec<SkippedRecord>,
}

/// Units of a line shipped in one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipLine {
    pub line: LineNumber,
    pub quantity: u32,
    /// The seller's order number (the Commerce increment id); Walmart requires it on every line.
    pub seller_order_id: String,
    pub tracking: Tracking,
    /// Ship although the customer asked to cancel the line (`intentToCancelOverride`): Walmart
    /// refuses to ship such a line without it.
    pub intent_to_cancel_override: bool,
}

/// Walmart's documented cancellation reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CancellationReason {
    CustomerRequestedSellerToCancel,
    SellerCancelPricingError,
    SellerCancelOutOfStock,
    SellerCancelFraudStopShipment,
    SellerCancelAddressNotServiceable,
}

impl CancellationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancellationReason::CustomerRequestedSellerToCancel => "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
            CancellationReason::SellerCancelPricingError => "SELLER_CANCEL_PRICING_ERROR",
            CancellationReason::SellerCancelOutOfStock => "SELLER_CANCEL_OUT_OF_STOCK",
            CancellationReason::SellerCancelFraudStopShipment => "SELLER_CANCEL_FRAUD_STOP_SHIPMENT",
            CancellationReason::SellerCancelAddressNotServiceable => "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE",
        }
    }
}

impl From<CancelReason> for CancellationReason {
    /// The domain's generic seller cancellation is reported as out of stock, the reason Walmart
    /// expects for a seller who cannot fulfil.
    fn from(reason: CancelReason) -> Self {
        match reason {
            CancelReason::CustomerRequestedSellerToCancel => {
                CancellationReason::CustomerRequestedSellerToCancel
            }
            CancelReason::SellerCancellation => CancellationReason::SellerCancelOutOfStock,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelLine {
    pub line: LineNumber,
    pub quantity: u32,
    pub reason: CancellationReason,
}

/// Walmart's refund reasons (a subset of the documented enum the channel has use for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefundReason {
    BillingError,
    TaxExemptCustomer,
    ItemNotAsAdvertised,
    IncorrectItemReceived,
    CancelledYetShipped,
    ItemNotReceivedByCustomer,
    IncorrectShippingPrice,
    DamagedItem,
    DefectiveItem,
    CustomerChangedMind,
    CustomerReceivedItemLate,
    Others,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::BillingError => "BillingError",
            RefundReason::TaxExemptCustomer => "TaxExemptCustomer",
            RefundReason::ItemNotAsAdvertised => "ItemNotAsAdvertised",
            RefundReason::IncorrectItemReceived => "IncorrectItemReceived",
            RefundReason::CancelledYetShipped => "CancelledYetShipped",
            RefundReason::ItemNotReceivedByCustomer => "ItemNotReceivedByCustomer",
            RefundReason::IncorrectShippingPrice => "IncorrectShippingPrice",
            RefundReason::DamagedItem => "DamagedItem",
            RefundReason::DefectiveItem => "DefectiveItem",
            RefundReason::CustomerChangedMind => "CustomerChangedMind",
            RefundReason::CustomerReceivedItemLate => "CustomerReceivedItemLate",
            RefundReason::Others => "Others",
        }
    }
}

/// A refund of one line's product charge (and its tax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundLine {
    pub line: LineNumber,
    pub reason: RefundReason,
    /// Product amount refunded, positive; Walmart receives it negated.
    pub amount: Money,
    pub tax: Option<Money>,
    pub comments: Option<String>,
}

/// A page request of the seller's items. Start with `cursor: None`; pass each page's
/// `next_cursor` back to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemsQuery {
    pub cursor: Option<String>,
    pub limit: u32,
    /// `ACTIVE`, `ARCHIVED`, `RETIRED`.
    pub lifecycle_status: Option<String>,
    /// `PUBLISHED`, `UNPUBLISHED`, ...
    pub published_status: Option<String>,
}

impl Default for ItemsQuery {
    fn default() -> Self {
        Self {
            cursor: None,
            limit: 50,
            lifecycle_status: None,
            published_status: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemsPage {
    pub items: Vec<SellerItem>,
    pub total_items: Option<u64>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
    /// Items of the page that could not be read.
    pub skipped: Vec<SkippedRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnsQuery {
    pub created_start: Option<Timestamp>,
    pub created_end: Option<Timestamp>,
    /// `INITIATED`, `DELIVERED` or `COMPLETED`.
    pub status: Option<String>,
    pub limit: u32,
}

impl ReturnsQuery {
    pub fn created_between(start: Timestamp, end: Timestamp) -> Self {
        Self {
            created_start: Some(start),
            created_end: Some(end),
            status: None,
            limit: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnsPage {
    pub returns: Vec<WalmartReturn>,
    /// Walmart's `nextCursor`: a query string for `GET /v3/returns`, to pass to
    /// `next_returns`. `None` on the last page.
    pub next_cursor: Option<String>,
    /// Returns of the page that could not be read.
    pub skipped: Vec<SkippedRecord>,
}

#[async_trait]
pub trait Walmart: Send + Sync {
    /// One page of the seller's items.
    async fn list_items(&self, query: &ItemsQuery, deadline: &Deadline) -> Result<ItemsPage, ApiError>;

    async fn get_item(&self, sku: &Sku, deadline: &Deadline) -> Result<SellerItem, ApiError>;

    /// Walmart catalog items carrying this UPC/GTIN.
    async fn search_catalog_by_gtin(
        &self,
        gtin: &Gtin,
        deadline: &Deadline,
    ) -> Result<Vec<CatalogItem>, ApiError>;

    /// Submits a feed file (`payload` as the feed's JSON schema has it); returns the feed id.
    async fn submit_feed(
        &self,
        feed_type: FeedType,
        payload: &serde_json::Value,
        deadline: &Deadline,
    ) -> Result<FeedId, ApiError>;

    /// The newest feeds of the seller (one page of `GET /v3/feeds`, newest first): where a
    /// submission whose answer was lost shows whether it arrived.
    async fn recent_feeds(&self, deadline: &Deadline) -> Result<Vec<FeedSummary>, ApiError>;

    /// A feed's status with one page of item details.
    async fn feed_status(
        &self,
        feed_id: &FeedId,
        offset: u32,
        limit: u32,
        deadline: &Deadline,
    ) -> Result<FeedStatusPage, ApiError>;

    async fn get_inventory(&self, sku: &Sku, deadline: &Deadline) -> Result<u32, ApiError>;

    async fn update_inventory(&self, sku: &Sku, quantity: u32, deadline: &Deadline) -> Result<(), ApiError>;

    async fn update_price(&self, sku: &Sku, price: Money, deadline: &Deadline) -> Result<(), ApiError>;

    /// The first page of an order query ("no orders" is an empty page).
    async fn list_orders(&self, query: &OrdersQuery, deadline: &Deadline) -> Result<OrdersPage, ApiError>;

    /// The page a previous page's cursor points to.
    async fn next_orders(&self, cursor: &OrdersCursor, deadline: &Deadline) -> Result<OrdersPage, ApiError>;

    async fn get_order(&self, po: &PurchaseOrderId, deadline: &Deadline) -> Result<WalmartOrder, ApiError>;

    async fn acknowledge(&self, po: &PurchaseOrderId, deadline: &Deadline) -> Result<WalmartOrder, ApiError>;

    async fn ship(
        &self,
        po: &PurchaseOrderId,
        lines: &[ShipLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, ApiError>;

    async fn cancel_lines(
        &self,
        po: &PurchaseOrderId,
        lines: &[CancelLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, ApiError>;

    async fn refund_lines(
        &self,
        po: &PurchaseOrderId,
        lines: &[RefundLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, ApiError>;

    /// The first page of a returns query.
    async fn list_returns(&self, query: &ReturnsQuery, deadline: &Deadline) -> Result<ReturnsPage, ApiError>;

    /// The page a previous page's cursor points to.
    async fn next_returns(&self, cursor: &str, deadline: &Deadline) -> Result<ReturnsPage, ApiError>;

    /// One return order as Walmart shows it now (`None` when Walmart knows no such return).
    async fn get_return(
        &self,
        return_order_id: &ReturnOrderId,
        deadline: &Deadline,
    ) -> Result<Option<WalmartReturn>, ApiError>;

    /// Refunds a return order's lines (by return line number).
    async fn refund_return(
        &self,
        return_order_id: &ReturnOrderId,
        customer_order_id: &CustomerOrderId,
        return_lines: &[u32],
        deadline: &Deadline,
    ) -> Result<(), ApiError>;

    // Notifications (`/v3/webhooks`). Defaults refuse, so test doubles that never manage
    // subscriptions need not implement them; a wrapper around a real port must forward them.

    /// The seller's subscriptions, all event types (`GET /v3/webhooks/subscriptions`).
    async fn list_subscriptions(
        &self,
        deadline: &Deadline,
    ) -> Result<Vec<crate::webhooks::Subscription>, ApiError> {
        let _ = deadline;
        Err(webhooks_unsupported())
    }

    /// Creates a subscription (`POST /v3/webhooks/subscriptions`); returns its id.
    async fn create_subscription(
        &self,
        request: &crate::webhooks::SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<String, ApiError> {
        let _ = (request, deadline);
        Err(webhooks_unsupported())
    }

    /// Updates a subscription (`PATCH /v3/webhooks/subscriptions/{subscriptionId}`).
    async fn update_subscription(
        &self,
        subscription_id: &str,
        request: &crate::webhooks::SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<(), ApiError> {
        let _ = (subscription_id, request, deadline);
        Err(webhooks_unsupported())
    }

    /// Deletes a subscription (`DELETE /v3/webhooks/subscriptions/{subscriptionId}`).
    async fn delete_subscription(&self, subscription_id: &str, deadline: &Deadline) -> Result<(), ApiError> {
        let _ = (subscription_id, deadline);
        Err(webhooks_unsupported())
    }

    /// Asks Walmart to send a sample notification to the subscription's URL
    /// (`POST /v3/webhooks/test`); an error when the destination did not accept it.
    async fn test_notification(
        &self,
        request: &crate::webhooks::SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<(), ApiError> {
        let _ = (request, deadline);
        Err(webhooks_unsupported())
    }
}

fn webhooks_unsupported() -> ApiError {
    ApiError::new(
        crate::Api::Walmart,
        crate::ApiErrorKind::Configuration,
        "this Walmart port does not manage notification subscriptions",
    )
}
