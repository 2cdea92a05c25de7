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
    assert_eq!(report.count("commerce_orders_cancelled"), 1, "{report:?}");
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
