//! cancellation-sync over both sandboxes, both directions: Commerce cancellations reach Walmart
//! with a mapped reason; Walmart cancellations cancel or annotate the Commerce order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::time::Duration;

use commerce_sandbox::{ShipLine, TrackInput};
use domain::{LineNumber, OrderEvent, OrderSummary, PurchaseOrderId, SyncTask};
use operations::{RunReport, cancellation_sync, shipment_sync};
use orders_fixture::Fixture;
use ports::QueueName;
use walmart_sandbox::{BuyerCancellation, CancelledBy, LineQuantitySpec};

async fn sync(fx: &Fixture) -> RunReport {
    fx.advance(Duration::from_secs(30));
    cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap()
}

async fn buyer_cancels(fx: &Fixture, po: &PurchaseOrderId, lines: &[(u32, u32)]) {
    fx.sandboxes
        .walmart_control()
        .cancel_as_buyer(
            po.as_str(),
            &BuyerCancellation {
                lines: lines
                    .iter()
                    .map(|(line, quantity)| LineQuantitySpec {
                        line: *line,
                        quantity: *quantity,
                    })
                    .collect(),
                reason: "CUSTOMER_CANCEL".into(),
            },
        )
        .await
        .unwrap();
}

fn comments(order: &serde_json::Value) -> Vec<String> {
    order["status_histories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["comment"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_cancelled_in_commerce_is_cancelled_on_walmart_once_never_as_customer_requested_from_a_comment()
 {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 2, 1999), (&b, 1, 1999)]).await;
    fx.import_and_create().await;
    let _ = fx.peek(QueueName::InventorySync).await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    fx.ch
        .commerce
        .add_order_comment(
            domain::CommerceOrderId(order_id),
            "Customer phoned to cancel",
            &Fixture::deadline(),
        )
        .await
        .unwrap();
    assert!(fx.sandboxes.commerce_control().cancel(order_id).await.unwrap());

    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmart),
        3,
        "{report:?}"
    );
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    let mut sent: Vec<_> = received
        .cancellations
        .iter()
        .map(|c| (c.line, c.quantity, c.reason.as_str(), c.by))
        .collect();
    sent.sort_by_key(|c| c.0);
    assert_eq!(
        sent,
        vec![
            // The customer never asked Walmart: a comment does not make it customer-requested.
            (1, 2, "SELLER_CANCEL_OUT_OF_STOCK", CancelledBy::Seller),
            (2, 1, "SELLER_CANCEL_OUT_OF_STOCK", CancelledBy::Seller),
        ]
    );
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Canceled);
    // The freed stock reaches Walmart through inventory-sync.
    let urgent = fx.peek(QueueName::InventorySync).await;
    assert_eq!(urgent.len(), 1);
    assert!(urgent[0].contains(&a) && urgent[0].contains(&b));

    let again = sync(&fx).await;
    assert_eq!(again.count(operations::Counter::UnitsCancelledOnWalmart), 0);
    assert_eq!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .cancellations
            .len(),
        2,
        "sent once"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_partial_shipment_only_the_unshipped_units_are_cancelled() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    let commerce = fx.sandboxes.commerce_control();
    commerce
        .ship(
            order_id,
            vec![ShipLine {
                sku: Some(a.clone()),
                order_item_id: None,
                qty: 1.0,
            }],
            TrackInput {
                carrier_code: "ups".into(),
                title: "UPS".into(),
                number: "1Z9".into(),
            },
            false,
        )
        .await
        .unwrap();
    shipment_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert!(
        commerce.cancel(order_id).await.unwrap(),
        "the unshipped unit is cancellable"
    );
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmart),
        1,
        "{report:?}"
    );
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.cancellations.len(), 1);
    assert_eq!(received.cancellations[0].quantity, 1);
    assert_eq!(received.cancellations[0].reason, "SELLER_CANCEL_OUT_OF_STOCK");
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Shipped);
    let line = record.line(LineNumber(1)).unwrap();
    assert_eq!((line.shipped, line.cancelled), (1, 1));
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walmart_cancellation_of_everything_cancels_the_commerce_order() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 2, 1999), (&b, 1, 1999)]).await;
    fx.import_and_create().await;
    let _ = fx.peek(QueueName::InventorySync).await;
    assert_eq!(fx.salable(&a).await, 8.0);
    buyer_cancels(&fx, &po, &[(1, 2), (2, 1)]).await;

    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmartSide),
        3,
        "{report:?}"
    );
    assert_eq!(report.count(operations::Counter::CommerceOrdersCancelled), 1);
    let order = fx.commerce_order(&po).await;
    assert_eq!(order["state"], "canceled");
    assert!(
        comments(&order)
            .iter()
            .any(|c| c.contains("cancelled on Walmart"))
    );
    assert_eq!(fx.salable(&a).await, 10.0, "reservation released");
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Canceled);
    assert!(
        record
            .history
            .iter()
            .any(|h| h.event == OrderEvent::CommerceOrderCancelled)
    );
    assert!(record.cancellations_pending_in_commerce().is_empty());
    assert_eq!(fx.peek(QueueName::InventorySync).await.len(), 1);
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert!(
        received.cancellations.iter().all(|c| c.by == CancelledBy::Buyer),
        "nothing sent back to Walmart"
    );

    let again = sync(&fx).await;
    assert_eq!(
        again.count(operations::Counter::UnitsCancelledOnWalmart),
        0,
        "{again:?}"
    );
    assert_eq!(again.count(operations::Counter::CommerceOrdersCancelled), 0);
    assert_eq!(
        comments(&fx.commerce_order(&po).await)
            .iter()
            .filter(|c| c.contains("cancelled on Walmart"))
            .count(),
        1
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walmart_cancellation_of_one_line_is_noted_in_commerce_and_the_rest_cancels_later() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 2, 1999), (&b, 1, 1999)]).await;
    fx.import_and_create().await;
    buyer_cancels(&fx, &po, &[(2, 1)]).await;

    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::PartialCancellationsCommented),
        1,
        "{report:?}"
    );
    let order = fx.commerce_order(&po).await;
    assert_ne!(order["state"], "canceled", "Commerce cancels whole orders only");
    assert!(comments(&order).iter().any(|c| c.contains("do not ship")));
    let record = fx.record(&po).await;
    assert_eq!(record.line(LineNumber(2)).unwrap().cancelled, 1);
    assert_eq!(record.summary(), OrderSummary::Open);
    assert!(
        record
            .history
            .iter()
            .any(|h| matches!(h.event, OrderEvent::CancellationNoted { .. }))
    );

    // Later the merchant cancels the Commerce order: only line 1 goes to Walmart.
    let order_id = fx.commerce_order_id(&order);
    assert!(fx.sandboxes.commerce_control().cancel(order_id).await.unwrap());
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmart),
        2,
        "{report:?}"
    );
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    let by_seller: Vec<_> = received
        .cancellations
        .iter()
        .filter(|c| c.by == CancelledBy::Seller)
        .map(|c| (c.line, c.quantity))
        .collect();
    assert_eq!(by_seller, vec![(1, 2)]);
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::Canceled);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_commerce_cannot_cancel_shows_an_error_and_a_comment() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    fx.sandboxes.commerce_control().invoice(order_id).await.unwrap();
    buyer_cancels(&fx, &po, &[(1, 1)]).await;

    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::CommerceCancellationsRefused),
        1,
        "{report:?}"
    );
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Error);
    assert!(matches!(record.problems()[0].task, SyncTask::CancelInCommerce));
    assert!(record.status_detail().unwrap().contains("could not cancel"));
    let order = fx.commerce_order(&po).await;
    assert!(comments(&order).iter().any(|c| c.contains("could not cancel")));
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walmart_cancellation_before_creation_leaves_the_units_out() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 1, 1999), (&b, 1, 1999)]).await;
    fx.import().await;
    buyer_cancels(&fx, &po, &[(2, 1)]).await;
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmartSide),
        1,
        "{report:?}"
    );
    fx.drain_creations().await;
    let order = fx.commerce_order(&po).await;
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sku"], a.as_str());
    assert_eq!(fx.salable(&b).await, 10.0, "never reserved");
    assert!(
        fx.record(&po)
            .await
            .cancellations_pending_in_commerce()
            .is_empty()
    );
    fx.shutdown().await;
}

/// Walmart applies the cancellation but its answer is lost (a 504): cancellation-sync reads the
/// order, records what Walmart shows cancelled, and never cancels twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_whose_answer_is_lost_is_sent_once() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    assert!(fx.sandboxes.commerce_control().cancel(order_id).await.unwrap());
    let walmart = fx.sandboxes.walmart_control();
    walmart
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmart),
        2,
        "{report:?}"
    );
    assert_eq!(
        report.count(operations::Counter::CancellationsRefused),
        0,
        "{report:?}"
    );
    let again = sync(&fx).await;
    assert_eq!(
        again.count(operations::Counter::UnitsCancelledOnWalmart),
        0,
        "{again:?}"
    );
    let received = walmart.received().await.unwrap();
    assert_eq!(received.cancellations.len(), 1, "one cancellation per order line");
    assert_eq!(received.cancellations[0].quantity, 2);
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Canceled);
    assert!(record.problems().is_empty(), "{:?}", record.problems());
    fx.shutdown().await;
}

/// The customer asks Walmart to cancel (`intentToCancel`): the dashboard record shows it, the
/// Commerce order gets one comment, and the merchant's cancellation of that order goes to Walmart as
/// customer-requested, while another order cancelled the same way does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_request_to_cancel_is_noted_once_and_only_that_order_is_cancelled_as_customer_requested() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let asked = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    let other = fx.buyer_orders(&[(&b, 1, 1999)]).await;
    fx.import_and_create().await;
    let walmart = fx.sandboxes.walmart_control();
    walmart
        .request_cancellation(asked.as_str(), &walmart_sandbox::CancellationRequest::default())
        .await
        .unwrap();

    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::CancellationRequestsRecorded),
        1,
        "{report:?}"
    );
    assert_eq!(
        report.count(operations::Counter::CancellationRequestsNoted),
        1,
        "{report:?}"
    );
    let record = fx.record(&asked).await;
    assert_eq!(record.cancel_requested(), &[LineNumber(1)]);
    let row = operations::dashboard::OrderRow::of(&record);
    assert_eq!(row.cancel_requested, vec![LineNumber(1)]);
    assert!(
        row.status_detail
            .as_deref()
            .is_some_and(|d| d.contains("Customer asked to cancel on Walmart")),
        "{row:?}"
    );
    let asked_comments = |order: &serde_json::Value| {
        comments(order)
            .iter()
            .filter(|c| c.contains("customer asked to cancel on Walmart"))
            .count()
    };
    assert_eq!(asked_comments(&fx.commerce_order(&asked).await), 1);
    assert_eq!(asked_comments(&fx.commerce_order(&other).await), 0);
    sync(&fx).await;
    assert_eq!(asked_comments(&fx.commerce_order(&asked).await), 1, "noted once");

    for po in [&asked, &other] {
        let order_id = fx.commerce_order_id(&fx.commerce_order(po).await);
        fx.ch
            .commerce
            .add_order_comment(
                domain::CommerceOrderId(order_id),
                "Customer phoned to cancel",
                &Fixture::deadline(),
            )
            .await
            .unwrap();
        assert!(fx.sandboxes.commerce_control().cancel(order_id).await.unwrap());
    }
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::UnitsCancelledOnWalmart),
        3,
        "{report:?}"
    );
    assert_eq!(
        report.count(operations::Counter::CancellationsRefused),
        0,
        "{report:?}"
    );
    let received = walmart.received().await.unwrap();
    let reason_of = |po: &PurchaseOrderId| {
        received
            .cancellations
            .iter()
            .filter(|c| c.purchase_order_id == po.as_str())
            .map(|c| c.reason.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reason_of(&asked),
        vec!["CUSTOMER_REQUESTED_SELLER_TO_CANCEL".to_owned()]
    );
    assert_eq!(reason_of(&other), vec!["SELLER_CANCEL_OUT_OF_STOCK".to_owned()]);
    assert_eq!(fx.record(&asked).await.summary(), OrderSummary::Canceled);
    fx.shutdown().await;
}

/// Issue 12, fact 9: a Commerce cancellation and comment have no idempotency key. With their
/// answers lost after Magento applied them (504), the client does not send them again: it reads the
/// order (cancelled; the comment in its history) and the order is cancelled and commented once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commerce_cancellation_and_comment_whose_answers_are_lost_happen_once() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    buyer_cancels(&fx, &po, &[(1, 1)]).await;
    let commerce = fx.sandboxes.commerce_control();
    // The cancellation's and the comment's answers are both lost.
    commerce
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 2,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::CommerceOrdersCancelled),
        1,
        "{report:?}"
    );
    let order = fx.commerce_order(&po).await;
    assert_eq!(order["state"], "canceled");
    let noted = |order: &serde_json::Value| {
        comments(order)
            .iter()
            .filter(|c| c.contains("cancelled on Walmart"))
            .count()
    };
    assert_eq!(noted(&order), 1, "{:?}", comments(&order));
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Canceled);
    assert!(record.problems().is_empty(), "{:?}", record.problems());
    let cancels = commerce
        .exchanges()
        .await
        .unwrap()
        .iter()
        .filter(|x| x.method == "POST" && x.path.ends_with("/cancel"))
        .count();
    assert_eq!(cancels, 1, "sent once");
    let again = sync(&fx).await;
    assert_eq!(
        again.count(operations::Counter::CommerceOrdersCancelled),
        0,
        "{again:?}"
    );
    assert_eq!(noted(&fx.commerce_order(&po).await), 1);
    fx.shutdown().await;
}
