//! Items, catalog search, feeds with per-item results, inventory and price, against the sandbox.

mod common;

use std::time::Duration;

use common::{ean, start};
use domain::{FeedId, FeedStatus, Gtin, Money, Sku};
use ports::Deadline;
use serde_json::json;
use walmart_client::feeds::{
    InventoryEntry, ItemMatchEntry, PriceEntry, ShipNodeInventoryEntry, inventory_feeds, item_match_feeds,
    multi_node_inventory_feeds, price_feeds,
};
use walmart_client::{FeedType, IngestionStatus, ItemsQuery, WalmartError};
use walmart_sandbox::{CatalogItemSpec, UpdateSource, feed_error_codes};

fn sku(raw: &str) -> Sku {
    Sku::new(raw).expect("valid sku")
}

#[tokio::test]
async fn items_page_by_cursor_and_read_one() {
    let h = start().await;
    h.seed_items(0..250).await;
    let mut query = ItemsQuery {
        limit: 100,
        ..ItemsQuery::default()
    };
    let mut skus = Vec::new();
    let mut pages = 0;
    loop {
        let page = h
            .client
            .list_items(&query, &Deadline::none())
            .await
            .expect("page");
        pages += 1;
        assert_eq!(page.total_items, Some(250));
        skus.extend(page.items.iter().map(|i| i.sku.clone()));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!((pages, skus.len()), (3, 250));
    let unique: std::collections::BTreeSet<_> = skus.iter().collect();
    assert_eq!(unique.len(), 250, "no item twice across pages");
    assert_eq!(
        h.exchanges_to("GET", "/v3/items")[0].query_value("nextCursor"),
        Some("*"),
        "the first page asks for cursor *"
    );

    let item = h
        .client
        .get_item(&sku("sku-7"), &Deadline::none())
        .await
        .expect("item");
    assert_eq!(item.gtin.as_deref(), Some(format!("0{}", ean(7)).as_str()));
    assert!(item.wpid.is_some());
    assert_eq!(item.published_status.as_deref(), Some("PUBLISHED"));
    assert_eq!(item.price, Some(Money::from_cents(1500)));
}

#[tokio::test]
async fn catalog_search_by_upc_or_gtin() {
    let h = start().await;
    h.control
        .add_catalog_items(&[
            CatalogItemSpec {
                gtin: "036000291452".into(),
                product_name: "Blue Mug".into(),
                brand: Some("Acme".into()),
                product_type: Some("Mugs".into()),
                price: Some(Money::from_cents(899)),
                wpid: None,
            },
            CatalogItemSpec {
                gtin: ean(1),
                product_name: "Red Cup".into(),
                brand: None,
                product_type: None,
                price: None,
                wpid: None,
            },
        ])
        .await
        .expect("catalog");
    let upc = Gtin::parse("036000291452").expect("upc");
    let found = h
        .client
        .search_catalog_by_gtin(&upc, &Deadline::none())
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].title.as_deref(), Some("Blue Mug"));
    assert_eq!(found[0].price, Some(Money::from_cents(899)));
    let by_upc = h.exchanges_to("GET", "/v3/items/walmart/search");
    assert_eq!(by_upc[0].query_value("upc"), Some("036000291452"));

    let ean13 = Gtin::parse(&ean(1)).expect("ean");
    let found = h
        .client
        .search_catalog_by_gtin(&ean13, &Deadline::none())
        .await
        .expect("search");
    assert_eq!(found[0].title.as_deref(), Some("Red Cup"));
    assert_eq!(
        h.exchanges_to("GET", "/v3/items/walmart/search")[1].query_value("gtin"),
        Some(ean13.to_gtin14().as_str())
    );
    let unknown = Gtin::parse(&ean(99)).expect("ean");
    assert!(
        h.client
            .search_catalog_by_gtin(&unknown, &Deadline::none())
            .await
            .expect("search")
            .is_empty()
    );
}

#[tokio::test]
async fn item_match_feed_moves_through_statuses_with_per_item_results() {
    let h = start().await;
    h.control
        .add_catalog_items(&[CatalogItemSpec {
            gtin: "036000291452".into(),
            product_name: "Blue Mug".into(),
            brand: None,
            product_type: None,
            price: None,
            wpid: Some("5RDV1JH9CN2B".into()),
        }])
        .await
        .expect("catalog");
    let feed = &item_match_feeds(&[
        ItemMatchEntry {
            sku: sku("MUG 1/blue"),
            gtin: Gtin::parse("036000291452").expect("upc"),
            price: Money::from_cents(1999),
            shipping_weight_lb: 1.5,
        },
        ItemMatchEntry {
            sku: sku("UNKNOWN-1"),
            gtin: Gtin::parse(&ean(5)).expect("ean"),
            price: Money::from_cents(500),
            shipping_weight_lb: 0.25,
        },
    ])
    .expect("feed")[0];
    let feed_id = h.client.submit(feed, &Deadline::none()).await.expect("submitted");
    assert!(feed_id.as_str().contains('@'));

    let page = h
        .client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("status");
    assert_eq!(page.status, FeedStatus::Received);
    assert_eq!(page.items_processing, 2);
    let status_calls = h.exchanges_to("GET", "/v3/feeds/");
    assert!(
        status_calls[0].path.contains("%40") && !status_calls[0].path.contains('@'),
        "the @ of the feed id is encoded: {}",
        status_calls[0].path
    );
    h.clock.advance(Duration::from_secs(15));
    let page = h
        .client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("status");
    assert_eq!(page.status, FeedStatus::Inprogress);
    assert!(page.items.iter().all(|i| i.status == IngestionStatus::InProgress));
    h.clock.advance(Duration::from_secs(50));
    let page = h
        .client
        .feed_status(&feed_id, 0, 50, &Deadline::none())
        .await
        .expect("status");
    assert_eq!(page.status, FeedStatus::Processed);
    assert_eq!(
        (page.items_received, page.items_succeeded, page.items_failed),
        (2, 1, 1)
    );
    let matched = &page.items[0];
    assert_eq!(matched.status, IngestionStatus::Success);
    assert_eq!(matched.sku, Some(sku("MUG 1/blue")));
    assert_eq!(matched.wpid.as_ref().map(|w| w.as_str()), Some("5RDV1JH9CN2B"));
    let failed = &page.items[1];
    assert_eq!(failed.status, IngestionStatus::DataError);
    assert_eq!(failed.issues[0].code, feed_error_codes::NO_CATALOG_MATCH);

    let item = h
        .client
        .get_item(&sku("MUG 1/blue"), &Deadline::none())
        .await
        .expect("matched item");
    assert_eq!(item.price, Some(Money::from_cents(1999)));
    assert!(
        h.exchanges_to("GET", "/v3/items/")
            .last()
            .is_some_and(|e| e.path == "/v3/items/MUG%201%2Fblue"),
        "the sku is percent-encoded in the path"
    );
}

#[tokio::test]
async fn data_errors_bad_check_digit_and_missing_price_and_detail_paging() {
    let h = start().await;
    h.seed_items(0..3).await;
    // Hand-made: the builders cannot produce these mistakes.
    let payload = json!({
        "MPItemFeedHeader": { "sellingChannel": "mpsetupbymatch", "locale": "en", "version": "1.0" },
        "MPItem": [
            { "Item": { "sku": "A", "productIdentifiers": { "productIdType": "EAN", "productId": ean(0) }, "price": 5.0, "ShippingWeight": 1 } },
            { "Item": { "sku": "B", "productIdentifiers": { "productIdType": "UPC", "productId": "036000291453" }, "price": 5.0, "ShippingWeight": 1 } },
            { "Item": { "sku": "C", "productIdentifiers": { "productIdType": "EAN", "productId": ean(1) }, "ShippingWeight": 1 } },
            { "Item": { "sku": "D", "productIdentifiers": { "productIdType": "EAN", "productId": ean(2) }, "price": 7.25, "ShippingWeight": 1 } },
            { "Item": { "sku": "E", "productIdentifiers": { "productIdType": "EAN", "productId": ean(40) }, "price": 7.25, "ShippingWeight": 1 } },
        ]
    });
    let feed_id = h
        .client
        .submit_feed(FeedType::ItemMatch, &payload, &Deadline::none())
        .await
        .expect("submitted");
    h.clock.advance(Duration::from_secs(60));
    let mut offset = 0;
    let mut items = Vec::new();
    loop {
        let page = h
            .client
            .feed_status(&feed_id, offset, 2, &Deadline::none())
            .await
            .expect("page");
        assert_eq!(page.status, FeedStatus::Processed);
        items.extend(page.items.clone());
        match page.next_offset() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(items.len(), 5, "three pages of two");
    let codes: Vec<Option<&str>> = items
        .iter()
        .map(|i| i.issues.first().map(|issue| issue.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            Some(feed_error_codes::INVALID_PRODUCT_ID),
            Some(feed_error_codes::MISSING_ATTRIBUTE),
            None,
            Some(feed_error_codes::NO_CATALOG_MATCH),
        ]
    );
    assert!(
        items[1].issues[0].message.contains("check digit"),
        "{:?}",
        items[1].issues
    );
    assert!(
        items[2].issues[0].message.contains("price"),
        "{:?}",
        items[2].issues
    );
    assert_eq!(
        items.iter().map(|i| i.index).collect::<Vec<_>>(),
        (0..5).map(Some).collect::<Vec<_>>()
    );

    let missing = FeedId::new("NOPE@AQMBAQA").expect("feed id");
    let err = h
        .client
        .feed_status(&missing, 0, 10, &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn single_inventory_and_price_updates_with_encoded_skus() {
    let h = start().await;
    let odd = "MUG 1/ß+x&y";
    h.control
        .add_catalog_items(&[CatalogItemSpec {
            gtin: ean(1),
            product_name: "Mug".into(),
            brand: None,
            product_type: None,
            price: None,
            wpid: None,
        }])
        .await
        .expect("catalog");
    h.control
        .add_seller_items(&[walmart_sandbox::SellerItemSpec {
            sku: odd.into(),
            gtin: ean(1),
            price: None,
            quantity: None,
        }])
        .await
        .expect("item");
    let odd_sku = sku(odd);
    h.client
        .update_inventory(&odd_sku, 42, &Deadline::none())
        .await
        .expect("inventory set");
    assert_eq!(
        h.client
            .get_inventory(&odd_sku, &Deadline::none())
            .await
            .expect("read back"),
        42
    );
    let put = &h.exchanges_to("PUT", "/v3/inventory")[0];
    assert_eq!(put.query_value("sku"), Some(odd), "decoded back to the same sku");
    assert_eq!(
        put.request_body.as_ref().expect("body")["quantity"]["unit"],
        "EACH"
    );
    h.client
        .update_price(&odd_sku, Money::from_cents(2499), &Deadline::none())
        .await
        .expect("price set");
    assert_eq!(h.control.inventory_of(odd).await.expect("control"), Some(42));
    assert_eq!(
        h.control.price_of(odd).await.expect("control"),
        Some(Money::from_cents(2499))
    );
    let updates = h.control.price_updates().await.expect("updates");
    assert_eq!(updates[0].source, UpdateSource::Single);

    let err = h
        .client
        .update_inventory(&sku("not-set-up"), 1, &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn inventory_multi_node_and_price_feeds_set_state_when_processed() {
    let h = start().await;
    h.seed_items(0..3).await;
    let skus: Vec<Sku> = (0..3).map(|n| sku(&format!("sku-{n}"))).collect();
    let inventory = &inventory_feeds(
        &skus
            .iter()
            .enumerate()
            .map(|(i, s)| InventoryEntry {
                sku: s.clone(),
                quantity: 10 + i as u32,
            })
            .collect::<Vec<_>>(),
    )
    .expect("feed")[0];
    let multi = &multi_node_inventory_feeds(&[
        ShipNodeInventoryEntry {
            sku: skus[0].clone(),
            ship_node: "10000003527".into(),
            quantity: 3,
        },
        ShipNodeInventoryEntry {
            sku: skus[0].clone(),
            ship_node: "10000003528".into(),
            quantity: 4,
        },
    ])
    .expect("feed")[0];
    let prices = &price_feeds(&[PriceEntry {
        sku: skus[1].clone(),
        price: Money::from_cents(4321),
    }])
    .expect("feed")[0];
    let inventory_id = h
        .client
        .submit(inventory, &Deadline::none())
        .await
        .expect("inventory feed");
    h.clock.advance(Duration::from_secs(1));
    let multi_id = h
        .client
        .submit(multi, &Deadline::none())
        .await
        .expect("MP_INVENTORY feed");
    let price_id = h
        .client
        .submit(prices, &Deadline::none())
        .await
        .expect("price feed");
    assert_eq!(
        h.control.inventory_of("sku-1").await.expect("control"),
        Some(5),
        "not applied before processing"
    );
    h.clock.advance(Duration::from_secs(120));
    for id in [&inventory_id, &multi_id, &price_id] {
        let page = h
            .client
            .feed_status(id, 0, 50, &Deadline::none())
            .await
            .expect("status");
        assert_eq!(page.status, FeedStatus::Processed, "{id}");
        assert_eq!(page.items_failed, 0, "{page:?}");
    }
    assert_eq!(
        h.control.inventory_of("sku-0").await.expect("control"),
        Some(7),
        "nodes summed, later feed wins"
    );
    assert_eq!(h.control.inventory_of("sku-2").await.expect("control"), Some(12));
    assert_eq!(
        h.control.price_of("sku-1").await.expect("control"),
        Some(Money::from_cents(4321))
    );
    let updates = h.control.inventory_updates().await.expect("updates");
    assert!(updates.iter().any(|u| u.source
        == UpdateSource::Feed {
            feed_id: multi_id.as_str().to_owned()
        }));
    let feed_types: Vec<String> = h
        .exchanges_to("POST", "/v3/feeds")
        .iter()
        .filter_map(|e| e.query_value("feedType").map(str::to_owned))
        .collect();
    assert_eq!(feed_types, vec!["inventory", "MP_INVENTORY", "price"]);
}
