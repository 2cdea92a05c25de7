//! End to end on moto (DynamoDB, SQS) and both sandboxes over HTTP: order-import on its schedule,
//! order-create through its SQS queue and Lambda's batch handling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_world;

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use domain::{CommerceOrderId, LineNumber, Money, Operation, OrderEvent, OrderSummary};
use lambda_glue::{Invocation, dispatch};
use lambda_runtime::LambdaEvent;
use operations::dashboard::{self, DateRange};
use operations::order_create::CreateOrder;
use orders_world::{OrdersWorld, units};
use ports::commerce::OrderPlacement;
use ports::{ClaimTerms, IdempotencyKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walmart_order_becomes_one_commerce_order_with_its_lines_prices_address_and_stock() {
    let w = OrdersWorld::start().await;
    let (a, b) = (w.skus[0].clone(), w.skus[1].clone());
    let po = w.buyer_orders(&[(&a, 2, 1999), (&b, 1, 2199)]).await;

    let report = w.tick(Operation::OrderImport).await;
    assert_eq!(report["counts"]["orders_imported"], 1, "{report}");
    assert_eq!(report["counts"]["OrdersPendingCreation"], 0);
    let walmart = w.world.sandboxes.walmart_control();
    assert!(
        walmart.received().await.unwrap().acknowledgements.is_empty(),
        "not before creation"
    );
    assert_eq!(w.record(&po).await.summary(), OrderSummary::Pending);

    let (handled, failed) = w.world.drain(Operation::OrderCreate).await;
    assert_eq!((handled, failed), (1, 0));
    let order = w.commerce_order(&po).await;
    let item = |sku: &str| {
        order["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["sku"] == sku)
            .cloned()
            .unwrap()
    };
    assert_eq!(item(&a)["qty_ordered"], 2.0);
    assert_eq!(item(&b)["qty_ordered"], 1.0);
    assert_eq!(item(&b)["price"], 19.99, "Commerce charges its catalog price");
    let address = &order["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"];
    assert_eq!(address["street"][0], "702 SW 8th St");
    assert_eq!(address["region_code"], "AR");
    let control = w.world.sandboxes.commerce_control();
    assert_eq!(
        control.salable(&a, 1).await.unwrap().1,
        8.0,
        "reserved by the placement"
    );
    assert_eq!(control.salable(&b, 1).await.unwrap().1, 9.0);

    let record = w.record(&po).await;
    let link = record.commerce_link().unwrap();
    assert_eq!(
        link.order_id,
        CommerceOrderId(order["entity_id"].as_u64().unwrap())
    );
    assert_eq!(
        link.increment_id.as_str(),
        order["increment_id"].as_str().unwrap()
    );
    assert_eq!(
        record.line(LineNumber(2)).unwrap().commerce_unit_price,
        Some(Money::from_cents(1999))
    );
    assert!(record.history.iter().any(|h| h.line == Some(LineNumber(2))
        && h.event
            == OrderEvent::PriceDifference {
                walmart: Money::from_cents(2199),
                commerce: Money::from_cents(1999)
            }));
    let acks = walmart.received().await.unwrap().acknowledgements;
    assert_eq!(acks.len(), 1);
    assert!(
        acks[0].at
            >= record
                .history
                .iter()
                .find(|h| matches!(h.event, OrderEvent::Created { .. }))
                .unwrap()
                .at
    );
    assert_eq!(units(&w.walmart_order(&po).await, 1, "Acknowledged"), 2);

    // The dashboard reads it from DynamoDB's status index, by status and date.
    let open = dashboard::orders(
        w.world.channel.store.as_ref(),
        &w.world.channel.settings.id,
        OrderSummary::Open,
        DateRange {
            from: Some(record.order.order_date),
            to: Some(record.order.order_date),
        },
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(open.rows.len(), 1);
    assert_eq!(open.rows[0].order.id, po);
    let none_pending = dashboard::orders(
        w.world.channel.store.as_ref(),
        &w.world.channel.settings.id,
        OrderSummary::Pending,
        DateRange::default(),
        10,
        None,
    )
    .await
    .unwrap();
    assert!(
        none_pending.rows.is_empty(),
        "the index entry moved with the summary"
    );
    let until = dashboard::orders(
        w.world.channel.store.as_ref(),
        &w.world.channel.settings.id,
        OrderSummary::Open,
        DateRange {
            from: None,
            to: Some(record.order.order_date),
        },
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(until.rows.len(), 1, "an open start works on DynamoDB too");
    let counts = dashboard::order_counts(
        w.world.channel.store.as_ref(),
        &w.world.channel.settings.id,
        DateRange::default(),
    )
    .await
    .unwrap();
    assert_eq!(counts["open"], 1);

    // The next run sees it again in the overlap and changes nothing.
    let report = w.tick(Operation::OrderImport).await;
    assert_eq!(report["counts"]["orders_imported"].as_u64().unwrap_or(0), 0);
    assert_eq!(w.world.drain(Operation::OrderCreate).await, (0, 0));
    assert_eq!(w.commerce_orders(&po).await.len(), 1);
    w.shutdown().await;
}

fn batch_of(body: &str, n: usize) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = (0..n)
        .map(|i| {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m{i}"));
            m.body = Some(body.to_owned());
            m.attributes.insert("ApproximateReceiveCount".into(), "2".into());
            m
        })
        .collect();
    event
}

/// The failed message ids of a batch answer.
fn failures(answer: &serde_json::Value) -> usize {
    answer["batchItemFailures"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_concurrent_deliveries_after_a_crash_between_placing_and_linking_create_one_order() {
    let w = OrdersWorld::start().await;
    let a = w.skus[0].clone();
    let po = w.buyer_orders(&[(&a, 2, 1999)]).await;
    w.tick(Operation::OrderImport).await;
    let ch = w.world.channel.clone();

    // An invocation claimed the work, placed the Commerce order, and died before saving the link:
    // its claim (leased for its five minutes) is still in DynamoDB; the order is in Commerce.
    let now = ch.clock.now();
    let key = IdempotencyKey::new("order-create", &ch.settings.id, po.as_str());
    let claimed = ch
        .store
        .claim(
            &key,
            ClaimTerms {
                now,
                in_progress_until: now.plus(Duration::from_secs(300)),
                expires_at: now.plus(Duration::from_secs(86_400)),
            },
        )
        .await
        .unwrap();
    assert!(matches!(claimed, ports::Claim::Acquired(_)), "{claimed:?}");
    let record = w.record(&po).await;
    let placement = OrderPlacement::from_settings(&ch.settings.orders, &record.order.method_code);
    ch.commerce
        .create_order_for(&record.order_to_place(), &placement, &ports::Deadline::none())
        .await
        .unwrap();
    assert!(w.record(&po).await.commerce_link().is_none());

    // SQS delivers the message five times at once: nobody places a second order while the lease
    // runs; each delivery defers itself (a delayed copy) rather than failing...
    let body = serde_json::to_string(&CreateOrder::new(&ch, po.clone())).unwrap();
    let runtime = w.world.runtime(Operation::OrderCreate);
    let answer = dispatch(
        &runtime,
        LambdaEvent::new(Invocation::Queue(batch_of(&body, 5)), e2e::context()),
    )
    .await
    .unwrap();
    assert_eq!(failures(&answer), 0, "all defer, none fails: {answer}");
    assert_eq!(w.commerce_orders(&po).await.len(), 1);

    // ...and once it has run out, the order is found and linked, exactly once.
    w.clock.advance(Duration::from_secs(301));
    let answer = dispatch(
        &runtime,
        LambdaEvent::new(Invocation::Queue(batch_of(&body, 5)), e2e::context()),
    )
    .await
    .unwrap();
    assert!(failures(&answer) < 5, "{answer}");
    let answer = dispatch(
        &runtime,
        LambdaEvent::new(Invocation::Queue(batch_of(&body, 5)), e2e::context()),
    )
    .await
    .unwrap();
    assert_eq!(failures(&answer), 0, "{answer}");
    // The import's own message and the deferred copies that are due find it done too.
    let (handled, failed) = w.world.drain(Operation::OrderCreate).await;
    assert!(handled >= 1);
    assert_eq!(failed, 0);

    let orders = w.commerce_orders(&po).await;
    assert_eq!(orders.len(), 1, "exactly one Commerce order");
    let record = w.record(&po).await;
    assert_eq!(
        record.commerce_link().unwrap().order_id,
        CommerceOrderId(orders[0]["entity_id"].as_u64().unwrap())
    );
    assert!(record.acknowledged_at().is_some());
    assert_eq!(
        w.world
            .sandboxes
            .commerce_control()
            .salable(&a, 1)
            .await
            .unwrap()
            .1,
        8.0,
        "reserved once"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_holder_waking_after_its_lease_is_fenced_off_on_dynamodb() {
    let w = OrdersWorld::start().await;
    let a = w.skus[0].clone();
    let po = w.buyer_orders(&[(&a, 1, 1999)]).await;
    w.tick(Operation::OrderImport).await;
    let ch = w.world.channel.clone();

    // An invocation claimed the work (leased for 30 s) and stalled before placing.
    let now = ch.clock.now();
    let key = IdempotencyKey::new("order-create", &ch.settings.id, po.as_str());
    let terms = |now: domain::Timestamp| ClaimTerms {
        now,
        in_progress_until: now.plus(Duration::from_secs(30)),
        expires_at: now.plus(Duration::from_secs(86_400)),
    };
    let stale = match ch.store.claim(&key, terms(now)).await.unwrap() {
        ports::Claim::Acquired(token) => token,
        other => panic!("expected Acquired, got {other:?}"),
    };

    // Its lease passes; the queued message takes the expired claim and creates the order.
    w.clock.advance(Duration::from_secs(31));
    assert_eq!(w.world.drain(Operation::OrderCreate).await, (1, 0));
    assert_eq!(w.commerce_orders(&po).await.len(), 1);

    // The stale holder wakes: it can neither hold the claim to place (the step before placing),
    // nor complete or release the new holder's record.
    let lost = |r: Result<(), ports::StoreError>| matches!(r, Err(ports::StoreError::ClaimLost { .. }));
    let later = ch.clock.now().plus(Duration::from_secs(60));
    assert!(lost(ch.store.renew(&key, &stale, later).await));
    assert!(lost(
        ch.store
            .complete(&key, &stale, serde_json::json!({}), later)
            .await
    ));
    assert!(lost(ch.store.release(&key, &stale).await));
    assert!(matches!(
        ch.store.claim(&key, terms(ch.clock.now())).await.unwrap(),
        ports::Claim::Completed(_)
    ));
    assert_eq!(
        w.commerce_orders(&po).await.len(),
        1,
        "exactly one Commerce order"
    );
    w.shutdown().await;
}
