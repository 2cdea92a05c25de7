//! Catalog and stock reads against the sandbox over loopback: cursors, paging by `total_count`
//! (including the last-page quirk), selections, configurable children, MSI and legacy stock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use commerce_client::{Condition, SearchCriteria};
use commerce_sandbox::{PriceChange, ProductSeed, SandboxSettings, StockChange};
use common::*;
use domain::{Money, ProductSelection, Sku};

#[tokio::test]
async fn updated_since_pages_by_total_count_and_never_past_the_end() {
    let h = start_with(SandboxSettings::default(), |c| c.page_size = 3).await;
    let control = h.sandbox.control();
    // Seven products, each changed one minute after the previous one.
    for n in 0..7 {
        control
            .seed_products(&[product(&format!("SKU-{n}"), 10.0 + f64::from(n), 1.0, 0.0)])
            .await
            .unwrap();
        h.clock.advance(Duration::from_secs(60));
    }
    let since = start_time().plus(Duration::from_secs(60 * 2));
    let mut pages = h.client.products_updated_since(since);
    let mut seen = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next_page(&deadline()).await.unwrap() {
        page_count += 1;
        seen.extend(page.into_iter().map(|p| p.sku));
    }
    assert_eq!(
        seen,
        ["SKU-2", "SKU-3", "SKU-4", "SKU-5", "SKU-6"],
        "oldest change first, cursor inclusive"
    );
    assert_eq!(page_count, 2, "5 items at 3 per page");
    assert_eq!(pages.cursor().total_count, Some(5));
    let stats = control.stats().await.unwrap();
    assert_eq!(
        stats.get("GET /V1/products"),
        Some(&2),
        "no request past the last page: {stats:?}"
    );

    // Exactly a multiple of the page size: still no extra request.
    control
        .seed_products(&[product("SKU-0", 99.0, 1.0, 0.0)])
        .await
        .unwrap();
    let all = h
        .client
        .products_updated_since(since)
        .collect_all(&deadline())
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all.last().unwrap().sku,
        "SKU-0",
        "a changed product moves to the end of the cursor"
    );
    assert_eq!(control.stats().await.unwrap().get("GET /V1/products"), Some(&4));
}

#[tokio::test]
async fn magento_answers_a_page_past_the_end_with_the_last_page() {
    let h = start(bearer_allowed()).await;
    let control = h.sandbox.control();
    let seeds: Vec<ProductSeed> = (0..5)
        .map(|n| product(&format!("P-{n}"), 1.0, 1.0, 0.0))
        .collect();
    control.seed_products(&seeds).await.unwrap();
    // Ask the raw API for page 9 of 2-item pages: the last page (one item) comes back again.
    let http = reqwest::Client::new();
    let url = format!(
        "{}/rest/default/V1/products?searchCriteria%5BpageSize%5D=2&searchCriteria%5BcurrentPage%5D=9",
        h.sandbox.base_url()
    );
    let body: serde_json::Value = http
        .get(url)
        .bearer_auth(commerce_sandbox::OAuthCredentials::sandbox().access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total_count"], 5);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["sku"], "P-4");
    // The client, asked to read everything, reads three pages and stops.
    let mut config = h.client.config().clone();
    config.page_size = 2;
    let client = commerce_client::CommerceClient::new(config, h.clock.clone()).unwrap();
    let before = control
        .stats()
        .await
        .unwrap()
        .get("GET /V1/products")
        .copied()
        .unwrap_or(0);
    let all = client
        .products_updated_since(start_time())
        .collect_all(&deadline())
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let skus: std::collections::BTreeSet<_> = all.iter().map(|p| p.sku.clone()).collect();
    assert_eq!(skus.len(), 5, "no duplicates from a repeated last page");
    assert_eq!(control.stats().await.unwrap()["GET /V1/products"] - before, 3);
}

#[tokio::test]
async fn selections_by_skus_category_and_attribute() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    let mut other = product("OTHER-1", 5.0, 1.0, 0.0);
    other.walmart_enabled = Some(false);
    other.category_ids = Some(vec![9]);
    control
        .seed_products(&[
            product("MUG-1", 12.0, 3.0, 2.0),
            product("CUP-1", 5.0, 1.0, 0.0),
            other,
        ])
        .await
        .unwrap();
    let d = deadline();

    let by_skus = h
        .client
        .products_by_skus(&skus(&["CUP-1", "MUG-1", "NOPE"]), &d)
        .await
        .unwrap();
    assert_eq!(
        by_skus.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(),
        ["MUG-1", "CUP-1"]
    );

    let in_category = h.client.products_in_category(3).collect_all(&d).await.unwrap();
    assert_eq!(in_category.len(), 2);
    let enabled = h
        .client
        .products_with_attribute("walmart_enabled", "1")
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(enabled.len(), 2);
    let selected = h
        .client
        .products_selected(&ProductSelection::default(), None)
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(selected.len(), 2);
    let selected_since = h
        .client
        .products_selected(&ProductSelection::Category { category_id: 9 }, Some(start_time()))
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(
        selected_since.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(),
        ["OTHER-1"]
    );

    let mug = h.client.product(&Sku::new("MUG-1").unwrap(), &d).await.unwrap();
    let zone = h.client.store_setup(false, &d).await.unwrap().timezone;
    let snapshot = commerce_client::convert::product(mug.clone()).to_snapshot("upc", &zone);
    assert_eq!(snapshot.price, Some(Money::from_cents(1200)));
    assert!(snapshot.enabled);
    assert!(domain::Gtin::parse(snapshot.raw_identifier.as_deref().unwrap()).is_ok());
    assert_eq!(mug.weight, Some(1.5));
    assert_eq!(mug.category_ids(), ["3"]);

    // A special price with its window arrives in custom_attributes.
    control
        .set_price(
            "MUG-1",
            &PriceChange {
                special_price: Some(9.5),
                special_from_date: Some("2026-03-01 00:00:00".into()),
                special_to_date: Some("2026-03-31 00:00:00".into()),
                ..PriceChange::default()
            },
        )
        .await
        .unwrap();
    let mug = h.client.product(&Sku::new("MUG-1").unwrap(), &d).await.unwrap();
    let special = mug.special_price(&zone).unwrap();
    assert_eq!(special.price, Money::from_cents(950));
    assert!(special.applies_at(start_time()));

    // A custom search through the public criteria builder.
    let criteria = SearchCriteria::new().filter("price", Condition::Lt, "10");
    assert_eq!(criteria.to_query().len(), 3);
}

#[tokio::test]
async fn configurable_children_and_salability() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    let mut red = product("TEE-RED", 15.0, 0.0, 0.0);
    red.visibility = Some(1);
    let mut blue = product("TEE-BLUE", 15.0, 4.0, 0.0);
    blue.visibility = Some(1);
    let parent = ProductSeed {
        sku: "TEE".into(),
        type_id: Some("configurable".into()),
        price: Some(15.0),
        children: Some(vec!["TEE-RED".into(), "TEE-BLUE".into()]),
        ..ProductSeed::default()
    };
    control.seed_products(&[red, blue, parent]).await.unwrap();
    let d = deadline();
    let parent = h.client.product(&Sku::new("TEE").unwrap(), &d).await.unwrap();
    assert!(parent.is_configurable());
    assert_eq!(parent.child_ids().len(), 2);
    let children = h
        .client
        .configurable_children(&Sku::new("TEE").unwrap(), &d)
        .await
        .unwrap();
    assert_eq!(
        children.iter().map(|c| c.sku.as_str()).collect::<Vec<_>>(),
        ["TEE-RED", "TEE-BLUE"]
    );

    let salable = h
        .client
        .are_products_salable(&skus(&["TEE-RED", "TEE-BLUE", "TEE"]), 1, &d)
        .await
        .unwrap();
    let flags: Vec<(String, bool)> = salable.into_iter().map(|r| (r.sku, r.salable)).collect();
    assert_eq!(
        flags,
        [
            ("TEE-RED".to_owned(), false),
            ("TEE-BLUE".to_owned(), true),
            ("TEE".to_owned(), true)
        ]
    );
    assert_eq!(
        h.client
            .salable_quantity(&Sku::new("TEE-BLUE").unwrap(), 1, &d)
            .await
            .unwrap(),
        4.0
    );
}

/// Fact 7 (issue 12): `GET /V1/configurable-products/{sku}/children` answers partial children (no
/// `extension_attributes`, so no `website_ids`; custom attributes only when "used in product
/// listing", so no `upc`); the client reads the children whole by search instead.
#[tokio::test]
async fn configurable_children_are_read_whole_by_search_not_from_the_partial_route() {
    let h = start(bearer_allowed()).await;
    let control = h.sandbox.control();
    let parent = ProductSeed {
        sku: "TEE".into(),
        type_id: Some("configurable".into()),
        price: Some(15.0),
        children: Some(vec!["TEE-RED".into(), "TEE-BLUE".into()]),
        ..ProductSeed::default()
    };
    control
        .seed_products(&[
            product("TEE-RED", 15.0, 1.0, 0.0),
            product("TEE-BLUE", 15.0, 4.0, 0.0),
            parent,
        ])
        .await
        .unwrap();

    // What the route itself answers.
    let partial: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/rest/default/V1/configurable-products/TEE/children",
            h.sandbox.base_url()
        ))
        .bearer_auth(commerce_sandbox::OAuthCredentials::sandbox().access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(partial.as_array().unwrap().len(), 2);
    for child in partial.as_array().unwrap() {
        assert!(child.get("extension_attributes").is_none(), "{child}");
        let codes: Vec<&str> = child["custom_attributes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["attribute_code"].as_str())
            .collect();
        assert!(!codes.contains(&"upc"), "{codes:?}");
    }

    let children = h
        .client
        .configurable_children(&Sku::new("TEE").unwrap(), &deadline())
        .await
        .unwrap();
    assert_eq!(
        children.iter().map(|c| c.sku.as_str()).collect::<Vec<_>>(),
        ["TEE-RED", "TEE-BLUE"]
    );
    for child in &children {
        let extension = child.extension_attributes.as_ref().unwrap();
        assert_eq!(extension.website_ids, [1], "{}", child.sku);
        assert!(
            child.custom_attributes.iter().any(|a| a.attribute_code == "upc"),
            "{}",
            child.sku
        );
    }
}

#[tokio::test]
async fn msi_source_items_snapshots_stock_resolver_and_legacy_stock() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0), product("CUP-1", 5.0, 1.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let before = h.client.source_items().collect_all(&d).await.unwrap();
    assert_eq!(before.len(), 4);
    assert_eq!(
        (before[0].sku.as_str(), before[0].source_code.as_str()),
        ("CUP-1", "default")
    );
    control
        .set_stock(&[StockChange {
            sku: "MUG-1".into(),
            source_code: "warehouse_east".into(),
            quantity: 0.0,
            status: None,
        }])
        .await
        .unwrap();
    let after = h
        .client
        .source_items_for(&skus(&["MUG-1"]))
        .collect_all(&d)
        .await
        .unwrap();
    let changed: Vec<_> = after.iter().filter(|a| !before.contains(a)).collect();
    assert_eq!(
        changed.len(),
        1,
        "the snapshot diff finds the one changed source item"
    );
    assert_eq!((changed[0].quantity, changed[0].status), (0.0, 0));
    assert_eq!(
        h.client
            .salable_quantity(&Sku::new("MUG-1").unwrap(), 1, &d)
            .await
            .unwrap(),
        3.0
    );

    let stock = h.client.stock_for_website("base", &d).await.unwrap();
    assert_eq!(stock.stock_id, 1);
    let legacy = h
        .client
        .legacy_stock_item(&Sku::new("CUP-1").unwrap(), &d)
        .await
        .unwrap();
    assert_eq!(legacy.qty, Some(1.0));
    assert!(legacy.is_in_stock);
}

#[tokio::test]
async fn stores_without_msi_use_the_legacy_stock_item() {
    let h = start(SandboxSettings {
        msi: false,
        ..SandboxSettings::default()
    })
    .await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    let d = deadline();
    let err = h
        .client
        .salable_quantity(&Sku::new("MUG-1").unwrap(), 1, &d)
        .await
        .unwrap_err();
    // The route is missing, not the product.
    assert!(
        matches!(err, commerce_client::CommerceError::NoRoute { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("Request does not match any route."),
        "{err}"
    );
    let legacy = h
        .client
        .legacy_stock_item(&Sku::new("MUG-1").unwrap(), &d)
        .await
        .unwrap();
    assert_eq!(legacy.qty, Some(5.0));
}

/// Issue 12, fact 1: Magento's 404 has two meanings. A route 404 (`"Request does not match any
/// route."`: MSI disabled, unknown store code) is a configuration error; only an entity 404 says the
/// product is gone.
#[tokio::test]
async fn a_route_404_is_a_configuration_error_and_an_entity_404_a_missing_product() {
    use commerce_client::CommerceError;
    let d = deadline();
    let h = start(SandboxSettings::default()).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    let gone = h
        .client
        .salable_quantity(&Sku::new("NO-SUCH-SKU").unwrap(), 1, &d)
        .await
        .unwrap_err();
    assert!(matches!(gone, CommerceError::NotFound { .. }), "{gone}");
    let setup = h.client.store_setup(true, &d).await.unwrap();
    assert_eq!(setup.store_code, "default");
    assert_eq!(setup.timezone.name(), "America/Chicago");

    // A store without MSI: the probe says so in words that name the remedy.
    let without_msi = start(SandboxSettings {
        msi: false,
        ..SandboxSettings::default()
    })
    .await;
    let err = without_msi.client.store_setup(true, &d).await.unwrap_err();
    assert!(
        matches!(&err, CommerceError::Configuration(m) if m.contains("Multi-Source Inventory is disabled")),
        "{err}"
    );
    assert_eq!(
        ports::ApiError::from(err).kind,
        ports::ApiErrorKind::Configuration
    );
    // A store without MSI is fine for a channel on legacy stock.
    assert!(without_msi.client.store_setup(false, &d).await.is_ok());

    // An unknown store code: every route is missing.
    let wrong_code = start_with(SandboxSettings::default(), |c| c.store_code = "us_store".into()).await;
    let err = wrong_code
        .client
        .product(&Sku::new("MUG-1").unwrap(), &d)
        .await
        .unwrap_err();
    assert!(matches!(err, CommerceError::NoRoute { .. }), "{err}");
    let err = wrong_code.client.store_setup(false, &d).await.unwrap_err();
    assert!(
        matches!(&err, CommerceError::Configuration(m) if m.contains("store code \"us_store\" is unknown")),
        "{err}"
    );
}

/// A SKU that cannot go in a URL path (`/`, and a `%` that must reach Magento as itself) still gets
/// its salable quantity, reservations included: `GET /V1/inventory/export-stock-salable-qty`
/// takes it as a searchCriteria filter in the query, encoded once.
#[tokio::test]
async fn special_character_skus_get_their_salable_quantity_through_the_query() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    let odd = "KIT-1/2%2F3";
    control
        .seed_products(&[product(odd, 5.0, 4.0, 3.0), product("KIT-1/2/3", 5.0, 9.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let sku = Sku::new(odd).unwrap();
    let (_, expected) = control.salable(odd, 1).await.unwrap();
    assert_eq!(h.client.salable_quantity(&sku, 1, &d).await.unwrap(), expected);
    assert_eq!(
        expected, 7.0,
        "both sources of stock 1, not the SKU a double decoding would name"
    );
    let exported = h
        .sandbox
        .recorder()
        .snapshot()
        .into_iter()
        .find(|e| e.path.contains("/export-stock-salable-qty/"))
        .expect("the export route was asked");
    assert!(exported.path.ends_with("/export-stock-salable-qty/website/base"));
    assert_eq!(
        exported.query_value("searchCriteria[filterGroups][0][filters][0][value]"),
        Some(odd)
    );
    let missing = Sku::new("GONE-1/2").unwrap();
    let err = h.client.salable_quantity(&missing, 1, &d).await.unwrap_err();
    assert!(
        matches!(err, commerce_client::CommerceError::NotFound { .. }),
        "{err}"
    );
}
