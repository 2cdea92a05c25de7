//! Orders (lists, cursor paging, released, one order, acknowledge, ship, cancel, refund) and
//! returns (cursor paging, refund) against the sandbox.

mod common;

use std::time::Duration;

use common::{START, start};
use domain::{
    Carrier, CustomerOrderId, LineNumber, MethodCode, Money, PurchaseOrderId, ReturnOrderId, Timestamp,
    Tracking, WalmartLineStatus,
};
use ports::{Clock, Deadline};
use walmart_client::{
    CancelLine, CancellationReason, LineState, OrderSource, OrdersQuery, RefundLine, RefundReason,
    ReturnsQuery, ShipLine, WalmartError,
};
use walmart_sandbox::{BuyerCancellation, CancelledBy, LineQuantitySpec, NewReturn};

fn po(raw: &str) -> PurchaseOrderId {
    PurchaseOrderId::new(raw).expect("purchase order id")
}

fn tracking(number: &str, carrier: Carrier) -> Tracking {
    Tracking {
        number: number.into(),
        carrier,
        method: MethodCode::new("Standard").expect("method"),
        shipped_at: START.plus(Duration::from_secs(3600)),
    }
}

fn ship_line(line: u32, quantity: u32, tracking: Tracking) -> ShipLine {
    ShipLine {
        line: LineNumber(line),
        quantity,
        seller_order_id: "000000123".into(),
        tracking,
        intent_to_cancel_override: false,
    }
}

fn window() -> OrdersQuery {
    OrdersQuery::created_between(
        START.minus(Duration::from_secs(3600)),
        START.plus(Duration::from_secs(3600)),
    )
}

#[tokio::test]
async fn orders_page_by_walmarts_query_string_cursor() {
    let h = start().await;
    h.seed_items(0..2).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(h.order(&[("sku-0", 1), ("sku-1", 2)]).await);
        h.clock.advance(Duration::from_secs(1));
    }
    let mut query = window();
    query.limit = 2;
    let mut page = h
        .client
        .list_orders(&query, &Deadline::none())
        .await
        .expect("first page");
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 1;
    loop {
        seen.extend(page.orders.iter().map(|o| o.order.id.as_str().to_owned()));
        let Some(cursor) = page.next_cursor.clone() else {
            break;
        };
        assert!(cursor.query.starts_with('?') && cursor.query.contains("hasMoreElements=true"));
        page = h
            .client
            .next_orders(&cursor, &Deadline::none())
            .await
            .expect("next page");
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
    let list_calls = h.exchanges_to("GET", "/v3/orders");
    assert_eq!(list_calls.len(), 3);
    assert_eq!(
        list_calls[1].query_value("soIndex"),
        Some("2"),
        "the cursor went back as given"
    );

    let order = &page.orders.last().expect("an order").order;
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[1].quantity, 2);
    assert_eq!(order.lines[1].unit_price, Money::from_cents(1999));
    assert_eq!(order.lines[1].tax, Money::from_cents(320));
    assert_eq!(order.lines[1].status, WalmartLineStatus::Created);
    assert_eq!(order.method_code.as_str(), "Standard");
    assert_eq!(order.ship_to.city, "Bentonville");
    assert!(
        order
            .ship_to
            .email
            .as_deref()
            .is_some_and(|e| e.ends_with("@relay.walmart.com"))
    );
}

#[tokio::test]
async fn no_orders_is_an_empty_page_even_though_walmart_answers_404() {
    let h = start().await;
    let page = h
        .client
        .list_orders(&window(), &Deadline::none())
        .await
        .expect("empty page");
    assert!(page.orders.is_empty() && page.next_cursor.is_none());
    let call = &h.exchanges_to("GET", "/v3/orders")[0];
    assert_eq!(call.status, 404);
    assert!(call.response_body.as_ref().expect("body")["errors"]["error"].is_array());
}

#[tokio::test]
async fn released_and_modified_queries_and_one_order() {
    let h = start().await;
    h.seed_items(0..1).await;
    let first = h.order(&[("sku-0", 1)]).await;
    let second = h.order(&[("sku-0", 1)]).await;
    h.clock.advance(Duration::from_secs(600));
    h.client
        .acknowledge(&po(&first), &Deadline::none())
        .await
        .expect("ack");
    let released = h
        .client
        .list_orders(
            &OrdersQuery::released(START.minus(Duration::from_secs(60)), h.clock.now()),
            &Deadline::none(),
        )
        .await
        .expect("released");
    let ids: Vec<&str> = released.orders.iter().map(|o| o.order.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![second.as_str()],
        "only orders waiting for acknowledgement"
    );
    assert_eq!(h.exchanges_to("GET", "/v3/orders/released").len(), 1);

    let modified = h
        .client
        .list_orders(
            &OrdersQuery::modified_between(START, START.plus(Duration::from_secs(300)), h.clock.now()),
            &Deadline::none(),
        )
        .await
        .expect("modified");
    let ids: Vec<&str> = modified.orders.iter().map(|o| o.order.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![first.as_str()],
        "only the acknowledged order changed since"
    );

    let mut by_status = window();
    by_status.status = Some(LineState::Acknowledged);
    let acknowledged = h
        .client
        .list_orders(&by_status, &Deadline::none())
        .await
        .expect("by status");
    assert_eq!(acknowledged.orders.len(), 1);

    let one = h
        .client
        .get_order(&po(&first), &Deadline::none())
        .await
        .expect("one order");
    assert_eq!(
        one.order.order_date, START,
        "orderDate read from the single-order RFC 3339 form"
    );
    assert_eq!(one.order.lines[0].status, WalmartLineStatus::Acknowledged);
    let err = h
        .client
        .get_order(&po("999"), &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn line_flow_acknowledge_partial_ship_cancel_and_refund() {
    let h = start().await;
    h.seed_items(0..2).await;
    let id = po(&h.order(&[("sku-0", 3), ("sku-1", 1)]).await);
    let ups = tracking("1Z999AA10123456784", Carrier::Known { name: "UPS".into() });

    let err = h
        .client
        .ship(&id, &[ship_line(1, 1, ups.clone())], &Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WalmartError::Validation { message, .. } if message.contains("acknowledge the order before shipping")),
        "{err:?}"
    );

    let acked = h.client.acknowledge(&id, &Deadline::none()).await.expect("ack");
    assert_eq!(acked.quantity_in(LineNumber(1), LineState::Acknowledged), 3);

    let shipped = h
        .client
        .ship(&id, &[ship_line(1, 1, ups.clone())], &Deadline::none())
        .await
        .expect("partial ship");
    assert_eq!(shipped.quantity_in(LineNumber(1), LineState::Shipped), 1);
    assert_eq!(shipped.quantity_in(LineNumber(1), LineState::Acknowledged), 2);
    assert_eq!(
        shipped.order.line(LineNumber(1)).map(|l| l.status),
        Some(WalmartLineStatus::Acknowledged)
    );

    let cancelled = h
        .client
        .cancel_lines(
            &id,
            &[CancelLine {
                line: LineNumber(2),
                quantity: 1,
                reason: CancellationReason::from(domain::CancelReason::SellerCancellation),
            }],
            &Deadline::none(),
        )
        .await
        .expect("cancel line 2");
    assert_eq!(
        cancelled.order.line(LineNumber(2)).map(|l| l.status),
        Some(WalmartLineStatus::Cancelled)
    );
    let err = h
        .client
        .ship(&id, &[ship_line(2, 1, ups.clone())], &Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WalmartError::Validation { message, .. } if message.contains("cancelled")),
        "a cancelled line cannot ship: {err:?}"
    );

    let courier = tracking(
        "LC-42",
        Carrier::Other {
            name: "Local Courier".into(),
            tracking_url: "https://courier.example/t/LC-42".into(),
        },
    );
    let done = h
        .client
        .ship(&id, &[ship_line(1, 2, courier)], &Deadline::none())
        .await
        .expect("ship the rest");
    assert_eq!(done.quantity_in(LineNumber(1), LineState::Shipped), 3);
    let refunded = h
        .client
        .refund_lines(
            &id,
            &[RefundLine {
                line: LineNumber(1),
                reason: RefundReason::DamagedItem,
                amount: Money::from_cents(1999),
                tax: Some(Money::from_cents(160)),
                comments: Some("arrived broken".into()),
            }],
            &Deadline::none(),
        )
        .await
        .expect("refund a shipped line");
    assert_eq!(refunded.order.id, id);

    let received = h.control.received().await.expect("received");
    assert_eq!(received.acknowledgements.len(), 1);
    let shipments: Vec<(u32, u32, Option<&str>, Option<&str>)> = received
        .shipments
        .iter()
        .map(|s| {
            (
                s.line,
                s.quantity,
                s.carrier.as_deref(),
                s.other_carrier.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shipments,
        vec![(1, 1, Some("UPS"), None), (1, 2, None, Some("Local Courier"))]
    );
    assert_eq!(
        received.shipments[1].tracking_url.as_deref(),
        Some("https://courier.example/t/LC-42")
    );
    assert_eq!(received.shipments[0].seller_order_id, "000000123");
    assert_eq!(received.cancellations[0].reason, "SELLER_CANCEL_OUT_OF_STOCK");
    assert_eq!(received.cancellations[0].by, CancelledBy::Seller);
    assert_eq!(received.refunds[0].amount, Money::from_cents(1999));
    assert_eq!(received.refunds[0].tax, Money::from_cents(160));
    assert_eq!(received.refunds[0].reason, "DamagedItem");
}

#[tokio::test]
async fn buyer_cancellations_show_in_modified_orders_with_quantities() {
    let h = start().await;
    h.seed_items(0..1).await;
    let id = h.order(&[("sku-0", 4)]).await;
    h.clock.advance(Duration::from_secs(120));
    h.control
        .cancel_as_buyer(
            &id,
            &BuyerCancellation {
                lines: vec![LineQuantitySpec { line: 1, quantity: 3 }],
                reason: "CUSTOMER_CANCEL".into(),
            },
        )
        .await
        .expect("buyer cancels");
    let page = h
        .client
        .list_orders(
            &OrdersQuery::modified_between(START, START.plus(Duration::from_secs(60)), h.clock.now()),
            &Deadline::none(),
        )
        .await
        .expect("modified orders");
    let order = &page.orders[0];
    assert_eq!(order.quantity_in(LineNumber(1), LineState::Cancelled), 3);
    assert_eq!(order.quantity_in(LineNumber(1), LineState::Created), 1);
    assert_eq!(
        order
            .statuses
            .iter()
            .find(|s| s.state == LineState::Cancelled)
            .and_then(|s| s.cancellation_reason.clone()),
        Some("CUSTOMER_CANCEL".into())
    );
}

#[tokio::test]
async fn returns_page_by_cursor_and_refund_once() {
    let h = start().await;
    h.seed_items(0..1).await;
    let id = h.order(&[("sku-0", 3)]).await;
    h.client
        .acknowledge(&po(&id), &Deadline::none())
        .await
        .expect("ack");
    h.client
        .ship(
            &po(&id),
            &[ship_line(
                1,
                3,
                tracking("1Z1", Carrier::Known { name: "FedEx".into() }),
            )],
            &Deadline::none(),
        )
        .await
        .expect("shipped");
    let mut created = Vec::new();
    for _ in 0..3 {
        h.clock.advance(Duration::from_secs(60));
        created.push(
            h.control
                .create_return(&NewReturn {
                    purchase_order_id: id.clone(),
                    lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
                    reason: "DAMAGED".into(),
                })
                .await
                .expect("return opened"),
        );
    }
    let mut query = ReturnsQuery::created_between(START, h.clock.now());
    query.limit = 2;
    let first = h
        .client
        .list_returns(&query, &Deadline::none())
        .await
        .expect("returns");
    assert_eq!(first.returns.len(), 2);
    let cursor = first.next_cursor.clone().expect("more returns");
    let second = h
        .client
        .next_returns(&cursor, &Deadline::none())
        .await
        .expect("next returns");
    assert_eq!(second.returns.len(), 1);
    assert!(second.next_cursor.is_none());
    let all: Vec<_> = first.returns.iter().chain(second.returns.iter()).collect();
    assert_eq!(
        all.iter().map(|r| r.return_order_id.as_str()).collect::<Vec<_>>(),
        created
            .iter()
            .map(|c| c.return_order_id.as_str())
            .collect::<Vec<_>>()
    );
    let r = all[0];
    assert_eq!(
        r.purchase_order_id.as_ref().map(|p| p.as_str()),
        Some(id.as_str())
    );
    assert_eq!(r.lines[0].order_line, LineNumber(1));
    assert_eq!(r.lines[0].quantity, 1);
    assert_eq!(
        r.lines[0].refund_amount,
        Money::from_cents(1999 + 160),
        "unit price plus its tax"
    );

    let return_id = ReturnOrderId::new(created[0].return_order_id.clone()).expect("id");
    let customer = CustomerOrderId::new(created[0].customer_order_id.clone()).expect("id");
    h.client
        .refund_return(&return_id, &customer, &[1], &Deadline::none())
        .await
        .expect("refunded");
    let err = h
        .client
        .refund_return(&return_id, &customer, &[1], &Deadline::none())
        .await
        .unwrap_err();
    // Walmart documents no conflict code for it: a refused refund is a plain request error.
    assert!(
        matches!(err, WalmartError::Validation { status: 400, .. }),
        "{err:?}"
    );
    let received = h.control.received().await.expect("received");
    assert_eq!(received.return_refunds.len(), 1);
    let again = h
        .client
        .list_returns(&query, &Deadline::none())
        .await
        .expect("returns");
    assert_eq!(again.returns[0].refunded_lines, vec![1]);
    let one = h
        .client
        .get_return(&return_id, &Deadline::none())
        .await
        .expect("return")
        .expect("listed");
    assert_eq!(one.return_order_id, return_id);
    assert_eq!(one.refunded_lines, vec![1]);
}

#[tokio::test]
async fn a_return_line_counts_as_refunded_from_refunded_qty_and_refund_channel_whatever_its_refund_status() {
    let h = start().await;
    h.seed_items(0..1).await;
    let id = h.order(&[("sku-0", 1)]).await;
    let po = po(&id);
    h.client
        .acknowledge(&po, &Deadline::none())
        .await
        .expect("acknowledged");
    h.client
        .ship(
            &po,
            &[ship_line(
                1,
                1,
                tracking("1Z9", Carrier::Known { name: "UPS".into() }),
            )],
            &Deadline::none(),
        )
        .await
        .expect("shipped");
    let created = h
        .control
        .create_return(&NewReturn {
            purchase_order_id: id,
            lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
            reason: "DAMAGED".into(),
        })
        .await
        .expect("return opened");
    let return_id = ReturnOrderId::new(created.return_order_id.clone()).expect("id");
    let rendered = h
        .control
        .walmart_refunds_return(&created.return_order_id)
        .await
        .expect("Walmart refunded it");
    let line = &rendered["returnOrderLines"][0];
    assert_eq!(
        line["currentRefundStatus"], "NOT_REFUNDED",
        "as the spec's example shows"
    );
    assert_eq!(line["refundedQty"], 1);
    assert_eq!(line["refundChannel"], "WALMART_TRIGGERED_REFUND");
    let seen = h
        .client
        .get_return(&return_id, &Deadline::none())
        .await
        .expect("return")
        .expect("listed");
    assert_eq!(seen.refunded_lines, vec![1]);
}

#[tokio::test]
async fn order_dates_and_sources_are_sent_as_walmart_expects() {
    let h = start().await;
    let query = OrdersQuery::created_between(Timestamp::from_millis(0), START);
    h.client
        .list_orders(&query, &Deadline::none())
        .await
        .expect("empty");
    let call = &h.exchanges_to("GET", "/v3/orders")[0];
    assert_eq!(
        call.query_value("createdStartDate"),
        Some("1970-01-01T00:00:00.000Z")
    );
    assert_eq!(
        call.query_value("createdEndDate"),
        Some("2025-11-27T10:00:00.000Z")
    );
    assert_eq!(query.source, OrderSource::All);
}
