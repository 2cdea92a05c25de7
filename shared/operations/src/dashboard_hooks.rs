//! The one call `registry::guarded` makes around every run and message for the dashboard: the
//! merchant's pause switch first, then the run log.

use std::future::Future;

use domain::Operation;

use crate::run_log::Outcome;
use crate::{Channel, OpError};

/// Skips the work of a paused operation ([`crate::merchant::is_paused`]); otherwise does it
/// and records how it ended ([`crate::run_log::record`]).
pub(crate) async fn guarded<T: Outcome>(
    ch: &Channel,
    operation: Operation,
    work: impl Future<Output = Result<T, OpError>>,
) -> Result<T, OpError> {
    let started = ch.clock.now();
    if crate::merchant::is_paused(ch, operation).await? {
        crate::run_log::record_paused::<T>(ch, operation, started).await;
        return crate::merchant::paused_answer(operation);
    }
    let outcome = work.await;
    crate::run_log::record(ch, operation, started, &outcome).await;
    outcome
}
