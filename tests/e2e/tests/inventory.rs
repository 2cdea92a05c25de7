//! inventory-sync driven through its Lambda handler (schedule ticks and SQS batches) with state in
//! DynamoDB and queues in SQS on moto, against both sandboxes over HTTP.

use std::sync::Arc;
use std::time::Duration;

use domain::{
    ChannelId, ChannelSettings, InventoryRules, MethodCode, Money, Operation, PurchaseOrderId, Sku, Timestamp,
};
use e2e::World;
use operations::inventory_sync;
use operations::testkit::{commerce_sandbox, walmart_sandbox};
use operations::testkit::{seed_catalog, seed_live_listings};
use ports::commerce::OrderPlacement;
use ports::{Clock, Deadline, ManualClock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quantities_follow_stock_changes_and_orders() {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let mut settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    settings.inventory = InventoryRules {
        safety_buffer: 1,
        max_advertised: None,
        out_of_stock_threshold: 0,
    };
    let world = World::start(settings, clock.clone() as Arc<dyn Clock>).await;
    let skus = seed_catalog(&world.sandboxes, "E2I-", 4, 0, 0).await.matching;
    seed_live_listings(&world.sandboxes, &world.channel, &skus, 10).await;
    let walmart = world.sandboxes.walmart_control();
    let commerce = world.sandboxes.commerce_control();

    // First run: 10 salable less the buffer of 1.
    let first = world.tick(Operation::InventorySync).await.unwrap();
    assert_eq!(first["counts"]["quantities_sent_single"], 4, "{first}");
    assert_eq!(walmart.inventory_of(&skus[0]).await.unwrap(), Some(9));

    // A merchant changes stock in Commerce.
    commerce
        .set_stock(&[commerce_sandbox::StockChange {
            sku: skus[1].clone(),
            source_code: "default".into(),
            quantity: 25.0,
            status: None,
        }])
        .await
        .unwrap();
    clock.advance(Duration::from_secs(300));
    let changed = world.tick(Operation::InventorySync).await.unwrap();
    assert_eq!(changed["counts"]["source_changes"], 1, "{changed}");
    assert_eq!(walmart.inventory_of(&skus[1]).await.unwrap(), Some(24));

    // A Walmart order placed in Commerce reserves 3 units; order-create's urgent message goes
    // through SQS and the quantity drops at once.
    let created = walmart
        .create_order(&walmart_sandbox::NewOrder {
            lines: vec![walmart_sandbox::NewOrderLine {
                sku: skus[2].clone(),
                quantity: 3,
                unit_price: Money::from_cents(1999),
                tax: Money::ZERO,
                shipping: Money::ZERO,
                product_name: None,
            }],
            ship_to: Default::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        })
        .await
        .unwrap();
    let deadline = Deadline::after(Duration::from_secs(60));
    let po = PurchaseOrderId::new(created.purchase_order_id).unwrap();
    let order = world
        .channel
        .walmart
        .get_order(&po, &deadline)
        .await
        .unwrap()
        .order;
    let placement = OrderPlacement::from_settings(
        &world.channel.settings.orders,
        &MethodCode::new("Standard").unwrap(),
    );
    world
        .channel
        .commerce
        .create_order_for(&order, &placement, &deadline)
        .await
        .unwrap();
    inventory_sync::enqueue_urgent(&world.channel, &[Sku::new(skus[2].as_str()).unwrap()])
        .await
        .unwrap();
    assert_eq!(world.drain(Operation::InventorySync).await, (1, 0));
    assert_eq!(
        walmart.inventory_of(&skus[2]).await.unwrap(),
        Some(6),
        "10 - 3 reserved - 1 buffer"
    );

    // The schedule finds the same order and has nothing left to send; a malformed message fails alone.
    clock.advance(Duration::from_secs(300));
    let after = world.tick(Operation::InventorySync).await.unwrap();
    assert_eq!(after["counts"]["order_skus"], 1, "{after}");
    assert!(
        after["counts"]
            .get("quantities_sent_single")
            .is_none_or(|n| n == 0),
        "{after}"
    );
    let answer = world
        .deliver(Operation::InventorySync, &[r#"{"skus":"E2I-00000"}"#])
        .await
        .unwrap();
    assert_eq!(
        answer["batchItemFailures"].as_array().unwrap().len(),
        1,
        "{answer}"
    );
    let stats = walmart.stats().await.unwrap();
    assert!(stats.values().all(|s| s.throttled == 0), "{stats:?}");
    world.sandboxes.shutdown().await;
}
