//! Fidelity: one run exercises every endpoint the client uses, against the sandbox over loopback;
//! every recorded request and response is then validated against Walmart's OpenAPI specs and every
//! feed file against Walmart's feed schemas, read at run time from the reference directory
//! (`CHANNEL_REFERENCE_DIR`, else `<workspace>/../shared/reference`). Zero violations, full coverage.

mod common;

use std::time::Duration;

use common::{START, ean, start};
use domain::{Carrier, CustomerOrderId, Gtin, LineNumber, MethodCode, Money, ReturnOrderId, Sku, Tracking};
use ports::{Clock, Deadline};
use sandbox_kit::Exchange;
use serde_json::Value;
use walmart_client::feeds::{
    InventoryEntry, ItemMatchEntry, PriceEntry, ShipNodeInventoryEntry, inventory_feeds, item_match_feeds,
    multi_node_inventory_feeds, price_feeds,
};
use walmart_client::{
    CancelLine, CancellationReason, ItemsQuery, OrdersQuery, RefundLine, RefundReason, ReturnsQuery, ShipLine,
};
use walmart_sandbox::{LineQuantitySpec, NewReturn};

/// Every `(METHOD, template)` the client calls.
const CLIENT_OPERATIONS: &[(&str, &str)] = &[
    ("POST", "/v3/token"),
    ("GET", "/v3/items"),
    ("GET", "/v3/items/{id}"),
    ("GET", "/v3/items/walmart/search"),
    ("POST", "/v3/feeds"),
    ("GET", "/v3/feeds/{feedId}"),
    ("GET", "/v3/inventory"),
    ("PUT", "/v3/inventory"),
    ("PUT", "/v3/price"),
    ("GET", "/v3/orders"),
    ("GET", "/v3/orders/released"),
    ("GET", "/v3/orders/{purchaseOrderId}"),
    ("POST", "/v3/orders/{purchaseOrderId}/acknowledge"),
    ("POST", "/v3/orders/{purchaseOrderId}/shipping"),
    ("POST", "/v3/orders/{purchaseOrderId}/cancel"),
    ("POST", "/v3/orders/{purchaseOrderId}/refund"),
    ("GET", "/v3/returns"),
    ("POST", "/v3/returns/{returnOrderId}/refund"),
];

fn sku(raw: &str) -> Sku {
    Sku::new(raw).expect("valid sku")
}

/// `MP_INVENTORY` (spec 1.5) has no JSON Schema in the reference: its file is held to the shape of
/// the spec's published request example instead.
fn multi_node_inventory_problems(payload: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if payload
        .pointer("/inventoryHeader/version")
        .and_then(Value::as_str)
        != Some("1.5")
    {
        problems.push("/inventoryHeader/version must be \"1.5\"".to_owned());
    }
    let Some(items) = payload
        .get("inventory")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
    else {
        problems.push("/inventory must be a non-empty array".to_owned());
        return problems;
    };
    for (i, item) in items.iter().enumerate() {
        if item.get("sku").and_then(Value::as_str).is_none_or(str::is_empty) {
            problems.push(format!("/inventory/{i}/sku missing"));
        }
        let nodes = item
            .get("shipNodes")
            .and_then(Value::as_array)
            .filter(|n| !n.is_empty());
        let Some(nodes) = nodes else {
            problems.push(format!("/inventory/{i}/shipNodes must be a non-empty array"));
            continue;
        };
        for (j, node) in nodes.iter().enumerate() {
            let ok = node
                .get("shipNode")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
                && node.pointer("/quantity/unit").and_then(Value::as_str) == Some("EACH")
                && node.pointer("/quantity/amount").is_some_and(Value::is_u64);
            if !ok {
                problems.push(format!(
                    "/inventory/{i}/shipNodes/{j} needs shipNode and quantity {{unit: EACH, amount}}"
                ));
            }
        }
    }
    problems
}

#[tokio::test]
async fn every_request_and_response_matches_walmarts_specs() {
    let spec = spec_check::walmart_spec().unwrap_or_else(|e| panic!("Walmart specs: {e}"));
    let feed_schemas = spec_check::feed_schemas().unwrap_or_else(|e| panic!("Walmart feed schemas: {e}"));
    let h = start().await;
    let d = Deadline::none();
    h.seed_items(0..30).await;

    // Items and catalog.
    let mut items = ItemsQuery {
        limit: 20,
        ..ItemsQuery::default()
    };
    let page = h.client.list_items(&items, &d).await.expect("items");
    items.cursor = page.next_cursor.clone();
    h.client.list_items(&items, &d).await.expect("items page 2");
    h.client.get_item(&sku("sku-3"), &d).await.expect("item");
    let upc = Gtin::parse("036000291452").expect("upc");
    h.client
        .search_catalog_by_gtin(&upc, &d)
        .await
        .expect("search by upc");
    let ean13 = Gtin::parse(&ean(4)).expect("ean");
    h.client
        .search_catalog_by_gtin(&ean13, &d)
        .await
        .expect("search by gtin");

    // Feeds of every type, with status before, during and after processing.
    let matches = item_match_feeds(&[
        ItemMatchEntry {
            sku: sku("new-1"),
            gtin: Gtin::parse(&ean(5)).expect("ean"),
            price: Money::from_cents(1999),
            shipping_weight_lb: 1.2,
        },
        ItemMatchEntry {
            sku: sku("new-2"),
            gtin: Gtin::parse(&ean(500)).expect("ean"),
            price: Money::from_cents(1050),
            shipping_weight_lb: 0.5,
        },
    ])
    .expect("match feed");
    let inventory = inventory_feeds(&[InventoryEntry {
        sku: sku("sku-1"),
        quantity: 9,
    }])
    .expect("inventory feed");
    let multi = multi_node_inventory_feeds(&[ShipNodeInventoryEntry {
        sku: sku("sku-2"),
        ship_node: "10000003527".into(),
        quantity: 4,
    }])
    .expect("multi-node feed");
    let prices = price_feeds(&[PriceEntry {
        sku: sku("sku-1"),
        price: Money::from_cents(2999),
    }])
    .expect("price feed");
    let mut feed_ids = Vec::new();
    for feed in [&matches[0], &inventory[0], &multi[0], &prices[0]] {
        feed_ids.push(h.client.submit(feed, &d).await.expect("feed submitted"));
    }
    h.client
        .feed_status(&feed_ids[0], 0, 50, &d)
        .await
        .expect("received");
    h.clock.advance(Duration::from_secs(20));
    h.client
        .feed_status(&feed_ids[0], 0, 50, &d)
        .await
        .expect("in progress");
    h.clock.advance(Duration::from_secs(60));
    for id in &feed_ids {
        h.client.feed_status(id, 0, 1, &d).await.expect("processed");
    }
    h.client
        .feed_status(&feed_ids[0], 1, 1, &d)
        .await
        .expect("second detail page");
    // The feed list, where a submission whose answer was lost shows: newest first.
    let listed = h.client.recent_feeds(&d).await.expect("feed list");
    assert_eq!(listed.len(), feed_ids.len());
    assert_eq!(listed[0].feed_id, *feed_ids.last().expect("a feed"));
    assert!(
        listed
            .iter()
            .all(|f| f.submitted_at.is_some() && !f.feed_type.is_empty())
    );

    // Single inventory and price.
    h.client
        .update_inventory(&sku("sku-0"), 12, &d)
        .await
        .expect("inventory");
    h.client
        .get_inventory(&sku("sku-0"), &d)
        .await
        .expect("inventory read");
    h.client
        .update_price(&sku("sku-0"), Money::from_cents(1234), &d)
        .await
        .expect("price");

    // Orders.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(h.order(&[("sku-0", 2), ("sku-1", 1)]).await);
    }
    let window = OrdersQuery::created_between(START.minus(Duration::from_secs(3600)), h.clock.now());
    let mut paged = window.clone();
    paged.limit = 2;
    let first = h.client.list_orders(&paged, &d).await.expect("orders");
    h.client
        .next_orders(&first.next_cursor.clone().expect("a second page"), &d)
        .await
        .expect("orders page 2");
    h.client
        .list_orders(
            &OrdersQuery::released(START.minus(Duration::from_secs(3600)), h.clock.now()),
            &d,
        )
        .await
        .expect("released");
    let id = domain::PurchaseOrderId::new(ids[0].clone()).expect("po");
    h.client.get_order(&id, &d).await.expect("one order");
    h.client.acknowledge(&id, &d).await.expect("ack");
    let tracking = |carrier| Tracking {
        number: "1Z999AA10123456784".into(),
        carrier,
        method: MethodCode::new("Standard").expect("method"),
        shipped_at: h.clock.now(),
    };
    h.client
        .ship(
            &id,
            &[
                ShipLine {
                    line: LineNumber(1),
                    quantity: 1,
                    seller_order_id: "000000001".into(),
                    tracking: tracking(Carrier::Known { name: "UPS".into() }),
                    intent_to_cancel_override: false,
                },
                ShipLine {
                    line: LineNumber(1),
                    quantity: 1,
                    seller_order_id: "000000001".into(),
                    tracking: tracking(Carrier::Other {
                        name: "Local Courier".into(),
                        tracking_url: "https://courier.example/t/1".into(),
                    }),
                    // Sent as `intentToCancelOverride: true`, checked against the spec too.
                    intent_to_cancel_override: true,
                },
            ],
            &d,
        )
        .await
        .expect("shipped");
    h.client
        .cancel_lines(
            &id,
            &[CancelLine {
                line: LineNumber(2),
                quantity: 1,
                reason: CancellationReason::SellerCancelOutOfStock,
            }],
            &d,
        )
        .await
        .expect("cancelled");
    h.client
        .refund_lines(
            &id,
            &[RefundLine {
                line: LineNumber(1),
                reason: RefundReason::CustomerChangedMind,
                amount: Money::from_cents(1999),
                tax: Some(Money::from_cents(160)),
                comments: Some("changed mind".into()),
            }],
            &d,
        )
        .await
        .expect("refunded");
    h.client
        .get_order(&id, &d)
        .await
        .expect("order with every line state");
    h.client
        .list_orders(&window, &d)
        .await
        .expect("orders with every line state");

    // Returns.
    for _ in 0..2 {
        h.control
            .create_return(&NewReturn {
                purchase_order_id: ids[0].clone(),
                lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
                reason: "CUSTOMER_CHANGED_MIND".into(),
            })
            .await
            .expect("return");
    }
    let mut returns = ReturnsQuery::created_between(START.minus(Duration::from_secs(60)), h.clock.now());
    returns.limit = 1;
    let first = h.client.list_returns(&returns, &d).await.expect("returns");
    h.client
        .next_returns(&first.next_cursor.clone().expect("a second page"), &d)
        .await
        .expect("returns page 2");
    let r = &first.returns[0];
    h.client
        .refund_return(
            &ReturnOrderId::new(r.return_order_id.as_str()).expect("id"),
            &CustomerOrderId::new(r.customer_order_id.as_str()).expect("id"),
            &[1],
            &d,
        )
        .await
        .expect("return refunded");
    h.client
        .list_returns(&returns, &d)
        .await
        .expect("returns after refund");

    // Validate everything the sandbox saw.
    let exchanges: Vec<Exchange> = h.exchanges();
    let mut report = spec.report(&exchanges);
    let mut feed_types = std::collections::BTreeSet::new();
    for exchange in &exchanges {
        if exchange.method != "POST" || exchange.path != "/v3/feeds" {
            continue;
        }
        let feed_type = exchange.query_value("feedType").unwrap_or_default().to_owned();
        feed_types.insert(feed_type.clone());
        if feed_type == "MP_INVENTORY" {
            let payload = exchange.request_body.as_ref().expect("recorded feed file");
            for what in multi_node_inventory_problems(payload) {
                report.violations.push(spec_check::Violation {
                    seq: exchange.seq,
                    method: exchange.method.clone(),
                    path: exchange.path.clone(),
                    what: format!("feed file (MP_INVENTORY) {what}"),
                });
            }
        } else {
            report.violations.extend(feed_schemas.check_exchange(exchange));
        }
    }
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.skipped_faulted, 0);
    assert!(report.unmatched.is_empty(), "{:?}", report.unmatched);
    let uncovered = report.uncovered(CLIENT_OPERATIONS.iter().copied());
    assert!(uncovered.is_empty(), "operations never exercised: {uncovered:?}");
    assert_eq!(
        feed_types.into_iter().collect::<Vec<_>>(),
        vec!["MP_INVENTORY", "MP_ITEM_MATCH", "inventory", "price"]
    );
    assert_eq!(report.checked, exchanges.len(), "{report}");

    // The check is not vacuous: the same list response with a wrong type inside an order line, and
    // the same call without its access token, are caught.
    let mut broken = exchanges
        .iter()
        .find(|e| e.path == "/v3/orders" && e.status == 200)
        .cloned()
        .expect("an order list exchange");
    if let Some(body) = broken.response_body.as_mut() {
        body["list"]["elements"]["order"][0]["orderLines"]["orderLine"][0]["orderLineQuantity"]["amount"] =
            serde_json::json!(2);
    }
    broken.request_headers.remove("wm_sec.access_token");
    let problems: Vec<String> = spec.check(&broken).iter().map(ToString::to_string).collect();
    assert!(
        problems.iter().any(|p| p.contains("orderLineQuantity")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.to_lowercase().contains("wm_sec.access_token")),
        "{problems:?}"
    );
}

#[test]
fn the_multi_node_check_catches_bad_files() {
    let good = serde_json::json!({
        "inventoryHeader": { "version": "1.5" },
        "inventory": [{ "sku": "A", "shipNodes": [{ "shipNode": "1", "quantity": { "unit": "EACH", "amount": 3 } }] }]
    });
    assert!(multi_node_inventory_problems(&good).is_empty());
    let bad = serde_json::json!({
        "inventoryHeader": { "version": "1.4" },
        "inventory": [{ "sku": "A", "shipNodes": [{ "quantity": { "unit": "EACH", "amount": -1 } }] }]
    });
    assert_eq!(multi_node_inventory_problems(&bad).len(), 2);
}
