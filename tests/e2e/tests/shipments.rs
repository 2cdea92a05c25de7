//! End to end on moto and both sandboxes: shipment-sync on its schedule sends partial shipments with
//! tracking to Walmart once, and invoices what shipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_world;

use domain::{LineNumber, Operation, OrderSummary};
use orders_world::{OrdersWorld, units};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_shipments_reach_walmart_with_tracking_and_partial_quantities() {
    let w = OrdersWorld::start().await;
    let (a, b) = (w.skus[0].clone(), w.skus[1].clone());
    let po = w.buyer_orders(&[(&a, 3, 1999), (&b, 1, 1999)]).await;
    w.import_and_create().await;
    let order = w.commerce_order(&po).await;
    let order_id = order["entity_id"].as_u64().unwrap();
    let increment = order["increment_id"].as_str().unwrap().to_owned();

    w.ship_in_commerce(order_id, &[(&a, 2.0)], "fedex", "FX-100")
        .await;
    let report = w.tick(Operation::ShipmentSync).await;
    assert_eq!(report["counts"]["shipments_sent"], 1, "{report}");
    let on_walmart = w.walmart_order(&po).await;
    assert_eq!(units(&on_walmart, 1, "Shipped"), 2);
    assert_eq!(units(&on_walmart, 1, "Acknowledged"), 1);
    assert_eq!(units(&on_walmart, 2, "Acknowledged"), 1);
    let received = w.world.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.shipments.len(), 1);
    let sent = &received.shipments[0];
    assert_eq!((sent.line, sent.quantity), (1, 2));
    assert_eq!(sent.tracking_number, "FX-100");
    assert_eq!(sent.carrier.as_deref(), Some("FedEx"));
    assert_eq!(sent.seller_order_id, increment);
    let record = w.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::PartiallyShipped);
    assert_eq!(record.line(LineNumber(1)).unwrap().shipped, 2);

    w.ship_in_commerce(order_id, &[], "usps", "9400-1").await;
    let report = w.tick(Operation::ShipmentSync).await;
    assert_eq!(report["counts"]["shipments_sent"], 1, "{report}");
    let on_walmart = w.walmart_order(&po).await;
    assert_eq!(units(&on_walmart, 1, "Shipped"), 3);
    assert_eq!(units(&on_walmart, 2, "Shipped"), 1);
    assert_eq!(w.record(&po).await.summary(), OrderSummary::Shipped);
    let order = w.commerce_order(&po).await;
    let invoiced: f64 = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["qty_invoiced"].as_f64().unwrap())
        .sum();
    assert_eq!(invoiced, 4.0, "shipped units invoiced for later refunds");

    let report = w.tick(Operation::ShipmentSync).await;
    assert_eq!(
        report["counts"]["shipments_sent"].as_u64().unwrap_or(0),
        0,
        "{report}"
    );
    assert_eq!(
        w.world
            .sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .shipments
            .len(),
        3,
        "once per shipment"
    );
    w.shutdown().await;
}
