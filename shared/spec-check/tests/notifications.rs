//! Walmart's notifications API (notifications.json), hand-built exchanges against the real spec:
//! every operation is known, valid requests and answers pass, and what the spec requires is held.

use std::collections::BTreeMap;

use sandbox_kit::Exchange;
use serde_json::{Value, json};
use spec_check::{OpenApi3, Violation};

fn spec() -> &'static OpenApi3 {
    spec_check::walmart_spec().unwrap_or_else(|error| panic!("{error}"))
}

fn walmart_headers() -> BTreeMap<String, String> {
    [
        ("authorization", "Basic Y2xpZW50OnNlY3JldA=="),
        ("wm_sec.access_token", "token"),
        ("wm_svc.name", "Walmart Marketplace"),
        ("wm_qos.correlation_id", "0b8c2a62-3a0e-4d0e-9a53-5d8f1d1f9d01"),
        ("accept", "application/json"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

fn exchange(
    method: &str,
    path: &str,
    request: Option<Value>,
    status: u16,
    response: Option<Value>,
) -> Exchange {
    Exchange {
        seq: 3,
        method: method.to_owned(),
        path: path.to_owned(),
        request_headers: walmart_headers(),
        request_content_type: request.as_ref().map(|_| "application/json".to_owned()),
        request_body: request,
        status,
        response_headers: BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]),
        response_body: response,
        ..Exchange::default()
    }
}

fn lines(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("  {v}\n")).collect()
}

fn assert_clean(exchange: &Exchange) {
    let violations = spec().check(exchange);
    assert!(
        violations.is_empty(),
        "unexpected violations:\n{}",
        lines(&violations)
    );
}

fn subscription_entry() -> Value {
    json!({
        "eventType": "ORDER_UPDATES",
        "eventVersion": "V1",
        "resourceName": "ORDER",
        "eventUrl": "https://channel.example.com/walmart-events",
        "authDetails": { "authMethod": "HMAC", "clientSecret": "s", "authHeaderName": "WM-Signature" },
        "headers": { "content-type": "application/json" },
        "status": "ACTIVE",
    })
}

fn record() -> Value {
    let mut record = subscription_entry();
    record["subscriptionId"] = json!("6763a1f0-b321-11ea-ac13-000000000001");
    record["partnerId"] = json!("100009");
    record
}

#[test]
fn notifications_json_is_loaded_with_every_webhook_operation() {
    let operations = spec().operations();
    for (method, template) in [
        ("GET", "/v3/webhooks/eventTypes"),
        ("GET", "/v3/webhooks/subscriptions"),
        ("POST", "/v3/webhooks/subscriptions"),
        ("PATCH", "/v3/webhooks/subscriptions/{subscriptionId}"),
        ("DELETE", "/v3/webhooks/subscriptions/{subscriptionId}"),
        ("POST", "/v3/webhooks/test"),
    ] {
        assert!(
            operations.contains(&(method.to_owned(), template.to_owned())),
            "{method} {template}"
        );
    }
}

#[test]
fn valid_subscription_exchanges_pass() {
    let create = exchange(
        "POST",
        "/v3/webhooks/subscriptions",
        Some(json!({ "events": [subscription_entry()] })),
        200,
        Some(json!({ "events": [record()] })),
    );
    assert_clean(&create);
    assert_eq!(
        spec().operation_of(&create),
        Some(("POST".to_owned(), "/v3/webhooks/subscriptions".to_owned()))
    );
    assert_clean(&exchange(
        "GET",
        "/v3/webhooks/subscriptions",
        None,
        200,
        Some(json!({ "events": [record()] })),
    ));
    assert_clean(&exchange(
        "PATCH",
        "/v3/webhooks/subscriptions/6763a1f0-b321-11ea-ac13-000000000001",
        Some(json!({ "status": "INACTIVE" })),
        200,
        Some(record()),
    ));
    assert_clean(&exchange(
        "DELETE",
        "/v3/webhooks/subscriptions/6763a1f0-b321-11ea-ac13-000000000001",
        None,
        200,
        Some(
            json!({ "subscriptionId": "6763a1f0-b321-11ea-ac13-000000000001", "message": "Successfully deleted subscription" }),
        ),
    ));
    assert_clean(&exchange(
        "GET",
        "/v3/webhooks/eventTypes",
        None,
        200,
        Some(
            json!({ "eventTypes": [{ "resourceName": "ORDER", "eventType": "ORDER_UPDATES", "eventVersion": "V1", "description": "Order updates" }] }),
        ),
    ));
    let mut test = subscription_entry();
    test.as_object_mut().map(|t| t.remove("status"));
    assert_clean(&exchange(
        "POST",
        "/v3/webhooks/test",
        Some(test),
        200,
        Some(json!({ "message": "Eventurl successfully validated" })),
    ));
}

#[test]
fn a_subscription_without_what_the_spec_requires_is_caught() {
    for missing in ["eventType", "eventVersion", "resourceName", "eventUrl", "status"] {
        let mut entry = subscription_entry();
        entry.as_object_mut().map(|e| e.remove(missing));
        let violations = spec().check(&exchange(
            "POST",
            "/v3/webhooks/subscriptions",
            Some(json!({ "events": [entry] })),
            200,
            Some(json!({ "events": [] })),
        ));
        assert!(
            violations.iter().any(|v| v.what.contains(missing)),
            "{missing}: {}",
            lines(&violations)
        );
    }
    let mut test = subscription_entry();
    test.as_object_mut().map(|t| t.remove("eventUrl"));
    let violations = spec().check(&exchange("POST", "/v3/webhooks/test", Some(test), 200, None));
    assert!(
        violations.iter().any(|v| v.what.contains("eventUrl")),
        "{}",
        lines(&violations)
    );
}

#[test]
fn wrong_types_in_webhook_bodies_and_missing_gateway_headers_are_caught() {
    let mut entry = subscription_entry();
    entry["authDetails"]["clientSecret"] = json!(42);
    let violations = spec().check(&exchange(
        "POST",
        "/v3/webhooks/subscriptions",
        Some(json!({ "events": [entry] })),
        200,
        None,
    ));
    assert!(
        violations.iter().any(|v| v.what.contains("clientSecret")),
        "{}",
        lines(&violations)
    );

    let violations = spec().check(&exchange(
        "GET",
        "/v3/webhooks/eventTypes",
        None,
        200,
        Some(json!({ "eventTypes": [{ "resourceName": "ORDER", "eventType": 5 }] })),
    ));
    assert!(
        violations.iter().any(|v| v.what.starts_with("response")),
        "{}",
        lines(&violations)
    );

    let mut no_token = exchange(
        "GET",
        "/v3/webhooks/subscriptions",
        None,
        200,
        Some(json!({ "events": [] })),
    );
    no_token.request_headers.remove("wm_sec.access_token");
    let violations = spec().check(&no_token);
    assert!(
        violations.iter().any(|v| v.what.contains("WM_SEC.ACCESS_TOKEN")),
        "{}",
        lines(&violations)
    );
}
