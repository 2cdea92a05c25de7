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
        never_oversold(e),
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

/// For every listing live on Walmart, Walmart's quantity is at most what the channel's rules
/// advertise for Commerce's salable quantity.
pub fn never_oversold(e: &Evidence) -> InvariantCheck {
    let rules = &e.settings.inventory;
    let mut broken = Vec::new();
    let mut checked = 0;
    for listing in e.records.listings.iter().filter(|l| l.is_live_on_walmart()) {
        let sku = listing.sku.as_str();
        checked += 1;
        let on_walmart = e.walmart.inventory.get(sku).copied().unwrap_or(0);
        let Some(salable) = e.commerce.salable.get(sku).copied() else {
            broken.push(format!("{sku}: Commerce's salable quantity is unknown"));
            continue;
        };
        // Fractional salable quantities (decimal stock) round down: half a unit cannot be sold.
        let advertised = rules.advertised(salable.floor() as i64);
        if on_walmart > advertised {
            broken.push(format!(
                "{sku}: Walmart shows {on_walmart}, Commerce can sell {salable} (at most {advertised} after the rules)"
            ));
        }
    }
    InvariantCheck {
        name: "Walmart never shows more than Commerce can sell (live listings)",
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
/// or the dashboard record noting why it could not be).
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
        let commerce_cancelled = e.commerce.orders_for(po).iter().any(|o| o.state == "canceled");
        let units: u32 = cancel.lines.iter().map(|(_, quantity)| quantity).sum();
        let noted = e.records.order(po).is_some_and(|r| {
            r.commerce_link().is_some()
                && r.lines().iter().map(|l| l.cancelled).sum::<u32>() >= units
                && r.cancellations_pending_in_commerce().is_empty()
        });
        if !(commerce_cancelled || noted) {
            broken.push(format!(
                "PO {po}: cancelled by the buyer on Walmart, not reflected in Commerce"
            ));
        }
    }
    InvariantCheck {
        name: "every cancellation reaches the other side",
        checked,
        broken,
    }
}
