//! Holds the client and the sandbox to Adobe's published admin REST schema
//! (`commerce-webapi/admin-schema-2.4.9.yaml`, read from the reference directory at run time): every
//! route the client uses is exercised against the sandbox, and every recorded request (method, path,
//! query, body) and response (status, body) is validated. Fails, naming the path, when the reference
//! directory is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use commerce_client::wire::ItemQuantity;
use commerce_client::{OrderFilter, OrderLookup, OrderPlacement, RefundArguments, ReturnItem, ReturnRequest};
use commerce_sandbox::{Customer, ProductSeed, SandboxSettings, TrackInput};
use common::*;
use domain::{CustomerMapping, ProductSelection, Sku};

#[tokio::test]
async fn every_client_route_and_every_sandbox_answer_match_the_published_schema() {
    let spec = match spec_check::commerce_spec() {
        Ok(spec) => spec,
        Err(error) => panic!("Adobe's Commerce schema is needed for this test: {error}"),
    };
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    let d = deadline();
    let sku = |s: &str| Sku::new(s).unwrap();

    // The store's set-up (storeConfigs, the MSI probe).
    h.client.store_setup(true, &d).await.unwrap();

    // Catalog.
    let mut child = product("TEE-BLUE", 15.0, 4.0, 0.0);
    child.visibility = Some(1);
    let parent = ProductSeed {
        sku: "TEE".into(),
        type_id: Some("configurable".into()),
        price: Some(15.0),
        children: Some(vec!["TEE-BLUE".into()]),
        ..ProductSeed::default()
    };
    let mut mug = product("MUG-1", 12.0, 5.0, 5.0);
    mug.special_price = Some(10.0);
    mug.special_from_date = Some("2026-01-01 00:00:00".into());
    control
        .seed_products(&[mug, product("CUP-1", 5.0, 5.0, 0.0), child, parent])
        .await
        .unwrap();
    h.client
        .products_updated_since(start_time())
        .collect_all(&d)
        .await
        .unwrap();
    h.client
        .products_by_skus(&skus(&["MUG-1", "CUP-1"]), &d)
        .await
        .unwrap();
    h.client.products_in_category(3).collect_all(&d).await.unwrap();
    h.client
        .products_with_attribute("walmart_enabled", "1")
        .collect_all(&d)
        .await
        .unwrap();
    h.client
        .products_selected(&ProductSelection::default(), Some(start_time()))
        .collect_all(&d)
        .await
        .unwrap();
    h.client.product(&sku("MUG-1"), &d).await.unwrap();
    h.client.product(&sku("NO-SUCH-SKU"), &d).await.unwrap_err();
    h.client.configurable_children(&sku("TEE"), &d).await.unwrap();

    // Stock.
    h.client.salable_quantity(&sku("MUG-1"), 1, &d).await.unwrap();
    control
        .seed_products(&[product("KIT-1/2%2F3", 5.0, 3.0, 0.0)])
        .await
        .unwrap();
    h.client
        .salable_quantity(&sku("KIT-1/2%2F3"), 1, &d)
        .await
        .unwrap();
    h.client
        .are_products_salable(&skus(&["MUG-1", "TEE"]), 1, &d)
        .await
        .unwrap();
    h.client.source_items().collect_all(&d).await.unwrap();
    h.client.stock_for_website("base", &d).await.unwrap();
    h.client.legacy_stock_item(&sku("CUP-1"), &d).await.unwrap();

    // A guest order through the guest-carts routes.
    let guest = OrderPlacement {
        customer: CustomerMapping::Guest,
        carrier_method: "flatrate_flatrate".into(),
        payment_method: "purchaseorder".into(),
    };
    let po = purchase_order(
        "9100000000001",
        "schema@relay.walmart.com",
        start_time(),
        vec![
            walmart_line(1, "MUG-1", 2, 1000),
            walmart_line(2, "CUP-1", 1, 500),
        ],
    );
    let placed = h.client.create_order_for(&po, &guest, &d).await.unwrap();
    let lookup = OrderLookup::for_purchase_order(&po, &guest);
    assert!(
        h.client
            .find_order_for_purchase_order(&po.id, &lookup, &d)
            .await
            .unwrap()
            .is_some()
    );

    // A customer order: a first attempt fails half-way (unknown SKU) and leaves an item in the
    // customer's cart, which the second attempt removes.
    control
        .add_customer(&Customer {
            id: 5,
            email: "orders@example.com".into(),
            firstname: "W".into(),
            lastname: "M".into(),
        })
        .await
        .unwrap();
    let customer = OrderPlacement {
        customer: CustomerMapping::Customer { customer_id: 5 },
        ..guest.clone()
    };
    let broken = purchase_order(
        "9100000000002",
        "schema@relay.walmart.com",
        start_time(),
        vec![
            walmart_line(1, "CUP-1", 1, 500),
            walmart_line(2, "NO-SUCH-SKU", 1, 100),
        ],
    );
    h.client
        .create_order_for(&broken, &customer, &d)
        .await
        .unwrap_err();
    let fixed = purchase_order(
        "9100000000002",
        "schema@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "CUP-1", 1, 500)],
    );
    let customer_order = h.client.create_order_for(&fixed, &customer, &d).await.unwrap();

    // Order maintenance.
    h.clock.advance(Duration::from_secs(60));
    h.client
        .orders_updated_since(
            start_time(),
            &OrderFilter {
                states: vec!["new".into()],
                statuses: vec![],
            },
        )
        .collect_all(&d)
        .await
        .unwrap();
    h.client
        .add_order_comment(placed.order_id, "schema check", &d)
        .await
        .unwrap();
    assert!(h.client.cancel_order(customer_order.order_id, &d).await.unwrap());
    let mug_item = placed.lines[0].order_item_id.unwrap();
    h.client
        .invoice_order(
            placed.order_id,
            &[ItemQuantity {
                order_item_id: mug_item,
                qty: 2.0,
            }],
            &d,
        )
        .await
        .unwrap();
    h.client.invoice_order(placed.order_id, &[], &d).await.unwrap();
    assert!(!h.client.cancel_order(placed.order_id, &d).await.unwrap());

    // Shipments, returns, refunds.
    control
        .ship(
            placed.order_id.0,
            vec![],
            TrackInput {
                carrier_code: "ups".into(),
                title: "UPS".into(),
                number: "1Z9".into(),
            },
            false,
        )
        .await
        .unwrap();
    let shipments = h
        .client
        .shipments_updated_since(start_time())
        .collect_all(&d)
        .await
        .unwrap();
    let ids: Vec<u64> = shipments.iter().filter_map(|s| s.entity_id).collect();
    assert_eq!(
        h.client.shipments_by_ids(&ids, &d).await.unwrap().len(),
        ids.len()
    );
    assert!(h.client.returns_supported(&d).await.unwrap());
    let request = ReturnRequest {
        order_id: placed.order_id,
        items: vec![ReturnItem {
            order_item_id: mug_item,
            qty: 1,
            reason: "32".into(),
            condition: "35".into(),
            resolution: "38".into(),
        }],
        comment: "Walmart return 123".into(),
    };
    h.client.request_return(&request, &d).await.unwrap();
    h.client
        .returns_for_order(placed.order_id)
        .collect_all(&d)
        .await
        .unwrap();
    h.client
        .refund_order_offline(
            placed.order_id,
            &[ItemQuantity {
                order_item_id: mug_item,
                qty: 1.0,
            }],
            RefundArguments {
                shipping_amount: Some(5.0),
                adjustment_positive: Some(1.0),
                adjustment_negative: None,
            },
            Some("Walmart refund"),
            &d,
        )
        .await
        .unwrap();
    h.client
        .credit_memos_updated_since(start_time())
        .collect_all(&d)
        .await
        .unwrap();

    let exchanges = h.sandbox.recorder().snapshot();
    let report = spec.report(&exchanges);
    eprintln!("{report}");
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.checked, exchanges.len(), "every exchange was checked");
    assert!(report.unmatched.is_empty(), "{:?}", report.unmatched);
    assert_eq!(report.skipped_faulted, 0);
    let uncovered = report.uncovered(commerce_client::ROUTES.iter().map(|(m, t, _)| (*m, *t)));
    assert!(uncovered.is_empty(), "client routes not exercised: {uncovered:?}");
    // Error answers were checked too (404 product, 404 for the unknown SKU in a cart).
    assert!(exchanges.iter().any(|e| e.status == 404));
    // The check is not vacuous: a sandbox answer with a wrong type would be caught.
    let mut tampered = exchanges
        .iter()
        .find(|e| e.path.ends_with("/V1/products/MUG-1") && e.status == 200)
        .unwrap()
        .clone();
    tampered.response_body.as_mut().unwrap()["price"] = serde_json::json!("twelve");
    assert!(
        !spec.check(&tampered).is_empty(),
        "a string price must violate the schema"
    );
    // The operation ids named in the crate docs are the schema's.
    let schema = std::fs::read_to_string(
        spec_check::reference_dir()
            .unwrap()
            .join("commerce-webapi")
            .join(spec_check::COMMERCE_SCHEMA_FILE),
    )
    .unwrap();
    for (method, template, operation_id) in commerce_client::ROUTES {
        assert!(
            schema.contains(&format!("operationId: {operation_id}\n")),
            "{method} {template}: {operation_id}"
        );
    }
}
