//! `cancellation_sync`: cancellations flow both ways.
//!
//! **Commerce → Walmart.** Commerce orders changed since the cursor (less an overlap) are read
//! with their items; an order carrying a recorded purchase order id (the `purchaseorder` payment's
//! `po_number`) whose items show more cancelled units than the dashboard record knows about has
//! those units cancelled on Walmart, line by line: lines the customer asked Walmart to cancel
//! (`intentToCancel`) with `CUSTOMER_REQUESTED_SELLER_TO_CANCEL`, which Walmart refuses for any
//! other line; the rest with a seller reason mapped from the merchant's order comments (pricing,
//! fraud, address) or Walmart's out-of-stock reason. Before sending,
//! Walmart's order is read so units already cancelled there (an earlier attempt, or the buyer) are
//! only recorded. The freed stock reaches Walmart through an urgent inventory update.
//!
//! **Walmart → Commerce.** Walmart orders modified since the cursor with a cancelled or an
//! acknowledged line are compared with the record. A customer's request to cancel
//! (`intentToCancel`) is recorded on the dashboard record and noted once on the Commerce order
//! ("customer asked to cancel on Walmart"); the merchant decides. Newly cancelled units (buyer
//! cancellation, auto-cancel) are recorded and reflected in Commerce by [`reflect_in_commerce`]
//! (the shared step in `commerce_cancellation`): when nothing of the order is left to ship the
//! Commerce order is cancelled (Adobe's product only cancels whole orders); a partial
//! cancellation, or an order Commerce cannot cancel, gets a clear order comment instead, and the
//! latter an Error status with the reason on the dashboard.
//!
//! Each purchase order's work is claimed (`cancel-on-walmart#...`, `cancel-in-commerce#...`) so two
//! overlapping runs never both act; every step compares with the record first, so a rerun sends
//! nothing twice.

use std::time::Duration;

use domain::{
    CancelReason, CancellationRecord, Delivery, LineNumber, LineQuantity, Operation, OrderRecord, Origin,
    PurchaseOrderId, Sku, Stream, SyncTask,
};
use domain::{WalmartLineUnits, cancelled_in_commerce_only};
use ports::commerce::OrderFilter;
use ports::commerce::model::{Order, StatusHistory};
use ports::records::order_key;
use ports::walmart::{CancelLine, CancellationReason, LineState, OrdersQuery, WalmartOrder};
use ports::{Deadline, Records};
use ports::{QueueName, StoreCall};
use tracing::Instrument;

use crate::Counter;
use crate::claim::{AfterWork, ClaimKind, Lease, with_claim};
use crate::dashboard::load_order;
use crate::declaration::Declaration;
use crate::order_support::{StreamWindow, caused_by_request, enqueue_urgent_inventory};
use crate::scan::{Seen, StreamScan, scan};
use crate::walmart_scan::{Paged, WalmartScan, scan_walmart};
use crate::{Channel, OpError, RunReport};

use crate::commerce_cancellation::{FromWalmart, walmart_cancellations};
pub use crate::commerce_cancellation::{Reflection, cancelled_on_walmart_only, reflect_in_commerce};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): order and cancellation records;
/// the per-order claims; the oldest open order queried; the configuration check.
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
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): a cancelled
/// line changes stock: urgent inventory update.
pub const SENDS_TO: &[QueueName] = &[QueueName::InventorySync];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "cancellation-sync",
    // Walmart's cancellation events (`walmart_events`), beside the poll.
    consumes: Some(QueueName::WalmartCancelEvents),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    store_calls: STORE_CALLS,
};

/// Re-read before each Commerce cursor: clock skew between us and the store, and slow commits.
const COMMERCE_OVERLAP: Duration = Duration::from_secs(10 * 60);
/// Re-read before each Walmart cursor: Walmart's modification times lag its changes a little.
const WALMART_OVERLAP: Duration = Duration::from_secs(30 * 60);

/// The creation window Walmart applies to an order list without `createdStartDate`.
const WALMART_DEFAULT_CREATED_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
const PAGE_SIZE: u32 = 100;

/// Commerce order states in which items may have been cancelled (`new` orders have none).
const STATES_WITH_CANCELLATIONS: [&str; 4] = ["canceled", "processing", "complete", "closed"];

/// Walmart order changes read each run: lines cancelled (buyer, Walmart), and acknowledged lines,
/// where a customer's request to cancel (`intentToCancel`) shows before the seller decides.
const WALMART_CHANGE_STATUSES: [LineState; 2] = [LineState::Cancelled, LineState::Acknowledged];

/// Our own order comments start with this; they never carry the merchant's reason.
const OWN_COMMENT_PREFIX: &str = "Walmart ";

pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::CancellationSync);
    let to_walmart = commerce_to_walmart(ch, deadline, &mut report).await;
    let to_commerce = walmart_to_commerce(ch, deadline, &mut report).await;
    to_walmart?;
    to_commerce?;
    Ok(report)
}

// ------------------------------------------------------------------ Commerce → Walmart

async fn commerce_to_walmart(
    ch: &Channel,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    let filter = OrderFilter {
        states: STATES_WITH_CANCELLATIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        statuses: Vec::new(),
    };
    let orders = StreamScan {
        stream: Stream::CommerceOrders,
        overlap: COMMERCE_OVERLAP,
        page_size: PAGE_SIZE,
        what: "orders",
    };
    scan(
        ch,
        orders,
        deadline,
        report,
        |from, request| ch.commerce.orders_page(from, &filter, request, deadline),
        |order: &Order| order.updated_at,
        |order| async move {
            let Some(po) = order.po_number().and_then(|p| PurchaseOrderId::new(p).ok()) else {
                return Seen::nothing();
            };
            let span = tracing::info_span!("cancel_on_walmart", purchase_order = %po);
            match cancel_on_walmart(ch, &po, &order, deadline)
                .instrument(span)
                .await
            {
                Ok(ToWalmart::Cancelled(units)) => Seen::count(Counter::UnitsCancelledOnWalmart, units),
                Ok(ToWalmart::Nothing) => Seen::nothing(),
                Ok(ToWalmart::NotChannel) => Seen::count(Counter::OrdersNotInChannel, 1),
                Ok(ToWalmart::Busy) => Seen::count(Counter::Busy, 1).held(),
                Ok(ToWalmart::Refused(reason)) => Seen::count(Counter::CancellationsRefused, 1)
                    .problem(format!("purchase order {po}: {reason}")),
                Err(e) => Seen::failed(format_args!("purchase order {po}"), &e),
            }
        },
    )
    .await
}

enum ToWalmart {
    Cancelled(u64),
    Nothing,
    NotChannel,
    Busy,
    Refused(String),
}

/// The seller's Walmart reason for a cancellation made in Commerce, from the merchant's order
/// comments (newest first, ours skipped), in the terms of Adobe's cancellation reasons. Never the
/// customer-requested reason: Walmart accepts that only for lines the customer asked to cancel
/// ([`reason_for_line`]), whatever a comment says.
pub fn seller_cancellation_reason(histories: &[StatusHistory]) -> CancellationReason {
    let mut comments: Vec<&StatusHistory> = histories
        .iter()
        .filter(|h| !h.comment.trim_start().starts_with(OWN_COMMENT_PREFIX))
        .collect();
    comments.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    for history in comments {
        let text = history.comment.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
        if has(&["fraud", "credit"]) {
            return CancellationReason::SellerCancelFraudStopShipment;
        }
        if has(&["price", "pricing", "listing"]) {
            return CancellationReason::SellerCancelPricingError;
        }
        if has(&["carrier", "address", "shipping information", "undeliverable"]) {
            return CancellationReason::SellerCancelAddressNotServiceable;
        }
        if has(&["stock", "inventory"]) {
            return CancellationReason::SellerCancelOutOfStock;
        }
    }
    CancellationReason::SellerCancelOutOfStock
}

/// The reason a line's cancellation goes to Walmart with: customer-requested exactly when the
/// customer asked Walmart to cancel that line, the seller's reason otherwise.
pub fn reason_for_line(
    record: &OrderRecord,
    line: LineNumber,
    seller_reason: CancellationReason,
) -> CancellationReason {
    if record.cancel_requested().contains(&line) {
        CancellationReason::CustomerRequestedSellerToCancel
    } else {
        seller_reason
    }
}

fn domain_reason(reason: CancellationReason) -> CancelReason {
    match reason {
        CancellationReason::CustomerRequestedSellerToCancel => CancelReason::CustomerRequestedSellerToCancel,
        _ => CancelReason::SellerCancellation,
    }
}

async fn cancel_on_walmart(
    ch: &Channel,
    po: &PurchaseOrderId,
    order: &Order,
    deadline: &Deadline,
) -> Result<ToWalmart, OpError> {
    let Some(record) = load_order(ch.store.as_ref(), &ch.settings.id, po).await? else {
        return Ok(ToWalmart::NotChannel);
    };
    if cancelled_in_commerce_only(&record.record, &order.items).is_empty() {
        return Ok(ToWalmart::Nothing);
    }
    let sent = with_claim(
        ch,
        ClaimKind::CancelOnWalmart,
        po.as_str(),
        deadline,
        |lease| async move {
            cancel_claimed(ch, &lease, po, order, deadline)
                .await
                .map(AfterWork::Release)
        },
    )
    .await?;
    Ok(sent.or(ToWalmart::Busy, ToWalmart::Busy))
}

async fn cancel_claimed(
    ch: &Channel,
    lease: &Lease,
    po: &PurchaseOrderId,
    order: &Order,
    deadline: &Deadline,
) -> Result<ToWalmart, OpError> {
    // Re-read under the claim: the previous holder may have recorded its work.
    let Some(record) = load_order(ch.store.as_ref(), &ch.settings.id, po).await? else {
        return Ok(ToWalmart::NotChannel);
    };
    let record = record.record;
    let wanted = cancelled_in_commerce_only(&record, &order.items);
    if wanted.is_empty() {
        return Ok(ToWalmart::Nothing);
    }
    let seller_reason = seller_cancellation_reason(&order.status_histories);
    let on_walmart = ch.walmart.get_order(po, deadline).await?;
    let (mut to_send, mut to_record, mut stranded) =
        plan_walmart_cancellation(&record, &on_walmart, &wanted, seller_reason);
    let now = ch.clock.now();
    if !to_send.is_empty() {
        lease.keep_for_action(ch, deadline).await?;
    }
    if !to_send.is_empty()
        && let Err(e) = ch.walmart.cancel_lines(po, &to_send, deadline).await
    {
        if caused_by_request(&e) {
            let reason = format!("Walmart refused the cancellation: {e}");
            mark_problem(ch, po, SyncTask::CancelOnWalmart, reason.clone()).await?;
            return Ok(ToWalmart::Refused(reason));
        }
        // Ambiguous (timeout, 5xx, lost answer): plan again from Walmart's order. Units it now
        // shows cancelled are only recorded; any still open wait for the next run, which reads
        // again before sending. Never sent twice on a guess.
        let on_walmart = ch.walmart.get_order(po, deadline).await?;
        (to_send, to_record, stranded) =
            plan_walmart_cancellation(&record, &on_walmart, &wanted, seller_reason);
        if !to_send.is_empty() {
            return Err(e.into());
        }
        tracing::info!(error = %e, "cancellation's answer was lost, but Walmart shows it cancelled");
    }
    let units: u32 = to_record.iter().map(|l| l.quantity).sum();
    // The audit names the customer's reason when any recorded line went with it.
    let reason = to_record
        .iter()
        .map(|l| reason_for_line(&record, l.line, seller_reason))
        .find(|r| *r == CancellationReason::CustomerRequestedSellerToCancel)
        .unwrap_or(seller_reason);
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
            let mut changed = false;
            for lq in &to_record {
                let open = r.line(lq.line).map_or(0, |l| l.open());
                let n = lq.quantity.min(open);
                if n > 0 {
                    r.cancel(lq.line, n, now)?;
                    changed = true;
                }
            }
            if let Some(why) = &stranded {
                r.sync_failed(SyncTask::CancelOnWalmart, why.clone(), now);
                changed = true;
            } else {
                changed |= r.sync_recovered(&SyncTask::CancelOnWalmart, now);
            }
            Ok(changed)
        })
        .await?;
    if !to_record.is_empty() {
        let audit = CancellationRecord {
            channel: ch.settings.id.clone(),
            purchase_order: po.clone(),
            origin: Origin::Commerce,
            lines: to_record.clone(),
            reason: domain_reason(reason),
            delivery: Delivery::Sent { at: now },
            recorded_at: now,
            walmart_reason: Some(reason.as_str().to_owned()),
        };
        // An audit entry: one with the same lines exists only if a rerun wrote it.
        let _ = ch.store.insert_new(&audit).await?;
    }
    enqueue_urgent_inventory(ch, skus_of(&record, &to_record)).await;
    tracing::info!(
        units,
        sent = to_send.len(),
        reason = reason.as_str(),
        "Commerce cancellation sent to Walmart"
    );
    if let Some(why) = stranded {
        return Ok(ToWalmart::Refused(why));
    }
    Ok(ToWalmart::Cancelled(u64::from(units)))
}

/// [`domain::plan_walmart_cancellation`] against the order Walmart shows, in Walmart's terms: the
/// units to send carry the customer's reason on lines the customer asked to cancel, the seller's
/// otherwise.
pub fn plan_walmart_cancellation(
    record: &OrderRecord,
    on_walmart: &WalmartOrder,
    wanted: &[LineQuantity],
    seller_reason: CancellationReason,
) -> (Vec<CancelLine>, Vec<LineQuantity>, Option<String>) {
    let plan = domain::plan_walmart_cancellation(
        record,
        |line| WalmartLineUnits {
            open: on_walmart.quantity_in(line, LineState::Created)
                + on_walmart.quantity_in(line, LineState::Acknowledged),
            cancelled: on_walmart.quantity_in(line, LineState::Cancelled),
        },
        wanted,
    );
    let to_send = plan
        .to_send
        .iter()
        .map(|send| CancelLine {
            line: send.line,
            quantity: send.quantity,
            reason: reason_for_line(record, send.line, seller_reason),
        })
        .collect();
    (to_send, plan.to_record, plan.stranded)
}

fn skus_of<'a>(record: &'a OrderRecord, lines: &[LineQuantity]) -> Vec<&'a Sku> {
    lines
        .iter()
        .filter_map(|l| record.order.line(l.line).map(|o| &o.sku))
        .collect()
}

async fn mark_problem(
    ch: &Channel,
    po: &PurchaseOrderId,
    task: SyncTask,
    reason: String,
) -> Result<(), OpError> {
    let now = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |r| {
            r.sync_failed(task.clone(), reason.clone(), now);
            Ok(true)
        })
        .await?;
    Ok(())
}

// ------------------------------------------------------------------ Walmart → Commerce

async fn walmart_to_commerce(
    ch: &Channel,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    let mut window = StreamWindow::open(ch, Stream::WalmartOrderChanges, WALMART_OVERLAP).await?;
    // Walmart lists only orders created in the last 7 days unless told otherwise: reach back to the
    // oldest order still open here, so a buyer cancelling an older order is seen.
    let walmart_default = window.run_started.minus(WALMART_DEFAULT_CREATED_WINDOW);
    let created_since = crate::dashboard::oldest_open_order_date(ch.store.as_ref(), &ch.settings.id)
        .await?
        .map_or(walmart_default, |oldest| oldest.min(walmart_default));
    for status in WALMART_CHANGE_STATUSES {
        let query = OrdersQuery {
            modified_end: None,
            status: Some(status),
            ..OrdersQuery::modified_between(created_since, window.from, window.run_started)
        };
        let changes = WalmartScan {
            what: "Walmart order changes",
            window: &mut window,
        };
        let paged = scan_walmart(
            changes,
            deadline,
            report,
            ch.walmart.list_orders(&query, deadline),
            |cursor| async move { ch.walmart.next_orders(&cursor, deadline).await },
            |order| async move { Ok(from_walmart_seen(ch, &order, deadline).await) },
        )
        .await?;
        if paged == Paged::Stopped {
            break;
        }
    }
    window.close(ch).await
}

/// What one changed Walmart order came to, Walmart → Commerce.
async fn from_walmart_seen(ch: &Channel, order: &WalmartOrder, deadline: &Deadline) -> Seen {
    let mut seen = Seen::nothing();
    if !order.unknown_values.is_empty() {
        seen = seen.and(crate::UNKNOWN_WALMART_VALUES, order.unknown_values.len() as u64);
    }
    let po = order.order.id.clone();
    let span = tracing::info_span!("cancel_in_commerce", purchase_order = %po);
    match walmart_cancellations(ch, order, deadline).instrument(span).await {
        Ok(FromWalmart {
            recorded,
            requested,
            reflection,
        }) => {
            let mut seen = seen
                .and(Counter::UnitsCancelledOnWalmartSide, u64::from(recorded))
                .and(Counter::CancellationRequestsRecorded, u64::from(requested));
            if ch.settings.push.enabled() && recorded + requested > 0 {
                seen = seen.and(Counter::CancellationsFoundByPollNotEvent, 1);
            }
            match reflection {
                Reflection::Nothing => seen,
                Reflection::CommerceOrderCancelled => seen.and(Counter::CommerceOrdersCancelled, 1),
                Reflection::Commented => seen.and(Counter::PartialCancellationsCommented, 1),
                Reflection::RequestNoted => seen.and(Counter::CancellationRequestsNoted, 1),
                Reflection::CannotCancel(reason) => seen
                    .and(Counter::CommerceCancellationsRefused, 1)
                    .problem(format!("purchase order {po}: {reason}")),
                Reflection::Busy => seen.and(Counter::Busy, 1).held(),
            }
        }
        Err(e) => seen.merge(Seen::failed(format_args!("purchase order {po}"), &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::fixtures::{created_record, purchase_order};
    use domain::{LineNumber, Timestamp, WalmartLineStatus};
    use ports::walmart::LineStatusQuantity;

    fn record() -> OrderRecord {
        let order = purchase_order(
            &[(1, "A", 2), (2, "B", 1), (3, "A", 1)],
            100,
            WalmartLineStatus::Created,
            "Standard",
        );
        created_record(order, &[(1, 70), (2, 80), (3, 70)])
    }

    fn walmart(statuses: &[(u32, LineState, u32)]) -> WalmartOrder {
        WalmartOrder {
            order: record().order,
            statuses: statuses
                .iter()
                .map(|(line, state, quantity)| LineStatusQuantity {
                    line: LineNumber(*line),
                    state: state.clone(),
                    quantity: *quantity,
                    cancellation_reason: None,
                    tracking_number: None,
                })
                .collect(),
            intent_to_cancel: Vec::new(),
            unknown_values: Vec::new(),
        }
    }

    #[test]
    fn plan_sends_open_units_records_already_cancelled_and_reports_shipped() {
        let r = record();
        let wanted = vec![
            LineQuantity {
                line: LineNumber(1),
                quantity: 2,
            },
            LineQuantity {
                line: LineNumber(2),
                quantity: 1,
            },
            LineQuantity {
                line: LineNumber(3),
                quantity: 1,
            },
        ];
        let on_walmart = walmart(&[
            (1, LineState::Acknowledged, 1),
            (1, LineState::Cancelled, 1),
            (2, LineState::Shipped, 1),
            (3, LineState::Acknowledged, 1),
        ]);
        let reason = CancellationReason::SellerCancelOutOfStock;
        let (send, record_now, stranded) = plan_walmart_cancellation(&r, &on_walmart, &wanted, reason);
        assert_eq!(
            send,
            vec![
                CancelLine {
                    line: LineNumber(1),
                    quantity: 1,
                    reason
                },
                CancelLine {
                    line: LineNumber(3),
                    quantity: 1,
                    reason
                },
            ]
        );
        assert_eq!(
            record_now,
            vec![
                LineQuantity {
                    line: LineNumber(1),
                    quantity: 2
                },
                LineQuantity {
                    line: LineNumber(3),
                    quantity: 1
                },
            ]
        );
        assert!(stranded.unwrap().contains("line 2: 1 unit(s)"));
    }

    #[test]
    fn walmart_side_cancellations_beyond_the_record() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        let on_walmart = walmart(&[(1, LineState::Cancelled, 2), (2, LineState::Acknowledged, 1)]);
        assert_eq!(
            cancelled_on_walmart_only(&r, &on_walmart),
            vec![LineQuantity {
                line: LineNumber(1),
                quantity: 2
            }]
        );
        r.cancelled_on_walmart(LineNumber(1), 2, now).unwrap();
        assert!(cancelled_on_walmart_only(&r, &on_walmart).is_empty());
    }

    #[test]
    fn reasons_come_from_the_merchants_comments() {
        let h = |comment: &str, at: &str| StatusHistory {
            comment: comment.into(),
            created_at: Timestamp::parse_commerce(at).ok(),
        };
        assert_eq!(
            seller_cancellation_reason(&[]),
            CancellationReason::SellerCancelOutOfStock
        );
        assert_eq!(
            seller_cancellation_reason(&[
                h(
                    "Walmart purchase order 1: Price differences",
                    "2026-01-01 00:00:03"
                ),
                h("Suspected fraud", "2026-01-01 00:00:02"),
                h("out of stock", "2026-01-01 00:00:01"),
            ]),
            CancellationReason::SellerCancelFraudStopShipment,
            "newest merchant comment wins; ours are skipped"
        );
        assert_eq!(
            seller_cancellation_reason(&[h("Customer called to cancel", "2026-01-01 00:00:01")]),
            CancellationReason::SellerCancelOutOfStock,
            "a comment never makes the customer's reason: Walmart refuses it without intentToCancel"
        );
        assert_eq!(
            seller_cancellation_reason(&[h("Pricing error on the listing", "2026-01-01 00:00:01")]),
            CancellationReason::SellerCancelPricingError
        );
        assert_eq!(
            seller_cancellation_reason(&[h("Suspected fraud", "2026-01-01 00:00:01")]),
            CancellationReason::SellerCancelFraudStopShipment
        );
        assert_eq!(
            seller_cancellation_reason(&[h("No carrier serves this address", "2026-01-01 00:00:01")]),
            CancellationReason::SellerCancelAddressNotServiceable
        );
    }

    #[test]
    fn only_lines_the_customer_asked_to_cancel_get_the_customer_reason() {
        let mut r = record();
        r.customer_asked_to_cancel(&[LineNumber(2)], Timestamp::from_millis(2));
        let wanted: Vec<LineQuantity> = [(1, 2), (2, 1)]
            .iter()
            .map(|(line, quantity)| LineQuantity {
                line: LineNumber(*line),
                quantity: *quantity,
            })
            .collect();
        let on_walmart = walmart(&[(1, LineState::Acknowledged, 2), (2, LineState::Acknowledged, 1)]);
        let seller = CancellationReason::SellerCancelOutOfStock;
        let (send, _, _) = plan_walmart_cancellation(&r, &on_walmart, &wanted, seller);
        let reasons: Vec<_> = send.iter().map(|l| (l.line.0, l.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (1, seller),
                (2, CancellationReason::CustomerRequestedSellerToCancel)
            ]
        );
    }
}
