//! The day's timeline: drawn from the seed before the run, then played as scenario time passes.
//! The merchant adds products, changes stock and prices in Commerce; buyers place orders.

use std::time::Duration;

use commerce_sandbox::{PriceChange, StockChange};
use domain::{Money, Timestamp};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::journal::{PriceChanged, StockChanged};
use super::{
    ADDED_PREFIX, BUYER_RETRY, SOURCE, STOCK_ID, Scenario, ScenarioError, ScenarioParams, Step, Story,
};
use operations::testkit::Sandboxes;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Planned {
    AddProducts { count: usize },
    Stock { pick: usize, quantity: u32 },
    Price { pick: usize, cents: i64 },
    Order { story: Story },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedEvent {
    pub(super) at: Timestamp,
    pub(super) event: Planned,
}

/// A random instant between `from` and `to` fractions of the day.
fn within(rng: &mut StdRng, start: Timestamp, day: Duration, from: f64, to: f64) -> Timestamp {
    start.plus(day.mul_f64(rng.random_range(from..to)))
}

/// The day's events, drawn from the seed, in time order.
pub(super) fn draw(params: &ScenarioParams, now: Timestamp) -> Vec<PlannedEvent> {
    let mut rng = StdRng::seed_from_u64(params.seed);
    let day = params.day();
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
    timeline
}

impl Scenario {
    pub(super) async fn play(
        &mut self,
        sandboxes: &Sandboxes,
        planned: PlannedEvent,
        now: Timestamp,
    ) -> Result<(), ScenarioError> {
        match planned.event {
            Planned::AddProducts { count } => {
                self.add_products(sandboxes, ADDED_PREFIX, count, now).await;
            }
            Planned::Stock { pick, quantity } => self.change_stock(pick, quantity, now).await?,
            Planned::Price { pick, cents } => self.change_price(pick, cents, now).await?,
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

    /// The merchant sets the stock of a product picked by `pick`.
    async fn change_stock(
        &mut self,
        pick: usize,
        quantity: u32,
        now: Timestamp,
    ) -> Result<(), ScenarioError> {
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
        Ok(())
    }

    /// The merchant sets the price of a product picked by `pick`.
    async fn change_price(&mut self, pick: usize, cents: i64, now: Timestamp) -> Result<(), ScenarioError> {
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
        Ok(())
    }
}
