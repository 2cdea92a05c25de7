//! `/v3/webhooks/...`: event types, subscriptions (create, list, update, delete) and the test
//! notification. Behind the same gateway as every Walmart route (headers, token); errors in the
//! `{"errors": [..]}` form.
//!
//! Response shapes follow the spec's examples where its schema and examples disagree (they still
//! validate against the schema): create and list answer `{"events": [record, ..]}`, update answers
//! the record itself, event types answer `{"eventTypes": [..]}` as the schema names it.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::PARTNER_ID;
use super::delivery::{Target, http_client, post};
use super::events;
use super::model::{DeliveryAttempt, DeliveryOutcome};
use super::subscriptions::{
    self, Subscription, SubscriptionStatus, check_url, fault, not_found, parse_auth, parse_destination,
    parse_headers, parse_status,
};
use crate::api::{AppState, Params, json_body, ok_json};
use crate::errors::{ErrorForm, WalmartFault};

const FORM: ErrorForm = ErrorForm::Flat;

fn object(body: &[u8]) -> Result<Map<String, Value>, WalmartFault> {
    match json_body(body)? {
        Value::Object(object) => Ok(object),
        _ => Err(fault("body", "The request body must be a JSON object")),
    }
}

pub async fn event_types(State(state): State<AppState>) -> Response {
    let now = state.clock.now();
    let types: Vec<Value> = subscriptions::available_event_types(now)
        .map(|spec| {
            json!({
                "resourceName": spec.resource_name,
                "eventType": spec.event_type,
                "eventVersion": spec.event_version,
                "description": spec.description,
            })
        })
        .collect();
    ok_json(json!({ "eventTypes": types }))
}

pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let status = params.get("status");
    if let Some(status) = status.filter(|s| !matches!(*s, "ACTIVE" | "INACTIVE")) {
        return fault("status", format!("status {status:?} is not ACTIVE or INACTIVE")).into_response(FORM);
    }
    let (world, _) = state.lock();
    let records: Vec<Value> = world
        .webhooks
        .subscriptions
        .values()
        .filter(|s| {
            params
                .get("subscriptionId")
                .is_none_or(|id| s.subscription_id == id)
        })
        .filter(|s| params.get("eventType").is_none_or(|t| s.event_type == t))
        .filter(|s| params.get("resourceName").is_none_or(|r| s.resource_name == r))
        .filter(|s| status.is_none_or(|st| s.status.as_str() == st))
        .map(Subscription::render)
        .collect();
    ok_json(json!({ "events": records }))
}

/// Creates every subscription of `events`, or none: a bad entry, or a second subscription for an
/// event type (already subscribed or twice in the request), refuses the whole request.
pub async fn create(State(state): State<AppState>, body: Bytes) -> Response {
    let result = (|| {
        let body = object(&body)?;
        let entries = match body.get("events") {
            Some(Value::Array(entries)) if !entries.is_empty() => entries,
            _ => return Err(fault("events", "events must be a non-empty array")),
        };
        let (mut world, now) = state.lock();
        let mut created: Vec<Subscription> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("events[{i}].");
            let Value::Object(entry) = entry else {
                return Err(fault(&format!("events[{i}]"), "each event must be an object"));
            };
            let destination = parse_destination(entry, &at, now)?;
            let status = parse_status(entry, &at, true)?.unwrap_or(SubscriptionStatus::Active);
            let event_type = destination.event_type.event_type;
            let taken = world
                .webhooks
                .subscriptions
                .values()
                .chain(created.iter())
                .any(|s| s.event_type == event_type);
            if taken {
                return Err(fault(
                    &format!("{at}eventType"),
                    format!("A subscription for {event_type} exists; update it instead"),
                ));
            }
            created.push(Subscription {
                subscription_id: world.webhooks.new_subscription_id(now),
                partner_id: PARTNER_ID.to_owned(),
                event_type: event_type.to_owned(),
                event_version: destination.event_type.event_version.to_owned(),
                resource_name: destination.event_type.resource_name.to_owned(),
                event_url: destination.event_url,
                headers: destination.headers,
                auth: destination.auth,
                status,
            });
        }
        let records: Vec<Value> = created.iter().map(Subscription::render).collect();
        for subscription in created {
            world
                .webhooks
                .subscriptions
                .insert(subscription.subscription_id.clone(), subscription);
        }
        Ok(json!({ "events": records }))
    })();
    match result {
        Ok(body) => ok_json(body),
        Err(fault) => fault.into_response(FORM),
    }
}

/// Changes what the request names; the event type and resource cannot change.
pub async fn update(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    let result = (|| {
        let body = object(&body)?;
        let (mut world, now) = state.lock();
        let current = world
            .webhooks
            .subscriptions
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(&id))?;
        let mut next = current.clone();
        for (name, fixed) in [
            ("eventType", &current.event_type),
            ("resourceName", &current.resource_name),
        ] {
            let changed = body
                .get(name)
                .filter(|v| !v.is_null())
                .is_some_and(|v| v.as_str() != Some(fixed.as_str()));
            if changed {
                return Err(fault(
                    name,
                    format!("{name} of a subscription cannot change ({fixed})"),
                ));
            }
        }
        if let Some(version) = body.get("eventVersion").filter(|v| !v.is_null()) {
            let offered = subscriptions::event_type(&current.event_type)
                .filter(|spec| spec.available(now))
                .map(|spec| spec.event_version);
            if version.as_str().is_none() || version.as_str() != offered {
                return Err(fault(
                    "eventVersion",
                    format!("eventVersion {version} is not offered for {}", current.event_type),
                ));
            }
        }
        if let Some(url) = body.get("eventUrl").filter(|v| !v.is_null()) {
            let url = url
                .as_str()
                .ok_or_else(|| fault("eventUrl", "eventUrl must be a string"))?;
            next.event_url = check_url(url, "eventUrl")?;
        }
        if body.get("headers").is_some() {
            next.headers = parse_headers(body.get("headers"), "")?;
        }
        if body.get("authDetails").is_some() {
            next.auth = parse_auth(body.get("authDetails"), "")?;
        }
        if let Some(status) = parse_status(&body, "", false)? {
            next.status = status;
        }
        let record = next.render();
        world.webhooks.subscriptions.insert(id.clone(), next);
        Ok(record)
    })();
    match result {
        Ok(body) => ok_json(body),
        Err(fault) => fault.into_response(FORM),
    }
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (mut world, _) = state.lock();
    match world.webhooks.remove_subscription(&id) {
        Some(_) => ok_json(json!({
            "subscriptionId": id,
            "message": "Successfully deleted subscription",
        })),
        None => not_found(&id).into_response(FORM),
    }
}

/// Sends a sample of the event type to the URL now, with the given auth, and says whether the
/// destination answered 2xx (200) or not (400 naming what it got). Logged like a delivery.
pub async fn test(State(state): State<AppState>, body: Bytes) -> Response {
    let prepared = (|| {
        let body = object(&body)?;
        let (mut world, now) = state.lock();
        let destination = parse_destination(&body, "", now)?;
        let seed = world.settings.webhooks.seed;
        let (_, event_id) = world.webhooks.event_id(seed);
        let event_type = destination.event_type.event_type;
        let sample = events::sample(&event_id, now, PARTNER_ID, event_type);
        let timeout = Duration::from_millis(world.settings.webhooks.timeout_ms);
        let target = Target {
            event_url: destination.event_url,
            headers: destination.headers,
            auth: destination.auth,
        };
        Ok::<_, WalmartFault>((target, sample, event_id, event_type, now, timeout))
    })();
    let (target, sample, event_id, event_type, now, timeout) = match prepared {
        Ok(prepared) => prepared,
        Err(fault) => return fault.into_response(FORM),
    };
    let body = sample.to_string().into_bytes();
    let outcome = post(&http_client(), &target, &body, timeout).await;
    let (mut world, finished_at) = state.lock();
    world.webhooks.log.push(DeliveryAttempt {
        event_id,
        subscription_id: None,
        event_type: event_type.to_owned(),
        sub_event_type: sample
            .pointer("/payload/subEventType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        purchase_order_id: None,
        event_url: target.event_url.clone(),
        event_time: now,
        attempt: 1,
        copy: 0,
        sent_at: now,
        finished_at,
        outcome: outcome.clone(),
        will_retry: false,
    });
    let problem = match outcome {
        DeliveryOutcome::Delivered { .. } => {
            return ok_json(json!({ "message": "Eventurl successfully validated" }));
        }
        DeliveryOutcome::Rejected { status } => format!("the destination answered HTTP {status}"),
        DeliveryOutcome::TimedOut => "the destination did not answer in time".to_owned(),
        DeliveryOutcome::Failed { message } => message,
        DeliveryOutcome::Dropped | DeliveryOutcome::SubscriptionGone => "not sent".to_owned(),
    };
    WalmartFault::new(
        StatusCode::BAD_REQUEST,
        "EVENT_URL_VALIDATION_FAILED.GMP_WEBHOOKS_API",
        format!("Eventurl {} could not be validated: {problem}", target.event_url),
    )
    .into_response(FORM)
}
