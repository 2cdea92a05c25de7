//! The overview's delays of shipments, cancellations (both ways), returns and refunds, measured
//! from the records the operations write as they work (`dashboard::delays`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::time::Duration;

use domain::Operation;
use operations::dashboard::delays::measure_latencies;
use operations::latency::Latency;
use operations::{cancellation_sync, returns_sync};
use orders_fixture::{Fixture, refund, shipped_order, walmart_return};
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec};

/// Waits `by`, then runs the operation's scheduled run.
async fn after(fx: &Fixture, by: Duration, operation: Operation) {
    fx.advance(by);
    let report = match operation {
        Operation::CancellationSync => cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline()).await,
        Operation::ReturnsSync => returns_sync::run_scheduled(&fx.ch, &Fixture::deadline()).await,
        other => panic!("not driven here: {other:?}"),
    };
    report.unwrap();
}

fn path<'a>(figures: &'a [Latency], starts: &str) -> &'a Latency {
    figures
        .iter()
        .find(|l| l.path.starts_with(starts))
        .unwrap_or_else(|| panic!("no path {starts:?} in {figures:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipments_cancellations_returns_and_refunds_are_timed_from_the_records() {
    let fx = Fixture::start().await;
    let since = fx.ch.clock.now();
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());

    // Shipped in Commerce, sent 10 s later (`shipped_order`); returned on Walmart, requested in
    // Commerce 40 s later; refunded in Commerce, reported to Walmart 50 s later.
    let (shipped, order_id) = shipped_order(&fx, &[(&a, 2, 1999)]).await;
    walmart_return(&fx, &shipped, &[(1, 1)]).await;
    after(&fx, Duration::from_secs(40), Operation::ReturnsSync).await;
    refund(&fx, order_id, &[(&a, 1.0)]).await;
    after(&fx, Duration::from_secs(50), Operation::ReturnsSync).await;

    // Cancelled in Commerce, sent to Walmart 20 s later.
    let cancelled_here = fx.buyer_orders(&[(&b, 1, 1999)]).await;
    fx.import_and_create().await;
    let commerce_id = fx.commerce_order_id(&fx.commerce_order(&cancelled_here).await);
    assert!(fx.sandboxes.commerce_control().cancel(commerce_id).await.unwrap());
    after(&fx, Duration::from_secs(20), Operation::CancellationSync).await;

    // Cancelled by the buyer on Walmart, reflected in Commerce by the run that sees it.
    let cancelled_there = fx.buyer_orders(&[(&b, 1, 1999)]).await;
    fx.import_and_create().await;
    fx.sandboxes
        .walmart_control()
        .cancel_as_buyer(
            cancelled_there.as_str(),
            &BuyerCancellation {
                lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
                reason: "CUSTOMER_CANCEL".into(),
            },
        )
        .await
        .unwrap();
    after(&fx, Duration::from_secs(30), Operation::CancellationSync).await;

    let figures = measure_latencies(&fx.ch, since).await.unwrap();
    let secs = |n| Some(Duration::from_secs(n));
    let shipment = path(&figures[&Operation::ShipmentSync], "shipped in Commerce");
    assert_eq!((shipment.samples, shipment.p50), (1, secs(10)), "{shipment:?}");
    assert!(shipment.documented && shipment.within_bound());
    let cancellations = &figures[&Operation::CancellationSync];
    let to_walmart = path(cancellations, "cancelled in Commerce");
    assert_eq!(
        (to_walmart.samples, to_walmart.p50),
        (1, secs(20)),
        "{to_walmart:?}"
    );
    let to_commerce = path(cancellations, "cancellation seen on Walmart");
    assert_eq!(
        (to_commerce.samples, to_commerce.p50),
        (1, secs(0)),
        "{to_commerce:?}"
    );
    let returns = &figures[&Operation::ReturnsSync];
    let requested = path(returns, "return opened on Walmart");
    assert_eq!((requested.samples, requested.p50), (1, secs(40)), "{requested:?}");
    let refunded = path(returns, "refunded in Commerce");
    assert_eq!((refunded.samples, refunded.p50), (1, secs(50)), "{refunded:?}");
    assert!(!refunded.documented, "Adobe documents no delay for returns");
    assert_eq!(refunded.bound, Duration::from_secs(15 * 60), "our own target");

    // Nothing of it happened in a window that starts later.
    let later = measure_latencies(&fx.ch, fx.ch.clock.now().plus(Duration::from_secs(1)))
        .await
        .unwrap();
    for operation in [
        Operation::ShipmentSync,
        Operation::CancellationSync,
        Operation::ReturnsSync,
    ] {
        assert!(
            later[&operation].iter().all(|l| l.samples == 0),
            "{:?}",
            later[&operation]
        );
    }
    fx.shutdown().await;
}
