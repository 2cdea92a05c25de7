//! Serde types of the Commerce REST payloads, named after the schema definitions they mirror
//! (`catalog-data-product-interface` → [`Product`], ...). The port speaks the channel's terms:
//! `convert` turns these into `ports::commerce::model`. Only the fields the channel uses are typed;
//! unknown fields are ignored and missing or `null` ones take defaults, because stores add extension
//! attributes freely and Magento prints `null` for unset columns.

#[cfg(test)]
use domain::Timestamp;
use domain::{Money, SpecialPrice, StoreDate, StoreTimeZone};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Lenient field readers: Magento is consistent per route, but stores with plugins are not.
///
/// Numbers in particular: Magento's REST output passes PHP scalars through as they are
/// (`Webapi/ServiceOutputProcessor`), and ids of freshly saved entities, quantities and amounts are
/// often PHP strings, so `"123"` arrives where the schema says integer. Every number of every
/// Commerce wire type is read here, from either form: fields with [`number`], [`opt_number`] and
/// [`numbers`], whole answers with [`Number`].
pub mod lenient {
    use super::*;

    /// `null` → the type's default.
    pub fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// A string, or a number printed as one (ids declared as strings arrive both ways).
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        })
    }

    /// A numeric type Magento may print as a JSON number or as a numeric string.
    pub trait WireNumber: Sized + Default {
        const EXPECTED: &'static str;
        fn from_json(n: &serde_json::Number) -> Option<Self>;
        fn from_text(text: &str) -> Option<Self>;
    }

    macro_rules! wire_number {
        ($($t:ty => $as:ident, $expected:literal;)*) => {$(
            impl WireNumber for $t {
                const EXPECTED: &'static str = $expected;
                fn from_json(n: &serde_json::Number) -> Option<Self> {
                    n.$as().and_then(|v| <$t>::try_from(v).ok())
                }
                fn from_text(text: &str) -> Option<Self> {
                    text.parse().ok()
                }
            }
        )*};
    }
    wire_number! {
        u64 => as_u64, "a non-negative integer or a string holding one";
        u32 => as_u64, "a non-negative integer or a string holding one";
        i64 => as_i64, "an integer or a string holding one";
    }

    impl WireNumber for f64 {
        const EXPECTED: &'static str = "a number or a string holding one";
        fn from_json(n: &serde_json::Number) -> Option<Self> {
            n.as_f64()
        }
        fn from_text(text: &str) -> Option<Self> {
            text.parse::<f64>().ok().filter(|v| v.is_finite())
        }
    }

    /// The one reading of a number: a JSON number or a numeric string (`"12"`, `" 12.5000 "`);
    /// `null` and `""` are `None`; anything else is an error.
    fn read<T: WireNumber>(value: &Value) -> Result<Option<T>, String> {
        let parsed = match value {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::Number(n) => T::from_json(n),
            // `"12.0000"` for an integer column: PHP's decimal columns print trailing zeros.
            Value::String(s) => {
                let text = s.trim();
                T::from_text(text).or_else(|| {
                    let whole = text.strip_suffix('0').map(|_| text.trim_end_matches('0'))?;
                    T::from_text(whole.strip_suffix('.')?)
                })
            }
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| format!("expected {}, found {value}", T::EXPECTED))
    }

    /// A number; `null` (an unset column) reads as 0, like a missing field with `#[serde(default)]`.
    pub fn number<'de, D: Deserializer<'de>, T: WireNumber>(d: D) -> Result<T, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(read(&value)
            .map_err(serde::de::Error::custom)?
            .unwrap_or_default())
    }

    /// An optional number.
    pub fn opt_number<'de, D: Deserializer<'de>, T: WireNumber>(d: D) -> Result<Option<T>, D::Error> {
        let value = Value::deserialize(d)?;
        read(&value).map_err(serde::de::Error::custom)
    }

    /// A list of numbers (`website_ids`, `configurable_product_links`); `null` is empty.
    pub fn numbers<'de, D: Deserializer<'de>, T: WireNumber>(d: D) -> Result<Vec<T>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    read(item)
                        .and_then(|v| v.ok_or_else(|| format!("expected {}, found null", T::EXPECTED)))
                        .map_err(serde::de::Error::custom)
                })
                .collect(),
            other => Err(serde::de::Error::custom(format!(
                "expected a list of numbers, found {other}"
            ))),
        }
    }

    /// A whole answer that is one number: the order id `PUT /V1/carts/{id}/order` returns, an
    /// invoice or credit memo id, a cart id, a salable quantity.
    #[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
    #[serde(transparent)]
    pub struct Number<T: WireNumber>(#[serde(deserialize_with = "number")] pub T);
}

/// `error-response`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// Every `*-search-result(s)-interface`: one page of items and the size of the whole result.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct SearchResults<T> {
    #[serde(default = "Vec::new", deserialize_with = "lenient::or_default")]
    pub items: Vec<T>,
    #[serde(deserialize_with = "lenient::number")]
    pub total_count: u64,
}

/// `framework-attribute-interface`: a custom attribute. Values are strings for most attributes but
/// arrays for multi-value ones (e.g. `category_ids`), so the value is kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomAttribute {
    pub attribute_code: String,
    #[serde(default)]
    pub value: Value,
}

impl CustomAttribute {
    /// The value as text: strings as they are, numbers printed, arrays joined with commas.
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
            Value::Array(list) => Some(
                list.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Value::Null | Value::Object(_) => None,
        }
    }
}

/// `catalog-data-category-link-interface`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryLink {
    #[serde(deserialize_with = "lenient::string")]
    pub category_id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_number"
    )]
    pub position: Option<i64>,
}

/// `catalog-data-product-extension-interface` (the parts the channel reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductExtension {
    #[serde(default, deserialize_with = "lenient::numbers")]
    pub website_ids: Vec<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub category_links: Vec<CategoryLink>,
    /// Entity ids of a configurable product's children.
    #[serde(default, deserialize_with = "lenient::numbers")]
    pub configurable_product_links: Vec<u64>,
}

/// `catalog-data-product-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub id: Option<u64>,
    pub sku: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub attribute_set_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub price: Option<f64>,
    /// 1 enabled, 2 disabled.
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub status: Option<i64>,
    /// 1 not visible individually, 2 catalog, 3 search, 4 catalog and search.
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub visibility: Option<i64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub type_id: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub weight: Option<f64>,
    #[serde(default)]
    pub extension_attributes: Option<ProductExtension>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub custom_attributes: Vec<CustomAttribute>,
}

/// `store-data-store-config-interface`: what the channel reads of a store view's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreConfig {
    #[serde(default, deserialize_with = "lenient::string")]
    pub code: String,
    /// `general/locale/timezone`, an IANA zone name such as `America/Chicago`.
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub timezone: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub base_currency_code: String,
}

/// `inventory-sales-api-data-is-product-salable-result-interface`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsProductSalableResult {
    pub sku: String,
    #[serde(deserialize_with = "lenient::number")]
    pub stock_id: u64,
    pub salable: bool,
}

/// `inventory-api-data-source-item-interface`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceItem {
    pub sku: String,
    pub source_code: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub quantity: f64,
    /// 1 in stock, 0 out of stock.
    #[serde(default, deserialize_with = "lenient::number")]
    pub status: i64,
}

/// `inventory-api-data-stock-interface`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    #[serde(deserialize_with = "lenient::number")]
    pub stock_id: u64,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
}

/// `catalog-inventory-data-stock-item-interface` (legacy CatalogInventory).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StockItem {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub item_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub product_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub stock_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub qty: Option<f64>,
    #[serde(default)]
    pub is_in_stock: bool,
    #[serde(default)]
    pub manage_stock: Option<bool>,
}

/// `quote-data-cart-item-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CartItem {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_number"
    )]
    pub item_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(deserialize_with = "lenient::number")]
    pub qty: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_number"
    )]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub quote_id: String,
}

/// `quote-data-address-interface`: every field the schema requires is always sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CartAddress {
    pub region: String,
    #[serde(deserialize_with = "lenient::number")]
    pub region_id: u64,
    pub region_code: String,
    pub country_id: String,
    pub street: Vec<String>,
    pub telephone: String,
    pub postcode: String,
    pub city: String,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
}

/// `checkout-data-shipping-information-interface`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingInformation {
    pub shipping_address: CartAddress,
    pub billing_address: CartAddress,
    pub shipping_method_code: String,
    pub shipping_carrier_code: String,
}

/// `quote-data-payment-interface`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
}

/// `sales-data-order-item-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub item_id: Option<u64>,
    pub sku: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub product_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub product_type: String,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub parent_item_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub original_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub row_total: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub qty_ordered: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub qty_invoiced: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub qty_shipped: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub qty_canceled: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub qty_refunded: Option<f64>,
}

/// `sales-data-order-payment-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderPayment {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub method: String,
    #[serde(default)]
    pub po_number: Option<String>,
}

/// `sales-data-order-status-history-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusHistory {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub comment: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// `sales-data-order-interface` (the parts the channel reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub increment_id: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub state: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub status: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub customer_email: String,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub customer_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub customer_is_guest: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub quote_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub grand_total: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub subtotal: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub shipping_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub tax_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub total_refunded: Option<f64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub items: Vec<OrderItem>,
    #[serde(default)]
    pub payment: Option<OrderPayment>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub status_histories: Vec<StatusHistory>,
}

impl Order {
    /// The order's items (`subtotal`), shipping and tax, when Commerce rendered them.
    pub fn totals(&self) -> Option<domain::OrderTotals> {
        let money = |amount: Option<f64>| amount.and_then(|a| Money::from_decimal(a).ok());
        Some(domain::OrderTotals {
            items: money(self.subtotal)?,
            shipping: money(self.shipping_amount)?,
            tax: money(self.tax_amount.or(Some(0.0)))?,
        })
    }

    /// The Walmart purchase order id we stored in the payment's `po_number`.
    pub fn po_number(&self) -> Option<&str> {
        self.payment
            .as_ref()?
            .po_number
            .as_deref()
            .filter(|s| !s.is_empty())
    }
}

/// `sales-data-order-status-history-interface` as sent to `POST /V1/orders/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStatusHistory {
    pub comment: String,
    pub is_customer_notified: i64,
    pub is_visible_on_front: i64,
    pub parent_id: u64,
    /// Always the order's current status: without it several 2.4.x releases set the order's status
    /// to NULL and the order drops out of the admin grid (magento/magento2#34180).
    pub status: String,
}

/// `sales-data-shipment-item-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShipmentItem {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub order_item_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub qty: f64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `sales-data-shipment-track-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShipmentTrack {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub track_number: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub title: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub carrier_code: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `sales-data-shipment-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub increment_id: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub order_id: u64,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub items: Vec<ShipmentItem>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub tracks: Vec<ShipmentTrack>,
}

/// `sales-data-creditmemo-item-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreditMemoItem {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub order_item_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub qty: f64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub row_total: Option<f64>,
}

/// `sales-data-creditmemo-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreditMemo {
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub entity_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub increment_id: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub order_id: u64,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub invoice_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub state: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub grand_total: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub subtotal: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_number")]
    pub shipping_amount: Option<f64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub items: Vec<CreditMemoItem>,
}

/// `rma-data-item-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RmaItem {
    #[serde(default, deserialize_with = "lenient::number")]
    pub entity_id: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub rma_entity_id: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub order_item_id: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub qty_requested: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub qty_authorized: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub qty_approved: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub qty_returned: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub reason: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub condition: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub resolution: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
}

/// `rma-data-comment-interface`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RmaComment {
    #[serde(default, deserialize_with = "lenient::string")]
    pub comment: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub rma_entity_id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub created_at: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub entity_id: u64,
    #[serde(default)]
    pub customer_notified: bool,
    #[serde(default)]
    pub visible_on_front: bool,
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(default)]
    pub admin: bool,
}

/// `rma-data-rma-interface`. Every field the schema requires is sent on creation (ids as 0, which
/// Magento treats as "new").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rma {
    #[serde(default, deserialize_with = "lenient::string")]
    pub increment_id: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub entity_id: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub order_id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub order_increment_id: String,
    #[serde(default, deserialize_with = "lenient::number")]
    pub store_id: u64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub customer_id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub date_requested: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub customer_custom_email: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub items: Vec<RmaItem>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub comments: Vec<RmaComment>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub tracks: Vec<Value>,
}

/// `sales-data-invoice-item-creation-interface` / `sales-data-creditmemo-item-creation-interface`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ItemQuantity {
    #[serde(deserialize_with = "lenient::number")]
    pub order_item_id: u64,
    #[serde(deserialize_with = "lenient::number")]
    pub qty: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_nulls_unknown_fields_and_stringly_numbers() {
        let product: Product = serde_json::from_str(
            r#"{"id":"7","sku":"A","name":null,"price":"12.50","type_id":"simple","custom_attributes":null,
                "extension_attributes":{"website_ids":[1],"category_links":[{"category_id":3}],"stock_item":{}},
                "brand_new_field":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(product.id, Some(7));
        assert_eq!(product.price, Some(12.5));
        assert_eq!(product.name, "");
        assert!(product.custom_attributes.is_empty());
        assert_eq!(
            product.extension_attributes.unwrap().category_links[0].category_id,
            "3"
        );
    }

    /// Fact 6 (issue 12): ids, quantities and amounts arrive as JSON numbers or as PHP's numeric
    /// strings, in any field and in whole answers; everything else is refused.
    #[test]
    fn every_number_reads_from_a_number_or_a_numeric_string() {
        let page: SearchResults<SourceItem> = serde_json::from_str(
            r#"{"items":[{"sku":"A","source_code":"default","quantity":"3.0000","status":"1"}],"total_count":"1"}"#,
        )
        .unwrap();
        assert_eq!(page.total_count, 1);
        assert_eq!(page.items[0].quantity, 3.0);
        assert_eq!(page.items[0].status, 1);
        let stock: Stock = serde_json::from_str(r#"{"stock_id":"2","name":"US"}"#).unwrap();
        assert_eq!(stock.stock_id, 2);
        let extension: ProductExtension =
            serde_json::from_str(r#"{"website_ids":["1",2],"configurable_product_links":["11","12"]}"#)
                .unwrap();
        assert_eq!(extension.website_ids, [1, 2]);
        assert_eq!(extension.configurable_product_links, [11, 12]);
        let item: OrderItem =
            serde_json::from_str(r#"{"item_id":"5","sku":"A","qty_ordered":"2.0000","price":12}"#).unwrap();
        assert_eq!(
            (item.item_id, item.qty_ordered, item.price),
            (Some(5), Some(2.0), Some(12.0))
        );
        let rma_item: RmaItem =
            serde_json::from_str(r#"{"order_item_id":"5","qty_requested":"1.0000","qty_authorized":null}"#)
                .unwrap();
        assert_eq!(
            (
                rma_item.order_item_id,
                rma_item.qty_requested,
                rma_item.qty_authorized
            ),
            (5, 1, 0)
        );

        use lenient::Number;
        assert_eq!(
            serde_json::from_str::<Number<u64>>(r#""42""#).unwrap(),
            Number(42)
        );
        assert_eq!(serde_json::from_str::<Number<u64>>("42").unwrap(), Number(42));
        assert_eq!(
            serde_json::from_str::<Number<f64>>(r#""7.5""#).unwrap(),
            Number(7.5)
        );
        assert!(serde_json::from_str::<Number<u64>>(r#""forty-two""#).is_err());
        assert!(serde_json::from_str::<Number<u64>>("-1").is_err());
        assert!(serde_json::from_str::<Stock>(r#"{"stock_id":"x"}"#).is_err());
    }

    #[test]
    fn custom_attribute_values_render_as_text() {
        let list = CustomAttribute {
            attribute_code: "category_ids".into(),
            value: serde_json::json!(["3", "4"]),
        };
        assert_eq!(list.text().as_deref(), Some("3,4"));
        let upc = CustomAttribute {
            attribute_code: "upc".into(),
            value: serde_json::json!("036000291452"),
        };
        assert_eq!(upc.text().as_deref(), Some("036000291452"));
    }
}

/// Magento's `status` of an enabled product.
pub const STATUS_ENABLED: i64 = 1;
/// Magento's `status` of a disabled product.
pub const STATUS_DISABLED: i64 = 2;
/// A source item's `status` when in stock.
pub const SOURCE_IN_STOCK: i64 = 1;

impl Product {
    /// A custom attribute's value as text.
    pub fn attribute(&self, code: &str) -> Option<String> {
        self.custom_attributes
            .iter()
            .find(|a| a.attribute_code == code)
            .and_then(|a| a.text())
            .filter(|v| !v.is_empty())
    }

    pub fn is_enabled(&self) -> bool {
        self.status == Some(STATUS_ENABLED)
    }

    pub fn is_configurable(&self) -> bool {
        self.type_id == "configurable"
    }

    pub fn price_money(&self) -> Option<Money> {
        self.price.and_then(|p| Money::from_decimal(p).ok())
    }

    /// `special_price` with its `special_from_date` / `special_to_date` days as the store wrote them.
    pub fn special_price_days(&self) -> Option<(Money, Option<StoreDate>, Option<StoreDate>)> {
        let price = self
            .attribute("special_price")?
            .parse::<f64>()
            .ok()
            .and_then(|p| Money::from_decimal(p).ok())?;
        let day = |code: &str| {
            self.attribute(code)
                .as_deref()
                .and_then(|raw| StoreDate::parse(raw).ok())
        };
        Some((price, day("special_from_date"), day("special_to_date")))
    }

    /// The special price with its window: whole days in the store's time zone, from the start of
    /// the first to the end of the last.
    pub fn special_price(&self, zone: &StoreTimeZone) -> Option<SpecialPrice> {
        let (price, from, to) = self.special_price_days()?;
        Some(SpecialPrice::on_store_days(price, from, to, zone))
    }

    /// Entity ids of a configurable product's children (from the extension attributes).
    pub fn child_ids(&self) -> &[u64] {
        self.extension_attributes
            .as_ref()
            .map_or(&[], |e| e.configurable_product_links.as_slice())
    }

    pub fn category_ids(&self) -> Vec<String> {
        let from_links: Vec<String> = self
            .extension_attributes
            .as_ref()
            .map(|e| e.category_links.iter().map(|l| l.category_id.clone()).collect())
            .unwrap_or_default();
        if !from_links.is_empty() {
            return from_links;
        }
        self.attribute("category_ids")
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod product_tests {
    use super::*;

    fn attr(code: &str, value: &str) -> CustomAttribute {
        CustomAttribute {
            attribute_code: code.into(),
            value: serde_json::json!(value),
        }
    }

    #[test]
    fn special_price_window() {
        let product = Product {
            id: Some(5),
            sku: "MUG-1".into(),
            name: "Mug".into(),
            price: Some(12.0),
            status: Some(1),
            updated_at: Some("2026-01-02 03:04:05".into()),
            custom_attributes: vec![
                attr("special_price", "9.99"),
                attr("special_from_date", "2026-01-01 00:00:00"),
                attr("special_to_date", "2026-01-31"),
                attr("upc", "036000291452"),
            ],
            ..Product::default()
        };
        let utc = StoreTimeZone::utc();
        let sp = product.special_price(&utc).unwrap();
        assert_eq!(sp.price, Money::from_cents(999));
        assert_eq!(sp.from, Timestamp::parse_commerce("2026-01-01 00:00:00").ok());
        assert_eq!(
            sp.to,
            Timestamp::parse_commerce("2026-01-31 23:59:59")
                .ok()
                .map(|t| t.plus(std::time::Duration::from_millis(999)))
        );
        let chicago = StoreTimeZone::named("America/Chicago").unwrap();
        let sp = product.special_price(&chicago).unwrap();
        assert_eq!(sp.from, Timestamp::parse_commerce("2026-01-01 06:00:00").ok());
        assert_eq!(product.attribute("upc").as_deref(), Some("036000291452"));
        assert_eq!(product.price_money(), Some(Money::from_cents(1200)));
        assert!(product.is_enabled());
    }
}
