use axum::http::StatusCode;

use super::*;

fn world() -> World {
    let mut w = World::new(SandboxSettings::default());
    w.add_catalog_item(CatalogItemSpec {
        gtin: "036000291452".into(),
        product_name: "Mug".into(),
        brand: None,
        product_type: None,
        price: None,
        wpid: None,
    })
    .unwrap();
    w
}

fn order(w: &mut World, qty: u32) -> String {
    w.create_order(
        NewOrder {
            lines: vec![NewOrderLine {
                sku: "MUG-1".into(),
                quantity: qty,
                unit_price: Money::from_cents(1000),
                tax: Money::from_cents(160),
                shipping: Money::ZERO,
                product_name: None,
            }],
            ship_to: ShipToSpec::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        },
        Timestamp::from_millis(1),
    )
    .unwrap()
    .purchase_order_id
}

fn tracking() -> Tracking {
    Tracking {
        ship_date_time: 1,
        carrier: Some("UPS".into()),
        other_carrier: None,
        method_code: "Standard".into(),
        tracking_number: "1Z".into(),
        tracking_url: None,
    }
}

fn ship(line: u32, quantity: u32) -> ShipRequestLine {
    ShipRequestLine {
        line,
        quantity,
        seller_order_id: "100".into(),
        tracking: tracking(),
        intent_to_cancel_override: false,
    }
}

#[test]
fn a_customer_cancellation_request_gates_the_customer_reason_and_shipping() {
    let now = Timestamp::from_millis(2);
    let mut w = world();
    let po = order(&mut w, 2);
    w.acknowledge(&po, now).unwrap();
    let customer = |line| CancelRequestLine {
        line,
        quantity: 1,
        reason: CUSTOMER_REQUESTED.into(),
    };
    let refused = w
        .cancel(&po, vec![customer(1)], CancelledBy::Seller, now)
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "no intent to cancel yet");
    w.request_cancellation(&po, &[1], now).unwrap();
    assert!(w.ship(&po, vec![ship(1, 1)], now).is_err(), "needs the override");
    let mut anyway = ship(1, 1);
    anyway.intent_to_cancel_override = true;
    w.ship(&po, vec![anyway], now).unwrap();
    w.cancel(&po, vec![customer(1)], CancelledBy::Seller, now)
        .unwrap();
}

#[test]
fn line_rules_ack_before_ship_no_ship_after_cancel_refund_only_shipped() {
    let now = Timestamp::from_millis(2);
    let mut w = world();
    let po = order(&mut w, 3);
    assert!(w.ship(&po, vec![ship(1, 1)], now).is_err(), "not acknowledged");
    let refund = |amount| RefundRequestLine {
        line: 1,
        reason: "DamagedItem".into(),
        amount: Money::from_cents(amount),
        tax: Money::ZERO,
        comments: None,
    };
    assert!(w.refund(&po, vec![refund(100)], now).is_err(), "nothing shipped");
    w.acknowledge(&po, now).unwrap();
    w.ship(&po, vec![ship(1, 1)], now).unwrap();
    let line = &w.orders[&po].lines[0];
    assert_eq!(line.quantity_in(LineState::Shipped), 1);
    assert_eq!(line.quantity_in(LineState::Acknowledged), 2);
    w.cancel(
        &po,
        vec![CancelRequestLine {
            line: 1,
            quantity: 2,
            reason: "SELLER_CANCEL_OUT_OF_STOCK".into(),
        }],
        CancelledBy::Seller,
        now,
    )
    .unwrap();
    assert!(
        w.ship(&po, vec![ship(1, 1)], now).is_err(),
        "cancelled units cannot ship"
    );
    assert!(
        w.cancel(
            &po,
            vec![CancelRequestLine {
                line: 1,
                quantity: 1,
                reason: "SELLER_CANCEL_OUT_OF_STOCK".into()
            }],
            CancelledBy::Seller,
            now
        )
        .is_err(),
        "shipped units cannot be cancelled"
    );
    w.refund(&po, vec![refund(1000)], now).unwrap();
    assert!(
        w.refund(&po, vec![refund(2500)], now).is_err(),
        "over the line total"
    );
    assert_eq!(w.received.shipments.len(), 1);
    assert_eq!(w.received.cancellations.len(), 1);
    assert_eq!(w.received.refunds.len(), 1);
}

#[test]
fn returns_only_for_shipped_units_and_refund_once() {
    let now = Timestamp::from_millis(2);
    let mut w = world();
    let po = order(&mut w, 2);
    let spec = |q| NewReturn {
        purchase_order_id: po.clone(),
        lines: vec![LineQuantitySpec { line: 1, quantity: q }],
        reason: "DAMAGED".into(),
    };
    assert!(w.create_return(spec(1), now).is_err(), "nothing shipped yet");
    w.acknowledge(&po, now).unwrap();
    w.ship(&po, vec![ship(1, 1)], now).unwrap();
    assert!(w.create_return(spec(2), now).is_err(), "only one shipped");
    let created = w.create_return(spec(1), now).unwrap();
    assert!(w.create_return(spec(1), now).is_err(), "already returned");
    assert!(
        w.refund_return(&created.return_order_id, "wrong", &[1], now)
            .is_err()
    );
    w.refund_return(&created.return_order_id, &created.customer_order_id, &[1], now)
        .unwrap();
    assert!(
        w.refund_return(&created.return_order_id, &created.customer_order_id, &[1], now)
            .is_err()
    );
    assert_eq!(w.returns[&created.return_order_id].status(), "COMPLETED");
}

#[test]
fn feeds_apply_when_processed_with_per_item_errors() {
    let mut w = world();
    w.settings.feed_received_secs = 10;
    w.settings.feed_processing_secs = 20;
    let t0 = Timestamp::from_millis(1_000);
    let line = |sku: &str, id: &str, price: Option<f64>| FeedLine::Match {
        sku: Some(sku.into()),
        product_id: Some(id.into()),
        price,
    };
    let id = w.submit_feed(
        "MP_ITEM_MATCH",
        vec![
            line("A", "036000291452", Some(9.99)),
            line("B", "036000291453", Some(9.99)),
            line("C", "4006381333931", Some(9.99)),
            line("D", "036000291452", None),
        ],
        None,
        t0,
    );
    assert_eq!(w.feeds[&id].phase(t0), FeedPhase::Received);
    w.advance(t0.plus(Duration::from_secs(15)));
    assert_eq!(
        w.feeds[&id].phase(t0.plus(Duration::from_secs(15))),
        FeedPhase::InProgress
    );
    assert!(w.items.is_empty(), "nothing applied before processing");
    let done = t0.plus(Duration::from_secs(30));
    w.advance(done);
    let feed = &w.feeds[&id];
    assert_eq!(feed.phase(done), FeedPhase::Processed);
    let codes: Vec<Vec<&str>> = feed
        .outcomes
        .as_ref()
        .unwrap()
        .iter()
        .map(|o| o.errors.iter().map(|e| e.code).collect())
        .collect();
    assert_eq!(
        codes,
        vec![
            vec![],
            vec![codes::INVALID_PRODUCT_ID],
            vec![codes::NO_CATALOG_MATCH],
            vec![codes::MISSING_ATTRIBUTE]
        ]
    );
    assert_eq!(w.items["A"].published_status, "PUBLISHED");
    assert_eq!(w.prices["A"], Money::from_cents(999));
    assert_eq!(w.pending_feed_count(), 0);
}
