//! The end-of-run summary: listings and orders as the channel's records show them, failures with
//! their reasons, observed latencies beside the documented delays, API usage, and the invariants.
//! Printed to stdout as text and kept in the state directory as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use domain::{CreationState, Operation};
use ports::QueueName;
use serde::Serialize;

use crate::activity::OperationActivity;
use crate::chaos::ChaosReport;
use crate::engine::Wiring;
use crate::evidence::{ChannelRecords, Evidence};
use crate::invariants::InvariantCheck;
use crate::latency::LatencyRow;

/// Exit code when an invariant broke.
pub const EXIT_INVARIANT_BROKEN: i32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReasonCount {
    pub code: String,
    /// One of the messages with this code (they quote the product's own data, so they differ).
    pub example: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListingCounts {
    pub total: usize,
    pub by_status: BTreeMap<String, u64>,
    /// Why listings are in Error, by issue code.
    pub error_reasons: Vec<ReasonCount>,
}

impl ListingCounts {
    pub fn from_records(records: &ChannelRecords) -> Self {
        let mut by_status = BTreeMap::new();
        let mut reasons: BTreeMap<String, ReasonCount> = BTreeMap::new();
        for listing in &records.listings {
            *by_status.entry(listing.status().as_str().to_owned()).or_default() += 1;
            if listing.status() == domain::ListingStatus::Error {
                for issue in &listing.issues {
                    let entry = reasons.entry(issue.code.clone()).or_insert_with(|| ReasonCount {
                        code: issue.code.clone(),
                        example: issue.message.clone(),
                        count: 0,
                    });
                    entry.count += 1;
                }
            }
        }
        let mut error_reasons: Vec<ReasonCount> = reasons.into_values().collect();
        error_reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
        Self {
            total: records.listings.len(),
            by_status,
            error_reasons,
        }
    }

    pub fn count(&self, status: domain::ListingStatus) -> u64 {
        self.by_status.get(status.as_str()).copied().unwrap_or(0)
    }
}

/// Orders as the dashboard records show them (each count is of orders, not units).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OrderCounts {
    /// Placed on Walmart by the scenario's buyers (demo only).
    pub placed: Option<usize>,
    /// Orders buyers gave up on because nothing was buyable (demo only).
    pub not_placed: Option<u64>,
    pub imported: usize,
    pub created_in_commerce: usize,
    pub acknowledged: usize,
    pub shipped: usize,
    pub partially_shipped: usize,
    pub cancelled: usize,
    pub returned: usize,
    pub refunded: usize,
    pub failed: usize,
    pub by_summary: BTreeMap<String, u64>,
    /// Failed creations and sync problems, one line per order.
    pub problems: Vec<String>,
}

impl OrderCounts {
    pub fn from_records(records: &ChannelRecords) -> Self {
        let mut c = Self {
            imported: records.orders.len(),
            ..Self::default()
        };
        for record in &records.orders {
            let po = record.order.id.as_str();
            *c.by_summary
                .entry(record.summary().as_str().to_owned())
                .or_default() += 1;
            if record.commerce_link().is_some() {
                c.created_in_commerce += 1;
            }
            if record.acknowledged_at().is_some() {
                c.acknowledged += 1;
            }
            let sum = |f: fn(&domain::LineProgress) -> u32| record.lines().iter().map(f).sum::<u32>();
            let (ordered, shipped, cancelled) =
                (sum(|l| l.ordered), sum(|l| l.shipped), sum(|l| l.cancelled));
            if shipped > 0 && shipped + cancelled == ordered {
                c.shipped += 1;
            } else if shipped > 0 {
                c.partially_shipped += 1;
            }
            if cancelled > 0 {
                c.cancelled += 1;
            }
            if sum(|l| l.returned) > 0 {
                c.returned += 1;
            }
            if sum(|l| l.refunded) > 0 {
                c.refunded += 1;
            }
            if let CreationState::Failed { reason, attempts } = record.creation() {
                c.failed += 1;
                c.problems.push(format!(
                    "PO {po}: not created after {attempts} attempts: {reason}"
                ));
            }
            for problem in record.problems() {
                c.problems
                    .push(format!("PO {po}: {:?}: {}", problem.task, problem.reason));
            }
        }
        c
    }
}

/// Calls the channel made to each API.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApiCounts {
    pub walmart_calls: u64,
    pub walmart_throttled: u64,
    pub commerce_calls: u64,
}

impl ApiCounts {
    pub fn from_evidence(e: &Evidence) -> Self {
        Self {
            walmart_calls: e.walmart.stats.values().map(|c| c.calls).sum(),
            walmart_throttled: e.walmart.stats.values().map(|c| c.throttled).sum(),
            commerce_calls: e.commerce.stats.values().sum(),
        }
    }
}

/// What the run was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFacts {
    /// One line: mode and parameters.
    pub title: String,
    pub state_dir: String,
    #[serde(serialize_with = "as_secs")]
    pub scenario_time: Duration,
    #[serde(serialize_with = "as_secs")]
    pub wall_time: Duration,
    /// Scenario seconds per wall second (1 for real endpoints).
    pub time_scale: f64,
    /// Whether the final settle phase ended quiet (else it hit its cap).
    pub settled: Option<bool>,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub facts: RunFacts,
    /// What is wrong with the store's configuration, one line each: the channel stopped for it.
    pub configuration: Vec<String>,
    pub listings: ListingCounts,
    pub orders: OrderCounts,
    /// Per operation: runs, messages and failures as the engine saw them.
    pub activity: BTreeMap<Operation, OperationActivity>,
    /// Operations the template runs that have no handler yet.
    pub not_wired: Vec<String>,
    /// Messages in dead-letter queues, per queue: (message id, receive count, body).
    pub dead_letters: BTreeMap<QueueName, Vec<String>>,
    /// Other problems worth reading: unfinished scenario stories, refused actions, unreadable records.
    pub notes: Vec<String>,
    pub latency: Vec<LatencyRow>,
    pub api: Option<ApiCounts>,
    pub invariants: Vec<InvariantCheck>,
    /// `demo --chaos`: what was injected, by kind.
    pub chaos: Option<ChaosReport>,
    /// Walmart's push notifications (`demo` with push on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<crate::push::PushReport>,
}

impl Summary {
    pub fn invariants_hold(&self) -> bool {
        self.invariants.iter().all(InvariantCheck::holds)
    }

    /// 2 for a configuration problem (it stopped the channel, so the invariants say little), 1 for
    /// a broken invariant, else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.configuration.is_empty() {
            crate::EXIT_USAGE
        } else if self.invariants_hold() {
            0
        } else {
            EXIT_INVARIANT_BROKEN
        }
    }

    /// The recorded configuration problem as the summary's line.
    pub fn configuration_lines(records: &ChannelRecords) -> Vec<String> {
        records
            .configuration
            .iter()
            .filter_map(|h| {
                let problem = h.problem.as_deref()?;
                Some(format!(
                    "{problem} (found by {}, stopped {} run(s) or message(s))",
                    h.found_by.as_deref().unwrap_or("a check"),
                    h.occurrences
                ))
            })
            .collect()
    }

    pub fn not_wired(wiring: &[Wiring]) -> Vec<String> {
        wiring
            .iter()
            .filter_map(|w| {
                let mut missing = Vec::new();
                if w.schedule_without_handler {
                    missing.push("schedule");
                }
                if w.queue_without_handler {
                    missing.push("queue");
                }
                (!missing.is_empty()).then(|| {
                    format!(
                        "{}: no {} handler registered yet",
                        w.operation.function_name(),
                        missing.join(" or ")
                    )
                })
            })
            .collect()
    }

    /// The summary as the terminal shows it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_facts(&mut out);
        self.render_listings(&mut out);
        self.render_orders(&mut out);
        self.render_failures(&mut out);
        self.render_runs(&mut out);
        self.render_latency(&mut out);
        self.render_api_and_chaos(&mut out);
        self.render_invariants(&mut out);
        out
    }

    /// What was run, for how long, and where its state is.
    fn render_facts(&self, out: &mut String) {
        let f = &self.facts;
        let _ = writeln!(out, "Channel Manager local runner: {}", f.title);
        let _ = writeln!(
            out,
            "{} of scenario time in {:.1} s of wall time; state in {}",
            human(f.scenario_time),
            f.wall_time.as_secs_f64(),
            f.state_dir
        );
        for line in &self.configuration {
            let _ = writeln!(out, "CONFIGURATION: {line}");
        }
        if f.settled == Some(false) {
            let _ = writeln!(
                out,
                "(the final settle phase hit its cap before the channel was quiet)"
            );
        }
    }

    /// Listings by status, and why those not matched were not.
    fn render_listings(&self, out: &mut String) {
        let l = &self.listings;
        let _ = writeln!(out, "\nListings: {}", l.total);
        for (status, n) in &l.by_status {
            let _ = writeln!(out, "  {status:<18} {n:>6}");
        }
        if !l.error_reasons.is_empty() {
            let _ = writeln!(out, "  not matched, by reason:");
            for r in &l.error_reasons {
                let _ = writeln!(out, "    {:>5}  {:<24} e.g. {}", r.count, r.code, r.example);
            }
        }
    }

    /// Orders placed, and what became of them.
    fn render_orders(&self, out: &mut String) {
        let o = &self.orders;
        let _ = writeln!(out, "\nOrders");
        if let Some(placed) = o.placed {
            let _ = write!(out, "  placed on Walmart {placed}");
            match o.not_placed {
                Some(n) if n > 0 => {
                    let _ = writeln!(out, " ({n} more found nothing to buy)");
                }
                _ => {
                    let _ = writeln!(out);
                }
            }
        }
        let _ = writeln!(
            out,
            "  imported {}, created in Commerce {}, acknowledged {}, shipped {} (+{} partly), cancelled {}, returned {}, refunded {}, failed {}",
            o.imported,
            o.created_in_commerce,
            o.acknowledged,
            o.shipped,
            o.partially_shipped,
            o.cancelled,
            o.returned,
            o.refunded,
            o.failed
        );
        if !o.by_summary.is_empty() {
            let states: Vec<String> = o.by_summary.iter().map(|(s, n)| format!("{s} {n}")).collect();
            let _ = writeln!(out, "  dashboard: {}", states.join(", "));
        }
    }

    /// Every failure with its reason: failed runs and messages, reported problems, dead letters
    /// and notes.
    fn render_failures(&self, out: &mut String) {
        let o = &self.orders;
        let _ = writeln!(out, "\nFailures");
        let mut any_failure = false;
        for (op, a) in &self.activity {
            for (reason, n) in &a.failures {
                any_failure = true;
                let _ = writeln!(out, "  {:<18} {n:>5} x {reason}", op.function_name());
            }
            for (problem, n) in &a.problems {
                any_failure = true;
                let _ = writeln!(out, "  {:<18} {n:>5} x reported: {problem}", op.function_name());
            }
        }
        for problem in &o.problems {
            any_failure = true;
            let _ = writeln!(out, "  {problem}");
        }
        for (queue, messages) in &self.dead_letters {
            for m in messages {
                any_failure = true;
                let _ = writeln!(out, "  dead letter on {}: {m}", queue.as_str());
            }
        }
        for note in &self.notes {
            any_failure = true;
            let _ = writeln!(out, "  {note}");
        }
        if !any_failure {
            let _ = writeln!(out, "  none");
        }
        for line in &self.not_wired {
            let _ = writeln!(out, "  (not running) {line}");
        }
    }

    /// Runs per function.
    fn render_runs(&self, out: &mut String) {
        let _ = writeln!(out, "\nRuns");
        for (op, a) in &self.activity {
            let _ = writeln!(
                out,
                "  {:<18} {:>6} scheduled ({} incomplete, {} ticks skipped), {:>6} messages in {} batches",
                op.function_name(),
                a.scheduled_runs,
                a.incomplete_runs,
                a.skipped_ticks,
                a.messages_handled + a.messages_failed,
                a.batches
            );
        }
    }

    /// The observed latency of each seed operation beside its documented delay.
    fn render_latency(&self, out: &mut String) {
        if !self.latency.is_empty() {
            let _ = writeln!(
                out,
                "\nLatency in scenario time (p50 / p99 against the documented delay)"
            );
            for row in &self.latency {
                let r = &row.latency;
                let bound = if r.documented {
                    format!("documented {}", human(r.bound))
                } else {
                    format!("none documented, target {}", human(r.bound))
                };
                let observed = match (r.p50, r.p99) {
                    (Some(p50), Some(p99)) => format!("{:>8} / {:>8}", human(p50), human(p99)),
                    _ => format!("{:>19}", "no samples"),
                };
                let flag = if r.within_bound() { "" } else { "  OVER" };
                let unseen = if row.not_seen > 0 {
                    format!(", {} not seen", row.not_seen)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "  {:<38} {observed}  ({} samples{unseen}; {bound}){flag}\n      {}",
                    row.seed_operation, r.samples, r.path
                );
            }
        }

        if !self.latency.is_empty() && self.facts.time_scale > 1.0 {
            let _ = writeln!(
                out,
                "  (CPU time does not compress: at x{} each millisecond of work is {:.1} s of scenario time,\n   \
                 and ticks skipped above show runs that outlasted their period. A release build and a\n   \
                 lower --time-scale give figures closer to a deployment's.)",
                self.facts.time_scale,
                self.facts.time_scale / 1000.0
            );
        }
    }

    /// API calls and 429s, and what chaos injected.
    fn render_api_and_chaos(&self, out: &mut String) {
        if let Some(api) = &self.api {
            let _ = writeln!(
                out,
                "\nAPI calls: Walmart {} ({} throttled with 429), Commerce {}",
                api.walmart_calls, api.walmart_throttled, api.commerce_calls
            );
        }

        if let Some(push) = &self.push {
            out.push_str(&push.render());
        }

        if let Some(chaos) = &self.chaos {
            let _ = writeln!(
                out,
                "\nChaos (seed {}): {} injected; the failures above are the channel's honest answers to them",
                chaos.seed,
                chaos.total()
            );
            for (kind, n) in &chaos.injected {
                let _ = writeln!(out, "  {n:>6}  {kind}");
            }
        }
    }

    /// Each invariant, whether it holds, and how it broke.
    fn render_invariants(&self, out: &mut String) {
        if !self.invariants.is_empty() {
            let _ = writeln!(out, "\nInvariants");
            for check in &self.invariants {
                let mark = if check.holds() { "ok    " } else { "BROKEN" };
                let _ = writeln!(out, "  {mark} {} ({} checked)", check.name, check.checked);
                for b in &check.broken {
                    let _ = writeln!(out, "           {b}");
                }
            }
            let _ = writeln!(
                out,
                "\n{}",
                if self.invariants_hold() {
                    "All invariants hold."
                } else {
                    "Some invariants are broken (exit code 1)."
                }
            );
        }
    }
}

/// `1h02m`, `4m05s`, `12.3s`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_secs(3720)), "1h02m");
        assert_eq!(human(Duration::from_secs(245)), "4m05s");
        assert_eq!(human(Duration::from_millis(12_340)), "12.3s");
    }

    #[test]
    fn a_broken_invariant_sets_the_exit_code_and_is_listed() {
        let mut summary = Summary {
            configuration: Vec::new(),
            facts: RunFacts {
                title: "demo".into(),
                state_dir: "/tmp/x".into(),
                scenario_time: Duration::from_secs(3600),
                wall_time: Duration::from_secs(3),
                time_scale: 1200.0,
                settled: Some(true),
            },
            listings: ListingCounts::default(),
            orders: OrderCounts::default(),
            activity: BTreeMap::new(),
            not_wired: vec!["order-create: no queue handler registered yet".into()],
            dead_letters: BTreeMap::new(),
            notes: Vec::new(),
            latency: Vec::new(),
            api: None,
            invariants: vec![InvariantCheck {
                name: "every Walmart order has exactly one Commerce order",
                checked: 2,
                broken: Vec::new(),
            }],
            chaos: None,
            push: None,
        };
        assert_eq!(summary.exit_code(), 0);
        assert!(summary.render().contains("All invariants hold."));
        summary.invariants[0]
            .broken
            .push("PO 1: no Commerce order".into());
        assert_eq!(summary.exit_code(), EXIT_INVARIANT_BROKEN);
        let text = summary.render();
        assert!(text.contains("BROKEN every Walmart order"), "{text}");
        assert!(text.contains("PO 1: no Commerce order"), "{text}");
        assert!(text.contains("(not running) order-create"), "{text}");
    }
}
