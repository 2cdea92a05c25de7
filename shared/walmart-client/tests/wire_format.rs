//! Walmart's wire format as production sends and expects it (issue 11, "Wire format and paging"
//! in `docs/fidelity.md`): each test names the fact it proves, against the sandbox's strict
//! defaults.

mod common;

use common::start;
use domain::Sku;
use ports::{Clock, Deadline};
use walmart_sandbox::DEFAULT_CLIENT_ID;

fn sku(raw: &str) -> Sku {
    Sku::new(raw).expect("valid sku")
}

/// Fact 9: the spec's examples of `PUT /v3/inventory` carry `"amount": 10`, an integer.
#[tokio::test]
async fn inventory_amount_is_sent_as_a_whole_number() {
    let h = start().await;
    h.seed_items(0..1).await;
    h.client
        .update_inventory(&sku("sku-0"), 10, &Deadline::none())
        .await
        .expect("inventory set");
    let put = &h.exchanges_to("PUT", "/v3/inventory")[0];
    let amount = &put.request_body.as_ref().expect("body")["quantity"]["amount"];
    assert!(amount.is_u64(), "amount sent as {amount}, not an integer");
    assert_eq!(amount.as_u64(), Some(10));
    assert_eq!(
        h.client
            .get_inventory(&sku("sku-0"), &Deadline::none())
            .await
            .expect("read back"),
        10
    );
}

/// Fact 5: Walmart answers 500 to a POST without `Content-Type`, even a bodiless acknowledge.
#[tokio::test]
async fn every_post_carries_a_content_type_and_walmart_fails_one_without() {
    let h = start().await;
    h.seed_items(0..1).await;
    let po = domain::PurchaseOrderId::new(h.order(&[("sku-0", 1)]).await).expect("po");
    h.client
        .acknowledge(&po, &Deadline::none())
        .await
        .expect("acknowledged against the strict sandbox");
    let posts = h.exchanges_to("POST", "/v3/");
    assert!(posts.iter().any(|e| e.path.ends_with("/acknowledge")));
    for post in &posts {
        assert!(
            post.request_headers.contains_key("content-type"),
            "{} sent without a Content-Type",
            post.path
        );
    }
    let ack = posts
        .iter()
        .find(|e| e.path.ends_with("/acknowledge"))
        .expect("acknowledge recorded");
    assert_eq!(ack.request_content_type.as_deref(), Some("application/json"));

    // The sandbox, like Walmart, fails the same call without the header.
    let token = posts
        .iter()
        .find(|e| e.path == "/v3/token")
        .and_then(|e| e.response_body.as_ref())
        .and_then(|b| b["access_token"].as_str())
        .expect("token issued")
        .to_owned();
    let bare = reqwest::Client::new()
        .post(format!("{}/v3/orders/{po}/acknowledge", h.sandbox.base_url()))
        .header("WM_SVC.NAME", "test")
        .header("WM_QOS.CORRELATION_ID", "c-1")
        .header("Accept", "application/json")
        .header("WM_SEC.ACCESS_TOKEN", token)
        .basic_auth(DEFAULT_CLIENT_ID, Some("unused"))
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(bare.status().as_u16(), 500);
    let body: serde_json::Value = bare.json().await.expect("error body");
    assert!(
        body.to_string().contains("SYSTEM_ERROR.GMP_GATEWAY_API"),
        "{body}"
    );
}

/// An inventory feed of `n` SKUs, processed.
async fn processed_inventory_feed(h: &common::Harness, n: u64) -> domain::FeedId {
    let entries: Vec<serde_json::Value> = (0..n)
        .map(
            |i| serde_json::json!({ "sku": format!("sku-{i}"), "quantity": { "unit": "EACH", "amount": 1 } }),
        )
        .collect();
    let payload = serde_json::json!({ "InventoryHeader": { "version": "1.4" }, "Inventory": entries });
    let feed_id = h
        .client
        .submit_feed(walmart_client::FeedType::Inventory, &payload, &Deadline::none())
        .await
        .expect("submitted");
    h.clock.advance(std::time::Duration::from_secs(60));
    feed_id
}

/// Fact 4: the spec caps feed details at 50 a page, newer docs at 1000. The client asks for 1000;
/// on Walmart's 400 it asks again for 50, and for 50 only from then on.
#[tokio::test]
async fn feed_details_fall_back_to_the_specs_page_once_walmart_refuses_the_large_one() {
    let h = start().await;
    h.seed_items(0..60).await;
    let feed_id = processed_inventory_feed(&h, 60).await;
    let first = h
        .client
        .feed_status(&feed_id, 0, 1000, &Deadline::none())
        .await
        .expect("the spec's page after the refusal");
    assert!(first.details_page_fell_back);
    assert_eq!(first.items.len(), 50);
    let second = h
        .client
        .feed_status(&feed_id, 50, 1000, &Deadline::none())
        .await
        .expect("second page");
    assert!(!second.details_page_fell_back, "remembered, not refused again");
    assert_eq!(second.items.len(), 10);
    let limits: Vec<(u16, Option<String>)> = h
        .exchanges_to("GET", "/v3/feeds/")
        .iter()
        .map(|e| (e.status, e.query_value("limit").map(str::to_owned)))
        .collect();
    assert_eq!(
        limits,
        vec![
            (400, Some("1000".to_owned())),
            (200, Some("50".to_owned())),
            (200, Some("50".to_owned())),
        ]
    );

    // An account that serves the large page gets it in one call.
    let large = common::start_with(
        walmart_sandbox::SandboxSettings {
            max_feed_detail_page: 1000,
            ..common::settings()
        },
        |_| {},
    )
    .await;
    large.seed_items(0..60).await;
    let feed_id = processed_inventory_feed(&large, 60).await;
    let page = large
        .client
        .feed_status(&feed_id, 0, 1000, &Deadline::none())
        .await
        .expect("large page");
    assert_eq!((page.items.len(), page.details_page_fell_back), (60, false));
}

/// Fact 8: `GET /v3/orders` without `createdStartDate` lists only orders created in the last 7
/// days, whatever else the query says; the client never sends one without it.
#[tokio::test]
async fn order_lists_always_name_a_creation_window_walmart_otherwise_cuts_at_seven_days() {
    let h = start().await;
    h.seed_items(0..1).await;
    let day = std::time::Duration::from_secs(24 * 3600);
    let old = walmart_sandbox::NewOrder {
        lines: vec![walmart_sandbox::NewOrderLine {
            sku: "sku-0".into(),
            quantity: 1,
            unit_price: domain::Money::from_cents(1999),
            tax: domain::Money::ZERO,
            shipping: domain::Money::ZERO,
            product_name: None,
        }],
        ship_to: walmart_sandbox::ShipToSpec::default(),
        method_code: "Standard".into(),
        order_date: Some(common::START.minus(day * 10)),
        purchase_order_id: None,
    };
    let po = h
        .control
        .create_order(&old)
        .await
        .expect("order placed")
        .purchase_order_id;
    let po = domain::PurchaseOrderId::new(po).expect("po");
    h.clock.advance(std::time::Duration::from_secs(60));
    h.client
        .acknowledge(&po, &Deadline::none())
        .await
        .expect("acknowledged: modified now");

    let changed_since = common::START;
    let mut without =
        walmart_client::OrdersQuery::modified_between(common::START, changed_since, h.clock.now());
    without.created_start = None;
    let refused = h
        .client
        .list_orders(&without, &Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, walmart_client::WalmartError::InvalidInput(_)),
        "{refused:?}"
    );

    let query = walmart_client::OrdersQuery::modified_between(
        common::START.minus(day * 30),
        changed_since,
        h.clock.now(),
    );
    let page = h
        .client
        .list_orders(&query, &Deadline::none())
        .await
        .expect("listed");
    assert_eq!(page.orders.len(), 1, "the 10-day-old order changed now");
    for list in h.exchanges_to("GET", "/v3/orders") {
        assert!(list.query_value("createdStartDate").is_some(), "{:?}", list.query);
    }

    // The sandbox, like Walmart, applies the 7-day default when createdStartDate is absent.
    let token = h
        .exchanges_to("POST", "/v3/token")
        .first()
        .and_then(|e| e.response_body.as_ref())
        .and_then(|b| b["access_token"].as_str())
        .expect("token issued")
        .to_owned();
    let bare = reqwest::Client::new()
        .get(format!("{}/v3/orders", h.sandbox.base_url()))
        .query(&[("lastModifiedStartDate", changed_since.to_rfc3339())])
        .header("WM_SVC.NAME", "test")
        .header("WM_QOS.CORRELATION_ID", "c-2")
        .header("Accept", "application/json")
        .header("WM_SEC.ACCESS_TOKEN", token)
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(bare.status().as_u16(), 404, "no order created in the last 7 days");
}

/// Fact 1: Walmart sends `null` for empty optional fields, e.g. `"ingestionErrors":
/// {"ingestionError": null}` on a processed feed; they read as absent.
#[tokio::test]
async fn explicit_nulls_in_walmart_responses_read_as_absent() {
    let h = start().await;
    h.seed_items(0..3).await;
    let feed_id = processed_inventory_feed(&h, 3).await;
    let page = h
        .client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("a processed feed with explicit nulls is read");
    assert_eq!(page.status, domain::FeedStatus::Processed);
    assert_eq!(page.items.len(), 3);
    assert!(page.feed_errors.is_empty() && page.items.iter().all(|i| i.issues.is_empty()));
    let response = h.exchanges_to("GET", "/v3/feeds/")[0]
        .response_body
        .clone()
        .expect("body");
    assert_eq!(
        response["ingestionErrors"],
        serde_json::json!({ "ingestionError": null })
    );
    assert!(response["itemDetails"]["itemIngestionStatus"][0]["ingestionErrors"]["ingestionError"].is_null());

    let items = h
        .client
        .list_items(&walmart_client::ItemsQuery::default(), &Deadline::none())
        .await
        .expect("items with null fields");
    assert_eq!(items.items.len(), 3);
    let po = domain::PurchaseOrderId::new(h.order(&[("sku-0", 1)]).await).expect("po");
    let order = h
        .client
        .get_order(&po, &Deadline::none())
        .await
        .expect("order with null fields");
    assert_eq!(order.order.ship_to.address2, None);

    // Off, the sandbox leaves empty fields out instead.
    h.control
        .update_settings(&serde_json::json!({ "explicit_nulls": false }))
        .await
        .expect("settings");
    h.client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("read");
    let response = h.exchanges_to("GET", "/v3/feeds/")[1]
        .response_body
        .clone()
        .expect("body");
    assert!(!response.to_string().contains("null"), "{response}");
}

/// The correlation id the client sent on the last call to `path_prefix`.
fn last_correlation_id(h: &common::Harness, method: &str, path_prefix: &str) -> String {
    h.exchanges_to(method, path_prefix)
        .last()
        .and_then(|e| e.request_headers.get("wm_qos.correlation_id").cloned())
        .expect("call recorded with a correlation id")
}

/// Fact 2: a feed item with an ingestion status Walmart added since is kept as `Other` for that
/// item alone; an item detail Walmart sent badly is skipped with its index and SKU and the call's
/// correlation id; a feed status Walmart added since is kept as `Other`. The rest of the page reads.
#[tokio::test]
async fn an_unknown_ingestion_status_or_a_bad_item_detail_concerns_only_its_item() {
    use walmart_client::IngestionStatus;
    use walmart_sandbox::OverriddenRecord;

    let h = start().await;
    h.seed_items(0..4).await;
    let feed_id = processed_inventory_feed(&h, 4).await;
    let item = |index| OverriddenRecord::FeedItem {
        feed_id: feed_id.as_str().to_owned(),
        index,
    };
    h.control
        .override_record(
            item(1),
            "/ingestionStatus",
            serde_json::json!("PARTIALLY_INGESTED"),
        )
        .await
        .expect("override");
    h.control
        .override_record(
            item(2),
            "",
            serde_json::json!({ "index": 2, "sku": "sku-2", "ingestionStatus": { "code": 7 } }),
        )
        .await
        .expect("override");
    let page = h
        .client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("the page is read despite its two odd items");
    let statuses: Vec<(Option<u32>, IngestionStatus)> =
        page.items.iter().map(|i| (i.index, i.status.clone())).collect();
    assert_eq!(
        statuses,
        vec![
            (Some(0), IngestionStatus::Success),
            (Some(1), IngestionStatus::Other("PARTIALLY_INGESTED".into())),
            (Some(3), IngestionStatus::Success),
        ]
    );
    assert_eq!(page.skipped.len(), 1, "{:?}", page.skipped);
    let skipped = &page.skipped[0];
    assert_eq!((skipped.index, skipped.id.as_deref()), (2, Some("sku-2")));
    assert_eq!(
        skipped.correlation_id,
        last_correlation_id(&h, "GET", "/v3/feeds/")
    );

    h.control
        .override_record(
            OverriddenRecord::Feed {
                feed_id: feed_id.as_str().to_owned(),
            },
            "/feedStatus",
            serde_json::json!("ARCHIVED"),
        )
        .await
        .expect("override");
    let page = h
        .client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("an unknown feed status is read");
    assert_eq!(page.status, domain::FeedStatus::Other("ARCHIVED".into()));
    assert!(!page.status.is_done(), "polled on until Walmart says done");
}

/// Fact 2: in one page of orders, a line status Walmart added since and a carrier it added since
/// are kept and named on their own order (`unknown_values`), and an order Walmart sent badly is
/// skipped with its index, purchase order id and the call's correlation id; every other order of
/// the page is read.
#[tokio::test]
async fn an_unknown_line_status_carrier_or_a_bad_order_concerns_only_its_order() {
    use walmart_client::{LineState, OrdersQuery};
    use walmart_sandbox::OverriddenRecord;

    let h = start().await;
    h.seed_items(0..2).await;
    let mut pos = Vec::new();
    for _ in 0..4 {
        pos.push(h.order(&[("sku-0", 1), ("sku-1", 1)]).await);
        h.clock.advance(std::time::Duration::from_secs(1));
    }
    let order = |po: &String| OverriddenRecord::Order {
        purchase_order_id: po.clone(),
    };
    let first_status = "/orderLines/orderLine/1/orderLineStatuses/orderLineStatus/0";
    h.control
        .override_record(
            order(&pos[0]),
            &format!("{first_status}/status"),
            serde_json::json!("Backordered"),
        )
        .await
        .expect("override");
    h.control
        .override_record(
            order(&pos[1]),
            &format!("{first_status}/trackingInfo"),
            serde_json::json!({
                "shipDateTime": common::START.millis(),
                "carrierName": { "carrier": "Zoom Couriers" },
                "methodCode": "Standard",
                "trackingNumber": "Z1",
            }),
        )
        .await
        .expect("override");
    h.control
        .override_record(
            order(&pos[2]),
            "/orderDate",
            serde_json::json!({ "not": "a date" }),
        )
        .await
        .expect("override");

    let start = common::START.minus(std::time::Duration::from_secs(60));
    let page = h
        .client
        .list_orders(
            &OrdersQuery::created_between(start, h.clock.now()),
            &Deadline::none(),
        )
        .await
        .expect("the page is read despite its odd orders");
    let read: Vec<&str> = page.orders.iter().map(|o| o.order.id.as_str()).collect();
    assert_eq!(read, vec![pos[0].as_str(), pos[1].as_str(), pos[3].as_str()]);
    assert_eq!(page.skipped.len(), 1, "{:?}", page.skipped);
    let skipped = &page.skipped[0];
    assert_eq!((skipped.index, skipped.id.as_deref()), (2, Some(pos[2].as_str())));
    assert!(!skipped.reason.is_empty());
    assert_eq!(
        skipped.correlation_id,
        last_correlation_id(&h, "GET", "/v3/orders")
    );

    let backordered = &page.orders[0];
    assert_eq!(
        backordered.quantity_in(domain::LineNumber(2), LineState::Other("Backordered".into())),
        1
    );
    assert_eq!(backordered.unknown_values.len(), 1);
    assert!(
        backordered.unknown_values[0].contains("line 2")
            && backordered.unknown_values[0].contains("Backordered")
    );
    let zoom = &page.orders[1];
    assert_eq!(zoom.unknown_values.len(), 1);
    assert!(zoom.unknown_values[0].contains("Zoom Couriers"));
    assert!(page.orders[2].unknown_values.is_empty());
}
