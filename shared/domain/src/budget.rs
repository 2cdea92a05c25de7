//! Call budgets: how many rate-limited Walmart calls the channel has made recently, kept in the state
//! store so that every process (each Lambda instance has its own client and its own token buckets)
//! plans against the same count and steady state never meets a 429.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{ChannelId, Timestamp};

/// The Walmart calls whose published limits are low enough to plan for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetedCall {
    /// `POST /v3/feeds?feedType=MP_ITEM_MATCH`: 20 an hour.
    ItemMatchFeed,
    /// `POST /v3/feeds?feedType=inventory`: 10 an hour.
    InventoryFeed,
    /// `POST /v3/feeds?feedType=price`: 10 an hour.
    PriceFeed,
    /// `PUT /v3/inventory`: 200 a minute.
    InventoryUpdate,
    /// `PUT /v3/price`: 100 an hour.
    PriceUpdate,
    /// `GET /v3/inventory` (reconciliation reads): Walmart publishes no limit; the client assumes 200
    /// a minute and we keep to half of it.
    InventoryRead,
}

impl BudgetedCall {
    pub const ALL: [BudgetedCall; 6] = [
        BudgetedCall::ItemMatchFeed,
        BudgetedCall::InventoryFeed,
        BudgetedCall::PriceFeed,
        BudgetedCall::InventoryUpdate,
        BudgetedCall::PriceUpdate,
        BudgetedCall::InventoryRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BudgetedCall::ItemMatchFeed => "item_match_feed",
            BudgetedCall::InventoryFeed => "inventory_feed",
            BudgetedCall::PriceFeed => "price_feed",
            BudgetedCall::InventoryUpdate => "inventory_update",
            BudgetedCall::PriceUpdate => "price_update",
            BudgetedCall::InventoryRead => "inventory_read",
        }
    }

    /// Most calls in any window of the returned length.
    pub fn limit(self) -> (u32, Duration) {
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        match self {
            BudgetedCall::ItemMatchFeed => (20, HOUR),
            BudgetedCall::InventoryFeed | BudgetedCall::PriceFeed => (10, HOUR),
            BudgetedCall::InventoryUpdate => (200, MINUTE),
            BudgetedCall::PriceUpdate => (100, HOUR),
            BudgetedCall::InventoryRead => (100, MINUTE),
        }
    }
}

/// Calls granted at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub at: Timestamp,
    pub calls: u32,
}

/// A sliding-window ledger of one kind of call. At most `limit` calls in any window is stricter
/// than Walmart's token bucket of the same capacity and rate, so keeping to it never meets a 429.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallBudget {
    pub channel: ChannelId,
    pub call: BudgetedCall,
    pub grants: Vec<Grant>,
}

impl CallBudget {
    pub fn new(channel: ChannelId, call: BudgetedCall) -> Self {
        Self {
            channel,
            call,
            grants: Vec::new(),
        }
    }

    fn window_start(&self, now: Timestamp) -> Timestamp {
        now.minus(self.call.limit().1)
    }

    /// Calls that may still be made now.
    pub fn available(&self, now: Timestamp) -> u32 {
        let start = self.window_start(now);
        let used: u32 = self.grants.iter().filter(|g| g.at > start).map(|g| g.calls).sum();
        self.call.limit().0.saturating_sub(used)
    }

    /// Grants up to `wanted` calls now; returns how many. Forgets grants older than the window.
    pub fn reserve(&mut self, wanted: u32, now: Timestamp) -> u32 {
        let start = self.window_start(now);
        self.grants.retain(|g| g.at > start);
        let granted = wanted.min(self.available(now));
        if granted > 0 {
            self.grants.push(Grant {
                at: now,
                calls: granted,
            });
        }
        granted
    }

    /// When calls were last granted.
    pub fn last_grant_at(&self) -> Option<Timestamp> {
        self.grants.iter().map(|g| g.at).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_never_exceed_the_limit_in_any_window() {
        let ch = ChannelId::new("main").unwrap();
        let mut budget = CallBudget::new(ch, BudgetedCall::PriceUpdate);
        let t0 = Timestamp::from_millis(1_000_000);
        assert_eq!(budget.reserve(60, t0), 60);
        let t1 = t0.plus(Duration::from_secs(1800));
        assert_eq!(budget.reserve(60, t1), 40, "100 an hour");
        assert_eq!(budget.reserve(1, t1), 0);
        // The first grant leaves the window an hour after it was made.
        assert_eq!(budget.available(t0.plus(Duration::from_secs(3599))), 0);
        let t2 = t0.plus(Duration::from_secs(3600));
        assert_eq!(budget.available(t2), 60);
        assert_eq!(budget.reserve(100, t2), 60);
        assert_eq!(budget.grants.len(), 2, "old grants are forgotten");
        assert_eq!(budget.last_grant_at(), Some(t2));
    }
}
