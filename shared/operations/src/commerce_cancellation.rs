//! The Walmart cancellations a purchase order's record holds as pending in Commerce, reflected there:
//! when nothing of the order is left to ship the Commerce order is cancelled (Adobe's product only
//! cancels whole orders); a partial cancellation, or an order Commerce cannot cancel, gets a clear
//! order comment instead, and the latter an Error status with the reason on the dashboard. A
//! customer's request to cancel is noted once on the Commerce order. Shared by cancellation-sync
//! (Walmart → Commerce) and order-create (cancellations that arrived while the order was placed).

use domain::{CancellationRecord, LineNumber, OrderRecord, PurchaseOrderId, SyncTask, Timestamp};
use ports::commerce::model::{Order, OrderState};
use ports::records::{order_key, order_pk};
use ports::{Deadline, Query, Records, SortRange};

use crate::claim::{ClaimKind, Lease, OnceOutcome};
use crate::dashboard::load_order;
use crate::order_support::{caused_by_request, enqueue_urgent_inventory};
use crate::{Channel, OpError};

/// How Walmart cancellations were reflected in Commerce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reflection {
    /// Nothing was pending (or the order is not in Commerce).
    Nothing,
    /// Nothing of the order was left to ship: the Commerce order was cancelled.
    CommerceOrderCancelled,
    /// A partial cancellation: an order comment tells the merchant not to ship those units.
    Commented,
    /// Commerce could not cancel the order: commented, and the order shows Error.
    CannotCancel(String),
    /// The customer's request to cancel is on the Commerce order as a comment.
    RequestNoted,
    /// Another invocation is at it.
    Busy,
}

impl OnceOutcome for Reflection {
    const DONE_BEFORE: Self = Reflection::Busy;
    const BUSY: Self = Reflection::Busy;
}

/// Reflects in Commerce the Walmart cancellations the record holds as pending there. Also called
/// by order-create when cancellations arrived while the order was being placed.
pub async fn reflect_in_commerce(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<Reflection, OpError> {
    let Some(record) = load_order(ch.store.as_ref(), &ch.settings.id, po).await? else {
        return Ok(Reflection::Nothing);
    };
    let pending = !record.record.cancellations_pending_in_commerce().is_empty()
        || record.record.cancel_request_pending_in_commerce();
    if !pending || record.record.commerce_link().is_none() {
        return Ok(Reflection::Nothing);
    }
    // Given back every time: a later cancellation of the order is reflected under the same claim.
    let claim = ClaimKind::CancelInCommerce.on(po);
    claim
        .once(ch, deadline, |lease| async move {
            let noted = note_cancel_request(ch, &lease, po, deadline).await?;
            Ok(match reflect_claimed(ch, &lease, po, deadline).await? {
                Reflection::Nothing if noted => Reflection::RequestNoted,
                other => other,
            })
        })
        .await
}

/// The comment on the Commerce order for a customer's request to cancel on Walmart, once (an
/// earlier attempt's comment is looked for first). Returns whether it noted one now.
async fn note_cancel_request(
    ch: &Channel,
    lease: &Lease,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<bool, OpError> {
    let Some(record) = load_order(ch.store.as_ref(), &ch.settings.id, po).await? else {
        return Ok(false);
    };
    let record = record.record;
    let Some(link) = record.commerce_link().cloned() else {
        return Ok(false);
    };
    if !record.cancel_request_pending_in_commerce() {
        return Ok(false);
    }
    let lines: Vec<(LineNumber, u32)> = record
        .cancel_requested()
        .iter()
        .filter_map(|n| record.line(*n).map(|l| (*n, l.ordered)))
        .collect();
    let comment = format!(
        "Walmart purchase order {po}: customer asked to cancel on Walmart ({}). Cancel the order here \
         to cancel it on Walmart as the customer asked, or ship it anyway.",
        describe_lines(&record, &lines)
    );
    let order = ch.commerce.get_order(link.order_id, deadline).await?;
    comment_once(ch, lease, &order, &comment, deadline).await?;
    let now = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
            r.cancel_request_noted(now);
            Ok(true)
        })
        .await?;
    tracing::info!("customer's cancellation request noted on the Commerce order");
    Ok(true)
}

/// Adds `comment` to the Commerce order under the claim, unless an earlier attempt did (`order` is
/// read after it, so its comments show it).
async fn comment_once(
    ch: &Channel,
    lease: &Lease,
    order: &Order,
    comment: &str,
    deadline: &Deadline,
) -> Result<(), OpError> {
    if !order.status_histories.iter().any(|h| h.comment == comment) {
        lease.keep_for_action(ch, deadline).await?;
        ch.commerce
            .add_order_comment(order.entity_id, comment, deadline)
            .await?;
    }
    Ok(())
}

async fn reflect_claimed(
    ch: &Channel,
    lease: &Lease,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<Reflection, OpError> {
    let Some(record) = load_order(ch.store.as_ref(), &ch.settings.id, po).await? else {
        return Ok(Reflection::Nothing);
    };
    let record = record.record;
    let pending = record.cancellations_pending_in_commerce();
    let Some(link) = record.commerce_link().cloned() else {
        return Ok(Reflection::Nothing);
    };
    if pending.is_empty() {
        return Ok(Reflection::Nothing);
    }
    let order = ch.commerce.get_order(link.order_id, deadline).await?;
    let nothing_left = record.lines().iter().all(|l| l.open() == 0);
    let described = describe_lines(&record, &pending);
    let (reflection, comment) = if nothing_left {
        let cancelled = if order.state == OrderState::Canceled {
            Ok(true)
        } else {
            lease.keep_for_action(ch, deadline).await?;
            match ch.commerce.cancel_order(link.order_id, deadline).await {
                Ok(done) => Ok(done),
                Err(e) if caused_by_request(&e) => Err(e.message),
                Err(e) => return Err(e.into()),
            }
        };
        match cancelled {
            Ok(true) => (
                Reflection::CommerceOrderCancelled,
                format!("Walmart purchase order {po}: cancelled on Walmart ({described}); order cancelled."),
            ),
            Ok(false) | Err(_) => {
                let why = match cancelled {
                    Err(message) => message,
                    _ => format!("state {}", order.state),
                };
                let reason = format!(
                    "cancelled on Walmart ({described}) but Commerce could not cancel order {} ({why}); \
                     do not ship it, and refund or close it by hand",
                    link.increment_id
                );
                (
                    Reflection::CannotCancel(reason.clone()),
                    format!("Walmart purchase order {po}: {reason}."),
                )
            }
        }
    } else {
        (
            Reflection::Commented,
            format!(
                "Walmart purchase order {po}: {described} cancelled on Walmart. Commerce cancels whole \
                 orders only: do not ship these units."
            ),
        )
    };
    comment_once(ch, lease, &order, &comment, deadline).await?;
    let now = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
            match &reflection {
                Reflection::CommerceOrderCancelled => {
                    r.cancellations_reflected(None, now);
                    r.sync_recovered(&SyncTask::CancelInCommerce, now);
                }
                Reflection::CannotCancel(reason) => {
                    r.cancellations_reflected(Some(reason.clone()), now);
                    r.sync_failed(SyncTask::CancelInCommerce, reason.clone(), now);
                }
                _ => r.cancellations_reflected(Some("partial cancellation noted on the order".into()), now),
            }
            Ok(true)
        })
        .await?;
    mark_walmart_cancellations_delivered(ch, po, now).await?;
    if reflection == Reflection::CommerceOrderCancelled {
        // Cancelling released the reservations: Walmart should see the stock again soon.
        enqueue_urgent_inventory(ch, record.order.lines.iter().map(|l| &l.sku)).await;
    }
    tracing::info!(?reflection, "Walmart cancellation reflected in Commerce");
    Ok(reflection)
}

fn describe_lines(record: &OrderRecord, lines: &[(domain::LineNumber, u32)]) -> String {
    lines
        .iter()
        .map(|(number, qty)| {
            let sku = record.order.line(*number).map_or("?", |l| l.sku.as_str());
            format!("line {number} ({sku}) x{qty}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Walmart-side cancellation audit entries of the order are delivered to Commerce now.
async fn mark_walmart_cancellations_delivered(
    ch: &Channel,
    po: &PurchaseOrderId,
    now: Timestamp,
) -> Result<(), OpError> {
    let query =
        Query::partition(order_pk(&ch.settings.id, po)).range(SortRange::Prefix("CANCEL#walmart#".into()));
    let (entries, _) = ch.store.query_records::<CancellationRecord>(&query).await?;
    for mut entry in entries {
        if entry.record.delivery.is_sent() {
            continue;
        }
        entry.record.delivery.mark_sent(now)?;
        match ch.store.save(&mut entry).await {
            Ok(()) => {}
            Err(e) if e.is_condition_failure() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
