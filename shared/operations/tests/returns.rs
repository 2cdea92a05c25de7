//! returns-sync over both sandboxes: Walmart return → Commerce RMA (or the Open Source comment
//! fallback) → the merchant's credit memo → Walmart refund, once per credit memo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::time::Duration;

use domain::{CreditMemoId, LineNumber, Money, OrderSummary, ReturnOrderId, ReturnRecord, ReturnStatus};
use operations::dashboard::{self, DateRange, ReturnBucket, return_key};
use operations::testkit::CommerceSandboxSettings;
use operations::{RunReport, returns_sync};
use orders_fixture::{Fixture, refund, settings, shipped_order, walmart_return};
use ports::Records;

async fn sync(fx: &Fixture) -> RunReport {
    fx.advance(Duration::from_secs(30));
    returns_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap()
}

async fn return_record(fx: &Fixture, id: &ReturnOrderId) -> ReturnRecord {
    fx.ch
        .store
        .load::<ReturnRecord>(&return_key(&fx.ch.settings.id, id))
        .await
        .unwrap()
        .expect("return recorded")
        .record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walmart_return_becomes_an_rma_and_its_credit_memo_a_walmart_refund_once() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let (po, order_id) = shipped_order(&fx, &[(&a, 2, 1999), (&b, 1, 1999)]).await;
    let id = walmart_return(&fx, &po, &[(1, 1)]).await;

    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRequested),
        1,
        "{report:?}"
    );
    let rmas = fx.sandboxes.commerce_control().returns().await.unwrap();
    assert_eq!(rmas.len(), 1);
    let rma = &rmas[0];
    assert_eq!(rma["order_id"].as_u64(), Some(order_id));
    assert_eq!(rma["items"].as_array().unwrap().len(), 1);
    assert_eq!(rma["items"][0]["qty_requested"], 1);
    let record = fx.record(&po).await;
    assert_eq!(
        rma["items"][0]["order_item_id"].as_u64(),
        record.line(LineNumber(1)).unwrap().order_item_id
    );
    assert!(
        rma["comments"][0]["comment"]
            .as_str()
            .unwrap()
            .contains(id.as_str())
    );
    let ret = return_record(&fx, &id).await;
    assert_eq!(
        ret.status(),
        &ReturnStatus::RequestedInCommerce {
            rma: Some(domain::RmaId(rma["entity_id"].as_u64().unwrap()))
        }
    );
    assert_eq!(ret.status().adobe_label(), "Received");
    assert_eq!(record.summary(), OrderSummary::ReturnRequested);
    assert_eq!(record.returns(), std::slice::from_ref(&id));
    assert_eq!(record.status_detail().as_deref(), Some("Return requested"));
    let listed = dashboard::returns(
        fx.ch.store.as_ref(),
        &fx.ch.settings.id,
        ReturnBucket::RequestedInCommerce,
        DateRange::default(),
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(listed.rows.len(), 1);
    assert_eq!(
        sync(&fx).await.count(operations::Counter::ReturnsRequested),
        0,
        "requested once"
    );
    assert_eq!(fx.sandboxes.commerce_control().returns().await.unwrap().len(), 1);

    // The merchant refunds the returned unit offline.
    let memo = refund(&fx, order_id, &[(&a, 1.0)]).await;
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRefunded),
        1,
        "{report:?}"
    );
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.return_refunds.len(), 1);
    assert_eq!(received.return_refunds[0].return_order_id, id.as_str());
    assert_eq!(received.return_refunds[0].lines, vec![1]);
    let ret = return_record(&fx, &id).await;
    assert_eq!(
        ret.status(),
        &ReturnStatus::Refunded {
            credit_memo: CreditMemoId(memo),
            amount: Money::from_cents(1999)
        }
    );
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Refunded);
    assert_eq!(record.line(LineNumber(1)).unwrap().refunded, 1);

    let again = sync(&fx).await;
    assert_eq!(again.count(operations::Counter::ReturnsRefunded), 0, "{again:?}");
    assert_eq!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .return_refunds
            .len(),
        1,
        "once per credit memo"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_rma_module_a_return_is_an_order_comment_and_still_refunds() {
    let open_source = CommerceSandboxSettings {
        rma: false,
        ..CommerceSandboxSettings::default().with_purchase_order()
    };
    let fx = Fixture::start_with(settings(), open_source).await;
    let a = fx.skus[0].clone();
    let (po, order_id) = shipped_order(&fx, &[(&a, 1, 1999)]).await;
    let id = walmart_return(&fx, &po, &[(1, 1)]).await;
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRequested),
        1,
        "{report:?}"
    );
    let order = fx.commerce_order(&po).await;
    let noted = order["status_histories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["comment"].as_str().unwrap_or_default().contains(id.as_str()))
        .count();
    assert_eq!(noted, 1);
    assert_eq!(
        return_record(&fx, &id).await.status(),
        &ReturnStatus::RequestedInCommerce { rma: None }
    );
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::ReturnRequested);

    refund(&fx, order_id, &[(&a, 1.0)]).await;
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRefunded),
        1,
        "{report:?}"
    );
    assert_eq!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .return_refunds
            .len(),
        1
    );
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::Refunded);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_memo_covering_part_of_a_return_is_an_error_not_a_wrong_refund() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let (po, order_id) = shipped_order(&fx, &[(&a, 2, 1999)]).await;
    let id = walmart_return(&fx, &po, &[(1, 2)]).await;
    sync(&fx).await;
    refund(&fx, order_id, &[(&a, 1.0)]).await;
    let report = sync(&fx).await;
    assert_eq!(report.count(operations::Counter::RefundsFailed), 1, "{report:?}");
    assert!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .return_refunds
            .is_empty()
    );
    let ret = return_record(&fx, &id).await;
    assert!(matches!(ret.status(), ReturnStatus::Error { reason } if reason.contains("only part")));
    assert_eq!(ret.status().adobe_label(), "Error");
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Error);
    fx.shutdown().await;
}

/// Walmart refunded the return itself (its automatic refund): the seller's refund is refused, and
/// the return, read again, shows the line refunded only through `refundedQty`/`refundChannel`
/// (`currentRefundStatus` still NOT_REFUNDED). The credit memo is settled as done, not an Error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_walmart_refunded_itself_is_settled_by_reading_the_return_again() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let (po, order_id) = shipped_order(&fx, &[(&a, 1, 1999)]).await;
    let id = walmart_return(&fx, &po, &[(1, 1)]).await;
    sync(&fx).await;
    fx.sandboxes
        .walmart_control()
        .walmart_refunds_return(id.as_str())
        .await
        .unwrap();
    let memo = refund(&fx, order_id, &[(&a, 1.0)]).await;
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRefunded),
        1,
        "{report:?}"
    );
    assert_eq!(report.count(operations::Counter::RefundsFailed), 0, "{report:?}");
    assert!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .return_refunds
            .is_empty(),
        "Walmart paid it; the seller's refund was refused"
    );
    assert!(matches!(
        return_record(&fx, &id).await.status(),
        ReturnStatus::Refunded { credit_memo, .. } if *credit_memo == CreditMemoId(memo)
    ));
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::Refunded);
    fx.shutdown().await;
}

/// The refund reaches Walmart but its answer is lost (a 504): the return is read, not refunded
/// again. One refund per return, and the credit memo is recorded as reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_whose_answer_is_lost_is_paid_once() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let (po, order_id) = shipped_order(&fx, &[(&a, 1, 1999)]).await;
    let id = walmart_return(&fx, &po, &[(1, 1)]).await;
    sync(&fx).await;
    refund(&fx, order_id, &[(&a, 1.0)]).await;
    fx.sandboxes
        .walmart_control()
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let report = sync(&fx).await;
    assert_eq!(
        report.count(operations::Counter::ReturnsRefunded),
        1,
        "{report:?}"
    );
    let again = sync(&fx).await;
    assert_eq!(again.count(operations::Counter::ReturnsRefunded), 0, "{again:?}");
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.return_refunds.len(), 1, "one refund per return");
    assert!(matches!(
        return_record(&fx, &id).await.status(),
        ReturnStatus::Refunded { .. }
    ));
    fx.shutdown().await;
}

/// Issue 12, fact 9: an RMA has no idempotency key in Magento. With the answer to its creation
/// lost after Magento applied it (504), the client does not post it again; the next run looks for
/// the RMA on the order before asking, and finds it: one RMA for the Walmart return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_request_whose_answer_is_lost_opens_one_rma() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let (po, _) = shipped_order(&fx, &[(&a, 2, 1999)]).await;
    let id = walmart_return(&fx, &po, &[(1, 1)]).await;
    let commerce = fx.sandboxes.commerce_control();
    commerce
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let first = sync(&fx).await;
    assert_eq!(first.count(operations::Counter::ReturnsRequested), 0, "{first:?}");
    let second = sync(&fx).await;
    assert_eq!(
        second.count(operations::Counter::ReturnsRequested),
        1,
        "{second:?}"
    );
    assert_eq!(commerce.returns().await.unwrap().len(), 1, "one RMA");
    assert!(matches!(
        return_record(&fx, &id).await.status(),
        ReturnStatus::RequestedInCommerce { .. }
    ));
    assert!(fx.record(&po).await.problems().is_empty());
    fx.shutdown().await;
}
