//! Observed delays, in scenario time, for each of Adobe's seed operations: from the moment the
//! merchant or buyer acted (the scenario's journal) to the moment the other side shows it (what the
//! sandboxes recorded, or the channel's own records where the step ends there).

use std::time::Duration;

use domain::{ListingStatus, Operation, Timestamp};
use serde::Serialize;

use crate::evidence::Evidence;

/// One measured path of an operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyRow {
    pub operation: Operation,
    /// Adobe's name for the operation.
    pub seed_operation: &'static str,
    /// From where to where this row measures.
    pub path: &'static str,
    pub samples: usize,
    #[serde(with = "opt_secs")]
    pub p50: Option<Duration>,
    #[serde(with = "opt_secs")]
    pub p99: Option<Duration>,
    /// `Operation::target_delay`.
    #[serde(with = "secs")]
    pub bound: Duration,
    /// Whether the bound is Adobe's documented delay (else our own target).
    pub documented: bool,
    /// Actions whose effect was never seen (or was overtaken by a later change of the same thing).
    pub not_seen: usize,
}

impl LatencyRow {
    pub fn within_bound(&self) -> bool {
        self.p99.is_none_or(|p| p <= self.bound)
    }
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

mod opt_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

/// The `q` quantile (0..=1) of `samples` by nearest rank.
pub fn percentile(samples: &[Duration], q: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

fn row(operation: Operation, path: &'static str, samples: Vec<Duration>, not_seen: usize) -> LatencyRow {
    LatencyRow {
        operation,
        seed_operation: operation.seed_operation(),
        path,
        p50: percentile(&samples, 0.5),
        p99: percentile(&samples, 0.99),
        samples: samples.len(),
        bound: operation.target_delay(),
        documented: operation.documented_delay().is_some(),
        not_seen,
    }
}

/// Collects `end - start` where both are known; counts starts whose end never came.
#[derive(Default)]
struct Samples {
    durations: Vec<Duration>,
    not_seen: usize,
}

impl Samples {
    fn add(&mut self, start: Timestamp, end: Option<Timestamp>) {
        match end {
            Some(end) => self.durations.push(end.since(start)),
            None => self.not_seen += 1,
        }
    }

    fn row(self, operation: Operation, path: &'static str) -> LatencyRow {
        row(operation, path, self.durations, self.not_seen)
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
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
    s.row(
        Operation::ReturnsSync,
        "refunded in Commerce -> refund on Walmart",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[secs(7)], 0.99), Some(secs(7)));
        let hundred: Vec<Duration> = (1..=100).rev().map(secs).collect();
        assert_eq!(percentile(&hundred, 0.5), Some(secs(50)));
        assert_eq!(percentile(&hundred, 0.99), Some(secs(99)));
        assert_eq!(percentile(&[secs(1), secs(9)], 0.5), Some(secs(1)));
        assert_eq!(percentile(&[secs(1), secs(9)], 0.99), Some(secs(9)));
    }

    #[test]
    fn rows_carry_the_documented_bound() {
        let r = row(Operation::OrderCreate, "x", vec![secs(10), secs(400)], 1);
        assert_eq!(r.bound, secs(300));
        assert!(r.documented);
        assert!(!r.within_bound(), "p99 of 400 s exceeds 5 min");
        let returns = row(Operation::ReturnsSync, "x", vec![], 0);
        assert!(!returns.documented);
        assert!(returns.within_bound());
    }
}
