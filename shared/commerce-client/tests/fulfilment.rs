//! Shipments, returns (RMA and the Open Source fallback) and offline refunds against the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use commerce_client::wire::ItemQuantity;
use commerce_client::{
    OrderPlacement, PlacedOrder, RefundArguments, ReturnItem, ReturnRecorded, ReturnRequest,
};
use commerce_sandbox::{RefundRequest, SandboxSettings, ShipLine, TrackInput};
use common::*;
use domain::CustomerMapping;

fn guest() -> OrderPlacement {
    OrderPlacement {
        customer: CustomerMapping::Guest,
        carrier_method: "flatrate_flatrate".into(),
        payment_method: "purchaseorder".into(),
    }
}

async fn placed_order(h: &Harness, po_id: &str, qty: u32) -> PlacedOrder {
    let po = purchase_order(
        po_id,
        "buyer@relay.walmart.com",
        start_time(),
        vec![
            walmart_line(1, "MUG-1", qty, 1200),
            walmart_line(2, "CUP-1", 1, 500),
        ],
    );
    h.client
        .create_order_for(&po, &guest(), &deadline())
        .await
        .unwrap()
}

async fn seeded(settings: SandboxSettings) -> Harness {
    let h = start(settings).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 5.0, 5.0), product("CUP-1", 5.0, 5.0, 0.0)])
        .await
        .unwrap();
    h
}

fn track(number: &str) -> TrackInput {
    TrackInput {
        carrier_code: "ups".into(),
        title: "United Parcel Service".into(),
        number: number.into(),
    }
}

#[tokio::test]
async fn partial_and_whole_shipments_with_tracks() {
    let h = seeded(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    let placed = placed_order(&h, "5000000000001", 3).await;
    h.clock.advance(Duration::from_secs(60));
    let since = h.clock_now();
    control
        .ship(
            placed.order_id.0,
            vec![ShipLine {
                sku: Some("MUG-1".into()),
                order_item_id: None,
                qty: 2.0,
            }],
            track("1Z001"),
            false,
        )
        .await
        .unwrap();
    let order = h.client.get_order(placed.order_id, &deadline()).await.unwrap();
    assert_eq!(
        (order.state.as_str(), order.status.as_str()),
        ("processing", "processing")
    );
    h.clock.advance(Duration::from_secs(60));
    control
        .ship(placed.order_id.0, vec![], track("1Z002"), true)
        .await
        .unwrap();
    let order = h.client.get_order(placed.order_id, &deadline()).await.unwrap();
    assert_eq!(
        (order.state.as_str(), order.status.as_str()),
        ("complete", "complete"),
        "shipped and invoiced"
    );

    let shipments = h
        .client
        .shipments_updated_since(since)
        .collect_all(&deadline())
        .await
        .unwrap();
    assert_eq!(shipments.len(), 2);
    assert_eq!(shipments[0].tracks[0].track_number, "1Z001");
    assert_eq!(shipments[0].tracks[0].carrier_code, "ups");
    assert_eq!(shipments[0].tracks[0].title, "United Parcel Service");
    assert_eq!(shipments[0].items.len(), 1);
    assert_eq!(
        (shipments[0].items[0].sku.as_deref(), shipments[0].items[0].qty),
        (Some("MUG-1"), 2.0)
    );
    let last: f64 = shipments[1].items.iter().map(|i| i.qty).sum();
    assert_eq!(last, 2.0, "the rest: one MUG-1 and one CUP-1");
    let later = h
        .client
        .shipments_updated_since(since.plus(Duration::from_secs(30)))
        .collect_all(&deadline())
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
}

#[tokio::test]
async fn rma_returns_and_offline_refunds_on_adobe_commerce() {
    let h = seeded(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    let d = deadline();
    let placed = placed_order(&h, "6000000000001", 2).await;
    control
        .ship(placed.order_id.0, vec![], track("1Z100"), true)
        .await
        .unwrap();
    assert!(h.client.returns_supported(&d).await.unwrap());

    let mug_item = placed.lines[0].order_item_id.unwrap();
    let request = ReturnRequest {
        order_id: placed.order_id,
        items: vec![ReturnItem {
            order_item_id: mug_item,
            qty: 1,
            reason: "32".into(),
            condition: "35".into(),
            resolution: "38".into(),
        }],
        comment: "Walmart return 99887766: damaged".into(),
    };
    let recorded = h.client.request_return(&request, &d).await.unwrap();
    let ReturnRecorded::Rma(rma_id) = recorded else {
        panic!("expected an RMA, got {recorded:?}")
    };
    let listed = h
        .client
        .returns_for_order(placed.order_id)
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].entity_id, rma_id.0);
    assert_eq!(listed[0].status, "pending");
    assert_eq!(listed[0].items[0].qty_requested, 1);
    assert_eq!(listed[0].comments[0].comment, "Walmart return 99887766: damaged");
    control.set_return_status(rma_id.0, "authorized").await.unwrap();
    let requested = h
        .client
        .returns_requested_since(start_time())
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(
        (requested[0].status.as_str(), requested[0].items[0].qty_authorized),
        ("authorized", 1)
    );

    h.clock.advance(Duration::from_secs(60));
    let since = h.clock_now();
    let memo_id = h
        .client
        .refund_order_offline(
            placed.order_id,
            &[ItemQuantity {
                order_item_id: mug_item,
                qty: 1.0,
            }],
            RefundArguments {
                shipping_amount: Some(0.0),
                ..RefundArguments::default()
            },
            Some("Refund for Walmart return 99887766"),
            &d,
        )
        .await
        .unwrap();
    let memos = h
        .client
        .credit_memos_updated_since(since)
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(memos.len(), 1);
    assert_eq!(memos[0].entity_id, Some(memo_id.0));
    assert_eq!(memos[0].grand_total, Some(12.0));
    assert_eq!(memos[0].items[0].order_item_id, Some(mug_item));
    let order = h.client.get_order(placed.order_id, &d).await.unwrap();
    assert_eq!(order.total_refunded, Some(12.0));
    assert_eq!(order.state, "complete", "partly refunded stays complete");

    // The merchant refunds the rest from the admin (control API): the order closes.
    control
        .refund(placed.order_id.0, &RefundRequest::default())
        .await
        .unwrap();
    let order = h.client.get_order(placed.order_id, &d).await.unwrap();
    assert_eq!(
        (order.state.as_str(), order.status.as_str()),
        ("closed", "closed")
    );
    assert_eq!(
        h.client
            .credit_memos_updated_since(since)
            .collect_all(&d)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn open_source_stores_get_an_order_comment_instead_of_an_rma() {
    let h = seeded(SandboxSettings {
        rma: false,
        ..SandboxSettings::default()
    })
    .await;
    let d = deadline();
    let placed = placed_order(&h, "7000000000001", 1).await;
    h.sandbox
        .control()
        .ship(placed.order_id.0, vec![], track("1Z200"), false)
        .await
        .unwrap();
    assert!(!h.client.returns_supported(&d).await.unwrap());
    let request = ReturnRequest {
        order_id: placed.order_id,
        items: vec![ReturnItem {
            order_item_id: placed.lines[0].order_item_id.unwrap(),
            qty: 1,
            reason: String::new(),
            condition: String::new(),
            resolution: String::new(),
        }],
        comment: "Walmart return 55: wrong size".into(),
    };
    assert_eq!(
        h.client.request_return(&request, &d).await.unwrap(),
        ReturnRecorded::OrderComment
    );
    let order = h.client.get_order(placed.order_id, &d).await.unwrap();
    assert_eq!(
        order.status_histories[0].comment,
        "Return requested on Walmart: Walmart return 55: wrong size"
    );
    // Detection is remembered: one probe only.
    h.client.returns_supported(&d).await.unwrap();
    assert_eq!(
        h.sandbox.control().stats().await.unwrap().get("GET (no route)"),
        Some(&1)
    );
}

#[tokio::test]
async fn refunds_need_an_invoice() {
    let h = seeded(SandboxSettings::default()).await;
    let d = deadline();
    let placed = placed_order(&h, "8000000000001", 1).await;
    let err = h
        .client
        .refund_order_offline(placed.order_id, &[], RefundArguments::default(), None, &d)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            commerce_client::CommerceError::Validation { status: 400, .. }
        ),
        "{err}"
    );
    h.client
        .invoice_order(
            placed.order_id,
            &[ItemQuantity {
                order_item_id: placed.lines[0].order_item_id.unwrap(),
                qty: 1.0,
            }],
            &d,
        )
        .await
        .unwrap();
    let err = h
        .client
        .refund_order_offline(
            placed.order_id,
            &[ItemQuantity {
                order_item_id: placed.lines[0].order_item_id.unwrap(),
                qty: 2.0,
            }],
            RefundArguments::default(),
            None,
            &d,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Commerce rejected the request on POST /V1/order/{orderId}/refund (400): The most money available to refund is 12.00."
    );
}

trait ClockNow {
    fn clock_now(&self) -> domain::Timestamp;
}

impl ClockNow for Harness {
    fn clock_now(&self) -> domain::Timestamp {
        use ports::Clock;
        self.clock.now()
    }
}
