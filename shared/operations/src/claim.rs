//! Claim, then act (the Powertools idempotency design), written once. Work that must happen once
//! per business key (an order placed, a shipment sent, a cancellation, a return request, a refund)
//! runs inside [`with_claim`]: it claims the idempotency record `kind#channel#key`, runs the body
//! only when the claim is acquired, and completes or releases the claim as the body says. A claim
//! lost under the body (the lease ran out and another invocation took the work) is an outcome, not
//! a failure: the new holder re-reads and does the work.

use std::future::Future;
use std::time::Duration;

use domain::Timestamp;
use ports::{Claim, ClaimTerms, ClaimToken, Deadline, IdempotencyKey, StoreError};

use crate::{Channel, OpError};

/// What is claimed. Its name is the first part of the stored key (`order-create#<channel>#<po>`),
/// so records written before still match: the names must not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimKind {
    /// The Commerce order of a Walmart purchase order (key: purchase order id).
    OrderCreate,
    /// A Commerce shipment sent to Walmart (key: shipment id).
    ShipmentSync,
    /// A Commerce cancellation sent to Walmart (key: purchase order id).
    CancelOnWalmart,
    /// A Walmart cancellation reflected in Commerce (key: purchase order id).
    CancelInCommerce,
    /// A Walmart return requested in Commerce (key: return order id).
    ReturnRequest,
    /// A credit memo's refund reported to Walmart (key: credit memo id).
    Refund,
    /// A Walmart notification acted on (key: its `source.eventId`).
    WalmartEvent,
}

impl ClaimKind {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            ClaimKind::OrderCreate => "order-create",
            ClaimKind::ShipmentSync => "shipment-sync",
            ClaimKind::CancelOnWalmart => "cancel-on-walmart",
            ClaimKind::CancelInCommerce => "cancel-in-commerce",
            ClaimKind::ReturnRequest => "return-request",
            ClaimKind::Refund => "refund",
            ClaimKind::WalmartEvent => "walmart-event",
        }
    }
}

/// What the body of [`with_claim`] did, and so what becomes of the claim.
pub(crate) enum AfterWork<T> {
    /// Repeatable or nothing done (waiting, refused, nothing to do): the claim goes back.
    Release(T),
    /// Done once for good: the claim is completed with `result`, so it is never done again.
    Complete(T, serde_json::Value),
    /// An ambiguous outcome (timeout, 5xx, lost answer): the other side may still apply the
    /// request, so the claim stays held (as the body last renewed it) for the next attempt's
    /// look-up to find the effect, and the error is returned.
    Keep(OpError),
}

/// How [`with_claim`] came out.
#[derive(Debug)]
pub(crate) enum Claimed<T> {
    /// The body ran under the claim.
    Ran(T),
    /// Another invocation holds the claim, leased until `until`; the body did not run.
    HeldElsewhere { until: Timestamp },
    /// Completed before; the body did not run.
    Done,
    /// The lease ran out under the body and another invocation took the work: it does it, not us.
    Lost,
}

impl<T> Claimed<T> {
    /// The body's outcome; `done` when the work was completed before; `busy` when another
    /// invocation holds the claim or took it over (it does the work, not us).
    pub(crate) fn or(self, done: T, busy: T) -> T {
        match self {
            Claimed::Ran(outcome) => outcome,
            Claimed::Done => done,
            Claimed::HeldElsewhere { .. } | Claimed::Lost => busy,
        }
    }
}

/// Claims `kind#channel#business_key` for this invocation (lease = its remaining time), runs `work`
/// under it and completes or releases the claim as `work` says. A failed body gives the claim back
/// (keeping the body's error if that fails too).
pub(crate) async fn with_claim<T, F, Fut>(
    ch: &Channel,
    kind: ClaimKind,
    business_key: &str,
    deadline: &Deadline,
    work: F,
) -> Result<Claimed<T>, OpError>
where
    F: FnOnce(Lease) -> Fut,
    Fut: Future<Output = Result<AfterWork<T>, OpError>>,
{
    let key = IdempotencyKey::new(kind.as_str(), &ch.settings.id, business_key);
    let now = ch.clock.now();
    let terms = ClaimTerms {
        now,
        // The lease is kept in the clock's time; the deadline is real time.
        in_progress_until: now.plus(ch.clock.elapsed_during(deadline.remaining()).min(MAX_LEASE)),
        expires_at: now.plus(COMPLETED_TTL),
    };
    let lease = match ch.store.claim(&key, terms).await? {
        Claim::Acquired(token) => Lease { key, token },
        Claim::Completed(_) => return Ok(Claimed::Done),
        Claim::InProgress { until } => return Ok(Claimed::HeldElsewhere { until }),
    };
    match work(lease.clone()).await {
        Ok(AfterWork::Release(value)) => {
            lease.release(ch).await?;
            Ok(Claimed::Ran(value))
        }
        Ok(AfterWork::Complete(value, result)) => match lease.complete(ch, result).await {
            Ok(()) => Ok(Claimed::Ran(value)),
            // The work is recorded; the claim only outlived its lease. Nothing is done again: the
            // next holder re-reads the records and finds it.
            Err(e) if claim_lost(&e) => {
                tracing::warn!(
                    claim = kind.as_str(),
                    "the claim ran out before it was completed; the work is recorded"
                );
                Ok(Claimed::Ran(value))
            }
            Err(e) => Err(e),
        },
        Ok(AfterWork::Keep(error)) => Err(error),
        Err(e) if claim_lost(&e) => Ok(Claimed::Lost),
        Err(e) => lease.release_after(ch, e).await,
    }
}

/// The outcome of work done once per business key that says by itself how its claim ends, so
/// that [`once`] can run it.
pub(crate) trait OnceOutcome: Sized {
    /// The outcome when an earlier invocation completed the work.
    const DONE_BEFORE: Self;
    /// The outcome when another invocation holds the work or took it over (it does it, not us).
    const BUSY: Self;
    /// Whether the work is done for good: the claim is completed and the work never done again.
    /// Otherwise (repeatable, waiting, refused, nothing to do) the claim goes back.
    fn done_for_good(&self) -> bool {
        false
    }
}

/// One business key's claim of a kind, for work whose outcome says how the claim ends
/// ([`ClaimKind::on`], then [`ClaimOn::once`]).
pub(crate) struct ClaimOn {
    kind: ClaimKind,
    business_key: String,
    /// What a completed claim keeps for its readers (e.g. the purchase order of a shipment).
    record: serde_json::Value,
}

impl ClaimKind {
    /// This kind's claim on `business_key`.
    pub(crate) fn on(self, business_key: impl std::fmt::Display) -> ClaimOn {
        ClaimOn {
            kind: self,
            business_key: business_key.to_string(),
            record: serde_json::Value::Null,
        }
    }
}

impl ClaimOn {
    /// Keeps `record` in the claim once the work is done for good.
    pub(crate) fn keeping(self, record: serde_json::Value) -> Self {
        ClaimOn { record, ..self }
    }

    /// [`with_claim`] for work whose outcome says how the claim ends ([`OnceOutcome`]): the claim
    /// is completed when the outcome is done for good and given back otherwise; the outcome is
    /// `work`'s, or [`OnceOutcome::DONE_BEFORE`] / [`OnceOutcome::BUSY`] when it did not run.
    pub(crate) async fn once<T, F, Fut>(
        self,
        ch: &Channel,
        deadline: &Deadline,
        work: F,
    ) -> Result<T, OpError>
    where
        T: OnceOutcome,
        F: FnOnce(Lease) -> Fut,
        Fut: Future<Output = Result<T, OpError>>,
    {
        let record = self.record;
        let claimed = with_claim(ch, self.kind, &self.business_key, deadline, |lease| async move {
            let outcome = work(lease).await?;
            Ok(if outcome.done_for_good() {
                AfterWork::Complete(outcome, record)
            } else {
                AfterWork::Release(outcome)
            })
        })
        .await?;
        Ok(claimed.or(T::DONE_BEFORE, T::BUSY))
    }
}

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

/// A claimed unit of work. The body of [`with_claim`] gets a copy to keep the claim before its side
/// effects; completing and releasing are [`with_claim`]'s. Every call is fenced by the claim's
/// token: once the lease ran out and another invocation took the work, they fail with
/// [`StoreError::ClaimLost`] and change nothing.
#[derive(Clone)]
pub(crate) struct Lease {
    key: IdempotencyKey,
    token: ClaimToken,
}

/// Whether a store error says the caller no longer holds its claim.
fn claim_lost(error: &OpError) -> bool {
    matches!(error, OpError::Store(StoreError::ClaimLost { .. }))
}

impl Lease {
    async fn complete(self, ch: &Channel, result: serde_json::Value) -> Result<(), OpError> {
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
    async fn release(self, ch: &Channel) -> Result<(), OpError> {
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
    async fn release_after<T>(self, ch: &Channel, error: OpError) -> Result<T, OpError> {
        if let Err(release) = self.release(ch).await {
            tracing::warn!(error = %release, "could not release a claim after a failure; it expires with its lease");
        }
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
