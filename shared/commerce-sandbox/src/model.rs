//! The store's records, as the sandbox keeps them in memory.

use std::borrow::Cow;
use std::collections::BTreeMap;

use domain::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::search::{Field, Searchable};

pub const TYPE_SIMPLE: &str = "simple";
pub const TYPE_CONFIGURABLE: &str = "configurable";

/// A product as the merchant maintains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: u64,
    pub sku: String,
    pub name: String,
    pub type_id: String,
    /// 1 enabled, 2 disabled.
    pub status: i64,
    /// 1 not visible individually .. 4 catalog and search.
    pub visibility: i64,
    pub price: f64,
    pub special_price: Option<f64>,
    pub special_from_date: Option<String>,
    pub special_to_date: Option<String>,
    pub weight: Option<f64>,
    /// Custom attributes as text: `upc`, `walmart_enabled`, and whatever the seed adds.
    pub attributes: BTreeMap<String, String>,
    pub category_ids: Vec<u64>,
    pub website_ids: Vec<u64>,
    /// Entity ids of a configurable product's children.
    pub children: Vec<u64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Product {
    /// The price Magento charges in a cart now: the special price while its window holds and it is
    /// lower, else the price. The window's dates are days in the store's time zone, as Magento's
    /// `Timezone::isScopeDateInInterval` compares them.
    pub fn final_price(&self, now: Timestamp, zone: &domain::StoreTimeZone) -> f64 {
        let in_window = |raw: &Option<String>, end: bool| {
            raw.as_deref()
                .and_then(|raw| domain::StoreDate::parse(raw).ok())
                .is_none_or(|day| {
                    if end {
                        now <= zone.end_of(day)
                    } else {
                        zone.start_of(day) <= now
                    }
                })
        };
        match self.special_price {
            Some(sp)
                if sp < self.price
                    && in_window(&self.special_from_date, false)
                    && in_window(&self.special_to_date, true) =>
            {
                sp
            }
            _ => self.price,
        }
    }
}

const PRODUCT_FIELDS: &[&str] = &[
    "entity_id",
    "id",
    "sku",
    "name",
    "type_id",
    "status",
    "visibility",
    "price",
    "weight",
    "created_at",
    "updated_at",
    "attribute_set_id",
    "category_id",
    "website_id",
    "special_price",
    "special_from_date",
    "special_to_date",
    "upc",
    "walmart_enabled",
];

impl Searchable for Product {
    fn field(&self, name: &str) -> Field<'_> {
        match name {
            "entity_id" | "id" => Field::Num(self.id as f64),
            "sku" => Field::Str(Cow::Borrowed(&self.sku)),
            "name" => Field::Str(Cow::Borrowed(&self.name)),
            "type_id" => Field::Str(Cow::Borrowed(&self.type_id)),
            "status" => Field::Num(self.status as f64),
            "visibility" => Field::Num(self.visibility as f64),
            "price" => Field::Num(self.price),
            "weight" => self.weight.map_or(Field::Missing, Field::Num),
            "created_at" => Field::Time(self.created_at.millis()),
            "updated_at" => Field::Time(self.updated_at.millis()),
            "attribute_set_id" => Field::Num(4.0),
            "category_id" => Field::List(self.category_ids.iter().map(u64::to_string).collect()),
            "website_id" => Field::List(self.website_ids.iter().map(u64::to_string).collect()),
            "special_price" => self.special_price.map_or(Field::Missing, Field::Num),
            "special_from_date" => time_or_missing(self.special_from_date.as_deref()),
            "special_to_date" => time_or_missing(self.special_to_date.as_deref()),
            other => self
                .attributes
                .get(other)
                .map_or(Field::Missing, |v| Field::Str(Cow::Borrowed(v))),
        }
    }

    fn knows(name: &str) -> bool {
        PRODUCT_FIELDS.contains(&name)
    }
}

fn time_or_missing(raw: Option<&str>) -> Field<'_> {
    raw.and_then(crate::search::parse_time)
        .map_or(Field::Missing, Field::Time)
}

/// An MSI source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub source_code: String,
    pub name: String,
    pub enabled: bool,
}

/// An MSI stock: sources in priority order (the order shipments draw from) and the websites it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockDef {
    pub stock_id: u64,
    pub name: String,
    pub sources: Vec<String>,
    pub websites: Vec<String>,
}

/// A source item: one SKU's quantity at one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceItem {
    pub sku: String,
    pub source_code: String,
    pub quantity: f64,
    /// 1 in stock, 0 out of stock.
    pub status: i64,
}

impl Searchable for SourceItem {
    fn field(&self, name: &str) -> Field<'_> {
        match name {
            "sku" => Field::Str(Cow::Borrowed(&self.sku)),
            "source_code" => Field::Str(Cow::Borrowed(&self.source_code)),
            "quantity" => Field::Num(self.quantity),
            "status" => Field::Num(self.status as f64),
            _ => Field::Missing,
        }
    }

    fn knows(name: &str) -> bool {
        matches!(name, "sku" | "source_code" | "quantity" | "status")
    }
}

/// An MSI reservation: negative when an order is placed, compensated (positive) when it ships or is
/// cancelled. Salable quantity = Σ source quantities of the stock + Σ reservations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    pub reservation_id: u64,
    pub stock_id: u64,
    pub sku: String,
    pub quantity: f64,
    /// Magento's JSON metadata: event type and the order it belongs to.
    pub metadata: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: u64,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CartLine {
    pub item_id: u64,
    pub sku: String,
    pub product_id: u64,
    pub name: String,
    pub product_type: String,
    pub qty: f64,
    pub price: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cart {
    pub id: u64,
    pub masked_id: Option<String>,
    pub customer_id: Option<u64>,
    pub store_code: String,
    pub items: Vec<CartLine>,
    pub shipping_address: Option<Value>,
    pub billing_address: Option<Value>,
    /// (carrier code, method code)
    pub shipping: Option<(String, String)>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub item_id: u64,
    pub sku: String,
    pub name: String,
    pub product_id: u64,
    pub product_type: String,
    pub price: f64,
    pub weight: f64,
    pub qty_ordered: f64,
    pub qty_invoiced: f64,
    pub qty_shipped: f64,
    pub qty_canceled: f64,
    pub qty_refunded: f64,
}

impl OrderLine {
    pub fn qty_to_ship(&self) -> f64 {
        (self.qty_ordered - self.qty_shipped - self.qty_canceled).max(0.0)
    }

    pub fn qty_to_invoice(&self) -> f64 {
        (self.qty_ordered - self.qty_invoiced - self.qty_canceled).max(0.0)
    }

    /// Magento's `Item::getQtyToCancel`: what is neither invoiced nor shipped.
    pub fn qty_to_cancel(&self) -> f64 {
        self.qty_to_ship().min(self.qty_to_invoice())
    }

    pub fn qty_to_refund(&self) -> f64 {
        (self.qty_invoiced - self.qty_refunded).max(0.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: u64,
    pub comment: String,
    pub created_at: Timestamp,
    pub status: Option<String>,
    pub is_customer_notified: i64,
    pub is_visible_on_front: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: u64,
    pub increment_id: String,
    pub store_code: String,
    pub state: String,
    /// `None` is the NULL status a comment without `status` leaves behind (issue 34180).
    pub status: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub customer_email: String,
    pub customer_id: Option<u64>,
    pub customer_firstname: String,
    pub customer_lastname: String,
    pub quote_id: u64,
    pub stock_id: u64,
    pub items: Vec<OrderLine>,
    pub shipping_amount: f64,
    pub shipping_invoiced: bool,
    pub shipping_refunded: f64,
    pub shipping_description: String,
    /// `carrier_method`, e.g. `flatrate_flatrate`.
    pub shipping_method: String,
    pub payment_method: String,
    pub po_number: Option<String>,
    pub billing_address: Value,
    pub shipping_address: Value,
    pub histories: Vec<HistoryEntry>,
    pub total_refunded: f64,
}

impl Order {
    pub fn subtotal(&self) -> f64 {
        self.items.iter().map(|i| i.price * i.qty_ordered).sum()
    }

    pub fn grand_total(&self) -> f64 {
        self.subtotal() + self.shipping_amount
    }

    pub fn total_invoiced(&self) -> f64 {
        let items: f64 = self.items.iter().map(|i| i.price * i.qty_invoiced).sum();
        items
            + if self.shipping_invoiced {
                self.shipping_amount
            } else {
                0.0
            }
    }

    pub fn item(&self, item_id: u64) -> Option<&OrderLine> {
        self.items.iter().find(|i| i.item_id == item_id)
    }

    /// Magento's `Order::canCancel`.
    pub fn can_cancel(&self) -> bool {
        if matches!(self.state.as_str(), "canceled" | "complete" | "closed" | "holded") {
            return false;
        }
        self.items.iter().any(|i| i.qty_to_cancel() > 0.0)
    }

    /// The state and status the quantities imply (Magento's order state check after each change).
    pub fn refresh_state(&mut self) {
        let sum = |f: fn(&OrderLine) -> f64| self.items.iter().map(f).sum::<f64>();
        let (ordered, canceled, invoiced, refunded, shipped) = (
            sum(|i| i.qty_ordered),
            sum(|i| i.qty_canceled),
            sum(|i| i.qty_invoiced),
            sum(|i| i.qty_refunded),
            sum(|i| i.qty_shipped),
        );
        let to_ship = sum(OrderLine::qty_to_ship);
        let to_invoice = sum(OrderLine::qty_to_invoice);
        let (state, status) = if canceled >= ordered {
            ("canceled", "canceled")
        } else if invoiced > 0.0 && refunded >= invoiced && to_invoice == 0.0 {
            ("closed", "closed")
        } else if to_ship == 0.0 && to_invoice == 0.0 {
            ("complete", "complete")
        } else if shipped > 0.0 || invoiced > 0.0 || canceled > 0.0 {
            ("processing", "processing")
        } else {
            ("new", "pending")
        };
        self.state = state.to_owned();
        self.status = Some(status.to_owned());
    }
}

const ORDER_FIELDS: &[&str] = &[
    "entity_id",
    "increment_id",
    "state",
    "status",
    "created_at",
    "updated_at",
    "customer_email",
    "customer_id",
    "customer_is_guest",
    "quote_id",
    "store_id",
    "grand_total",
    "customer_firstname",
    "customer_lastname",
];

impl Searchable for Order {
    fn field(&self, name: &str) -> Field<'_> {
        match name {
            "entity_id" => Field::Num(self.id as f64),
            "increment_id" => Field::Str(Cow::Borrowed(&self.increment_id)),
            "state" => Field::Str(Cow::Borrowed(&self.state)),
            "status" => self
                .status
                .as_deref()
                .map_or(Field::Missing, |s| Field::Str(Cow::Borrowed(s))),
            "created_at" => Field::Time(self.created_at.millis()),
            "updated_at" => Field::Time(self.updated_at.millis()),
            "customer_email" => Field::Str(Cow::Borrowed(&self.customer_email)),
            "customer_id" => self
                .customer_id
                .map_or(Field::Missing, |id| Field::Num(id as f64)),
            "customer_is_guest" => Field::Num(if self.customer_id.is_none() { 1.0 } else { 0.0 }),
            "quote_id" => Field::Num(self.quote_id as f64),
            "store_id" => Field::Num(1.0),
            "grand_total" => Field::Num(self.grand_total()),
            "customer_firstname" => Field::Str(Cow::Borrowed(&self.customer_firstname)),
            "customer_lastname" => Field::Str(Cow::Borrowed(&self.customer_lastname)),
            _ => Field::Missing,
        }
    }

    fn knows(name: &str) -> bool {
        ORDER_FIELDS.contains(&name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub id: u64,
    pub order_id: u64,
    /// (order item id, qty)
    pub items: Vec<(u64, f64)>,
    pub grand_total: f64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: u64,
    pub track_number: String,
    pub carrier_code: String,
    pub title: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLine {
    pub entity_id: u64,
    pub order_item_id: u64,
    pub sku: String,
    pub name: String,
    pub product_id: u64,
    pub price: f64,
    pub qty: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shipment {
    pub id: u64,
    pub increment_id: String,
    pub order_id: u64,
    pub items: Vec<DocumentLine>,
    pub tracks: Vec<Track>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Searchable for Shipment {
    fn field(&self, name: &str) -> Field<'_> {
        match name {
            "entity_id" => Field::Num(self.id as f64),
            "increment_id" => Field::Str(Cow::Borrowed(&self.increment_id)),
            "order_id" => Field::Num(self.order_id as f64),
            "created_at" => Field::Time(self.created_at.millis()),
            "updated_at" => Field::Time(self.updated_at.millis()),
            _ => Field::Missing,
        }
    }

    fn knows(name: &str) -> bool {
        matches!(
            name,
            "entity_id" | "increment_id" | "order_id" | "created_at" | "updated_at"
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreditMemo {
    pub id: u64,
    pub increment_id: String,
    pub order_id: u64,
    pub invoice_id: Option<u64>,
    pub items: Vec<DocumentLine>,
    pub subtotal: f64,
    pub shipping_amount: f64,
    pub adjustment_positive: f64,
    pub adjustment_negative: f64,
    pub comments: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CreditMemo {
    pub fn grand_total(&self) -> f64 {
        self.subtotal + self.shipping_amount + self.adjustment_positive - self.adjustment_negative
    }
}

impl Searchable for CreditMemo {
    fn field(&self, name: &str) -> Field<'_> {
        match name {
            "entity_id" => Field::Num(self.id as f64),
            "increment_id" => Field::Str(Cow::Borrowed(&self.increment_id)),
            "order_id" => Field::Num(self.order_id as f64),
            "state" => Field::Num(2.0),
            "grand_total" => Field::Num(self.grand_total()),
            "created_at" => Field::Time(self.created_at.millis()),
            "updated_at" => Field::Time(self.updated_at.millis()),
            _ => Field::Missing,
        }
    }

    fn knows(name: &str) -> bool {
        matches!(
            name,
            "entity_id" | "increment_id" | "order_id" | "state" | "grand_total" | "created_at" | "updated_at"
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RmaItem {
    pub entity_id: u64,
    pub order_item_id: u64,
    pub qty_requested: u64,
    pub qty_authorized: u64,
    pub qty_approved: u64,
    pub qty_returned: u64,
    pub reason: String,
    pub condition: String,
    pub resolution: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RmaComment {
    pub entity_id: u64,
    pub comment: String,
    pub created_at: Timestamp,
    pub status: String,
    pub admin: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rma {
    pub id: u64,
    pub increment_id: String,
    pub order_id: u64,
    pub order_increment_id: String,
    pub customer_id: u64,
    pub customer_custom_email: String,
    pub date_requested: Timestamp,
    pub status: String,
    pub items: Vec<RmaItem>,
    pub comments: Vec<RmaComment>,
}

impl Searchable for Rma {
    fn field(&self, name: &str) -> Field<'_> {
        match name {
            "entity_id" => Field::Num(self.id as f64),
            "increment_id" => Field::Str(Cow::Borrowed(&self.increment_id)),
            "order_id" => Field::Num(self.order_id as f64),
            "order_increment_id" => Field::Str(Cow::Borrowed(&self.order_increment_id)),
            "status" => Field::Str(Cow::Borrowed(&self.status)),
            "date_requested" => Field::Time(self.date_requested.millis()),
            "customer_id" => Field::Num(self.customer_id as f64),
            _ => Field::Missing,
        }
    }

    fn knows(name: &str) -> bool {
        matches!(
            name,
            "entity_id"
                | "increment_id"
                | "order_id"
                | "order_increment_id"
                | "status"
                | "date_requested"
                | "customer_id"
        )
    }
}
