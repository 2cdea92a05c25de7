//! What the engine saw while running the functions: runs, messages, failures with their reasons,
//! the operations' own report counts and problems. Shared by the progress line and the summary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use domain::{Operation, Timestamp};
use operations::RunReport;
use serde::Serialize;

/// Distinct failure or problem texts kept per operation; beyond that only the count grows, so a
/// long run with a recurring error stays small.
const MAX_DISTINCT_REASONS: usize = 40;

/// One operation's tally.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OperationActivity {
    pub scheduled_runs: u64,
    pub scheduled_failures: u64,
    /// Runs that stopped at their deadline with work left.
    pub incomplete_runs: u64,
    /// Ticks that found the previous run still going (a run never overlaps itself).
    pub skipped_ticks: u64,
    pub batches: u64,
    pub messages_handled: u64,
    pub messages_failed: u64,
    /// Sum of the scheduled runs' `RunReport.counts`.
    pub report_counts: BTreeMap<String, u64>,
    /// `RunReport.problems` by text, with how often each was reported.
    pub problems: BTreeMap<String, u64>,
    /// Failed runs and messages by reason, with how often each happened.
    pub failures: BTreeMap<String, u64>,
    /// Scenario time at which the latest finished scheduled run had started.
    pub last_finished_run_started_at: Option<Timestamp>,
}

impl OperationActivity {
    pub fn total_failures(&self) -> u64 {
        self.scheduled_failures + self.messages_failed
    }
}

fn bump(map: &mut BTreeMap<String, u64>, reason: String) {
    if map.len() < MAX_DISTINCT_REASONS || map.contains_key(&reason) {
        *map.entry(reason).or_default() += 1;
    } else {
        *map.entry("(other reasons)".to_owned()).or_default() += 1;
    }
}

/// The tallies of every operation, cheap to clone and share between tasks.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    inner: Arc<Mutex<BTreeMap<Operation, OperationActivity>>>,
}

impl Activity {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Operation, OperationActivity>> {
        // A panicking holder leaves plain counters behind: still worth reading.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with(&self, op: Operation, f: impl FnOnce(&mut OperationActivity)) {
        f(self.lock().entry(op).or_default());
    }

    pub fn scheduled_run_finished(
        &self,
        op: Operation,
        started_at: Timestamp,
        outcome: Result<&RunReport, String>,
    ) {
        // A run that found another holding the run lease did no work: it does not count as a run
        // after the settle phase's quiet point (the holder may have read the world before it).
        let did_work = outcome.as_ref().map_or(true, |report| {
            report.count(operations::RUN_IN_PROGRESS_ELSEWHERE) == 0
        });
        self.with(op, |a| {
            a.scheduled_runs += 1;
            if did_work {
                a.last_finished_run_started_at = Some(
                    a.last_finished_run_started_at
                        .map_or(started_at, |t| t.max(started_at)),
                );
            }
            match outcome {
                Ok(report) => {
                    if !report.complete {
                        a.incomplete_runs += 1;
                    }
                    for (name, n) in &report.counts {
                        *a.report_counts.entry(name.clone()).or_default() += n;
                    }
                    for problem in &report.problems {
                        bump(&mut a.problems, problem.clone());
                    }
                }
                Err(reason) => {
                    a.scheduled_failures += 1;
                    bump(&mut a.failures, format!("scheduled run failed: {reason}"));
                }
            }
        });
    }

    pub fn tick_skipped(&self, op: Operation) {
        self.with(op, |a| a.skipped_ticks += 1);
    }

    pub fn batch_started(&self, op: Operation) {
        self.with(op, |a| a.batches += 1);
    }

    pub fn message_handled(&self, op: Operation) {
        self.with(op, |a| a.messages_handled += 1);
    }

    pub fn message_failed(&self, op: Operation, reason: String) {
        self.with(op, |a| {
            a.messages_failed += 1;
            bump(&mut a.failures, format!("message failed: {reason}"));
        });
    }

    /// A copy of every tally.
    pub fn snapshot(&self) -> BTreeMap<Operation, OperationActivity> {
        self.lock().clone()
    }

    pub fn of(&self, op: Operation) -> OperationActivity {
        self.lock().get(&op).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_messages_are_tallied_with_reasons() {
        let activity = Activity::new();
        let mut report = RunReport::new(Operation::OrderImport);
        report.add(operations::Counter::OrdersImported, 2);
        report.problem("PO 1: bad line");
        report.complete = false;
        let t = Timestamp::from_millis(5);
        activity.scheduled_run_finished(Operation::OrderImport, t, Ok(&report));
        activity.scheduled_run_finished(Operation::OrderImport, Timestamp::from_millis(3), Ok(&report));
        activity.scheduled_run_finished(Operation::OrderImport, t, Err("boom".into()));
        activity.message_failed(Operation::OrderCreate, "busy".into());
        activity.message_handled(Operation::OrderCreate);
        let import = activity.of(Operation::OrderImport);
        assert_eq!(import.scheduled_runs, 3);
        assert_eq!(import.incomplete_runs, 2);
        assert_eq!(import.report_counts["orders_imported"], 4);
        assert_eq!(import.problems["PO 1: bad line"], 2);
        assert_eq!(import.failures["scheduled run failed: boom"], 1);
        assert_eq!(import.last_finished_run_started_at, Some(t));
        // A run that found the run lease held did no work: it is not a run after `t`.
        let mut skipped = RunReport::new(Operation::InventorySync);
        skipped.add(operations::RUN_IN_PROGRESS_ELSEWHERE, 1);
        activity.scheduled_run_finished(
            Operation::InventorySync,
            t,
            Ok(&RunReport::new(Operation::InventorySync)),
        );
        activity.scheduled_run_finished(
            Operation::InventorySync,
            t.plus(std::time::Duration::from_secs(60)),
            Ok(&skipped),
        );
        assert_eq!(
            activity.of(Operation::InventorySync).last_finished_run_started_at,
            Some(t)
        );
        assert_eq!(activity.of(Operation::OrderCreate).total_failures(), 1);
    }

    #[test]
    fn distinct_reasons_are_bounded() {
        let activity = Activity::new();
        for n in 0..(MAX_DISTINCT_REASONS + 10) {
            activity.message_failed(Operation::PriceSync, format!("reason {n}"));
        }
        let failures = activity.of(Operation::PriceSync).failures;
        assert_eq!(failures.len(), MAX_DISTINCT_REASONS + 1);
        assert_eq!(failures["(other reasons)"], 10);
    }
}
