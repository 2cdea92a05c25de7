//! `demo --chaos SEED`: on top of the scripted day, the world misbehaves as production does. The
//! sandboxes get faults through their fault plans (5xx, 503 bursts, garbled bodies, slow answers,
//! hangs, answers lost after the change was applied) and Walmart's 429s with its headers; Walmart
//! tokens expire early; the engine kills invocations at random points (a Lambda timeout or crash),
//! cuts deadlines short, delivers queue messages twice (at once and late), fires schedule ticks twice
//! and runs two invocations of a function at once.
//!
//! What is injected is drawn from the seed: the sandbox faults step by step of the scenario clock,
//! the engine's choices from one random sequence per operation and trigger (so one operation's
//! traffic does not shift another's draws). A kill lands at a point drawn from the seed too: right
//! before the invocation's k-th call to the state store ([`kill_point`]), that is right after the
//! Walmart or Commerce call before it whose outcome the invocation was about to record, never at a
//! moment that depends on how fast the machine is. Faults stop when the day ends; the settle phase
//! then runs clean, dead letters are redriven once the queues are quiet, and the invariants are
//! checked at the end.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use domain::Operation;
use operations::testkit::Sandboxes;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sandbox_kit::FaultPlan;
use serde::Serialize;

/// A kill lands before one of the invocation's first this many state store calls (an invocation of
/// the demo makes from a few to a few hundred): from the first call to well into the work.
const KILL_WITHIN_CALLS: u32 = 60;
/// A cut deadline leaves the invocation this much wall time, or less.
const CUT_DEADLINE_WITHIN: Duration = Duration::from_millis(800);
/// A hung request answers (504) after this much wall time: past any cut deadline.
const HANG: Duration = Duration::from_millis(1500);

/// What was injected, by kind (the summary's names).
pub mod kind {
    pub const SERVER_ERRORS: &str = "sandbox 5xx periods";
    pub const BURST_503: &str = "503 bursts";
    pub const GARBLED: &str = "garbled-body periods";
    pub const SLOW: &str = "slow-answer periods";
    pub const HANGS: &str = "hung requests";
    pub const LOST_ANSWERS: &str = "lost-answer periods";
    pub const THROTTLED: &str = "Walmart 429 bursts";
    pub const TOKENS_EXPIRED: &str = "Walmart tokens expired";
    pub const KILLED: &str = "invocations killed";
    pub const DEADLINE_CUT: &str = "deadlines cut short";
    pub const DUPLICATED: &str = "messages delivered twice";
    pub const DELIVERED_LATE: &str = "messages delivered again late";
    pub const TICK_TWICE: &str = "schedule ticks fired twice";
    pub const CONCURRENT: &str = "invocations run two at once";
    pub const REDRIVEN: &str = "dead letters redriven";
}

/// How likely each engine-level injection is, per invocation or message.
#[derive(Debug, Clone, Copy)]
struct Odds {
    kill: f64,
    cut_deadline: f64,
    duplicate: f64,
    deliver_late: f64,
    tick_twice: f64,
    concurrent: f64,
}

const ODDS: Odds = Odds {
    kill: 0.08,
    cut_deadline: 0.05,
    duplicate: 0.1,
    deliver_late: 0.1,
    tick_twice: 0.05,
    concurrent: 0.05,
};

/// What the engine does to one invocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvocationFate {
    /// Abort the invocation right before its k-th state store call, if it makes that many.
    pub kill_at_call: Option<u32>,
    /// Give the invocation this deadline (wall time) instead of its function's.
    pub deadline: Option<Duration>,
    /// Schedules: start a second invocation at the same time.
    pub concurrent: bool,
    /// Schedules: fire the tick again right after this run.
    pub tick_twice: bool,
}

/// What happens to one received message besides its invocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageFate {
    pub invocation: InvocationFate,
    /// Send the same body again now (at-least-once delivery).
    pub duplicate: bool,
    /// Send the same body again after this much scenario time.
    pub deliver_late: Option<Duration>,
}

/// The chaos of one run: its seed, random sequences and tally. Cheap to clone.
#[derive(Clone)]
pub struct Chaos {
    seed: u64,
    inner: Arc<Mutex<ChaosState>>,
}

struct ChaosState {
    world: StdRng,
    /// One sequence per (operation, trigger).
    engine: BTreeMap<(Operation, bool), StdRng>,
    injected: BTreeMap<&'static str, u64>,
    /// Sandbox fault plans active until these step numbers.
    walmart_until: u64,
    commerce_until: u64,
    step: u64,
    /// The engine injects nothing once the day is over (the settle phase runs clean).
    active: bool,
}

/// What chaos did, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChaosReport {
    pub seed: u64,
    pub injected: BTreeMap<String, u64>,
}

impl ChaosReport {
    pub fn total(&self) -> u64 {
        self.injected
            .iter()
            .filter(|(k, _)| k.as_str() != kind::REDRIVEN)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn count(&self, kind: &str) -> u64 {
        self.injected.get(kind).copied().unwrap_or(0)
    }
}

impl Chaos {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            inner: Arc::new(Mutex::new(ChaosState {
                world: StdRng::seed_from_u64(seed ^ 0xc4a0_5eed),
                engine: BTreeMap::new(),
                injected: BTreeMap::new(),
                walmart_until: 0,
                commerce_until: 0,
                step: 0,
                active: true,
            })),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn lock(&self) -> MutexGuard<'_, ChaosState> {
        // Counters and random state only: a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_active(&self) -> bool {
        self.lock().active
    }

    pub fn note(&self, kind: &'static str, n: u64) {
        if n > 0 {
            *self.lock().injected.entry(kind).or_default() += n;
        }
    }

    pub fn report(&self) -> ChaosReport {
        ChaosReport {
            seed: self.seed,
            injected: self
                .lock()
                .injected
                .iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect(),
        }
    }

    fn engine_rng<T>(&self, op: Operation, scheduled: bool, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut state = self.lock();
        let seed = self.seed;
        let rng = state
            .engine
            .entry((op, scheduled))
            .or_insert_with(|| StdRng::seed_from_u64(seed ^ ((op as u64 + 1) << 32) ^ u64::from(scheduled)));
        f(rng)
    }

    fn invocation(rng: &mut StdRng) -> InvocationFate {
        let kill_at_call = rng
            .random_bool(ODDS.kill)
            .then(|| rng.random_range(1..=KILL_WITHIN_CALLS));
        let deadline = rng
            .random_bool(ODDS.cut_deadline)
            .then(|| CUT_DEADLINE_WITHIN.mul_f64(rng.random_range(0.05..1.0)));
        InvocationFate {
            kill_at_call,
            deadline,
            concurrent: false,
            tick_twice: false,
        }
    }

    /// The fate of a scheduled invocation of `op`.
    pub fn scheduled(&self, op: Operation) -> InvocationFate {
        if !self.is_active() {
            return InvocationFate::default();
        }
        let fate = self.engine_rng(op, true, |rng| {
            let mut fate = Self::invocation(rng);
            fate.concurrent = rng.random_bool(ODDS.concurrent);
            fate.tick_twice = rng.random_bool(ODDS.tick_twice);
            fate
        });
        self.note(kind::DEADLINE_CUT, u64::from(fate.deadline.is_some()));
        self.note(kind::CONCURRENT, u64::from(fate.concurrent));
        self.note(kind::TICK_TWICE, u64::from(fate.tick_twice));
        fate
    }

    /// The fate of one message delivered to `op`.
    pub fn message(&self, op: Operation, visibility: Duration) -> MessageFate {
        if !self.is_active() {
            return MessageFate::default();
        }
        let fate = self.engine_rng(op, false, |rng| MessageFate {
            invocation: Self::invocation(rng),
            duplicate: rng.random_bool(ODDS.duplicate),
            // Late: after the original's visibility timeout, when it is long handled.
            deliver_late: rng
                .random_bool(ODDS.deliver_late)
                .then(|| visibility.mul_f64(rng.random_range(1.0..3.0))),
        });
        self.note(kind::DEADLINE_CUT, u64::from(fate.invocation.deadline.is_some()));
        self.note(kind::DUPLICATED, u64::from(fate.duplicate));
        self.note(kind::DELIVERED_LATE, u64::from(fate.deliver_late.is_some()));
        fate
    }

    /// One step of the scenario clock during the day: maybe start or end a fault period on a
    /// sandbox, drain Walmart's rate limits, expire Walmart's tokens.
    pub async fn step(&self, sandboxes: &Sandboxes) {
        let (walmart_plan, commerce_plan, drain, expire) = {
            let mut state = self.lock();
            let state = &mut *state;
            state.step += 1;
            let step = state.step;
            let rng = &mut state.world;
            let mut injected = Vec::new();
            let walmart_plan = next_plan(rng, step, &mut state.walmart_until, &mut injected);
            let commerce_plan = next_plan(rng, step, &mut state.commerce_until, &mut injected);
            let drain = rng.random_bool(0.01);
            let expire = rng.random_bool(0.02);
            for kind in injected {
                *state.injected.entry(kind).or_default() += 1;
            }
            (walmart_plan, commerce_plan, drain, expire)
        };
        let walmart = sandboxes.walmart_control();
        if let Some(plan) = walmart_plan
            && let Err(e) = walmart.set_faults(&plan).await
        {
            tracing::warn!(error = %e, "chaos: Walmart fault plan not set");
        }
        if let Some(plan) = commerce_plan
            && let Err(e) = sandboxes.commerce_control().set_faults(&plan).await
        {
            tracing::warn!(error = %e, "chaos: Commerce fault plan not set");
        }
        if drain {
            match walmart.drain_rate_limits().await {
                Ok(()) => self.note(kind::THROTTLED, 1),
                Err(e) => tracing::warn!(error = %e, "chaos: rate limits not drained"),
            }
        }
        if expire {
            match walmart.expire_tokens().await {
                Ok(_) => self.note(kind::TOKENS_EXPIRED, 1),
                Err(e) => tracing::warn!(error = %e, "chaos: tokens not expired"),
            }
        }
    }

    /// Ends every fault: the settle phase runs clean.
    pub async fn calm(&self, sandboxes: &Sandboxes) {
        self.lock().active = false;
        let clean = FaultPlan::default();
        if let Err(e) = sandboxes.walmart_control().set_faults(&clean).await {
            tracing::warn!(error = %e, "chaos: Walmart faults not cleared");
        }
        if let Err(e) = sandboxes.commerce_control().set_faults(&clean).await {
            tracing::warn!(error = %e, "chaos: Commerce faults not cleared");
        }
        if let Err(e) = sandboxes.walmart_control().reset_rate_limits().await {
            tracing::warn!(error = %e, "chaos: rate limits not reset");
        }
    }
}

/// Where an invocation dies: before its k-th state store call. Set for the invocation's task by
/// [`KillSwitch::scope`]; the store calls [`kill_point`].
#[derive(Debug)]
pub struct KillSwitch {
    calls_left: std::sync::atomic::AtomicU32,
    fired: tokio::sync::Notify,
}

tokio::task_local! {
    static KILL_SWITCH: Arc<KillSwitch>;
}

impl KillSwitch {
    pub fn at_call(k: u32) -> Arc<Self> {
        Arc::new(Self {
            calls_left: std::sync::atomic::AtomicU32::new(k),
            fired: tokio::sync::Notify::new(),
        })
    }

    /// Runs `work` with this switch: its store calls count down to the kill.
    pub fn scope<F: std::future::Future>(
        self: Arc<Self>,
        work: F,
    ) -> tokio::task::futures::TaskLocalFuture<Arc<KillSwitch>, F> {
        KILL_SWITCH.scope(self, work)
    }

    /// Resolves once the invocation reached its kill point (it then waits forever to be aborted).
    pub async fn fired(&self) {
        self.fired.notified().await;
    }
}

/// Called by the runner's state store before every call: an invocation whose kill switch counts
/// down to this call stops here for good (the engine aborts it). Outside an invocation with a
/// kill switch, nothing happens.
pub async fn kill_point() {
    let Ok(switch) = KILL_SWITCH.try_with(Arc::clone) else {
        return;
    };
    let reached = switch
        .calls_left
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |left| left.checked_sub(1),
        )
        .is_ok_and(|before| before == 1);
    if reached {
        switch.fired.notify_one();
        std::future::pending::<()>().await;
    }
}

/// One seed's line of `local-runner chaos`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedRow {
    pub seed: u64,
    pub settled: bool,
    pub report: ChaosReport,
    /// Failed runs and messages: the channel's honest answers to the faults.
    pub honest_failures: u64,
    /// Dead letters left after the redrive and settling.
    pub dead_letters_left: usize,
    pub violations: Vec<String>,
    pub wall_secs: f64,
}

/// The table `local-runner chaos` prints, with a total line.
pub fn render_table(rows: &[SeedRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>5} {:>10} {:>7}",
        "seed",
        "injected",
        "sandbox",
        "killed",
        "dup/late",
        "ticks2x",
        "2atonce",
        "429/tok",
        "failures",
        "redriven",
        "DLQ",
        "violations",
        "wall s"
    );
    let sandbox_kinds = [
        kind::SERVER_ERRORS,
        kind::BURST_503,
        kind::GARBLED,
        kind::SLOW,
        kind::HANGS,
        kind::LOST_ANSWERS,
    ];
    for row in rows {
        let r = &row.report;
        let _ = writeln!(
            out,
            "{:>5} {:>8} {:>9} {:>7} {:>8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>5} {:>10} {:>7.1}{}",
            row.seed,
            r.total(),
            sandbox_kinds.iter().map(|k| r.count(k)).sum::<u64>(),
            r.count(kind::KILLED),
            format!("{}/{}", r.count(kind::DUPLICATED), r.count(kind::DELIVERED_LATE)),
            r.count(kind::TICK_TWICE),
            r.count(kind::CONCURRENT),
            format!("{}/{}", r.count(kind::THROTTLED), r.count(kind::TOKENS_EXPIRED)),
            row.honest_failures,
            r.count(kind::REDRIVEN),
            row.dead_letters_left,
            row.violations.len(),
            row.wall_secs,
            if row.settled { "" } else { "  (did not settle)" }
        );
    }
    let violated: Vec<&SeedRow> = rows.iter().filter(|r| !r.violations.is_empty()).collect();
    let _ = writeln!(
        out,
        "\n{} seeds, {} injections, {} honest failures, {} dead letters redriven, {} seeds with violations",
        rows.len(),
        rows.iter().map(|r| r.report.total()).sum::<u64>(),
        rows.iter().map(|r| r.honest_failures).sum::<u64>(),
        rows.iter().map(|r| r.report.count(kind::REDRIVEN)).sum::<u64>(),
        violated.len()
    );
    for row in violated {
        for v in &row.violations {
            let _ = writeln!(out, "  seed {}: {v}", row.seed);
        }
    }
    out
}

/// A sandbox's next fault plan, if it changes at this step: a period of faults starts with
/// probability 1/20 per step and lasts 3 to 15 steps, then a clean plan.
fn next_plan(
    rng: &mut StdRng,
    step: u64,
    until: &mut u64,
    injected: &mut Vec<&'static str>,
) -> Option<FaultPlan> {
    if *until > 0 {
        if step < *until {
            return None;
        }
        *until = 0;
        return Some(FaultPlan::default());
    }
    if !rng.random_bool(0.05) {
        return None;
    }
    *until = step + rng.random_range(3..=15);
    let mut plan = FaultPlan {
        seed: Some(rng.random_range(0..u64::MAX)),
        ..FaultPlan::default()
    };
    match rng.random_range(0..6) {
        0 => {
            plan.error_rate = rng.random_range(0.05..0.25);
            injected.push(kind::SERVER_ERRORS);
        }
        1 => {
            plan.burst_5xx = rng.random_range(3..=12);
            injected.push(kind::BURST_503);
        }
        2 => {
            plan.malformed_rate = rng.random_range(0.02..0.1);
            injected.push(kind::GARBLED);
        }
        3 => {
            plan.latency_ms = rng.random_range(20..200);
            injected.push(kind::SLOW);
        }
        4 => {
            plan.timeout_next = rng.random_range(1..=3);
            plan.hang_ms = HANG.as_millis() as u64;
            injected.push(kind::HANGS);
        }
        _ => {
            plan.lost_rate = rng.random_range(0.05..0.3);
            injected.push(kind::LOST_ANSWERS);
        }
    }
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_injects_the_same_faults() {
        let draw = |seed: u64| {
            let chaos = Chaos::new(seed);
            let fates: Vec<_> = (0..200)
                .map(|_| {
                    (
                        chaos.scheduled(Operation::InventorySync),
                        chaos.message(Operation::OrderCreate, Duration::from_secs(180)),
                    )
                })
                .collect();
            let mut rng = StdRng::seed_from_u64(seed);
            let (mut until, mut injected) = (0, Vec::new());
            let plans: Vec<_> = (1..500)
                .map(|step| next_plan(&mut rng, step, &mut until, &mut injected))
                .collect();
            (fates, plans, chaos.report())
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5).0, draw(6).0);
        let (fates, plans, report) = draw(5);
        assert!(
            fates
                .iter()
                .any(|(s, _)| s.kill_at_call.is_some() && s.concurrent || s.tick_twice)
        );
        assert!(fates.iter().any(|(_, m)| m.duplicate));
        assert!(
            plans.iter().flatten().any(|p| *p == FaultPlan::default()),
            "periods end"
        );
        assert!(report.count(kind::DUPLICATED) > 0);
    }

    #[tokio::test]
    async fn a_kill_lands_right_before_the_kth_store_call_whatever_the_timing() {
        let switch = KillSwitch::at_call(3);
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let work = {
            let calls = calls.clone();
            async move {
                for _ in 0..10 {
                    kill_point().await;
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::task::yield_now().await;
                }
            }
        };
        let task = tokio::spawn(switch.clone().scope(work));
        switch.fired().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "two calls made, the third never"
        );
        // Outside an invocation with a switch, store calls are never stopped.
        kill_point().await;
    }

    #[test]
    fn one_operation_draws_do_not_shift_anothers() {
        let a = Chaos::new(9);
        let b = Chaos::new(9);
        for _ in 0..50 {
            b.scheduled(Operation::PriceSync);
        }
        let from_a: Vec<_> = (0..50).map(|_| a.scheduled(Operation::ShipmentSync)).collect();
        let from_b: Vec<_> = (0..50).map(|_| b.scheduled(Operation::ShipmentSync)).collect();
        assert_eq!(from_a, from_b);
    }
}
