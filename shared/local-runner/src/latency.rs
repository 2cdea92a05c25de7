//! Observed delays, in scenario time, for each of Adobe's seed operations: from the moment the
//! merchant or buyer acted (the scenario's journal) to the moment the other side shows it (what the
//! sandboxes recorded, or the channel's own records where the step ends there).

use domain::{ListingStatus, Operation, Timestamp};
use operations::latency::{Latency, Samples};
use serde::Serialize;

use crate::evidence::Evidence;

/// One measured path of an operation: its figures ([`operations::latency`], the measurement the
/// dashboard's overview uses too) and the actions whose effect was never seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyRow {
    pub operation: Operation,
    /// Adobe's name for the operation.
    pub seed_operation: &'static str,
    #[serde(flatten)]
    pub latency: Latency,
    /// Actions whose effect was never seen (or was overtaken by a later change of the same thing).
    pub not_seen: usize,
}

fn row(samples: Samples, operation: Operation, path: &'static str) -> LatencyRow {
    LatencyRow {
        operation,
        seed_operation: operation.seed_operation(),
        latency: samples.latency(operation, path),
        not_seen: samples.not_seen,
    }
}

fn commerce_time(raw: Option<&String>) -> Option<Timestamp> {
    raw.and_then(|t| Timestamp::parse_commerce(t).ok())
}

/// Every latency row the evidence supports.
pub fn measure(e: &Evidence) -> Vec<LatencyRow> {
    vec![
        catalog_import(e),
        listing_match(e),
        inventory_sync(e),
        price_sync(e),
        order_import(e),
        order_create(e),
        shipment_sync(e),
        cancellation_commerce_to_walmart(e),
        cancellation_walmart_to_commerce(e),
        returns_to_commerce(e),
        refunds_to_walmart(e),
    ]
}

fn catalog_import(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for product in &e.journal.products {
        s.add(product.at, e.listing_written_at.get(&product.sku).copied());
    }
    row(
        s,
        Operation::CatalogImport,
        "product selected in Commerce -> listing in Channel Manager",
    )
}

/// When Walmart's match outcome reached the listing: matched, or rejected by Walmart (our own
/// checks reject at import, which measures nothing about matching).
fn match_outcome_at(listing: &domain::Listing) -> Option<Timestamp> {
    let rejected_by_walmart = listing.status() == ListingStatus::Error
        && listing.feed_id.is_some()
        && listing.issues.iter().any(|i| !i.code.starts_with("CM_"));
    (listing.is_live_on_walmart() || rejected_by_walmart).then_some(listing.status_changed_at)
}

fn listing_match(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for listing in &e.records.listings {
        let Some(imported) = e.listing_written_at.get(listing.sku.as_str()).copied() else {
            continue;
        };
        let own_check_failed = listing.status() == ListingStatus::Error && listing.feed_id.is_none();
        if own_check_failed {
            continue;
        }
        s.add(imported, match_outcome_at(listing));
    }
    row(
        s,
        Operation::ListingMatch,
        "listing in Channel Manager -> matched or rejected by Walmart",
    )
}

/// When the listing became live on Walmart, if it is.
fn live_since(e: &Evidence, sku: &str) -> Option<Timestamp> {
    e.records
        .listing(sku)
        .filter(|l| l.is_live_on_walmart())
        .map(|l| l.status_changed_at)
}

fn inventory_sync(e: &Evidence) -> LatencyRow {
    let rules = &e.settings.inventory;
    let mut s = Samples::default();
    for (i, change) in e.journal.stock_changes.iter().enumerate() {
        let Some(live) = live_since(e, &change.sku) else {
            continue;
        };
        let start = change.at.max(live);
        let expected = rules.advertised(change.salable_after.floor() as i64);
        let shown_before = e
            .walmart
            .inventory_updates
            .iter()
            .filter(|u| u.sku == change.sku && u.at <= start)
            .max_by_key(|u| u.at)
            .map(|u| u.value);
        if shown_before == Some(expected) {
            // Walmart already shows the quantity the change leads to: there is nothing to sync.
            continue;
        }
        let next_change = e.journal.stock_changes[i + 1..]
            .iter()
            .find(|c| c.sku == change.sku)
            .map(|c| c.at);
        let seen = e
            .walmart
            .inventory_updates
            .iter()
            .find(|u| u.sku == change.sku && u.at >= start && u.value == expected)
            .map(|u| u.at)
            .filter(|at| next_change.is_none_or(|next| *at < next));
        if seen.is_none() && next_change.is_some() {
            // Overtaken by the next change before it was synced: nothing to measure.
            continue;
        }
        s.add(start, seen);
    }
    row(
        s,
        Operation::InventorySync,
        "stock changed in Commerce -> quantity on Walmart",
    )
}

fn price_sync(e: &Evidence) -> LatencyRow {
    let rules = &e.settings.pricing;
    let mut s = Samples::default();
    for (i, change) in e.journal.price_changes.iter().enumerate() {
        let Some(live) = live_since(e, &change.sku) else {
            continue;
        };
        let start = change.at.max(live);
        let expected = rules.walmart_price(change.price, None, change.at);
        let next_change = e.journal.price_changes[i + 1..]
            .iter()
            .find(|c| c.sku == change.sku)
            .map(|c| c.at);
        let seen = e
            .walmart
            .price_updates
            .iter()
            .find(|u| u.sku == change.sku && u.at >= start && u.value == expected)
            .map(|u| u.at)
            .filter(|at| next_change.is_none_or(|next| *at < next));
        if seen.is_none() && next_change.is_some() {
            continue;
        }
        s.add(start, seen);
    }
    row(
        s,
        Operation::PriceSync,
        "price changed in Commerce -> price on Walmart",
    )
}

fn order_import(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for order in &e.journal.orders {
        s.add(
            order.at,
            e.records.order(&order.purchase_order_id).map(|r| r.imported_at),
        );
    }
    row(
        s,
        Operation::OrderImport,
        "order placed on Walmart -> order in Channel Manager",
    )
}

fn order_create(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for record in &e.records.orders {
        let created = e
            .commerce
            .orders_for(record.order.id.as_str())
            .first()
            .and_then(|o| commerce_time(o.created_at.as_ref()));
        s.add(record.imported_at, created);
    }
    row(
        s,
        Operation::OrderCreate,
        "order in Channel Manager -> Commerce order",
    )
}

fn shipment_sync(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for shipment in &e.journal.shipments {
        let on_walmart = e
            .walmart
            .received
            .shipments
            .iter()
            .filter(|w| {
                w.purchase_order_id == shipment.purchase_order_id
                    && w.tracking_number == shipment.track_number
            })
            .map(|w| w.at)
            .min();
        s.add(shipment.at, on_walmart);
    }
    row(
        s,
        Operation::ShipmentSync,
        "shipped in Commerce -> tracking on Walmart",
    )
}

fn cancellation_commerce_to_walmart(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for cancel in e.journal.merchant_cancellations.iter().filter(|c| c.canceled) {
        let on_walmart = e
            .walmart
            .received
            .cancellations
            .iter()
            .filter(|w| {
                w.purchase_order_id == cancel.purchase_order_id
                    && w.by == walmart_sandbox::CancelledBy::Seller
            })
            .map(|w| w.at)
            .max();
        s.add(cancel.at, on_walmart);
    }
    row(
        s,
        Operation::CancellationSync,
        "cancelled in Commerce -> cancelled on Walmart",
    )
}

fn cancellation_walmart_to_commerce(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for cancel in &e.journal.buyer_cancellations {
        let po = cancel.purchase_order_id.as_str();
        let in_commerce = e
            .commerce
            .orders_for(po)
            .iter()
            .find(|o| o.state == "canceled")
            .and_then(|o| commerce_time(o.updated_at.as_ref()))
            .or_else(|| {
                // Not cancellable in Commerce: the channel noted it on the order instead.
                e.records.order(po).and_then(|r| {
                    r.history
                        .iter()
                        .find(|h| matches!(h.event, domain::OrderEvent::CancellationNoted { .. }))
                        .map(|h| h.at)
                })
            });
        s.add(cancel.at, in_commerce);
    }
    row(
        s,
        Operation::CancellationSync,
        "cancelled on Walmart -> cancelled in Commerce",
    )
}

fn returns_to_commerce(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for ret in &e.journal.returns {
        let commerce_order = e
            .journal
            .shipments
            .iter()
            .find(|sh| sh.purchase_order_id == ret.purchase_order_id)
            .map(|sh| sh.commerce_order_id);
        let rma_at = commerce_order.and_then(|order_id| {
            e.commerce
                .returns
                .iter()
                .filter(|r| r.order_id == order_id)
                .filter_map(|r| Timestamp::parse_commerce(&r.date_requested).ok())
                .min()
        });
        s.add(ret.at, rma_at);
    }
    row(
        s,
        Operation::ReturnsSync,
        "return opened on Walmart -> return in Commerce",
    )
}

fn refunds_to_walmart(e: &Evidence) -> LatencyRow {
    let mut s = Samples::default();
    for refund in &e.journal.refunds {
        let on_walmart = e
            .walmart
            .received
            .return_refunds
            .iter()
            .filter(|r| r.return_order_id == refund.return_order_id)
            .map(|r| r.at)
            .min()
            .or_else(|| {
                e.walmart
                    .received
                    .refunds
                    .iter()
                    .filter(|r| r.purchase_order_id == refund.purchase_order_id && r.at >= refund.at)
                    .map(|r| r.at)
                    .min()
            });
        s.add(refund.at, on_walmart);
    }
    row(
        s,
        Operation::ReturnsSync,
        "refunded in Commerce -> refund on Walmart",
    )
}
