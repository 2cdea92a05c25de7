//! Feeds: `POST /v3/feeds?feedType=` (multipart `file`) and `GET /v3/feeds/{feedId}`.

use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{AppState, Params, limit_param, offset_param, ok_json};
use crate::errors::{ErrorForm, WalmartFault};
use crate::render;
use crate::world::FeedLine;

const FORM: ErrorForm = ErrorForm::Flat;

/// Feed types the sandbox processes.
pub const FEED_TYPES: &[&str] = &["MP_ITEM_MATCH", "inventory", "MP_INVENTORY", "price"];

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        // Walmart's own samples sometimes quote amounts.
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads the items of a feed file. `Err` when the file is not a feed of this type at all.
fn parse_lines(feed_type: &str, file: &Value) -> Result<Vec<FeedLine>, String> {
    let items = |key: &str| {
        file.get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("the {feed_type} feed file has no {key} array"))
    };
    Ok(match feed_type {
        "MP_ITEM_MATCH" => items("MPItem")?
            .iter()
            .map(|entry| {
                let item = entry.get("Item").unwrap_or(&Value::Null);
                FeedLine::Match {
                    sku: text(item, "sku"),
                    product_id: item.get("productIdentifiers").and_then(|p| text(p, "productId")),
                    price: number(item.get("price")),
                }
            })
            .collect(),
        "inventory" => items("Inventory")?
            .iter()
            .map(|item| FeedLine::Inventory {
                sku: text(item, "sku"),
                quantity: number(item.get("quantity").and_then(|q| q.get("amount"))),
            })
            .collect(),
        "MP_INVENTORY" => items("inventory")?
            .iter()
            .map(|item| {
                // Quantities of every ship node add up to the SKU's quantity.
                let nodes = item.get("shipNodes").and_then(Value::as_array);
                let quantity = nodes.and_then(|nodes| {
                    nodes
                        .iter()
                        .map(|n| number(n.get("quantity").and_then(|q| q.get("amount"))))
                        .sum::<Option<f64>>()
                });
                FeedLine::Inventory {
                    sku: text(item, "sku"),
                    quantity,
                }
            })
            .collect(),
        "price" => items("Price")?
            .iter()
            .map(|item| {
                let current = item
                    .get("pricing")
                    .and_then(Value::as_array)
                    .and_then(|p| p.first())
                    .and_then(|p| p.get("currentPrice"));
                FeedLine::Price {
                    sku: text(item, "sku"),
                    amount: number(current.and_then(|c| c.get("amount"))),
                    currency: current.and_then(|c| text(c, "currency")),
                }
            })
            .collect(),
        other => return Err(format!("unsupported feed type {other}")),
    })
}

pub async fn submit(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    mut multipart: Multipart,
) -> Response {
    let params = Params::parse(query.as_deref());
    let feed_type = match params.get("feedType") {
        Some(t) if FEED_TYPES.contains(&t) => t.to_owned(),
        Some(other) => {
            return WalmartFault::bad_request(
                "INVALID_REQUEST_PARAM.GMP_FEED_API",
                "feedType",
                format!("This sandbox does not process feedType {other}; it knows {FEED_TYPES:?}"),
            )
            .into_response(FORM);
        }
        None => {
            return WalmartFault::bad_request(
                "INVALID_REQUEST_PARAM.GMP_FEED_API",
                "feedType",
                "feedType is required",
            )
            .into_response(FORM);
        }
    };
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(bytes) => {
                    file = Some(bytes);
                    break;
                }
                Err(e) => {
                    return WalmartFault::bad_request(
                        "INVALID_REQUEST_CONTENT.GMP_FEED_API",
                        "file",
                        e.body_text(),
                    )
                    .into_response(FORM);
                }
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => {
                return WalmartFault::bad_request(
                    "INVALID_REQUEST_CONTENT.GMP_FEED_API",
                    "file",
                    e.body_text(),
                )
                .into_response(FORM);
            }
        }
    }
    let Some(file) = file else {
        return WalmartFault::bad_request(
            "INVALID_REQUEST_CONTENT.GMP_FEED_API",
            "file",
            "The multipart part 'file' is required",
        )
        .into_response(FORM);
    };
    // An unusable file is accepted and fails later, as Walmart does: the feed ends in ERROR.
    let (lines, file_error) = match serde_json::from_slice::<Value>(&file) {
        Ok(json) => match parse_lines(&feed_type, &json) {
            Ok(lines) => (lines, None),
            Err(reason) => (Vec::new(), Some(reason)),
        },
        Err(e) => (Vec::new(), Some(format!("the feed file is not JSON: {e}"))),
    };
    let (mut world, now) = state.lock();
    let feed_id = world.submit_feed(&feed_type, lines, file_error, now);
    tracing::debug!(feed_id, feed_type, "feed received");
    ok_json(json!({ "feedId": feed_id }))
}

pub async fn status(
    State(state): State<AppState>,
    Path(feed_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let details = params.get("includeDetails") == Some("true");
    let offset = match offset_param(&params, "offset") {
        Ok(o) => o,
        Err(fault) => return fault.into_response(FORM),
    };
    let (world, now) = state.lock();
    let limit = match limit_param(&params, "limit", 50, world.settings.max_feed_detail_page) {
        Ok(l) => l,
        Err(fault) => return fault.into_response(FORM),
    };
    match world.feeds.get(&feed_id) {
        Some(feed) => ok_json(world.overridden_feed(
            &feed_id,
            render::feed(feed, now, details.then_some((offset, limit))),
        )),
        None => WalmartFault::new(
            StatusCode::NOT_FOUND,
            "CONTENT_NOT_FOUND.GMP_FEED_API",
            format!("Feed {feed_id} was not found"),
        )
        .into_response(FORM),
    }
}

/// `GET /v3/feeds`: the seller's feeds, newest first (`feedId` narrows to one), at most 50 a page
/// (the spec's limit).
pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let paging =
        limit_param(&params, "limit", 50, 50).and_then(|l| Ok((l, offset_param(&params, "offset")?)));
    let (limit, offset) = match paging {
        Ok(p) => p,
        Err(fault) => return fault.into_response(FORM),
    };
    let feed_id = params.get("feedId");
    let (world, now) = state.lock();
    let feeds: Vec<_> = world
        .feed_order
        .iter()
        .rev()
        .filter_map(|id| world.feeds.get(id))
        .filter(|f| feed_id.is_none_or(|id| f.feed_id == id))
        .collect();
    let page: Vec<Value> = feeds
        .iter()
        .skip(offset)
        .take(limit)
        .map(|f| render::feed_summary(f, now))
        .collect();
    ok_json(json!({
        "totalResults": feeds.len(),
        "offset": offset,
        "limit": limit,
        "results": { "feed": page },
    }))
}
