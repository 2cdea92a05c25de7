//! Per-endpoint token buckets seeded from Walmart's published limits, corrected by what Walmart
//! reports (`X-Current-Token-Count`, `X-Next-Replenishment-Time`, 429s), plus call counters.
//!
//! The client takes a token before every call and waits (on the injected clock) when none is
//! left, so in steady state it never sends into a 429. A wait that would pass the caller's deadline
//! is not started: the call fails with [`WalmartError::Throttled`] and the replenish time instead.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use domain::Timestamp;
use ports::{Clock, Deadline};
use serde::Serialize;

use crate::endpoint::{Endpoint, FeedType};
use crate::error::WalmartError;

/// A rate limit: `calls` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub calls: u32,
    pub per: Duration,
    /// Published by Walmart (docs or Seller Center); `false` marks our own conservative guess for
    /// endpoints whose limit Walmart does not publish.
    pub published: bool,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

const fn published(calls: u32, per: Duration) -> Option<Limit> {
    Some(Limit {
        calls,
        per,
        published: true,
    })
}

const fn assumed(calls: u32, per: Duration) -> Option<Limit> {
    Some(Limit {
        calls,
        per,
        published: false,
    })
}

/// Walmart's limit for an endpoint, per seller. `None`: not limited by the client (token calls).
pub fn default_limit(endpoint: Endpoint) -> Option<Limit> {
    match endpoint {
        Endpoint::Token => None,
        Endpoint::SubmitFeed(FeedType::ItemMatch) => published(20, HOUR),
        Endpoint::SubmitFeed(FeedType::Inventory) => published(10, HOUR),
        Endpoint::SubmitFeed(FeedType::MultiNodeInventory) => published(50, HOUR),
        Endpoint::SubmitFeed(FeedType::Price) => published(10, HOUR),
        Endpoint::UpdateInventory => published(200, MINUTE),
        Endpoint::UpdatePrice => published(100, HOUR),
        Endpoint::ListOrders => published(5000, MINUTE),
        Endpoint::ListReleasedOrders => published(60, MINUTE),
        Endpoint::AcknowledgeOrder
        | Endpoint::ShipOrderLines
        | Endpoint::CancelOrderLines
        | Endpoint::RefundOrderLines => published(60, MINUTE),
        Endpoint::ListReturns => published(50, MINUTE),
        Endpoint::RefundReturn => published(60, MINUTE),
        Endpoint::ListItems => published(300, MINUTE),
        Endpoint::GetItem => assumed(300, MINUTE),
        Endpoint::CatalogSearch => assumed(100, MINUTE),
        Endpoint::FeedStatus | Endpoint::ListFeeds => assumed(100, MINUTE),
        Endpoint::GetInventory => assumed(200, MINUTE),
        Endpoint::GetOrder => assumed(300, MINUTE),
        // Called a few times a day; no published limit.
        Endpoint::ListSubscriptions
        | Endpoint::CreateSubscription
        | Endpoint::UpdateSubscription
        | Endpoint::DeleteSubscription
        | Endpoint::TestNotification => assumed(10, MINUTE),
    }
}

/// Counters for one endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EndpointStats {
    /// Requests sent (each retry counts).
    pub calls: u64,
    /// 429 responses received.
    pub throttled: u64,
    /// Retries made after a retryable failure.
    pub retries: u64,
    /// Time spent waiting for a bucket token, on the client's clock.
    pub waited_ms: u64,
}

/// A snapshot of every endpoint's counters, keyed by [`Endpoint::name`].
pub type ClientStats = BTreeMap<&'static str, EndpointStats>;

#[derive(Debug)]
struct Bucket {
    limit: Limit,
    tokens: f64,
    updated: Timestamp,
    /// Set from a 429 or a zero token count: no call before this time.
    not_before: Option<Timestamp>,
}

/// Tolerance for float drift when a refill lands exactly on a whole token.
const EPSILON: f64 = 1e-9;

impl Bucket {
    fn new(limit: Limit, now: Timestamp) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.calls),
            updated: now,
            not_before: None,
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.limit.calls)
    }

    fn tokens_per_ms(&self) -> f64 {
        f64::from(self.limit.calls) / (self.limit.per.as_millis().max(1) as f64)
    }

    fn refill(&mut self, now: Timestamp) {
        let elapsed = now.since(self.updated).as_millis() as f64;
        self.tokens = (self.tokens + elapsed * self.tokens_per_ms()).min(self.capacity());
        if now > self.updated {
            self.updated = now;
        }
    }

    /// Takes a token, or says when the next one is available.
    fn try_take(&mut self, now: Timestamp) -> Result<(), Timestamp> {
        if let Some(at) = self.not_before {
            if now < at {
                return Err(at);
            }
            self.not_before = None;
        }
        self.refill(now);
        if self.tokens + EPSILON >= 1.0 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            return Ok(());
        }
        let missing_ms = ((1.0 - self.tokens) / self.tokens_per_ms()).ceil().max(1.0);
        Err(now.plus(Duration::from_millis(missing_ms as u64)))
    }

    fn observe(&mut self, now: Timestamp, count: Option<u32>, next_replenish: Option<Timestamp>) {
        self.refill(now);
        if let Some(count) = count {
            // Walmart's count is the truth; ours only estimates it between responses.
            self.tokens = f64::from(count).min(self.capacity());
            if count == 0 {
                self.not_before = next_replenish.filter(|at| *at > now);
            }
        }
    }

    fn throttled(&mut self, now: Timestamp, replenish_at: Option<Timestamp>) {
        self.refill(now);
        self.tokens = 0.0;
        let own_guess = now.plus(Duration::from_millis(
            (1.0 / self.tokens_per_ms()).ceil().max(1.0) as u64,
        ));
        self.not_before = Some(replenish_at.filter(|at| *at > now).unwrap_or(own_guess));
    }
}

/// The client's buckets and counters. Cheap to share: everything sits behind one lock each.
pub struct RateLimiter {
    clock: Arc<dyn Clock>,
    enabled: bool,
    buckets: Mutex<HashMap<Endpoint, Bucket>>,
    stats: Mutex<BTreeMap<Endpoint, EndpointStats>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain counters behind: still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RateLimiter {
    pub fn new(clock: Arc<dyn Clock>, enabled: bool) -> Self {
        Self {
            clock,
            enabled,
            buckets: Mutex::new(HashMap::new()),
            stats: Mutex::new(BTreeMap::new()),
        }
    }

    fn with_bucket<R>(&self, endpoint: Endpoint, f: impl FnOnce(&mut Bucket, Timestamp) -> R) -> Option<R> {
        if !self.enabled {
            return None;
        }
        let limit = default_limit(endpoint)?;
        let now = self.clock.now();
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(endpoint).or_insert_with(|| Bucket::new(limit, now));
        Some(f(bucket, now))
    }

    /// Waits for a token of `endpoint`'s bucket, on the clock, unless that would pass `deadline`.
    pub async fn acquire(&self, endpoint: Endpoint, deadline: &Deadline) -> Result<(), WalmartError> {
        loop {
            let Some(Err(available_at)) = self.with_bucket(endpoint, |b, now| b.try_take(now)) else {
                return Ok(());
            };
            let wait = available_at.since(self.clock.now()).max(Duration::from_millis(1));
            if !deadline.allows(wait, Duration::ZERO) {
                return Err(WalmartError::Throttled {
                    endpoint,
                    replenish_at: Some(available_at),
                });
            }
            tracing::debug!(
                endpoint = endpoint.name(),
                wait_ms = wait.as_millis() as u64,
                "waiting for a rate-limit token"
            );
            self.count(endpoint, |s| s.waited_ms += wait.as_millis() as u64);
            self.clock.sleep(wait).await;
        }
    }

    /// Applies the rate-limit headers of a response.
    pub fn observe(&self, endpoint: Endpoint, count: Option<u32>, next_replenish: Option<Timestamp>) {
        self.with_bucket(endpoint, |b, now| b.observe(now, count, next_replenish));
    }

    /// A 429 arrived: empty the bucket until `replenish_at`.
    pub fn throttled(&self, endpoint: Endpoint, replenish_at: Option<Timestamp>) {
        self.count(endpoint, |s| s.throttled += 1);
        self.with_bucket(endpoint, |b, now| b.throttled(now, replenish_at));
    }

    pub fn count_call(&self, endpoint: Endpoint) {
        self.count(endpoint, |s| s.calls += 1);
    }

    pub fn count_retry(&self, endpoint: Endpoint) {
        self.count(endpoint, |s| s.retries += 1);
    }

    fn count(&self, endpoint: Endpoint, f: impl FnOnce(&mut EndpointStats)) {
        f(lock(&self.stats).entry(endpoint).or_default());
    }

    pub fn stats(&self) -> ClientStats {
        lock(&self.stats).iter().map(|(e, s)| (e.name(), *s)).collect()
    }

    /// Tokens currently left for `endpoint` (whole tokens), if it is limited.
    pub fn tokens_left(&self, endpoint: Endpoint) -> Option<u32> {
        self.with_bucket(endpoint, |b, now| {
            b.refill(now);
            b.tokens.floor() as u32
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ports::ManualClock;

    fn limiter() -> (Arc<ManualClock>, RateLimiter) {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_000_000)));
        let limiter = RateLimiter::new(clock.clone(), true);
        (clock, limiter)
    }

    #[tokio::test]
    async fn waits_on_the_clock_when_the_bucket_is_empty() {
        let (clock, limiter) = limiter();
        let endpoint = Endpoint::SubmitFeed(FeedType::Price); // 10 per hour
        let start = clock.now();
        for _ in 0..10 {
            limiter.acquire(endpoint, &Deadline::none()).await.unwrap();
        }
        assert_eq!(clock.now(), start, "a full bucket does not wait");
        limiter.acquire(endpoint, &Deadline::none()).await.unwrap();
        assert_eq!(
            clock.now().since(start),
            Duration::from_secs(360),
            "one token per 6 minutes"
        );
        assert_eq!(limiter.stats()[endpoint.name()].waited_ms, 360_000);
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_is_refused_with_the_replenish_time() {
        let (clock, limiter) = limiter();
        let endpoint = Endpoint::SubmitFeed(FeedType::Price);
        for _ in 0..10 {
            limiter.acquire(endpoint, &Deadline::none()).await.unwrap();
        }
        let err = limiter
            .acquire(endpoint, &Deadline::after(Duration::from_secs(5)))
            .await
            .unwrap_err();
        let WalmartError::Throttled { replenish_at, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(replenish_at, Some(clock.now().plus(Duration::from_secs(360))));
    }

    #[tokio::test]
    async fn server_headers_and_429s_correct_the_bucket() {
        let (clock, limiter) = limiter();
        let endpoint = Endpoint::UpdateInventory;
        assert_eq!(limiter.tokens_left(endpoint), Some(200));
        limiter.observe(endpoint, Some(3), None);
        assert_eq!(limiter.tokens_left(endpoint), Some(3));
        let replenish = clock.now().plus(Duration::from_secs(7));
        limiter.observe(endpoint, Some(0), Some(replenish));
        let start = clock.now();
        limiter.acquire(endpoint, &Deadline::none()).await.unwrap();
        assert!(clock.now() >= replenish, "waited for Walmart's replenish time");
        let again = clock.now().plus(Duration::from_secs(2));
        limiter.throttled(endpoint, Some(again));
        limiter.acquire(endpoint, &Deadline::none()).await.unwrap();
        assert!(clock.now() >= again);
        assert!(clock.now().since(start) >= Duration::from_secs(9));
        assert_eq!(limiter.stats()[endpoint.name()].throttled, 1);
    }

    #[tokio::test]
    async fn disabled_limiter_never_waits_and_token_calls_are_unlimited() {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(0)));
        let limiter = RateLimiter::new(clock.clone(), false);
        for _ in 0..100 {
            limiter
                .acquire(Endpoint::SubmitFeed(FeedType::Price), &Deadline::none())
                .await
                .unwrap();
        }
        assert_eq!(clock.now(), Timestamp::from_millis(0));
        assert!(default_limit(Endpoint::Token).is_none());
        assert!(
            Endpoint::ALL
                .iter()
                .filter(|e| **e != Endpoint::Token)
                .all(|e| default_limit(*e).is_some())
        );
    }
}
