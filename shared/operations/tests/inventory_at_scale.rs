//! Every SKU's quantity and price changes, with the Walmart sandbox enforcing its published rate
//! limits: no call is ever answered 429.
//!
//! Sized to what the assertions need, not more (each SKU costs the sandboxes and the store real work
//! in a debug build): 2,100 SKUs give 300 stock-outs, more than a run's single-call budget
//! (`MAX_SINGLES_PER_RUN`, 200), so the singles are all stock-outs and the rest goes in one feed; 300
//! urgent changes are more than a minute's single calls. The catalog benchmark (`cargo bench -p
//! operations --bench catalog`) plays 100,000 SKUs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use commerce_sandbox::{ProductSeed, StockChange};
use domain::{ChannelId, ChannelSettings, Money, Operation, Sku, Timestamp};
use operations::testkit::{Sandboxes, drain, seed_catalog, seed_live_listings};
use operations::{inventory_sync, price_sync};
use ports::{Clock, Deadline, ManualClock};

const SKUS: usize = 2_100;

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_changed_skus_than_the_call_budgets_sync_without_a_single_429() {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    assert!(sandboxes.walmart_control().settings().await.unwrap().rate_limits);
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    let channel = Arc::new(channel);
    let skus = seed_catalog(&sandboxes, "SCL-", SKUS, 0, 0).await.matching;
    seed_live_listings(&sandboxes, &channel, &skus, 10).await;
    let commerce = sandboxes.commerce_control();
    let walmart = sandboxes.walmart_control();

    let first = inventory_sync::run_scheduled(&channel, &deadline())
        .await
        .unwrap();
    assert_eq!(
        first.count(operations::Counter::ListingsFollowed),
        SKUS as u64,
        "{first:?}"
    );
    assert_eq!(first.count(operations::Counter::Unchanged), SKUS as u64);

    // Every SKU's stock and price changes.
    let stock: Vec<StockChange> = skus
        .iter()
        .enumerate()
        .map(|(n, sku)| StockChange {
            sku: sku.clone(),
            source_code: "default".into(),
            quantity: (n % 7) as f64,
            status: None,
        })
        .collect();
    for chunk in stock.chunks(2_000) {
        commerce.set_stock(chunk).await.unwrap();
    }
    let prices: Vec<ProductSeed> = skus
        .iter()
        .map(|sku| ProductSeed {
            sku: sku.clone(),
            price: Some(21.5),
            ..Default::default()
        })
        .collect();
    for chunk in prices.chunks(2_000) {
        commerce.seed_products(chunk).await.unwrap();
    }

    clock.advance(Duration::from_secs(300));
    let inventory = inventory_sync::run_scheduled(&channel, &deadline())
        .await
        .unwrap();
    assert!(inventory.complete, "{inventory:?}");
    let stock_outs = skus.len().div_ceil(7) as u64;
    assert_eq!(
        inventory.count(operations::Counter::SourceChanges),
        SKUS as u64,
        "{inventory:?}"
    );
    assert_eq!(
        inventory.count(operations::Counter::QuantitiesSentSingle),
        200,
        "stock-outs first, within a minute's budget"
    );
    assert_eq!(inventory.count(operations::Counter::InventoryFeeds), 1);
    assert_eq!(
        inventory.count(operations::Counter::QuantitiesSentFeed),
        SKUS as u64 - 200
    );
    assert!(stock_outs > inventory_sync::MAX_SINGLES_PER_RUN as u64);

    let prices = price_sync::run_scheduled(&channel, &deadline()).await.unwrap();
    assert_eq!(prices.count(operations::Counter::PriceFeeds), 1, "{prices:?}");
    assert_eq!(prices.count(operations::Counter::PricesSentFeed), SKUS as u64);

    // Urgent messages after orders arrive meanwhile, more than a minute's single calls.
    let urgent: Vec<Sku> = skus
        .iter()
        .take(300)
        .map(|s| Sku::new(s.as_str()).unwrap())
        .collect();
    let reservations: Vec<StockChange> = skus
        .iter()
        .take(300)
        .map(|sku| StockChange {
            sku: sku.clone(),
            source_code: "default".into(),
            quantity: 50.0,
            status: None,
        })
        .collect();
    commerce.set_stock(&reservations).await.unwrap();
    inventory_sync::enqueue_urgent(&channel, &urgent).await.unwrap();
    drain(&channel, Operation::InventorySync).await;

    // Feeds finish; the next runs apply results and catch up on what waited.
    for _ in 0..3 {
        clock.advance(Duration::from_secs(300));
        inventory_sync::run_scheduled(&channel, &deadline())
            .await
            .unwrap();
        price_sync::run_scheduled(&channel, &deadline()).await.unwrap();
    }

    let stats = walmart.stats().await.unwrap();
    let throttled: BTreeMap<&String, u64> = stats
        .iter()
        .filter(|(_, c)| c.throttled > 0)
        .map(|(e, c)| (e, c.throttled))
        .collect();
    assert!(throttled.is_empty(), "429s: {throttled:?} of {stats:?}");
    let on_walmart = walmart.inventory().await.unwrap();
    for (n, sku) in skus.iter().enumerate() {
        let expected = if n < 300 { 50 } else { (n % 7) as u32 };
        assert_eq!(on_walmart.get(sku), Some(&expected), "{sku}");
    }
    let prices = walmart.prices().await.unwrap();
    assert!(
        skus.iter()
            .all(|s| prices.get(s) == Some(&Money::from_cents(2150)))
    );
    sandboxes.shutdown().await;
}
