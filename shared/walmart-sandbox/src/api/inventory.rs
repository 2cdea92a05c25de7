//! Single-SKU inventory (`GET`/`PUT /v3/inventory?sku=`) and price (`PUT /v3/price`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::Money;
use serde_json::{Value, json};

use super::{AppState, Params, json_body, ok_json};
use crate::errors::{ErrorForm, WalmartFault};
use crate::model::UpdateSource;

const FORM: ErrorForm = ErrorForm::Flat;

fn sku_param(params: &Params) -> Result<String, WalmartFault> {
    params.get("sku").map(str::to_owned).ok_or_else(|| {
        WalmartFault::bad_request(
            "INVALID_REQUEST_PARAM.GMP_INVENTORY_API",
            "sku",
            "sku is required",
        )
    })
}

fn unknown_sku(api: &str, sku: &str) -> Response {
    WalmartFault::new(
        StatusCode::NOT_FOUND,
        format!("CONTENT_NOT_FOUND.GMP_{api}_API"),
        format!("SKU {sku} is not set up on Walmart"),
    )
    .into_response(FORM)
}

fn invalid(api: &str, field: &str, description: String) -> Response {
    WalmartFault::bad_request(
        format!("INVALID_REQUEST_CONTENT.GMP_{api}_API"),
        field,
        description,
    )
    .into_response(FORM)
}

fn inventory_json(sku: &str, quantity: u32) -> Value {
    json!({ "sku": sku, "quantity": { "unit": "EACH", "amount": quantity } })
}

pub async fn get_one(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let sku = match sku_param(&params) {
        Ok(s) => s,
        Err(fault) => return fault.into_response(FORM),
    };
    let (world, _) = state.lock();
    if !world.items.contains_key(&sku) {
        return unknown_sku("INVENTORY", &sku);
    }
    ok_json(inventory_json(
        &sku,
        world.inventory.get(&sku).copied().unwrap_or(0),
    ))
}

pub async fn update(State(state): State<AppState>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(query.as_deref());
    let sku = match sku_param(&params) {
        Ok(s) => s,
        Err(fault) => return fault.into_response(FORM),
    };
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(fault) => return fault.into_response(FORM),
    };
    if body.get("sku").and_then(Value::as_str) != Some(sku.as_str()) {
        return invalid(
            "INVENTORY",
            "sku",
            format!("The body's sku must be the query's sku {sku}"),
        );
    }
    let quantity = body.get("quantity");
    if quantity.and_then(|q| q.get("unit")).and_then(Value::as_str) != Some("EACH") {
        return invalid(
            "INVENTORY",
            "quantity.unit",
            "quantity.unit must be EACH".to_owned(),
        );
    }
    let amount = quantity
        .and_then(|q| q.get("amount"))
        .and_then(Value::as_f64)
        .filter(|a| a.fract() == 0.0 && *a >= 0.0 && *a <= f64::from(u32::MAX));
    let Some(amount) = amount else {
        return invalid(
            "INVENTORY",
            "quantity.amount",
            "quantity.amount must be a whole, non-negative number".to_owned(),
        );
    };
    let (mut world, now) = state.lock();
    if !world.items.contains_key(&sku) {
        return unknown_sku("INVENTORY", &sku);
    }
    world.set_inventory(&sku, amount as u32, UpdateSource::Single, now);
    ok_json(inventory_json(&sku, amount as u32))
}

pub async fn update_price(State(state): State<AppState>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(fault) => return fault.into_response(FORM),
    };
    let Some(sku) = body.get("sku").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return invalid("PRICE", "sku", "sku is required".to_owned());
    };
    let pricing = body
        .get("pricing")
        .and_then(Value::as_array)
        .and_then(|p| p.first());
    let Some(pricing) = pricing else {
        return invalid("PRICE", "pricing", "pricing needs at least one entry".to_owned());
    };
    let price_type = pricing.get("currentPriceType").and_then(Value::as_str);
    if !matches!(price_type, Some("BASE" | "REDUCED" | "CLEARANCE")) {
        return invalid(
            "PRICE",
            "currentPriceType",
            "currentPriceType must be BASE, REDUCED or CLEARANCE".to_owned(),
        );
    }
    let current = pricing.get("currentPrice");
    if current.and_then(|c| c.get("currency")).and_then(Value::as_str) != Some("USD") {
        return invalid(
            "PRICE",
            "currentPrice.currency",
            "currency must be USD".to_owned(),
        );
    }
    let price = current
        .and_then(|c| c.get("amount"))
        .and_then(Value::as_f64)
        .and_then(|a| Money::from_decimal(a).ok())
        .filter(|m| !m.is_negative());
    let Some(price) = price else {
        return invalid(
            "PRICE",
            "currentPrice.amount",
            "currentPrice.amount must be a non-negative number".to_owned(),
        );
    };
    let (mut world, now) = state.lock();
    if !world.items.contains_key(sku) {
        return unknown_sku("PRICE", sku);
    }
    world.set_price(sku, price, UpdateSource::Single, now);
    ok_json(json!({
        "mart": "WALMART_US",
        "sku": sku,
        "message": "Thank you. Your price has been updated. Please allow up to five minutes for this change to be reflected on the site.",
    }))
}
