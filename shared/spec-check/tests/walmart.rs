//! Walmart exchanges, hand-built, against the real spec files.

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
    query: &[(&str, &str)],
    status: u16,
    response: Option<Value>,
) -> Exchange {
    Exchange {
        seq: 7,
        method: method.to_owned(),
        path: path.to_owned(),
        query: query
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        request_headers: walmart_headers(),
        status,
        response_headers: BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]),
        response_body: response,
        ..Exchange::default()
    }
}

fn order() -> Value {
    json!({
        "purchaseOrderId": "1796277083022",
        "customerOrderId": "5281956426648",
        "customerEmailId": "relay@example.invalid",
        "orderDate": 1_700_000_000_000_i64,
        "shippingInfo": {
            "phone": "0000000000",
            "estimatedDeliveryDate": 1_700_400_000_000_i64,
            "estimatedShipDate": 1_700_100_000_000_i64,
            "methodCode": "Standard",
            "postalAddress": {
                "name": "Test Buyer", "address1": "1 Test St", "city": "Bentonville",
                "state": "AR", "postalCode": "72716", "country": "USA", "addressType": "RESIDENTIAL"
            }
        },
        "orderLines": {"orderLine": [{
            "lineNumber": "1",
            "item": {"productName": "Widget", "sku": "SKU-1"},
            "charges": {"charge": [{
                "chargeType": "PRODUCT",
                "chargeName": "ItemPrice",
                "chargeAmount": {"currency": "USD", "amount": 19.99},
                "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": 1.6}}
            }]},
            "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
            "statusDate": 1_700_000_100_000_i64,
            "orderLineStatuses": {"orderLineStatus": [{
                "status": "Created",
                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}
            }]}
        }]}
    })
}

fn orders_page(orders: Vec<Value>) -> Value {
    json!({"list": {
        "meta": {"totalCount": orders.len(), "limit": 100, "nextCursor": "?limit=100&hasMoreElements=true&soIndex=1"},
        "elements": {"order": orders}
    }})
}

fn assert_clean(violations: &[Violation]) {
    assert!(
        violations.is_empty(),
        "unexpected violations:\n{}",
        lines(violations)
    );
}

fn lines(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|violation| format!("  {violation}\n"))
        .collect()
}

#[test]
fn merges_every_file_and_knows_the_operations_the_channel_uses() {
    let operations = spec().operations();
    for (method, template) in [
        ("POST", "/v3/token"),
        ("GET", "/v3/items"),
        ("GET", "/v3/items/{id}"),
        ("POST", "/v3/feeds"),
        ("GET", "/v3/feeds/{feedId}"),
        ("GET", "/v3/inventory"),
        ("PUT", "/v3/inventory"),
        ("PUT", "/v3/price"),
        ("GET", "/v3/orders"),
        ("GET", "/v3/orders/released"),
        ("POST", "/v3/orders/{purchaseOrderId}/acknowledge"),
        ("POST", "/v3/orders/{purchaseOrderId}/shipping"),
        ("POST", "/v3/orders/{purchaseOrderId}/cancel"),
        ("POST", "/v3/orders/{purchaseOrderId}/refund"),
        ("GET", "/v3/returns"),
        ("POST", "/v3/returns/{returnOrderId}/refund"),
    ] {
        assert!(
            operations.contains(&(method.to_owned(), template.to_owned())),
            "{method} {template}"
        );
    }
}

#[test]
fn a_valid_orders_page_passes() {
    let exchange = exchange(
        "GET",
        "/v3/orders",
        &[("createdStartDate", "2026-01-01T00:00:00Z"), ("limit", "100")],
        200,
        Some(orders_page(vec![order()])),
    );
    assert_clean(&spec().check(&exchange));
}

#[test]
fn a_wrong_type_inside_an_order_line_is_caught_with_its_pointer() {
    let mut bad = order();
    bad["orderLines"]["orderLine"][0]["lineNumber"] = json!(1);
    let exchange = exchange(
        "GET",
        "/v3/orders",
        &[],
        200,
        Some(orders_page(vec![order(), bad])),
    );
    let violations = spec().check(&exchange);
    assert_eq!(violations.len(), 1, "{}", lines(&violations));
    let what = &violations[0].what;
    assert!(
        what.contains("response 200 body /list/elements/order/1/orderLines/orderLine/0/lineNumber"),
        "{what}"
    );
    assert!(what.contains("string"), "{what}");
    assert_eq!((violations[0].seq, violations[0].method.as_str()), (7, "GET"));
}

#[test]
fn a_missing_enum_value_and_a_missing_required_field_are_caught() {
    let mut bad = order();
    bad["shippingInfo"]["methodCode"] = json!("Teleport");
    bad.as_object_mut().unwrap().remove("customerOrderId");
    let exchange = exchange("GET", "/v3/orders", &[], 200, Some(orders_page(vec![bad])));
    let text = lines(&spec().check(&exchange));
    assert!(
        text.contains("/list/elements/order/0/shippingInfo/methodCode"),
        "{text}"
    );
    assert!(text.contains("customerOrderId"), "{text}");
}

#[test]
fn a_request_missing_the_access_token_is_caught() {
    let mut exchange = exchange("GET", "/v3/orders", &[], 200, Some(orders_page(vec![])));
    exchange.request_headers.remove("wm_sec.access_token");
    let violations = spec().check(&exchange);
    assert_eq!(violations.len(), 1, "{}", lines(&violations));
    assert_eq!(violations[0].what, "missing required header WM_SEC.ACCESS_TOKEN");

    // Names compare case-insensitively: a hand-built exchange with Walmart's own spelling passes.
    let mut exchange = exchange.clone();
    exchange
        .request_headers
        .insert("WM_SEC.ACCESS_TOKEN".to_owned(), "token".to_owned());
    assert_clean(&spec().check(&exchange));
}

#[test]
fn the_other_required_headers_are_enforced_too() {
    for header in ["authorization", "wm_svc.name", "wm_qos.correlation_id"] {
        let mut exchange = exchange("GET", "/v3/orders", &[], 404, None);
        exchange.request_headers.remove(header);
        let violations = spec().check(&exchange);
        assert_eq!(violations.len(), 1, "{header}: {}", lines(&violations));
        assert!(
            violations[0].what.to_ascii_lowercase().contains(header),
            "{}",
            violations[0]
        );
    }
}

#[test]
fn acknowledging_an_order_is_accepted() {
    let exchange = exchange(
        "POST",
        "/v3/orders/1796277083022/acknowledge",
        &[],
        200,
        Some(json!({"order": order()})),
    );
    assert_clean(&spec().check(&exchange));
    assert_eq!(
        spec().operation_of(&exchange),
        Some((
            "POST".to_owned(),
            "/v3/orders/{purchaseOrderId}/acknowledge".to_owned()
        ))
    );
}

#[test]
fn statuses_walmart_does_not_describe_are_not_flagged() {
    let not_found = json!({"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API", "description": "no orders"}]}});
    assert_clean(&spec().check(&exchange("GET", "/v3/orders", &[], 404, Some(not_found))));
    assert_clean(&spec().check(&exchange(
        "GET",
        "/v3/orders",
        &[],
        429,
        Some(json!({"error": []})),
    )));
}

#[test]
fn literal_segments_win_over_parameters() {
    let released = exchange(
        "GET",
        "/v3/orders/released",
        &[],
        200,
        Some(orders_page(vec![order()])),
    );
    assert_eq!(
        spec().operation_of(&released),
        Some(("GET".to_owned(), "/v3/orders/released".to_owned()))
    );
    assert_clean(&spec().check(&released));
    let one = exchange("GET", "/v3/orders/1796277083022", &[], 404, None);
    assert_eq!(
        spec().operation_of(&one),
        Some(("GET".to_owned(), "/v3/orders/{purchaseOrderId}".to_owned()))
    );
}

#[test]
fn undocumented_paths_and_methods_are_violations() {
    let violations = spec().check(&exchange("GET", "/v3/nowhere", &[], 404, None));
    assert!(
        violations[0].what.starts_with("undocumented path /v3/nowhere"),
        "{}",
        lines(&violations)
    );
    let violations = spec().check(&exchange("DELETE", "/v3/orders", &[], 405, None));
    assert!(
        violations[0].what.contains("method DELETE is not documented"),
        "{}",
        lines(&violations)
    );
    assert!(
        violations[0].what.contains("GET /v3/orders"),
        "{}",
        lines(&violations)
    );
}

#[test]
fn encoded_skus_stay_one_segment_and_required_enum_query_parameters_are_checked() {
    let mut item = exchange(
        "GET",
        "/v3/items/AB%2FC%201",
        &[("productIdType", "SKU")],
        404,
        None,
    );
    assert_eq!(
        spec().operation_of(&item),
        Some(("GET".to_owned(), "/v3/items/{id}".to_owned()))
    );
    assert_clean(&spec().check(&item));

    item.query = vec![("productIdType".to_owned(), "WPID".to_owned())];
    let text = lines(&spec().check(&item));
    assert!(
        text.contains("query parameter productIdType: \"WPID\" is not one of"),
        "{text}"
    );

    item.query.clear();
    let text = lines(&spec().check(&item));
    assert!(
        text.contains("missing required query parameter productIdType"),
        "{text}"
    );
}

#[test]
fn integer_query_parameters_must_parse() {
    let mut search = exchange("POST", "/v3/items/catalog/search", &[("limit", "ten")], 400, None);
    search.request_content_type = Some("application/json".to_owned());
    search.request_body = Some(json!({"query": {"field": "gtin", "value": "00012345678905"}}));
    let text = lines(&spec().check(&search));
    assert!(
        text.contains("query parameter limit: \"ten\" is not a valid integer"),
        "{text}"
    );
}

fn feed_upload(feed_type: Option<&str>, response: Value) -> Exchange {
    let query: Vec<(&str, &str)> = feed_type
        .map(|feed_type| ("feedType", feed_type))
        .into_iter()
        .collect();
    let mut upload = exchange("POST", "/v3/feeds", &query, 200, Some(response));
    upload.request_content_type = Some("multipart/form-data; boundary=XyZ".to_owned());
    upload.request_body = Some(json!({"InventoryHeader": {"version": "1.4"}, "Inventory": []}));
    upload
}

#[test]
fn feed_uploads_accept_the_feed_type_of_any_file_that_declares_the_operation() {
    let accepted = json!({"feedId": "18F4D2@AQMBAQA", "additionalAttributes": null, "errors": null});
    for feed_type in [
        "MP_ITEM_MATCH",
        "inventory",
        "MP_INVENTORY",
        "price",
        "RETURNS_OVERRIDES",
    ] {
        assert_clean(&spec().check(&feed_upload(Some(feed_type), accepted.clone())));
    }
    let text = lines(&spec().check(&feed_upload(Some("bogus"), accepted.clone())));
    assert!(
        text.contains("query parameter feedType: \"bogus\" is not one of"),
        "{text}"
    );
    let text = lines(&spec().check(&feed_upload(None, accepted)));
    assert!(
        text.contains("missing required query parameter feedType"),
        "{text}"
    );
}

#[test]
fn nullable_fields_accept_null_but_not_other_types() {
    let bad = json!({"feedId": "F@1", "additionalAttributes": "none"});
    let text = lines(&spec().check(&feed_upload(Some("inventory"), bad)));
    assert!(text.contains("/additionalAttributes"), "{text}");
}

#[test]
fn multipart_is_the_only_content_type_feed_uploads_accept() {
    let mut upload = feed_upload(Some("price"), json!({"feedId": "F@1"}));
    upload.request_content_type = Some("application/json".to_owned());
    let text = lines(&spec().check(&upload));
    assert!(
        text.contains("request Content-Type application/json is not one the operation accepts"),
        "{text}"
    );
}

fn token_request(authorization: &str, form: &str) -> Exchange {
    let mut request = exchange(
        "POST",
        "/v3/token",
        &[],
        200,
        Some(json!({"access_token": "eyJ", "token_type": "Bearer", "expires_in": 900})),
    );
    request.request_headers.remove("wm_sec.access_token");
    request
        .request_headers
        .insert("authorization".to_owned(), authorization.to_owned());
    request.request_content_type = Some("application/x-www-form-urlencoded".to_owned());
    request.request_text = Some(form.to_owned());
    request
}

#[test]
fn the_token_call_uses_basic_auth_and_a_grant_type() {
    assert_clean(&spec().check(&token_request(
        "Basic Y2xpZW50OnNlY3JldA==",
        "grant_type=client_credentials",
    )));

    let text = lines(&spec().check(&token_request("Bearer eyJ", "grant_type=client_credentials")));
    assert!(
        text.contains("must authenticate with Authorization: Basic"),
        "{text}"
    );

    let text = lines(&spec().check(&token_request("Basic Y2xpZW50OnNlY3JldA==", "scope=all")));
    assert!(
        text.contains("request form body (root)") && text.contains("grant_type"),
        "{text}"
    );

    let mut bad_response = token_request("Basic Y2xpZW50OnNlY3JldA==", "grant_type=client_credentials");
    bad_response.response_body = Some(json!({"access_token": "eyJ", "expires_in": "900"}));
    let text = lines(&spec().check(&bad_response));
    assert!(text.contains("response 200 body /expires_in"), "{text}");
}

#[test]
fn a_json_body_where_json_is_described_must_be_there() {
    let mut empty = exchange("GET", "/v3/orders", &[], 200, None);
    empty.response_body = None;
    let text = lines(&spec().check(&empty));
    assert!(
        text.contains("response 200 body is missing or not JSON"),
        "{text}"
    );
}

#[test]
fn a_report_skips_faults_and_tracks_coverage() {
    let good = exchange("GET", "/v3/orders", &[], 200, Some(orders_page(vec![order()])));
    let mut faulted = exchange("GET", "/v3/orders/released", &[], 200, None);
    faulted.fault_injected = true;
    let mut unknown = exchange("GET", "/v3/unknown", &[], 404, None);
    unknown.seq = 9;
    let report = spec().report(&[good, faulted, unknown]);
    assert_eq!((report.checked, report.skipped_faulted), (2, 1));
    assert_eq!(report.covered.len(), 1);
    assert!(
        report
            .covered
            .contains(&("GET".to_owned(), "/v3/orders".to_owned()))
    );
    assert_eq!(report.unmatched, vec!["GET /v3/unknown".to_owned()]);
    assert_eq!(report.violations.len(), 1);
    assert!(
        report
            .to_string()
            .contains("#9 GET /v3/unknown: undocumented path"),
        "{report}"
    );
    assert_eq!(
        report.uncovered([("GET", "/v3/orders"), ("GET", "/v3/orders/released")]),
        vec![("GET".to_owned(), "/v3/orders/released".to_owned())]
    );
}

#[test]
fn report_with_feeds_checks_the_uploaded_file() {
    let feeds = spec_check::feed_schemas().unwrap_or_else(|error| panic!("{error}"));
    let mut upload = feed_upload(Some("inventory"), json!({"feedId": "F@1"}));
    upload.request_body = Some(json!({
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": "ten"}}]
    }));
    let report = spec().report_with_feeds(&[upload], feeds);
    assert_eq!(report.violations.len(), 1, "{report}");
    assert!(
        report.violations[0]
            .what
            .contains("feed file (inventory) /Inventory/0/quantity/amount"),
        "{report}"
    );
}

#[test]
fn every_walmart_body_schema_compiles() {
    let compiled = spec()
        .precompile()
        .unwrap_or_else(|failures| panic!("{}", failures.join("\n")));
    assert!(compiled > 50, "{compiled}");
}
