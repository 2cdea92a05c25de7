//! catalog-import and listing-match driven through their Lambda handlers (schedule ticks and SQS
//! batches) with state in DynamoDB and queues in SQS on moto, against both sandboxes over HTTP.

use std::sync::Arc;
use std::time::Duration;

use domain::{
    ChannelId, ChannelSettings, ISSUE_INVALID_IDENTIFIER, Listing, ListingStatus, Operation, Sku, Timestamp,
};
use e2e::World;
use operations::testkit::commerce_sandbox;
use operations::testkit::seed_catalog;
use ports::records::listing_key;
use ports::{Clock, ManualClock, Records};

async fn listing(world: &World, sku: &str) -> Listing {
    let ch = &world.channel;
    ch.store
        .load::<Listing>(&listing_key(&ch.settings.id, &Sku::new(sku).unwrap()))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no listing {sku}"))
        .record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_are_imported_and_matched_with_wpids_and_readable_errors() {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let world = World::start(
        ChannelSettings::with_defaults(ChannelId::new("main").unwrap()),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let seeded = seed_catalog(&world.sandboxes, "E2L-", 8, 4, 5).await;

    let import = world.tick(Operation::CatalogImport).await.unwrap();
    assert_eq!(import["counts"]["listings_created"], 8, "{import}");
    assert_eq!(import["counts"]["listing_errors"], seeded.bad_gtin.len());
    // The import's nudge reaches listing-match through SQS; the partial feed waits a minute.
    assert_eq!(world.drain(Operation::ListingMatch).await, (1, 0));

    clock.advance(Duration::from_secs(61));
    let sent = world.tick(Operation::ListingMatch).await.unwrap();
    assert_eq!(sent["counts"]["match_feeds"], 1, "{sent}");
    clock.advance(Duration::from_secs(61));
    let done = world.tick(Operation::ListingMatch).await.unwrap();
    assert_eq!(done["counts"]["matched"], seeded.matching.len(), "{done}");

    let walmart = world.sandboxes.walmart_control();
    for sku in &seeded.matching {
        let l = listing(&world, sku).await;
        assert_eq!(l.status(), ListingStatus::Match);
        let item = walmart.seller_item(sku).await.unwrap();
        assert_eq!(
            item["wpid"].as_str(),
            l.wpid.as_ref().map(|w| w.as_str()),
            "{sku}"
        );
        assert_eq!(item["publishedStatus"], "PUBLISHED");
    }
    let bad = listing(&world, &seeded.bad_gtin[0]).await;
    assert_eq!(bad.status(), ListingStatus::Error);
    assert_eq!(bad.issues[0].code, ISSUE_INVALID_IDENTIFIER);
    assert!(
        bad.issues[0]
            .message
            .contains("is not valid: check digit does not match"),
        "{:?}",
        bad.issues
    );
    let unknown = listing(&world, &seeded.unknown_on_walmart[0]).await;
    assert_eq!(unknown.issues[0].code, "ERR_EXT_DATA_0101001");
    assert!(
        unknown.issues[0]
            .message
            .contains("No Walmart item has this UPC/GTIN")
    );

    // An import request from the dashboard arrives on SQS; a malformed one fails alone.
    world
        .sandboxes
        .commerce_control()
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: "E2L-ASKED".into(),
            price: Some(3.5),
            weight: Some(0.5),
            upc: Some(commerce_sandbox::upc_for(12_345_678)),
            ..Default::default()
        }])
        .await
        .unwrap();
    let answer = world
        .deliver(
            Operation::CatalogImport,
            &[r#"{"kind":"skus","skus":["E2L-ASKED"]}"#, r#"{"kind":"nope"}"#],
        )
        .await
        .unwrap();
    let failures = answer["batchItemFailures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{answer}");
    assert_eq!(failures[0]["itemIdentifier"], "m1");
    assert_eq!(listing(&world, "E2L-ASKED").await.status(), ListingStatus::Draft);
    world.sandboxes.shutdown().await;
}
