//! Commerce exchanges, hand-built, against the real admin REST schema.

use std::collections::BTreeMap;

use sandbox_kit::Exchange;
use serde_json::{Value, json};
use spec_check::{Swagger2, Violation};

fn spec() -> &'static Swagger2 {
    spec_check::commerce_spec().unwrap_or_else(|error| panic!("{error}"))
}

fn exchange(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    status: u16,
    response: Option<Value>,
) -> Exchange {
    Exchange {
        seq: 11,
        method: method.to_owned(),
        path: path.to_owned(),
        query: query
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        request_headers: BTreeMap::from([(
            "authorization".to_owned(),
            "OAuth oauth_consumer_key=\"k\"".to_owned(),
        )]),
        status,
        response_headers: BTreeMap::from([(
            "content-type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        )]),
        response_body: response,
        ..Exchange::default()
    }
}

fn with_json_body(mut exchange: Exchange, body: Value) -> Exchange {
    exchange.request_content_type = Some("application/json".to_owned());
    exchange.request_body = Some(body);
    exchange
}

fn lines(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|violation| format!("  {violation}\n"))
        .collect()
}

fn assert_clean(violations: &[Violation]) {
    assert!(
        violations.is_empty(),
        "unexpected violations:\n{}",
        lines(violations)
    );
}

fn product_page() -> Value {
    json!({
        "items": [{
            "id": 1, "sku": "SKU-1", "name": "Widget", "price": 19.99, "status": 1, "visibility": 4,
            "type_id": "simple", "updated_at": "2026-01-01 10:00:00",
            "custom_attributes": [
                {"attribute_code": "upc", "value": "012345678905"},
                {"attribute_code": "category_ids", "value": ["3", "7"]}
            ]
        }],
        "search_criteria": {
            "filter_groups": [{"filters": [{"field": "updated_at", "value": "2026-01-01 00:00:00", "condition_type": "gteq"}]}],
            "page_size": 100,
            "current_page": 1
        },
        "total_count": 1
    })
}

const SEARCH: &[(&str, &str)] = &[
    ("searchCriteria[filterGroups][0][filters][0][field]", "updated_at"),
    (
        "searchCriteria[filterGroups][0][filters][0][value]",
        "2026-01-01 00:00:00",
    ),
    (
        "searchCriteria[filterGroups][0][filters][0][conditionType]",
        "gteq",
    ),
    ("searchCriteria[filterGroups][1][filters][0][field]", "type_id"),
    ("searchCriteria[filter_groups][1][filters][1][value]", "simple"),
    ("searchCriteria[sortOrders][0][field]", "entity_id"),
    ("searchCriteria[sortOrders][0][direction]", "ASC"),
    ("searchCriteria[pageSize]", "100"),
    ("searchCriteria[currentPage]", "1"),
];

#[test]
fn product_search_with_search_criteria_passes_under_any_store_code() {
    for path in [
        "/rest/default/V1/products",
        "/rest/all/V1/products",
        "/rest/V1/products",
        "/rest/us_en/V1/products",
    ] {
        let exchange = exchange("GET", path, SEARCH, 200, Some(product_page()));
        assert_clean(&spec().check(&exchange));
        assert_eq!(
            spec().operation_of(&exchange),
            Some(("GET".to_owned(), "/V1/products".to_owned())),
            "{path}"
        );
    }
}

#[test]
fn search_criteria_typos_and_bad_numbers_are_caught() {
    let exchange = exchange(
        "GET",
        "/rest/default/V1/products",
        &[
            ("searchCriteria[page_sise]", "100"),
            ("searchCriteria[currentPage]", "first"),
        ],
        200,
        Some(product_page()),
    );
    let text = lines(&spec().check(&exchange));
    assert!(
        text.contains("undocumented searchCriteria query parameter searchCriteria[page_sise]"),
        "{text}"
    );
    assert!(
        text.contains("query parameter searchCriteria[currentPage]: \"first\" is not a valid integer"),
        "{text}"
    );
}

#[test]
fn a_bad_product_in_a_search_result_is_caught() {
    let mut page = product_page();
    page["items"][0]["price"] = json!("19.99");
    page["items"][0]["custom_attributes"][0]["value"] = json!(12);
    let text = lines(&spec().check(&exchange(
        "GET",
        "/rest/default/V1/products",
        SEARCH,
        200,
        Some(page),
    )));
    assert!(text.contains("response 200 body /items/0/price"), "{text}");
    assert!(text.contains("/items/0/custom_attributes/0/value"), "{text}");
}

#[test]
fn cart_flow_bodies_are_checked_against_their_schemas() {
    let created = exchange("POST", "/rest/default/V1/carts/mine", &[], 200, Some(json!(42)));
    assert_clean(&spec().check(&created));

    let add_item = with_json_body(
        exchange(
            "POST",
            "/rest/default/V1/carts/mine/items",
            &[],
            200,
            Some(json!({"item_id": 5, "sku": "SKU-1", "qty": 2, "quote_id": "42"})),
        ),
        json!({"cartItem": {"sku": "SKU-1", "qty": 2, "quote_id": "42"}}),
    );
    assert_clean(&spec().check(&add_item));
    assert_eq!(
        spec().operation_of(&add_item),
        Some(("POST".to_owned(), "/V1/carts/mine/items".to_owned())),
        "the literal `mine` wins over {{cartId}}"
    );

    let invalid = with_json_body(
        add_item.clone(),
        json!({"cartItem": {"sku": "SKU-1", "qty": "two"}}),
    );
    let text = lines(&spec().check(&invalid));
    assert!(text.contains("request body /cartItem/qty"), "{text}");
    assert!(
        text.contains("request body /cartItem: ") && text.contains("quote_id"),
        "{text}"
    );

    let mut xml = add_item.clone();
    xml.request_content_type = Some("text/plain".to_owned());
    let text = lines(&spec().check(&xml));
    assert!(
        text.contains("request Content-Type text/plain is not one the operation accepts"),
        "{text}"
    );
}

#[test]
fn placeholders_match_by_shape_whatever_their_names() {
    let items = exchange(
        "GET",
        "/rest/default/V1/carts/42/items",
        &[],
        200,
        Some(json!([])),
    );
    assert_eq!(
        spec().operation_of(&items),
        Some(("GET".to_owned(), "/V1/carts/{cartId}/items".to_owned()))
    );
    assert_clean(&spec().check(&items));
    let add = with_json_body(
        exchange(
            "POST",
            "/rest/default/V1/carts/42/items",
            &[],
            200,
            Some(json!({"qty": 1, "quote_id": "42"})),
        ),
        json!({"cartItem": {"sku": "SKU-1", "qty": 1, "quote_id": "42"}}),
    );
    assert_eq!(
        spec().operation_of(&add),
        Some(("POST".to_owned(), "/V1/carts/{quoteId}/items".to_owned()))
    );
    assert_clean(&spec().check(&add));
}

#[test]
fn error_responses_are_held_to_error_response() {
    let good = json!({"message": "The \"%1\" product doesn't exist.", "parameters": ["SKU-9"]});
    assert_clean(&spec().check(&exchange(
        "GET",
        "/rest/default/V1/products/SKU-9",
        &[],
        404,
        Some(good),
    )));
    let text = lines(&spec().check(&exchange(
        "GET",
        "/rest/default/V1/products/SKU-9",
        &[],
        404,
        Some(json!({"error": "not found"})),
    )));
    assert!(
        text.contains("response default body (root)") && text.contains("message"),
        "{text}"
    );
}

#[test]
fn typed_path_and_boolean_query_parameters_are_checked() {
    let text = lines(&spec().check(&exchange("GET", "/rest/default/V1/orders/abc", &[], 404, None)));
    assert!(
        text.contains("path parameter id: \"abc\" is not a valid integer"),
        "{text}"
    );

    let product = json!({"sku": "SKU 1"});
    let ok = exchange(
        "GET",
        "/rest/default/V1/products/SKU%201",
        &[("forceReload", "1")],
        200,
        Some(product.clone()),
    );
    assert_clean(&spec().check(&ok));
    let bad = exchange(
        "GET",
        "/rest/default/V1/products/SKU%201",
        &[("forceReload", "yes")],
        200,
        Some(product),
    );
    assert!(lines(&spec().check(&bad)).contains("forceReload: \"yes\" is not a valid boolean"));
}

#[test]
fn array_query_parameters_accept_magento_spellings() {
    let response = Some(json!([{"sku": "SKU-1", "stock_id": 1, "is_salable": true}]));
    for key in ["skus[]", "skus[0]", "skus"] {
        let exchange = exchange(
            "GET",
            "/rest/default/V1/inventory/are-products-salable",
            &[(key, "SKU-1"), ("stockId", "1")],
            200,
            response.clone(),
        );
        let violations: Vec<Violation> = spec()
            .check(&exchange)
            .into_iter()
            .filter(|v| v.what.contains("query"))
            .collect();
        assert!(violations.is_empty(), "{key}: {}", lines(&violations));
    }
}

#[test]
fn paths_outside_rest_v1_are_violations() {
    for path in [
        "/V1/products",
        "/rest/default/async/V1/products",
        "/index.php/rest/V1/products",
    ] {
        let violations = spec().check(&exchange("GET", path, &[], 200, None));
        assert_eq!(violations.len(), 1, "{path}");
        assert!(
            violations[0].what.starts_with("not a Commerce REST path"),
            "{}",
            violations[0]
        );
    }
    let text = lines(&spec().check(&exchange("GET", "/rest/default/V1/nothing-here", &[], 404, None)));
    assert!(text.contains("undocumented path /V1/nothing-here"), "{text}");
}

#[test]
fn a_report_covers_templates_and_skips_faults() {
    let mut faulted = exchange("GET", "/rest/default/V1/orders/1", &[], 503, None);
    faulted.fault_injected = true;
    let report = spec().report(&[
        exchange(
            "GET",
            "/rest/default/V1/products",
            SEARCH,
            200,
            Some(product_page()),
        ),
        exchange("POST", "/rest/default/V1/carts/mine", &[], 200, Some(json!(7))),
        faulted,
    ]);
    assert!(report.is_clean(), "{report}");
    assert_eq!((report.checked, report.skipped_faulted), (2, 1));
    assert_eq!(
        report.uncovered([
            ("GET", "/V1/products"),
            ("POST", "/V1/carts/mine"),
            ("GET", "/V1/orders/{id}")
        ]),
        vec![("GET".to_owned(), "/V1/orders/{id}".to_owned())]
    );
}

#[test]
fn every_commerce_body_schema_compiles() {
    let compiled = spec()
        .precompile()
        .unwrap_or_else(|failures| panic!("{}", failures.join("\n")));
    assert!(compiled > 1000, "{compiled}");
}
