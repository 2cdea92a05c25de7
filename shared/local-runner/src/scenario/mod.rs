//! The demo's world: a merchant and buyers acting through the sandboxes' control APIs, never
//! through the channel. It seeds a catalog, changes stock and prices in Commerce, places buyers'
//! orders on Walmart, and plays each order's story: the merchant ships (sometimes in two parts),
//! cancels, or refunds a return; a buyer cancels or returns. Every action is written to the
//! [`Journal`] with its scenario time: the ground truth the latencies and invariants are measured
//! against.
//!
//! The timeline is drawn from the seed before the run; what a buyer can buy depends on what the
//! channel has put on Walmart by then, as it would for a real buyer.

mod buyers;
mod journal;
mod stories;
mod timeline;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use domain::Timestamp;
use operations::testkit::{Sandboxes, seed_catalog};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use walmart_sandbox::ShipToSpec;

pub use journal::{
    BuyerCancelled, Journal, MerchantCancelled, OrderPlaced, PlacedLine, PriceChanged, ProductAdded,
    RefundMade, ReturnOpened, ShipmentMade, StockChanged,
};
pub use stories::{Step, StoryProgress};
use timeline::PlannedEvent;

/// The demo's size and randomness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioParams {
    /// Products seeded at the start (more are added later in the day).
    pub products: usize,
    /// Buyers' orders placed on Walmart.
    pub orders: usize,
    /// Length of the active day in scenario time.
    pub hours: f64,
    pub seed: u64,
}

impl ScenarioParams {
    pub fn day(&self) -> Duration {
        Duration::from_secs_f64((self.hours * 3600.0).max(60.0))
    }
}

/// Every 15th seeded product has a bad GTIN check digit, every 23rd a UPC Walmart does not know.
const BAD_GTIN_EVERY: usize = 15;
const UNKNOWN_ON_WALMART_EVERY: usize = 23;
const SEED_PREFIX: &str = "SKU-";
const ADDED_PREFIX: &str = "NEW-";
/// The Commerce source the merchant restocks.
const SOURCE: &str = "default";
/// MSI stock the salable quantity is read from (the sandbox's only stock).
const STOCK_ID: u64 = 1;
/// A buyer only buys what both Walmart shows and Commerce can sell with this many units to spare:
/// the demo is about the channel keeping up, not about overselling races.
const SPARE_UNITS: f64 = 1.0;
/// A buyer who finds nothing to buy tries again this much later.
const BUYER_RETRY: Duration = Duration::from_secs(5 * 60);
/// Sales tax the buyers pay, in percent of the line.
const TAX_PERCENT: i64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// Walmart's catalog has the UPC: it matches.
    Matching,
    /// The UPC's check digit is wrong: a listing error in Channel Manager.
    BadGtin,
    /// A valid UPC Walmart does not know: Walmart rejects the match.
    UnknownOnWalmart,
}

/// What happens to an order after it is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Story {
    /// The merchant ships everything at once.
    Ship,
    /// The merchant ships in two shipments.
    ShipInTwo,
    /// The merchant cancels the order in Commerce.
    MerchantCancel,
    /// The buyer cancels the order on Walmart before it ships.
    BuyerCancel,
    /// Shipped, one unit returned by the buyer, refunded by the merchant.
    ReturnAndRefund,
}

impl Story {
    /// One round of stories: every kind appears in any ten orders.
    const ROUND: [Story; 10] = [
        Story::Ship,
        Story::Ship,
        Story::Ship,
        Story::Ship,
        Story::ShipInTwo,
        Story::ShipInTwo,
        Story::MerchantCancel,
        Story::BuyerCancel,
        Story::ReturnAndRefund,
        Story::ReturnAndRefund,
    ];
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("Walmart sandbox control: {0}")]
    Walmart(#[from] walmart_sandbox::ControlError),
    #[error("Commerce sandbox control: {0}")]
    Commerce(#[from] commerce_sandbox::ControlError),
    #[error("unexpected sandbox answer: {0}")]
    Decode(String),
}

/// The merchant and the buyers.
pub struct Scenario {
    params: ScenarioParams,
    walmart: walmart_sandbox::ControlClient,
    commerce: commerce_sandbox::ControlClient,
    rng: StdRng,
    /// Buyers stop trying to place orders after this.
    last_order_attempt: Timestamp,
    timeline: Vec<PlannedEvent>,
    stories: BTreeMap<String, StoryProgress>,
    journal: Journal,
    tracking_serial: u64,
    /// When set, each action is stamped with this clock's time as it is taken, not the step's
    /// start: a step's earlier actions (or a busy machine) must not count in the channel's delays.
    clock: Option<Arc<dyn ports::Clock>>,
}

impl Scenario {
    /// Seeds the catalog (both sandboxes) and draws the day's timeline.
    pub async fn begin(
        sandboxes: &Sandboxes,
        params: ScenarioParams,
        now: Timestamp,
    ) -> Result<Self, ScenarioError> {
        let day = params.day();
        let mut scenario = Self {
            walmart: sandboxes.walmart_control(),
            commerce: sandboxes.commerce_control(),
            last_order_attempt: now.plus(day.mul_f64(0.8)),
            timeline: Vec::new(),
            stories: BTreeMap::new(),
            journal: Journal {
                started_at: Some(now),
                ..Journal::default()
            },
            tracking_serial: 0,
            clock: None,
            params: params.clone(),
            rng: StdRng::seed_from_u64(params.seed ^ 0x5eed),
        };
        scenario
            .add_products(sandboxes, SEED_PREFIX, params.products, now)
            .await;
        scenario.timeline = timeline::draw(&params, now);
        Ok(scenario)
    }

    /// Stamps each action with `clock`'s time as it is taken (see [`Scenario::advance`]).
    pub fn stamped_by(mut self, clock: Arc<dyn ports::Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The time an action taken now is journaled at: the clock's, else the step's `now`.
    fn action_time(&self, now: Timestamp) -> Timestamp {
        self.clock.as_ref().map_or(now, |c| c.now().max(now))
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn stories(&self) -> impl Iterator<Item = &StoryProgress> {
        self.stories.values()
    }

    /// Nothing scripted is left on the timeline.
    pub fn timeline_done(&self) -> bool {
        self.timeline.is_empty()
    }

    /// Stories not finished yet.
    pub fn unfinished_stories(&self) -> impl Iterator<Item = &StoryProgress> {
        self.stories.values().filter(|s| s.step != Step::Done)
    }

    /// How long the merchant or buyer takes to act: between 1/96 and 1/24 of the day (15 to 60
    /// minutes in a 24-hour day).
    fn reaction(&mut self) -> Duration {
        self.params
            .day()
            .mul_f64(self.rng.random_range(1.0 / 96.0..1.0 / 24.0))
    }

    async fn add_products(&mut self, sandboxes: &Sandboxes, prefix: &str, count: usize, now: Timestamp) {
        let seeded = seed_catalog(sandboxes, prefix, count, BAD_GTIN_EVERY, UNKNOWN_ON_WALMART_EVERY).await;
        let mut added: Vec<ProductAdded> = Vec::with_capacity(count);
        for (skus, kind) in [
            (seeded.matching, ProductKind::Matching),
            (seeded.bad_gtin, ProductKind::BadGtin),
            (seeded.unknown_on_walmart, ProductKind::UnknownOnWalmart),
        ] {
            added.extend(skus.into_iter().map(|sku| ProductAdded { sku, kind, at: now }));
        }
        added.sort_by(|a, b| a.sku.cmp(&b.sku));
        self.journal.products.extend(added);
    }

    /// Does everything due by `now`: timeline events, then the next step of every story. A
    /// sandbox refusing one action is journaled and the rest goes on. Each action is stamped with
    /// the time it is taken (see [`Scenario::stamped_by`]).
    pub async fn advance(&mut self, sandboxes: &Sandboxes, now: Timestamp) -> Result<(), ScenarioError> {
        while self.timeline.first().is_some_and(|e| e.at <= now) {
            let event = self.timeline.remove(0);
            let at = self.action_time(now);
            self.play(sandboxes, event, at).await?;
        }
        self.advance_stories(now).await
    }
}

fn decode_all<T: serde::de::DeserializeOwned>(
    values: Vec<serde_json::Value>,
) -> Result<Vec<T>, ScenarioError> {
    values
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| ScenarioError::Decode(e.to_string())))
        .collect()
}

/// Shared access to a running scenario, for the driver task and the summary.
pub type SharedScenario = Arc<tokio::sync::Mutex<Scenario>>;

/// The made-up buyer of the scenario's `n`-th order: a distinct name, street and phone each, so a
/// test can search everything the channel keeps, logs and sends for them (the relay email comes
/// from the Walmart sandbox, `...@relay.walmart.com`).
pub fn fixture_buyer(n: usize) -> ShipToSpec {
    ShipToSpec {
        name: format!("Quillon Marchetti{n:03}"),
        address1: format!("{} Larkspur Hollow Rd", 4100 + n),
        address2: Some(format!("Unit Z{n:03}")),
        phone: format!("47955{:05}", 31_000 + n),
        ..ShipToSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_of_ten_orders_tells_every_story() {
        let kinds: std::collections::BTreeSet<Story> = Story::ROUND.into_iter().collect();
        assert_eq!(kinds.len(), 5);
    }
}
