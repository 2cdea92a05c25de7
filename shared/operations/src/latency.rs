//! How a delay is measured and held to its bound, once for every place that reports one: the
//! dashboard's overview (from the channel's records, `dashboard::delays`) and the local runner's
//! summary (from what the sandboxes saw). Each collects `(start, end)` pairs of one path into
//! [`Samples`] and reports them as a [`Latency`]: p50 and p99 by nearest rank against the
//! operation's documented delay ([`Operation::target_delay`], our own 15 min for returns).

use std::time::Duration;

use domain::{Operation, Timestamp};
use serde::Serialize;

/// Durations as seconds in JSON (for every figure of the dashboard's records).
pub(crate) mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

mod opt_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

/// The delays of one measured path of an operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// What is measured, from where to where.
    pub path: &'static str,
    pub samples: usize,
    #[serde(with = "opt_secs")]
    pub p50: Option<Duration>,
    #[serde(with = "opt_secs")]
    pub p99: Option<Duration>,
    /// `Operation::target_delay`.
    #[serde(with = "secs")]
    pub bound: Duration,
    /// Whether the bound is Adobe's documented delay (else our own target).
    pub documented: bool,
}

impl Latency {
    /// The figures of `samples` against `operation`'s bound.
    pub fn of(operation: Operation, path: &'static str, samples: &[Duration]) -> Self {
        Self {
            path,
            samples: samples.len(),
            p50: percentile(samples, 0.5),
            p99: percentile(samples, 0.99),
            bound: operation.target_delay(),
            documented: operation.documented_delay().is_some(),
        }
    }

    pub fn within_bound(&self) -> bool {
        self.p99.is_none_or(|p| p <= self.bound)
    }
}

/// The `q` quantile (0..=1) of `samples` by nearest rank.
pub fn percentile(samples: &[Duration], q: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Collects `end - start` where both are known; counts starts whose end never came.
#[derive(Debug, Default)]
pub struct Samples {
    pub durations: Vec<Duration>,
    pub not_seen: usize,
}

impl Samples {
    pub fn add(&mut self, start: Timestamp, end: Option<Timestamp>) {
        match end {
            Some(end) => self.durations.push(end.since(start)),
            None => self.not_seen += 1,
        }
    }

    pub fn latency(&self, operation: Operation, path: &'static str) -> Latency {
        Latency::of(operation, path, &self.durations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[secs(7)], 0.99), Some(secs(7)));
        let hundred: Vec<Duration> = (1..=100).rev().map(secs).collect();
        assert_eq!(percentile(&hundred, 0.5), Some(secs(50)));
        assert_eq!(percentile(&hundred, 0.99), Some(secs(99)));
        assert_eq!(percentile(&[secs(1), secs(9)], 0.5), Some(secs(1)));
        assert_eq!(percentile(&[secs(1), secs(9)], 0.99), Some(secs(9)));
    }

    #[test]
    fn figures_carry_the_documented_bound_or_our_target() {
        let create = Latency::of(Operation::OrderCreate, "x", &[secs(10), secs(400)]);
        assert_eq!(create.bound, secs(300));
        assert!(create.documented);
        assert!(!create.within_bound(), "p99 of 400 s exceeds 5 min");
        let returns = Latency::of(Operation::ReturnsSync, "x", &[]);
        assert_eq!(returns.bound, secs(15 * 60));
        assert!(!returns.documented);
        assert!(returns.within_bound());
    }

    #[test]
    fn samples_count_what_never_arrived() {
        let t = Timestamp::from_millis;
        let mut s = Samples::default();
        s.add(t(1_000), Some(t(4_000)));
        s.add(t(1_000), None);
        assert_eq!(s.durations, vec![secs(3)]);
        assert_eq!(s.not_seen, 1);
    }
}
