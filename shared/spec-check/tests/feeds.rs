//! Feed payloads against the real feed schemas.

use sandbox_kit::Exchange;
use serde_json::{Value, json};
use spec_check::{FeedSchemas, MAX_FEED_ITEMS};

fn schemas() -> &'static FeedSchemas {
    spec_check::feed_schemas().unwrap_or_else(|error| panic!("{error}"))
}

fn item_match(items: Vec<Value>) -> Value {
    json!({
        "MPItemFeedHeader": {"version": "1.0", "sellingChannel": "mpsetupbymatch", "locale": "en",
                             "processMode": "REPLACE", "subset": "EXTERNAL", "Mart": "WALMART_US"},
        "MPItem": items
    })
}

fn match_item(sku: &str, price: f64) -> Value {
    json!({"Item": {
        "sku": sku,
        "productIdentifiers": {"productIdType": "GTIN", "productId": "00012345678905"},
        "price": price,
        "ShippingWeight": 1.25
    }})
}

#[test]
fn a_valid_item_match_feed_passes_including_cent_prices() {
    // Cent amounts are not exact binary fractions: multipleOf 0.01 must still accept them.
    let items = [19.99, 0.07, 1.1, 1234.56, 0.0, 99_999.99]
        .iter()
        .enumerate()
        .map(|(n, price)| match_item(&format!("SKU-{n}"), *price))
        .collect();
    let problems = schemas().check("MP_ITEM_MATCH", &item_match(items));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn an_invalid_item_match_feed_is_caught_with_pointers() {
    let mut bad = match_item("SKU-1", 10.0);
    bad["Item"]["productIdentifiers"]["productIdType"] = json!("WPID");
    bad["Item"].as_object_mut().unwrap().remove("price");
    let mut fraction_of_a_cent = match_item("SKU-2", 10.005);
    fraction_of_a_cent["Item"]["sku"] = json!("");
    let problems = schemas().check("MP_ITEM_MATCH", &item_match(vec![bad, fraction_of_a_cent]));
    let text = problems.join("\n");
    assert!(
        text.contains("/MPItem/0/Item/productIdentifiers/productIdType"),
        "{text}"
    );
    assert!(
        text.contains("/MPItem/0/Item: ") && text.contains("price"),
        "{text}"
    );
    assert!(text.contains("/MPItem/1/Item/price"), "{text}");
    assert!(text.contains("/MPItem/1/Item/sku"), "{text}");

    let problems = schemas().check("MP_ITEM_MATCH", &json!({"MPItem": []}));
    assert!(
        problems
            .iter()
            .any(|problem| problem.contains("MPItemFeedHeader")),
        "{problems:#?}"
    );
}

#[test]
fn inventory_feeds_resolve_the_referenced_files() {
    let good = json!({
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 12}}]
    });
    assert!(
        schemas().check("inventory", &good).is_empty(),
        "{:#?}",
        schemas().check("inventory", &good)
    );

    let bad = json!({
        "InventoryHeader": {"version": "1.4", "extra": true},
        "Inventory": [{"sku": "SKU-1", "quantity": {"unit": "BOX", "amount": 1.5}}]
    });
    let text = schemas().check("inventory", &bad).join("\n");
    assert!(text.contains("/InventoryHeader"), "{text}");
    assert!(text.contains("/Inventory/0/quantity/unit"), "{text}");
    assert!(text.contains("/Inventory/0/quantity/amount"), "{text}");
}

#[test]
fn price_feeds_resolve_internal_definitions_of_referenced_files() {
    let good = json!({
        "PriceHeader": {"version": "1.7"},
        "Price": [{"sku": "SKU-1", "pricing": [{
            "currentPriceType": "BASE",
            "currentPrice": {"currency": "USD", "amount": 19.99}
        }]}]
    });
    assert!(
        schemas().check("price", &good).is_empty(),
        "{:#?}",
        schemas().check("price", &good)
    );

    let bad = json!({
        "PriceHeader": {"version": "1.7"},
        "Price": [{"sku": "SKU-1", "pricing": [{"currentPrice": {"currency": "EUR", "amount": "19.99"}}]}]
    });
    let text = schemas().check("price", &bad).join("\n");
    assert!(
        text.contains("/Price/0/pricing/0/currentPrice/currency"),
        "{text}"
    );
    assert!(text.contains("/Price/0/pricing/0/currentPrice/amount"), "{text}");
}

#[test]
fn published_limits_apply_to_item_and_price_feeds() {
    let too_many: Vec<Value> = (0..=MAX_FEED_ITEMS)
        .map(|n| match_item(&format!("S{n}"), 1.0))
        .collect();
    let problems = schemas().check("MP_ITEM_MATCH", &item_match(too_many));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("at most 10000"), "{problems:#?}");
}

#[test]
fn feed_types_without_a_schema_are_reported_not_passed() {
    let problems = schemas().check("MP_INVENTORY", &json!({}));
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("no feed schema in the reference for feed type \"MP_INVENTORY\""));
}

#[test]
fn recorded_uploads_are_checked_by_their_feed_type() {
    let upload = Exchange {
        seq: 3,
        method: "POST".to_owned(),
        path: "/v3/feeds".to_owned(),
        query: vec![("feedType".to_owned(), "price".to_owned())],
        request_content_type: Some("multipart/form-data; boundary=b".to_owned()),
        request_body: Some(json!({"PriceHeader": {"version": "1.7"}, "Price": []})),
        status: 200,
        ..Exchange::default()
    };
    let violations = schemas().check_exchange(&upload);
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert!(
        violations[0]
            .to_string()
            .starts_with("#3 POST /v3/feeds: feed file (price) /Price"),
        "{}",
        violations[0]
    );

    let without_file = Exchange {
        request_body: None,
        ..upload.clone()
    };
    assert!(
        schemas().check_exchange(&without_file)[0]
            .what
            .contains("no multipart part named \"file\"")
    );

    let other = Exchange {
        path: "/v3/feeds/F1".to_owned(),
        method: "GET".to_owned(),
        ..upload
    };
    assert!(schemas().check_exchange(&other).is_empty());
}
