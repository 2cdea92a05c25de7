//! End to end on moto and both sandboxes: a Walmart return becomes an RMA, the merchant's credit
//! memo becomes a Walmart refund, once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_world;

use domain::{
    CreditMemoId, LineNumber, Money, Operation, OrderSummary, ReturnOrderId, ReturnRecord, ReturnStatus,
};
use operations::dashboard::return_key;
use orders_world::OrdersWorld;
use ports::Records;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_rma_to_credit_memo_to_walmart_refund() {
    let w = OrdersWorld::start().await;
    let (a, b) = (w.skus[0].clone(), w.skus[1].clone());
    let po = w.buyer_orders(&[(&a, 2, 1999), (&b, 1, 1999)]).await;
    w.import_and_create().await;
    let order_id = w.commerce_order(&po).await["entity_id"].as_u64().unwrap();
    w.ship_in_commerce(order_id, &[], "ups", "1Z-RET").await;
    w.tick(Operation::ShipmentSync).await;
    assert_eq!(w.record(&po).await.summary(), OrderSummary::Shipped);

    let walmart = w.world.sandboxes.walmart_control();
    let created = walmart
        .create_return(
            &serde_json::from_value(json!({
                "purchase_order_id": po.as_str(),
                "lines": [{"line": 1, "quantity": 2}, {"line": 2, "quantity": 1}],
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let id = ReturnOrderId::new(created.return_order_id).unwrap();

    let report = w.tick(Operation::ReturnsSync).await;
    assert_eq!(report["counts"]["returns_requested"], 1, "{report}");
    let commerce = w.world.sandboxes.commerce_control();
    let rmas = commerce.returns().await.unwrap();
    assert_eq!(rmas.len(), 1);
    assert_eq!(rmas[0]["order_id"].as_u64(), Some(order_id));
    let requested: u64 = rmas[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["qty_requested"].as_u64().unwrap())
        .sum();
    assert_eq!(requested, 3);
    let load_return = || async {
        w.world
            .channel
            .store
            .load::<ReturnRecord>(&return_key(&w.world.channel.settings.id, &id))
            .await
            .unwrap()
            .unwrap()
            .record
    };
    assert!(matches!(
        load_return().await.status(),
        ReturnStatus::RequestedInCommerce { rma: Some(_) }
    ));
    assert_eq!(w.record(&po).await.summary(), OrderSummary::ReturnRequested);

    // The merchant refunds everything returned, offline, with a credit memo.
    let memo = commerce
        .refund(
            order_id,
            &serde_json::from_value(json!({
                "items": [{"sku": a, "qty": 2.0}, {"sku": b, "qty": 1.0}],
                "shipping_amount": 0.0, "adjustment_positive": 0.0, "adjustment_negative": 0.0,
                "return_to_stock": true, "comment": null,
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let memo_id = memo["entity_id"].as_u64().unwrap();
    let report = w.tick(Operation::ReturnsSync).await;
    assert_eq!(report["counts"]["returns_refunded"], 1, "{report}");
    let received = walmart.received().await.unwrap();
    assert_eq!(received.return_refunds.len(), 1);
    assert_eq!(received.return_refunds[0].return_order_id, id.as_str());
    let mut lines = received.return_refunds[0].lines.clone();
    lines.sort_unstable();
    assert_eq!(lines, vec![1, 2]);
    assert_eq!(
        load_return().await.status(),
        &ReturnStatus::Refunded {
            credit_memo: CreditMemoId(memo_id),
            amount: Money::from_cents(3 * 1999)
        }
    );
    let record = w.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Refunded);
    assert_eq!(record.line(LineNumber(1)).unwrap().refunded, 2);

    let again = w.tick(Operation::ReturnsSync).await;
    assert_eq!(
        again["counts"]["returns_refunded"].as_u64().unwrap_or(0),
        0,
        "{again}"
    );
    assert_eq!(
        walmart.received().await.unwrap().return_refunds.len(),
        1,
        "once per credit memo"
    );
    w.shutdown().await;
}
