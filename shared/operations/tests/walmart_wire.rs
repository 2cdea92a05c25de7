//! Walmart's wire format as production has it, seen through the operations (issue 11).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::time::Duration;

use domain::OrderSummary;
use operations::cancellation_sync;
use orders_fixture::Fixture;
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec};

/// Fact 8: `GET /v3/orders` without `createdStartDate` lists only orders created in the last 7
/// days; a buyer cancelling a 10-day-old order must still reach Commerce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_cancellation_of_an_order_older_than_seven_days_reaches_commerce() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import_and_create().await;
    fx.advance(Duration::from_secs(10 * 24 * 3600));
    fx.sandboxes
        .walmart_control()
        .cancel_as_buyer(
            po.as_str(),
            &BuyerCancellation {
                lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
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
        report.count(operations::Counter::CommerceOrdersCancelled),
        1,
        "{report:?}"
    );
    assert_eq!(fx.commerce_order(&po).await["state"], "canceled");
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::Canceled);
    let listed: Vec<_> = fx
        .sandboxes
        .walmart
        .recorder()
        .snapshot()
        .into_iter()
        .filter(|e| e.method == "GET" && e.path == "/v3/orders")
        .collect();
    assert!(!listed.is_empty());
    assert!(
        listed.iter().all(|e| e.query_value("createdStartDate").is_some()),
        "every order list names its creation window"
    );
    fx.shutdown().await;
}

/// Fact 2: in one page of released orders, an order with a line status Walmart added since and an
/// order whose shipped line names a carrier Walmart added since are imported, and their records
/// show Error saying what Walmart sent; an order Walmart sent badly is skipped and reported with
/// its place and purchase order id; the other orders of the page are imported as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_line_status_carrier_or_a_bad_order_concerns_only_its_own_order() {
    use walmart_sandbox::OverriddenRecord;

    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let mut pos = Vec::new();
    for _ in 0..4 {
        pos.push(fx.buyer_orders(&[(&sku, 1, 1999)]).await);
        fx.advance(Duration::from_secs(1));
    }
    let control = fx.sandboxes.walmart_control();
    let order = |i: usize| OverriddenRecord::Order {
        purchase_order_id: pos[i].as_str().to_owned(),
    };
    let status = "/orderLines/orderLine/0/orderLineStatuses/orderLineStatus/0";
    control
        .override_record(
            order(0),
            &format!("{status}/status"),
            serde_json::json!("Backordered"),
        )
        .await
        .unwrap();
    control
        .override_record(
            order(1),
            &format!("{status}/trackingInfo"),
            serde_json::json!({
                "shipDateTime": orders_fixture::START,
                "carrierName": { "carrier": "Zoom Couriers" },
                "methodCode": "Standard",
                "trackingNumber": "Z1",
            }),
        )
        .await
        .unwrap();
    control
        .override_record(order(2), "/shippingInfo", serde_json::json!("not an object"))
        .await
        .unwrap();

    let report = fx.import().await;
    assert_eq!(report.count(operations::Counter::OrdersImported), 3, "{report:?}");
    assert_eq!(report.count(operations::SKIPPED_WALMART_RECORDS), 1, "{report:?}");
    assert_eq!(report.count(operations::UNKNOWN_WALMART_VALUES), 2, "{report:?}");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("record 2 of the page") && p.contains(pos[2].as_str())),
        "{:?}",
        report.problems
    );
    let backordered = fx.record(&pos[0]).await;
    assert_eq!(backordered.summary(), OrderSummary::Error);
    let detail = backordered.status_detail().unwrap();
    assert!(
        detail.contains("line 1") && detail.contains("Backordered"),
        "{detail}"
    );
    let zoom = fx.record(&pos[1]).await;
    assert_eq!(zoom.summary(), OrderSummary::Error);
    assert!(zoom.status_detail().unwrap().contains("Zoom Couriers"));
    let plain = fx.record(&pos[3]).await;
    assert_eq!(plain.summary(), OrderSummary::Pending);
    assert!(plain.status_detail().is_none());
    let skipped = operations::dashboard::load_order(fx.ch.store.as_ref(), &fx.ch.settings.id, &pos[2])
        .await
        .unwrap();
    assert!(skipped.is_none(), "the bad order is not recorded");
    fx.shutdown().await;
}
