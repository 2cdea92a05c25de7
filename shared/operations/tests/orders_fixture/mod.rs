//! What the order operation tests share: both sandboxes on a manual clock, a channel on the embedded
//! store and queues, buyers' orders on Walmart, and the SQS consumer of order-create played by hand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::EmbeddedQueues;
use commerce_sandbox::{RefundRequest, ShipLine, TrackInput};
use domain::{
    ChannelId, ChannelSettings, OrderRecord, OrderSummary, PurchaseOrderId, ReturnOrderId, Timestamp,
};
use operations::registry::Message;
use operations::testkit::{CommerceSandboxSettings, Sandboxes, WalmartSandboxSettings};
use operations::{Channel, RunReport, order_create, shipment_sync};
use ports::{Claim, ClaimTerms, Clock, Deadline, IdempotencyKey, ManualClock, QueueName, WorkQueue};
use serde_json::Value;
use walmart_sandbox::{LineQuantitySpec, NewOrder, NewOrderLine, NewReturn, ShipToSpec};

pub const START: i64 = 1_800_000_000_000;

pub struct Fixture {
    pub clock: Arc<ManualClock>,
    pub sandboxes: Sandboxes,
    pub ch: Arc<Channel>,
    pub queues: Arc<EmbeddedQueues>,
    /// SKUs seeded in Commerce (19.99, 10 units each).
    pub skus: Vec<String>,
}

pub fn settings() -> ChannelSettings {
    ChannelSettings::with_defaults(ChannelId::new("main").unwrap())
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_with(
            settings(),
            CommerceSandboxSettings::default().with_purchase_order(),
        )
        .await
    }

    pub async fn start_with(settings: ChannelSettings, commerce: CommerceSandboxSettings) -> Self {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(START)));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let sandboxes = Sandboxes::start(dyn_clock.clone(), WalmartSandboxSettings::default(), commerce)
            .await
            .unwrap();
        let seeded = operations::testkit::seed_catalog(&sandboxes, "ORD-", 4, 0, 0).await;
        let (ch, queues) = sandboxes.embedded_channel(settings, dyn_clock);
        Self {
            clock,
            sandboxes,
            ch: Arc::new(ch),
            queues,
            skus: seeded.matching,
        }
    }

    pub fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(60))
    }

    /// A buyer orders on Walmart: `(sku, quantity, unit cents)` per line, tax 8% of the line.
    pub async fn buyer_orders(&self, lines: &[(&str, u32, i64)]) -> PurchaseOrderId {
        self.buyer_orders_to(lines, ShipToSpec::default()).await
    }

    pub async fn buyer_orders_to(&self, lines: &[(&str, u32, i64)], ship_to: ShipToSpec) -> PurchaseOrderId {
        let created = self
            .sandboxes
            .walmart_control()
            .create_order(&NewOrder {
                lines: lines
                    .iter()
                    .map(|(sku, quantity, cents)| NewOrderLine {
                        sku: (*sku).to_owned(),
                        quantity: *quantity,
                        unit_price: domain::Money::from_cents(*cents),
                        tax: domain::Money::from_cents(cents * i64::from(*quantity) * 8 / 100),
                        shipping: domain::Money::ZERO,
                        product_name: None,
                    })
                    .collect(),
                ship_to,
                method_code: "Standard".into(),
                order_date: None,
                purchase_order_id: None,
            })
            .await
            .unwrap();
        PurchaseOrderId::new(created.purchase_order_id).unwrap()
    }

    pub async fn import(&self) -> RunReport {
        operations::order_import::run_scheduled(&self.ch, &Self::deadline())
            .await
            .unwrap()
    }

    /// Plays order-create's event source mapping: receives every visible message, handles it,
    /// deletes it when handled. Returns (handled, failed).
    pub async fn drain_creations(&self) -> (usize, usize) {
        let (mut ok, mut failed) = (0, 0);
        loop {
            let batch = self
                .queues
                .receive(QueueName::OrderCreate, 10, Duration::ZERO)
                .await
                .unwrap();
            if batch.is_empty() {
                return (ok, failed);
            }
            for delivery in batch {
                let message = Message {
                    message_id: delivery.message_id.clone(),
                    body: delivery.body.clone(),
                    receive_count: delivery.receive_count,
                };
                let handled = match message.decode() {
                    Ok(message) => order_create::handle_message(&self.ch, &message, &Self::deadline()).await,
                    Err(e) => Err(e),
                };
                match handled {
                    Ok(()) => {
                        ok += 1;
                        self.queues
                            .delete(QueueName::OrderCreate, &delivery.receipt)
                            .await
                            .unwrap();
                    }
                    Err(e) => {
                        eprintln!("order-create failed: {e}");
                        failed += 1;
                    }
                }
            }
        }
    }

    /// Messages waiting on a queue, without consuming them for long (made visible again).
    pub async fn peek(&self, queue: QueueName) -> Vec<String> {
        let mut bodies = Vec::new();
        loop {
            let batch = self.queues.receive(queue, 10, Duration::ZERO).await.unwrap();
            if batch.is_empty() {
                break;
            }
            for d in batch {
                bodies.push(d.body.clone());
                self.queues.delete(queue, &d.receipt).await.unwrap();
            }
        }
        bodies
    }

    /// Imports and creates: the order is in Commerce and acknowledged.
    pub async fn import_and_create(&self) {
        self.import().await;
        let (_, failed) = self.drain_creations().await;
        assert_eq!(failed, 0);
    }

    pub async fn record(&self, po: &PurchaseOrderId) -> OrderRecord {
        operations::dashboard::load_order(self.ch.store.as_ref(), &self.ch.settings.id, po)
            .await
            .unwrap()
            .expect("order recorded")
            .record
    }

    /// The Commerce orders carrying this purchase order id.
    pub async fn commerce_orders(&self, po: &PurchaseOrderId) -> Vec<Value> {
        self.sandboxes
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

    pub fn commerce_order_id(&self, order: &Value) -> u64 {
        order["entity_id"].as_u64().unwrap()
    }

    pub async fn salable(&self, sku: &str) -> f64 {
        self.sandboxes.commerce_control().salable(sku, 1).await.unwrap().1
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn shutdown(self) {
        self.sandboxes.shutdown().await;
    }
}

/// An order of `lines`, created, shipped completely and synced to Walmart.
/// The merchant ships the whole Commerce order with UPS tracking `1Z{order_id}`.
pub async fn ship_in_commerce(fx: &Fixture, order_id: u64) {
    fx.sandboxes
        .commerce_control()
        .ship(
            order_id,
            vec![],
            TrackInput {
                carrier_code: "ups".into(),
                title: "UPS".into(),
                number: format!("1Z{order_id}"),
            },
            false,
        )
        .await
        .unwrap();
}

/// Another invocation holds the `name` claim on `key` for ten minutes (and will die with it).
pub async fn hold_claim(fx: &Fixture, name: &str, key: &str) {
    let now = fx.ch.clock.now();
    let held = fx
        .ch
        .store
        .claim(
            &IdempotencyKey::new(name, &fx.ch.settings.id, key),
            ClaimTerms {
                now,
                in_progress_until: now.plus(Duration::from_secs(600)),
                expires_at: now.plus(Duration::from_secs(3600)),
            },
        )
        .await
        .unwrap();
    assert!(matches!(held, Claim::Acquired(_)));
}

pub async fn shipped_order(fx: &Fixture, lines: &[(&str, u32, i64)]) -> (PurchaseOrderId, u64) {
    let po = fx.buyer_orders(lines).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    ship_in_commerce(fx, order_id).await;
    fx.advance(Duration::from_secs(10));
    shipment_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(fx.record(&po).await.summary(), OrderSummary::Shipped);
    (po, order_id)
}

pub async fn walmart_return(fx: &Fixture, po: &PurchaseOrderId, lines: &[(u32, u32)]) -> ReturnOrderId {
    let created = fx
        .sandboxes
        .walmart_control()
        .create_return(&NewReturn {
            purchase_order_id: po.to_string(),
            lines: lines
                .iter()
                .map(|(line, quantity)| LineQuantitySpec {
                    line: *line,
                    quantity: *quantity,
                })
                .collect(),
            reason: "CUSTOMER_CHANGED_MIND".into(),
        })
        .await
        .unwrap();
    ReturnOrderId::new(created.return_order_id).unwrap()
}

pub async fn refund(fx: &Fixture, order_id: u64, items: &[(&str, f64)]) -> u64 {
    let memo = fx
        .sandboxes
        .commerce_control()
        .refund(
            order_id,
            &RefundRequest {
                items: items
                    .iter()
                    .map(|(sku, qty)| ShipLine {
                        sku: Some((*sku).to_owned()),
                        order_item_id: None,
                        qty: *qty,
                    })
                    .collect(),
                shipping_amount: Some(0.0),
                adjustment_positive: 0.0,
                adjustment_negative: 0.0,
                return_to_stock: true,
                comment: Some("Walmart return".into()),
            },
        )
        .await
        .unwrap();
    memo["entity_id"].as_u64().unwrap()
}

/// Count of units per Walmart line in a Walmart order as the sandbox renders it, by status.
pub fn line_status_quantity(order: &Value, line: u32, status: &str) -> u32 {
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
