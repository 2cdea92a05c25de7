//! Orders through the cart flow against the sandbox: guest and customer carts, price differences,
//! reservations, finding an order again by its Walmart purchase order id, searches, comments,
//! invoices and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use commerce_client::wire::lenient::Number;
use commerce_client::{CommerceError, OrderFilter, OrderLookup, OrderPlacement};
use commerce_sandbox::{Customer, SandboxSettings, ShipLine, TrackInput};
use common::*;
use domain::{CommerceOrderId, CustomerMapping, Money, PurchaseOrderId};

fn guest() -> OrderPlacement {
    OrderPlacement {
        customer: CustomerMapping::Guest,
        carrier_method: "flatrate_flatrate".into(),
        payment_method: "purchaseorder".into(),
    }
}

#[tokio::test]
async fn guest_order_through_the_cart_flow_records_prices_and_reserves_stock() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0), product("CUP-1", 5.0, 4.0, 0.0)])
        .await
        .unwrap();
    // Walmart sells MUG-1 at 10.00 (catalog 12.00) over two lines, CUP-1 at the catalog price.
    let po = purchase_order(
        "1796277083022",
        "buyer-1@relay.walmart.com",
        start_time(),
        vec![
            walmart_line(1, "MUG-1", 1, 1000),
            walmart_line(2, "CUP-1", 2, 500),
            walmart_line(3, "MUG-1", 1, 1000),
        ],
    );
    let placed = h
        .client
        .create_order_for(&po, &guest(), &deadline())
        .await
        .unwrap();
    assert!(!placed.recovered);
    assert_eq!(placed.increment_id.as_str(), "000000001");
    let differences: Vec<_> = placed
        .price_differences()
        .map(|l| (l.line.0, l.commerce_unit_price))
        .collect();
    assert_eq!(
        differences,
        [
            (1, Some(Money::from_cents(1200))),
            (3, Some(Money::from_cents(1200)))
        ]
    );

    let order = h.client.get_order(placed.order_id, &deadline()).await.unwrap();
    assert_eq!((order.state.as_str(), order.status.as_str()), ("new", "pending"));
    assert_eq!(order.customer_email, "buyer-1@relay.walmart.com");
    assert_eq!(order.customer_is_guest, Some(1));
    assert_eq!(order.po_number(), Some("1796277083022"));
    assert_eq!(order.items.len(), 2, "one cart item per SKU");
    assert_eq!(
        order.grand_total,
        Some(2.0 * 12.0 + 2.0 * 5.0 + 4.0 * 5.0),
        "catalog prices plus flat rate per unit"
    );
    let comment = &order.status_histories[0].comment;
    assert!(
        comment.contains("Walmart purchase order 1796277083022"),
        "{comment}"
    );
    assert!(
        comment.contains("line 1 (MUG-1): Walmart 10.00 per unit, Commerce 12.00 per unit"),
        "{comment}"
    );

    assert_eq!(
        control.salable("MUG-1", 1).await.unwrap(),
        (5.0, 3.0),
        "placing reserves, sources untouched"
    );
    assert_eq!(control.salable("CUP-1", 1).await.unwrap(), (4.0, 2.0));
    let reservations = control.reservations().await.unwrap();
    assert_eq!(reservations.len(), 2);
    assert!(
        reservations[0]["metadata"]
            .as_str()
            .unwrap()
            .contains("order_placed")
    );

    // Shipping deducts the sources and compensates the reservation.
    control
        .ship(
            placed.order_id.0,
            vec![ShipLine {
                sku: Some("MUG-1".into()),
                order_item_id: None,
                qty: 2.0,
            }],
            TrackInput {
                carrier_code: "ups".into(),
                title: "UPS".into(),
                number: "1Z999".into(),
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(control.salable("MUG-1", 1).await.unwrap(), (3.0, 3.0));
}

#[tokio::test]
async fn an_order_is_found_again_by_its_purchase_order_id() {
    let h = start(SandboxSettings::default()).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 9.0, 0.0)])
        .await
        .unwrap();
    let email = "buyer-2@relay.walmart.com";
    let first = purchase_order(
        "1000000000001",
        email,
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1200)],
    );
    let second = purchase_order(
        "1000000000002",
        email,
        start_time(),
        vec![walmart_line(1, "MUG-1", 2, 1200)],
    );
    let placed_first = h
        .client
        .create_order_for(&first, &guest(), &deadline())
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(30));
    let placed_second = h
        .client
        .create_order_for(&second, &guest(), &deadline())
        .await
        .unwrap();
    assert!(placed_second.price_differences().next().is_none());

    let lookup = OrderLookup::for_purchase_order(&first, &guest());
    let found = h
        .client
        .find_order_for_purchase_order(&first.id, &lookup, &deadline())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.entity_id,
        Some(placed_first.order_id.0),
        "same buyer, confirmed by po_number"
    );
    let missing = PurchaseOrderId::new("1000000000003").unwrap();
    assert!(
        h.client
            .find_order_for_purchase_order(&missing, &lookup, &deadline())
            .await
            .unwrap()
            .is_none()
    );
    // Orders created before the window are not candidates.
    let late = OrderLookup {
        created_after: start_time().plus(Duration::from_secs(3600)),
        ..lookup
    };
    assert!(
        h.client
            .find_order_for_purchase_order(&second.id, &late, &deadline())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_placement_answer_lost_after_commit_is_recovered_without_a_second_order() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 9.0, 0.0)])
        .await
        .unwrap();
    control.lose_next_placement_answers(1).await.unwrap();
    let po = purchase_order(
        "1000000000009",
        "buyer-9@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1000)],
    );
    let placed = h
        .client
        .create_order_for(&po, &guest(), &deadline())
        .await
        .unwrap();
    assert!(
        placed.recovered,
        "503 after commit, then 404 for the inactive cart, then found by PO number"
    );
    assert_eq!(control.orders().await.unwrap().len(), 1, "exactly one order");
    let statuses: Vec<u16> = h
        .sandbox
        .recorder()
        .snapshot()
        .iter()
        .filter(|e| e.method == "PUT")
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, [503, 404]);
    let order = h.client.get_order(placed.order_id, &deadline()).await.unwrap();
    assert_eq!(
        order.status_histories.len(),
        1,
        "the creation comment is still written once"
    );
    assert!(placed.price_differences().next().is_some());
}

#[tokio::test]
async fn customer_orders_reuse_and_clear_the_customers_cart() {
    let h = start(bearer_allowed()).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 9.0, 0.0), product("CUP-1", 5.0, 9.0, 0.0)])
        .await
        .unwrap();
    control
        .add_customer(&Customer {
            id: 7,
            email: "walmart@example.com".into(),
            firstname: "Walmart".into(),
            lastname: "Buyer".into(),
        })
        .await
        .unwrap();
    // A crashed attempt left CUP-1 in the customer's active cart, through the raw API.
    let http = reqwest::Client::new();
    let token = commerce_sandbox::OAuthCredentials::sandbox().access_token;
    let base = format!("{}/rest/default/V1", h.sandbox.base_url());
    let Number(cart): Number<u64> = http
        .post(format!("{base}/customers/7/carts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let added = http
        .post(format!("{base}/carts/{cart}/items"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "cartItem": { "sku": "CUP-1", "qty": 1, "quote_id": cart.to_string() } }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);

    let placement = OrderPlacement {
        customer: CustomerMapping::Customer { customer_id: 7 },
        ..guest()
    };
    let po = purchase_order(
        "2000000000001",
        "buyer@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1200)],
    );
    let placed = h
        .client
        .create_order_for(&po, &placement, &deadline())
        .await
        .unwrap();
    let order = h.client.get_order(placed.order_id, &deadline()).await.unwrap();
    assert_eq!(
        order.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(),
        ["MUG-1"],
        "stale item removed"
    );
    assert_eq!(order.customer_id, Some(7));
    assert_eq!(
        order.quote_id,
        Some(cart),
        "the customer's active cart was reused"
    );
    let lookup = OrderLookup::for_purchase_order(&po, &placement);
    let found = h
        .client
        .find_order_for_purchase_order(&po.id, &lookup, &deadline())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.entity_id, Some(placed.order_id.0));
}

#[tokio::test]
async fn orders_search_comments_invoices_and_cancellation() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 9.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let mut ids = Vec::new();
    for n in 1..=3 {
        let po = purchase_order(
            &format!("300000000000{n}"),
            &format!("b{n}@relay.walmart.com"),
            start_time(),
            vec![walmart_line(1, "MUG-1", 1, 1200)],
        );
        ids.push(
            h.client
                .create_order_for(&po, &guest(), &d)
                .await
                .unwrap()
                .order_id,
        );
        h.clock.advance(Duration::from_secs(60));
    }
    // Cancel the first: it answers true, the order is canceled and its reservation compensated.
    let salable_before = control.salable("MUG-1", 1).await.unwrap().1;
    assert!(h.client.cancel_order(ids[0], &d).await.unwrap());
    assert_eq!(control.salable("MUG-1", 1).await.unwrap().1, salable_before + 1.0);
    // Invoice the second in full: it can no longer be cancelled.
    let invoice_id = h.client.invoice_order(ids[1], &[], &d).await.unwrap();
    assert!(invoice_id > 0);
    assert!(
        !h.client.cancel_order(ids[1], &d).await.unwrap(),
        "fully invoiced orders cannot be cancelled"
    );
    let err = h.client.cancel_order_or_fail(ids[1], &d).await.unwrap_err();
    assert!(matches!(err, CommerceError::CannotCancel { order_id } if order_id == ids[1].0));
    h.clock.advance(Duration::from_secs(60));
    h.client
        .add_order_comment(ids[2], "Walmart asked to hold the order", &d)
        .await
        .unwrap();

    // Cancelled and invoiced at +180 s; commented at +240 s.
    let since = start_time().plus(Duration::from_secs(210));
    let changed = h
        .client
        .orders_updated_since(since, &OrderFilter::default())
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(
        changed.iter().map(|o| o.entity_id.unwrap()).collect::<Vec<_>>(),
        [ids[2].0],
        "only the comment moved it since"
    );
    let canceled = h
        .client
        .orders_updated_since(
            start_time(),
            &OrderFilter {
                states: vec!["canceled".into()],
                statuses: vec![],
            },
        )
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(canceled.len(), 1);
    assert_eq!(canceled[0].status, "canceled");
    let processing = h
        .client
        .orders_updated_since(
            start_time(),
            &OrderFilter {
                states: vec![],
                statuses: vec!["processing".into(), "pending".into()],
            },
        )
        .collect_all(&d)
        .await
        .unwrap();
    assert_eq!(processing.len(), 2);
    let third = h.client.get_order(ids[2], &d).await.unwrap();
    assert_eq!(
        third.status_histories[0].comment, "Walmart asked to hold the order",
        "newest first"
    );

    // Unknown orders are typed NotFound with Magento's message.
    let err = h
        .client
        .get_order(CommerceOrderId(999_999), &d)
        .await
        .unwrap_err();
    assert!(matches!(err, CommerceError::NotFound { .. }), "{err}");
}

/// Fact 5 (issue 12): a comment is always sent with the order's current status, so the order keeps
/// it (a Magento without the AC-1342 fix sets it to NULL otherwise, magento/magento2#34180) and
/// stays in the admin grid; an order already left NULL gets its state's default status back.
#[tokio::test]
async fn comments_carry_the_order_status_so_it_is_never_wiped() {
    let h = start(SandboxSettings::default()).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 9.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let po = purchase_order(
        "3000000000077",
        "b77@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1200)],
    );
    let placed = h.client.create_order_for(&po, &guest(), &d).await.unwrap();
    h.client
        .add_order_comment(placed.order_id, "Walmart asked to hold the order", &d)
        .await
        .unwrap();
    let order = h.client.get_order(placed.order_id, &d).await.unwrap();
    assert_eq!(
        order.status, "pending",
        "the creation comment and this one kept it"
    );
    assert!(
        order
            .status_histories
            .iter()
            .all(|history| history.status.as_deref() == Some("pending")),
        "{:?}",
        order.status_histories
    );
    let grid = control.orders().await.unwrap();
    assert_eq!(grid.len(), 1, "the order is still in the admin grid");
    let comments: Vec<_> = h
        .sandbox
        .recorder()
        .snapshot()
        .into_iter()
        .filter(|exchange| exchange.path.ends_with("/comments"))
        .collect();
    assert_eq!(comments.len(), 2);
    for exchange in comments {
        let body = exchange.request_body.unwrap();
        assert_eq!(body["statusHistory"]["status"], "pending");
    }
}

/// Fact 6 (issue 12): the ids Magento returns for freshly saved entities are PHP strings (`"123"`
/// where the schema says integer); the client reads them all the same.
#[tokio::test]
async fn ids_magento_prints_as_strings_are_read_as_ids() {
    let h = start(SandboxSettings::default()).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 9.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let po = purchase_order(
        "3000000000088",
        "b88@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1200)],
    );
    let placed = h.client.create_order_for(&po, &guest(), &d).await.unwrap();
    let invoice_id = h.client.invoice_order(placed.order_id, &[], &d).await.unwrap();
    assert!(invoice_id > 0);
    let exchanges = h.sandbox.recorder().snapshot();
    let answer = |suffix: &str| {
        exchanges
            .iter()
            .find(|e| e.path.ends_with(suffix) && e.status == 200)
            .and_then(|e| e.response_body.clone())
            .unwrap()
    };
    assert_eq!(answer("/order"), serde_json::json!(placed.order_id.0.to_string()));
    assert_eq!(answer("/invoice"), serde_json::json!(invoice_id.to_string()));
}

#[tokio::test]
async fn unavailable_stock_and_bad_methods_are_validation_errors() {
    let h = start(SandboxSettings::default()).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 1.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let too_many = purchase_order(
        "4000000000001",
        "x@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 5, 1200)],
    );
    let err = h
        .client
        .create_order_for(&too_many, &guest(), &d)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CommerceError::Validation { message, .. } if message == "The requested qty is not available"),
        "{err}"
    );
    let unknown = purchase_order(
        "4000000000002",
        "x@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "GHOST", 1, 1200)],
    );
    let err = h
        .client
        .create_order_for(&unknown, &guest(), &d)
        .await
        .unwrap_err();
    assert!(matches!(err, CommerceError::NotFound { .. }), "{err}");
    let bad_carrier = OrderPlacement {
        carrier_method: "nocarrier_none".into(),
        ..guest()
    };
    let ok_qty = purchase_order(
        "4000000000003",
        "x@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1200)],
    );
    let err = h
        .client
        .create_order_for(&ok_qty, &bad_carrier, &d)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Carrier with such method not found: nocarrier, none"),
        "{err}"
    );
    assert_eq!(h.sandbox.control().orders().await.unwrap().len(), 0);
}

/// Issue 12, fact 8: Magento ships "Purchase Order" switched off, and only that method stores
/// `po_number`. Placing an order then fails as a configuration error that names the remedy, and
/// no order is placed.
#[tokio::test]
async fn a_disabled_payment_method_is_a_configuration_error_before_any_order_is_placed() {
    let h = start_as_configured(SandboxSettings::default(), |_| {}).await;
    let control = h.sandbox.control();
    control
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    let po = purchase_order(
        "1796277083099",
        "buyer-9@relay.walmart.com",
        start_time(),
        vec![walmart_line(1, "MUG-1", 1, 1200)],
    );
    let err = h
        .client
        .create_order_for(&po, &guest(), &deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CommerceError::Configuration(m)
            if m.contains("payment method \"purchaseorder\" is not available") && m.contains("checkmo")),
        "{err}"
    );
    assert_eq!(
        ports::ApiError::from(err).kind,
        ports::ApiErrorKind::Configuration
    );
    assert!(control.orders().await.unwrap().is_empty());

    // The merchant switches it on: the same order goes through.
    control
        .change_store_config(&commerce_sandbox::StoreConfigChange {
            enable_payment_methods: vec!["purchaseorder".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let placed = h
        .client
        .create_order_for(&po, &guest(), &deadline())
        .await
        .unwrap();
    assert!(!placed.recovered);
}

/// Fact 9 (issue 12): comments, invoices and cancellations have no idempotency key in Magento, so
/// the client sends each once. With its answer lost after Magento applied it (a 504), a comment
/// or a cancellation is settled by reading the order; an invoice's error goes to the caller, who
/// reads the invoiced quantities. Each reached Magento once.
#[tokio::test]
async fn calls_magento_cannot_repeat_are_sent_once_and_settled_by_reading_the_order() {
    use sandbox_kit::FaultPlan;
    let h = start(SandboxSettings::default()).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 5.0, 0.0)])
        .await
        .unwrap();
    let d = deadline();
    let place = |id: &'static str| {
        purchase_order(
            id,
            "buyer-9@relay.walmart.com",
            start_time(),
            vec![walmart_line(1, "MUG-1", 2, 1200)],
        )
    };
    let invoiced = h
        .client
        .create_order_for(&place("1796277083091"), &guest(), &d)
        .await
        .unwrap()
        .order_id;
    let cancelled = h
        .client
        .create_order_for(&place("1796277083092"), &guest(), &d)
        .await
        .unwrap()
        .order_id;
    let lose_next = || {
        h.sandbox.faults().set(FaultPlan {
            lose_next: 1,
            ..FaultPlan::default()
        })
    };
    let sent = |suffix: &str| {
        h.sandbox
            .recorder()
            .snapshot()
            .iter()
            .filter(|e| e.method == "POST" && e.path.ends_with(suffix))
            .count()
    };

    lose_next();
    h.client
        .add_order_comment(invoiced, "packed at the warehouse", &d)
        .await
        .unwrap();
    let order = h.client.get_order(invoiced, &d).await.unwrap();
    let notes = order
        .status_histories
        .iter()
        .filter(|c| c.comment == "packed at the warehouse")
        .count();
    assert_eq!(
        (notes, sent("/comments")),
        (1, 1 + 2),
        "two creation comments before"
    );

    lose_next();
    let err = h.client.invoice_order(invoiced, &[], &d).await.unwrap_err();
    assert!(matches!(err, CommerceError::Server { status: 504, .. }), "{err}");
    let order = h.client.get_order(invoiced, &d).await.unwrap();
    assert_eq!(order.items[0].qty_invoiced, Some(2.0), "the invoice landed once");
    assert_eq!(sent("/invoice"), 1);

    lose_next();
    assert!(h.client.cancel_order(cancelled, &d).await.unwrap());
    assert_eq!(h.client.get_order(cancelled, &d).await.unwrap().state, "canceled");
    assert_eq!(sent("/cancel"), 1);
}
