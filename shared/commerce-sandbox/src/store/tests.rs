use serde_json::json;

use super::*;
use ports::ManualClock;

fn store() -> Commerce {
    let clock = Arc::new(ManualClock::at(
        Timestamp::parse_commerce("2026-01-01 00:00:00").unwrap(),
    ));
    let mut s = Commerce::new(SandboxSettings::default().with_purchase_order(), clock);
    s.upsert_products(vec![ProductSeed {
        sku: "MUG-1".into(),
        price: Some(10.0),
        stock: [("default".to_owned(), 2.0), ("warehouse_east".to_owned(), 3.0)]
            .into_iter()
            .collect(),
        ..ProductSeed::default()
    }])
    .unwrap();
    s
}

fn place(s: &mut Commerce, qty: f64) -> u64 {
    let cart = s.create_cart("default", None, true).unwrap();
    s.add_cart_item(cart, "MUG-1", qty).unwrap();
    let address = json!({"firstname": "A", "lastname": "B", "street": ["1"], "city": "C", "postcode": "1",
        "country_id": "US", "telephone": "1", "email": "a@b.c"});
    s.set_shipping_information(cart, &json!({"shipping_address": address, "shipping_carrier_code": "flatrate", "shipping_method_code": "flatrate"})).unwrap();
    s.place_order(
        cart,
        Some(&json!({"method": "purchaseorder", "po_number": "1"})),
        true,
    )
    .unwrap()
}

#[test]
fn reservations_follow_placing_shipping_and_cancelling() {
    let mut s = store();
    assert_eq!(s.salable_quantity("MUG-1", 1), 5.0);
    let order = place(&mut s, 3.0);
    assert_eq!(s.salable_quantity("MUG-1", 1), 2.0, "placing reserves");
    assert_eq!(
        s.source_quantity("MUG-1", 1),
        5.0,
        "sources untouched until shipping"
    );
    s.ship(
        order,
        &[ShipLine {
            sku: Some("MUG-1".into()),
            order_item_id: None,
            qty: 2.0,
        }],
        &[],
    )
    .unwrap();
    assert_eq!(
        s.source_quantity("MUG-1", 1),
        3.0,
        "shipping deducts by source priority"
    );
    assert_eq!(
        s.source_items[&("MUG-1".to_owned(), "default".to_owned())].quantity,
        0.0
    );
    assert_eq!(
        s.salable_quantity("MUG-1", 1),
        2.0,
        "shipping compensates its reservation"
    );
    assert_eq!(s.order(order).unwrap().state, "processing");
    assert!(s.cancel(order).unwrap());
    assert_eq!(
        s.salable_quantity("MUG-1", 1),
        3.0,
        "cancelling compensates the rest"
    );
    assert_eq!(
        s.order(order).unwrap().state,
        "processing",
        "shipped but not invoiced"
    );
    s.invoice(order, &[]).unwrap();
    assert_eq!(s.order(order).unwrap().state, "complete");
    assert!(!s.cancel(order).unwrap());
    s.refund(order, RefundInput::default()).unwrap();
    assert_eq!(s.order(order).unwrap().state, "closed");
}

#[test]
fn a_fully_invoiced_order_cannot_be_cancelled() {
    let mut s = store();
    let order = place(&mut s, 1.0);
    s.invoice(order, &[]).unwrap();
    assert!(!s.cancel(order).unwrap());
    let other = place(&mut s, 1.0);
    assert!(s.cancel(other).unwrap());
    assert_eq!(s.order(other).unwrap().status.as_deref(), Some("canceled"));
}

/// Issue 34180: a comment without `status` leaves the order with a NULL status (and out of the
/// admin grid) unless the store has the AC-1342 fix.
#[test]
fn a_comment_without_status_leaves_the_order_status_null() {
    let mut s = store();
    let order = place(&mut s, 1.0);
    s.add_comment(order, "with status", Some("pending".into()), 0, 0)
        .unwrap();
    assert_eq!(s.order(order).unwrap().status.as_deref(), Some("pending"));
    s.add_comment(order, "without status", None, 0, 0).unwrap();
    assert_eq!(s.order(order).unwrap().status, None);
    let rendered = crate::render::order(s.order(order).unwrap());
    assert!(rendered.get("status").is_none(), "a NULL status is left out");

    s.settings.comment_keeps_status = true;
    let fixed = place(&mut s, 1.0);
    s.add_comment(fixed, "without status", None, 0, 0).unwrap();
    assert_eq!(s.order(fixed).unwrap().status.as_deref(), Some("pending"));
}

#[test]
fn generated_upcs_have_valid_check_digits() {
    for n in [0, 1, 99_999] {
        assert!(domain::Gtin::parse(&upc_for(n)).is_ok(), "{}", upc_for(n));
    }
}
