//! Items: the seller's items (`GET /v3/items`, `GET /v3/items/{id}`) and catalog search.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use super::{AppState, Params, limit_param, ok_json};
use crate::errors::{ErrorForm, WalmartFault};
use crate::model::OverriddenRecord;
use crate::render;
use crate::world::gtin14;

const FORM: ErrorForm = ErrorForm::Flat;

fn encode_cursor(last_sku: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sku:{last_sku}"))
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sku:")
        .map(str::to_owned)
}

/// Cursor-paged seller items in SKU order. `nextCursor=*` (or none) starts at the beginning.
pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let limit = match limit_param(&params, "limit", 20, 200) {
        Ok(l) => l,
        Err(fault) => return fault.into_response(FORM),
    };
    let after = match params.get("nextCursor") {
        None | Some("*") => None,
        Some(raw) => match decode_cursor(raw) {
            Some(sku) => Some(sku),
            None => {
                return WalmartFault::bad_request(
                    "INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API",
                    "nextCursor",
                    "Unknown cursor",
                )
                .into_response(FORM);
            }
        },
    };
    let lifecycle = params.get("lifecycleStatus");
    let published = params.get("publishedStatus");
    let sku_filter = params.get("sku");
    let (world, _) = state.lock();
    let matches = |item: &&crate::world::SellerItem| {
        lifecycle.is_none_or(|l| l == item.lifecycle_status)
            && published.is_none_or(|p| p == item.published_status)
            && sku_filter.is_none_or(|s| s == item.sku)
    };
    let start = match &after {
        Some(sku) => std::ops::Bound::Excluded(sku.clone()),
        None => std::ops::Bound::Unbounded,
    };
    let mut page: Vec<&crate::world::SellerItem> = world
        .items
        .range((start, std::ops::Bound::Unbounded))
        .map(|(_, item)| item)
        .filter(matches)
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let total = if lifecycle.is_none() && published.is_none() && sku_filter.is_none() {
        world.items.len()
    } else {
        world.items.values().filter(matches).count()
    };
    let mut body = json!({
        "ItemResponse": page
            .iter()
            .map(|i| {
                let record = OverriddenRecord::Item { sku: i.sku.clone() };
                world.overridden(&record, render::seller_item(i))
            })
            .collect::<Vec<Value>>(),
        "totalItems": total,
    });
    if more && let Some(last) = page.last() {
        body["nextCursor"] = json!(encode_cursor(&last.sku));
    }
    ok_json(body)
}

/// One seller item by SKU (or GTIN/UPC/EAN with `productIdType`).
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let Some(id_type) = params.get("productIdType") else {
        return WalmartFault::bad_request(
            "INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API",
            "productIdType",
            "productIdType is required (SKU, GTIN, UPC, EAN, ISBN or ITEM_ID)",
        )
        .into_response(FORM);
    };
    let (world, _) = state.lock();
    let sku = match id_type {
        "SKU" => Some(id.clone()),
        "GTIN" | "UPC" | "EAN" => gtin14(&id).and_then(|g| world.items_by_gtin.get(&g).cloned()),
        "ISBN" | "ITEM_ID" => None,
        other => {
            return WalmartFault::bad_request(
                "INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API",
                "productIdType",
                format!("Unknown productIdType {other}"),
            )
            .into_response(FORM);
        }
    };
    match sku.and_then(|s| world.items.get(&s)) {
        Some(item) => ok_json(json!({ "ItemResponse": [render::seller_item(item)], "totalItems": 1 })),
        None => WalmartFault::new(
            StatusCode::NOT_FOUND,
            "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API",
            format!("No item found for {id_type} {id}"),
        )
        .into_response(FORM),
    }
}

/// Walmart catalog search by `upc`, `gtin` (or a `query` naming a product).
pub async fn search(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let (world, _) = state.lock();
    let items: Vec<Value> = match (params.get("upc").or(params.get("gtin")), params.get("query")) {
        (Some(id), _) => gtin14(id)
            .and_then(|g| world.catalog.get(&g))
            .map(render::catalog_item)
            .into_iter()
            .collect(),
        (None, Some(text)) => {
            let needle = text.to_lowercase();
            let mut found: Vec<&crate::world::CatalogEntry> = world
                .catalog
                .values()
                .filter(|e| e.product_name.to_lowercase().contains(&needle))
                .collect();
            found.sort_by(|a, b| a.gtin14.cmp(&b.gtin14));
            found.into_iter().take(25).map(render::catalog_item).collect()
        }
        (None, None) => {
            return WalmartFault::bad_request(
                "INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API",
                "query",
                "One of query, upc or gtin is required",
            )
            .into_response(FORM);
        }
    };
    ok_json(json!({ "items": items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor("A B/c")).as_deref(), Some("A B/c"));
        assert_eq!(decode_cursor("nonsense!"), None);
    }
}
