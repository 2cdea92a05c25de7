//! What the end-to-end order tests share: a world on moto and both sandboxes on one manual clock,
//! a seeded catalog, buyers' orders and the dashboard record in DynamoDB.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use domain::{ChannelId, ChannelSettings, Operation, OrderRecord, PurchaseOrderId, Timestamp};
use e2e::World;
use ports::{Clock, ManualClock};
use serde_json::{Value, json};

pub struct OrdersWorld {
    pub world: World,
    pub clock: Arc<ManualClock>,
    /// Seeded SKUs: 19.99 and 10 units each in Commerce.
    pub skus: Vec<String>,
}

impl OrdersWorld {
    pub async fn start() -> Self {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let world = World::start(
            ChannelSettings::with_defaults(ChannelId::new("main").unwrap()),
            dyn_clock,
        )
        .await;
        let seeded = operations::testkit::seed_catalog(&world.sandboxes, "E2E-", 3, 0, 0).await;
        Self {
            world,
            clock,
            skus: seeded.matching,
        }
    }

    /// A buyer orders on Walmart: `(sku, quantity, unit cents)` per line, 8% tax.
    pub async fn buyer_orders(&self, lines: &[(&str, u32, i64)]) -> PurchaseOrderId {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(sku, quantity, cents)| {
                json!({"sku": sku, "quantity": quantity, "unit_price": cents,
                       "tax": cents * i64::from(*quantity) * 8 / 100})
            })
            .collect();
        let created = self
            .world
            .sandboxes
            .walmart_control()
            .create_order(&serde_json::from_value(json!({ "lines": lines })).unwrap())
            .await
            .unwrap();
        PurchaseOrderId::new(created.purchase_order_id).unwrap()
    }

    /// A scheduled run of `operation`, a little later; its run report.
    pub async fn tick(&self, operation: Operation) -> Value {
        self.clock.advance(Duration::from_secs(30));
        self.world.tick(operation).await.unwrap()
    }

    /// Imports on schedule and creates through the real queue: the order exists in Commerce.
    pub async fn import_and_create(&self) {
        self.tick(Operation::OrderImport).await;
        let (_, failed) = self.world.drain(Operation::OrderCreate).await;
        assert_eq!(failed, 0);
    }

    pub async fn record(&self, po: &PurchaseOrderId) -> OrderRecord {
        operations::dashboard::load_order(
            self.world.channel.store.as_ref(),
            &self.world.channel.settings.id,
            po,
        )
        .await
        .unwrap()
        .expect("order recorded")
        .record
    }

    pub async fn commerce_orders(&self, po: &PurchaseOrderId) -> Vec<Value> {
        self.world
            .sandboxes
            .commerce_control()
            .orders()
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o["payment"]["po_number"].as_str() == Some(po.as_str()))
            .collect()
    }

    pub async fn commerce_order(&self, po: &PurchaseOrderId) -> Value {
        let mut orders = self.commerce_orders(po).await;
        assert_eq!(orders.len(), 1, "exactly one Commerce order for {po}");
        orders.remove(0)
    }

    /// Ships items (`(sku, qty)`; empty: everything) of a Commerce order with one track.
    pub async fn ship_in_commerce(&self, order_id: u64, items: &[(&str, f64)], carrier: &str, number: &str) {
        let items: Vec<Value> = items
            .iter()
            .map(|(sku, qty)| json!({"sku": sku, "qty": qty}))
            .collect();
        self.world
            .sandboxes
            .commerce_control()
            .ship(
                order_id,
                serde_json::from_value(json!(items)).unwrap(),
                serde_json::from_value(
                    json!({"carrier_code": carrier, "title": carrier.to_uppercase(), "number": number}),
                )
                .unwrap(),
                false,
            )
            .await
            .unwrap();
    }

    pub async fn walmart_order(&self, po: &PurchaseOrderId) -> Value {
        self.world
            .sandboxes
            .walmart_control()
            .order(po.as_str())
            .await
            .unwrap()
    }

    pub async fn shutdown(self) {
        self.world.sandboxes.shutdown().await;
    }
}

/// Units of a Walmart order line in a status, as the sandbox renders the order.
pub fn units(order: &Value, line: u32, status: &str) -> u32 {
    order["orderLines"]["orderLine"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["lineNumber"].as_str() == Some(&line.to_string()))
        .flat_map(|l| {
            l["orderLineStatuses"]["orderLineStatus"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|s| s["status"].as_str() == Some(status))
        .map(|s| {
            s["statusQuantity"]["amount"]
                .as_str()
                .and_then(|a| a.parse::<f64>().ok())
                .or_else(|| s["statusQuantity"]["amount"].as_f64())
                .unwrap_or(0.0) as u32
        })
        .sum()
}
