//! The Walmart-specific control API under `/_sandbox/` (documented in the crate README): act as
//! buyers and as Walmart, inspect what the seller sent, change settings. Never recorded or faulted.

use std::collections::BTreeMap;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::Money;
use sandbox_kit::{REQUEST_BODY_LIMIT, json_error};
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{AppState, Params};
use crate::model::*;
use crate::render::{self, DateStyle};
use crate::settings::SandboxSettings;
use crate::world::CancelRequestLine;

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    json_error(status, json!({ "message": message.into() }))
}

fn ok<T: Serialize>(value: T) -> Response {
    (StatusCode::OK, Json(value)).into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))
}

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/_sandbox/state", get(summary))
        .route("/_sandbox/settings", get(get_settings).put(put_settings))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/stats", get(stats).delete(reset_stats))
        .route("/_sandbox/rate-limits/reset", post(reset_rate_limits))
        .route("/_sandbox/rate-limits/drain", post(drain_rate_limits))
        .route("/_sandbox/catalog", post(add_catalog))
        .route("/_sandbox/items", get(items).post(add_items))
        .route("/_sandbox/items/{sku}", get(item))
        .route("/_sandbox/inventory", get(inventory))
        .route("/_sandbox/inventory/{sku}", get(inventory_of))
        .route("/_sandbox/prices", get(prices))
        .route("/_sandbox/prices/{sku}", get(price_of))
        .route("/_sandbox/updates/inventory", get(inventory_updates))
        .route("/_sandbox/updates/prices", get(price_updates))
        .route("/_sandbox/orders", post(create_order))
        .route("/_sandbox/orders/{po}", get(order))
        .route("/_sandbox/orders/{po}/cancel", post(buyer_cancel))
        .route("/_sandbox/orders/{po}/intent-to-cancel", post(intent_to_cancel))
        .route("/_sandbox/returns", post(create_return))
        .route("/_sandbox/returns/{id}", get(return_order))
        .route("/_sandbox/returns/{id}/walmart-refund", post(walmart_refund))
        .route("/_sandbox/received", get(received))
        .route("/_sandbox/feeds", get(feeds))
        .route("/_sandbox/feeds/{id}", get(feed))
        .route(
            "/_sandbox/overrides",
            get(overrides).post(add_override).delete(clear_overrides),
        )
        // Seeding a large catalog sends big bodies; the same limit as the API's.
        .layer(DefaultBodyLimit::max(REQUEST_BODY_LIMIT))
        .with_state(state)
}

async fn summary(State(state): State<AppState>) -> Response {
    let (world, now) = state.lock();
    ok(world.summary(now))
}

async fn get_settings(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(&world.settings)
}

/// Merges the given fields into the settings (a partial object changes only what it names).
async fn put_settings(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let patch: Value = match parse(&body) {
        Ok(v) => v,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let Value::Object(patch) = patch else {
        return problem(StatusCode::BAD_REQUEST, "settings must be a JSON object");
    };
    let (mut world, _) = state.lock();
    let mut current = match serde_json::to_value(&world.settings) {
        Ok(Value::Object(map)) => map,
        _ => return problem(StatusCode::INTERNAL_SERVER_ERROR, "settings do not serialise"),
    };
    for (key, value) in patch {
        match (current.get_mut(&key), value) {
            (None, _) => return problem(StatusCode::BAD_REQUEST, format!("unknown setting {key:?}")),
            // A nested group (`webhooks`) changes only the members named too.
            (Some(Value::Object(group)), Value::Object(members)) => group.extend(members),
            (Some(slot), value) => *slot = value,
        }
    }
    let settings: SandboxSettings = match serde_json::from_value(Value::Object(current)) {
        Ok(s) => s,
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("invalid settings: {e}")),
    };
    if let Err(message) = crate::webhooks::control::check_settings(&settings.webhooks) {
        return problem(StatusCode::BAD_REQUEST, message);
    }
    let live_changed = settings.store_live != world.settings.store_live;
    world.settings = settings;
    if live_changed {
        world.apply_store_live();
    }
    ok(&world.settings)
}

async fn expire_tokens(State(state): State<AppState>) -> Response {
    let (mut world, _) = state.lock();
    let expired = world.expire_tokens();
    ok(json!({ "expired": expired }))
}

async fn stats(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(&world.stats)
}

async fn reset_stats(State(state): State<AppState>) -> Response {
    let (mut world, _) = state.lock();
    world.stats.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn reset_rate_limits(State(state): State<AppState>) -> Response {
    let (mut world, _) = state.lock();
    world.limits.reset();
    StatusCode::NO_CONTENT.into_response()
}

/// Empties every rate-limit bucket: the next calls of each limited endpoint get Walmart's 429 with
/// its headers until a token is replenished on the sandbox clock (a throttling burst).
async fn drain_rate_limits(State(state): State<AppState>) -> Response {
    let (mut world, now) = state.lock();
    world.limits.drain(now);
    StatusCode::NO_CONTENT.into_response()
}

async fn add_catalog(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let specs: Vec<CatalogItemSpec> = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let (mut world, _) = state.lock();
    let mut wpids = Vec::with_capacity(specs.len());
    for spec in specs {
        match world.add_catalog_item(spec) {
            Ok(wpid) => wpids.push(wpid),
            Err(e) => return problem(StatusCode::BAD_REQUEST, e),
        }
    }
    ok(json!({ "added": wpids.len(), "wpids": wpids }))
}

async fn add_items(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let specs: Vec<SellerItemSpec> = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let (mut world, _) = state.lock();
    let count = specs.len();
    for spec in specs {
        if let Err(e) = world.add_seller_item(spec) {
            return problem(StatusCode::BAD_REQUEST, e);
        }
    }
    ok(json!({ "added": count }))
}

/// Every seller item as `GET /v3/items` renders it (with its lifecycle and published status).
async fn items(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(world.items.values().map(render::seller_item).collect::<Vec<_>>())
}

async fn item(State(state): State<AppState>, Path(sku): Path<String>) -> Response {
    let (world, _) = state.lock();
    match world.items.get(&sku) {
        Some(item) => ok(render::seller_item(item)),
        None => problem(StatusCode::NOT_FOUND, format!("no seller item {sku}")),
    }
}

async fn inventory(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    let map: BTreeMap<&String, &u32> = world.inventory.iter().collect();
    ok(map)
}

async fn inventory_of(State(state): State<AppState>, Path(sku): Path<String>) -> Response {
    let (world, _) = state.lock();
    match world.inventory.get(&sku) {
        Some(q) => ok(json!({ "sku": sku, "quantity": q })),
        None => problem(StatusCode::NOT_FOUND, format!("no inventory for {sku}")),
    }
}

async fn prices(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    let map: BTreeMap<&String, &Money> = world.prices.iter().collect();
    ok(map)
}

async fn price_of(State(state): State<AppState>, Path(sku): Path<String>) -> Response {
    let (world, _) = state.lock();
    match world.prices.get(&sku) {
        Some(p) => ok(json!({ "sku": sku, "price": p })),
        None => problem(StatusCode::NOT_FOUND, format!("no price for {sku}")),
    }
}

fn sku_filter(query: Option<String>) -> Option<String> {
    Params::parse(query.as_deref()).get("sku").map(str::to_owned)
}

async fn inventory_updates(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let sku = sku_filter(query);
    let (world, _) = state.lock();
    let updates: Vec<&ValueUpdate<u32>> = world
        .inventory_updates
        .iter()
        .filter(|u| sku.as_deref().is_none_or(|s| u.sku == s))
        .collect();
    ok(updates)
}

async fn price_updates(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let sku = sku_filter(query);
    let (world, _) = state.lock();
    let updates: Vec<&ValueUpdate<Money>> = world
        .price_updates
        .iter()
        .filter(|u| sku.as_deref().is_none_or(|s| u.sku == s))
        .collect();
    ok(updates)
}

async fn create_order(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let spec: NewOrder = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let (mut world, now) = state.lock();
    match world.create_order(spec, now) {
        Ok(created) => ok(created),
        Err(e) => problem(StatusCode::BAD_REQUEST, e),
    }
}

async fn order(State(state): State<AppState>, Path(po): Path<String>) -> Response {
    let (world, _) = state.lock();
    match world.orders.get(&po) {
        Some(order) => ok(render::order(order, DateStyle::EpochMillis)),
        None => problem(StatusCode::NOT_FOUND, format!("no purchase order {po}")),
    }
}

async fn buyer_cancel(
    State(state): State<AppState>,
    Path(po): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let spec: BuyerCancellation = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let lines = spec
        .lines
        .iter()
        .map(|l| CancelRequestLine {
            line: l.line,
            quantity: l.quantity,
            reason: spec.reason.clone(),
        })
        .collect();
    let (mut world, now) = state.lock();
    match world.cancel(&po, lines, CancelledBy::Buyer, now) {
        Ok(()) => match world.orders.get(&po) {
            Some(order) => ok(render::order(order, DateStyle::EpochMillis)),
            None => problem(StatusCode::NOT_FOUND, format!("no purchase order {po}")),
        },
        Err(fault) => problem(fault.status, fault.description),
    }
}

async fn intent_to_cancel(
    State(state): State<AppState>,
    Path(po): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let spec: CancellationRequest = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let (mut world, now) = state.lock();
    match world.request_cancellation(&po, &spec.lines, now) {
        Ok(()) => match world.orders.get(&po) {
            Some(order) => ok(render::order(order, DateStyle::EpochMillis)),
            None => problem(StatusCode::NOT_FOUND, format!("no purchase order {po}")),
        },
        Err(fault) => problem(fault.status, fault.description),
    }
}

async fn create_return(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let spec: NewReturn = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    let (mut world, now) = state.lock();
    match world.create_return(spec, now) {
        Ok(created) => ok(created),
        Err(e) => problem(StatusCode::BAD_REQUEST, e),
    }
}

async fn return_order(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (world, _) = state.lock();
    match world.returns.get(&id) {
        Some(record) => ok(render::return_order(record)),
        None => problem(StatusCode::NOT_FOUND, format!("no return order {id}")),
    }
}

async fn walmart_refund(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (mut world, now) = state.lock();
    if let Err(message) = world.walmart_refunds_return(&id, now) {
        return problem(StatusCode::NOT_FOUND, message);
    }
    match world.returns.get(&id) {
        Some(record) => ok(render::return_order(record)),
        None => problem(StatusCode::NOT_FOUND, format!("no return order {id}")),
    }
}

async fn received(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(&world.received)
}

async fn feeds(State(state): State<AppState>) -> Response {
    let (world, now) = state.lock();
    let summaries: Vec<FeedSummary> = world
        .feed_order
        .iter()
        .filter_map(|id| world.feeds.get(id))
        .map(|f| world.feed_summary(f, now))
        .collect();
    ok(summaries)
}

async fn feed(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (world, now) = state.lock();
    match world.feeds.get(&id) {
        Some(feed) => ok(render::feed(feed, now, Some((0, usize::MAX)))),
        None => problem(StatusCode::NOT_FOUND, format!("no feed {id}")),
    }
}

async fn overrides(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(&world.overrides)
}

/// Puts a value into one record each time it is rendered (a status Walmart added since, a record
/// sent badly); the rest of its page is rendered as before.
async fn add_override(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let spec: RecordOverride = match parse(&body) {
        Ok(s) => s,
        Err(message) => return problem(StatusCode::BAD_REQUEST, message),
    };
    if !spec.pointer.is_empty() && !spec.pointer.starts_with('/') {
        return problem(StatusCode::BAD_REQUEST, "pointer must be empty or start with '/'");
    }
    let (mut world, _) = state.lock();
    world.overrides.push(spec);
    ok(&world.overrides)
}

async fn clear_overrides(State(state): State<AppState>) -> Response {
    let (mut world, _) = state.lock();
    world.overrides.clear();
    StatusCode::NO_CONTENT.into_response()
}
