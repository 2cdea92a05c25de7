//! A holder whose claim ran out while it was paused (a slow call, a stalled instance) and whose
//! work another invocation took over must not act when it wakes: the one-time side effect happens
//! once. The pause is forced (a Walmart port that holds a read until the test lets it go). A
//! duplicate that slipped through anyway is cancelled and counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;
mod walmart_tap;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use domain::{OrderSummary, PurchaseOrderId};
use operations::{Channel, RunReport, cancellation_sync, order_create, shipment_sync};
use orders_fixture::Fixture;
use ports::commerce::OrderPlacement;
use walmart_tap::Tap;

/// The fixture's channel with its Walmart port behind a tap.
fn tapped(fx: &Fixture) -> (Arc<Channel>, Arc<walmart_tap::Hold>) {
    let tap = Tap::new(fx.ch.walmart.clone());
    tap.hold_order_read.used.store(false, Ordering::SeqCst);
    let hold = tap.hold_order_read.clone();
    let ch = Arc::new(Channel {
        settings: fx.ch.settings.clone(),
        store: fx.ch.store.clone(),
        queues: fx.ch.queues.clone(),
        walmart: Arc::new(tap),
        commerce: fx.ch.commerce.clone(),
        clock: fx.ch.clock.clone(),
    });
    (ch, hold)
}

async fn cancelled_in_commerce(fx: &Fixture) -> PurchaseOrderId {
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    assert!(fx.sandboxes.commerce_control().cancel(order_id).await.unwrap());
    po
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_holder_that_lost_its_claim_does_not_cancel_again() {
    let fx = Fixture::start().await;
    let po = cancelled_in_commerce(&fx).await;
    fx.advance(Duration::from_secs(30));
    // The first run claims the purchase order, reads Walmart's order (nothing cancelled yet) and
    // pauses.
    let (slow, hold) = tapped(&fx);
    let first =
        tokio::spawn(async move { cancellation_sync::run_scheduled(&slow, &Fixture::deadline()).await });
    hold.reached.notified().await;
    // Its lease (its deadline, 60 s) runs out; the next run takes the work and cancels.
    fx.advance(Duration::from_secs(120));
    let second = cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(
        second.count(operations::Counter::UnitsCancelledOnWalmart),
        2,
        "{second:?}"
    );
    // The first wakes up with what it read before: it must not send the cancellation again.
    hold.resume.notify_one();
    let first = first.await.unwrap().unwrap();
    assert_eq!(
        first.count(operations::Counter::UnitsCancelledOnWalmart),
        0,
        "{first:?}"
    );
    assert_eq!(first.count(operations::Counter::Busy), 1, "{first:?}");
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.cancellations.len(), 1, "{:?}", received.cancellations);
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Canceled);
    assert!(record.problems().is_empty(), "{:?}", record.problems());
    fx.shutdown().await;
}

/// Two placements of one purchase order landed (a holder that lost its claim while Commerce still
/// applied its placement): order-create keeps the oldest, cancels the other, and counts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_commerce_order_is_cancelled_and_counted() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import().await;
    let record = fx.record(&po).await;
    let placement = OrderPlacement::from_settings(&fx.ch.settings.orders, &record.order.method_code);
    for _ in 0..2 {
        fx.ch
            .commerce
            .create_order_for(&record.order_to_place(), &placement, &Fixture::deadline())
            .await
            .unwrap();
    }
    let mut report = RunReport::new(domain::Operation::OrderCreate);
    order_create::create_order_reporting(&fx.ch, &po, &Fixture::deadline(), &mut report)
        .await
        .unwrap();
    assert_eq!(
        report.count(operations::Counter::DuplicatesCancelled),
        1,
        "{report:?}"
    );
    assert_eq!(
        report.count(operations::Counter::DuplicatesLeftOpen),
        0,
        "{report:?}"
    );
    let states: Vec<String> = fx
        .commerce_orders(&po)
        .await
        .iter()
        .map(|o| o["state"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        states.iter().filter(|s| *s == "canceled").count(),
        1,
        "{states:?}"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_holder_that_lost_its_claim_does_not_ship_again() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    orders_fixture::ship_in_commerce(&fx, order_id).await;
    // A first attempt records the shipment, but Walmart answers its shipment with a 503 (nothing
    // shipped): the shipment waits for the next run.
    fx.sandboxes
        .walmart_control()
        .set_faults(&walmart_sandbox::FaultPlan {
            burst_5xx: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    fx.advance(Duration::from_secs(30));
    let failed = shipment_sync::run_scheduled(&fx.ch, &Fixture::deadline()).await;
    assert!(
        failed
            .as_ref()
            .is_ok_and(|r| r.count(operations::Counter::ShipmentsSent) == 0),
        "{failed:?}"
    );
    // The next run claims it, reads Walmart's order (not shipped) and pauses.
    fx.advance(Duration::from_secs(30));
    let (slow, hold) = tapped(&fx);
    let first = tokio::spawn(async move { shipment_sync::run_scheduled(&slow, &Fixture::deadline()).await });
    hold.reached.notified().await;
    // Its lease runs out; another run takes the shipment and sends it.
    fx.advance(Duration::from_secs(120));
    let second = shipment_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(second.count(operations::Counter::ShipmentsSent), 1, "{second:?}");
    // The first wakes up with what it read before: it must not ship again.
    hold.resume.notify_one();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.count(operations::Counter::ShipmentsSent), 0, "{first:?}");
    assert_eq!(first.count(operations::Counter::ShipmentsRefused), 0, "{first:?}");
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.shipments.len(), 1, "{:?}", received.shipments);
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Shipped);
    assert!(record.problems().is_empty(), "{:?}", record.problems());
    fx.shutdown().await;
}
