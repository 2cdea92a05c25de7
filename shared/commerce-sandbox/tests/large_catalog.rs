//! A 100,000-product catalog: generated in one control call, searched over loopback through the
//! `updated_at` index (cursor paging, the last-page quirk) and through the general filter path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use commerce_sandbox::{CatalogSpec, CommerceSandbox, OAuthCredentials, PriceChange, SandboxSettings};
use domain::Timestamp;
use ports::ManualClock;
use serde_json::Value;

async fn search(base: &str, query: &str) -> Value {
    let token = OAuthCredentials::sandbox().access_token;
    let response = reqwest::Client::new()
        .get(format!("{base}/rest/default/V1/products?{query}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_large_catalog_pages_by_updated_at() {
    let start = Timestamp::parse_commerce("2026-03-01 00:00:00").unwrap();
    let clock = Arc::new(ManualClock::at(start));
    // The raw searches below send the access token as Bearer, which the store must allow.
    let settings = SandboxSettings {
        accept_bearer: true,
        ..SandboxSettings::default()
    };
    let sandbox = CommerceSandbox::start(settings, clock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let control = sandbox.control();
    let created = control
        .generate_catalog(&CatalogSpec {
            count: 100_000,
            walmart_enabled_every: 4,
            ..CatalogSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(created["created"], 100_000);
    clock.advance(Duration::from_secs(60));
    control
        .set_price(
            "GEN-000007",
            &PriceChange {
                price: Some(1.0),
                ..PriceChange::default()
            },
        )
        .await
        .unwrap();

    let base = sandbox.base_url();
    let cursor = "searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=updated_at\
        &searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-03-01%2000%3A00%3A00\
        &searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5BconditionType%5D=gteq\
        &searchCriteria%5BsortOrders%5D%5B0%5D%5Bfield%5D=updated_at&searchCriteria%5BsortOrders%5D%5B0%5D%5Bdirection%5D=ASC\
        &searchCriteria%5BpageSize%5D=300";
    let first = search(&base, &format!("{cursor}&searchCriteria%5BcurrentPage%5D=1")).await;
    assert_eq!(first["total_count"], 100_000);
    assert_eq!(first["items"].as_array().unwrap().len(), 300);
    assert_eq!(first["items"][0]["sku"], "GEN-000000");
    let last = search(&base, &format!("{cursor}&searchCriteria%5BcurrentPage%5D=334")).await;
    let items = last["items"].as_array().unwrap();
    assert_eq!(items.len(), 100, "100,000 = 333 × 300 + 100");
    assert_eq!(
        items.last().unwrap()["sku"],
        "GEN-000007",
        "the changed product comes last"
    );
    let past = search(&base, &format!("{cursor}&searchCriteria%5BcurrentPage%5D=999")).await;
    assert_eq!(
        past["items"], last["items"],
        "a page past the end repeats the last page"
    );

    // The general path: a strict bound and an attribute, ANDed.
    let changed_and_enabled = "searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=updated_at\
        &searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=2026-03-01%2000%3A00%3A00\
        &searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5BconditionType%5D=gt\
        &searchCriteria%5BfilterGroups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=walmart_enabled\
        &searchCriteria%5BfilterGroups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=1\
        &searchCriteria%5BpageSize%5D=10";
    let found = search(&base, changed_and_enabled).await;
    assert_eq!(
        found["total_count"], 0,
        "GEN-000007 is not walmart-enabled (every 4th is)"
    );
    let enabled = search(&base, "searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=walmart_enabled\
        &searchCriteria%5BfilterGroups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=1&searchCriteria%5BpageSize%5D=1").await;
    assert_eq!(enabled["total_count"], 25_000);
    sandbox.shutdown().await;
}
