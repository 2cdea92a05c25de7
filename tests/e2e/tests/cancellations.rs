//! End to end on moto and both sandboxes: cancellation-sync on its schedule, both directions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_world;

use domain::{LineNumber, Operation, OrderSummary};
use orders_world::{OrdersWorld, units};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellations_flow_from_commerce_to_walmart_and_from_walmart_to_commerce() {
    let w = OrdersWorld::start().await;
    let (a, b) = (w.skus[0].clone(), w.skus[1].clone());
    let commerce = w.world.sandboxes.commerce_control();
    let walmart = w.world.sandboxes.walmart_control();

    // Commerce → Walmart: the merchant cancels the Commerce order.
    let by_merchant = w.buyer_orders(&[(&a, 1, 1999), (&b, 2, 1999)]).await;
    // Walmart → Commerce: the buyer cancels everything of another order.
    let by_buyer = w.buyer_orders(&[(&a, 2, 1999)]).await;
    w.import_and_create().await;
    assert_eq!(commerce.salable(&a, 1).await.unwrap().1, 7.0);
    let merchant_order = w.commerce_order(&by_merchant).await["entity_id"]
        .as_u64()
        .unwrap();
    assert!(commerce.cancel(merchant_order).await.unwrap());
    walmart
        .cancel_as_buyer(
            by_buyer.as_str(),
            &serde_json::from_value(json!({"lines": [{"line": 1, "quantity": 2}]})).unwrap(),
        )
        .await
        .unwrap();

    let report = w.tick(Operation::CancellationSync).await;
    assert_eq!(report["counts"]["units_cancelled_on_walmart"], 3, "{report}");
    assert_eq!(report["counts"]["commerce_orders_cancelled"], 1, "{report}");

    let on_walmart = w.walmart_order(&by_merchant).await;
    assert_eq!(units(&on_walmart, 1, "Cancelled"), 1);
    assert_eq!(units(&on_walmart, 2, "Cancelled"), 2);
    let received = walmart.received().await.unwrap();
    let seller: Vec<_> = received
        .cancellations
        .iter()
        .filter(|c| c.purchase_order_id == by_merchant.as_str())
        .map(|c| c.reason.clone())
        .collect();
    assert_eq!(seller, vec!["SELLER_CANCEL_OUT_OF_STOCK"; 2]);
    assert_eq!(w.record(&by_merchant).await.summary(), OrderSummary::Canceled);

    assert_eq!(w.commerce_order(&by_buyer).await["state"], "canceled");
    let record = w.record(&by_buyer).await;
    assert_eq!(record.summary(), OrderSummary::Canceled);
    assert_eq!(record.line(LineNumber(1)).unwrap().cancelled, 2);
    assert!(
        received
            .cancellations
            .iter()
            .filter(|c| c.purchase_order_id == by_buyer.as_str())
            .all(|c| serde_json::to_value(c.by).unwrap() == "buyer"),
        "nothing echoed back to Walmart"
    );
    assert_eq!(
        commerce.salable(&a, 1).await.unwrap().1,
        10.0,
        "all reservations released"
    );
    assert_eq!(commerce.salable(&b, 1).await.unwrap().1, 10.0);

    let again = w.tick(Operation::CancellationSync).await;
    assert_eq!(
        again["counts"]["units_cancelled_on_walmart"]
            .as_u64()
            .unwrap_or(0),
        0,
        "{again}"
    );
    assert_eq!(
        again["counts"]["commerce_orders_cancelled"].as_u64().unwrap_or(0),
        0
    );
    w.shutdown().await;
}
