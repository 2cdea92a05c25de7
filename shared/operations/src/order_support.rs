//! Plumbing the order operations share: idempotency leases, stream cursors with an overlap window,
//! saving two records in one transaction, the urgent inventory message, and the order's
//! acknowledgement on Walmart (order-create after placing it, shipment-sync before shipping it).

use std::time::Duration;

use domain::{OrderRecord, OrderSummary, PurchaseOrderId, Stream, SyncCursor, SyncTask, Timestamp};
use ports::records::{load_cursor, order_key};
use ports::walmart::{LineState, SkippedRecord, WalmartOrder};
use ports::{
    ApiError, ApiErrorKind, Claim, ClaimTerms, ClaimToken, Deadline, Expect, IdempotencyKey, Item, Record,
    Records, StoreError, Versioned, Write,
};

use crate::dashboard::load_order;
use crate::{Channel, OpError, RunReport};

/// No Lambda runs longer than 15 minutes, so no claim needs a longer lease; tests and tools with
/// `Deadline::none()` get this too. In production the invocation's remaining time (at most the
/// function's timeout) is the lease.
const MAX_LEASE: Duration = Duration::from_secs(15 * 60);

/// The longest a holder keeps a claim for its own remaining time, in clock time. No deployment
/// comes near it (a Lambda runs at most [`MAX_LEASE`]), so there it changes nothing. Under a
/// compressed clock (the local runner), where CPU and HTTP time do not compress and invocations
/// get stretched deadlines, it still lets a live holder's slow work finish (a placement of eight
/// calls slowed to minutes each), while a killed holder's claim frees within hours of scenario
/// time instead of the months its stretched deadline would give.
const LONGEST_HOLD: Duration = Duration::from_secs(90 * 60);

/// The clock time a holder keeps a claim for `remaining` (its invocation's time left) plus
/// `settle` (how long the other side may still apply a request the client gave up on). `settle`
/// is a property of the other side's servers, a wall-clock span a compressed clock must not
/// stretch (30 s x 720 is six hours of scenario time). In a deployment this is exactly
/// `remaining + settle`.
pub(crate) fn hold_for(clock: &dyn ports::Clock, remaining: Duration, settle: Duration) -> Duration {
    clock.elapsed_during(remaining).min(LONGEST_HOLD) + clock.elapsed_during(settle).min(settle)
}

/// How long a completed claim is honoured. Business records (shipment, return) keep the outcome
/// for good; the claim only has to outlive retries and overlap windows.
const COMPLETED_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A claimed unit of work: complete it (one-time work) or release it (repeatable work, failures).
/// Every call is fenced by the claim's token: once the lease ran out and another invocation took
/// the work, they fail with [`StoreError::ClaimLost`] and change nothing.
pub(crate) struct Lease {
    key: IdempotencyKey,
    token: ClaimToken,
}

pub(crate) enum Claimed {
    Acquired(Lease),
    /// Done before; the stored result.
    Completed,
    /// Someone else holds it, leased until `until`.
    InProgress {
        until: Timestamp,
    },
}

/// Claims `operation#channel#business_key` for this invocation (lease = its remaining time).
pub(crate) async fn claim(
    ch: &Channel,
    operation: &str,
    business_key: &str,
    deadline: &Deadline,
) -> Result<Claimed, OpError> {
    let key = IdempotencyKey::new(operation, &ch.settings.id, business_key);
    let now = ch.clock.now();
    let terms = ClaimTerms {
        now,
        // The lease is kept in the clock's time; the deadline is real time.
        in_progress_until: now.plus(ch.clock.elapsed_during(deadline.remaining()).min(MAX_LEASE)),
        expires_at: now.plus(COMPLETED_TTL),
    };
    Ok(match ch.store.claim(&key, terms).await? {
        Claim::Acquired(token) => Claimed::Acquired(Lease { key, token }),
        Claim::Completed(_) => Claimed::Completed,
        Claim::InProgress { until } => Claimed::InProgress { until },
    })
}

/// Whether a store error says the caller no longer holds its claim.
pub(crate) fn claim_lost(error: &OpError) -> bool {
    matches!(error, OpError::Store(StoreError::ClaimLost { .. }))
}

impl Lease {
    pub(crate) async fn complete(self, ch: &Channel, result: serde_json::Value) -> Result<(), OpError> {
        let expires_at = ch.clock.now().plus(COMPLETED_TTL);
        ch.store
            .complete(&self.key, &self.token, result, expires_at)
            .await?;
        Ok(())
    }

    /// Keeps the claim until `until` (clock time), for an action on the other side whose effect
    /// may land that late. Fails with [`StoreError::ClaimLost`] if another invocation took the
    /// work meanwhile: the caller must then not act.
    pub(crate) async fn hold_until(&self, ch: &Channel, until: Timestamp) -> Result<(), OpError> {
        ch.store.renew(&self.key, &self.token, until).await?;
        Ok(())
    }

    /// Right before a side effect that must happen once (a shipment, a cancellation, a refund, a
    /// return request): keeps the claim for the rest of this invocation. Fails with
    /// [`StoreError::ClaimLost`] if the lease ran out and another invocation took the work: the
    /// caller must then not act (the new holder re-reads and does it).
    pub(crate) async fn keep_for_action(&self, ch: &Channel, deadline: &Deadline) -> Result<(), OpError> {
        let until = ch
            .clock
            .now()
            .plus(hold_for(ch.clock.as_ref(), deadline.remaining(), Duration::ZERO));
        self.hold_until(ch, until).await
    }

    /// Gives the claim back. A claim another invocation took meanwhile is not ours to give back:
    /// that is logged, not raised (the work this holder did is recorded; the new holder re-reads).
    pub(crate) async fn release(self, ch: &Channel) -> Result<(), OpError> {
        match ch.store.release(&self.key, &self.token).await {
            Err(StoreError::ClaimLost { key }) => {
                tracing::warn!(%key, "claim ran out before it was given back; another invocation holds it");
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// Releases after a failure, keeping the original error if releasing fails too (the lease then
    /// simply expires, or another invocation already holds the work).
    pub(crate) async fn release_after<T>(self, ch: &Channel, error: OpError) -> Result<T, OpError> {
        if let Err(release) = self.release(ch).await {
            tracing::warn!(error = %release, "could not release a claim after a failure; it expires with its lease");
        }
        Err(error)
    }
}

/// The request, not the network or the API, was the trouble: trying again as is cannot help, so the
/// failure belongs on the record (and the dashboard) rather than in a retry loop.
pub(crate) fn caused_by_request(error: &ApiError) -> bool {
    matches!(
        error.kind,
        ApiErrorKind::Validation
            | ApiErrorKind::NotFound
            | ApiErrorKind::Input
            | ApiErrorKind::Conflict
            | ApiErrorKind::CannotCancel
    )
}

/// Whether an operation error should hold a stream's cursor so the item is read again next run.
pub(crate) fn worth_retrying(error: &OpError) -> bool {
    match error {
        OpError::Api(e) => !caused_by_request(e),
        other => other.is_retryable(),
    }
}

/// One run's view of a stream: read changes from `from` (the cursor less the overlap), and move
/// the cursor to at most `run_started` when the run ends.
pub(crate) struct StreamWindow {
    cursor: Versioned<SyncCursor>,
    pub(crate) from: Timestamp,
    pub(crate) run_started: Timestamp,
    /// The earliest change that must be read again (a retryable failure, or where the run stopped).
    hold_at: Option<Timestamp>,
    /// The whole window must be read again (streams without per-item times).
    hold_all: bool,
}

impl StreamWindow {
    /// Opens the window of `stream`. A stream never read starts `overlap` before now.
    pub(crate) async fn open(ch: &Channel, stream: Stream, overlap: Duration) -> Result<Self, OpError> {
        let now = ch.clock.now();
        let cursor = load_cursor(ch.store.as_ref(), &ch.settings.id, stream, now.minus(overlap)).await?;
        let from = cursor.record.seen_until.minus(overlap);
        Ok(Self {
            cursor,
            from,
            run_started: now,
            hold_at: None,
            hold_all: false,
        })
    }

    /// A change at `at` must be seen again next run.
    pub(crate) fn hold(&mut self, at: Option<Timestamp>) {
        match at {
            Some(at) => self.hold_at = Some(self.hold_at.map_or(at, |h| h.min(at))),
            None => self.hold_all = true,
        }
    }

    /// Saves the cursor: up to the run's start, or to the earliest held change. Never backwards.
    pub(crate) async fn close(mut self, ch: &Channel) -> Result<(), OpError> {
        if self.hold_all {
            // A stream's first run keeps its starting point, so a later run does not start later.
            if self.cursor.version.is_none() {
                return save_cursor(ch, &mut self.cursor).await;
            }
            return Ok(());
        }
        let until = self.hold_at.map_or(self.run_started, |h| h.min(self.run_started));
        let before = self.cursor.record.seen_until;
        self.cursor.record.advance(until, ch.clock.now());
        if self.cursor.record.seen_until == before && self.cursor.version.is_some() {
            return Ok(());
        }
        save_cursor(ch, &mut self.cursor).await
    }
}

async fn save_cursor(ch: &Channel, cursor: &mut Versioned<SyncCursor>) -> Result<(), OpError> {
    match ch.store.save(cursor).await {
        Ok(()) => Ok(()),
        // Another run moved it meanwhile; the overlap window covers whatever it skipped.
        Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn item_of<R: Record>(record: &R) -> Result<Item, StoreError> {
    let body = serde_json::to_value(record)
        .map_err(|e| StoreError::Invalid(format!("cannot serialise {:?}: {e}", record.key())))?;
    Ok(Item {
        key: record.key(),
        index: record.index(),
        expires_at: None,
        body,
    })
}

fn next_version(version: Option<ports::Version>) -> ports::Version {
    ports::Version(version.map_or(1, |v| v.0 + 1))
}

/// Saves two records of one business change all-or-nothing, each only if unchanged since read (or
/// absent when new). A lost race is `TransactionConflict`; reload and redo the change.
pub(crate) async fn save_both<A: Record, B: Record>(
    ch: &Channel,
    a: &mut Versioned<A>,
    b: &mut Versioned<B>,
) -> Result<(), StoreError> {
    let expect = |v: Option<ports::Version>| v.map_or(Expect::Absent, Expect::Version);
    ch.store
        .transact(vec![
            Write::Put {
                item: item_of(&a.record)?,
                expect: expect(a.version),
            },
            Write::Put {
                item: item_of(&b.record)?,
                expect: expect(b.version),
            },
        ])
        .await?;
    a.version = Some(next_version(a.version));
    b.version = Some(next_version(b.version));
    Ok(())
}

/// Lost races on one order before giving up: contention on one order is rare and short.
pub(crate) const RACE_ATTEMPTS: u32 = 8;

/// Asks inventory-sync to push these SKUs' quantities to Walmart soon (stock was reserved or
/// freed). A failure is logged, not raised: the next reconciliation sends the quantities anyway.
pub(crate) async fn enqueue_urgent_inventory<'a>(
    ch: &Channel,
    skus: impl IntoIterator<Item = &'a domain::Sku>,
) {
    let skus: Vec<domain::Sku> = skus.into_iter().cloned().collect();
    if skus.is_empty() {
        return;
    }
    if let Err(e) = crate::messages::enqueue_urgent(ch, &skus).await {
        tracing::warn!(error = %e, "urgent inventory update not queued; reconciliation will send it");
    }
}

/// Reports the records of a Walmart page that could not be read: each with its place in the page,
/// its id when readable and the call's correlation id. The rest of the page was processed.
pub(crate) fn report_skipped(report: &mut RunReport, what: &str, skipped: &[SkippedRecord]) {
    for record in skipped {
        report.add(crate::SKIPPED_WALMART_RECORDS, 1);
        report.problem(format!("{what}: {record}"));
    }
}

/// The reason an order's record shows for what Walmart sent that the channel does not know.
fn unknown_values_reason(on_walmart: &WalmartOrder) -> Option<String> {
    (!on_walmart.unknown_values.is_empty()).then(|| {
        format!(
            "Walmart sent values the channel does not know: {}",
            on_walmart.unknown_values.join("; ")
        )
    })
}

/// Whether [`note_unknown_values`] would change the record.
pub(crate) fn unknown_values_change(record: &OrderRecord, on_walmart: &WalmartOrder) -> bool {
    let noted = record
        .problems()
        .iter()
        .find(|p| p.task == SyncTask::ReadWalmartOrder)
        .map(|p| &p.reason);
    noted != unknown_values_reason(on_walmart).as_ref()
}

/// Puts on the order's record what Walmart sent for it that the channel does not know (the order
/// shows Error with it), or clears that once Walmart's order reads clean again. Returns whether
/// the record changed.
pub(crate) fn note_unknown_values(
    record: &mut OrderRecord,
    on_walmart: &WalmartOrder,
    now: Timestamp,
) -> bool {
    if !unknown_values_change(record, on_walmart) {
        return false;
    }
    match unknown_values_reason(on_walmart) {
        Some(reason) => record.sync_failed(SyncTask::ReadWalmartOrder, reason, now),
        None => {
            record.sync_recovered(&SyncTask::ReadWalmartOrder, now);
        }
    }
    true
}

/// Acknowledges the order on Walmart if it is not yet. Walmart accepts repeated acknowledgements,
/// so no claim is needed; a refused one is recorded on the order.
pub(crate) async fn acknowledge(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<OrderRecord, OpError> {
    acknowledge_once(ch, po, false, deadline).await
}

/// As [`acknowledge`]; with `read_first` (an earlier invocation may have acknowledged and died
/// before recording it), Walmart's order is read first and an order with no unit left in `Created`
/// is recorded as acknowledged without acknowledging it again.
pub(crate) async fn acknowledge_once(
    ch: &Channel,
    po: &PurchaseOrderId,
    read_first: bool,
    deadline: &Deadline,
) -> Result<OrderRecord, OpError> {
    let key = order_key(&ch.settings.id, po);
    let record = load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} is not recorded")))?
        .record;
    if record.acknowledged_at().is_some() || record.summary() == OrderSummary::Canceled {
        return Ok(record);
    }
    let already = read_first
        && match ch.walmart.get_order(po, deadline).await {
            // Nothing left to acknowledge and something acknowledged (an order Walmart cancelled
            // whole is acknowledged as before, and Walmart's answer recorded).
            Ok(order) => {
                let lines = &order.order.lines;
                let past = [LineState::Acknowledged, LineState::Shipped, LineState::Delivered];
                lines
                    .iter()
                    .all(|l| order.quantity_in(l.number, LineState::Created) == 0)
                    && lines
                        .iter()
                        .any(|l| past.iter().any(|s| order.quantity_in(l.number, s.clone()) > 0))
            }
            // Acknowledging again is harmless; reading was only to spare it.
            Err(_) => false,
        };
    let outcome = if already {
        Ok(())
    } else {
        ch.walmart.acknowledge(po, deadline).await.map(|_| ())
    };
    let now = ch.clock.now();
    let refused = match &outcome {
        Ok(_) => None,
        Err(e) if caused_by_request(e) => Some(format!("Walmart refused the acknowledgement: {e}")),
        Err(e) => return Err(e.clone().into()),
    };
    let updated = ch
        .store
        .update::<OrderRecord, OpError, _>(&key, |r| {
            match &refused {
                None => {
                    if r.acknowledged_at().is_some() {
                        return Ok(false);
                    }
                    r.acknowledged(now)?;
                    r.sync_recovered(&SyncTask::Acknowledge, now);
                }
                Some(reason) => r.sync_failed(SyncTask::Acknowledge, reason.clone(), now),
            }
            Ok(true)
        })
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} vanished")))?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::WalmartLineStatus;
    use domain::fixtures::{created_record, purchase_order};

    fn walmart(unknown_values: &[&str]) -> WalmartOrder {
        WalmartOrder {
            order: purchase_order(&[(1, "A", 1)], 100, WalmartLineStatus::Created, "Standard"),
            statuses: Vec::new(),
            intent_to_cancel: Vec::new(),
            unknown_values: unknown_values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn unknown_values_show_on_the_record_until_walmart_reads_clean() {
        let now = Timestamp::from_millis(1_000);
        let mut record = created_record(walmart(&[]).order, &[(1, 70)]);
        assert!(
            !note_unknown_values(&mut record, &walmart(&[]), now),
            "nothing to note"
        );

        let odd = walmart(&["line 1: Walmart status \"Backordered\" is not one the channel knows"]);
        assert!(note_unknown_values(&mut record, &odd, now));
        assert_eq!(record.summary(), domain::OrderSummary::Error);
        assert!(record.status_detail().unwrap().contains("Backordered"));
        assert!(
            !unknown_values_change(&record, &odd),
            "the same values again change nothing"
        );
        assert!(!note_unknown_values(&mut record, &odd, now));

        assert!(note_unknown_values(&mut record, &walmart(&[]), now));
        assert!(record.problems().is_empty());
    }

    #[test]
    fn a_claim_is_held_for_the_holders_time_left_and_the_other_sides_settle_time() {
        let settle = Duration::from_secs(30);
        // A deployment: wall time, at most 15 minutes left.
        let wall = ports::SystemClock;
        assert_eq!(
            hold_for(&wall, Duration::from_secs(600), settle),
            Duration::from_secs(630)
        );
        // The local runner: x720, a 30 s function given 6 h of wall time to finish.
        let compressed = ports::ScaledClock::new(Timestamp::EPOCH, 720.0);
        assert_eq!(
            hold_for(&compressed, Duration::from_secs(30 * 720), settle),
            LONGEST_HOLD + settle,
            "not 180 days of scenario time"
        );
        assert_eq!(
            hold_for(&compressed, Duration::from_secs(5), settle),
            Duration::from_secs(3600) + settle,
            "Commerce's settle time is not stretched to six hours"
        );
        assert_eq!(hold_for(&compressed, Duration::ZERO, settle), settle);
    }
}
