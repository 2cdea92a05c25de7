//! Events that reach the channel in an order other than the one they happened in, as a cut
//! invocation or a slow run makes them: a buyer's return before shipment-sync recorded the shipment
//! Walmart already shows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;
mod walmart_tap;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use commerce_sandbox::{RefundRequest, ShipLine as CommerceShipLine, TrackInput};
use domain::{Carrier, LineNumber, OrderSummary, ReturnOrderId, ReturnRecord, ReturnStatus, Tracking};
use operations::dashboard::return_key;
use operations::{Channel, RunReport, returns_sync, shipment_sync};
use orders_fixture::Fixture;
use ports::walmart::ShipLine;
use ports::{Clock as _, Records};
use walmart_sandbox::{LineQuantitySpec, NewReturn};
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
    let tracking_number = format!("1Z{order_id}");
    fx.sandboxes
        .commerce_control()
        .ship(
            order_id,
            vec![],
            TrackInput {
                carrier_code: "ups".into(),
                title: "UPS".into(),
                number: tracking_number.clone(),
            },
            false,
        )
        .await
        .unwrap();
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
    assert_eq!(early.count("returns_waiting_for_shipment"), 1, "{early:?}");
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
    assert_eq!(report.count("returns_requested"), 1, "{report:?}");
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
    assert_eq!(report.count("returns_refunded"), 1, "{report:?}");
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
    assert_eq!(returns(&fx).await.count("returns_waiting_for_shipment"), 1);
    fx.advance(returns_sync::SHIPMENT_WAIT);
    let late = returns(&fx).await;
    assert_eq!(late.count("returns_failed"), 1, "{late:?}");
    match return_status(&fx, &id).await {
        ReturnStatus::Error { reason } => assert!(reason.contains("shipped units"), "{reason}"),
        other => panic!("the return shows Error, not {other:?}"),
    }
    fx.shutdown().await;
}
