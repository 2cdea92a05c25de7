//! price-sync driven through its Lambda handler (schedule ticks and SQS batches) with state in
//! DynamoDB and queues in SQS on moto, against both sandboxes over HTTP.

use std::sync::Arc;
use std::time::Duration;

use domain::{ChannelId, ChannelSettings, Money, Operation, PriceRules, Rounding, Timestamp};
use e2e::World;
use operations::testkit::commerce_sandbox;
use operations::testkit::{seed_catalog, seed_live_listings};
use ports::{Clock, ManualClock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_follow_commerce_changes_and_the_channels_rules() {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let mut settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    settings.pricing = PriceRules {
        adjustment_percent: -10,
        rounding: Rounding::Whole,
        minimum: Some(Money::from_cents(500)),
    };
    let world = World::start(settings, clock.clone() as Arc<dyn Clock>).await;
    let skus = seed_catalog(&world.sandboxes, "E2P-", 3, 0, 0).await.matching;
    seed_live_listings(&world.sandboxes, &world.channel, &skus, 10).await;
    let walmart = world.sandboxes.walmart_control();
    let commerce = world.sandboxes.commerce_control();

    // 19.99 - 10% = 17.99 -> 18.00 whole.
    let first = world.tick(Operation::PriceSync).await.unwrap();
    assert_eq!(first["counts"]["prices_sent_single"], 3, "{first}");
    assert_eq!(
        walmart.price_of(&skus[0]).await.unwrap(),
        Some(Money::from_cents(1800))
    );

    // A price change in Commerce, and a special price in force now.
    commerce
        .set_price(
            &skus[1],
            &commerce_sandbox::PriceChange {
                price: Some(50.0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    commerce
        .set_price(
            &skus[2],
            &commerce_sandbox::PriceChange {
                special_price: Some(4.0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::from_secs(120));
    let changed = world.tick(Operation::PriceSync).await.unwrap();
    assert_eq!(changed["counts"]["prices_sent_single"], 2, "{changed}");
    assert_eq!(
        walmart.price_of(&skus[1]).await.unwrap(),
        Some(Money::from_cents(4500))
    );
    assert_eq!(
        walmart.price_of(&skus[2]).await.unwrap(),
        Some(Money::from_cents(500)),
        "the special price, marked down, then the minimum"
    );

    // A request from the dashboard through SQS: in step already, nothing is sent twice.
    let answer = world
        .deliver(Operation::PriceSync, &[&format!(r#"{{"skus":["{}"]}}"#, skus[0])])
        .await
        .unwrap();
    assert_eq!(
        answer["batchItemFailures"].as_array().unwrap().len(),
        0,
        "{answer}"
    );
    assert_eq!(walmart.price_updates().await.unwrap().len(), 5);
    world.sandboxes.shutdown().await;
}
