//! The bodies Walmart posts: the `ORDER_UPDATES` envelope and the legacy standalone order events.
//! The order part is a summary (ids, date, lines and their statuses), never the buyer's address:
//! the receiver fetches `GET /v3/orders/{purchaseOrderId}` for that.

use domain::Timestamp;
use serde_json::{Value, json};

use super::subscriptions::ORDER_UPDATES;
use crate::world::{LineState, Order, OrderLine};

/// The order changes Walmart announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSubEvent {
    PoCreated,
    PoLineAutoCancelled,
    IntentToCancel,
    FraudCancel,
}

impl OrderSubEvent {
    /// `payload.subEventType` of `ORDER_UPDATES`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSubEvent::PoCreated => "PO_CREATED",
            OrderSubEvent::PoLineAutoCancelled => "PO_LINE_AUTOCANCELLED",
            OrderSubEvent::IntentToCancel => "INTENT_TO_CANCEL",
            OrderSubEvent::FraudCancel => "FRAUD_CANCEL",
        }
    }

    /// The legacy standalone event type announcing the same change, if there is one.
    pub fn legacy_event_type(self) -> Option<&'static str> {
        match self {
            OrderSubEvent::FraudCancel => None,
            other => Some(other.as_str()),
        }
    }

    fn cancels(self) -> bool {
        matches!(
            self,
            OrderSubEvent::PoLineAutoCancelled | OrderSubEvent::FraudCancel
        )
    }
}

/// The cancellation reason Walmart's own cancellations leave on the line.
pub const AUTO_CANCEL_REASON: &str = "AUTO_CANCEL";
pub const FRAUD_CANCEL_REASON: &str = "FRAUD_CANCEL";

/// The event a Walmart-side cancellation with `reason` produces: Walmart announces its
/// auto-cancellations and fraud cancellations; a buyer cannot cancel a released order directly
/// (the buyer's way is the intent to cancel), so other reasons announce nothing.
pub fn cancellation_event(reason: &str) -> Option<OrderSubEvent> {
    let upper = reason.to_ascii_uppercase();
    if upper.contains("FRAUD") {
        Some(OrderSubEvent::FraudCancel)
    } else if upper.contains("AUTO") {
        Some(OrderSubEvent::PoLineAutoCancelled)
    } else {
        None
    }
}

/// The state most of a line's units are in (the earlier one on a tie), as the summary shows it.
fn line_status(line: &OrderLine) -> LineState {
    [
        LineState::Created,
        LineState::Acknowledged,
        LineState::Shipped,
        LineState::Cancelled,
    ]
    .into_iter()
    .rev()
    .max_by_key(|state| line.quantity_in(*state))
    .unwrap_or(LineState::Created)
}

fn line_summary(line: &OrderLine, sub_event: OrderSubEvent) -> Value {
    let cancelled = sub_event.cancels() && line.quantity_in(LineState::Cancelled) > 0;
    let status = if cancelled {
        LineState::Cancelled
    } else {
        line_status(line)
    };
    let reason = line
        .statuses
        .iter()
        .filter(|s| s.state == LineState::Cancelled)
        .find_map(|s| s.cancellation_reason.clone());
    json!({
        "lineNumber": line.number.to_string(),
        "sku": line.sku,
        "productName": line.product_name,
        "quantity": { "unitOfMeasure": "EACH", "measurementValue": line.quantity.to_string() },
        "status": status.as_str().to_ascii_uppercase(),
        "statusDate": line.status_date.to_rfc3339(),
        "intentToCancel": if line.intent_to_cancel { "Y" } else { "N" },
        "cancellationReason": if status == LineState::Cancelled { reason } else { None },
    })
}

/// The order summary: every line for a new order, the lines concerned for the others.
pub fn order_summary(partner_id: &str, order: &Order, sub_event: OrderSubEvent, lines: &[u32]) -> Value {
    let order_lines: Vec<Value> = order
        .lines
        .iter()
        .filter(|line| lines.is_empty() || lines.contains(&line.number))
        .map(|line| line_summary(line, sub_event))
        .collect();
    json!({
        "partnerId": partner_id,
        "purchaseOrderId": order.purchase_order_id,
        "customerOrderId": order.customer_order_id,
        "orderDate": order.order_date.to_rfc3339(),
        "orderLines": order_lines,
    })
}

/// `ORDER_UPDATES` V1.
pub fn order_updates(
    event_id: &str,
    event_time: Timestamp,
    sub_event: OrderSubEvent,
    summary: &Value,
) -> Value {
    json!({
        "source": {
            "eventType": ORDER_UPDATES,
            "eventFilters": null,
            "eventTime": event_time.to_rfc3339(),
            "eventId": event_id,
        },
        "payload": {
            "subEventType": sub_event.as_str(),
            "order": summary,
        },
        "meta": {
            "eventVersion": "V1",
            "resourceName": "ORDER",
            "subEventType": sub_event.as_str(),
        },
    })
}

/// A legacy standalone event (`PO_CREATED`, `PO_LINE_AUTOCANCELLED`, `INTENT_TO_CANCEL`): the
/// order summary is the payload itself.
pub fn legacy(event_id: &str, event_time: Timestamp, event_type: &str, summary: &Value) -> Value {
    json!({
        "source": {
            "eventType": event_type,
            "eventTime": event_time.to_rfc3339(),
            "eventId": event_id,
        },
        "payload": summary,
    })
}

/// The sample `POST /v3/webhooks/test` sends for an event type: an order event's envelope around
/// a made-up order; for the other resources, the legacy-style envelope around a sample marker.
pub fn sample(event_id: &str, event_time: Timestamp, partner_id: &str, event_type: &str) -> Value {
    let order_event =
        super::subscriptions::event_type(event_type).is_some_and(|spec| spec.resource_name == "ORDER");
    if !order_event {
        let payload = json!({ "partnerId": partner_id, "sample": true });
        return legacy(event_id, event_time, event_type, &payload);
    }
    let summary = json!({
        "partnerId": partner_id,
        "purchaseOrderId": "1796000000000",
        "customerOrderId": "5400000000000",
        "orderDate": event_time.to_rfc3339(),
        "orderLines": [{
            "lineNumber": "1",
            "sku": "SAMPLE-SKU",
            "productName": "Sample item",
            "quantity": { "unitOfMeasure": "EACH", "measurementValue": "1" },
            "status": "CREATED",
            "statusDate": event_time.to_rfc3339(),
            "intentToCancel": "N",
            "cancellationReason": null,
        }],
    });
    if event_type == ORDER_UPDATES {
        order_updates(event_id, event_time, OrderSubEvent::PoCreated, &summary)
    } else {
        legacy(event_id, event_time, event_type, &summary)
    }
}
