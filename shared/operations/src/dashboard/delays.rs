//! The overview's delays of the last 24 h, per operation and path, measured from the channel's own
//! records with the one measurement the local runner's summary uses ([`crate::latency`]). The
//! runner measures end to end from what the sandboxes saw; the records time these steps:
//! - catalog-import: the product's `updated_at` in Commerce → the listing written (listings whose
//!   status changed in the window, in Draft, waiting for selection, or Error by our checks);
//! - listing-match, inventory-sync, price-sync: a feed submitted → its results applied (feeds
//!   settled in the window);
//! - order-import: ordered on Walmart → recorded; order-create: recorded → Commerce order created
//!   (orders placed in the window);
//! - shipment-sync: the Commerce shipment's time → tracking sent to Walmart;
//! - cancellation-sync, Commerce → Walmart: Commerce's order time of the cancellation → cancelled
//!   on Walmart; Walmart → Commerce: the channel saw it on Walmart (Walmart's order lines carry no
//!   time) → reflected in Commerce (shipments and cancellations sent in the window, of orders
//!   placed in the last [`FULFILMENT_LOOKBACK`]);
//! - returns-sync: Walmart's return date → the return requested in Commerce, and the credit memo
//!   in Commerce → the refund on Walmart (returns received in the last [`RETURN_LOOKBACK`], the
//!   step done in the window). Adobe documents no delay for returns: the bound is our 15 min.
//!
//! Reads are index ranges capped at [`MAX_SAMPLES`] records each, and one partition query for each
//! of at most [`MAX_ORDER_READS`] orders shipped or cancelled in the window, 16 at a time (their
//! shipments and cancellations live in the order's partition).

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{
    CancellationRecord, Delivery, FeedKind, FeedRecord, Listing, ListingStatus, Operation, OrderEvent,
    OrderRecord, OrderSummary, Origin, ReturnRecord, ShipmentRecord, Timestamp,
};
use ports::records::{
    feed_status_pk, listing_awaiting_selection_pk, listing_status_pk, order_pk, order_status_pk,
    return_status_pk,
};
use ports::{Query, Records, SortRange, StoreError};

use crate::Channel;
use crate::latency::{Latency, Samples};

/// Most records of one index partition read for the figures.
pub const MAX_SAMPLES: usize = 2_000;

/// Most orders whose shipments and cancellations are read (newest first), and how many of those
/// reads are in flight at once.
pub const MAX_ORDER_READS: usize = 200;
const CONCURRENT_READS: usize = 16;

/// A feed not settled this long after it was submitted is stuck (Walmart documents most feeds
/// processed within minutes; the documented match delay is 30 min). Feeds settled in the window
/// were submitted at most this long before it.
pub const STUCK_FEED_AFTER: Duration = Duration::from_secs(2 * 3600);

/// Shipments and cancellations of the window belong to orders placed at most this long before it
/// (Walmart's ship-by dates are days after the order).
pub const FULFILMENT_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// Refunds of the window belong to returns received at most this long before it (Walmart's
/// return window).
pub const RETURN_LOOKBACK: Duration = Duration::from_secs(90 * 24 * 3600);

/// The records the delays are measured from.
#[derive(Debug, Default)]
pub struct DelayRecords {
    /// Orders placed since the fulfilment lookback before the window.
    pub orders: Vec<OrderRecord>,
    pub listings: Vec<Listing>,
    pub feeds: Vec<FeedRecord>,
    pub shipments: Vec<ShipmentRecord>,
    pub cancellations: Vec<CancellationRecord>,
    pub returns: Vec<ReturnRecord>,
}

/// The latency figures of the window (from `since`), per operation.
pub async fn measure_latencies(
    ch: &Channel,
    since: Timestamp,
) -> Result<BTreeMap<Operation, Vec<Latency>>, StoreError> {
    let records = read_records(ch, since).await?;
    Ok(measure(&records, since))
}

/// Every path's figures from the records, for what happened from `since` on.
pub fn measure(records: &DelayRecords, since: Timestamp) -> BTreeMap<Operation, Vec<Latency>> {
    let mut out: BTreeMap<Operation, Vec<Latency>> = BTreeMap::new();
    let placed_in_window: Vec<&OrderRecord> = records
        .orders
        .iter()
        .filter(|o| o.order.order_date >= since)
        .collect();
    let rows = [
        (Operation::CatalogImport, catalog_import(&records.listings)),
        (
            Operation::ListingMatch,
            feeds(&records.feeds, since, FeedKind::ItemMatch),
        ),
        (
            Operation::InventorySync,
            feeds(&records.feeds, since, FeedKind::Inventory),
        ),
        (
            Operation::PriceSync,
            feeds(&records.feeds, since, FeedKind::Price),
        ),
        (Operation::OrderImport, order_import(&placed_in_window)),
        (Operation::OrderCreate, order_create(&placed_in_window)),
        (Operation::ShipmentSync, shipment_sync(&records.shipments, since)),
        (
            Operation::CancellationSync,
            cancellations(&records.cancellations, since, Origin::Commerce),
        ),
        (
            Operation::CancellationSync,
            cancellations(&records.cancellations, since, Origin::Walmart),
        ),
        (
            Operation::ReturnsSync,
            returns_to_commerce(&records.returns, since),
        ),
        (
            Operation::ReturnsSync,
            refunds_to_walmart(&records.returns, since),
        ),
    ];
    for (operation, (path, samples)) in rows {
        out.entry(operation)
            .or_default()
            .push(samples.latency(operation, path));
    }
    out
}

type Measured = (&'static str, Samples);

/// Whether `at` falls in the window.
fn in_window(at: Timestamp, since: Timestamp) -> bool {
    at >= since
}

fn sent_at(delivery: &Delivery) -> Option<Timestamp> {
    match delivery {
        Delivery::Sent { at } => Some(*at),
        _ => None,
    }
}

fn catalog_import(listings: &[Listing]) -> Measured {
    let mut s = Samples::default();
    for listing in listings {
        // Walmart's rejections and retries are listing-match's outcomes, not imports.
        let from_walmart = (listing.status() == ListingStatus::Error && listing.feed_id.is_some())
            || listing
                .issues
                .iter()
                .any(|i| i.code == domain::ISSUE_WALMART_RETRY);
        if from_walmart || listing.product.updated_at > listing.status_changed_at {
            continue;
        }
        s.add(listing.product.updated_at, Some(listing.status_changed_at));
    }
    ("product changed in Commerce -> listing written", s)
}

fn feeds(feeds: &[FeedRecord], since: Timestamp, kind: FeedKind) -> Measured {
    let mut s = Samples::default();
    for feed in feeds.iter().filter(|f| f.kind == kind) {
        if let Some(settled) = feed.settled_at.filter(|at| in_window(*at, since)) {
            s.add(feed.submitted_at, Some(settled));
        }
    }
    let path = match kind {
        FeedKind::ItemMatch => "match feed sent -> results on the listings",
        FeedKind::Inventory => "inventory feed sent -> processed by Walmart",
        FeedKind::Price => "price feed sent -> processed by Walmart",
    };
    (path, s)
}

fn order_import(orders: &[&OrderRecord]) -> Measured {
    let mut s = Samples::default();
    for order in orders {
        s.add(order.order.order_date, Some(order.imported_at));
    }
    ("ordered on Walmart -> order recorded", s)
}

fn order_create(orders: &[&OrderRecord]) -> Measured {
    let mut s = Samples::default();
    for order in orders {
        let created = order
            .history
            .iter()
            .find(|h| matches!(h.event, OrderEvent::Created { .. }));
        if let Some(entry) = created {
            s.add(order.imported_at, Some(entry.at));
        }
    }
    ("order recorded -> Commerce order created", s)
}

fn shipment_sync(shipments: &[ShipmentRecord], since: Timestamp) -> Measured {
    let mut s = Samples::default();
    for shipment in shipments {
        if let Some(sent) = sent_at(&shipment.delivery).filter(|at| in_window(*at, since)) {
            s.add(shipment.tracking.shipped_at, Some(sent));
        }
    }
    ("shipped in Commerce -> tracking on Walmart", s)
}

fn cancellations(cancellations: &[CancellationRecord], since: Timestamp, origin: Origin) -> Measured {
    let mut s = Samples::default();
    for c in cancellations.iter().filter(|c| c.origin == origin) {
        if let Some(sent) = sent_at(&c.delivery).filter(|at| in_window(*at, since)) {
            s.add(c.requested_at.unwrap_or(c.recorded_at), Some(sent));
        }
    }
    let path = match origin {
        Origin::Commerce => "cancelled in Commerce -> cancelled on Walmart",
        Origin::Walmart => "cancellation seen on Walmart -> reflected in Commerce",
    };
    (path, s)
}

fn returns_to_commerce(returns: &[ReturnRecord], since: Timestamp) -> Measured {
    let mut s = Samples::default();
    for r in returns {
        if let Some(requested) = r.requested_at.filter(|at| in_window(*at, since)) {
            s.add(r.opened_at.unwrap_or(r.received_at), Some(requested));
        }
    }
    ("return opened on Walmart -> return in Commerce", s)
}

fn refunds_to_walmart(returns: &[ReturnRecord], since: Timestamp) -> Measured {
    let mut s = Samples::default();
    for r in returns {
        if let (Some(issued), Some(reported)) = (r.refund_issued_at, r.refunded_at)
            && in_window(reported, since)
        {
            s.add(issued, Some(reported));
        }
    }
    ("refunded in Commerce -> refund on Walmart", s)
}

/// Reads the records of [`DelayRecords`] for the window from `since`.
async fn read_records(ch: &Channel, since: Timestamp) -> Result<DelayRecords, StoreError> {
    let channel = &ch.settings.id;
    let mut records = DelayRecords::default();
    let orders_from = SortRange::From(since.minus(FULFILMENT_LOOKBACK).to_rfc3339());
    for summary in OrderSummary::ALL {
        records
            .orders
            .extend(sample::<OrderRecord>(ch, order_status_pk(channel, summary), orders_from.clone()).await?);
    }
    let from = SortRange::From(since.to_rfc3339());
    for pk in [
        listing_status_pk(channel, ListingStatus::Draft),
        listing_awaiting_selection_pk(channel),
        listing_status_pk(channel, ListingStatus::Error),
    ] {
        records
            .listings
            .extend(sample::<Listing>(ch, pk, from.clone()).await?);
    }
    let feeds_from = SortRange::From(since.minus(STUCK_FEED_AFTER).to_rfc3339());
    records.feeds = sample::<FeedRecord>(ch, feed_status_pk(channel, true), feeds_from).await?;
    read_fulfilment(ch, since, &mut records).await?;
    let returns_from = SortRange::From(since.minus(RETURN_LOOKBACK).to_rfc3339());
    for status in ["requested_in_commerce", "refunded"] {
        records.returns.extend(
            sample::<ReturnRecord>(ch, return_status_pk(channel, status), returns_from.clone()).await?,
        );
    }
    Ok(records)
}

/// The shipments and cancellations of the orders shipped or cancelled in the window.
async fn read_fulfilment(
    ch: &Channel,
    since: Timestamp,
    records: &mut DelayRecords,
) -> Result<(), StoreError> {
    let mut touched: Vec<&OrderRecord> = records
        .orders
        .iter()
        .filter(|o| {
            o.history.iter().any(|h| {
                in_window(h.at, since)
                    && matches!(
                        h.event,
                        OrderEvent::Shipped { .. }
                            | OrderEvent::Cancelled { .. }
                            | OrderEvent::CommerceOrderCancelled
                            | OrderEvent::CancellationNoted { .. }
                    )
            })
        })
        .collect();
    touched.sort_by_key(|o| std::cmp::Reverse(o.updated_at));
    let partitions: Vec<Query> = touched
        .iter()
        .take(MAX_ORDER_READS)
        .map(|o| Query::partition(order_pk(&ch.settings.id, &o.order.id)))
        .collect();
    let store = ch.store.as_ref();
    let read = crate::feeds::concurrently(partitions, CONCURRENT_READS, |partition| {
        ports::query_all(store, partition)
    })
    .await;
    let (mut shipments, mut cancellations) = (Vec::new(), Vec::new());
    for items in read {
        for stored in items? {
            let body = stored.item.body;
            if stored.item.key.sk.starts_with("SHIPMENT#") {
                shipments.extend(serde_json::from_value::<ShipmentRecord>(body).ok());
            } else if stored.item.key.sk.starts_with("CANCEL#") {
                cancellations.extend(serde_json::from_value::<CancellationRecord>(body).ok());
            }
        }
    }
    records.shipments = shipments;
    records.cancellations = cancellations;
    Ok(())
}

/// Reads up to [`MAX_SAMPLES`] records of an index partition within an index sort-key range,
/// newest first.
async fn sample<R: ports::Record>(ch: &Channel, pk: String, range: SortRange) -> Result<Vec<R>, StoreError> {
    let mut query = Query::status_index(pk).range(range).limit(500).descending();
    let mut out = Vec::new();
    loop {
        let (page, next) = ch.store.query_records::<R>(&query).await?;
        out.extend(page.into_iter().map(|v| v.record));
        match next {
            Some(token) if out.len() < MAX_SAMPLES => query.after = Some(token),
            _ => {
                out.truncate(MAX_SAMPLES);
                return Ok(out);
            }
        }
    }
}
