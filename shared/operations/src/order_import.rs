//! `order_import`: new Walmart purchase orders are recorded once and queued for creation.
//!
//! Each scheduled run
//! 1. reads Walmart's released orders (`GET /v3/orders/released`: orders with units not yet
//!    acknowledged) created since the stream cursor less an overlap window
//!    ([`domain::OrderSettings::import_overlap_minutes`], for orders Walmart releases late),
//!    following `nextCursor`; "no orders" (a 404) is an empty page;
//! 2. records every purchase order not seen before, keyed by its id (a conditional insert, so two
//!    runs never record one twice), with the units Walmart already cancelled, and queues it for
//!    order-create. With [`AckPolicy::OnImport`] it acknowledges right after recording; by default
//!    ([`AckPolicy::AfterCommerceOrder`]) order-create acknowledges once the Commerce order exists,
//!    so an acknowledged order is always known to Commerce;
//! 3. sweeps the orders that are not taken in yet: it re-queues orders waiting for creation or
//!    acknowledgement (a lost SQS message never loses an order), retries failed creations with
//!    growing delays until the channel's attempt limit, and reports `OrdersPendingCreation` (orders
//!    recorded but not created for longer than the documented creation delay) and `OrdersFailed`
//!    (waiting for a re-drive), the metrics the "orders stuck" and "orders failed" alarms watch.
//!
//! Released orders drop out of the released list once acknowledged, so re-reading the overlap
//! costs one state-store read per order still waiting, not per order ever seen.

use std::time::Duration;

use domain::{CreationState, Operation, OrderRecord, OrderSummary, Stream, Timestamp};
use ports::StoreCall;
use ports::walmart::OrdersQuery;
use ports::{Deadline, OutgoingMessage, QueueName};
use tracing::Instrument;

use crate::Counter;
use crate::dashboard::all_orders_in;
use crate::declaration::Declaration;
use crate::messages::CreateOrder;
use crate::order_intake::{Imported, import_one};
use crate::order_support::StreamWindow;
use crate::scan::Seen;
use crate::walmart_scan::{WalmartScan, scan_walmart_in_batches};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): order records inserted, loaded
/// and saved; orders by status queried; the order stream's cursor; the configuration check; the
/// claim of each Walmart event it consumes (`walmart_events`).
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Query,
    StoreCall::Claim,
    StoreCall::Complete,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): each new order
/// goes to order-create.
pub const SENDS_TO: &[QueueName] = &[QueueName::OrderCreate];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "order-import",
    // Walmart's PO_CREATED events (`walmart_events`), beside the poll.
    consumes: Some(QueueName::WalmartOrderEvents),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

/// Pending orders untouched this long are queued again (a lost or dead-lettered message).
/// Shorter than the documented creation delay, so a lost message still makes the delay.
const REQUEUE_AFTER: Duration = Duration::from_secs(2 * 60);

/// First delay before a failed creation is tried again; doubled per attempt, capped.
const RETRY_BASE: Duration = Duration::from_secs(5 * 60);
const RETRY_CAP: Duration = Duration::from_secs(60 * 60);

/// Time kept back from the deadline for the sweep and the cursor.
const SWEEP_RESERVE: Duration = Duration::from_secs(10);

/// Names of the counts the alarms watch (CloudWatch metrics through the run report).
pub const ORDERS_PENDING_CREATION: Counter = Counter::OrdersPendingCreation;
pub const ORDERS_FAILED: Counter = Counter::OrdersFailed;

pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::OrderImport);
    crate::push_subscription::maintain(ch, deadline, &mut report).await;
    let imported = import_released(ch, &deadline.minus(SWEEP_RESERVE), &mut report).await;
    sweep(ch, &mut report).await?;
    imported?;
    Ok(report)
}

async fn import_released(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let overlap = Duration::from_secs(u64::from(ch.settings.orders.import_overlap_minutes) * 60);
    let mut window = StreamWindow::open(ch, Stream::WalmartOrders, overlap).await?;
    let query = OrdersQuery {
        // Open-ended: orders created while the run reads are picked up now or by the next overlap.
        created_end: None,
        ..OrdersQuery::released(window.from, window.run_started)
    };
    let released = WalmartScan {
        what: "released orders",
        window: &mut window,
    };
    scan_walmart_in_batches(
        released,
        deadline,
        report,
        ch.walmart.list_orders(&query, deadline),
        |cursor| async move { ch.walmart.next_orders(&cursor, deadline).await },
        |order| async move {
            let po = order.order.id.clone();
            let span = tracing::info_span!("order_import", purchase_order = %po);
            let mut seen = Seen::nothing();
            if !order.unknown_values.is_empty() {
                seen = seen
                    .and(crate::UNKNOWN_WALMART_VALUES, order.unknown_values.len() as u64)
                    .problem(format!(
                        "purchase order {po}: Walmart sent values the channel does not know: {}",
                        order.unknown_values.join("; ")
                    ));
            }
            Ok(match import_one(ch, &order, deadline).instrument(span).await {
                Ok(Imported::New { queue }) => {
                    let mut seen = seen.and(Counter::OrdersImported, 1);
                    if ch.settings.push.enabled() {
                        seen = seen.and(Counter::OrdersFoundByPollNotEvent, 1);
                    }
                    if queue {
                        (seen, Some(CreateOrder::new(ch, po).message()?))
                    } else {
                        (seen.and(Counter::ImportedCancelled, 1), None)
                    }
                }
                Ok(Imported::Known) => (seen.and(Counter::AlreadyKnown, 1), None),
                Err(e) => {
                    let failed = Seen::failed(format_args!("purchase order {po}"), &e);
                    (seen.and(Counter::ImportFailures, 1).merge(failed), None)
                }
            })
        },
        |messages| send_creations(ch, messages),
    )
    .await?;
    window.close(ch).await
}

/// Queues creations. A failure is reported, not raised: the orders are recorded and the sweep
/// queues them again.
async fn send_creations(ch: &Channel, messages: Vec<OutgoingMessage>) -> Seen {
    if messages.is_empty() {
        return Seen::nothing();
    }
    let n = messages.len() as u64;
    match ch.queues.send_all(QueueName::OrderCreate, messages).await {
        Ok(()) => Seen::count(Counter::OrdersQueued, n),
        Err(e) => Seen::nothing().problem(format!(
            "order creations not queued (the sweep queues them again): {e}"
        )),
    }
}

/// Delay before the next attempt of a creation that failed `attempts` times.
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(10);
    RETRY_BASE.saturating_mul(1 << doublings).min(RETRY_CAP)
}

/// What the sweep decides for one order that is not taken in yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepDecision {
    /// Queue it for order-create again.
    Requeue,
    /// Leave it: recently queued, or waiting for a retry delay.
    Wait,
    /// Out of attempts: waits for the merchant's re-drive.
    AwaitRedrive,
    /// Created and acknowledged, or in error for another reason: not the sweep's business.
    Ignore,
}

/// The sweep's rule for one order, as a pure function of the record and the time.
pub fn sweep_decision(record: &OrderRecord, max_attempts: u32, now: Timestamp) -> SweepDecision {
    let idle = now.since(record.updated_at);
    match record.creation() {
        CreationState::Failed { attempts, .. } if *attempts >= max_attempts => SweepDecision::AwaitRedrive,
        CreationState::Failed { attempts, .. } if idle >= retry_delay(*attempts) => SweepDecision::Requeue,
        CreationState::Failed { .. } => SweepDecision::Wait,
        CreationState::Pending { .. } if idle >= REQUEUE_AFTER => SweepDecision::Requeue,
        CreationState::Pending { .. } => SweepDecision::Wait,
        CreationState::Created { .. }
            if record.acknowledged_at().is_none()
                && record.problems().is_empty()
                && record.summary() == OrderSummary::Pending =>
        {
            if idle >= REQUEUE_AFTER {
                SweepDecision::Requeue
            } else {
                SweepDecision::Wait
            }
        }
        CreationState::Created { .. } => SweepDecision::Ignore,
    }
}

/// Whether an order counts as stuck for the alarm: recorded, not created, older than the documented
/// creation delay, and still being attempted (orders out of attempts count as `OrdersFailed`).
pub fn is_stuck(record: &OrderRecord, max_attempts: u32, now: Timestamp) -> bool {
    let delay = Operation::OrderCreate.target_delay();
    let out_of_attempts =
        matches!(record.creation(), CreationState::Failed { attempts, .. } if *attempts >= max_attempts);
    record.commerce_link().is_none()
        && !out_of_attempts
        && record.summary() != OrderSummary::Canceled
        && now.since(record.imported_at) > delay
}

async fn sweep(ch: &Channel, report: &mut RunReport) -> Result<(), OpError> {
    let now = ch.clock.now();
    let max = ch.settings.orders.max_create_attempts;
    let mut stuck = 0;
    let mut failed = 0;
    let mut messages = Vec::new();
    for status in [OrderSummary::Pending, OrderSummary::Error] {
        for record in all_orders_in(ch.store.as_ref(), &ch.settings.id, status).await? {
            if is_stuck(&record, max, now) {
                stuck += 1;
            }
            match sweep_decision(&record, max, now) {
                SweepDecision::Requeue => {
                    report.add(
                        if status == OrderSummary::Error {
                            Counter::OrdersRetried
                        } else {
                            Counter::OrdersRequeued
                        },
                        1,
                    );
                    messages.push(CreateOrder::new(ch, record.order.id.clone()).message()?);
                }
                SweepDecision::AwaitRedrive => failed += 1,
                SweepDecision::Wait | SweepDecision::Ignore => {}
            }
        }
    }
    // Always present, so the metrics report zero rather than nothing.
    report.add(ORDERS_PENDING_CREATION, stuck);
    report.add(ORDERS_FAILED, failed);
    if !messages.is_empty() {
        ch.queues.send_all(QueueName::OrderCreate, messages).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{
        ChannelId, CommerceOrderId, CommerceOrderLink, CustomerOrderId, IncrementId, LineNumber, MethodCode,
        Money, OrderLine, PurchaseOrder, ShipTo, Sku, WalmartLineStatus,
    };

    fn record(at: Timestamp) -> OrderRecord {
        let order = PurchaseOrder {
            id: domain::PurchaseOrderId::new("1796000000001").unwrap(),
            customer_order_id: CustomerOrderId::new("5400000000001").unwrap(),
            order_date: at,
            method_code: MethodCode::new("Standard").unwrap(),
            ship_to: ShipTo {
                name: "A B".into(),
                address1: "1 St".into(),
                address2: None,
                city: "C".into(),
                state: "AR".into(),
                postal_code: "72716".into(),
                country: "USA".into(),
                phone: None,
                email: Some("x@relay.walmart.com".into()),
            },
            lines: vec![OrderLine {
                number: LineNumber(1),
                sku: Sku::new("A").unwrap(),
                product_name: "A".into(),
                quantity: 1,
                unit_price: Money::from_cents(100),
                tax: Money::ZERO,
                shipping: Money::ZERO,
                status: WalmartLineStatus::Created,
            }],
        };
        OrderRecord::import(ChannelId::new("main").unwrap(), order, at)
    }

    const MIN: u64 = 60_000;

    fn at(minutes: u64) -> Timestamp {
        Timestamp::from_millis((minutes * MIN) as i64)
    }

    #[test]
    fn retry_delays_grow_and_are_capped() {
        assert_eq!(retry_delay(1), Duration::from_secs(300));
        assert_eq!(retry_delay(2), Duration::from_secs(600));
        assert_eq!(retry_delay(3), Duration::from_secs(1200));
        assert_eq!(retry_delay(30), RETRY_CAP);
    }

    #[test]
    fn sweep_requeues_idle_pending_orders_and_retries_failures_with_delays() {
        let r = record(at(0));
        assert_eq!(sweep_decision(&r, 3, at(1)), SweepDecision::Wait);
        assert_eq!(sweep_decision(&r, 3, at(2)), SweepDecision::Requeue);
        assert!(!is_stuck(&r, 3, at(5)));
        assert!(is_stuck(&r, 3, at(6)));

        let mut failed = record(at(0));
        failed.creation_failed("unknown SKU".into(), 3, at(0)).unwrap();
        assert_eq!(sweep_decision(&failed, 3, at(4)), SweepDecision::Wait);
        assert_eq!(sweep_decision(&failed, 3, at(5)), SweepDecision::Requeue);
        failed.creation_failed("unknown SKU".into(), 3, at(5)).unwrap();
        assert_eq!(sweep_decision(&failed, 3, at(14)), SweepDecision::Wait);
        assert_eq!(sweep_decision(&failed, 3, at(15)), SweepDecision::Requeue);
        assert!(is_stuck(&failed, 3, at(15)), "still being attempted");
        failed.creation_failed("unknown SKU".into(), 3, at(15)).unwrap();
        assert_eq!(sweep_decision(&failed, 3, at(500)), SweepDecision::AwaitRedrive);
        assert!(!is_stuck(&failed, 3, at(500)), "counted as failed instead");

        let mut created = record(at(0));
        created
            .created(
                CommerceOrderLink {
                    order_id: CommerceOrderId(1),
                    increment_id: IncrementId::new("000000001").unwrap(),
                },
                at(0),
            )
            .unwrap();
        assert!(!is_stuck(&created, 3, at(60)));
        assert_eq!(
            sweep_decision(&created, 3, at(3)),
            SweepDecision::Requeue,
            "created but not acknowledged"
        );
        created.acknowledged(at(3)).unwrap();
        assert_eq!(sweep_decision(&created, 3, at(60)), SweepDecision::Ignore);
    }
}
