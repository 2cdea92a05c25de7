//! Walmart's API paths. A gateway layer in front of every route does what Walmart's API gateway
//! does: checks the required headers and the access token, counts calls, enforces the rate limits
//! and adds the rate-limit headers.

mod auth;
mod feeds;
mod inventory;
mod items;
mod orders;
mod returns;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use domain::Timestamp;
use ports::Clock;

use crate::errors::{ErrorForm, WalmartFault};
use crate::webhooks;
use crate::world::World;

pub const TOKEN_ENDPOINT: &str = "POST /v3/token";

/// The state every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub world: Arc<Mutex<World>>,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// The world, with due feeds processed, and the time it was read at.
    pub fn lock(&self) -> (MutexGuard<'_, World>, Timestamp) {
        let now = self.clock.now();
        // A panic in one handler must not take the whole sandbox down with a poisoned lock.
        let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
        world.advance(now);
        (world, now)
    }
}

/// Decoded query pairs.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The endpoint name a request is counted and limited under (the client's `Endpoint::name`).
pub fn classify(method: &Method, path: &str, params: &Params) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = method == Method::GET;
    let post = method == Method::POST;
    let put = method == Method::PUT;
    Some(match segments.as_slice() {
        ["v3", "token"] if post => TOKEN_ENDPOINT,
        ["v3", "items"] if get => "GET /v3/items",
        ["v3", "items", "walmart", "search"] if get => "GET /v3/items/walmart/search",
        ["v3", "items", _] if get => "GET /v3/items/{id}",
        ["v3", "feeds"] if post => match params.get("feedType") {
            Some("MP_ITEM_MATCH") => "POST /v3/feeds?feedType=MP_ITEM_MATCH",
            Some("inventory") => "POST /v3/feeds?feedType=inventory",
            Some("MP_INVENTORY") => "POST /v3/feeds?feedType=MP_INVENTORY",
            Some("price") => "POST /v3/feeds?feedType=price",
            _ => "POST /v3/feeds",
        },
        ["v3", "feeds"] if get => "GET /v3/feeds",
        ["v3", "feeds", _] if get => "GET /v3/feeds/{feedId}",
        ["v3", "inventory"] if get => "GET /v3/inventory",
        ["v3", "inventory"] if put => "PUT /v3/inventory",
        ["v3", "price"] if put => "PUT /v3/price",
        ["v3", "orders"] if get => "GET /v3/orders",
        ["v3", "orders", "released"] if get => "GET /v3/orders/released",
        ["v3", "orders", _] if get => "GET /v3/orders/{purchaseOrderId}",
        ["v3", "orders", _, "acknowledge"] if post => "POST /v3/orders/{purchaseOrderId}/acknowledge",
        ["v3", "orders", _, "shipping"] if post => "POST /v3/orders/{purchaseOrderId}/shipping",
        ["v3", "orders", _, "cancel"] if post => "POST /v3/orders/{purchaseOrderId}/cancel",
        ["v3", "orders", _, "refund"] if post => "POST /v3/orders/{purchaseOrderId}/refund",
        ["v3", "returns"] if get => "GET /v3/returns",
        ["v3", "returns", _, "refund"] if post => "POST /v3/returns/{returnOrderId}/refund",
        ["v3", "webhooks", "eventTypes"] if get => "GET /v3/webhooks/eventTypes",
        ["v3", "webhooks", "subscriptions"] if get => "GET /v3/webhooks/subscriptions",
        ["v3", "webhooks", "subscriptions"] if post => "POST /v3/webhooks/subscriptions",
        ["v3", "webhooks", "subscriptions", _] if method == Method::PATCH => {
            "PATCH /v3/webhooks/subscriptions/{subscriptionId}"
        }
        ["v3", "webhooks", "subscriptions", _] if method == Method::DELETE => {
            "DELETE /v3/webhooks/subscriptions/{subscriptionId}"
        }
        ["v3", "webhooks", "test"] if post => "POST /v3/webhooks/test",
        _ => return None,
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn gateway_fault(status: StatusCode, code: &str, field: &str, description: &str) -> Response {
    WalmartFault {
        field: Some(field.to_owned()),
        ..WalmartFault::new(status, code, description)
    }
    .into_response(ErrorForm::Gateway)
}

fn rate_headers(response: &mut Response, tokens_left: u32, next: Timestamp) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tokens_left.to_string()) {
        headers.insert("x-current-token-count", v);
    }
    if let Ok(v) = HeaderValue::from_str(&next.millis().to_string()) {
        headers.insert("x-next-replenishment-time", v);
    }
}

async fn gateway(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let params = Params::parse(request.uri().query());
    let endpoint = classify(request.method(), &path, &params);
    let headers = request.headers();
    let verdict = {
        let (mut world, now) = state.lock();
        let counters = world
            .stats
            .entry(endpoint.unwrap_or("other").to_owned())
            .or_default();
        counters.calls += 1;
        if header(headers, "wm_svc.name").is_none() {
            return gateway_fault(
                StatusCode::BAD_REQUEST,
                "MISSING_HEADER.GMP_GATEWAY_API",
                "WM_SVC.NAME",
                "The WM_SVC.NAME header is required",
            );
        }
        if header(headers, "wm_qos.correlation_id").is_none() {
            return gateway_fault(
                StatusCode::BAD_REQUEST,
                "MISSING_HEADER.GMP_GATEWAY_API",
                "WM_QOS.CORRELATION_ID",
                "The WM_QOS.CORRELATION_ID header is required",
            );
        }
        if !header(headers, ACCEPT.as_str()).is_some_and(|a| a.contains("application/json")) {
            // Walmart answers XML without it; this sandbox speaks JSON only.
            return gateway_fault(
                StatusCode::NOT_ACCEPTABLE,
                "UNSUPPORTED_MEDIA_TYPE.GMP_GATEWAY_API",
                "Accept",
                "This sandbox answers application/json only: send Accept: application/json",
            );
        }
        if world.settings.require_post_content_type
            && request.method() == Method::POST
            && header(headers, CONTENT_TYPE.as_str()).is_none()
        {
            // What Walmart answers to an acknowledge sent without a body or Content-Type.
            return gateway_fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR.GMP_GATEWAY_API",
                "Content-Type",
                "Internal Server Error",
            );
        }
        if endpoint != Some(TOKEN_ENDPOINT) {
            match header(headers, "wm_sec.access_token") {
                None => {
                    return gateway_fault(
                        StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED.GMP_GATEWAY_API",
                        "WM_SEC.ACCESS_TOKEN",
                        "The WM_SEC.ACCESS_TOKEN header is required",
                    );
                }
                Some(token) if !world.token_valid(token, now) => {
                    return gateway_fault(
                        StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED.GMP_GATEWAY_API",
                        "WM_SEC.ACCESS_TOKEN",
                        "Invalid or expired access token",
                    );
                }
                Some(_) => {}
            }
        }
        let verdict = match endpoint {
            Some(name) if world.settings.rate_limits => world.limits.take(name, now),
            _ => None,
        };
        if let Some(v) = verdict.filter(|v| !v.allowed) {
            if let Some(counters) = endpoint.and_then(|e| world.stats.get_mut(e)) {
                counters.throttled += 1;
            }
            let mut response = gateway_fault(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API",
                "",
                "Too many requests: the rate limit of this API is exhausted until the next replenishment",
            );
            rate_headers(&mut response, v.tokens_left, v.next_replenishment);
            return response;
        }
        (verdict, world.settings.explicit_nulls)
    };
    let (verdict, explicit_nulls) = verdict;
    let mut response = next.run(request).await;
    if !explicit_nulls {
        response = without_nulls(response).await;
    }
    if let Some(v) = verdict {
        rate_headers(&mut response, v.tokens_left, v.next_replenishment);
    }
    response
}

/// The response with every `null` member of its JSON body left out (`explicit_nulls: false`).
async fn without_nulls(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    drop_nulls(&mut json);
    let bytes = json.to_string();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            members.retain(|_, member| !member.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn unknown_path() -> Response {
    WalmartFault::not_found("NOT_FOUND.GMP_GATEWAY_API", "No such Walmart API path")
        .into_response(ErrorForm::Flat)
}

/// The Walmart API routes with the gateway layer (not yet instrumented or merged with controls).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v3/token", post(auth::token))
        .route("/v3/items", get(items::list))
        .route("/v3/items/walmart/search", get(items::search))
        .route("/v3/items/{id}", get(items::get_one))
        .route("/v3/feeds", post(feeds::submit).get(feeds::list))
        .route("/v3/feeds/{feed_id}", get(feeds::status))
        .route("/v3/inventory", get(inventory::get_one).put(inventory::update))
        .route("/v3/price", put(inventory::update_price))
        .route("/v3/orders", get(orders::list))
        .route("/v3/orders/released", get(orders::list_released))
        .route("/v3/orders/{po}", get(orders::get_one))
        .route("/v3/orders/{po}/acknowledge", post(orders::acknowledge))
        .route("/v3/orders/{po}/shipping", post(orders::ship))
        .route("/v3/orders/{po}/cancel", post(orders::cancel))
        .route("/v3/orders/{po}/refund", post(orders::refund))
        .route("/v3/returns", get(returns::list))
        .route("/v3/returns/{id}/refund", post(returns::refund))
        .route("/v3/webhooks/eventTypes", get(webhooks::api::event_types))
        .route(
            "/v3/webhooks/subscriptions",
            get(webhooks::api::list).post(webhooks::api::create),
        )
        .route(
            "/v3/webhooks/subscriptions/{id}",
            patch(webhooks::api::update).delete(webhooks::api::delete),
        )
        .route("/v3/webhooks/test", post(webhooks::api::test))
        .fallback(unknown_path)
        .layer(middleware::from_fn_with_state(state.clone(), gateway))
        .with_state(state)
}

/// Parses a JSON request body, answering Walmart's 400 in `form` when it is not JSON.
pub fn json_body(body: &[u8]) -> Result<serde_json::Value, WalmartFault> {
    serde_json::from_slice(body).map_err(|e| {
        WalmartFault::bad_request(
            "INVALID_REQUEST_CONTENT.GMP_GATEWAY_API",
            "body",
            format!("The request body is not valid JSON: {e}"),
        )
    })
}

/// A date query parameter: RFC 3339 or `yyyy-MM-dd` (UTC midnight), as Walmart accepts.
pub fn date_param(params: &Params, name: &str) -> Result<Option<Timestamp>, WalmartFault> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    let parsed = Timestamp::parse_rfc3339(raw)
        .or_else(|_| Timestamp::parse_rfc3339(&format!("{raw}T00:00:00Z")))
        .map_err(|_| {
            WalmartFault::bad_request(
                "INVALID_REQUEST_PARAM.GMP_GATEWAY_API",
                name,
                format!("{name} {raw:?} is not a date (yyyy-MM-dd or ISO 8601)"),
            )
        })?;
    Ok(Some(parsed))
}

/// A positive integer query parameter within `1..=max`, or `default`.
pub fn limit_param(params: &Params, name: &str, default: usize, max: usize) -> Result<usize, WalmartFault> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                WalmartFault::bad_request(
                    "INVALID_REQUEST_PARAM.GMP_GATEWAY_API",
                    name,
                    format!("{name} must be between 1 and {max}"),
                )
            }),
    }
}

/// A non-negative integer query parameter, or 0.
pub fn offset_param(params: &Params, name: &str) -> Result<usize, WalmartFault> {
    match params.get(name) {
        None => Ok(0),
        Some(raw) => raw.parse::<usize>().map_err(|_| {
            WalmartFault::bad_request(
                "INVALID_REQUEST_PARAM.GMP_GATEWAY_API",
                name,
                format!("{name} must be a non-negative integer"),
            )
        }),
    }
}

/// Encodes one query value of a cursor Walmart hands out.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub fn ok_json(body: serde_json::Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}
