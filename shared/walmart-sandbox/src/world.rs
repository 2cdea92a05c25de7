//! The sandbox's Walmart: catalog, seller items, inventory, prices, feeds, orders, returns, tokens,
//! and the log of what the seller sent. Plain data behind one mutex; no I/O, no waiting.
//!
//! Time comes from the caller (the sandbox clock). Feeds progress lazily: every request first calls
//! [`World::advance`], which processes the feeds whose processing time has passed, in order.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::http::StatusCode;
use domain::{Gtin, Money, Timestamp};
use serde_json::Value;

use crate::errors::WalmartFault;
use crate::limits::RateLimits;
use crate::model::*;
use crate::settings::SandboxSettings;

/// Walmart-style data error codes the sandbox gives feed items.
pub mod codes {
    /// A required attribute is missing (e.g. `price`).
    pub const MISSING_ATTRIBUTE: &str = "ERR_EXT_DATA_0801001";
    /// The product identifier is not a valid GTIN/UPC/EAN (length, digits or check digit).
    pub const INVALID_PRODUCT_ID: &str = "ERR_EXT_DATA_0801002";
    /// No Walmart catalog item has the identifier.
    pub const NO_CATALOG_MATCH: &str = "ERR_EXT_DATA_0101001";
    /// The SKU is not a seller item (inventory and price feeds).
    pub const UNKNOWN_SKU: &str = "ERR_EXT_DATA_0100001";
    /// An attribute has an invalid value (negative quantity, bad currency).
    pub const INVALID_VALUE: &str = "ERR_EXT_DATA_0801003";
    /// The feed file is not a valid feed of its type.
    pub const INVALID_FEED_FILE: &str = "ERR_EXT_DATA_0000001";
}

#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub gtin14: String,
    pub wpid: String,
    pub item_id: String,
    pub product_name: String,
    pub brand: Option<String>,
    pub product_type: Option<String>,
    pub price: Option<Money>,
}

#[derive(Debug, Clone)]
pub struct SellerItem {
    pub sku: String,
    pub wpid: String,
    pub gtin14: String,
    pub upc: Option<String>,
    pub product_name: String,
    pub product_type: Option<String>,
    pub price: Option<Money>,
    pub lifecycle_status: &'static str,
    pub published_status: &'static str,
}

/// One item of a submitted feed, as parsed at submission.
#[derive(Debug, Clone)]
pub enum FeedLine {
    Match {
        sku: Option<String>,
        product_id: Option<String>,
        price: Option<f64>,
    },
    Inventory {
        sku: Option<String>,
        quantity: Option<f64>,
    },
    Price {
        sku: Option<String>,
        amount: Option<f64>,
        currency: Option<String>,
    },
}

impl FeedLine {
    pub fn sku(&self) -> Option<&str> {
        match self {
            FeedLine::Match { sku, .. } | FeedLine::Inventory { sku, .. } | FeedLine::Price { sku, .. } => {
                sku.as_deref()
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ItemError {
    pub kind: &'static str,
    pub code: &'static str,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ItemOutcome {
    pub sku: Option<String>,
    pub wpid: Option<String>,
    pub errors: Vec<ItemError>,
}

impl ItemOutcome {
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Feed {
    pub feed_id: String,
    pub feed_type: String,
    pub submitted_at: Timestamp,
    pub processing_at: Timestamp,
    pub processed_at: Timestamp,
    pub lines: Vec<FeedLine>,
    /// Set once processed.
    pub outcomes: Option<Vec<ItemOutcome>>,
    /// The whole file was unusable: the feed ends in ERROR.
    pub file_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedPhase {
    Received,
    InProgress,
    Processed,
    Error,
}

impl FeedPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedPhase::Received => "RECEIVED",
            FeedPhase::InProgress => "INPROGRESS",
            FeedPhase::Processed => "PROCESSED",
            FeedPhase::Error => "ERROR",
        }
    }
}

impl Feed {
    pub fn phase(&self, now: Timestamp) -> FeedPhase {
        if self.outcomes.is_some() && now >= self.processed_at {
            if self.file_error.is_some() {
                FeedPhase::Error
            } else {
                FeedPhase::Processed
            }
        } else if now >= self.processing_at {
            FeedPhase::InProgress
        } else {
            FeedPhase::Received
        }
    }
}

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

/// The GTIN-14 form of an identifier, if it is a valid GTIN-8/12/13/14.
pub fn gtin14(raw: &str) -> Option<String> {
    Gtin::parse(raw).ok().map(|g| g.to_gtin14())
}

#[derive(Default)]
pub struct World {
    pub settings: SandboxSettings,
    pub tokens: HashMap<String, Timestamp>,
    pub limits: RateLimits,
    pub stats: BTreeMap<String, EndpointCounters>,
    pub catalog: HashMap<String, CatalogEntry>,
    pub items: BTreeMap<String, SellerItem>,
    pub items_by_gtin: HashMap<String, String>,
    pub inventory: HashMap<String, u32>,
    pub prices: HashMap<String, Money>,
    pub inventory_updates: Vec<ValueUpdate<u32>>,
    pub price_updates: Vec<ValueUpdate<Money>>,
    pub feeds: HashMap<String, Feed>,
    pub feed_order: Vec<String>,
    /// Feeds not yet processed, by the time they become PROCESSED.
    pending_feeds: BTreeMap<(Timestamp, u64), String>,
    pub orders: HashMap<String, Order>,
    /// Purchase orders by (order date, arrival): date-range queries without a full scan.
    pub orders_by_date: BTreeMap<(Timestamp, u64), String>,
    pub returns: HashMap<String, ReturnOrder>,
    pub returns_by_date: BTreeMap<(Timestamp, u64), String>,
    pub received: Received,
    /// Values put into records as they are rendered (`POST /_sandbox/overrides`).
    pub overrides: Vec<RecordOverride>,
    /// Notification subscriptions and deliveries (`webhooks/`).
    pub webhooks: crate::webhooks::Hub,
    next_seq: u64,
}

impl World {
    pub fn new(settings: SandboxSettings) -> Self {
        Self {
            settings,
            next_seq: 1,
            ..Self::default()
        }
    }

    fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    // ------------------------------------------------------------ overrides

    /// Applies the overrides of `record` to its rendering.
    pub fn overridden(&self, record: &OverriddenRecord, mut rendered: Value) -> Value {
        for o in self.overrides.iter().filter(|o| &o.record == record) {
            if o.pointer.is_empty() {
                rendered = o.value.clone();
                continue;
            }
            if let Some(slot) = rendered.pointer_mut(&o.pointer) {
                *slot = o.value.clone();
                continue;
            }
            // A member the rendering leaves out: added to its parent object.
            let Some((parent, name)) = o.pointer.rsplit_once('/') else {
                continue;
            };
            let name = name.replace("~1", "/").replace("~0", "~");
            if let Some(Value::Object(members)) = rendered.pointer_mut(parent) {
                members.insert(name, o.value.clone());
            }
        }
        rendered
    }

    /// [`Self::overridden`] for a feed status: the feed's own overrides, then each item detail's.
    pub fn overridden_feed(&self, feed_id: &str, rendered: Value) -> Value {
        let mut rendered = self.overridden(
            &OverriddenRecord::Feed {
                feed_id: feed_id.to_owned(),
            },
            rendered,
        );
        if let Some(Value::Array(items)) = rendered.pointer_mut("/itemDetails/itemIngestionStatus") {
            for item in items.iter_mut() {
                let Some(index) = item.get("index").and_then(Value::as_u64) else {
                    continue;
                };
                let record = OverriddenRecord::FeedItem {
                    feed_id: feed_id.to_owned(),
                    index: usize::try_from(index).unwrap_or(usize::MAX),
                };
                *item = self.overridden(&record, item.take());
            }
        }
        rendered
    }

    // ------------------------------------------------------------ tokens

    pub fn issue_token(&mut self, now: Timestamp) -> (String, u64) {
        let token = format!("sandbox-{}", uuid::Uuid::new_v4().simple());
        let ttl = self.settings.token_ttl_secs;
        self.tokens
            .insert(token.clone(), now.plus(Duration::from_secs(ttl)));
        // Expired tokens are forgotten here so the map stays small over long runs.
        self.tokens.retain(|_, expires| *expires > now);
        (token, ttl)
    }

    pub fn token_valid(&self, token: &str, now: Timestamp) -> bool {
        self.tokens.get(token).is_some_and(|expires| *expires > now)
    }

    pub fn expire_tokens(&mut self) -> usize {
        let n = self.tokens.len();
        self.tokens.clear();
        n
    }

    // ------------------------------------------------------------ catalog and items

    pub fn add_catalog_item(&mut self, spec: CatalogItemSpec) -> Result<String, String> {
        let gtin14 = gtin14(&spec.gtin).ok_or_else(|| format!("invalid GTIN {:?}", spec.gtin))?;
        let seq = self.seq();
        let wpid = spec.wpid.unwrap_or_else(|| wpid_for(seq));
        if wpid.is_empty() || !wpid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("invalid WPID {wpid:?}"));
        }
        self.catalog.insert(
            gtin14.clone(),
            CatalogEntry {
                gtin14,
                wpid: wpid.clone(),
                item_id: (100_000_000 + seq).to_string(),
                product_name: spec.product_name,
                brand: spec.brand,
                product_type: spec.product_type,
                price: spec.price,
            },
        );
        Ok(wpid)
    }

    pub fn published_status(&self) -> &'static str {
        if self.settings.store_live {
            "PUBLISHED"
        } else {
            "STAGE"
        }
    }

    fn upsert_item(&mut self, sku: &str, entry: &CatalogEntry, price: Option<Money>, upc: Option<String>) {
        if let Some(old) = self.items.get(sku)
            && old.gtin14 != entry.gtin14
        {
            self.items_by_gtin.remove(&old.gtin14);
        }
        self.items_by_gtin.insert(entry.gtin14.clone(), sku.to_owned());
        let published_status = self.published_status();
        self.items.insert(
            sku.to_owned(),
            SellerItem {
                sku: sku.to_owned(),
                wpid: entry.wpid.clone(),
                gtin14: entry.gtin14.clone(),
                upc,
                product_name: entry.product_name.clone(),
                product_type: entry.product_type.clone(),
                price,
                lifecycle_status: "ACTIVE",
                published_status,
            },
        );
        if let Some(price) = price {
            self.prices.insert(sku.to_owned(), price);
        }
    }

    pub fn add_seller_item(&mut self, spec: SellerItemSpec) -> Result<(), String> {
        let gtin14 = gtin14(&spec.gtin).ok_or_else(|| format!("invalid GTIN {:?}", spec.gtin))?;
        let entry = self
            .catalog
            .get(&gtin14)
            .cloned()
            .ok_or_else(|| format!("GTIN {gtin14} is not in the catalog"))?;
        if spec.sku.is_empty() || spec.sku.chars().count() > 50 {
            return Err(format!("invalid sku {:?}", spec.sku));
        }
        let upc = (spec.gtin.len() == 12).then(|| spec.gtin.clone());
        self.upsert_item(&spec.sku, &entry, spec.price, upc);
        if let Some(quantity) = spec.quantity {
            self.inventory.insert(spec.sku, quantity);
        }
        Ok(())
    }

    /// Publishes staged items when the store goes live (and stages them when it goes dark).
    pub fn apply_store_live(&mut self) {
        let status = self.published_status();
        for item in self.items.values_mut() {
            item.published_status = status;
        }
    }

    // ------------------------------------------------------------ inventory and price

    pub fn set_inventory(&mut self, sku: &str, quantity: u32, source: UpdateSource, now: Timestamp) {
        self.inventory.insert(sku.to_owned(), quantity);
        self.inventory_updates.push(ValueUpdate {
            sku: sku.to_owned(),
            value: quantity,
            source,
            at: now,
        });
    }

    pub fn set_price(&mut self, sku: &str, price: Money, source: UpdateSource, now: Timestamp) {
        self.prices.insert(sku.to_owned(), price);
        if let Some(item) = self.items.get_mut(sku) {
            item.price = Some(price);
        }
        self.price_updates.push(ValueUpdate {
            sku: sku.to_owned(),
            value: price,
            source,
            at: now,
        });
    }

    // ------------------------------------------------------------ feeds

    pub fn submit_feed(
        &mut self,
        feed_type: &str,
        lines: Vec<FeedLine>,
        file_error: Option<String>,
        now: Timestamp,
    ) -> String {
        let seq = self.seq();
        let feed_id = format!(
            "{}@AQMBAQA",
            uuid::Uuid::new_v4().simple().to_string().to_uppercase()
        );
        let processing_at = now.plus(Duration::from_secs(self.settings.feed_received_secs));
        let processed_at = processing_at.plus(Duration::from_secs(self.settings.feed_processing_secs));
        self.feeds.insert(
            feed_id.clone(),
            Feed {
                feed_id: feed_id.clone(),
                feed_type: feed_type.to_owned(),
                submitted_at: now,
                processing_at,
                processed_at,
                lines,
                outcomes: None,
                file_error,
            },
        );
        self.feed_order.push(feed_id.clone());
        self.pending_feeds.insert((processed_at, seq), feed_id.clone());
        feed_id
    }

    /// Processes every feed whose processing time has come, oldest first.
    pub fn advance(&mut self, now: Timestamp) {
        while let Some(entry) = self.pending_feeds.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let feed_id = entry.remove();
            self.process_feed(&feed_id);
        }
    }

    pub fn pending_feed_count(&self) -> usize {
        self.pending_feeds.len()
    }

    fn process_feed(&mut self, feed_id: &str) {
        let Some(feed) = self.feeds.get(feed_id) else {
            return;
        };
        let at = feed.processed_at;
        let lines = feed.lines.clone();
        let outcomes = if feed.file_error.is_some() {
            Vec::new()
        } else {
            lines
                .iter()
                .map(|line| self.apply_feed_line(feed_id, line, at))
                .collect()
        };
        if let Some(feed) = self.feeds.get_mut(feed_id) {
            feed.outcomes = Some(outcomes);
            // The parsed lines are no longer needed; outcomes keep what the status shows.
            feed.lines = Vec::new();
        }
    }

    fn apply_feed_line(&mut self, feed_id: &str, line: &FeedLine, at: Timestamp) -> ItemOutcome {
        let mut outcome = ItemOutcome {
            sku: line.sku().map(str::to_owned),
            wpid: None,
            errors: Vec::new(),
        };
        let data_error = |code: &'static str, description: String| ItemError {
            kind: "DATA_ERROR",
            code,
            description,
        };
        let Some(sku) = line.sku().filter(|s| !s.is_empty() && s.chars().count() <= 50) else {
            outcome.errors.push(data_error(
                codes::MISSING_ATTRIBUTE,
                "'sku' - Attribute requires a value.".to_owned(),
            ));
            return outcome;
        };
        let source = UpdateSource::Feed {
            feed_id: feed_id.to_owned(),
        };
        match line {
            FeedLine::Match {
                product_id, price, ..
            } => {
                let gtin = match product_id.as_deref() {
                    None | Some("") => {
                        outcome.errors.push(data_error(
                            codes::MISSING_ATTRIBUTE,
                            "'productIdentifiers' - Attribute requires a value.".to_owned(),
                        ));
                        None
                    }
                    Some(raw) => match Gtin::parse(raw) {
                        Ok(g) => Some(g),
                        Err(e) => {
                            outcome.errors.push(data_error(
                                codes::INVALID_PRODUCT_ID,
                                format!("'productId' {raw} is invalid: {}.", e.reason),
                            ));
                            None
                        }
                    },
                };
                let price = match price {
                    None => {
                        outcome.errors.push(data_error(
                            codes::MISSING_ATTRIBUTE,
                            "'price' - Attribute requires a value.".to_owned(),
                        ));
                        None
                    }
                    Some(p) => match Money::from_decimal(*p).ok().filter(|m| !m.is_negative()) {
                        Some(m) => Some(m),
                        None => {
                            outcome.errors.push(data_error(
                                codes::INVALID_VALUE,
                                format!("'price' {p} is invalid."),
                            ));
                            None
                        }
                    },
                };
                let entry = gtin.as_ref().and_then(|g| {
                    let found = self.catalog.get(&g.to_gtin14()).cloned();
                    if found.is_none() {
                        outcome.errors.push(data_error(
                            codes::NO_CATALOG_MATCH,
                            format!("No Walmart item matches product id {}.", g.as_str()),
                        ));
                    }
                    found
                });
                if let (Some(entry), Some(price), true) = (entry, price, outcome.errors.is_empty()) {
                    let upc = gtin
                        .as_ref()
                        .filter(|g| g.as_str().len() == 12)
                        .map(|g| g.as_str().to_owned());
                    outcome.wpid = Some(entry.wpid.clone());
                    self.upsert_item(sku, &entry, None, upc);
                    self.set_price(sku, price, source, at);
                }
            }
            FeedLine::Inventory { quantity, .. } => {
                let quantity =
                    quantity.filter(|q| q.fract() == 0.0 && *q >= 0.0 && *q <= f64::from(u32::MAX));
                match (self.items.get(sku).map(|i| i.wpid.clone()), quantity) {
                    (None, _) => outcome.errors.push(data_error(
                        codes::UNKNOWN_SKU,
                        format!("SKU {sku} is not set up on Walmart."),
                    )),
                    (_, None) => outcome.errors.push(data_error(
                        codes::INVALID_VALUE,
                        "'quantity.amount' must be a whole number of units.".to_owned(),
                    )),
                    (Some(wpid), Some(q)) => {
                        outcome.wpid = Some(wpid);
                        self.set_inventory(sku, q as u32, source, at);
                    }
                }
            }
            FeedLine::Price { amount, currency, .. } => {
                let price = amount
                    .and_then(|a| Money::from_decimal(a).ok())
                    .filter(|m| !m.is_negative());
                let currency_ok = currency.as_deref().is_none_or(|c| c == "USD");
                match (self.items.get(sku).map(|i| i.wpid.clone()), price) {
                    (None, _) => outcome.errors.push(data_error(
                        codes::UNKNOWN_SKU,
                        format!("SKU {sku} is not set up on Walmart."),
                    )),
                    (_, None) => outcome.errors.push(data_error(
                        codes::MISSING_ATTRIBUTE,
                        "'currentPrice.amount' - Attribute requires a value.".to_owned(),
                    )),
                    (Some(_), Some(_)) if !currency_ok => outcome.errors.push(data_error(
                        codes::INVALID_VALUE,
                        "'currency' must be USD.".to_owned(),
                    )),
                    (Some(wpid), Some(price)) => {
                        outcome.wpid = Some(wpid);
                        self.set_price(sku, price, source, at);
                    }
                }
            }
        }
        outcome
    }

    // ------------------------------------------------------------ orders

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

    // ------------------------------------------------------------ returns

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

    // ------------------------------------------------------------ control views

    pub fn summary(&self, now: Timestamp) -> StateSummary {
        StateSummary {
            now: Some(now),
            catalog_items: self.catalog.len(),
            seller_items: self.items.len(),
            inventory_skus: self.inventory.len(),
            priced_skus: self.prices.len(),
            feeds: self.feeds.len(),
            feeds_pending: self.pending_feed_count(),
            orders: self.orders.len(),
            returns: self.returns.len(),
            live_tokens: self.tokens.values().filter(|t| **t > now).count(),
        }
    }

    pub fn feed_summary(&self, feed: &Feed, now: Timestamp) -> FeedSummary {
        let outcomes = feed.outcomes.as_deref().unwrap_or_default();
        let processed = feed.phase(now) == FeedPhase::Processed;
        FeedSummary {
            feed_id: feed.feed_id.clone(),
            feed_type: feed.feed_type.clone(),
            status: feed.phase(now).as_str().to_owned(),
            submitted_at: feed.submitted_at,
            items_received: if feed.outcomes.is_some() {
                outcomes.len()
            } else {
                feed.lines.len()
            },
            items_succeeded: if processed {
                outcomes.iter().filter(|o| o.succeeded()).count()
            } else {
                0
            },
            items_failed: if processed {
                outcomes.iter().filter(|o| !o.succeeded()).count()
            } else {
                0
            },
        }
    }
}

/// A WPID-like id (12 uppercase alphanumerics) for catalog item `seq`.
fn wpid_for(seq: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // Spread sequential ids over the space so they do not look sequential.
    let mut n = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 36u64.pow(12);
    let mut out = [b'0'; 12];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let mut w = World::new(SandboxSettings::default());
        w.add_catalog_item(CatalogItemSpec {
            gtin: "036000291452".into(),
            product_name: "Mug".into(),
            brand: None,
            product_type: None,
            price: None,
            wpid: None,
        })
        .unwrap();
        w
    }

    fn order(w: &mut World, qty: u32) -> String {
        w.create_order(
            NewOrder {
                lines: vec![NewOrderLine {
                    sku: "MUG-1".into(),
                    quantity: qty,
                    unit_price: Money::from_cents(1000),
                    tax: Money::from_cents(160),
                    shipping: Money::ZERO,
                    product_name: None,
                }],
                ship_to: ShipToSpec::default(),
                method_code: "Standard".into(),
                order_date: None,
                purchase_order_id: None,
            },
            Timestamp::from_millis(1),
        )
        .unwrap()
        .purchase_order_id
    }

    fn tracking() -> Tracking {
        Tracking {
            ship_date_time: 1,
            carrier: Some("UPS".into()),
            other_carrier: None,
            method_code: "Standard".into(),
            tracking_number: "1Z".into(),
            tracking_url: None,
        }
    }

    fn ship(line: u32, quantity: u32) -> ShipRequestLine {
        ShipRequestLine {
            line,
            quantity,
            seller_order_id: "100".into(),
            tracking: tracking(),
            intent_to_cancel_override: false,
        }
    }

    #[test]
    fn a_customer_cancellation_request_gates_the_customer_reason_and_shipping() {
        let now = Timestamp::from_millis(2);
        let mut w = world();
        let po = order(&mut w, 2);
        w.acknowledge(&po, now).unwrap();
        let customer = |line| CancelRequestLine {
            line,
            quantity: 1,
            reason: CUSTOMER_REQUESTED.into(),
        };
        let refused = w
            .cancel(&po, vec![customer(1)], CancelledBy::Seller, now)
            .unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "no intent to cancel yet");
        w.request_cancellation(&po, &[1], now).unwrap();
        assert!(w.ship(&po, vec![ship(1, 1)], now).is_err(), "needs the override");
        let mut anyway = ship(1, 1);
        anyway.intent_to_cancel_override = true;
        w.ship(&po, vec![anyway], now).unwrap();
        w.cancel(&po, vec![customer(1)], CancelledBy::Seller, now)
            .unwrap();
    }

    #[test]
    fn line_rules_ack_before_ship_no_ship_after_cancel_refund_only_shipped() {
        let now = Timestamp::from_millis(2);
        let mut w = world();
        let po = order(&mut w, 3);
        assert!(w.ship(&po, vec![ship(1, 1)], now).is_err(), "not acknowledged");
        let refund = |amount| RefundRequestLine {
            line: 1,
            reason: "DamagedItem".into(),
            amount: Money::from_cents(amount),
            tax: Money::ZERO,
            comments: None,
        };
        assert!(w.refund(&po, vec![refund(100)], now).is_err(), "nothing shipped");
        w.acknowledge(&po, now).unwrap();
        w.ship(&po, vec![ship(1, 1)], now).unwrap();
        let line = &w.orders[&po].lines[0];
        assert_eq!(line.quantity_in(LineState::Shipped), 1);
        assert_eq!(line.quantity_in(LineState::Acknowledged), 2);
        w.cancel(
            &po,
            vec![CancelRequestLine {
                line: 1,
                quantity: 2,
                reason: "SELLER_CANCEL_OUT_OF_STOCK".into(),
            }],
            CancelledBy::Seller,
            now,
        )
        .unwrap();
        assert!(
            w.ship(&po, vec![ship(1, 1)], now).is_err(),
            "cancelled units cannot ship"
        );
        assert!(
            w.cancel(
                &po,
                vec![CancelRequestLine {
                    line: 1,
                    quantity: 1,
                    reason: "SELLER_CANCEL_OUT_OF_STOCK".into()
                }],
                CancelledBy::Seller,
                now
            )
            .is_err(),
            "shipped units cannot be cancelled"
        );
        w.refund(&po, vec![refund(1000)], now).unwrap();
        assert!(
            w.refund(&po, vec![refund(2500)], now).is_err(),
            "over the line total"
        );
        assert_eq!(w.received.shipments.len(), 1);
        assert_eq!(w.received.cancellations.len(), 1);
        assert_eq!(w.received.refunds.len(), 1);
    }

    #[test]
    fn returns_only_for_shipped_units_and_refund_once() {
        let now = Timestamp::from_millis(2);
        let mut w = world();
        let po = order(&mut w, 2);
        let spec = |q| NewReturn {
            purchase_order_id: po.clone(),
            lines: vec![LineQuantitySpec { line: 1, quantity: q }],
            reason: "DAMAGED".into(),
        };
        assert!(w.create_return(spec(1), now).is_err(), "nothing shipped yet");
        w.acknowledge(&po, now).unwrap();
        w.ship(&po, vec![ship(1, 1)], now).unwrap();
        assert!(w.create_return(spec(2), now).is_err(), "only one shipped");
        let created = w.create_return(spec(1), now).unwrap();
        assert!(w.create_return(spec(1), now).is_err(), "already returned");
        assert!(
            w.refund_return(&created.return_order_id, "wrong", &[1], now)
                .is_err()
        );
        w.refund_return(&created.return_order_id, &created.customer_order_id, &[1], now)
            .unwrap();
        assert!(
            w.refund_return(&created.return_order_id, &created.customer_order_id, &[1], now)
                .is_err()
        );
        assert_eq!(w.returns[&created.return_order_id].status(), "COMPLETED");
    }

    #[test]
    fn feeds_apply_when_processed_with_per_item_errors() {
        let mut w = world();
        w.settings.feed_received_secs = 10;
        w.settings.feed_processing_secs = 20;
        let t0 = Timestamp::from_millis(1_000);
        let line = |sku: &str, id: &str, price: Option<f64>| FeedLine::Match {
            sku: Some(sku.into()),
            product_id: Some(id.into()),
            price,
        };
        let id = w.submit_feed(
            "MP_ITEM_MATCH",
            vec![
                line("A", "036000291452", Some(9.99)),
                line("B", "036000291453", Some(9.99)),
                line("C", "4006381333931", Some(9.99)),
                line("D", "036000291452", None),
            ],
            None,
            t0,
        );
        assert_eq!(w.feeds[&id].phase(t0), FeedPhase::Received);
        w.advance(t0.plus(Duration::from_secs(15)));
        assert_eq!(
            w.feeds[&id].phase(t0.plus(Duration::from_secs(15))),
            FeedPhase::InProgress
        );
        assert!(w.items.is_empty(), "nothing applied before processing");
        let done = t0.plus(Duration::from_secs(30));
        w.advance(done);
        let feed = &w.feeds[&id];
        assert_eq!(feed.phase(done), FeedPhase::Processed);
        let codes: Vec<Vec<&str>> = feed
            .outcomes
            .as_ref()
            .unwrap()
            .iter()
            .map(|o| o.errors.iter().map(|e| e.code).collect())
            .collect();
        assert_eq!(
            codes,
            vec![
                vec![],
                vec![codes::INVALID_PRODUCT_ID],
                vec![codes::NO_CATALOG_MATCH],
                vec![codes::MISSING_ATTRIBUTE]
            ]
        );
        assert_eq!(w.items["A"].published_status, "PUBLISHED");
        assert_eq!(w.prices["A"], Money::from_cents(999));
        assert_eq!(w.pending_feed_count(), 0);
    }
}
