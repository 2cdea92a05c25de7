//! Walmart's rate limits, enforced per endpoint with token buckets on the sandbox clock.
//!
//! Every response of a limited endpoint carries `X-Current-Token-Count` (whole tokens left) and
//! `X-Next-Replenishment-Time` (epoch ms when the next token arrives); a call without a token gets
//! 429 with the same headers.

use std::collections::HashMap;
use std::time::Duration;

use domain::Timestamp;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// `(calls, per)` for an endpoint name as [`crate::api::classify`] names them; `None` = unlimited.
/// Published values from Walmart's docs; the few Walmart does not publish are marked.
pub fn limit_for(endpoint: &str) -> Option<(u32, Duration)> {
    Some(match endpoint {
        "POST /v3/feeds?feedType=MP_ITEM_MATCH" => (20, HOUR),
        "POST /v3/feeds?feedType=inventory" => (10, HOUR),
        "POST /v3/feeds?feedType=MP_INVENTORY" => (50, HOUR),
        "POST /v3/feeds?feedType=price" => (10, HOUR),
        "PUT /v3/inventory" => (200, MINUTE),
        "PUT /v3/price" => (100, HOUR),
        "GET /v3/orders" => (5000, MINUTE),
        "GET /v3/orders/released" => (60, MINUTE),
        "POST /v3/orders/{purchaseOrderId}/acknowledge"
        | "POST /v3/orders/{purchaseOrderId}/shipping"
        | "POST /v3/orders/{purchaseOrderId}/cancel"
        | "POST /v3/orders/{purchaseOrderId}/refund" => (60, MINUTE),
        "GET /v3/returns" => (50, MINUTE),
        "POST /v3/returns/{returnOrderId}/refund" => (60, MINUTE),
        "GET /v3/items" => (300, MINUTE),
        // Not published by Walmart: the same conservative values the client assumes.
        "GET /v3/items/{id}" => (300, MINUTE),
        "GET /v3/items/walmart/search" => (100, MINUTE),
        "GET /v3/feeds/{feedId}" => (100, MINUTE),
        "GET /v3/feeds" => (100, MINUTE),
        "GET /v3/inventory" => (200, MINUTE),
        "GET /v3/orders/{purchaseOrderId}" => (300, MINUTE),
        _ => return None,
    })
}

/// Every endpoint [`limit_for`] limits.
const LIMITED_ENDPOINTS: [&str; 20] = [
    "POST /v3/feeds?feedType=MP_ITEM_MATCH",
    "POST /v3/feeds?feedType=inventory",
    "POST /v3/feeds?feedType=MP_INVENTORY",
    "POST /v3/feeds?feedType=price",
    "PUT /v3/inventory",
    "PUT /v3/price",
    "GET /v3/orders",
    "GET /v3/orders/released",
    "POST /v3/orders/{purchaseOrderId}/acknowledge",
    "POST /v3/orders/{purchaseOrderId}/shipping",
    "POST /v3/orders/{purchaseOrderId}/cancel",
    "POST /v3/orders/{purchaseOrderId}/refund",
    "GET /v3/returns",
    "POST /v3/returns/{returnOrderId}/refund",
    "GET /v3/items",
    "GET /v3/items/{id}",
    "GET /v3/items/walmart/search",
    "GET /v3/feeds/{feedId}",
    "GET /v3/inventory",
    "GET /v3/orders/{purchaseOrderId}",
];

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_ms: f64,
    tokens: f64,
    updated: Timestamp,
}

impl Bucket {
    fn refill(&mut self, now: Timestamp) {
        let elapsed = now.since(self.updated).as_millis() as f64;
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.capacity);
        if now > self.updated {
            self.updated = now;
        }
    }

    fn next_replenishment(&self, now: Timestamp) -> Timestamp {
        let missing = 1.0 - self.tokens.fract();
        let ms = (missing / self.per_ms).ceil().max(1.0);
        now.plus(Duration::from_millis(ms as u64))
    }
}

/// What the limiter decided for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub tokens_left: u32,
    pub next_replenishment: Timestamp,
}

#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: HashMap<&'static str, Bucket>,
}

impl RateLimits {
    /// Takes a token of `endpoint` if one is left. `None` when the endpoint is unlimited.
    pub fn take(&mut self, endpoint: &'static str, now: Timestamp) -> Option<Verdict> {
        let (calls, per) = limit_for(endpoint)?;
        let bucket = self.buckets.entry(endpoint).or_insert_with(|| Bucket {
            capacity: f64::from(calls),
            per_ms: f64::from(calls) / per.as_millis() as f64,
            tokens: f64::from(calls),
            updated: now,
        });
        bucket.refill(now);
        // Tolerance for float drift when a refill lands exactly on a whole token.
        let allowed = bucket.tokens + 1e-9 >= 1.0;
        if allowed {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0);
        }
        Some(Verdict {
            allowed,
            tokens_left: (bucket.tokens + 1e-9).floor() as u32,
            next_replenishment: bucket.next_replenishment(now),
        })
    }

    /// Empties the bucket of every limited endpoint as of `now`: each refills at its published rate.
    pub fn drain(&mut self, now: Timestamp) {
        for endpoint in LIMITED_ENDPOINTS {
            if let Some((calls, per)) = limit_for(endpoint) {
                self.buckets.insert(
                    endpoint,
                    Bucket {
                        capacity: f64::from(calls),
                        per_ms: f64::from(calls) / per.as_millis() as f64,
                        tokens: 0.0,
                        updated: now,
                    },
                );
            }
        }
    }

    /// Forgets all buckets (they start full again).
    pub fn reset(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills_on_the_clock() {
        let mut limits = RateLimits::default();
        let t0 = Timestamp::from_millis(1_000_000);
        let endpoint = "POST /v3/feeds?feedType=price";
        for left in (0..10).rev() {
            let v = limits.take(endpoint, t0).unwrap();
            assert!(v.allowed);
            assert_eq!(v.tokens_left, left);
        }
        let refused = limits.take(endpoint, t0).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.next_replenishment, t0.plus(Duration::from_secs(360)));
        assert!(limits.take(endpoint, refused.next_replenishment).unwrap().allowed);
        assert!(limits.take("POST /v3/token", t0).is_none());
    }

    #[test]
    fn a_drained_bucket_refuses_until_its_next_token() {
        let mut limits = RateLimits::default();
        let t0 = Timestamp::from_millis(1_000_000);
        assert!(LIMITED_ENDPOINTS.iter().all(|e| limit_for(e).is_some()));
        limits.drain(t0);
        let endpoint = "PUT /v3/inventory";
        let refused = limits.take(endpoint, t0).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.tokens_left, 0);
        assert!(limits.take(endpoint, refused.next_replenishment).unwrap().allowed);
    }
}
