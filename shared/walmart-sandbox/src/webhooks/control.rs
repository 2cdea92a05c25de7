//! Control routes of the notifications: delivery settings, the delivery log, subscriptions Walmart
//! loses, and Walmart's own cancellations (auto-cancel, fraud) that the world does not produce by
//! itself.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use sandbox_kit::json_error;
use serde_json::{Value, json};

use super::events::{AUTO_CANCEL_REASON, FRAUD_CANCEL_REASON};
use super::model::{WalmartCancellation, WebhookSettings};
use super::subscriptions::Subscription;
use crate::api::{AppState, Params};
use crate::model::CancelledBy;
use crate::render::{self, DateStyle};
use crate::world::{CancelRequestLine, LineState};

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    json_error(status, json!({ "message": message.into() }))
}

fn ok<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/_sandbox/webhooks/settings", get(get_settings).put(put_settings))
        .route(
            "/_sandbox/webhooks/deliveries",
            get(deliveries).delete(clear_deliveries),
        )
        .route("/_sandbox/webhooks/status", get(status))
        .route(
            "/_sandbox/webhooks/subscriptions",
            get(subscriptions).delete(lose_all),
        )
        .route("/_sandbox/webhooks/subscriptions/{id}", delete(lose_one))
        .route("/_sandbox/orders/{po}/auto-cancel", post(auto_cancel))
        .route("/_sandbox/orders/{po}/fraud-cancel", post(fraud_cancel))
        .with_state(state)
}

async fn get_settings(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(&world.settings.webhooks)
}

/// Changes only the fields the body names.
async fn put_settings(State(state): State<AppState>, body: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(patch)) => Value::Object(patch),
        Ok(_) => return problem(StatusCode::BAD_REQUEST, "settings must be a JSON object"),
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("invalid request body: {e}")),
    };
    let (mut world, _) = state.lock();
    let mut current = match serde_json::to_value(&world.settings.webhooks) {
        Ok(Value::Object(map)) => map,
        _ => return problem(StatusCode::INTERNAL_SERVER_ERROR, "settings do not serialise"),
    };
    if let Value::Object(patch) = patch {
        for (key, value) in patch {
            if !current.contains_key(&key) {
                return problem(
                    StatusCode::BAD_REQUEST,
                    format!("unknown webhook setting {key:?}"),
                );
            }
            current.insert(key, value);
        }
    }
    let settings: WebhookSettings = match serde_json::from_value(Value::Object(current)) {
        Ok(s) => s,
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("invalid webhook settings: {e}")),
    };
    if let Err(message) = check_settings(&settings) {
        return problem(StatusCode::BAD_REQUEST, message);
    }
    world.settings.webhooks = settings;
    ok(&world.settings.webhooks)
}

pub fn check_settings(settings: &WebhookSettings) -> Result<(), String> {
    for (name, rate) in [
        ("drop_rate", settings.drop_rate),
        ("duplicate_rate", settings.duplicate_rate),
        ("out_of_order_rate", settings.out_of_order_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("{name} must be between 0 and 1, not {rate}"));
        }
    }
    if settings.timeout_ms == 0 {
        return Err("timeout_ms must be positive".to_owned());
    }
    Ok(())
}

/// The delivery log, oldest first; `?event_id=`, `?purchase_order_id=`, `?subscription_id=` filter.
async fn deliveries(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let (world, _) = state.lock();
    let log: Vec<_> = world
        .webhooks
        .log
        .iter()
        .filter(|a| params.get("event_id").is_none_or(|id| a.event_id == id))
        .filter(|a| {
            params
                .get("purchase_order_id")
                .is_none_or(|po| a.purchase_order_id.as_deref() == Some(po))
        })
        .filter(|a| {
            params
                .get("subscription_id")
                .is_none_or(|id| a.subscription_id.as_deref() == Some(id))
        })
        .collect();
    ok(log)
}

async fn clear_deliveries(State(state): State<AppState>) -> Response {
    let (mut world, _) = state.lock();
    world.webhooks.log.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn status(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(world.webhooks.status())
}

async fn subscriptions(State(state): State<AppState>) -> Response {
    let (world, _) = state.lock();
    ok(world
        .webhooks
        .subscriptions
        .values()
        .map(Subscription::render)
        .collect::<Vec<_>>())
}

/// Walmart loses every subscription (the channel must notice and subscribe again).
async fn lose_all(State(state): State<AppState>) -> Response {
    let (mut world, _) = state.lock();
    let ids: Vec<String> = world.webhooks.subscriptions.keys().cloned().collect();
    for id in &ids {
        world.webhooks.remove_subscription(id);
    }
    ok(json!({ "removed": ids.len() }))
}

async fn lose_one(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (mut world, _) = state.lock();
    match world.webhooks.remove_subscription(&id) {
        Some(_) => ok(json!({ "removed": 1 })),
        None => problem(StatusCode::NOT_FOUND, format!("no subscription {id}")),
    }
}

async fn auto_cancel(State(state): State<AppState>, Path(po): Path<String>, body: Bytes) -> Response {
    walmart_cancel(state, po, body, AUTO_CANCEL_REASON)
}

async fn fraud_cancel(State(state): State<AppState>, Path(po): Path<String>, body: Bytes) -> Response {
    walmart_cancel(state, po, body, FRAUD_CANCEL_REASON)
}

/// Walmart cancels every unshipped unit of the lines (every line with some when none are named);
/// the world announces it (`PO_LINE_AUTOCANCELLED` or `FRAUD_CANCEL`).
fn walmart_cancel(state: AppState, po: String, body: Bytes, reason: &str) -> Response {
    let spec: WalmartCancellation = if body.is_empty() {
        WalmartCancellation::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(spec) => spec,
            Err(e) => return problem(StatusCode::BAD_REQUEST, format!("invalid request body: {e}")),
        }
    };
    let (mut world, now) = state.lock();
    let Some(order) = world.orders.get(&po) else {
        return problem(StatusCode::NOT_FOUND, format!("no purchase order {po}"));
    };
    let lines: Vec<CancelRequestLine> = order
        .lines
        .iter()
        .filter(|line| spec.lines.is_empty() || spec.lines.contains(&line.number))
        .map(|line| CancelRequestLine {
            line: line.number,
            quantity: line.quantity_in(LineState::Created) + line.quantity_in(LineState::Acknowledged),
            reason: reason.to_owned(),
        })
        .filter(|line| line.quantity > 0)
        .collect();
    if let Some(missing) = spec
        .lines
        .iter()
        .find(|n| !order.lines.iter().any(|line| line.number == **n))
    {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("purchase order {po} has no line {missing}"),
        );
    }
    if lines.is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("purchase order {po} has no unshipped unit to cancel"),
        );
    }
    match world.cancel(&po, lines, CancelledBy::Buyer, now) {
        Ok(()) => match world.orders.get(&po) {
            Some(order) => ok(render::order(order, DateStyle::EpochMillis)),
            None => problem(StatusCode::NOT_FOUND, format!("no purchase order {po}")),
        },
        Err(fault) => problem(fault.status, fault.description),
    }
}
