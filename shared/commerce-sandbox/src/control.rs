//! The control API under `/_sandbox/`: the merchant's actions (catalog, stock, prices, shipping,
//! cancelling, returns, refunds, tokens) and inspection for tests. Documented in the crate README.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{Shared, lock};
use crate::error::ApiError;
use crate::model::Customer;
use crate::render;
use crate::store::{CatalogSpec, ProductSeed, RefundInput, ShipLine, TrackInput};

pub fn routes(shared: Shared) -> Router {
    Router::new()
        .route("/_sandbox/products", post(seed_products))
        .route("/_sandbox/products/generate", post(generate_products))
        .route("/_sandbox/products/{sku}", get(product))
        .route("/_sandbox/products/{sku}/price", put(set_price))
        .route("/_sandbox/stock", put(set_stock))
        .route("/_sandbox/salable/{sku}", get(salable))
        .route("/_sandbox/reservations", get(reservations))
        .route("/_sandbox/customers", post(add_customer))
        .route("/_sandbox/orders", get(list_orders))
        .route("/_sandbox/orders/{id}", get(get_order))
        .route("/_sandbox/orders/{id}/ship", post(ship_order))
        .route("/_sandbox/orders/{id}/cancel", post(cancel_order))
        .route("/_sandbox/orders/{id}/invoice", post(invoice_order))
        .route("/_sandbox/orders/{id}/refund", post(refund_order))
        .route("/_sandbox/shipments", get(list_shipments))
        .route("/_sandbox/shipments/{id}/tracks", post(add_track))
        .route("/_sandbox/creditmemos", get(list_credit_memos))
        .route("/_sandbox/returns", get(list_returns))
        .route("/_sandbox/returns/{id}/status", post(set_return_status))
        .route(
            "/_sandbox/orders/lose-next-placement-answers",
            post(lose_placement_answers),
        )
        .route("/_sandbox/throttle", post(set_throttle))
        .route(
            "/_sandbox/store-config",
            get(store_config).post(change_store_config),
        )
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/tokens/restore", post(restore_tokens))
        .route("/_sandbox/stats", get(stats).delete(clear_stats))
        .with_state(shared)
}

type Answer = Result<Json<Value>, ApiError>;

async fn seed_products(State(shared): State<Shared>, Json(seeds): Json<Vec<ProductSeed>>) -> Answer {
    let (created, updated) = lock(&shared).upsert_products(seeds)?;
    Ok(Json(json!({ "created": created, "updated": updated })))
}

async fn generate_products(State(shared): State<Shared>, Json(spec): Json<CatalogSpec>) -> Answer {
    let created = lock(&shared).generate_catalog(&spec)?;
    Ok(Json(json!({ "created": created })))
}

/// Price change: any of the fields; a negative `special_price` removes the special price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceChange {
    pub price: Option<f64>,
    pub special_price: Option<f64>,
    pub special_from_date: Option<String>,
    pub special_to_date: Option<String>,
}

async fn set_price(
    State(shared): State<Shared>,
    Path(sku): Path<String>,
    Json(change): Json<PriceChange>,
) -> Answer {
    lock(&shared).set_price(
        &sku,
        change.price,
        change.special_price,
        change.special_from_date,
        change.special_to_date,
    )?;
    Ok(Json(json!({ "sku": sku })))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockChange {
    pub sku: String,
    pub source_code: String,
    pub quantity: f64,
    #[serde(default)]
    pub status: Option<i64>,
}

async fn set_stock(State(shared): State<Shared>, Json(changes): Json<Vec<StockChange>>) -> Answer {
    let mut store = lock(&shared);
    for c in &changes {
        store.set_source_item(&c.sku, &c.source_code, c.quantity, c.status)?;
    }
    Ok(Json(json!({ "updated": changes.len() })))
}

#[derive(Debug, Deserialize)]
struct StockQuery {
    stock_id: Option<u64>,
}

/// The product as `GET /V1/products/{sku}` renders it, without the API's token or faults.
async fn product(State(shared): State<Shared>, Path(sku): Path<String>) -> Answer {
    let store = lock(&shared);
    let product = store.product_by_sku(&sku)?;
    Ok(Json(render::product(&store, product)))
}

async fn salable(
    State(shared): State<Shared>,
    Path(sku): Path<String>,
    Query(q): Query<StockQuery>,
) -> Answer {
    let store = lock(&shared);
    store.product_by_sku(&sku)?;
    let stock_id = q.stock_id.unwrap_or(1);
    Ok(Json(json!({
        "sku": sku, "stock_id": stock_id, "source_quantity": store.source_quantity(&sku, stock_id),
        "salable_quantity": store.salable_quantity(&sku, stock_id),
    })))
}

async fn reservations(State(shared): State<Shared>) -> Json<Value> {
    Json(json!(lock(&shared).reservations))
}

async fn add_customer(State(shared): State<Shared>, Json(customer): Json<Customer>) -> Json<Value> {
    let mut store = lock(&shared);
    store.customers.insert(customer.id, customer.clone());
    Json(json!(customer))
}

/// The admin's order grid: an order whose status is NULL is not in it (issue 34180).
async fn list_orders(State(shared): State<Shared>) -> Json<Value> {
    let store = lock(&shared);
    Json(Value::Array(
        store
            .orders
            .values()
            .filter(|o| o.status.is_some())
            .map(render::order)
            .collect(),
    ))
}

async fn get_order(State(shared): State<Shared>, Path(id): Path<u64>) -> Answer {
    Ok(Json(render::order(lock(&shared).order(id)?)))
}

/// A merchant's shipment: whole order when `items` is empty; `invoice` invoices the order first
/// (as merchants commonly do at ship time).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShipRequest {
    pub items: Vec<ShipLine>,
    pub tracks: Vec<TrackInput>,
    pub invoice: bool,
}

async fn ship_order(
    State(shared): State<Shared>,
    Path(id): Path<u64>,
    Json(req): Json<ShipRequest>,
) -> Answer {
    let mut store = lock(&shared);
    if req.invoice && store.order(id)?.items.iter().any(|i| i.qty_to_invoice() > 0.0) {
        store.invoice(id, &[])?;
    }
    let shipment_id = store.ship(id, &req.items, &req.tracks)?;
    let shipment = store
        .shipments
        .get(&shipment_id)
        .ok_or_else(ApiError::entity_not_found)?;
    Ok(Json(render::shipment(shipment, store.orders.get(&id))))
}

async fn cancel_order(State(shared): State<Shared>, Path(id): Path<u64>) -> Answer {
    Ok(Json(json!({ "canceled": lock(&shared).cancel(id)? })))
}

async fn invoice_order(State(shared): State<Shared>, Path(id): Path<u64>) -> Answer {
    Ok(Json(json!({ "invoice_id": lock(&shared).invoice(id, &[])? })))
}

/// An offline refund by the merchant: SKU quantities (all invoiced when empty); uninvoiced
/// quantities are invoiced first, as a merchant must before a credit memo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefundRequest {
    pub items: Vec<ShipLine>,
    pub shipping_amount: Option<f64>,
    pub adjustment_positive: f64,
    pub adjustment_negative: f64,
    pub return_to_stock: bool,
    pub comment: Option<String>,
}

async fn refund_order(
    State(shared): State<Shared>,
    Path(id): Path<u64>,
    Json(req): Json<RefundRequest>,
) -> Answer {
    let mut store = lock(&shared);
    let order = store.order(id)?.clone();
    let items: Vec<(u64, f64)> = req
        .items
        .iter()
        .map(|l| {
            order
                .items
                .iter()
                .find(|i| Some(i.item_id) == l.order_item_id || l.sku.as_deref() == Some(i.sku.as_str()))
                .map(|i| (i.item_id, l.qty))
                .ok_or_else(|| ApiError::bad_request("The order does not contain some of the items."))
        })
        .collect::<Result<_, _>>()?;
    let uninvoiced: Vec<(u64, f64)> = if items.is_empty() {
        order
            .items
            .iter()
            .filter(|i| i.qty_to_invoice() > 0.0)
            .map(|i| (i.item_id, i.qty_to_invoice()))
            .collect()
    } else {
        items
            .iter()
            .filter_map(|(id, qty)| {
                let line = order.item(*id)?;
                let missing = qty - line.qty_to_refund();
                (missing > 0.0).then_some((*id, missing.min(line.qty_to_invoice())))
            })
            .collect()
    };
    if !uninvoiced.is_empty() {
        store.invoice(id, &uninvoiced)?;
    }
    let restock: Vec<u64> = if req.return_to_stock {
        items.iter().map(|(i, _)| *i).collect()
    } else {
        Vec::new()
    };
    let memo_id = store.refund(
        id,
        RefundInput {
            items,
            shipping_amount: req.shipping_amount,
            adjustment_positive: req.adjustment_positive,
            adjustment_negative: req.adjustment_negative,
            return_to_stock: restock,
            comment: req.comment,
        },
    )?;
    let memo = store
        .credit_memos
        .get(&memo_id)
        .ok_or_else(ApiError::entity_not_found)?;
    Ok(Json(render::credit_memo(memo)))
}

async fn list_shipments(State(shared): State<Shared>) -> Json<Value> {
    let store = lock(&shared);
    Json(Value::Array(
        store
            .shipments
            .values()
            .map(|s| render::shipment(s, store.orders.get(&s.order_id)))
            .collect(),
    ))
}

/// Tracking added to a shipment after it was created (the shipment's `updated_at` does not move).
async fn add_track(
    State(shared): State<Shared>,
    Path(id): Path<u64>,
    Json(track): Json<TrackInput>,
) -> Answer {
    let track_id = lock(&shared).add_track(id, &track)?;
    Ok(Json(json!({ "track_id": track_id })))
}

async fn list_credit_memos(State(shared): State<Shared>) -> Json<Value> {
    Json(Value::Array(
        lock(&shared)
            .credit_memos
            .values()
            .map(render::credit_memo)
            .collect(),
    ))
}

async fn list_returns(State(shared): State<Shared>) -> Json<Value> {
    Json(Value::Array(
        lock(&shared).rmas.values().map(render::rma).collect(),
    ))
}

#[derive(Debug, Deserialize)]
struct ReturnStatus {
    status: String,
}

async fn set_return_status(
    State(shared): State<Shared>,
    Path(id): Path<u64>,
    Json(req): Json<ReturnStatus>,
) -> Answer {
    let mut store = lock(&shared);
    store.set_rma_status(id, &req.status)?;
    let rma = store.rmas.get(&id).ok_or_else(ApiError::entity_not_found)?;
    Ok(Json(render::rma(rma)))
}

/// The next `requests` API requests are refused as Fastly (429) or nginx (503) in front of a store
/// refuse them, with `Retry-After: retry_after_secs`, before Magento sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub requests: u32,
    /// 429 or 503.
    pub status: u16,
    pub retry_after_secs: u64,
}

async fn set_throttle(State(shared): State<Shared>, Json(throttle): Json<Throttle>) -> Answer {
    if !matches!(throttle.status, 429 | 503) {
        return Err(ApiError::bad_request("status must be 429 or 503"));
    }
    let answer = json!(throttle);
    lock(&shared).throttle = (throttle.requests > 0).then_some(throttle);
    Ok(Json(answer))
}

#[derive(Debug, Deserialize)]
struct LoseAnswers {
    count: u32,
}

/// The next `count` order placements are committed but answered 503: the ambiguous failure that
/// exactly-once creation must survive.
async fn lose_placement_answers(State(shared): State<Shared>, Json(req): Json<LoseAnswers>) -> Json<Value> {
    lock(&shared).lose_placement_answers = req.count;
    Json(json!({ "count": req.count }))
}

/// The merchant changing the store's configuration (or modules) while the channel runs: any of the
/// fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreConfigChange {
    /// Multi-Source Inventory modules enabled (`bin/magento module:disable Magento_Inventory*`).
    pub msi: Option<bool>,
    /// Offline payment methods to switch on or off, by code.
    pub enable_payment_methods: Vec<String>,
    pub disable_payment_methods: Vec<String>,
    /// The store view codes served.
    pub store_codes: Option<Vec<String>>,
    pub timezone: Option<String>,
}

/// The store's configuration as the merchant set it (what `change_store_config` answers).
async fn store_config(State(shared): State<Shared>) -> Json<Value> {
    Json(store_config_view(&lock(&shared).settings))
}

fn store_config_view(settings: &crate::SandboxSettings) -> Value {
    json!({
        "msi": settings.msi,
        "payment_methods": settings.payment_methods.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        "store_codes": settings.store_codes,
        "timezone": settings.timezone,
    })
}

async fn change_store_config(State(shared): State<Shared>, Json(change): Json<StoreConfigChange>) -> Answer {
    let mut store = lock(&shared);
    let settings = &mut store.settings;
    if let Some(msi) = change.msi {
        settings.msi = msi;
    }
    for code in &change.enable_payment_methods {
        if !settings.payment_methods.iter().any(|(c, _)| c == code) {
            let title = render::payment_title(code).to_owned();
            settings.payment_methods.push((code.clone(), title));
        }
    }
    settings
        .payment_methods
        .retain(|(c, _)| !change.disable_payment_methods.contains(c));
    if let Some(codes) = change.store_codes {
        settings.store_codes = codes;
    }
    if let Some(timezone) = change.timezone {
        settings.timezone = timezone;
    }
    Ok(Json(store_config_view(settings)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenRequest {
    /// Tokens to expire; all OAuth access tokens and bearer tokens when empty.
    tokens: Vec<String>,
}

async fn expire_tokens(State(shared): State<Shared>, body: Option<Json<TokenRequest>>) -> Json<Value> {
    let mut store = lock(&shared);
    let mut tokens = body.map(|Json(b)| b.tokens).unwrap_or_default();
    if tokens.is_empty() {
        tokens = store
            .settings
            .oauth
            .iter()
            .map(|c| c.access_token.clone())
            .chain(store.settings.bearer_tokens.iter().cloned())
            .collect();
    }
    store.expire_tokens(tokens);
    Json(json!({ "expired": store.expired_tokens.len() }))
}

async fn restore_tokens(State(shared): State<Shared>) -> Json<Value> {
    lock(&shared).expired_tokens.clear();
    Json(json!({ "expired": 0 }))
}

async fn stats(State(shared): State<Shared>) -> Json<Value> {
    Json(json!(lock(&shared).stats))
}

async fn clear_stats(State(shared): State<Shared>) -> Response {
    lock(&shared).stats.clear();
    StatusCode::NO_CONTENT.into_response()
}
