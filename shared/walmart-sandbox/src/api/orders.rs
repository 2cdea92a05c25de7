//! Orders: lists (with Walmart's query-string `nextCursor` and its 404 for "no orders"), one order,
//! and the seller's line updates: acknowledge, shipping, cancel, refund.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use domain::{Money, Timestamp};
use serde_json::{Value, json};

use super::{AppState, Params, date_param, encode, json_body, limit_param, offset_param, ok_json};
use crate::errors::{ErrorForm, WalmartFault};
use crate::model::{CancelledBy, OverriddenRecord};
use crate::render::{self, DateStyle};
use crate::world::{
    CancelRequestLine, KNOWN_CARRIERS, LineState, METHOD_CODES, Order, REFUND_REASONS, RefundRequestLine,
    SELLER_CANCEL_REASONS, ShipRequestLine, Tracking, World,
};

const FORM: ErrorForm = ErrorForm::Wrapped;
const SELLER_ID: &str = "100009";

fn bad(field: &str, description: impl Into<String>) -> WalmartFault {
    WalmartFault::bad_request("INVALID_REQUEST_CONTENT.GMP_ORDER_API", field, description)
}

/// The filters of one order list request, with open date ranges closed at "now" so the pages of a
/// cursor see the same set.
struct OrderQuery {
    released: bool,
    created: (Option<Timestamp>, Option<Timestamp>),
    modified: (Option<Timestamp>, Option<Timestamp>),
    status: Option<String>,
    sku: Option<String>,
    purchase_order_id: Option<String>,
    customer_order_id: Option<String>,
    limit: usize,
    offset: usize,
}

impl OrderQuery {
    fn parse(params: &Params, released: bool, now: Timestamp) -> Result<Self, WalmartFault> {
        let mut created = (
            date_param(params, "createdStartDate")?,
            date_param(params, "createdEndDate")?,
        );
        let mut modified = if released {
            (None, None)
        } else {
            (
                date_param(params, "lastModifiedStartDate")?,
                date_param(params, "lastModifiedEndDate")?,
            )
        };
        if created.0.is_none() {
            // Walmart's default, whatever other filter is given: orders created in the last 7 days.
            created.0 = Some(now.minus(Duration::from_secs(7 * 24 * 3600)));
        }
        if created.0.is_some() && created.1.is_none() {
            created.1 = Some(now);
        }
        if modified.0.is_some() && modified.1.is_none() {
            modified.1 = Some(now);
        }
        Ok(Self {
            released,
            created,
            modified,
            status: params.get("status").map(str::to_owned),
            sku: params.get("sku").map(str::to_owned),
            purchase_order_id: params.get("purchaseOrderId").map(str::to_owned),
            customer_order_id: params.get("customerOrderId").map(str::to_owned),
            limit: limit_param(params, "limit", 100, 200)?,
            offset: offset_param(params, "soIndex")?,
        })
    }

    fn matches(&self, order: &Order) -> bool {
        let within = |t: Timestamp, (start, end): (Option<Timestamp>, Option<Timestamp>)| {
            start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
        };
        within(order.order_date, self.created)
            && within(order.modified_at, self.modified)
            && (!self.released || order.has_state(LineState::Created))
            && self.status.as_deref().is_none_or(|s| {
                order
                    .lines
                    .iter()
                    .any(|l| l.statuses.iter().any(|q| q.state.as_str() == s && q.quantity > 0))
            })
            && self
                .sku
                .as_deref()
                .is_none_or(|s| order.lines.iter().any(|l| l.sku == s))
            && self
                .purchase_order_id
                .as_deref()
                .is_none_or(|p| p == order.purchase_order_id)
            && self
                .customer_order_id
                .as_deref()
                .is_none_or(|c| c == order.customer_order_id)
    }

    /// Walmart's `nextCursor`: the whole query string of the next page.
    fn next_cursor(&self) -> String {
        let next = self.offset + self.limit;
        let mut cursor = format!(
            "?limit={}&hasMoreElements=true&soIndex={next}&poIndex={next}&partnerId={SELLER_ID}&sellerId={SELLER_ID}",
            self.limit
        );
        let mut add = |name: &str, value: &str| {
            cursor.push('&');
            cursor.push_str(name);
            cursor.push('=');
            cursor.push_str(&encode(value));
        };
        let dates = [
            ("createdStartDate", self.created.0),
            ("createdEndDate", self.created.1),
            ("lastModifiedStartDate", self.modified.0),
            ("lastModifiedEndDate", self.modified.1),
        ];
        for (name, value) in dates {
            if let Some(t) = value {
                add(name, &t.to_rfc3339());
            }
        }
        let filters = [
            ("status", &self.status),
            ("sku", &self.sku),
            ("purchaseOrderId", &self.purchase_order_id),
            ("customerOrderId", &self.customer_order_id),
        ];
        for (name, value) in filters {
            if let Some(v) = value {
                add(name, v);
            }
        }
        cursor
    }
}

fn list_orders(state: &AppState, query: Option<String>, released: bool) -> Response {
    let params = Params::parse(query.as_deref());
    let (world, now) = state.lock();
    let request = match OrderQuery::parse(&params, released, now) {
        Ok(q) => q,
        Err(fault) => return fault.into_response(FORM),
    };
    let candidates: Box<dyn Iterator<Item = &String>> = match request.created {
        (Some(start), Some(end)) if start <= end => Box::new(
            world
                .orders_by_date
                .range((start, 0)..=(end, u64::MAX))
                .map(|(_, id)| id),
        ),
        (Some(_), Some(_)) => Box::new(std::iter::empty()),
        _ => Box::new(world.orders_by_date.values()),
    };
    let matching: Vec<&Order> = candidates
        .filter_map(|id| world.orders.get(id))
        .filter(|o| request.matches(o))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(request.offset)
        .take(request.limit)
        .map(|o| world.overridden(&order_record(o), render::order(o, DateStyle::EpochMillis)))
        .collect();
    if page.is_empty() {
        return WalmartFault::not_found(
            "CONTENT_NOT_FOUND.GMP_ORDER_API",
            "No orders found for the given criteria",
        )
        .into_response(FORM);
    }
    let mut meta = json!({ "totalCount": matching.len(), "limit": request.limit });
    if request.offset + request.limit < matching.len() {
        meta["nextCursor"] = json!(request.next_cursor());
    }
    ok_json(json!({ "list": { "meta": meta, "elements": { "order": page } } }))
}

/// The override target of an order (`POST /_sandbox/overrides`).
fn order_record(order: &Order) -> OverriddenRecord {
    OverriddenRecord::Order {
        purchase_order_id: order.purchase_order_id.clone(),
    }
}

pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    list_orders(&state, query, false)
}

pub async fn list_released(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    list_orders(&state, query, true)
}

pub async fn get_one(State(state): State<AppState>, Path(po): Path<String>) -> Response {
    let (world, _) = state.lock();
    match world.order(&po) {
        Ok(order) => {
            ok_json(world.overridden(&order_record(order), render::order(order, DateStyle::Rfc3339)))
        }
        Err(fault) => fault.into_response(FORM),
    }
}

fn updated(world: &World, po: &str) -> Response {
    match world.order(po) {
        Ok(order) => ok_json(json!({
            "order": world.overridden(&order_record(order), render::order(order, DateStyle::EpochMillis)),
        })),
        Err(fault) => fault.into_response(FORM),
    }
}

pub async fn acknowledge(State(state): State<AppState>, Path(po): Path<String>) -> Response {
    let (mut world, now) = state.lock();
    match world.acknowledge(&po, now) {
        Ok(()) => updated(&world, &po),
        Err(fault) => fault.into_response(FORM),
    }
}

/// `orderLines.orderLine[]` of a request body under `wrapper`.
fn order_lines<'a>(body: &'a Value, wrapper: &str) -> Result<&'a Vec<Value>, WalmartFault> {
    body.get(wrapper)
        .and_then(|w| w.get("orderLines"))
        .and_then(|l| l.get("orderLine"))
        .and_then(Value::as_array)
        .filter(|lines| !lines.is_empty())
        .ok_or_else(|| {
            bad(
                "orderLines",
                format!("{wrapper}.orderLines.orderLine must list at least one line"),
            )
        })
}

fn line_number(line: &Value) -> Result<u32, WalmartFault> {
    line.get("lineNumber")
        .and_then(Value::as_str)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad("lineNumber", "lineNumber must be a line number string"))
}

fn line_statuses(line: &Value) -> Result<&Vec<Value>, WalmartFault> {
    line.get("orderLineStatuses")
        .and_then(|s| s.get("orderLineStatus"))
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            bad(
                "orderLineStatuses",
                "orderLineStatuses.orderLineStatus is required",
            )
        })
}

fn status_quantity(status: &Value) -> Result<u32, WalmartFault> {
    let quantity = status.get("statusQuantity");
    if !matches!(
        quantity
            .and_then(|q| q.get("unitOfMeasurement"))
            .and_then(Value::as_str),
        Some("EACH" | "EA")
    ) {
        return Err(bad(
            "statusQuantity.unitOfMeasurement",
            "unitOfMeasurement must be EACH",
        ));
    }
    quantity
        .and_then(|q| q.get("amount"))
        .and_then(Value::as_str)
        .and_then(|a| a.parse::<u32>().ok())
        .filter(|a| *a > 0)
        .ok_or_else(|| {
            bad(
                "statusQuantity.amount",
                "statusQuantity.amount must be a positive whole number string",
            )
        })
}

fn expect_status(status: &Value, wanted: &str) -> Result<(), WalmartFault> {
    match status.get("status").and_then(Value::as_str) {
        Some(s) if s == wanted => Ok(()),
        other => Err(bad("status", format!("status must be {wanted}, not {other:?}"))),
    }
}

fn tracking(status: &Value) -> Result<Tracking, WalmartFault> {
    let info = status
        .get("trackingInfo")
        .ok_or_else(|| bad("trackingInfo", "trackingInfo is required to ship"))?;
    let ship_date_time = info.get("shipDateTime").and_then(Value::as_i64).ok_or_else(|| {
        bad(
            "trackingInfo.shipDateTime",
            "shipDateTime must be epoch milliseconds",
        )
    })?;
    let method_code = info
        .get("methodCode")
        .and_then(Value::as_str)
        .filter(|m| METHOD_CODES.contains(m))
        .ok_or_else(|| {
            bad(
                "trackingInfo.methodCode",
                format!("methodCode must be one of {METHOD_CODES:?}"),
            )
        })?;
    let tracking_number = info
        .get("trackingNumber")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad("trackingInfo.trackingNumber", "trackingNumber is required"))?;
    let carrier_name = info.get("carrierName");
    let carrier = carrier_name
        .and_then(|c| c.get("carrier"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let other_carrier = carrier_name
        .and_then(|c| c.get("otherCarrier"))
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty())
        .map(str::to_owned);
    let tracking_url = info
        .get("trackingURL")
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty())
        .map(str::to_owned);
    match (&carrier, &other_carrier) {
        (Some(c), _) if !KNOWN_CARRIERS.contains(&c.as_str()) => {
            return Err(bad(
                "trackingInfo.carrierName.carrier",
                format!("Unknown carrier {c}; use otherCarrier with a trackingURL"),
            ));
        }
        (None, None) => {
            return Err(bad(
                "trackingInfo.carrierName",
                "carrierName needs carrier or otherCarrier",
            ));
        }
        (None, Some(_)) if tracking_url.is_none() => {
            return Err(bad(
                "trackingInfo.trackingURL",
                "otherCarrier needs a trackingURL",
            ));
        }
        _ => {}
    }
    Ok(Tracking {
        ship_date_time,
        carrier,
        other_carrier,
        method_code: method_code.to_owned(),
        tracking_number: tracking_number.to_owned(),
        tracking_url,
    })
}

fn parse_shipment(body: &Value) -> Result<Vec<ShipRequestLine>, WalmartFault> {
    let mut lines = Vec::new();
    for line in order_lines(body, "orderShipment")? {
        let number = line_number(line)?;
        let seller_order_id = line
            .get("sellerOrderId")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad("sellerOrderId", "sellerOrderId is required"))?;
        let intent_to_cancel_override = match line.get("intentToCancelOverride") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(bad(
                    "intentToCancelOverride",
                    "intentToCancelOverride must be a boolean",
                ));
            }
        };
        for status in line_statuses(line)? {
            expect_status(status, "Shipped")?;
            lines.push(ShipRequestLine {
                line: number,
                quantity: status_quantity(status)?,
                seller_order_id: seller_order_id.to_owned(),
                tracking: tracking(status)?,
                intent_to_cancel_override,
            });
        }
    }
    Ok(lines)
}

pub async fn ship(State(state): State<AppState>, Path(po): Path<String>, body: Bytes) -> Response {
    let lines = match json_body(&body).and_then(|b| parse_shipment(&b)) {
        Ok(lines) => lines,
        Err(fault) => return fault.into_response(FORM),
    };
    let (mut world, now) = state.lock();
    match world.ship(&po, lines, now) {
        Ok(()) => updated(&world, &po),
        Err(fault) => fault.into_response(FORM),
    }
}

fn parse_cancellation(body: &Value) -> Result<Vec<CancelRequestLine>, WalmartFault> {
    let mut lines = Vec::new();
    for line in order_lines(body, "orderCancellation")? {
        let number = line_number(line)?;
        for status in line_statuses(line)? {
            expect_status(status, "Cancelled")?;
            let reason = status
                .get("cancellationReason")
                .and_then(Value::as_str)
                .filter(|r| SELLER_CANCEL_REASONS.contains(r))
                .ok_or_else(|| {
                    bad(
                        "cancellationReason",
                        format!("cancellationReason must be one of {SELLER_CANCEL_REASONS:?}"),
                    )
                })?;
            lines.push(CancelRequestLine {
                line: number,
                quantity: status_quantity(status)?,
                reason: reason.to_owned(),
            });
        }
    }
    Ok(lines)
}

pub async fn cancel(State(state): State<AppState>, Path(po): Path<String>, body: Bytes) -> Response {
    let lines = match json_body(&body).and_then(|b| parse_cancellation(&b)) {
        Ok(lines) => lines,
        Err(fault) => return fault.into_response(FORM),
    };
    let (mut world, now) = state.lock();
    match world.cancel(&po, lines, CancelledBy::Seller, now) {
        Ok(()) => updated(&world, &po),
        Err(fault) => fault.into_response(FORM),
    }
}

fn negative_amount(value: Option<&Value>, field: &str) -> Result<Money, WalmartFault> {
    let amount = value
        .and_then(|a| a.get("amount"))
        .and_then(Value::as_f64)
        .ok_or_else(|| bad(field, format!("{field}.amount is required")))?;
    if value.and_then(|a| a.get("currency")).and_then(Value::as_str) != Some("USD") {
        return Err(bad(field, format!("{field}.currency must be USD")));
    }
    if amount > 0.0 {
        return Err(bad(field, format!("{field}.amount of a refund must be negative")));
    }
    Money::from_decimal(-amount).map_err(|_| bad(field, format!("{field}.amount is not an amount")))
}

fn parse_refund(po: &str, body: &Value) -> Result<Vec<RefundRequestLine>, WalmartFault> {
    let refund = body.get("orderRefund");
    if refund
        .and_then(|r| r.get("purchaseOrderId"))
        .and_then(Value::as_str)
        != Some(po)
    {
        return Err(bad(
            "purchaseOrderId",
            format!("orderRefund.purchaseOrderId must be {po}"),
        ));
    }
    let mut lines = Vec::new();
    for line in order_lines(body, "orderRefund")? {
        let number = line_number(line)?;
        let refunds = line
            .get("refunds")
            .and_then(|r| r.get("refund"))
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| bad("refunds", "refunds.refund must list at least one refund"))?;
        for refund in refunds {
            let comments = refund
                .get("refundComments")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let charges = refund
                .get("refundCharges")
                .and_then(|c| c.get("refundCharge"))
                .and_then(Value::as_array)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| bad("refundCharges", "refundCharges.refundCharge is required"))?;
            for charge in charges {
                let reason = charge
                    .get("refundReason")
                    .and_then(Value::as_str)
                    .filter(|r| REFUND_REASONS.contains(r))
                    .ok_or_else(|| {
                        bad(
                            "refundReason",
                            "refundReason must be one of Walmart's refund reasons",
                        )
                    })?;
                let detail = charge.get("charge");
                let amount = negative_amount(detail.and_then(|c| c.get("chargeAmount")), "chargeAmount")?;
                let tax = match detail.and_then(|c| c.get("tax")) {
                    Some(tax) => negative_amount(tax.get("taxAmount"), "taxAmount")?,
                    None => Money::ZERO,
                };
                lines.push(RefundRequestLine {
                    line: number,
                    reason: reason.to_owned(),
                    amount,
                    tax,
                    comments: comments.clone(),
                });
            }
        }
    }
    Ok(lines)
}

pub async fn refund(State(state): State<AppState>, Path(po): Path<String>, body: Bytes) -> Response {
    let lines = match json_body(&body).and_then(|b| parse_refund(&po, &b)) {
        Ok(lines) => lines,
        Err(fault) => return fault.into_response(FORM),
    };
    let (mut world, now) = state.lock();
    match world.refund(&po, lines, now) {
        Ok(()) => updated(&world, &po),
        Err(fault) => fault.into_response(FORM),
    }
}
