//! Events that reach the channel in an order other than the one they happened in, as a cut
//! invocation or a slow run makes them: a buyer's return before shipment-sync recorded the shipment
//! Walmart already shows; a buyer's cancellation before the Commerce order exists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;
mod walmart_tap;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use commerce_sandbox::{RefundRequest, ShipLine as CommerceShipLine};
use domain::{Carrier, LineNumber, OrderSummary, ReturnOrderId, ReturnRecord, ReturnStatus, Tracking};
use operations::dashboard::return_key;
use operations::{Channel, RunReport, cancellation_sync, returns_sync, shipment_sync};
use orders_fixture::Fixture;
use ports::Records;
use ports::commerce::OrderPlacement;
use ports::walmart::ShipLine;
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec, NewReturn};
use walmart_tap::Tap;

async fn returns(fx: &Fixture) -> RunReport {
    fx.advance(Duration::from_secs(60));
    returns_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap()
}

async fn return_status(fx: &Fixture, id: &ReturnOrderId) -> ReturnStatus {
    fx.ch
        .store
        .load::<ReturnRecord>(&return_key(&fx.ch.settings.id, id))
        .await
        .unwrap()
        .expect("return recorded")
        .record
        .status()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_that_arrives_before_its_shipment_is_recorded_waits_and_is_refunded() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import_and_create().await;
    let commerce_order = fx.commerce_order(&po).await;
    let order_id = fx.commerce_order_id(&commerce_order);
    orders_fixture::ship_in_commerce(&fx, order_id).await;
    // shipment-sync tells Walmart, then its invocation dies before it records the shipment.
    let tap = Tap::new(fx.ch.walmart.clone());
    tap.crash_after_ship.store(true, Ordering::SeqCst);
    let crashing = Arc::new(Channel {
        settings: fx.ch.settings.clone(),
        store: fx.ch.store.clone(),
        queues: fx.ch.queues.clone(),
        walmart: Arc::new(tap),
        commerce: fx.ch.commerce.clone(),
        clock: fx.ch.clock.clone(),
    });
    fx.advance(Duration::from_secs(10));
    let cut =
        tokio::spawn(async move { shipment_sync::run_scheduled(&crashing, &Fixture::deadline()).await })
            .await;
    assert!(cut.is_err(), "the invocation died: {cut:?}");
    let on_walmart = fx.ch.walmart.get_order(&po, &Fixture::deadline()).await.unwrap();
    assert!(format!("{on_walmart:?}").contains("Shipped"), "{on_walmart:?}");
    assert_eq!(fx.record(&po).await.line(LineNumber(1)).unwrap().shipped, 0);
    // The buyer returns the unit at once.
    let created = fx
        .sandboxes
        .walmart_control()
        .create_return(&NewReturn {
            purchase_order_id: po.to_string(),
            lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
            reason: "CUSTOMER_CHANGED_MIND".into(),
        })
        .await
        .unwrap();
    let id = ReturnOrderId::new(created.return_order_id).unwrap();

    // returns-sync sees the return first: it waits for the shipment, asks nothing of Commerce.
    let early = returns(&fx).await;
    assert_eq!(
        early.count(operations::Counter::ReturnsWaitingForShipment),
        1,
        "{early:?}"
    );
    assert_eq!(return_status(&fx, &id).await, ReturnStatus::Received);
    assert!(
        fx.sandboxes
            .commerce_control()
            .returns()
            .await
            .unwrap()
            .is_empty()
    );

    // shipment-sync's next run (once the dead holder's claim ran out) records the shipment; the
    // return goes through.
    fx.advance(Duration::from_secs(16 * 60));
    let shipped = shipment_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(
        fx.record(&po).await.line(LineNumber(1)).unwrap().shipped,
        1,
        "{shipped:?}"
    );
    let report = returns(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRequested),
        1,
        "{report:?}"
    );
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::ReturnRequested);

    // The merchant's refund reaches Walmart.
    fx.sandboxes
        .commerce_control()
        .refund(
            order_id,
            &RefundRequest {
                items: vec![CommerceShipLine {
                    sku: Some(sku.clone()),
                    order_item_id: None,
                    qty: 1.0,
                }],
                shipping_amount: Some(0.0),
                adjustment_positive: 0.0,
                adjustment_negative: 0.0,
                return_to_stock: true,
                comment: Some("Walmart return".into()),
            },
        )
        .await
        .unwrap();
    let report = returns(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRefunded),
        1,
        "{report:?}"
    );
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.return_refunds.len(), 1);
    assert!(matches!(
        return_status(&fx, &id).await,
        ReturnStatus::Refunded { .. }
    ));
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_whose_shipment_never_comes_shows_error_after_the_wait() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import_and_create().await;
    let commerce_order = fx.commerce_order(&po).await;
    let increment_id = commerce_order["increment_id"].as_str().unwrap().to_owned();
    // Shipped on Walmart only (by hand in Seller Center): the channel never records it.
    fx.ch
        .walmart
        .ship(
            &po,
            &[ShipLine {
                line: LineNumber(1),
                quantity: 1,
                seller_order_id: increment_id,
                tracking: Tracking {
                    number: "1ZHAND".into(),
                    carrier: Carrier::Known { name: "UPS".into() },
                    method: fx.record(&po).await.order.method_code.clone(),
                    shipped_at: fx.ch.clock.now(),
                },
                intent_to_cancel_override: false,
            }],
            &Fixture::deadline(),
        )
        .await
        .unwrap();
    let created = fx
        .sandboxes
        .walmart_control()
        .create_return(&NewReturn {
            purchase_order_id: po.to_string(),
            lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
            reason: "CUSTOMER_CHANGED_MIND".into(),
        })
        .await
        .unwrap();
    let id = ReturnOrderId::new(created.return_order_id).unwrap();
    assert_eq!(
        returns(&fx)
            .await
            .count(operations::Counter::ReturnsWaitingForShipment),
        1
    );
    fx.advance(returns_sync::SHIPMENT_WAIT);
    let late = returns(&fx).await;
    assert_eq!(late.count(operations::Counter::ReturnsFailed), 1, "{late:?}");
    match return_status(&fx, &id).await {
        ReturnStatus::Error { reason } => assert!(reason.contains("shipped units"), "{reason}"),
        other => panic!("the return shows Error, not {other:?}"),
    }
    fx.shutdown().await;
}

/// An order-create invocation places the Commerce order and dies before linking it (the Walmart
/// order is acknowledged already, so nothing later shows it changed on Walmart); the buyer
/// cancels part of the order meanwhile, and cancellation-sync records it (no Commerce order to
/// reflect it in yet) and its cursor moves on. The next order-create finds and links the order, but
/// cannot reflect the cancellation at once (another invocation holds that work, then dies): the
/// cancellation still reaches Commerce, by order-create coming back to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_cancellation_before_the_commerce_order_exists_reaches_commerce() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 1, 1999), (&b, 1, 1999)]).await;
    fx.import().await;
    let record = fx.record(&po).await;
    let placement = OrderPlacement::from_settings(&fx.ch.settings.orders, &record.order.method_code);
    fx.ch
        .commerce
        .create_order_for(&record.order_to_place(), &placement, &Fixture::deadline())
        .await
        .unwrap();
    fx.ch
        .walmart
        .acknowledge(&po, &Fixture::deadline())
        .await
        .unwrap();
    fx.sandboxes
        .walmart_control()
        .cancel_as_buyer(
            po.as_str(),
            &BuyerCancellation {
                lines: vec![LineQuantitySpec { line: 2, quantity: 1 }],
                reason: "CUSTOMER_CANCEL".into(),
            },
        )
        .await
        .unwrap();
    fx.advance(Duration::from_secs(30));
    let report = cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmartSide),
        1,
        "{report:?}"
    );
    // order-create is held up (a claim of a killed holder, deferrals) until cancellation-sync's
    // window has long passed the change.
    for _ in 0..8 {
        fx.advance(Duration::from_secs(300));
        cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
            .await
            .unwrap();
    }
    // Another invocation holds the reflection in Commerce (and will die with it).
    orders_fixture::hold_claim(&fx, "cancel-in-commerce", po.as_str()).await;
    assert_eq!(fx.drain_creations().await, (1, 0));
    assert!(fx.record(&po).await.commerce_link().is_some());
    assert!(
        !fx.record(&po)
            .await
            .cancellations_pending_in_commerce()
            .is_empty()
    );

    // The holder's claim runs out; cancellation-sync no longer looks at this order.
    for _ in 0..4 {
        fx.advance(Duration::from_secs(300));
        cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
            .await
            .unwrap();
        fx.drain_creations().await;
    }
    assert!(
        fx.record(&po)
            .await
            .cancellations_pending_in_commerce()
            .is_empty()
    );
    let order = fx.commerce_order(&po).await;
    let comments: Vec<String> = order["status_histories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["comment"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        comments.iter().any(|c| c.contains("cancelled on Walmart")),
        "{comments:?}"
    );
    fx.shutdown().await;
}

/// An order-create invocation places the Commerce order and dies before linking it; the merchant
/// ships it in Commerce at once, and shipment-sync, finding no channel order for that shipment,
/// moves on. When the next order-create links the order (long after), the shipment still reaches
/// Walmart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_made_before_its_order_is_linked_reaches_walmart() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import().await;
    let record = fx.record(&po).await;
    let placement = OrderPlacement::from_settings(&fx.ch.settings.orders, &record.order.method_code);
    fx.ch
        .commerce
        .create_order_for(&record.order_to_place(), &placement, &Fixture::deadline())
        .await
        .unwrap();
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    orders_fixture::ship_in_commerce(&fx, order_id).await;
    for _ in 0..2 {
        fx.advance(Duration::from_secs(3600));
        let report = shipment_sync::run_scheduled(&fx.ch, &Fixture::deadline())
            .await
            .unwrap();
        assert_eq!(report.count(operations::Counter::ShipmentsSent), 0, "{report:?}");
    }
    assert_eq!(fx.drain_creations().await, (1, 0));
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.shipments.len(), 1, "{:?}", received.shipments);
    assert_eq!(fx.record(&po).await.line(LineNumber(1)).unwrap().shipped, 1);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_while_its_return_is_still_on_its_way_waits_for_it_and_reaches_walmart() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let (po, order_id) = orders_fixture::shipped_order(&fx, &[(&sku, 1, 1999)]).await;
    let id = orders_fixture::walmart_return(&fx, &po, &[(1, 1)]).await;
    // An invocation recorded the return, took its claim and died before asking Commerce.
    orders_fixture::hold_claim(&fx, "return-request", id.as_str()).await;
    let blocked = returns(&fx).await;
    assert_eq!(
        return_status(&fx, &id).await,
        ReturnStatus::Received,
        "{blocked:?}"
    );

    // The merchant refunds at once (the buyer's parcel arrived), before the return is requested.
    orders_fixture::refund(&fx, order_id, &[(&sku, 1.0)]).await;
    let early = returns(&fx).await;
    assert_eq!(
        early.count(operations::Counter::CreditMemosWaitingForReturn),
        1,
        "{early:?}"
    );
    assert_eq!(
        early.count(operations::Counter::CreditMemosWithoutReturn),
        0,
        "{early:?}"
    );
    assert!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .return_refunds
            .is_empty()
    );

    // Once the dead holder's claim ran out, the return is requested and the waiting memo refunds it.
    fx.advance(Duration::from_secs(11 * 60));
    let late = returns(&fx).await;
    assert_eq!(late.count(operations::Counter::ReturnsRequested), 1, "{late:?}");
    assert_eq!(late.count(operations::Counter::ReturnsRefunded), 1, "{late:?}");
    let again = returns(&fx).await;
    assert_eq!(again.count(operations::Counter::ReturnsRefunded), 0, "{again:?}");
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.return_refunds.len(), 1);
    assert!(matches!(
        return_status(&fx, &id).await,
        ReturnStatus::Refunded { .. }
    ));
    fx.shutdown().await;
}
