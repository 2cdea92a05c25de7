//! What an order costs through its whole life: Walmart calls per endpoint, Commerce calls per
//! route, state-store reads and writes, and CPU time of the operations, per order.
//!
//! `cargo bench -p operations --bench orders` (`-- 500` for another order count). Both sandboxes
//! run in the same process on their own runtime thread; the operations run on this thread, and
//! only this thread's CPU time is counted (from `/proc/thread-self/stat`), so the sandboxes' work is
//! not. Calls are the sandboxes' own per-endpoint counters; store operations come from a
//! `ports::CountingStore` around the embedded store. Time is a manual clock: the Walmart client's
//! rate-limit waits advance it instead of sleeping.
//!
//! Life of each order: order-import (released orders, paged), order-create (placement,
//! acknowledgement), one shipment synced (and invoiced), a Walmart return requested in Commerce
//! (RMA), the merchant's credit memo reported as the Walmart refund. A second set of orders is
//! cancelled in Commerce instead of shipped, and a third by the buyer on Walmart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{ChannelId, ChannelSettings, PurchaseOrderId, Timestamp};
use operations::registry::Message;
use operations::testkit::{
    CommerceSandboxSettings, Sandboxes, WalmartSandboxSettings, queue_settings, seed_catalog,
};
use operations::{Channel, cancellation_sync, order_create, order_import, returns_sync, shipment_sync};
use ports::{Clock, CountingStore, Deadline, ManualClock, QueueName, StoreCounts, WorkQueue};
use serde_json::json;

/// This thread's CPU time (user + system), from `/proc/thread-self/stat` (in clock ticks of 10 ms).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after_name` starts at field 3.
    let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(14) + ticks(15)) * 10)
}

/// Calls per endpoint of both APIs, store counters and CPU at one moment.
#[derive(Default)]
struct Snapshot {
    walmart: BTreeMap<String, u64>,
    commerce: BTreeMap<String, u64>,
    store: StoreCounts,
    cpu: Duration,
}

struct Bench {
    sandboxes: Sandboxes,
    ch: Arc<Channel>,
    store: Arc<CountingStore>,
    queues: Arc<EmbeddedQueues>,
    clock: Arc<ManualClock>,
    skus: Vec<String>,
}

impl Bench {
    async fn snapshot(&self) -> Snapshot {
        let walmart = self
            .sandboxes
            .walmart_control()
            .stats()
            .await
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.calls))
            .collect();
        let commerce = self.sandboxes.commerce_control().stats().await.unwrap();
        Snapshot {
            walmart,
            commerce,
            store: self.store.counts(),
            cpu: thread_cpu(),
        }
    }

    async fn clear_exchanges(&self) {
        self.sandboxes.walmart_control().clear_exchanges().await.unwrap();
        self.sandboxes.commerce_control().clear_exchanges().await.unwrap();
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(600))
    }

    async fn place_orders(&self, n: usize) -> Vec<PurchaseOrderId> {
        let mut pos = Vec::with_capacity(n);
        for i in 0..n {
            let (a, b) = (
                &self.skus[i % self.skus.len()],
                &self.skus[(i + 1) % self.skus.len()],
            );
            let order = json!({"lines": [
                {"sku": a, "quantity": 2, "unit_price": 1999, "tax": 320},
                {"sku": b, "quantity": 1, "unit_price": 1999, "tax": 160},
            ]});
            let created = self
                .sandboxes
                .walmart_control()
                .create_order(&serde_json::from_value(order).unwrap())
                .await
                .unwrap();
            pos.push(PurchaseOrderId::new(created.purchase_order_id).unwrap());
        }
        pos
    }

    async fn import(&self) {
        self.clock.advance(Duration::from_secs(60));
        order_import::run_scheduled(&self.ch, &Self::deadline())
            .await
            .unwrap();
    }

    async fn create(&self) {
        loop {
            let batch = self
                .queues
                .receive(QueueName::OrderCreate, 10, Duration::ZERO)
                .await
                .unwrap();
            if batch.is_empty() {
                return;
            }
            for d in batch {
                let message = Message {
                    message_id: d.message_id.clone(),
                    body: d.body.clone(),
                    receive_count: d.receive_count,
                };
                order_create::handle_message(&self.ch, &message.decode().unwrap(), &Self::deadline())
                    .await
                    .unwrap();
                self.queues
                    .delete(QueueName::OrderCreate, &d.receipt)
                    .await
                    .unwrap();
            }
        }
    }

    async fn commerce_order_ids(&self, pos: &[PurchaseOrderId]) -> Vec<u64> {
        let mut ids = Vec::with_capacity(pos.len());
        for po in pos {
            let record = operations::dashboard::load_order(self.ch.store.as_ref(), &self.ch.settings.id, po)
                .await
                .unwrap()
                .unwrap()
                .record;
            ids.push(record.commerce_link().unwrap().order_id.0);
        }
        ids
    }

    async fn scheduled(&self, run: Run) {
        self.clock.advance(Duration::from_secs(120));
        self.run_schedule(run).await;
    }

    /// One scheduled run, now, with no problem reported.
    async fn run_schedule(&self, run: Run) {
        let d = Self::deadline();
        let report = match run {
            Run::Shipments => shipment_sync::run_scheduled(&self.ch, &d).await,
            Run::Cancellations => cancellation_sync::run_scheduled(&self.ch, &d).await,
            Run::Returns => returns_sync::run_scheduled(&self.ch, &d).await,
        }
        .unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}

#[derive(Clone, Copy)]
enum Run {
    Shipments,
    Cancellations,
    Returns,
}

/// One phase's cost, divided by the orders it served.
struct Phase {
    name: &'static str,
    orders: usize,
    before: Snapshot,
    after: Snapshot,
}

fn diff(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, v)| {
            let d = v - before.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

fn per(n: u64, orders: usize) -> String {
    format!("{:.2}", n as f64 / orders as f64)
}

fn print_phases(phases: &[Phase]) {
    println!(
        "| phase | orders | Walmart calls/order | Commerce calls/order | store reads/order | store writes/order | CPU ms/order |"
    );
    println!("|---|---:|---|---|---:|---:|---:|");
    for p in phases {
        let walmart = diff(&p.after.walmart, &p.before.walmart);
        let commerce = diff(&p.after.commerce, &p.before.commerce);
        let fmt = |calls: &BTreeMap<String, u64>| {
            if calls.is_empty() {
                return "0".to_owned();
            }
            calls
                .iter()
                .map(|(k, v)| format!("{k}: {}", per(*v, p.orders)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let reads = p.after.store.reads() - p.before.store.reads();
        let writes = p.after.store.writes() - p.before.store.writes();
        let cpu = (p.after.cpu - p.before.cpu).as_secs_f64() * 1000.0 / p.orders as f64;
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} |",
            p.name,
            p.orders,
            fmt(&walmart),
            fmt(&commerce),
            per(reads, p.orders),
            per(writes, p.orders),
            cpu
        );
    }
}

fn totals(label: &str, first: &Snapshot, last: &Snapshot, orders: usize) {
    let walmart: u64 = diff(&last.walmart, &first.walmart).values().sum();
    let commerce: u64 = diff(&last.commerce, &first.commerce).values().sum();
    let store = |f: fn(&StoreCounts) -> u64| per(f(&last.store) - f(&first.store), orders);
    let cpu = (last.cpu - first.cpu).as_secs_f64() * 1000.0 / orders as f64;
    println!(
        "| {label} | {} | {} | {} | {} (gets {}, query pages {}) | {} (single {}, in transactions {}, idempotency {}) | {cpu:.2} |",
        orders,
        per(walmart, orders),
        per(commerce, orders),
        store(StoreCounts::reads),
        store(|s| s.gets),
        store(|s| s.queries),
        store(StoreCounts::writes),
        store(|s| s.single_writes),
        store(|s| s.transaction_items),
        store(|s| s.idempotency_calls),
    );
}

fn main() {
    let orders: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let sandbox_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let sandboxes = sandbox_runtime
        .block_on(Sandboxes::start(
            dyn_clock.clone(),
            WalmartSandboxSettings::default(),
            CommerceSandboxSettings::default().with_purchase_order(),
        ))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sandboxes = runtime.block_on(async move {
        let seeded = seed_catalog(&sandboxes, "BEN-", 50, 0, 0).await;
        let stock: Vec<_> = seeded
            .matching
            .iter()
            .map(|sku| commerce_sandbox::StockChange {
                sku: sku.clone(),
                source_code: "default".into(),
                quantity: 1_000_000.0,
                status: Some(1),
            })
            .collect();
        sandboxes.commerce_control().set_stock(&stock).await.unwrap();
        let store = Arc::new(CountingStore::new(Arc::new(EmbeddedStore::in_memory())));
        let queues = Arc::new(EmbeddedQueues::in_memory(queue_settings(), dyn_clock.clone()));
        let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        let ch = Arc::new(sandboxes.channel(settings, store.clone(), queues.clone(), dyn_clock.clone()));
        let bench = Bench {
            sandboxes,
            ch,
            store,
            queues,
            clock,
            skus: seeded.matching,
        };
        run(&bench, orders).await;
        bench.sandboxes
    });
    sandbox_runtime.block_on(sandboxes.shutdown());
}

async fn run(b: &Bench, n: usize) {
    let walmart = b.sandboxes.walmart_control();
    let commerce = b.sandboxes.commerce_control();
    println!(
        "orders benchmark: {n} orders of 2 lines (3 units) each, plus {n} cancelled in Commerce and {n} by the buyer\n"
    );

    // Shipped, returned, refunded.
    let pos = b.place_orders(n).await;
    let mut phases = Vec::new();
    let start = b.snapshot().await;

    let before = b.snapshot().await;
    b.import().await;
    phases.push(Phase {
        name: "order-import",
        orders: n,
        before,
        after: b.snapshot().await,
    });

    let before = b.snapshot().await;
    b.create().await;
    phases.push(Phase {
        name: "order-create (+ acknowledge)",
        orders: n,
        before,
        after: b.snapshot().await,
    });
    b.clear_exchanges().await;

    let ids = b.commerce_order_ids(&pos).await;
    for id in &ids {
        commerce
            .ship(
                *id,
                vec![],
                serde_json::from_value(
                    json!({"carrier_code": "ups", "title": "UPS", "number": format!("1Z{id}")}),
                )
                .unwrap(),
                false,
            )
            .await
            .unwrap();
    }
    let before = b.snapshot().await;
    b.scheduled(Run::Shipments).await;
    phases.push(Phase {
        name: "shipment-sync (+ invoice)",
        orders: n,
        before,
        after: b.snapshot().await,
    });
    b.clear_exchanges().await;

    for po in &pos {
        walmart
            .create_return(
                &serde_json::from_value(
                    json!({"purchase_order_id": po.as_str(), "lines": [{"line": 1, "quantity": 1}]}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
    }
    let before = b.snapshot().await;
    b.scheduled(Run::Returns).await;
    phases.push(Phase {
        name: "returns-sync: return → RMA",
        orders: n,
        before,
        after: b.snapshot().await,
    });

    for (i, id) in ids.iter().enumerate() {
        // Line 1 of order i is SKU i (see `place_orders`): the returned unit.
        let sku = &b.skus[i % b.skus.len()];
        commerce
            .refund(
                *id,
                &serde_json::from_value(json!({
                    "items": [{"sku": sku, "qty": 1.0}], "shipping_amount": 0.0, "adjustment_positive": 0.0,
                    "adjustment_negative": 0.0, "return_to_stock": true, "comment": null,
                }))
                .unwrap(),
            )
            .await
            .unwrap();
    }
    let before = b.snapshot().await;
    b.scheduled(Run::Returns).await;
    phases.push(Phase {
        name: "returns-sync: credit memo → refund",
        orders: n,
        before,
        after: b.snapshot().await,
    });
    b.clear_exchanges().await;

    // One more round of the four schedules while every order's last change is still inside the
    // streams' overlap windows (10 minutes): each re-read change costs a few state-store reads.
    let before = b.snapshot().await;
    b.import().await;
    b.scheduled(Run::Shipments).await;
    b.scheduled(Run::Cancellations).await;
    b.scheduled(Run::Returns).await;
    phases.push(Phase {
        name: "one round re-reading the overlap",
        orders: n,
        before,
        after: b.snapshot().await,
    });
    let end = b.snapshot().await;

    // A round with nothing new and nothing in the overlaps: the fixed cost of the schedules.
    b.clock.advance(Duration::from_secs(3600));
    b.import().await;
    b.scheduled(Run::Shipments).await;
    b.scheduled(Run::Cancellations).await;
    b.scheduled(Run::Returns).await;
    let before = b.snapshot().await;
    b.import().await;
    b.scheduled(Run::Shipments).await;
    b.scheduled(Run::Cancellations).await;
    b.scheduled(Run::Returns).await;
    let idle = Phase {
        name: "idle round of the 4 schedules (per round, not per order)",
        orders: 1,
        before,
        after: b.snapshot().await,
    };
    let received = walmart.received().await.unwrap();
    assert_eq!(received.shipments.len(), 2 * n);
    assert_eq!(received.return_refunds.len(), n);

    // Cancelled in Commerce before shipping.
    let cancelled = b.place_orders(n).await;
    b.import().await;
    b.create().await;
    let cancel_ids = b.commerce_order_ids(&cancelled).await;
    for id in &cancel_ids {
        assert!(commerce.cancel(*id).await.unwrap());
    }
    let before = b.snapshot().await;
    b.scheduled(Run::Cancellations).await;
    let merchant_cancel = Phase {
        name: "cancellation-sync: Commerce → Walmart",
        orders: n,
        before,
        after: b.snapshot().await,
    };

    // Cancelled by the buyer on Walmart after creation.
    let by_buyer = b.place_orders(n).await;
    b.import().await;
    b.create().await;
    for po in &by_buyer {
        walmart
            .cancel_as_buyer(
                po.as_str(),
                &serde_json::from_value(
                    json!({"lines": [{"line": 1, "quantity": 2}, {"line": 2, "quantity": 1}]}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
    }
    let before = b.snapshot().await;
    b.scheduled(Run::Cancellations).await;
    let buyer_cancel = Phase {
        name: "cancellation-sync: Walmart → Commerce",
        orders: n,
        before,
        after: b.snapshot().await,
    };
    let received = walmart.received().await.unwrap();
    assert_eq!(
        received
            .cancellations
            .iter()
            .filter(|c| serde_json::to_value(c.by).unwrap() == "seller")
            .count(),
        2 * n
    );

    let lost = lost_answers(b, n).await;

    println!("## Per phase (per order)\n");
    phases.push(merchant_cancel);
    phases.push(buyer_cancel);
    phases.push(idle);
    print_phases(&phases);
    println!(
        "\n## The same Walmart writes with every answer lost (applied, then a 504): what the ambiguity checks read (per order)\n"
    );
    print_phases(&lost);
    println!(
        "\n## Whole life of an order (import → create → ship → return → refund, plus one round re-reading the overlap)\n"
    );
    println!(
        "| life | orders | Walmart calls/order | Commerce calls/order | store reads/order | store writes/order | CPU ms/order |"
    );
    println!("|---|---:|---:|---:|---|---|---:|");
    totals("shipped, returned, refunded", &start, &end, n);
}

/// Ships, refunds and cancels `n` more orders with every answer of those Walmart writes lost (the
/// sandbox applies the write and answers 504): beside the clean phases, the reads the ambiguity
/// checks add, and proof that each write still happened once.
async fn lost_answers(b: &Bench, n: usize) -> Vec<Phase> {
    let walmart = b.sandboxes.walmart_control();
    let commerce = b.sandboxes.commerce_control();
    // The schedule's run with the next `n` Walmart writes applied and their answers lost; the
    // access token is fetched first, since its request is a write the plan would lose too.
    let walmart_ref = &walmart;
    let with_lost_answers = |run: Run, name: &'static str| async move {
        let walmart = walmart_ref;
        b.clock.advance(Duration::from_secs(120));
        b.ch.walmart.recent_feeds(&Bench::deadline()).await.unwrap();
        walmart
            .set_faults(&walmart_sandbox::FaultPlan {
                lose_next: u32::try_from(n).unwrap(),
                ..walmart_sandbox::FaultPlan::default()
            })
            .await
            .unwrap();
        let before = b.snapshot().await;
        b.run_schedule(run).await;
        Phase {
            name,
            orders: n,
            before,
            after: b.snapshot().await,
        }
    };
    let seller_cancellations = |r: &walmart_sandbox::Received| {
        r.cancellations
            .iter()
            .filter(|c| serde_json::to_value(c.by).unwrap() == "seller")
            .count()
    };
    let received = walmart.received().await.unwrap();
    let mut phases = Vec::new();

    let pos = b.place_orders(n).await;
    b.import().await;
    b.create().await;
    let ids = b.commerce_order_ids(&pos).await;
    for id in &ids {
        commerce
            .ship(
                *id,
                vec![],
                serde_json::from_value(
                    json!({"carrier_code": "ups", "title": "UPS", "number": format!("1L{id}")}),
                )
                .unwrap(),
                false,
            )
            .await
            .unwrap();
    }
    phases.push(with_lost_answers(Run::Shipments, "shipment-sync, every shipping answer lost").await);

    for po in &pos {
        walmart
            .create_return(
                &serde_json::from_value(
                    json!({"purchase_order_id": po.as_str(), "lines": [{"line": 1, "quantity": 1}]}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
    }
    b.scheduled(Run::Returns).await;
    for (i, id) in ids.iter().enumerate() {
        let sku = &b.skus[i % b.skus.len()];
        commerce
            .refund(
                *id,
                &serde_json::from_value(json!({
                    "items": [{"sku": sku, "qty": 1.0}], "shipping_amount": 0.0, "adjustment_positive": 0.0,
                    "adjustment_negative": 0.0, "return_to_stock": true, "comment": null,
                }))
                .unwrap(),
            )
            .await
            .unwrap();
    }
    phases.push(
        with_lost_answers(
            Run::Returns,
            "returns-sync: credit memo → refund, every refund answer lost",
        )
        .await,
    );

    let cancelled = b.place_orders(n).await;
    b.import().await;
    b.create().await;
    for id in &b.commerce_order_ids(&cancelled).await {
        assert!(commerce.cancel(*id).await.unwrap());
    }
    phases.push(
        with_lost_answers(
            Run::Cancellations,
            "cancellation-sync: Commerce → Walmart, every cancel answer lost",
        )
        .await,
    );
    walmart
        .set_faults(&walmart_sandbox::FaultPlan::default())
        .await
        .unwrap();

    // Each write still happened exactly once.
    let after = walmart.received().await.unwrap();
    // One shipment entry per line, two lines an order.
    assert_eq!(after.shipments.len(), received.shipments.len() + 2 * n);
    assert_eq!(after.return_refunds.len(), received.return_refunds.len() + n);
    assert_eq!(
        seller_cancellations(&after),
        seller_cancellations(&received) + 2 * n
    );
    phases
}
