//! Walmart's JSON shapes, named after the schemas in Walmart's OpenAPI specs.
//!
//! Only the fields the channel uses are modelled, plus what the spec marks required when we send
//! them. Unknown fields are ignored on the way in, so Walmart adding fields never breaks a read.
//!
//! Every response is read through [`decode`]: Walmart sends `null` for optional fields it has no
//! value for (`"ingestionErrors": {"ingestionError": null}` on a processed feed), which `decode`
//! reads exactly as an absent field, for every type here at once.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Reads a Walmart response body as `T`, with every `null` object member treated as absent (so
/// `#[serde(default)]` applies to it). A `null` where `T` requires a value is still an error.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value: Value = serde_json::from_slice(body)?;
    decode_value(value)
}

/// [`decode`] for a body already parsed.
pub fn decode_value<T: DeserializeOwned>(mut value: Value) -> Result<T, serde_json::Error> {
    drop_nulls(&mut value);
    serde_json::from_value(value)
}

/// Removes every `null` object member, at any depth.
pub fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, member| !member.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A list of records (orders, items, feed item details, returns) decoded one record at a time: a
/// record that does not fit `T` is kept as [`Unreadable`], so one bad record never fails its page.
#[derive(Debug, Clone, PartialEq)]
pub struct Records<T>(pub Vec<Result<T, Unreadable>>);

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Records<T> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The records that decoded.
    pub fn parsed(&self) -> impl Iterator<Item = &T> {
        self.0.iter().filter_map(|r| r.as_ref().ok())
    }
}

/// A record of a list that did not decode: where it was, its id if it has a readable one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub index: usize,
    pub id: Option<String>,
    pub error: String,
}

/// The member that identifies a record of a list, for reports about a record that did not decode.
pub trait RecordId {
    const ID: &'static str;
}

impl<'de, T: DeserializeOwned + RecordId> Deserialize<'de> for Records<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<Value>::deserialize(deserializer)?;
        Ok(Records(
            values
                .into_iter()
                .enumerate()
                .map(|(index, value)| {
                    let id = match value.get(T::ID) {
                        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
                        Some(Value::Number(id)) => Some(id.to_string()),
                        _ => None,
                    };
                    serde_json::from_value(value).map_err(|e| Unreadable {
                        index,
                        id,
                        error: e.to_string(),
                    })
                })
                .collect(),
        ))
    }
}

impl<T: Serialize> Serialize for Records<T> {
    /// The records that decoded (a record that did not is not Walmart's to get back).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.parsed())
    }
}

impl<T> From<Vec<T>> for Records<T> {
    fn from(records: Vec<T>) -> Self {
        Records(records.into_iter().map(Ok).collect())
    }
}

/// `POST /v3/token` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
}

// ---------------------------------------------------------------- items

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnpublishedReasons {
    #[serde(default)]
    pub reason: Vec<String>,
}

/// `ItemResponse` of the items spec: one seller item.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mart: Option<String>,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<ItemPrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpublished_reasons: Option<UnpublishedReasons>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_status: Option<String>,
}

/// `GET /v3/items` response (and, in Walmart's published example, `GET /v3/items/{id}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResponses {
    #[serde(rename = "ItemResponse", default)]
    pub item_response: Records<ItemResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_items: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /v3/items/{id}` response: the spec's schema wraps the item in `responseRecord`, its example
/// (and production) sends an `ItemResponse` array. Both are read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetItemResponse {
    #[serde(rename = "ItemResponse", default, skip_serializing_if = "Vec::is_empty")]
    pub item_response: Vec<ItemResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_record: Option<ItemResponse>,
}

/// `GET /v3/items/walmart/search` price: amounts arrive as strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchPrice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_market_place_item: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<SearchPrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
}

/// `GET /v3/items/walmart/search` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchResponse {
    #[serde(default)]
    pub items: Records<SearchItem>,
}

// ---------------------------------------------------------------- feeds

/// `POST /v3/feeds` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestionError {
    /// `DATA_ERROR`, `SYSTEM_ERROR` or `TIMEOUT_ERROR`.
    #[serde(rename = "type")]
    pub kind: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestionErrors {
    #[serde(default)]
    pub ingestion_error: Vec<IngestionError>,
}

/// `ItemIngestionStatus`: one item's outcome in a feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemIngestionStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    pub ingestion_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingestion_errors: Option<IngestionErrors>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDetails {
    #[serde(default)]
    pub item_ingestion_status: Records<ItemIngestionStatus>,
}

/// `PartnerFeedResponse`: `GET /v3/feeds/{feedId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerFeedResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingestion_errors: Option<IngestionErrors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_received: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_succeeded: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_failed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_processing: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_details: Option<ItemDetails>,
}

// ---------------------------------------------------------------- inventory and price

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryQuantity {
    /// Always `EACH`.
    pub unit: String,
    /// A number in the spec, whole units in its examples: sent as an integer (`10`, never `10.0`).
    pub amount: serde_json::Number,
}

/// `Inventory`: body of `PUT /v3/inventory` and response of `GET`/`PUT /v3/inventory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub sku: String,
    pub quantity: InventoryQuantity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceAmount {
    pub currency: String,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// `BASE`, `REDUCED` or `CLEARANCE`.
    pub current_price_type: String,
    pub current_price: PriceAmount,
}

/// `Price`: body of `PUT /v3/price`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub sku: String,
    pub pricing: Vec<Pricing>,
}

/// `ItemPriceResponse`: response of `PUT /v3/price`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPriceResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
}

// ---------------------------------------------------------------- orders

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrencyAmount {
    /// Optional in the order list schema (a tax's amount); required when the client sends it.
    #[serde(default)]
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tax {
    pub tax_name: String,
    pub tax_amount: CurrencyAmount,
}

/// `ChargeType`: a line's product or shipping charge with its tax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    /// `PRODUCT` or `SHIPPING`.
    pub charge_type: String,
    pub charge_name: String,
    pub charge_amount: CurrencyAmount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Tax>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Charges {
    #[serde(default)]
    pub charge: Vec<Charge>,
}

/// Walmart sends quantities as strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity {
    pub unit_of_measurement: String,
    pub amount: String,
}

impl Quantity {
    pub fn each(amount: u32) -> Self {
        Self {
            unit_of_measurement: "EACH".to_owned(),
            amount: amount.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CarrierName {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingInfo {
    /// Epoch milliseconds, UTC.
    pub ship_date_time: i64,
    pub carrier_name: CarrierName,
    pub method_code: String,
    pub tracking_number: String,
    #[serde(rename = "trackingURL", default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineStatus {
    pub status: String,
    pub status_quantity: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_info: Option<TrackingInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineStatuses {
    #[serde(default)]
    pub order_line_status: Vec<OrderLineStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub product_name: String,
    pub sku: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub line_number: String,
    pub item: LineItem,
    #[serde(default)]
    pub charges: Charges,
    pub order_line_quantity: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_date: Option<i64>,
    #[serde(default)]
    pub order_line_statuses: OrderLineStatuses,
    /// The customer asked to cancel the line (a string in the spec, e.g. "Y").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_to_cancel: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLines {
    #[serde(default)]
    pub order_line: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    pub name: String,
    pub address1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery_date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_ship_date: Option<i64>,
    pub method_code: String,
    pub postal_address: PostalAddress,
}

/// `orderDate`: epoch milliseconds in order lists, an RFC 3339 string in the single-order schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrderDate {
    Millis(i64),
    Text(String),
}

/// `Order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub purchase_order_id: String,
    pub customer_order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email_id: Option<String>,
    pub order_date: OrderDate,
    pub shipping_info: ShippingInfo,
    #[serde(default)]
    pub order_lines: OrderLines,
}

/// `{ "order": Order }`: acknowledge, shipping, cancel and refund responses (the spec does not
/// require `order`; the client reports its absence as malformed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderEnvelope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrdersElements {
    #[serde(default)]
    pub order: Records<Order>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrdersList {
    #[serde(default)]
    pub meta: OrdersMeta,
    #[serde(default)]
    pub elements: OrdersElements,
}

/// `GET /v3/orders` and `GET /v3/orders/released` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrdersListResponse {
    #[serde(default)]
    pub list: OrdersList,
}

// Order line updates (requests).

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipLineStatus {
    pub status: String,
    pub status_quantity: Quantity,
    pub tracking_info: TrackingInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipLineStatuses {
    pub order_line_status: Vec<ShipLineStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipLine {
    pub line_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_to_cancel_override: Option<bool>,
    pub seller_order_id: String,
    pub order_line_statuses: ShipLineStatuses,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipLines {
    pub order_line: Vec<ShipLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderShipment {
    pub order_lines: ShipLines,
}

/// `POST /v3/orders/{purchaseOrderId}/shipping` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingUpdate {
    pub order_shipment: OrderShipment,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLineStatus {
    pub status: String,
    pub cancellation_reason: String,
    pub status_quantity: Quantity,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLineStatuses {
    pub order_line_status: Vec<CancelLineStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLine {
    pub line_number: String,
    pub order_line_statuses: CancelLineStatuses,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLines {
    pub order_line: Vec<CancelLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancellation {
    pub order_lines: CancelLines,
}

/// `POST /v3/orders/{purchaseOrderId}/cancel` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub order_cancellation: OrderCancellation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundCharge {
    pub refund_reason: String,
    pub charge: Charge,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundCharges {
    pub refund_charge: Vec<RefundCharge>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_comments: Option<String>,
    pub refund_charges: RefundCharges,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refunds {
    pub refund: Vec<Refund>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLine {
    pub line_number: String,
    pub refunds: Refunds,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLines {
    pub order_line: Vec<RefundLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRefund {
    pub purchase_order_id: String,
    pub order_lines: RefundLines,
}

/// `POST /v3/orders/{purchaseOrderId}/refund` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    pub order_refund: OrderRefund,
}

// ---------------------------------------------------------------- returns

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnAmount {
    pub currency_amount: f64,
    pub currency_unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnQuantity {
    pub unit_of_measure: String,
    pub measurement_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeTotal {
    pub name: String,
    pub value: ReturnAmount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnOrderLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_order_line_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order_line_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ReturnItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<ReturnAmount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charge_totals: Vec<ChargeTotal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<ReturnQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_refund_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_qty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_tracking_detail: Vec<ReturnTrackingDetail>,
}

/// One event of a return line's journey (`returnTrackingDetail`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnTrackingDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_order_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_refund_amount: Option<ReturnAmount>,
    #[serde(default)]
    pub return_order_lines: Vec<ReturnOrderLine>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnsMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /v3/returns` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnsResponse {
    #[serde(default)]
    pub meta: ReturnsMeta,
    #[serde(default)]
    pub return_orders: Records<ReturnOrder>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLineNumber {
    pub return_order_line_number: i64,
}

/// `POST /v3/returns/{returnOrderId}/refund` body (and response).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRefundRequest {
    pub customer_order_id: String,
    pub refund_lines: Vec<RefundLineNumber>,
}

/// `GET /v3/feeds`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<FeedListResults>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedListResults {
    #[serde(default)]
    pub feed: Records<FeedListEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedListEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_received: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_date: Option<i64>,
}

impl RecordId for ItemResponse {
    const ID: &'static str = "sku";
}

impl RecordId for SearchItem {
    const ID: &'static str = "itemId";
}

impl RecordId for ItemIngestionStatus {
    const ID: &'static str = "sku";
}

impl RecordId for Order {
    const ID: &'static str = "purchaseOrderId";
}

impl RecordId for ReturnOrder {
    const ID: &'static str = "returnOrderId";
}

impl RecordId for FeedListEntry {
    const ID: &'static str = "feedId";
}
