//! What the Commerce port hands out, in the channel's terms: typed ids, whole unit counts, money,
//! timestamps, and enums for Magento's codes (an unknown code kept as `Other`). Magento's own
//! payloads (decimal quantities, numeric strings, `null` columns) stay in `commerce-client`'s
//! `wire` module; its `convert` module turns them into these types, refusing values these types
//! cannot represent.

use std::collections::BTreeMap;
use std::fmt;

use domain::{
    CommerceOrderId, CommerceProductId, CommerceShipmentId, CreditMemoId, IncrementId, Money, OrderTotals,
    ProductSnapshot, RmaId, Sku, SpecialPrice, StoreDate, StoreTimeZone, Timestamp,
};

pub use domain::CommerceOrderItem as OrderItem;

/// Magento's order state (`sales_order.state`): a fixed set; a state of an extension is `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderState {
    New,
    PendingPayment,
    Processing,
    Complete,
    Closed,
    Canceled,
    Holded,
    PaymentReview,
    Other(String),
}

impl OrderState {
    pub fn from_code(code: &str) -> Self {
        match code {
            "new" => Self::New,
            "pending_payment" => Self::PendingPayment,
            "processing" => Self::Processing,
            "complete" => Self::Complete,
            "closed" => Self::Closed,
            "canceled" => Self::Canceled,
            "holded" => Self::Holded,
            "payment_review" => Self::PaymentReview,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Magento's code of the state.
    pub fn code(&self) -> &str {
        match self {
            Self::New => "new",
            Self::PendingPayment => "pending_payment",
            Self::Processing => "processing",
            Self::Complete => "complete",
            Self::Closed => "closed",
            Self::Canceled => "canceled",
            Self::Holded => "holded",
            Self::PaymentReview => "payment_review",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One comment of an order's history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusHistory {
    pub comment: String,
    pub created_at: Option<Timestamp>,
}

/// A Commerce sales order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub entity_id: CommerceOrderId,
    pub increment_id: IncrementId,
    pub state: OrderState,
    /// The order's status: a label each store defines for itself (`pending`, `processing`, or its
    /// own), so it stays text.
    pub status: String,
    pub updated_at: Option<Timestamp>,
    pub items: Vec<OrderItem>,
    /// The payment's `po_number`: the Walmart purchase order the channel placed the order for.
    pub po_number: Option<String>,
    /// The items, shipping and tax totals, when Commerce rendered them.
    pub totals: Option<OrderTotals>,
    pub status_histories: Vec<StatusHistory>,
}

impl Order {
    /// The Walmart purchase order id the order was placed for (its payment's `po_number`).
    pub fn po_number(&self) -> Option<&str> {
        self.po_number.as_deref()
    }
}

/// Units of one order item in a shipment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipmentItem {
    pub order_item_id: Option<u64>,
    pub qty: u32,
    /// `None` when the item's SKU is not one the channel can carry.
    pub sku: Option<Sku>,
}

/// A tracking number of a shipment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipmentTrack {
    pub track_number: String,
    pub title: String,
    pub carrier_code: String,
    pub created_at: Option<Timestamp>,
}

/// A Commerce shipment with its items and tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub entity_id: CommerceShipmentId,
    pub order_id: CommerceOrderId,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub items: Vec<ShipmentItem>,
    pub tracks: Vec<ShipmentTrack>,
}

/// Units of one order item refunded by a credit memo.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditMemoItem {
    pub order_item_id: Option<u64>,
    pub qty: u32,
    /// `None` when the item's SKU is not one the channel can carry.
    pub sku: Option<Sku>,
    /// What one unit was refunded at: the item's price, or its row total over its units.
    pub unit_price: Option<Money>,
}

/// A Commerce credit memo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditMemo {
    pub entity_id: CreditMemoId,
    pub order_id: CommerceOrderId,
    pub updated_at: Option<Timestamp>,
    pub items: Vec<CreditMemoItem>,
}

/// A comment of an RMA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RmaComment {
    pub comment: String,
}

/// An Adobe Commerce RMA (return), with its comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rma {
    pub entity_id: RmaId,
    pub order_id: CommerceOrderId,
    pub comments: Vec<RmaComment>,
}

/// Units of one order item to invoice or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemQuantity {
    pub order_item_id: u64,
    pub qty: u32,
}

/// A catalog product's status (`1` enabled, `2` disabled; another value is `Other`, and is not
/// enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    Enabled,
    Disabled,
    Other(i64),
}

/// A catalog product's type (`type_id`); the channel tells configurable products from the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductType {
    Simple,
    Configurable,
    Other(String),
}

/// A special price with its window as the store writes it: whole days in the store's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialPriceDays {
    pub price: Money,
    pub from: Option<StoreDate>,
    pub to: Option<StoreDate>,
}

/// A Commerce catalog product.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: Option<CommerceProductId>,
    /// As Commerce has it: operations report SKUs the channel cannot carry by name.
    pub sku: String,
    pub name: String,
    pub status: ProductStatus,
    pub product_type: ProductType,
    pub price: Option<Money>,
    pub weight_lb: Option<f64>,
    pub special_price: Option<SpecialPriceDays>,
    pub updated_at: Option<Timestamp>,
    /// The websites the product is assigned to; empty when Commerce did not say.
    pub website_ids: Vec<u64>,
    /// Custom attributes with a value, as text (lists joined with commas).
    pub attributes: BTreeMap<String, String>,
}

impl Product {
    /// A custom attribute's value as text.
    pub fn attribute(&self, code: &str) -> Option<&str> {
        self.attributes.get(code).map(String::as_str)
    }

    pub fn is_enabled(&self) -> bool {
        self.status == ProductStatus::Enabled
    }

    pub fn is_configurable(&self) -> bool {
        self.product_type == ProductType::Configurable
    }

    /// Whether the product is sold on the website (taken as yes when Commerce did not list its
    /// websites).
    pub fn in_website(&self, website_id: u64) -> bool {
        self.website_ids.is_empty() || self.website_ids.contains(&website_id)
    }

    /// The special price with its window resolved in the store's time zone: from the start of the
    /// first day to the end of the last.
    pub fn special_price(&self, zone: &StoreTimeZone) -> Option<SpecialPrice> {
        self.special_price
            .map(|days| SpecialPrice::on_store_days(days.price, days.from, days.to, zone))
    }

    /// What the channel keeps of the product at import. `gtin_attribute` is the channel's configured
    /// UPC/GTIN attribute code; `zone` the store's time zone (special price dates).
    pub fn to_snapshot(&self, gtin_attribute: &str, zone: &StoreTimeZone) -> ProductSnapshot {
        ProductSnapshot {
            product_id: self.id.unwrap_or(CommerceProductId(0)),
            name: self.name.clone(),
            raw_identifier: self.attribute(gtin_attribute).map(str::to_owned),
            price: self.price,
            weight_lb: self.weight_lb,
            special_price: self.special_price(zone),
            enabled: self.is_enabled(),
            updated_at: self.updated_at.unwrap_or(Timestamp::EPOCH),
        }
    }
}

/// One MSI source item: a SKU's stock at one source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceItem {
    pub sku: String,
    pub source_code: String,
    /// Decimal: a store may sell products by weight or length.
    pub quantity: f64,
    pub in_stock: bool,
}

/// An MSI stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    pub stock_id: u64,
    pub name: String,
}

/// A SKU's legacy (non-MSI) stock item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockItem {
    pub qty: Option<f64>,
    pub is_in_stock: bool,
}

impl StockItem {
    /// What can be sold of it: its quantity when in stock, nothing when out of stock.
    pub fn salable(&self) -> f64 {
        if self.is_in_stock {
            self.qty.unwrap_or(0.0)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_states_read_back_and_keep_unknown_codes() {
        for code in [
            "new",
            "processing",
            "complete",
            "closed",
            "canceled",
            "holded",
            "payment_review",
        ] {
            assert_eq!(OrderState::from_code(code).code(), code);
        }
        assert_eq!(OrderState::from_code("canceled"), OrderState::Canceled);
        assert_eq!(
            OrderState::from_code("fulfilled_elsewhere"),
            OrderState::Other("fulfilled_elsewhere".into())
        );
    }

    fn product() -> Product {
        Product {
            id: Some(CommerceProductId(5)),
            sku: "MUG-1".into(),
            name: "Mug".into(),
            status: ProductStatus::Disabled,
            product_type: ProductType::Simple,
            price: Some(Money::from_cents(1200)),
            weight_lb: Some(1.5),
            special_price: Some(SpecialPriceDays {
                price: Money::from_cents(999),
                from: StoreDate::parse("2026-01-01").ok(),
                to: None,
            }),
            updated_at: Timestamp::parse_commerce("2026-01-02 03:04:05").ok(),
            website_ids: Vec::new(),
            attributes: BTreeMap::from([("upc".to_owned(), "036000291452".to_owned())]),
        }
    }

    #[test]
    fn a_snapshot_keeps_what_the_channel_needs_of_a_product() {
        let chicago = StoreTimeZone::named("America/Chicago").unwrap();
        let snapshot = product().to_snapshot("upc", &chicago);
        assert_eq!(snapshot.product_id, CommerceProductId(5));
        assert_eq!(snapshot.raw_identifier.as_deref(), Some("036000291452"));
        assert!(!snapshot.enabled, "a disabled product is kept as disabled");
        assert_eq!(snapshot.weight_lb, Some(1.5));
        let special = snapshot.special_price.unwrap();
        assert_eq!(special.price, Money::from_cents(999));
        assert_eq!(
            special.from,
            Timestamp::parse_commerce("2026-01-01 06:00:00").ok()
        );
        assert_eq!(product().to_snapshot("gtin", &chicago).raw_identifier, None);
    }

    #[test]
    fn a_product_without_listed_websites_is_taken_as_in_every_website() {
        let mut product = product();
        assert!(product.in_website(1));
        product.website_ids = vec![2];
        assert!(!product.in_website(1) && product.in_website(2));
    }

    #[test]
    fn a_legacy_stock_item_out_of_stock_sells_nothing() {
        let item = StockItem {
            qty: Some(4.0),
            is_in_stock: false,
        };
        assert_eq!(item.salable(), 0.0);
        assert_eq!(
            StockItem {
                is_in_stock: true,
                ..item
            }
            .salable(),
            4.0
        );
    }
}
