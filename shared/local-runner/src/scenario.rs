//! The demo's world: a merchant and buyers acting through the sandboxes' control APIs, never
//! through the channel. It seeds a catalog, changes stock and prices in Commerce, places buyers'
//! orders on Walmart, and plays each order's story: the merchant ships (sometimes in two parts),
//! cancels, or refunds a return; a buyer cancels or returns. Every action is written to the
//! [`Journal`] with its scenario time: the ground truth the latencies and invariants are measured
//! against.
//!
//! The timeline is drawn from the seed before the run; what a buyer can buy depends on what the
//! channel has put on Walmart by then, as it would for a real buyer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use commerce_client::wire::{CreditMemo, Order as CommerceOrder, Rma, Shipment};
use commerce_sandbox::{PriceChange, RefundRequest, ShipLine, StockChange, TrackInput};
use domain::{Money, Timestamp};
use operations::testkit::{Sandboxes, seed_catalog};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec, NewOrder, NewOrderLine, NewReturn, ShipToSpec};

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

// ---------------------------------------------------------------- journal

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAdded {
    pub sku: String,
    pub kind: ProductKind,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockChanged {
    pub sku: String,
    pub quantity: u32,
    /// Commerce's salable quantity right after the change.
    pub salable_after: f64,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceChanged {
    pub sku: String,
    pub price: Money,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedLine {
    pub line: u32,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub purchase_order_id: String,
    pub customer_order_id: String,
    pub story: Story,
    pub lines: Vec<PlacedLine>,
    pub at: Timestamp,
}

impl OrderPlaced {
    pub fn sku_of_line(&self, line: u32) -> Option<&str> {
        self.lines.iter().find(|l| l.line == line).map(|l| l.sku.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentMade {
    pub purchase_order_id: String,
    pub commerce_order_id: u64,
    pub shipment_id: u64,
    pub track_number: String,
    pub carrier_code: String,
    /// (sku, quantity)
    pub items: Vec<(String, u32)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantCancelled {
    pub purchase_order_id: String,
    pub commerce_order_id: u64,
    /// Whether Commerce accepted the cancellation.
    pub canceled: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyerCancelled {
    pub purchase_order_id: String,
    /// (line, quantity)
    pub lines: Vec<(u32, u32)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnOpened {
    pub purchase_order_id: String,
    pub return_order_id: String,
    /// (line, quantity)
    pub lines: Vec<(u32, u32)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundMade {
    pub purchase_order_id: String,
    pub commerce_order_id: u64,
    pub credit_memo_id: u64,
    pub return_order_id: String,
    /// (sku, quantity)
    pub items: Vec<(String, u32)>,
    pub at: Timestamp,
}

/// Everything the merchant and buyers did, in scenario time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub started_at: Option<Timestamp>,
    pub products: Vec<ProductAdded>,
    pub stock_changes: Vec<StockChanged>,
    pub price_changes: Vec<PriceChanged>,
    pub orders: Vec<OrderPlaced>,
    /// Orders a buyer gave up on: nothing was buyable on Walmart.
    pub orders_not_placed: u64,
    pub shipments: Vec<ShipmentMade>,
    pub merchant_cancellations: Vec<MerchantCancelled>,
    pub buyer_cancellations: Vec<BuyerCancelled>,
    pub returns: Vec<ReturnOpened>,
    pub refunds: Vec<RefundMade>,
    /// Actions a sandbox refused (they do not fail the run; the summary lists them).
    pub refused_actions: Vec<String>,
}

impl Journal {
    pub fn order(&self, purchase_order_id: &str) -> Option<&OrderPlaced> {
        self.orders
            .iter()
            .find(|o| o.purchase_order_id == purchase_order_id)
    }
}

// ---------------------------------------------------------------- timeline

#[derive(Debug, Clone, PartialEq)]
enum Planned {
    AddProducts { count: usize },
    Stock { pick: usize, quantity: u32 },
    Price { pick: usize, cents: i64 },
    Order { story: Story },
}

#[derive(Debug, Clone, PartialEq)]
struct PlannedEvent {
    at: Timestamp,
    event: Planned,
}

/// Where an order's story stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Waiting for the channel to create the Commerce order.
    AwaitCommerceOrder,
    /// The merchant (or buyer) acts at `at`.
    Act {
        at: Timestamp,
    },
    /// The second shipment of a two-part story goes out at `at`.
    ShipRest {
        at: Timestamp,
    },
    /// Waiting for Walmart to show every unit shipped.
    AwaitShippedOnWalmart,
    /// The buyer opens a return at `at`.
    OpenReturn {
        at: Timestamp,
    },
    /// Waiting for the channel to bring the return into Commerce.
    AwaitReturnInCommerce {
        return_order_id: String,
    },
    /// The merchant refunds the returned unit at `at`.
    Refund {
        at: Timestamp,
        return_order_id: String,
    },
    Done,
}

impl Step {
    /// What a story in this step waits for, for the summary of unfinished stories.
    pub fn waiting_for(&self) -> &'static str {
        match self {
            Step::AwaitCommerceOrder => "its Commerce order",
            Step::Act { .. } | Step::ShipRest { .. } | Step::OpenReturn { .. } | Step::Refund { .. } => {
                "its next scripted action"
            }
            Step::AwaitShippedOnWalmart => "Walmart to show it shipped",
            Step::AwaitReturnInCommerce { .. } => "its return in Commerce",
            Step::Done => "nothing",
        }
    }

    /// Waiting on the channel (as opposed to on the script's own clock).
    pub fn waits_on_channel(&self) -> bool {
        matches!(
            self,
            Step::AwaitCommerceOrder | Step::AwaitShippedOnWalmart | Step::AwaitReturnInCommerce { .. }
        )
    }
}

/// One order's story in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryProgress {
    pub purchase_order_id: String,
    pub story: Story,
    pub commerce_order_id: Option<u64>,
    pub step: Step,
    pub since: Timestamp,
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
}

/// A random instant between `from` and `to` fractions of the day.
fn within(rng: &mut StdRng, start: Timestamp, day: Duration, from: f64, to: f64) -> Timestamp {
    start.plus(day.mul_f64(rng.random_range(from..to)))
}

impl Scenario {
    /// Seeds the catalog (both sandboxes) and draws the day's timeline.
    pub async fn begin(
        sandboxes: &Sandboxes,
        params: ScenarioParams,
        now: Timestamp,
    ) -> Result<Self, ScenarioError> {
        let mut rng = StdRng::seed_from_u64(params.seed);
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
            params: params.clone(),
            rng: StdRng::seed_from_u64(params.seed ^ 0x5eed),
        };
        scenario
            .add_products(sandboxes, SEED_PREFIX, params.products, now)
            .await;

        let mut timeline = Vec::new();
        // Later in the morning the merchant selects a few more products.
        timeline.push(PlannedEvent {
            at: within(&mut rng, now, day, 0.25, 0.35),
            event: Planned::AddProducts {
                count: (params.products / 20).max(2),
            },
        });
        for _ in 0..(params.products / 5).max(3) {
            let quantity = if rng.random_bool(0.1) {
                0
            } else {
                rng.random_range(3..=40)
            };
            timeline.push(PlannedEvent {
                at: within(&mut rng, now, day, 0.05, 0.8),
                event: Planned::Stock {
                    pick: rng.random_range(0..usize::MAX),
                    quantity,
                },
            });
        }
        for _ in 0..(params.products / 10).max(3) {
            timeline.push(PlannedEvent {
                at: within(&mut rng, now, day, 0.05, 0.8),
                event: Planned::Price {
                    pick: rng.random_range(0..usize::MAX),
                    cents: rng.random_range(9..60) * 100 + 99,
                },
            });
        }
        let mut stories = Vec::with_capacity(params.orders);
        while stories.len() < params.orders {
            let mut round = Story::ROUND;
            round.shuffle(&mut rng);
            stories.extend(round);
        }
        stories.truncate(params.orders);
        for story in stories {
            timeline.push(PlannedEvent {
                at: within(&mut rng, now, day, 0.1, 0.55),
                event: Planned::Order { story },
            });
        }
        timeline.sort_by_key(|e| e.at);
        scenario.timeline = timeline;
        Ok(scenario)
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
    /// sandbox refusing one action is journaled and the rest goes on.
    pub async fn advance(&mut self, sandboxes: &Sandboxes, now: Timestamp) -> Result<(), ScenarioError> {
        while self.timeline.first().is_some_and(|e| e.at <= now) {
            let event = self.timeline.remove(0);
            self.play(sandboxes, event, now).await?;
        }
        self.advance_stories(now).await
    }

    async fn play(
        &mut self,
        sandboxes: &Sandboxes,
        planned: PlannedEvent,
        now: Timestamp,
    ) -> Result<(), ScenarioError> {
        match planned.event {
            Planned::AddProducts { count } => {
                self.add_products(sandboxes, ADDED_PREFIX, count, now).await;
            }
            Planned::Stock { pick, quantity } => {
                let sku = self.journal.products[pick % self.journal.products.len()]
                    .sku
                    .clone();
                // The merchant does not count away units buyers already bought on Walmart that
                // Commerce holds no order for yet (as SPARE_UNITS: no overselling races).
                let owed: u32 = self
                    .journal
                    .orders
                    .iter()
                    .filter(|o| {
                        self.stories
                            .get(&o.purchase_order_id)
                            .is_some_and(|s| matches!(s.step, Step::AwaitCommerceOrder))
                    })
                    .flat_map(|o| o.lines.iter())
                    .filter(|l| l.sku == sku)
                    .map(|l| l.quantity)
                    .sum();
                let quantity = quantity.max(owed);
                self.commerce
                    .set_stock(&[StockChange {
                        sku: sku.clone(),
                        source_code: SOURCE.to_owned(),
                        quantity: f64::from(quantity),
                        status: None,
                    }])
                    .await?;
                let (_, salable_after) = self.commerce.salable(&sku, STOCK_ID).await?;
                self.journal.stock_changes.push(StockChanged {
                    sku,
                    quantity,
                    salable_after,
                    at: now,
                });
            }
            Planned::Price { pick, cents } => {
                let sku = self.journal.products[pick % self.journal.products.len()]
                    .sku
                    .clone();
                let price = Money::from_cents(cents);
                self.commerce
                    .set_price(
                        &sku,
                        &PriceChange {
                            price: Some(price.to_decimal()),
                            special_price: None,
                            special_from_date: None,
                            special_to_date: None,
                        },
                    )
                    .await?;
                self.journal
                    .price_changes
                    .push(PriceChanged { sku, price, at: now });
            }
            Planned::Order { story } => {
                if !self.place_order(story, now).await? {
                    if now.plus(BUYER_RETRY) <= self.last_order_attempt {
                        let retry = PlannedEvent {
                            at: now.plus(BUYER_RETRY),
                            event: Planned::Order { story },
                        };
                        let pos = self.timeline.partition_point(|e| e.at <= retry.at);
                        self.timeline.insert(pos, retry);
                    } else {
                        self.journal.orders_not_placed += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// What a buyer can buy now: SKUs Walmart shows with enough units that Commerce can also sell.
    async fn buyable(&mut self, units: u32) -> Result<Vec<(String, Money)>, ScenarioError> {
        let inventory = self.walmart.inventory().await?;
        let prices = self.walmart.prices().await?;
        let mut candidates: Vec<(String, Money)> = inventory
            .into_iter()
            .filter(|(_, qty)| *qty >= units)
            .filter_map(|(sku, _)| prices.get(&sku).map(|p| (sku, *p)))
            .collect();
        candidates.shuffle(&mut self.rng);
        let mut out = Vec::new();
        // Commerce is asked about a few candidates only: a buyer looks at a handful of items.
        for (sku, price) in candidates.into_iter().take(8) {
            let (_, salable) = self.commerce.salable(&sku, STOCK_ID).await?;
            if salable >= f64::from(units) + SPARE_UNITS {
                out.push((sku, price));
            }
        }
        Ok(out)
    }

    /// Places a buyer's order for `story`; false when nothing is buyable yet.
    async fn place_order(&mut self, story: Story, now: Timestamp) -> Result<bool, ScenarioError> {
        let units_per_line = if story == Story::ShipInTwo { 2 } else { 1 };
        let candidates = self.buyable(units_per_line).await?;
        let Some(first) = candidates.first().cloned() else {
            return Ok(false);
        };
        let mut chosen = vec![(first, units_per_line)];
        // Some orders have a second line (two-part shipments always do when they can).
        if let Some(second) = candidates.get(1)
            && (story == Story::ShipInTwo || self.rng.random_bool(0.3))
        {
            chosen.push((second.clone(), 1));
        }
        let lines: Vec<NewOrderLine> = chosen
            .iter()
            .map(|((sku, price), quantity)| {
                let line_total = price.cents() * i64::from(*quantity);
                NewOrderLine {
                    sku: sku.clone(),
                    quantity: *quantity,
                    unit_price: *price,
                    tax: Money::from_cents((line_total * TAX_PERCENT + 50) / 100),
                    shipping: Money::ZERO,
                    product_name: None,
                }
            })
            .collect();
        let method = ["Standard", "Standard", "Express", "Value"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Standard");
        let created = self
            .walmart
            .create_order(&NewOrder {
                lines: lines.clone(),
                ship_to: fixture_buyer(self.journal.orders.len()),
                method_code: method.to_owned(),
                order_date: Some(now),
                purchase_order_id: None,
            })
            .await?;
        let placed_lines = lines
            .iter()
            .zip(1u32..)
            .map(|(l, number)| PlacedLine {
                line: number,
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect();
        self.journal.orders.push(OrderPlaced {
            purchase_order_id: created.purchase_order_id.clone(),
            customer_order_id: created.customer_order_id,
            story,
            lines: placed_lines,
            at: now,
        });
        self.stories.insert(
            created.purchase_order_id.clone(),
            StoryProgress {
                purchase_order_id: created.purchase_order_id,
                story,
                commerce_order_id: None,
                step: Step::AwaitCommerceOrder,
                since: now,
            },
        );
        Ok(true)
    }

    async fn advance_stories(&mut self, now: Timestamp) -> Result<(), ScenarioError> {
        let waiting = |pred: fn(&Step) -> bool| self.stories.values().any(|s| pred(&s.step));
        let commerce_orders = if waiting(|s| matches!(s, Step::AwaitCommerceOrder)) {
            decode_all::<CommerceOrder>(self.commerce.orders().await?)?
        } else {
            Vec::new()
        };
        let walmart_shipped = if waiting(|s| matches!(s, Step::AwaitShippedOnWalmart)) {
            let mut shipped: BTreeMap<String, u32> = BTreeMap::new();
            for s in self.walmart.received().await?.shipments {
                *shipped.entry(s.purchase_order_id).or_default() += s.quantity;
            }
            shipped
        } else {
            BTreeMap::new()
        };
        let rmas = if waiting(|s| matches!(s, Step::AwaitReturnInCommerce { .. })) {
            decode_all::<Rma>(self.commerce.returns().await?)?
        } else {
            Vec::new()
        };

        let pos: Vec<String> = self.stories.keys().cloned().collect();
        for po in pos {
            let Some(progress) = self.stories.get(&po).cloned() else {
                continue;
            };
            let next = match self
                .next_step(&progress, now, &commerce_orders, &walmart_shipped, &rmas)
                .await
            {
                Ok(next) => next,
                Err(refused) => {
                    self.journal
                        .refused_actions
                        .push(format!("PO {po} ({:?}): {refused}", progress.story));
                    Some(Step::Done)
                }
            };
            if let Some(step) = next
                && let Some(p) = self.stories.get_mut(&po)
            {
                p.step = step;
                p.since = now;
            }
        }
        Ok(())
    }

    /// The story's next step, if it moves now. A sandbox refusing the action is an `Err` with the
    /// reason; the story then ends.
    async fn next_step(
        &mut self,
        progress: &StoryProgress,
        now: Timestamp,
        commerce_orders: &[CommerceOrder],
        walmart_shipped: &BTreeMap<String, u32>,
        rmas: &[Rma],
    ) -> Result<Option<Step>, String> {
        let po = progress.purchase_order_id.as_str();
        match &progress.step {
            Step::AwaitCommerceOrder => {
                let Some(order_id) = commerce_orders
                    .iter()
                    .find(|o| o.po_number() == Some(po))
                    .and_then(|o| o.entity_id)
                else {
                    return Ok(None);
                };
                if let Some(p) = self.stories.get_mut(po) {
                    p.commerce_order_id = Some(order_id);
                }
                Ok(Some(Step::Act {
                    at: now.plus(self.reaction()),
                }))
            }
            Step::Act { at } if *at <= now => {
                let order_id = progress.commerce_order_id.ok_or("no Commerce order")?;
                let order = self
                    .journal
                    .order(po)
                    .cloned()
                    .ok_or("order not in the journal")?;
                match progress.story {
                    Story::Ship | Story::ReturnAndRefund => {
                        let items = order.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
                        self.ship(po, order_id, items, true, now).await?;
                        Ok(Some(if progress.story == Story::Ship {
                            Step::Done
                        } else {
                            Step::AwaitShippedOnWalmart
                        }))
                    }
                    Story::ShipInTwo => {
                        let (first, _) = split_shipments(&order);
                        self.ship(po, order_id, first, false, now).await?;
                        Ok(Some(Step::ShipRest {
                            at: now.plus(self.reaction()),
                        }))
                    }
                    Story::MerchantCancel => {
                        let canceled = self.commerce.cancel(order_id).await.map_err(|e| e.to_string())?;
                        self.journal.merchant_cancellations.push(MerchantCancelled {
                            purchase_order_id: po.to_owned(),
                            commerce_order_id: order_id,
                            canceled,
                            at: now,
                        });
                        if !canceled {
                            return Err("Commerce would not cancel the order".into());
                        }
                        Ok(Some(Step::Done))
                    }
                    Story::BuyerCancel => {
                        let lines: Vec<(u32, u32)> =
                            order.lines.iter().map(|l| (l.line, l.quantity)).collect();
                        self.walmart
                            .cancel_as_buyer(
                                po,
                                &BuyerCancellation {
                                    lines: lines
                                        .iter()
                                        .map(|(line, quantity)| LineQuantitySpec {
                                            line: *line,
                                            quantity: *quantity,
                                        })
                                        .collect(),
                                    reason: "CUSTOMER_CANCEL".to_owned(),
                                },
                            )
                            .await
                            .map_err(|e| e.to_string())?;
                        self.journal.buyer_cancellations.push(BuyerCancelled {
                            purchase_order_id: po.to_owned(),
                            lines,
                            at: now,
                        });
                        Ok(Some(Step::Done))
                    }
                }
            }
            Step::ShipRest { at } if *at <= now => {
                let order_id = progress.commerce_order_id.ok_or("no Commerce order")?;
                let order = self
                    .journal
                    .order(po)
                    .cloned()
                    .ok_or("order not in the journal")?;
                let (_, rest) = split_shipments(&order);
                self.ship(po, order_id, rest, true, now).await?;
                Ok(Some(Step::Done))
            }
            Step::AwaitShippedOnWalmart => {
                let ordered: u32 = self
                    .journal
                    .order(po)
                    .map_or(0, |o| o.lines.iter().map(|l| l.quantity).sum());
                if walmart_shipped.get(po).copied().unwrap_or(0) < ordered {
                    return Ok(None);
                }
                Ok(Some(Step::OpenReturn {
                    at: now.plus(self.reaction()),
                }))
            }
            Step::OpenReturn { at } if *at <= now => {
                let lines = vec![(1u32, 1u32)];
                let created = self
                    .walmart
                    .create_return(&NewReturn {
                        purchase_order_id: po.to_owned(),
                        lines: lines
                            .iter()
                            .map(|(line, quantity)| LineQuantitySpec {
                                line: *line,
                                quantity: *quantity,
                            })
                            .collect(),
                        reason: "CUSTOMER_CHANGED_MIND".to_owned(),
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                self.journal.returns.push(ReturnOpened {
                    purchase_order_id: po.to_owned(),
                    return_order_id: created.return_order_id.clone(),
                    lines,
                    at: now,
                });
                Ok(Some(Step::AwaitReturnInCommerce {
                    return_order_id: created.return_order_id,
                }))
            }
            Step::AwaitReturnInCommerce { return_order_id } => {
                let order_id = progress.commerce_order_id.ok_or("no Commerce order")?;
                if !rmas.iter().any(|r| r.order_id == order_id) {
                    return Ok(None);
                }
                Ok(Some(Step::Refund {
                    at: now.plus(self.reaction()),
                    return_order_id: return_order_id.clone(),
                }))
            }
            Step::Refund { at, return_order_id } if *at <= now => {
                let order_id = progress.commerce_order_id.ok_or("no Commerce order")?;
                let order = self
                    .journal
                    .order(po)
                    .cloned()
                    .ok_or("order not in the journal")?;
                let sku = order.sku_of_line(1).ok_or("order has no line 1")?.to_owned();
                let memo = self
                    .commerce
                    .refund(
                        order_id,
                        &RefundRequest {
                            items: vec![ShipLine {
                                sku: Some(sku.clone()),
                                order_item_id: None,
                                qty: 1.0,
                            }],
                            shipping_amount: Some(0.0),
                            adjustment_positive: 0.0,
                            adjustment_negative: 0.0,
                            return_to_stock: true,
                            comment: Some(format!("Walmart return {return_order_id}")),
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let memo: CreditMemo = serde_json::from_value(memo).map_err(|e| e.to_string())?;
                self.journal.refunds.push(RefundMade {
                    purchase_order_id: po.to_owned(),
                    commerce_order_id: order_id,
                    credit_memo_id: memo.entity_id.unwrap_or_default(),
                    return_order_id: return_order_id.clone(),
                    items: vec![(sku, 1)],
                    at: now,
                });
                Ok(Some(Step::Done))
            }
            _ => Ok(None),
        }
    }

    async fn ship(
        &mut self,
        po: &str,
        order_id: u64,
        items: Vec<(String, u32)>,
        invoice: bool,
        now: Timestamp,
    ) -> Result<(), String> {
        self.tracking_serial += 1;
        let (carrier_code, title) = [
            ("ups", "United Parcel Service"),
            ("usps", "United States Postal Service"),
            ("fedex", "Federal Express"),
            ("dhl", "DHL"),
            ("custom", "OnTrac"),
        ]
        .choose(&mut self.rng)
        .copied()
        .unwrap_or(("ups", "United Parcel Service"));
        let track_number = match carrier_code {
            "ups" => format!("1Z999AA1{:010}", self.tracking_serial),
            _ => format!("9400{:016}", self.tracking_serial),
        };
        let shipment = self
            .commerce
            .ship(
                order_id,
                items
                    .iter()
                    .map(|(sku, qty)| ShipLine {
                        sku: Some(sku.clone()),
                        order_item_id: None,
                        qty: f64::from(*qty),
                    })
                    .collect(),
                TrackInput {
                    carrier_code: carrier_code.to_owned(),
                    title: title.to_owned(),
                    number: track_number.clone(),
                },
                invoice,
            )
            .await
            .map_err(|e| e.to_string())?;
        let shipment: Shipment = serde_json::from_value(shipment).map_err(|e| e.to_string())?;
        self.journal.shipments.push(ShipmentMade {
            purchase_order_id: po.to_owned(),
            commerce_order_id: order_id,
            shipment_id: shipment.entity_id.unwrap_or_default(),
            track_number,
            carrier_code: carrier_code.to_owned(),
            items,
            at: now,
        });
        Ok(())
    }
}

/// (sku, quantity) pairs of a shipment or refund.
type SkuQuantities = Vec<(String, u32)>;

/// A two-part shipment: the first line, then the rest; a one-line order ships one unit, then the
/// rest.
fn split_shipments(order: &OrderPlaced) -> (SkuQuantities, SkuQuantities) {
    let mut first = Vec::new();
    let mut rest = Vec::new();
    match order.lines.as_slice() {
        [only] if only.quantity > 1 => {
            first.push((only.sku.clone(), 1));
            rest.push((only.sku.clone(), only.quantity - 1));
        }
        [head, tail @ ..] if !tail.is_empty() => {
            first.push((head.sku.clone(), head.quantity));
            rest.extend(tail.iter().map(|l| (l.sku.clone(), l.quantity)));
        }
        lines => first.extend(lines.iter().map(|l| (l.sku.clone(), l.quantity))),
    }
    (first, rest)
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

    fn order(lines: &[(u32, &str, u32)]) -> OrderPlaced {
        OrderPlaced {
            purchase_order_id: "1".into(),
            customer_order_id: "2".into(),
            story: Story::ShipInTwo,
            lines: lines
                .iter()
                .map(|(line, sku, quantity)| PlacedLine {
                    line: *line,
                    sku: (*sku).to_owned(),
                    quantity: *quantity,
                    unit_price: Money::from_cents(100),
                })
                .collect(),
            at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn two_part_shipments_split_lines_or_units() {
        let (first, rest) = split_shipments(&order(&[(1, "A", 2)]));
        assert_eq!(first, vec![("A".to_owned(), 1)]);
        assert_eq!(rest, vec![("A".to_owned(), 1)]);
        let (first, rest) = split_shipments(&order(&[(1, "A", 2), (2, "B", 1)]));
        assert_eq!(first, vec![("A".to_owned(), 2)]);
        assert_eq!(rest, vec![("B".to_owned(), 1)]);
        let (first, rest) = split_shipments(&order(&[(1, "A", 1)]));
        assert_eq!(first, vec![("A".to_owned(), 1)]);
        assert!(rest.is_empty());
    }

    #[test]
    fn every_round_of_ten_orders_tells_every_story() {
        let kinds: std::collections::BTreeSet<Story> = Story::ROUND.into_iter().collect();
        assert_eq!(kinds.len(), 5);
    }
}
