//! What must hold once the channel has settled, whatever the scenario did: the promises of the
//! channel, checked against both sandboxes' state rather than against the channel's own records.

use std::collections::BTreeMap;

use serde::Serialize;
use walmart_sandbox::CancelledBy;

use crate::evidence::Evidence;

/// One invariant and how it fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvariantCheck {
    pub name: &'static str,
    /// How many things were checked.
    pub checked: usize,
    /// What broke it, one line each.
    pub broken: Vec<String>,
}

impl InvariantCheck {
    pub fn holds(&self) -> bool {
        self.broken.is_empty()
    }
}

/// Every invariant, in the order the summary prints them.
pub fn check(e: &Evidence) -> Vec<InvariantCheck> {
    vec![
        orders_exactly_once(e),
        quantities_match(e),
        prices_match(e),
        shipments_on_walmart(e),
        refunds_on_walmart(e),
        cancellations_reflected(e),
    ]
}

/// Every Walmart order has exactly one Commerce order (by `payment.po_number`), and every Commerce
/// order with a purchase order id belongs to a Walmart order.
pub fn orders_exactly_once(e: &Evidence) -> InvariantCheck {
    let mut broken = Vec::new();
    for order in &e.journal.orders {
        let po = &order.purchase_order_id;
        let found = e.commerce.orders_for(po);
        match found.len() {
            1 => {}
            0 => broken.push(format!("PO {po}: no Commerce order")),
            n => broken.push(format!(
                "PO {po}: {n} Commerce orders ({})",
                found
                    .iter()
                    .map(|o| format!("#{}", o.increment_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    for order in &e.commerce.orders {
        if let Some(po) = order.po_number()
            && e.journal.order(po).is_none()
        {
            broken.push(format!(
                "Commerce order #{} carries PO {po}, which no buyer placed",
                order.increment_id
            ));
        }
    }
    InvariantCheck {
        name: "every Walmart order has exactly one Commerce order",
        checked: e.journal.orders.len(),
        broken,
    }
}

/// Every item live on Walmart (by Walmart's own records) shows exactly the quantity the channel's
/// inventory rules give for the product's salable quantity in Commerce: no more (overselling) and no
/// less (a missing or zero quantity is lost sales, and would hide a channel that stopped syncing).
pub fn quantities_match(e: &Evidence) -> InvariantCheck {
    let rules = &e.settings.inventory;
    let mut broken = Vec::new();
    let mut checked = 0;
    for item in e.walmart.live_items() {
        let sku = item.sku.as_str();
        checked += 1;
        let (Some(product), Some(salable)) = (e.commerce.products.get(sku), e.commerce.salable.get(sku))
        else {
            broken.push(format!(
                "{sku}: live on Walmart, but Commerce has no such product"
            ));
            continue;
        };
        let wanted = rules.advertised_for_product(product.is_enabled(), *salable);
        match e.walmart.inventory.get(sku) {
            Some(shown) if *shown == wanted => {}
            Some(shown) => broken.push(format!(
                "{sku}: Walmart shows {shown}, the rules give {wanted} (Commerce can sell {salable}{})",
                if product.is_enabled() {
                    ""
                } else {
                    ", product disabled"
                }
            )),
            None => broken.push(format!(
                "{sku}: Walmart shows no quantity, the rules give {wanted} (Commerce can sell {salable})"
            )),
        }
    }
    InvariantCheck {
        name: "every live Walmart item shows the quantity the rules give Commerce's salable quantity",
        checked,
        broken,
    }
}

/// Every item live on Walmart (by Walmart's own records) shows exactly the price the channel's price
/// rules give for the product's price (and special price) in Commerce.
pub fn prices_match(e: &Evidence) -> InvariantCheck {
    let mut broken = Vec::new();
    let zone = match domain::StoreTimeZone::named(&e.commerce.timezone) {
        Ok(zone) => zone,
        Err(_) if e.commerce.timezone.is_empty() => domain::StoreTimeZone::utc(),
        Err(unknown) => {
            broken.push(format!("the store's time zone: {unknown}"));
            domain::StoreTimeZone::utc()
        }
    };
    let mut checked = 0;
    for item in e.walmart.live_items() {
        let sku = item.sku.as_str();
        checked += 1;
        let Some(product) = e.commerce.products.get(sku) else {
            broken.push(format!(
                "{sku}: live on Walmart, but Commerce has no such product"
            ));
            continue;
        };
        let Some(base) = product.price_money() else {
            broken.push(format!(
                "{sku}: live on Walmart, but the product has no price in Commerce"
            ));
            continue;
        };
        let wanted = e
            .settings
            .pricing
            .walmart_price(base, product.special_price(&zone), e.at);
        match e.walmart.prices.get(sku) {
            Some(shown) if *shown == wanted => {}
            Some(shown) => broken.push(format!(
                "{sku}: Walmart shows {shown}, the rules give {wanted} (Commerce price {base})"
            )),
            None => broken.push(format!(
                "{sku}: Walmart shows no price, the rules give {wanted} (Commerce price {base})"
            )),
        }
    }
    InvariantCheck {
        name: "every live Walmart item shows the price the rules give Commerce's price",
        checked,
        broken,
    }
}

/// Every Commerce shipment of a Walmart order is on Walmart: its tracking number, and per SKU the
/// same shipped quantity.
pub fn shipments_on_walmart(e: &Evidence) -> InvariantCheck {
    let mut broken = Vec::new();
    let mut checked = 0;
    // (po, sku) -> (shipped in Commerce, shipped on Walmart)
    let mut quantities: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for shipment in &e.commerce.shipments {
        let Some(po) = e.commerce.order(shipment.order_id).and_then(|o| o.po_number()) else {
            continue;
        };
        checked += 1;
        for track in &shipment.tracks {
            let on_walmart = e
                .walmart
                .received
                .shipments
                .iter()
                .any(|s| s.purchase_order_id == po && s.tracking_number == track.track_number);
            if !on_walmart {
                broken.push(format!(
                    "PO {po}: Commerce shipment #{} tracking {} is not on Walmart",
                    shipment.increment_id, track.track_number
                ));
            }
        }
        for item in &shipment.items {
            let sku = item.sku.clone().unwrap_or_default();
            quantities.entry((po.to_owned(), sku)).or_default().0 += item.qty.round() as u64;
        }
    }
    for s in &e.walmart.received.shipments {
        let Some(order) = e.journal.order(&s.purchase_order_id) else {
            continue;
        };
        let sku = order.sku_of_line(s.line).unwrap_or_default().to_owned();
        quantities
            .entry((s.purchase_order_id.clone(), sku))
            .or_default()
            .1 += u64::from(s.quantity);
    }
    for ((po, sku), (commerce, walmart)) in quantities {
        if commerce != walmart {
            broken.push(format!(
                "PO {po} {sku}: {commerce} shipped in Commerce, {walmart} shipped on Walmart"
            ));
        }
    }
    InvariantCheck {
        name: "every Commerce shipment is on Walmart with its tracking",
        checked,
        broken,
    }
}

/// Every credit memo the merchant made for a returned line is refunded on Walmart.
pub fn refunds_on_walmart(e: &Evidence) -> InvariantCheck {
    let mut broken = Vec::new();
    for refund in &e.journal.refunds {
        let po = &refund.purchase_order_id;
        let return_refunded = e
            .walmart
            .received
            .return_refunds
            .iter()
            .any(|r| r.return_order_id == refund.return_order_id);
        let lines: Vec<u32> = e
            .journal
            .returns
            .iter()
            .filter(|r| r.return_order_id == refund.return_order_id)
            .flat_map(|r| r.lines.iter().map(|(line, _)| *line))
            .collect();
        let order_refunded = !lines.is_empty()
            && lines.iter().all(|line| {
                e.walmart
                    .received
                    .refunds
                    .iter()
                    .any(|r| &r.purchase_order_id == po && r.line == *line)
            });
        if !(return_refunded || order_refunded) {
            broken.push(format!(
                "PO {po}: credit memo {} for return {} is not refunded on Walmart",
                refund.credit_memo_id, refund.return_order_id
            ));
        }
    }
    InvariantCheck {
        name: "every credit memo for a returned line is refunded on Walmart",
        checked: e.journal.refunds.len(),
        broken,
    }
}

/// Cancellations reach the other side: an order cancelled in Commerce is cancelled on Walmart (every
/// unit), and an order the buyer cancelled on Walmart is reflected in Commerce (the order cancelled,
/// or a comment on it saying it could not be), both read from the sandboxes.
pub fn cancellations_reflected(e: &Evidence) -> InvariantCheck {
    let mut broken = Vec::new();
    let mut checked = 0;
    for cancel in e.journal.merchant_cancellations.iter().filter(|c| c.canceled) {
        checked += 1;
        let po = &cancel.purchase_order_id;
        let ordered: u32 = e
            .journal
            .order(po)
            .map_or(0, |o| o.lines.iter().map(|l| l.quantity).sum());
        let cancelled: u32 = e
            .walmart
            .received
            .cancellations
            .iter()
            .filter(|c| &c.purchase_order_id == po && c.by == CancelledBy::Seller)
            .map(|c| c.quantity)
            .sum();
        if cancelled < ordered {
            broken.push(format!(
                "PO {po}: cancelled in Commerce, {cancelled} of {ordered} units cancelled on Walmart"
            ));
        }
    }
    for cancel in &e.journal.buyer_cancellations {
        checked += 1;
        let po = &cancel.purchase_order_id;
        let orders = e.commerce.orders_for(po);
        // Commerce cancels whole orders only: the order is cancelled, or (when Commerce refused) it
        // carries the channel's comment telling the merchant not to ship, in Commerce's own history.
        let reflected = orders.iter().any(|o| {
            o.state == "canceled"
                || o.status_histories.iter().any(|h| {
                    h.comment.starts_with(&format!("Walmart purchase order {po}:"))
                        && h.comment.contains("cancelled on Walmart")
                })
        });
        if !reflected {
            broken.push(format!(
                "PO {po}: cancelled by the buyer on Walmart, Commerce {}",
                match orders.first() {
                    Some(o) => format!(
                        "order #{} is {:?} with no cancellation noted",
                        o.increment_id, o.state
                    ),
                    None => "has no order".to_owned(),
                }
            ));
        }
    }
    InvariantCheck {
        name: "every cancellation reaches the other side",
        checked,
        broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{ChannelRecords, CommerceEvidence, WalmartEvidence, WalmartItem};
    use crate::scenario::{
        BuyerCancelled, Journal, MerchantCancelled, OrderPlaced, PlacedLine, RefundMade, ReturnOpened, Story,
    };
    use commerce_client::wire::{Order, OrderPayment, Product, Shipment, ShipmentItem, ShipmentTrack};
    use domain::{ChannelId, ChannelSettings, Money, Timestamp};
    use walmart_sandbox::{CancellationRecord, ReturnRefundRecord, ShipmentRecord};

    const T: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn placed(po: &str, lines: &[(&str, u32)]) -> OrderPlaced {
        OrderPlaced {
            purchase_order_id: po.into(),
            customer_order_id: format!("C{po}"),
            story: Story::Ship,
            lines: lines
                .iter()
                .zip(1u32..)
                .map(|((sku, quantity), line)| PlacedLine {
                    line,
                    sku: (*sku).into(),
                    quantity: *quantity,
                    unit_price: Money::from_cents(1999),
                })
                .collect(),
            at: T,
        }
    }

    fn commerce_order(id: u64, po: &str, state: &str) -> Order {
        Order {
            entity_id: Some(id),
            increment_id: format!("00000{id}"),
            state: state.into(),
            payment: Some(OrderPayment {
                method: "purchaseorder".into(),
                po_number: Some(po.into()),
            }),
            ..Order::default()
        }
    }

    fn evidence(journal: Journal) -> Evidence {
        Evidence {
            settings: ChannelSettings::with_defaults(ChannelId::new("demo").unwrap()),
            at: T,
            journal,
            records: ChannelRecords::default(),
            listing_written_at: Default::default(),
            walmart: WalmartEvidence::default(),
            commerce: CommerceEvidence::default(),
        }
    }

    fn walmart_shipment(po: &str, line: u32, quantity: u32, tracking: &str) -> ShipmentRecord {
        ShipmentRecord {
            purchase_order_id: po.into(),
            line,
            quantity,
            seller_order_id: "1".into(),
            tracking_number: tracking.into(),
            carrier: Some("UPS".into()),
            other_carrier: None,
            tracking_url: None,
            method_code: "Standard".into(),
            ship_date_time: 0,
            at: T,
        }
    }

    #[test]
    fn missing_duplicated_and_stray_commerce_orders_break_exactly_once() {
        let mut e = evidence(Journal {
            orders: vec![
                placed("1", &[("A", 1)]),
                placed("2", &[("A", 1)]),
                placed("3", &[("A", 1)]),
            ],
            ..Journal::default()
        });
        e.commerce.orders = vec![
            commerce_order(10, "1", "new"),
            commerce_order(11, "2", "new"),
            commerce_order(12, "2", "new"),
            commerce_order(13, "9", "new"),
        ];
        let check = orders_exactly_once(&e);
        assert_eq!(check.checked, 3);
        assert_eq!(check.broken.len(), 3, "{:?}", check.broken);
        assert!(check.broken[0].contains("PO 2: 2 Commerce orders"));
        assert!(check.broken[1].contains("PO 3: no Commerce order"));
        assert!(check.broken[2].contains("PO 9, which no buyer placed"));
        e.commerce.orders.truncate(2);
        e.commerce.orders.push(commerce_order(14, "3", "new"));
        assert!(orders_exactly_once(&e).holds());
    }

    fn product(sku: &str, cents: i64, enabled: bool) -> Product {
        Product {
            sku: sku.into(),
            price: Some(Money::from_cents(cents).to_decimal()),
            status: Some(if enabled { 1 } else { 2 }),
            ..Product::default()
        }
    }

    fn walmart_item(sku: &str, live: bool) -> WalmartItem {
        WalmartItem {
            sku: sku.into(),
            published_status: if live { "PUBLISHED" } else { "STAGE" }.into(),
            lifecycle_status: "ACTIVE".into(),
        }
    }

    /// Walmart's records of A, B and C (live) and D (not published), with Commerce agreeing: A sells
    /// 5 at 19.99, B 5.5 at 9.99 (disabled), C nothing at 4.00.
    fn in_step() -> Evidence {
        let mut e = evidence(Journal::default());
        e.walmart.items = vec![
            walmart_item("A", true),
            walmart_item("B", true),
            walmart_item("C", true),
            walmart_item("D", false),
        ];
        e.walmart.inventory = [
            ("A".into(), 5),
            ("B".into(), 0),
            ("C".into(), 0),
            ("D".into(), 99),
        ]
        .into();
        e.walmart.prices = [
            ("A".into(), Money::from_cents(1999)),
            ("B".into(), Money::from_cents(999)),
            ("C".into(), Money::from_cents(400)),
        ]
        .into();
        e.commerce.salable = [("A".into(), 5.0), ("B".into(), 5.5), ("C".into(), 0.0)].into();
        e.commerce.products = [
            ("A".into(), product("A", 1999, true)),
            ("B".into(), product("B", 999, false)),
            ("C".into(), product("C", 400, true)),
        ]
        .into();
        e
    }

    #[test]
    fn walmart_in_step_with_commerce_holds() {
        let e = in_step();
        let quantities = quantities_match(&e);
        assert_eq!(quantities.checked, 3, "only live items, from Walmart's records");
        assert!(quantities.holds(), "{:?}", quantities.broken);
        assert!(prices_match(&e).holds(), "{:?}", prices_match(&e).broken);
    }

    #[test]
    fn walmart_showing_zero_for_every_item_breaks_the_quantity_invariant() {
        let mut e = in_step();
        for quantity in e.walmart.inventory.values_mut() {
            *quantity = 0;
        }
        let check = quantities_match(&e);
        assert_eq!(
            check.broken,
            vec!["A: Walmart shows 0, the rules give 5 (Commerce can sell 5)".to_owned()]
        );
        // No quantity at all is no better than zero.
        e.walmart.inventory.clear();
        assert_eq!(quantities_match(&e).broken.len(), 3);
    }

    #[test]
    fn more_than_the_rules_give_is_overselling() {
        let mut e = in_step();
        e.walmart.inventory.insert("A".into(), 6);
        assert_eq!(quantities_match(&e).broken.len(), 1);
        // The channel's rules count: with a safety buffer of one, 5 of 5 is too many.
        let mut e = in_step();
        e.settings.inventory.safety_buffer = 1;
        let check = quantities_match(&e);
        assert_eq!(
            check.broken,
            vec!["A: Walmart shows 5, the rules give 4 (Commerce can sell 5)".to_owned()]
        );
        // A live item Commerce does not know is broken, not skipped.
        let mut e = in_step();
        e.commerce.products.remove("C");
        e.commerce.salable.remove("C");
        assert_eq!(quantities_match(&e).broken.len(), 1);
        assert_eq!(prices_match(&e).broken.len(), 1);
    }

    #[test]
    fn a_stale_or_missing_price_breaks_the_price_invariant() {
        let mut e = in_step();
        // The merchant changed A's price; Walmart still shows the old one.
        e.commerce.products.insert("A".into(), product("A", 2499, true));
        let check = prices_match(&e);
        assert_eq!(
            check.broken,
            vec!["A: Walmart shows 19.99, the rules give 24.99 (Commerce price 24.99)".to_owned()],
        );
        e.walmart.prices.remove("C");
        assert_eq!(prices_match(&e).broken.len(), 2);
        // The rules count: a 10% markup makes every price on Walmart stale.
        let mut e = in_step();
        e.settings.pricing.adjustment_percent = 10;
        assert_eq!(prices_match(&e).broken.len(), 3);
    }

    #[test]
    fn shipments_must_reach_walmart_with_tracking_and_quantities() {
        let mut e = evidence(Journal {
            orders: vec![placed("1", &[("A", 2), ("B", 1)]), placed("2", &[("A", 1)])],
            ..Journal::default()
        });
        e.commerce.orders = vec![
            commerce_order(10, "1", "processing"),
            commerce_order(11, "2", "complete"),
        ];
        let shipment = |id: u64, order_id: u64, items: &[(&str, f64)], track: &str| Shipment {
            entity_id: Some(id),
            increment_id: format!("S{id}"),
            order_id,
            items: items
                .iter()
                .map(|(sku, qty)| ShipmentItem {
                    sku: Some((*sku).into()),
                    qty: *qty,
                    ..ShipmentItem::default()
                })
                .collect(),
            tracks: vec![ShipmentTrack {
                track_number: track.into(),
                ..ShipmentTrack::default()
            }],
            ..Shipment::default()
        };
        e.commerce.shipments = vec![
            shipment(1, 10, &[("A", 2.0)], "T1"),
            shipment(2, 10, &[("B", 1.0)], "T2"),
            shipment(3, 11, &[("A", 1.0)], "T3"),
        ];
        e.walmart.received.shipments = vec![
            walmart_shipment("1", 1, 1, "T1"),
            walmart_shipment("1", 2, 1, "T2"),
            walmart_shipment("2", 1, 1, "T3"),
        ];
        let check = shipments_on_walmart(&e);
        assert_eq!(check.checked, 3);
        assert_eq!(
            check.broken,
            vec!["PO 1 A: 2 shipped in Commerce, 1 shipped on Walmart".to_owned()]
        );
        e.walmart.received.shipments[0].quantity = 2;
        e.walmart.received.shipments[2].tracking_number = "OTHER".into();
        let check = shipments_on_walmart(&e);
        assert_eq!(check.broken.len(), 1, "{:?}", check.broken);
        assert!(check.broken[0].contains("tracking T3 is not on Walmart"));
    }

    #[test]
    fn refunds_and_cancellations_must_reach_the_other_side() {
        let mut e = evidence(Journal {
            orders: vec![
                placed("1", &[("A", 1)]),
                placed("2", &[("A", 2)]),
                placed("3", &[("A", 1)]),
            ],
            returns: vec![ReturnOpened {
                purchase_order_id: "1".into(),
                return_order_id: "R1".into(),
                lines: vec![(1, 1)],
                at: T,
            }],
            refunds: vec![RefundMade {
                purchase_order_id: "1".into(),
                commerce_order_id: 10,
                credit_memo_id: 5,
                return_order_id: "R1".into(),
                items: vec![("A".into(), 1)],
                at: T,
            }],
            merchant_cancellations: vec![MerchantCancelled {
                purchase_order_id: "2".into(),
                commerce_order_id: 11,
                canceled: true,
                at: T,
            }],
            buyer_cancellations: vec![BuyerCancelled {
                purchase_order_id: "3".into(),
                lines: vec![(1, 1)],
                at: T,
            }],
            ..Journal::default()
        });
        e.commerce.orders = vec![
            commerce_order(10, "1", "complete"),
            commerce_order(11, "2", "canceled"),
            commerce_order(12, "3", "new"),
        ];
        let refunds = refunds_on_walmart(&e);
        assert_eq!(refunds.broken.len(), 1);
        assert!(refunds.broken[0].contains("credit memo 5 for return R1"));
        let cancellations = cancellations_reflected(&e);
        assert_eq!(cancellations.checked, 2);
        assert_eq!(cancellations.broken.len(), 2, "{:?}", cancellations.broken);

        e.walmart.received.return_refunds = vec![ReturnRefundRecord {
            return_order_id: "R1".into(),
            customer_order_id: "C1".into(),
            lines: vec![1],
            at: T,
        }];
        let cancel = |quantity| CancellationRecord {
            purchase_order_id: "2".into(),
            line: 1,
            quantity,
            reason: "SELLER_CANCEL".into(),
            by: CancelledBy::Seller,
            at: T,
        };
        e.walmart.received.cancellations = vec![cancel(1)];
        e.commerce.orders[2].state = "canceled".into();
        assert!(refunds_on_walmart(&e).holds());
        let cancellations = cancellations_reflected(&e);
        assert_eq!(
            cancellations.broken,
            vec!["PO 2: cancelled in Commerce, 1 of 2 units cancelled on Walmart".to_owned()]
        );
        e.walmart.received.cancellations.push(cancel(1));
        assert!(cancellations_reflected(&e).holds());
        assert!(check(&e).iter().all(InvariantCheck::holds));
    }
}
