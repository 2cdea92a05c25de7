//! `order_create`: the Commerce order for a Walmart purchase order is created exactly once.
//!
//! One [`CreateOrder`] message per purchase order (from order-import, its sweep, or a re-drive).
//! Exactly once, even with SQS redelivery, concurrent invocations and a crash between "Commerce
//! order placed" and "link saved":
//! 1. the dashboard record says whether the order exists already (then only what follows creation
//!    is finished: acknowledgement, Walmart cancellations that arrived meanwhile);
//! 2. the work is claimed with an idempotency record `order-create#<channel>#<po>` leased for the
//!    invocation's remaining time, so a concurrent delivery backs off (retryable `Busy`) and a
//!    crashed holder's lease runs out;
//! 3. the claim holder looks for a Commerce order already carrying the purchase order id (the
//!    `purchaseorder` payment's `po_number`) before placing one, so an order placed by a holder that
//!    crashed is found and linked rather than placed again (the Commerce client also looks by
//!    itself when a placement answer is lost);
//! 4. the link (Commerce order id, increment id, order item and price per line, price differences
//!    flagged) is saved with the record's version condition, then the claim is completed.
//!
//! Claims are fenced (each acquisition has its own token), so a holder whose lease ran out and was
//! taken over cannot complete, renew or release the new holder's claim, and does not place. Before
//! placing, the holder renews its claim for as long as the placement can land: its remaining time
//! (the client gives up by the deadline) plus the time Commerce may still take to apply a request
//! the client gave up on ([`ports::Commerce::write_settle_time`]). After an ambiguous failure the
//! claim is kept (not released) until that settle time has passed. So the next holder's look-up
//! starts only once any earlier placement has landed or never will, and cannot miss it. A delivery
//! that finds the claim held defers itself (a new, delayed message) instead of failing, so waiting
//! does not use up the message's receives. A duplicate that slips through anyway (two Commerce
//! orders carrying the purchase order) is cancelled in Commerce with a comment naming the kept
//! order, logged, and noted on the order's record.
//!
//! The order is placed through Commerce's cart flow (reserving stock) for the mapped customer, the
//! ship-to address, the shipping method configured for the Walmart method code and the configured
//! offline payment method; units Walmart cancelled before placement are left out. Orders Commerce
//! refuses (unknown SKU, disabled product, out of stock, invalid address, ...) are marked failed with
//! Commerce's reason; order-import's sweep retries them with growing delays up to
//! `orders.max_create_attempts`, after which they wait for [`redrive`]. Transient failures (network,
//! 5xx, throttling) fail the message so SQS redelivers it.

use domain::{
    CommerceOrderLink, CreationState, LineNumber, Money, Operation, OrderRecord, OrderTotals, PurchaseOrder,
    PurchaseOrderId, SyncTask, Timestamp,
};
use ports::StoreCall;
use ports::commerce::model::Order;
use ports::commerce::{OrderLookup, OrderPlacement};
use ports::records::order_key;
use ports::{ApiErrorKind, Deadline, QueueName, Records, Versioned};
use std::time::Duration;
use tracing::Instrument;

use crate::Counter;
use crate::claim::{AfterWork, ClaimKind, Claimed, Lease, hold_for, with_claim};
use crate::dashboard::{CommerceOrderIndex, load_order};
use crate::declaration::Declaration;
pub use crate::messages::CreateOrder;
use crate::messages::{self, Received};
use crate::order_support::{self, caused_by_request, enqueue_urgent_inventory, recorded_order};
use crate::{Channel, OpError, RunReport, commerce_cancellation, walmart_shipment};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): the order record and the
/// Commerce order index; the per-order claim (`claim::with_claim`), completed, renewed or
/// released; the configuration check.
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Query,
    StoreCall::Claim,
    StoreCall::Complete,
    StoreCall::Renew,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): a created
/// order changes stock (urgent inventory update, `order_support::enqueue_urgent_inventory`); a
/// request whose claim another invocation holds is sent again, delayed, instead of failing.
pub const SENDS_TO: &[QueueName] = &[QueueName::InventorySync, QueueName::OrderCreate];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "order-create",
    consumes: Some(QueueName::OrderCreate),
    scheduled: false,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

/// What one creation attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// Placed now (`recovered`: found, placed by an attempt that did not get to save the link).
    Created {
        link: CommerceOrderLink,
        recovered: bool,
    },
    /// The record already had its Commerce order.
    AlreadyCreated,
    /// Commerce refused the order; `will_retry` until the attempt limit.
    Failed { reason: String, will_retry: bool },
    /// Nothing to create (why).
    Skipped(&'static str),
    /// Another invocation holds the creation until `until` (it may be placing the order right
    /// now): nothing was done; try again after then.
    InProgressElsewhere { until: Timestamp },
}

/// SQS's longest message delay.
const MAX_DEFER: Duration = Duration::from_secs(900);
/// The shortest deferral, so a claim just given up is not polled in a tight loop.
const MIN_DEFER: Duration = Duration::from_secs(30);

/// The SQS handler: one message, one purchase order.
pub async fn handle_message(
    ch: &Channel,
    message: &Received<CreateOrder>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let request = message.body.clone();
    if request.channel != ch.settings.id {
        return Err(OpError::Invalid(format!(
            "message for channel {} reached channel {}",
            request.channel, ch.settings.id
        )));
    }
    let po = request.purchase_order_id;
    let span =
        tracing::info_span!("order_create", purchase_order = %po, receive_count = message.receive_count);
    let mut report = RunReport::new(Operation::OrderCreate);
    let outcome = create_order_reporting(ch, &po, deadline, &mut report)
        .instrument(span.clone())
        .await?;
    span.in_scope(|| tracing::info!(?outcome, counts = ?report.counts, "order-create handled"));
    match outcome {
        CreateOutcome::InProgressElsewhere { until } => defer(ch, &po, until).await?,
        // A Walmart cancellation recorded while the order had no Commerce order yet is reflected
        // once it has one; cancellation-sync's cursor may have passed it, so this message comes
        // back until it is.
        CreateOutcome::Created { .. } | CreateOutcome::AlreadyCreated
            if cancellation_still_pending(ch, &po).await? =>
        {
            span.in_scope(|| {
                tracing::info!("Walmart cancellation not yet reflected in Commerce; asked again later")
            });
            defer(ch, &po, ch.clock.now().plus(CANCELLATION_RETRY)).await?;
        }
        _ => {}
    }
    Ok(())
}

/// How long a created order whose Walmart cancellation could not be reflected yet waits before
/// order-create tries again.
const CANCELLATION_RETRY: Duration = Duration::from_secs(300);

async fn cancellation_still_pending(ch: &Channel, po: &PurchaseOrderId) -> Result<bool, OpError> {
    Ok(load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .is_some_and(|r| cancellation_pending(&r.record)))
}

fn cancellation_pending(record: &OrderRecord) -> bool {
    record.commerce_link().is_some()
        && (!record.cancellations_pending_in_commerce().is_empty()
            || record.cancel_request_pending_in_commerce())
}

/// Sends the request again, delayed until `until` (at most SQS's longest delay; a claim held
/// longer is met again and deferred again). This message then succeeds: waiting for another
/// holder costs none of its receives, so it never reaches the dead-letter queue for that.
async fn defer(ch: &Channel, po: &PurchaseOrderId, until: Timestamp) -> Result<(), OpError> {
    let delay = until.since(ch.clock.now()).clamp(MIN_DEFER, MAX_DEFER);
    messages::send_delayed(ch, &CreateOrder::new(ch, po.clone()), delay).await
}

/// Creates the Commerce order of `po` if it does not exist, then finishes what follows creation.
pub async fn create_order(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<CreateOutcome, OpError> {
    create_order_reporting(ch, po, deadline, &mut RunReport::new(Operation::OrderCreate)).await
}

/// As [`create_order`], counting in `report` the duplicate Commerce orders it cancelled
/// (`duplicates_cancelled`) or could not cancel (`duplicates_left_open`).
pub async fn create_order_reporting(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<CreateOutcome, OpError> {
    let record = recorded_order(ch, po, "is not recorded").await?.record;
    match record.creation() {
        CreationState::Created { .. } => {
            finish(ch, po, false, deadline).await?;
            return Ok(CreateOutcome::AlreadyCreated);
        }
        CreationState::Failed { attempts, .. } if *attempts >= ch.settings.orders.max_create_attempts => {
            return Ok(CreateOutcome::Skipped("attempts used up; waiting for a re-drive"));
        }
        _ => {}
    }
    if record.order_to_place().lines.is_empty() {
        return Ok(CreateOutcome::Skipped("every unit was cancelled on Walmart"));
    }
    let placing = with_claim(ch, ClaimKind::OrderCreate, po.as_str(), deadline, |lease| {
        place_claimed(ch, lease, po, deadline, &mut *report)
    })
    .await?;
    let (placed, recovered, imported_at) = match placing {
        Claimed::Ran(Placing::Linked {
            placed,
            recovered,
            imported_at,
        }) => (placed, recovered, imported_at),
        Claimed::Ran(Placing::AlreadyLinked) => {
            finish(ch, po, false, deadline).await?;
            return Ok(CreateOutcome::AlreadyCreated);
        }
        Claimed::Ran(Placing::Refused(outcome)) => return Ok(outcome),
        Claimed::HeldElsewhere { until } => return Ok(CreateOutcome::InProgressElsewhere { until }),
        // Completed since we read the record: the record has the link now.
        Claimed::Done => return link_without_claim(ch, po, deadline).await,
        Claimed::Lost => {
            tracing::warn!("the creation claim was taken over before placing; not placing");
            return Ok(CreateOutcome::InProgressElsewhere {
                until: ch.clock.now(),
            });
        }
    };
    let link = placed.link.clone();
    tracing::info!(order_id = %link.order_id, increment_id = %link.increment_id, recovered, "Commerce order linked");
    if recovered {
        // Placed by an earlier attempt that died before linking it: the merchant may have shipped
        // it since, unseen by shipment-sync (no channel order then).
        match walmart_shipment::sync_shipments_of(ch, link.order_id, imported_at, deadline).await {
            Ok(sent) => report.add(Counter::LateShipmentsSent, sent),
            Err(e) => tracing::warn!(error = %e, "shipments of a late-linked order not checked"),
        }
    }
    enqueue_urgent_inventory(ch, placed.order.lines.iter().map(|l| &l.sku)).await;
    finish(ch, po, !recovered, deadline).await?;
    Ok(CreateOutcome::Created { link, recovered })
}

/// What the claimed part of order creation came to.
enum Placing {
    /// A holder that finished just before us, or a duplicate linked meanwhile, left the link.
    AlreadyLinked,
    /// Commerce refused the order; recorded on the order as this outcome.
    Refused(CreateOutcome),
    /// The Commerce order is linked now: found (`recovered`, an earlier attempt placed it) or placed.
    Linked {
        placed: Box<Placed>,
        recovered: bool,
        imported_at: Timestamp,
    },
}

/// Under the creation claim: re-reads the record, finds the Commerce order an earlier attempt
/// placed or places it, saves the link and cancels duplicates.
async fn place_claimed(
    ch: &Channel,
    lease: Lease,
    po: &PurchaseOrderId,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<AfterWork<Placing>, OpError> {
    // Re-read under the claim: a holder that finished just before us saved the link.
    let record = recorded_order(ch, po, "vanished").await?.record;
    if record.commerce_link().is_some() {
        return Ok(AfterWork::Release(Placing::AlreadyLinked));
    }
    let placement = OrderPlacement::from_settings(&ch.settings.orders, &record.order.method_code);
    let lookup = OrderLookup::for_purchase_order(&record.order, &placement);
    let found = ch
        .commerce
        .orders_for_purchase_order(po, &lookup, deadline)
        .await?;
    let (placed, recovered, duplicates) = match found.split_first() {
        // The oldest is kept; any other is a duplicate, cancelled once the link is saved.
        Some((kept, others)) => (placed_from_existing(&record, kept)?, true, others.to_vec()),
        None => match place_new(ch, &lease, po, &record, &placement, deadline).await? {
            Ok(placed) => placed,
            Err(stop) => return Ok(stop),
        },
    };
    // The order exists in Commerce from here on: if saving the link fails, the claim is given back
    // and the next attempt finds the order instead of placing another.
    let kept = save_link(ch, po, &placed).await?;
    if kept != placed.link {
        // Linked to another Commerce order meanwhile (a duplicate slipped through): ours goes.
        cancel_duplicate(ch, po, &kept, &placed.link, deadline, report).await;
        return Ok(AfterWork::Release(Placing::AlreadyLinked));
    }
    for duplicate in &duplicates {
        cancel_duplicate(ch, po, &kept, &duplicate_link(duplicate), deadline, report).await;
    }
    let link = &placed.link;
    let result = serde_json::json!({ "order_id": link.order_id, "increment_id": link.increment_id });
    Ok(AfterWork::Complete(
        Placing::Linked {
            placed: Box::new(placed),
            recovered,
            imported_at: record.imported_at,
        },
        result,
    ))
}

/// Places the Commerce order no earlier attempt placed: `Ok(Err(..))` says how the claim ends
/// instead when Commerce refused or the answer was ambiguous.
async fn place_new(
    ch: &Channel,
    lease: &Lease,
    po: &PurchaseOrderId,
    record: &OrderRecord,
    placement: &OrderPlacement,
    deadline: &Deadline,
) -> Result<Result<(Placed, bool, Vec<Order>), AfterWork<Placing>>, OpError> {
    // Hold the claim for as long as this placement can land (see the module docs); if another
    // invocation took it meanwhile (`ClaimLost`), it does the work and we place nothing.
    let settle = ch.commerce.write_settle_time();
    let until = ch
        .clock
        .now()
        .plus(hold_for(ch.clock.as_ref(), deadline.remaining(), settle));
    lease.hold_until(ch, until).await?;
    let to_place = record.order_to_place();
    match ch.commerce.create_order_for(&to_place, placement, deadline).await {
        Ok(order) => Ok(Ok((
            Placed {
                link: order.link(),
                lines: order
                    .lines
                    .iter()
                    .map(|l| (l.line, l.order_item_id, l.commerce_unit_price))
                    .collect(),
                order: to_place,
                commerce_totals: order.commerce_totals,
            },
            order.recovered,
            Vec::new(),
        ))),
        // The store refused before placing (the payment method is off): nothing can land, so the
        // claim goes back and the configuration problem is reported as such.
        Err(e) if e.kind == ApiErrorKind::Configuration => Err(e.into()),
        Err(e) if caused_by_request(&e) => {
            let reason = format!("Commerce refused the order: {}", e.message);
            let outcome = record_failure(ch, po, reason).await?;
            Ok(Err(AfterWork::Release(Placing::Refused(outcome))))
        }
        Err(e) => {
            // Ambiguous (timeout, 5xx, lost answer the client could not resolve): Commerce may
            // still apply the placement. Not released: the claim is kept until that would have
            // happened, so the next attempt's look-up finds it.
            let until = ch
                .clock
                .now()
                .plus(hold_for(ch.clock.as_ref(), Duration::ZERO, settle));
            if let Err(hold) = lease.hold_until(ch, until).await {
                tracing::warn!(error = %hold, "could not shorten the claim after an ambiguous placement; it expires with its lease");
            }
            Ok(Err(AfterWork::Keep(e.into())))
        }
    }
}

fn duplicate_link(order: &Order) -> CommerceOrderLink {
    CommerceOrderLink {
        order_id: order.entity_id,
        increment_id: order.increment_id.clone(),
    }
}

/// Cancels `duplicate`, a second Commerce order of `po`, so it holds no stock: a comment naming
/// the purchase order and the kept order first, then the cancellation; noted on the order's record
/// (history, or a problem when Commerce would not cancel) and logged. Failures are logged and
/// recorded, never raised: the kept order's story goes on.
async fn cancel_duplicate(
    ch: &Channel,
    po: &PurchaseOrderId,
    kept: &CommerceOrderLink,
    duplicate: &CommerceOrderLink,
    deadline: &Deadline,
    report: &mut RunReport,
) {
    let comment = format!(
        "Duplicate of order {} for Walmart purchase order {po}: cancelled by Channel Manager.",
        kept.increment_id
    );
    let outcome = match ch
        .commerce
        .add_order_comment(duplicate.order_id, &comment, deadline)
        .await
    {
        Ok(()) => ch.commerce.cancel_order(duplicate.order_id, deadline).await,
        Err(e) => Err(e),
    };
    let problem = match outcome {
        Ok(true) => None,
        Ok(false) => Some(format!(
            "duplicate Commerce order {} of purchase order {po} could not be cancelled in Commerce; cancel it by hand",
            duplicate.increment_id
        )),
        Err(e) => Some(format!(
            "duplicate Commerce order {} of purchase order {po} not cancelled yet: {e}",
            duplicate.increment_id
        )),
    };
    report.add(
        if problem.is_none() {
            Counter::DuplicatesCancelled
        } else {
            Counter::DuplicatesLeftOpen
        },
        1,
    );
    match &problem {
        None => tracing::warn!(
            purchase_order = %po,
            kept = %kept.increment_id,
            duplicate = %duplicate.increment_id,
            "duplicate Commerce order cancelled"
        ),
        Some(reason) => tracing::error!(
            purchase_order = %po,
            kept = %kept.increment_id,
            duplicate = %duplicate.increment_id,
            %reason,
            "duplicate Commerce order left open"
        ),
    }
    let now = ch.clock.now();
    let noted = ch
        .store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |record| {
            match &problem {
                None => record.duplicate_cancelled(duplicate.increment_id.clone(), now),
                Some(reason) => record.sync_failed(SyncTask::CancelDuplicate, reason.clone(), now),
            }
            Ok(true)
        })
        .await;
    if let Err(e) = noted {
        tracing::warn!(error = %e, "duplicate Commerce order not noted on the order's record");
    }
}

/// What was placed in Commerce: the link, per line its order item and Commerce unit price, and the
/// quantities the Commerce order holds.
struct Placed {
    link: CommerceOrderLink,
    lines: Vec<(LineNumber, Option<u64>, Option<Money>)>,
    order: PurchaseOrder,
    /// Commerce's totals of the order, beside Walmart's on the record.
    commerce_totals: Option<OrderTotals>,
}

/// The placement an existing Commerce order shows: its items by SKU (a cart holds one item per SKU),
/// their quantities spread over the Walmart lines of that SKU in line order.
fn placed_from_existing(record: &OrderRecord, order: &Order) -> Result<Placed, OpError> {
    let mut placed = record.order.clone();
    let mut lines = Vec::new();
    let mut left: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for line in &mut placed.lines {
        let item = order
            .items
            .iter()
            .find(|i| i.sku.as_ref() == Some(&line.sku) && i.parent_item_id.is_none())
            .or_else(|| order.items.iter().find(|i| i.sku.as_ref() == Some(&line.sku)));
        let remaining = left
            .entry(line.sku.as_str().to_owned())
            .or_insert_with(|| item.map_or(0, |i| i.qty_ordered));
        let quantity = line.quantity.min(*remaining);
        *remaining -= quantity;
        line.quantity = quantity;
        lines.push((
            line.number,
            item.and_then(|i| i.item_id),
            item.and_then(|i| i.price),
        ));
    }
    placed.lines.retain(|l| l.quantity > 0);
    Ok(Placed {
        link: CommerceOrderLink {
            order_id: order.entity_id,
            increment_id: order.increment_id.clone(),
        },
        lines,
        order: placed,
        commerce_totals: order.totals,
    })
}

/// Saves the link on the record (version-checked, retried on a lost race) and the Commerce order
/// index; returns the link the record keeps. A record already linked to another Commerce order
/// keeps that one (the caller cancels `placed` as a duplicate).
async fn save_link(
    ch: &Channel,
    po: &PurchaseOrderId,
    placed: &Placed,
) -> Result<CommerceOrderLink, OpError> {
    let now = ch.clock.now();
    let mut kept = placed.link.clone();
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |record| {
            if let Some(existing) = record.commerce_link()
                && *existing != placed.link
            {
                kept = existing.clone();
                return Ok(false);
            }
            kept = placed.link.clone();
            record.created_from(placed.link.clone(), &placed.order, now)?;
            for (line, item, price) in &placed.lines {
                record.link_line(*line, *item, *price, now)?;
            }
            if let Some(totals) = placed.commerce_totals {
                record.compare_totals(&placed.order, totals, now);
            }
            Ok(true)
        })
        .await?
        .ok_or_else(|| OpError::missing("purchase order", po, "vanished"))?;
    if kept != placed.link {
        return Ok(kept);
    }
    let mut index = Versioned::new(CommerceOrderIndex {
        channel: ch.settings.id.clone(),
        order_id: placed.link.order_id,
        purchase_order: po.clone(),
        increment_id: Some(placed.link.increment_id.clone()),
    });
    match ch.store.save(&mut index).await {
        Ok(()) => Ok(kept),
        Err(e) if e.is_condition_failure() => Ok(kept),
        Err(e) => Err(e.into()),
    }
}

/// Claimed as completed by someone else: make sure the record carries the link (it does, unless
/// the store lost a write), then finish.
async fn link_without_claim(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<CreateOutcome, OpError> {
    let record = recorded_order(ch, po, "is not recorded").await?.record;
    if record.commerce_link().is_none() {
        // Finding and linking without the claim is safe: nothing is placed here.
        let placement = OrderPlacement::from_settings(&ch.settings.orders, &record.order.method_code);
        let lookup = OrderLookup::for_purchase_order(&record.order, &placement);
        let order = ch
            .commerce
            .orders_for_purchase_order(po, &lookup, deadline)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                OpError::missing(
                    "purchase order",
                    po,
                    "is recorded as created, but no Commerce order carries it",
                )
            })?;
        save_link(ch, po, &placed_from_existing(&record, &order)?).await?;
    }
    finish(ch, po, false, deadline).await?;
    Ok(CreateOutcome::AlreadyCreated)
}

async fn record_failure(
    ch: &Channel,
    po: &PurchaseOrderId,
    reason: String,
) -> Result<CreateOutcome, OpError> {
    let now = ch.clock.now();
    let max = ch.settings.orders.max_create_attempts;
    let mut will_retry = false;
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |record| {
            if record.commerce_link().is_some() {
                return Ok(false);
            }
            will_retry = record.creation_failed(reason.clone(), max, now)?;
            Ok(true)
        })
        .await?;
    tracing::warn!(%reason, will_retry, "Commerce order not created");
    Ok(CreateOutcome::Failed { reason, will_retry })
}

/// What follows creation: the acknowledgement, and Walmart cancellations that arrived while the
/// order was being placed.
/// `placed_now`: this invocation placed the order, so no earlier one can have acknowledged it.
async fn finish(
    ch: &Channel,
    po: &PurchaseOrderId,
    placed_now: bool,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let record = order_support::acknowledge_once(ch, po, !placed_now, deadline).await?;
    if cancellation_pending(&record)
        && let Err(e) = commerce_cancellation::reflect_in_commerce(ch, po, deadline).await
    {
        // The message handler asks again later (the record still shows it pending).
        tracing::warn!(error = %e, "Walmart cancellation not yet reflected in Commerce");
    }
    Ok(())
}

pub use crate::order_intake::redrive;

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ChannelId;

    #[test]
    fn messages_round_trip_and_bad_bodies_are_invalid() {
        let message = CreateOrder {
            channel: ChannelId::new("main").unwrap(),
            purchase_order_id: PurchaseOrderId::new("1796000000001").unwrap(),
        };
        let body = serde_json::to_string(&message).unwrap();
        assert_eq!(body, r#"{"channel":"main","purchase_order_id":"1796000000001"}"#);
        assert_eq!(CreateOrder::parse(&body).unwrap(), message);
        assert!(matches!(
            CreateOrder::parse("{}"),
            Err(OpError::BadMessage { .. })
        ));
        assert!(matches!(
            CreateOrder::parse(r#"{"channel":"main","purchase_order_id":"PO-1"}"#),
            Err(OpError::BadMessage { .. })
        ));
    }
}
