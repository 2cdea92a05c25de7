//! `shipment_sync`: Commerce shipments send tracking to Walmart, once per shipment.
//!
//! Each scheduled run reads Commerce shipments created or updated since the cursor (less an
//! overlap), with items and tracks. A shipment of a channel order (found through the Commerce order
//! index written at creation) becomes a [`ShipmentRecord`] (lines and quantities: partial shipments
//! ship only their units; tracking number; carrier mapped to Walmart's list through
//! `orders.carriers`, otherwise `otherCarrier` with a tracking URL; the order's method code; the
//! shipment's time) and is sent to Walmart's shipping update once:
//! * the shipment is claimed (`shipment-sync#<channel>#<shipment id>`); the record is written before
//!   the call, so a later attempt knows a call may have happened and first checks Walmart's order
//!   for units shipped with this tracking number;
//! * the lines are marked shipped on the dashboard record in the same transaction that marks the
//!   shipment sent;
//! * then (with `orders.invoice_on_shipment`) the shipped units are invoiced in Commerce, so the
//!   merchant can refund them later; unshipped units stay uninvoiced and cancellable.
//!
//! Shipments without a tracking number wait, and are remembered ([`TrackingWait`]): Magento adds a
//! track without moving the shipment's `updated_at` (`TrackRepository::save` writes only the track
//! row), so the cursor never brings such a shipment back. Each run reads the waiting shipments that
//! are due again by id, on a doubling back-off; after three days the order shows Error (a track
//! added later still goes through and clears it).
//! A shipment Walmart refuses is marked failed with Walmart's reason and the order shows Error.

use domain::{CommerceShipmentId, Operation, PurchaseOrderId, StillWaiting, SyncTask, TrackingWait};
use ports::commerce::model::Shipment;
use ports::{Deadline, Expect, Query, Records, Versioned};
use ports::{QueueName, StoreCall};
use tracing::Instrument;

use crate::Counter;
use crate::declaration::Declaration;
use crate::scan::{Seen, StreamScan, scan};
use crate::walmart_shipment::{OVERLAP, PAGE_SIZE, mark_problem};
use crate::{Channel, OpError, RunReport};

pub use crate::walmart_shipment::{
    ShipmentOutcome, carrier_for, shipped_lines, sync_shipment, sync_shipments_of,
};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): shipment and order records, the
/// pair saved together (`order_support::save_both`); the per-shipment claim; the configuration
/// check.
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Query,
    StoreCall::TransactPut,
    StoreCall::Claim,
    StoreCall::Complete,
    StoreCall::Renew,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): none.
pub const SENDS_TO: &[QueueName] = &[];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "shipment-sync",
    consumes: None,
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

/// Waiting shipments read again per run (one search by id).
const WAITS_PER_RUN: usize = 100;

pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::ShipmentSync);
    let shipments = StreamScan {
        stream: domain::Stream::CommerceShipments,
        overlap: OVERLAP,
        page_size: PAGE_SIZE,
        what: "shipments",
    };
    scan(
        ch,
        shipments,
        deadline,
        &mut report,
        |from, request| ch.commerce.shipments_page(from, request, deadline),
        |shipment: &Shipment| shipment.updated_at,
        |shipment| async move {
            let span = tracing::info_span!(
                "shipment_sync",
                shipment_id = shipment.entity_id.0,
                order_id = shipment.order_id.0
            );
            match sync_shipment(ch, &shipment, deadline).instrument(span).await {
                Ok(ShipmentOutcome::Sent { units }) => {
                    Seen::count(Counter::ShipmentsSent, 1).and(Counter::UnitsShipped, u64::from(units))
                }
                Ok(ShipmentOutcome::AlreadySent) => Seen::count(Counter::AlreadySent, 1),
                Ok(ShipmentOutcome::NotChannel) => Seen::count(Counter::NotChannelOrders, 1),
                Ok(ShipmentOutcome::AwaitingTracking(po)) => {
                    let seen = Seen::count(Counter::AwaitingTracking, 1);
                    let id = shipment.entity_id;
                    match remember_wait(ch, &po, id).await {
                        Ok(()) => seen,
                        Err(e) => seen
                            .problem(format!(
                                "shipment {id}: not remembered as waiting for tracking: {e}"
                            ))
                            .held(),
                    }
                }
                Ok(ShipmentOutcome::Busy) => Seen::count(Counter::Busy, 1).held(),
                Ok(ShipmentOutcome::Refused(reason)) => Seen::count(Counter::ShipmentsRefused, 1)
                    .problem(format!("shipment {:?}: {reason}", shipment.entity_id)),
                Err(e) => Seen::failed(format_args!("shipment {:?}", shipment.entity_id), &e),
            }
        },
    )
    .await?;
    if !deadline.is_past() {
        recheck_waiting(ch, &mut report, deadline).await?;
    }
    Ok(report)
}

/// Reads again the shipments found without tracking whose next check is due, and sends those that
/// have a track now.
async fn recheck_waiting(ch: &Channel, report: &mut RunReport, deadline: &Deadline) -> Result<(), OpError> {
    let now = ch.clock.now();
    let mut due: Vec<Versioned<TrackingWait>> = Vec::new();
    let mut token = None;
    loop {
        let query = Query::partition(ports::records::tracking_waits_pk(&ch.settings.id)).after(token);
        let (waits, next) = ch.store.query_records::<TrackingWait>(&query).await?;
        due.extend(waits.into_iter().filter(|w| w.record.is_due(now)));
        token = next;
        if token.is_none() {
            break;
        }
    }
    due.sort_by_key(|w| w.record.next_check);
    due.truncate(WAITS_PER_RUN);
    report.add(Counter::AwaitingTrackingDue, due.len() as u64);
    if due.is_empty() {
        return Ok(());
    }
    let ids: Vec<u64> = due.iter().map(|w| w.record.shipment_id.0).collect();
    let shipments = match ch.commerce.shipments_by_ids(&ids, deadline).await {
        Ok(shipments) => shipments,
        Err(e) => {
            // Read again next run; nothing was decided.
            report.problem(format!("shipments waiting for tracking not read: {e}"));
            return Ok(());
        }
    };
    for mut wait in due {
        if deadline.is_past() {
            report.complete = false;
            break;
        }
        let shipment_id = wait.record.shipment_id;
        let Some(shipment) = shipments.iter().find(|s| s.entity_id == shipment_id) else {
            // Deleted in Commerce: nothing left to send.
            forget_wait(ch, &wait).await?;
            continue;
        };
        let span = tracing::info_span!(
            "shipment_sync",
            shipment_id = shipment_id.0,
            order_id = shipment.order_id.0
        );
        match sync_shipment(ch, shipment, deadline).instrument(span).await {
            Ok(ShipmentOutcome::AwaitingTracking(_)) => match wait.record.still_waiting(now) {
                StillWaiting::Later => save_wait(ch, &mut wait).await?,
                StillWaiting::Report(reason) => {
                    report.problem(format!("shipment {shipment_id}: {reason}"));
                    mark_problem(
                        ch,
                        &wait.record.purchase_order,
                        SyncTask::Shipment { shipment_id },
                        reason,
                    )
                    .await?;
                    save_wait(ch, &mut wait).await?;
                }
                StillWaiting::GiveUp => forget_wait(ch, &wait).await?,
            },
            Ok(ShipmentOutcome::Busy) => {}
            Ok(outcome) => {
                if let ShipmentOutcome::Sent { units } = outcome {
                    report.add(Counter::ShipmentsSent, 1);
                    report.add(Counter::UnitsShipped, u64::from(units));
                    report.add(Counter::TrackingAddedLater, 1);
                }
                forget_wait(ch, &wait).await?;
            }
            Err(e) => report.problem(format!("shipment {shipment_id}: {e}")),
        }
    }
    Ok(())
}

/// Remembers a shipment found without tracking (once: later sightings find it remembered).
async fn remember_wait(
    ch: &Channel,
    po: &PurchaseOrderId,
    shipment_id: CommerceShipmentId,
) -> Result<(), OpError> {
    let wait = TrackingWait::new(ch.settings.id.clone(), shipment_id, po.clone(), ch.clock.now());
    if ch.store.insert_new(&wait).await? {
        tracing::info!(%shipment_id, "shipment has no tracking number yet; it will be read again");
    }
    Ok(())
}

/// Saves a wait's next check; a lost race means another run rescheduled it.
async fn save_wait(ch: &Channel, wait: &mut Versioned<TrackingWait>) -> Result<(), OpError> {
    match ch.store.save(wait).await {
        Err(e) if e.is_condition_failure() => Ok(()),
        other => Ok(other?),
    }
}

async fn forget_wait(ch: &Channel, wait: &Versioned<TrackingWait>) -> Result<(), OpError> {
    let expect = wait.version.map_or(Expect::Any, Expect::Version);
    match ch.store.delete(&ports::Record::key(&wait.record), expect).await {
        Err(e) if e.is_condition_failure() => Ok(()),
        other => Ok(other?),
    }
}
