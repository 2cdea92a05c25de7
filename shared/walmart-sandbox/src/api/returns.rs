//! Returns: `GET /v3/returns` (query-string `nextCursor`) and `POST /v3/returns/{id}/refund`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{AppState, Params, date_param, encode, json_body, limit_param, offset_param, ok_json};
use crate::errors::{ErrorForm, WalmartFault};
use crate::model::OverriddenRecord;
use crate::render;
use crate::world::ReturnOrder;

const FORM: ErrorForm = ErrorForm::Flat;
const SELLER_ID: &str = "100009";

pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let (world, now) = state.lock();
    let parsed = (|| {
        Ok::<_, WalmartFault>((
            date_param(&params, "returnCreationStartDate")?,
            date_param(&params, "returnCreationEndDate")?,
            limit_param(&params, "limit", 10, 200)?,
            offset_param(&params, "offset")?,
        ))
    })();
    let (start, end, limit, offset) = match parsed {
        Ok(p) => p,
        Err(fault) => return fault.into_response(FORM),
    };
    // An open range is closed at "now" so every page of a cursor sees the same returns.
    let end = end.or(start.map(|_| now));
    let status = params.get("status");
    let return_order_id = params.get("returnOrderId");
    let customer_order_id = params.get("customerOrderId");
    let matches = |r: &&ReturnOrder| {
        start.is_none_or(|s| r.created_at >= s)
            && end.is_none_or(|e| r.created_at <= e)
            && status.is_none_or(|s| r.status() == s)
            && return_order_id.is_none_or(|id| r.return_order_id == id)
            && customer_order_id.is_none_or(|id| r.customer_order_id == id)
    };
    let matching: Vec<&ReturnOrder> = world
        .returns_by_date
        .values()
        .filter_map(|id| world.returns.get(id))
        .filter(matches)
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| {
            let record = OverriddenRecord::Return {
                return_order_id: r.return_order_id.clone(),
            };
            world.overridden(&record, render::return_order(r))
        })
        .collect();
    let next_cursor = if offset + limit < matching.len() {
        let mut cursor = format!("?sellerId={SELLER_ID}&limit={limit}&offset={}", offset + limit);
        let filters = [
            ("returnCreationStartDate", start.map(|t| t.to_rfc3339())),
            ("returnCreationEndDate", end.map(|t| t.to_rfc3339())),
            ("status", status.map(str::to_owned)),
            ("returnOrderId", return_order_id.map(str::to_owned)),
            ("customerOrderId", customer_order_id.map(str::to_owned)),
        ];
        for (name, value) in filters {
            if let Some(v) = value {
                cursor.push_str(&format!("&{name}={}", encode(&v)));
            }
        }
        cursor
    } else {
        // The schema requires the field; an empty cursor means the last page.
        String::new()
    };
    ok_json(json!({
        "meta": { "totalCount": matching.len(), "limit": limit, "nextCursor": next_cursor },
        "returnOrders": page,
    }))
}

pub async fn refund(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(fault) => return fault.into_response(FORM),
    };
    let Some(customer_order_id) = body.get("customerOrderId").and_then(Value::as_str) else {
        return WalmartFault::bad_request(
            "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
            "customerOrderId",
            "customerOrderId is required",
        )
        .into_response(FORM);
    };
    let lines: Option<Vec<u32>> = body
        .get("refundLines")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    l.get("returnOrderLineNumber")
                        .and_then(Value::as_u64)
                        .and_then(|n| u32::try_from(n).ok())
                })
                .collect()
        })
        .and_then(|lines: Vec<Option<u32>>| lines.into_iter().collect());
    let Some(lines) = lines else {
        return WalmartFault::bad_request(
            "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
            "refundLines",
            "refundLines[].returnOrderLineNumber is required",
        )
        .into_response(FORM);
    };
    let (mut world, now) = state.lock();
    match world.refund_return(&id, customer_order_id, &lines, now) {
        Ok(()) => ok_json(json!({
            "returnOrderId": id,
            "customerOrderId": customer_order_id,
            "refundLines": lines.iter().map(|n| json!({ "returnOrderLineNumber": n })).collect::<Vec<_>>(),
        })),
        Err(fault) => fault.into_response(FORM),
    }
}
