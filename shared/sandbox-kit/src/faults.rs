//! Run-time fault injection: what the next requests should suffer.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// Fault injection, settable at run time. Applies to every route except the control routes (`/_sandbox/...`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultPlan {
    /// Added to every response.
    pub latency_ms: u64,
    /// 0..1: random 500s with a JSON error body (the API handler is not called).
    pub error_rate: f64,
    /// 0..1: the API handler runs, then its answer is replaced by a 200 with a truncated, non-JSON body.
    pub malformed_rate: f64,
    /// The next N requests get 503 (the API handler is not called).
    pub burst_5xx: u32,
    /// The next N requests hang for `hang_ms` before answering 504 (lets clients test their timeouts).
    pub timeout_next: u32,
    pub hang_ms: u64,
    /// The next N writes (POST, PUT, PATCH, DELETE) are applied, then their answer is lost: the client
    /// gets a 504 although the change happened (an ambiguous outcome: read before acting again).
    pub lose_next: u32,
    /// 0..1: like `lose_next`, for a random share of writes.
    pub lost_rate: f64,
    /// Deterministic randomness when set.
    pub seed: Option<u64>,
}

/// What the fault layer decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultDecision {
    PassThrough,
    /// Hang this long, then 504.
    Hang(Duration),
    /// 503 without calling the handler.
    Burst,
    /// 500 without calling the handler.
    Error,
    /// Call the handler, then mangle its body.
    Malformed,
    /// Call the handler, then answer 504 as if its response never arrived.
    Lost,
}

impl FaultDecision {
    /// Short name, sent in the `x-sandbox-fault` response header.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::PassThrough => "none",
            Self::Hang(_) => "timeout_next",
            Self::Burst => "burst_5xx",
            Self::Error => "error_rate",
            Self::Malformed => "malformed_rate",
            Self::Lost => "lost_response",
        }
    }
}

/// The live fault plan of one sandbox. Cheap to clone: clones share the same plan and random state.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

struct FaultState {
    plan: FaultPlan,
    rng: StdRng,
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(FaultState {
                plan: FaultPlan::default(),
                rng: rng_for(None),
            })),
        }
    }

    /// Replaces the plan; counters (`burst_5xx`, `timeout_next`) start over and a `seed` restarts the
    /// random sequence, so the same plan set twice produces the same faults.
    pub fn set(&self, plan: FaultPlan) {
        let mut state = self.lock();
        state.rng = rng_for(plan.seed);
        state.plan = plan;
    }

    /// The current plan, with the counters showing what is left of them.
    pub fn get(&self) -> FaultPlan {
        self.lock().plan.clone()
    }

    /// Extra latency for every response.
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.lock().plan.latency_ms)
    }

    /// Decides the fate of one request, consuming counters. Only writes can lose their answer: a lost
    /// read is no different from a failed one.
    pub(crate) fn decide(&self, is_write: bool) -> FaultDecision {
        let mut state = self.lock();
        let state = &mut *state;
        if is_write && state.plan.lose_next > 0 {
            state.plan.lose_next -= 1;
            return FaultDecision::Lost;
        }
        if state.plan.timeout_next > 0 {
            state.plan.timeout_next -= 1;
            return FaultDecision::Hang(Duration::from_millis(state.plan.hang_ms));
        }
        if state.plan.burst_5xx > 0 {
            state.plan.burst_5xx -= 1;
            return FaultDecision::Burst;
        }
        // Draw only when a rate is set so that a seeded plan's sequence does not depend on requests
        // that happened while no randomness was asked for.
        if state.plan.error_rate > 0.0 && state.rng.random::<f64>() < state.plan.error_rate {
            return FaultDecision::Error;
        }
        if state.plan.malformed_rate > 0.0 && state.rng.random::<f64>() < state.plan.malformed_rate {
            return FaultDecision::Malformed;
        }
        if is_write && state.plan.lost_rate > 0.0 && state.rng.random::<f64>() < state.plan.lost_rate {
            return FaultDecision::Lost;
        }
        FaultDecision::PassThrough
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        // The state is always consistent between statements: a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn rng_for(seed: Option<u64>) -> StdRng {
    match seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => rand::make_rng(),
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").field("plan", &self.get()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_consumed_in_order_timeouts_first() {
        let faults = Faults::new();
        faults.set(FaultPlan {
            timeout_next: 1,
            hang_ms: 7,
            burst_5xx: 2,
            ..FaultPlan::default()
        });
        assert_eq!(
            faults.decide(false),
            FaultDecision::Hang(Duration::from_millis(7))
        );
        assert_eq!(faults.decide(false), FaultDecision::Burst);
        assert_eq!(faults.get().burst_5xx, 1);
        assert_eq!(faults.decide(false), FaultDecision::Burst);
        assert_eq!(faults.decide(false), FaultDecision::PassThrough);
    }

    #[test]
    fn a_seeded_plan_repeats_its_decisions() {
        let faults = Faults::new();
        let plan = FaultPlan {
            error_rate: 0.3,
            malformed_rate: 0.3,
            seed: Some(42),
            ..FaultPlan::default()
        };
        faults.set(plan.clone());
        let first: Vec<FaultDecision> = (0..50).map(|_| faults.decide(false)).collect();
        faults.set(plan);
        let second: Vec<FaultDecision> = (0..50).map(|_| faults.decide(false)).collect();
        assert_eq!(first, second);
        assert!(first.contains(&FaultDecision::Error));
        assert!(first.contains(&FaultDecision::Malformed));
        assert!(first.contains(&FaultDecision::PassThrough));
    }

    #[test]
    fn only_writes_lose_their_answer() {
        let faults = Faults::new();
        faults.set(FaultPlan {
            lose_next: 1,
            ..FaultPlan::default()
        });
        assert_eq!(faults.decide(false), FaultDecision::PassThrough);
        assert_eq!(faults.decide(true), FaultDecision::Lost);
        assert_eq!(faults.decide(true), FaultDecision::PassThrough);
    }

    #[test]
    fn plan_json_accepts_partial_objects() {
        let plan: FaultPlan = serde_json::from_str(r#"{"burst_5xx": 3}"#).unwrap();
        assert_eq!(
            plan,
            FaultPlan {
                burst_5xx: 3,
                ..FaultPlan::default()
            }
        );
    }
}
