//! The Walmart cancellations a purchase order's record holds as pending in Commerce, reflected there:
//! when nothing of the order is left to ship the Commerce order is cancelled (Adobe's product only
//! cancels whole orders); a partial cancellation, or an order Commerce cannot cancel, gets a clear
//! order comment instead, and the latter an Error status with the reason on the dashboard. A
//! customer's request to cancel is noted once on the Commerce order. Shared by cancellation-sync
//! (Walmart → Commerce) and order-create (cancellations that arrived while the order was placed).
//! One Walmart order's new cancellations and cancel requests are recorded here too
//! ([`walmart_cancellations`]), for cancellation-sync's poll and Walmart's cancellation events.

use domain::{CancellationRecord, LineNumber, OrderRecord, PurchaseOrderId, SyncTask, Timestamp};
use ports::commerce::model::OrderState;
use ports::records::{order_key, order_pk};
use ports::{Deadline, Query, Records, SortRange};

use crate::claim::{AfterWork, ClaimKind, Lease, with_claim};
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
    let reflected = with_claim(
        ch,
        ClaimKind::CancelInCommerce,
        po.as_str(),
        deadline,
        |lease| async move {
            let noted = note_cancel_request(ch, &lease, po, deadline).await?;
            Ok(AfterWork::Release(
                match reflect_claimed(ch, &lease, po, deadline).await? {
                    Reflection::Nothing if noted => Reflection::RequestNoted,
                    other => other,
                },
            ))
        },
    )
    .await?;
    Ok(reflected.or(Reflection::Busy, Reflection::Busy))
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
    if !order.status_histories.iter().any(|h| h.comment == comment) {
        lease.keep_for_action(ch, deadline).await?;
        ch.commerce
            .add_order_comment(link.order_id, &comment, deadline)
            .await?;
    }
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
    if !order.status_histories.iter().any(|h| h.comment == comment) {
        lease.keep_for_action(ch, deadline).await?;
        ch.commerce
            .add_order_comment(link.order_id, &comment, deadline)
            .await?;
    }
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

// ------------------------------------------------------------------ one Walmart order
// Walmart → Commerce for one order as Walmart shows it: cancellation-sync's poll hands each changed
// order here, and a Walmart cancellation event (`walmart_events`) its one order.

use domain::{CancelReason, Delivery, LineQuantity, Origin};
use ports::walmart::{LineState, WalmartOrder};

use crate::order_support::{note_unknown_values, unknown_values_change};

/// One order's Walmart-side cancellations and cancel requests, as a Walmart event announces them:
/// the order is read from Walmart, then goes through the poll's code for it. An order not recorded
/// yet is left to its import (event or poll), which reads Walmart's order as it is then, with its
/// cancelled units and cancel requests: events arriving out of order lose nothing.
pub(crate) async fn reflect_walmart_order(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<Reflection, OpError> {
    if load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .is_none()
    {
        return Ok(Reflection::Nothing);
    }
    let on_walmart = ch.walmart.get_order(po, deadline).await?;
    Ok(walmart_cancellations(ch, &on_walmart, deadline).await?.reflection)
}

pub(crate) struct FromWalmart {
    pub(crate) recorded: u32,
    /// Lines newly recorded as asked to cancel by the customer.
    pub(crate) requested: u32,
    pub(crate) reflection: Reflection,
}

/// Units Walmart shows cancelled beyond what the record has, per line (capped by the open units).
pub fn cancelled_on_walmart_only(record: &OrderRecord, on_walmart: &WalmartOrder) -> Vec<LineQuantity> {
    record
        .lines()
        .iter()
        .filter_map(|line| {
            let there = on_walmart.quantity_in(line.number, LineState::Cancelled);
            let new = there.saturating_sub(line.cancelled).min(line.open());
            (new > 0).then_some(LineQuantity {
                line: line.number,
                quantity: new,
            })
        })
        .collect()
}

pub(crate) async fn walmart_cancellations(
    ch: &Channel,
    on_walmart: &WalmartOrder,
    deadline: &Deadline,
) -> Result<FromWalmart, OpError> {
    let po = &on_walmart.order.id;
    // Not recorded yet: order-import records it with its cancelled units.
    let Some(record) = load_order(ch.store.as_ref(), &ch.settings.id, po).await? else {
        return Ok(FromWalmart {
            recorded: 0,
            requested: 0,
            reflection: Reflection::Nothing,
        });
    };
    // What Walmart sent that the channel does not know shows on the record (and clears once it
    // reads clean); the record is written only when that changes.
    let now = ch.clock.now();
    if unknown_values_change(&record.record, on_walmart) {
        ch.store
            .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
                Ok(note_unknown_values(r, on_walmart, now))
            })
            .await?;
    }
    let mut requested = 0;
    let new_requests: Vec<LineNumber> = on_walmart
        .intent_to_cancel
        .iter()
        .filter(|n| !record.record.cancel_requested().contains(n))
        .copied()
        .collect();
    if !new_requests.is_empty() {
        let now = ch.clock.now();
        ch.store
            .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
                Ok(r.customer_asked_to_cancel(&new_requests, now))
            })
            .await?;
        requested = u32::try_from(new_requests.len()).unwrap_or(u32::MAX);
        tracing::info!(lines = requested, "customer asked to cancel on Walmart");
    }
    let mut recorded = 0;
    if !cancelled_on_walmart_only(&record.record, on_walmart).is_empty() {
        let now = ch.clock.now();
        let mut lines = Vec::new();
        ch.store
            .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
                lines = cancelled_on_walmart_only(r, on_walmart);
                for lq in &lines {
                    r.cancelled_on_walmart(lq.line, lq.quantity, now)?;
                }
                Ok(!lines.is_empty())
            })
            .await?;
        recorded = lines.iter().map(|l| l.quantity).sum();
        if !lines.is_empty() {
            let walmart_reason = on_walmart
                .statuses
                .iter()
                .filter(|s| s.state == LineState::Cancelled)
                .find_map(|s| s.cancellation_reason.clone());
            let customer = walmart_reason
                .as_deref()
                .is_some_and(|r| r.to_ascii_uppercase().contains("CUSTOMER"));
            let audit = CancellationRecord {
                channel: ch.settings.id.clone(),
                purchase_order: po.clone(),
                origin: Origin::Walmart,
                lines,
                reason: if customer {
                    CancelReason::CustomerRequestedSellerToCancel
                } else {
                    CancelReason::SellerCancellation
                },
                delivery: Delivery::Pending,
                recorded_at: now,
                walmart_reason,
            };
            let _ = ch.store.insert_new(&audit).await?;
            tracing::info!(units = recorded, "Walmart-side cancellation recorded");
        }
    }
    let reflection = reflect_in_commerce(ch, po, deadline).await?;
    Ok(FromWalmart {
        recorded,
        requested,
        reflection,
    })
}
