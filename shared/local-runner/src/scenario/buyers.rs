//! The buyers: they look at what Walmart shows and Commerce can sell, and place orders on Walmart.

use domain::{Money, Timestamp};
use rand::RngExt;
use rand::seq::{IndexedRandom, SliceRandom};
use walmart_sandbox::{NewOrder, NewOrderLine};

use super::journal::{OrderPlaced, PlacedLine};
use super::{
    SPARE_UNITS, STOCK_ID, Scenario, ScenarioError, Step, Story, StoryProgress, TAX_PERCENT, fixture_buyer,
};

impl Scenario {
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
    pub(super) async fn place_order(&mut self, story: Story, now: Timestamp) -> Result<bool, ScenarioError> {
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
        // Placed now: reading what Walmart shows took time.
        let now = self.action_time(now);
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
}
