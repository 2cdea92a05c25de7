//! Each operation's declared state-store methods (`STORE_CALLS`, from which its function's role is
//! derived) cover every call it really makes: every operation runs through the registry, as the
//! Lambdas do, on a store that records which methods are called.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use commerce_sandbox::PriceChange;
use domain::{ChannelId, ChannelSettings, Money, Operation, Timestamp};
use operations::Channel;
use operations::registry::{handlers, store_calls};
use operations::testkit::{
    CommerceSandboxSettings, Sandboxes, WalmartSandboxSettings, drain, queue_settings, seed_catalog,
    seed_live_listings,
};
use ports::{Clock, Deadline, ManualClock, RecordingStore, StoreCall};
use walmart_sandbox::{NewOrder, NewOrderLine, ShipToSpec};

const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

struct Fixture {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    store: Arc<RecordingStore>,
    channel: Arc<Channel>,
}

impl Fixture {
    async fn start() -> Self {
        let clock = Arc::new(ManualClock::at(START));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let walmart = WalmartSandboxSettings {
            feed_received_secs: 10,
            feed_processing_secs: 50,
            ..Default::default()
        };
        let sandboxes = Sandboxes::start(
            dyn_clock.clone(),
            walmart,
            CommerceSandboxSettings::default().with_purchase_order(),
        )
        .await
        .unwrap();
        let store = Arc::new(RecordingStore::new(Arc::new(EmbeddedStore::in_memory())));
        let queues = Arc::new(EmbeddedQueues::in_memory(queue_settings(), dyn_clock.clone()));
        let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        let channel = sandboxes.channel(settings, store.clone(), queues, dyn_clock);
        Self {
            clock,
            sandboxes,
            store,
            channel: Arc::new(channel),
        }
    }

    /// Runs the operation's schedule (if it has one), then its queue (if it has one), through the
    /// registry, and returns the store methods it called.
    async fn run(&self, op: Operation) -> BTreeSet<StoreCall> {
        self.store.take();
        let triggers = handlers(op);
        if let Some(scheduled) = triggers.schedule {
            scheduled(self.channel.clone(), Deadline::after(Duration::from_secs(300)))
                .await
                .unwrap();
        }
        if triggers.queue.is_some() {
            let (_, failed) = drain(&self.channel, op).await;
            assert_eq!(failed, 0, "{} messages failed", op.function_name());
        }
        self.store.take()
    }
}

/// Records every call the operation makes in `made`, and fails if one is not declared.
fn assert_declared(op: Operation, calls: &BTreeSet<StoreCall>, made: &mut BTreeSet<StoreCall>) {
    let declared: BTreeSet<StoreCall> = store_calls(op).iter().copied().collect();
    let undeclared: Vec<&str> = calls.difference(&declared).map(|c| c.as_str()).collect();
    assert!(
        undeclared.is_empty(),
        "{} calls {undeclared:?} on the state store but its STORE_CALLS do not declare them: its role \
         would lack the actions (AccessDenied on AWS)",
        op.function_name()
    );
    made.extend(calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_calls_only_the_store_methods_it_declares() {
    let f = Fixture::start().await;
    let seeded = seed_catalog(&f.sandboxes, "DCL-", 60, 5, 6).await;
    let mut made: Vec<BTreeSet<StoreCall>> = vec![BTreeSet::new(); Operation::ALL.len()];
    let index = |op: Operation| Operation::ALL.iter().position(|o| *o == op).unwrap();

    // Import, then match: drafts sent in a feed, the feed's results read once Walmart processed it.
    for op in [Operation::CatalogImport, Operation::ListingMatch] {
        let calls = f.run(op).await;
        assert_declared(op, &calls, &mut made[index(op)]);
    }
    for _ in 0..3 {
        f.clock.advance(Duration::from_secs(61));
        let calls = f.run(Operation::ListingMatch).await;
        assert_declared(
            Operation::ListingMatch,
            &calls,
            &mut made[index(Operation::ListingMatch)],
        );
    }
    assert!(
        made[index(Operation::ListingMatch)].contains(&StoreCall::PutMany),
        "listing-match records its feeds with put_many (BatchWriteItem): {:?}",
        made[index(Operation::ListingMatch)]
    );

    // Live listings, then a price and stock change and a buyer's order.
    seed_live_listings(&f.sandboxes, &f.channel, &seeded.matching, 10).await;
    // Enough price changes for a feed rather than single calls.
    for (n, sku) in seeded.matching.iter().enumerate() {
        f.sandboxes
            .commerce_control()
            .set_price(
                sku,
                &PriceChange {
                    price: Some(20.0 + n as f64),
                    ..PriceChange::default()
                },
            )
            .await
            .unwrap();
    }
    let sku = seeded.matching[0].clone();
    f.sandboxes
        .walmart_control()
        .create_order(&NewOrder {
            lines: vec![NewOrderLine {
                sku: sku.clone(),
                quantity: 1,
                unit_price: Money::from_cents(1999),
                tax: Money::from_cents(160),
                shipping: Money::ZERO,
                product_name: None,
            }],
            ship_to: ShipToSpec::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        })
        .await
        .unwrap();
    for _ in 0..2 {
        f.clock.advance(Duration::from_secs(120));
        for op in Operation::ALL {
            let calls = f.run(op).await;
            assert_declared(op, &calls, &mut made[index(op)]);
        }
    }
    assert!(
        made[index(Operation::PriceSync)].contains(&StoreCall::PutMany),
        "price-sync records its feed with put_many (BatchWriteItem): {:?}",
        made[index(Operation::PriceSync)]
    );
    for op in Operation::ALL {
        eprintln!("{}: {:?}", op.function_name(), made[index(op)]);
    }
    f.sandboxes.shutdown().await;
}
