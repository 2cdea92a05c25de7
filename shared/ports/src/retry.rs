//! Deadlines and jittered backoff, shared by every client that retries.
//!
//! A Lambda passes its remaining time as a [`Deadline`]; no retry waits past it, so an invocation
//! ends with a clear error rather than being killed mid-call.

use std::time::{Duration, Instant};

use rand::RngExt;

/// The instant by which the caller needs an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    pub fn after(d: Duration) -> Self {
        Self(Instant::now() + d)
    }

    /// Effectively no deadline (tests, tools).
    pub fn none() -> Self {
        Self(Instant::now() + Duration::from_secs(365 * 24 * 3600))
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn is_past(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The same deadline, less a safety margin kept for saving state after the last call.
    pub fn minus(&self, margin: Duration) -> Self {
        Self(self.0.checked_sub(margin).unwrap_or(self.0))
    }

    /// Whether waiting `wait` and then doing roughly `work` still fits.
    pub fn allows(&self, wait: Duration, work: Duration) -> bool {
        wait + work < self.remaining()
    }
}

/// Exponential backoff with full jitter (AWS architecture blog's recommended form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max_delay: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_attempts: 5,
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry), or `None` when attempts are
    /// used up.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        if retry >= self.max_attempts {
            return None;
        }
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_delay);
        let jittered = rand::rng().random_range(0.0..=1.0);
        Some(cap.mul_f64(jittered).max(Duration::from_millis(1)))
    }

    /// The delay before a retry, honouring a server-given wait (e.g. a rate-limit replenish time)
    /// when one is known, and the deadline. `None` means: give up now.
    pub fn next_wait(
        &self,
        retry: u32,
        server_hint: Option<Duration>,
        deadline: &Deadline,
    ) -> Option<Duration> {
        let own = self.delay(retry)?;
        let wait = server_hint.map_or(own, |hint| hint.max(own.min(self.base)));
        deadline.allows(wait, Duration::from_millis(50)).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_respects_deadline() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            max_attempts: 4,
        };
        for retry in 1..4 {
            let d = b.delay(retry).unwrap();
            assert!(d <= Duration::from_millis(400), "{d:?}");
        }
        assert_eq!(b.delay(4), None);
        let soon = Deadline::after(Duration::from_millis(20));
        assert_eq!(
            b.next_wait(1, Some(Duration::from_secs(1)), &soon),
            None,
            "would wait past the deadline"
        );
        let later = Deadline::after(Duration::from_secs(10));
        assert!(b.next_wait(1, Some(Duration::from_secs(1)), &later).unwrap() >= Duration::from_secs(1));
        assert!(Deadline::after(Duration::ZERO).is_past());
    }
}
