//! Sample records for tests of the crates above the domain (feature `fixtures`), so each test module
//! does not build its own purchase order by hand.
#![allow(clippy::expect_used)]

use crate::{
    ChannelId, CommerceOrderId, CommerceOrderLink, CustomerOrderId, IncrementId, LineNumber, MethodCode,
    Money, OrderLine, OrderRecord, PurchaseOrder, PurchaseOrderId, ShipTo, Sku, Timestamp, WalmartLineStatus,
};

/// The purchase order id every fixture uses.
pub const PURCHASE_ORDER_ID: &str = "1796000000001";

/// A purchase order with `lines` as (line number, sku, quantity), each unit at `unit_cents`, all in
/// `status`, shipped by `method`.
pub fn purchase_order(
    lines: &[(u32, &str, u32)],
    unit_cents: i64,
    status: WalmartLineStatus,
    method: &str,
) -> PurchaseOrder {
    PurchaseOrder {
        id: PurchaseOrderId::new(PURCHASE_ORDER_ID).expect("valid id"),
        customer_order_id: CustomerOrderId::new("5400000000001").expect("valid id"),
        order_date: Timestamp::from_millis(0),
        method_code: MethodCode::new(method).expect("valid method"),
        ship_to: ShipTo {
            name: "A B".into(),
            address1: "1 St".into(),
            address2: None,
            city: "C".into(),
            state: "AR".into(),
            postal_code: "72716".into(),
            country: "USA".into(),
            phone: None,
            email: None,
        },
        lines: lines
            .iter()
            .map(|(n, sku, qty)| OrderLine {
                number: LineNumber(*n),
                sku: Sku::new(*sku).expect("valid sku"),
                product_name: (*sku).into(),
                quantity: *qty,
                unit_price: Money::from_cents(unit_cents),
                tax: Money::ZERO,
                shipping: Money::ZERO,
                status,
            })
            .collect(),
    }
}

/// The dashboard record of `order` on channel `main`, created in Commerce as order 9
/// (`000000009`), with each line linked to the Commerce order item in `item_ids` (line, item id).
pub fn created_record(order: PurchaseOrder, item_ids: &[(u32, u64)]) -> OrderRecord {
    let now = Timestamp::from_millis(1);
    let mut r = OrderRecord::import(ChannelId::new("main").expect("valid id"), order, now);
    r.created(
        CommerceOrderLink {
            order_id: CommerceOrderId(9),
            increment_id: IncrementId::new("000000009").expect("valid id"),
        },
        now,
    )
    .expect("a new record can be created");
    for (line, item) in item_ids {
        r.link_line(LineNumber(*line), Some(*item), None, now)
            .expect("line exists");
    }
    r
}
