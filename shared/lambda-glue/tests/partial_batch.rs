//! A malformed message fails alone: for every SQS-triggered function, a batch of two good messages
//! (made by the operations' own senders) around one malformed body goes through `dispatch` as the
//! Lambda runtime delivers it; the answer names only the bad message, and the good ones are done
//! (their effects are in the sandboxes' and the channel's records).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use domain::{ChannelId, ChannelSettings, Listing, Money, Operation, PurchaseOrderId, Sku, Timestamp};
use lambda_glue::{Invocation, Runtime, dispatch};
use lambda_runtime::LambdaEvent;
use operations::testkit::commerce_sandbox::{PriceChange, StockChange};
use operations::testkit::walmart_sandbox::{NewOrder, NewOrderLine, ShipToSpec};
use operations::testkit::{Sandboxes, seed_catalog, seed_live_listings};
use operations::{Channel, catalog_import, inventory_sync, listing_match, order_import, price_sync};
use ports::records::listing_key;
use ports::{Clock, Deadline, ManualClock, Records};
use serde_json::{Value, json};

const BAD: &str = "bad-message";

struct World {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
    skus: Vec<Sku>,
}

async fn world(live: bool) -> World {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    let seeded = seed_catalog(&sandboxes, "BATCH-", 2, 0, 0).await;
    if live {
        seed_live_listings(&sandboxes, &channel, &seeded.matching, 10).await;
    }
    World {
        clock,
        sandboxes,
        channel: Arc::new(channel),
        skus: seeded
            .matching
            .iter()
            .map(|s| Sku::new(s.as_str()).unwrap())
            .collect(),
    }
}

/// Takes every message the operation's queue holds (sent by the operation's own senders).
async fn queued_bodies(w: &World, operation: Operation) -> Vec<String> {
    let (queue, _) = operations::registry::handlers(operation).queue.unwrap();
    let mut bodies = Vec::new();
    loop {
        let batch = w.channel.queues.receive(queue, 10, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            return bodies;
        }
        for delivery in batch {
            bodies.push(delivery.body.clone());
            w.channel.queues.delete(queue, &delivery.receipt).await.unwrap();
        }
    }
}

/// Delivers `good[0]`, a malformed body, then `good[1]` in one batch, as SQS hands them to the
/// function, and returns the ids the function reported as failed.
async fn deliver_with_a_bad_one(
    w: &World,
    operation: Operation,
    good: &[String],
    bad_body: &str,
) -> Vec<String> {
    assert_eq!(good.len(), 2, "{operation:?}: two good messages, got {good:?}");
    let record = |id: &str, body: &str| {
        json!({
            "messageId": id,
            "receiptHandle": format!("receipt-{id}"),
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSource": "aws:sqs",
        })
    };
    let event = json!({"Records": [
        record("good-1", &good[0]),
        record(BAD, bad_body),
        record("good-2", &good[1]),
    ]});
    let invocation: Invocation = serde_json::from_value(event).unwrap();
    let mut context = lambda_runtime::Context::default();
    context.deadline = (std::time::SystemTime::now() + Duration::from_secs(120))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let runtime = Runtime {
        operation,
        channel: w.channel.clone(),
    };
    let answer: Value = dispatch(&runtime, LambdaEvent::new(invocation, context))
        .await
        .unwrap();
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(60))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_import_a_malformed_message_fails_alone() {
    let w = world(false).await;
    for sku in &w.skus {
        catalog_import::request_import(&w.channel, std::slice::from_ref(sku))
            .await
            .unwrap();
    }
    let good = queued_bodies(&w, Operation::CatalogImport).await;
    let failed =
        deliver_with_a_bad_one(&w, Operation::CatalogImport, &good, r#"{"kind":"skus","skus":"#).await;
    assert_eq!(failed, vec![BAD.to_owned()]);
    for sku in &w.skus {
        let listing = w
            .channel
            .store
            .load::<Listing>(&listing_key(&w.channel.settings.id, sku))
            .await
            .unwrap();
        assert!(listing.is_some(), "{sku} imported");
    }
    w.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_match_a_malformed_message_fails_alone() {
    let w = world(false).await;
    catalog_import::run_scheduled(&w.channel, &deadline())
        .await
        .unwrap();
    // The import's nudge, and a second request for the same drafts.
    listing_match::request_match(&w.channel, &[]).await.unwrap();
    let good = queued_bodies(&w, Operation::ListingMatch).await;
    let good = good[good.len() - 2..].to_vec();
    // A partial feed waits a minute for more drafts.
    w.clock.advance(Duration::from_secs(61));
    let failed = deliver_with_a_bad_one(&w, Operation::ListingMatch, &good, r#"{"skus": 7}"#).await;
    assert_eq!(failed, vec![BAD.to_owned()]);
    let feeds = w.sandboxes.walmart_control().feeds().await.unwrap();
    let sent: usize = feeds.iter().map(|f| f.items_received).sum();
    assert_eq!(sent, w.skus.len(), "the drafts went out once: {feeds:?}");
    w.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_sync_a_malformed_message_fails_alone() {
    let w = world(true).await;
    let changes: Vec<StockChange> = w
        .skus
        .iter()
        .zip([4.0, 5.0])
        .map(|(sku, quantity)| StockChange {
            sku: sku.to_string(),
            source_code: "default".into(),
            quantity,
            status: None,
        })
        .collect();
    w.sandboxes.commerce_control().set_stock(&changes).await.unwrap();
    for sku in &w.skus {
        inventory_sync::enqueue_urgent(&w.channel, std::slice::from_ref(sku))
            .await
            .unwrap();
    }
    let good = queued_bodies(&w, Operation::InventorySync).await;
    let failed = deliver_with_a_bad_one(&w, Operation::InventorySync, &good, "not json at all").await;
    assert_eq!(failed, vec![BAD.to_owned()]);
    let inventory = w.sandboxes.walmart_control().inventory().await.unwrap();
    for sku in &w.skus {
        assert_ne!(
            inventory.get(sku.as_str()),
            Some(&10),
            "{sku} synced: {inventory:?}"
        );
    }
    w.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_sync_a_malformed_message_fails_alone() {
    let w = world(true).await;
    for (sku, price) in w.skus.iter().zip([21.5, 23.75]) {
        let change = PriceChange {
            price: Some(price),
            special_price: None,
            special_from_date: None,
            special_to_date: None,
        };
        w.sandboxes
            .commerce_control()
            .set_price(sku.as_str(), &change)
            .await
            .unwrap();
        price_sync::enqueue(&w.channel, std::slice::from_ref(sku))
            .await
            .unwrap();
    }
    let good = queued_bodies(&w, Operation::PriceSync).await;
    let failed = deliver_with_a_bad_one(&w, Operation::PriceSync, &good, r#"{"skus": [""]}"#).await;
    assert_eq!(failed, vec![BAD.to_owned()]);
    let prices = w.sandboxes.walmart_control().prices().await.unwrap();
    assert_eq!(
        prices.get(w.skus[0].as_str()),
        Some(&Money::from_cents(2150)),
        "{prices:?}"
    );
    assert_eq!(
        prices.get(w.skus[1].as_str()),
        Some(&Money::from_cents(2375)),
        "{prices:?}"
    );
    w.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_create_a_malformed_message_fails_alone() {
    let w = world(false).await;
    let mut pos = Vec::new();
    for sku in &w.skus {
        let created = w
            .sandboxes
            .walmart_control()
            .create_order(&NewOrder {
                lines: vec![NewOrderLine {
                    sku: sku.to_string(),
                    quantity: 1,
                    unit_price: Money::from_cents(1999),
                    tax: Money::from_cents(160),
                    shipping: Money::ZERO,
                    product_name: None,
                }],
                ship_to: ShipToSpec::default(),
                method_code: "Standard".into(),
                order_date: None,
                purchase_order_id: None,
            })
            .await
            .unwrap();
        pos.push(PurchaseOrderId::new(created.purchase_order_id).unwrap());
    }
    order_import::run_scheduled(&w.channel, &deadline())
        .await
        .unwrap();
    let good = queued_bodies(&w, Operation::OrderCreate).await;
    let failed = deliver_with_a_bad_one(
        &w,
        Operation::OrderCreate,
        &good,
        r#"{"channel":"main","purchase_order_id":""}"#,
    )
    .await;
    assert_eq!(failed, vec![BAD.to_owned()]);
    let orders = w.sandboxes.commerce_control().orders().await.unwrap();
    for po in &pos {
        let placed = orders
            .iter()
            .filter(|o| o["payment"]["po_number"].as_str() == Some(po.as_str()))
            .count();
        assert_eq!(placed, 1, "one Commerce order for {po}");
    }
    w.sandboxes.shutdown().await;
}
