//! The catalog benchmark: a 100,000-SKU catalog imported, matched and synced, then 1%, 10% and 100%
//! of its SKUs changed (stock, price, product data), each change cycle measured:
//! Walmart calls (per endpoint, from the sandbox's counters) beside the floor Walmart's feed sizes
//! set, Commerce calls, state-store reads and writes (`ports::CountingStore`), and the CPU time of
//! the operation itself.
//!
//! Run: `cargo bench -p operations --bench catalog` (`CATALOG_BENCH_SKUS=10000` for a quick look).
//!
//! Everything runs in one process on a manual clock (feeds finish and rate limits refill as the
//! benchmark moves time; Walmart's rate limits are enforced). Each measured step runs on a thread of
//! its own with a fresh channel (like a Lambda cold start), so the CPU time read from
//! `/proc/thread-self/stat` is the operation's and its clients', not the sandboxes'.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{ChannelId, ChannelSettings, Operation, Timestamp};
use operations::testkit::{Sandboxes, commerce_sandbox, drain, queue_settings, seed_catalog};
use operations::wiring::{self, ChannelSecrets, Endpoints};
use operations::{Channel, RunReport, catalog_import, inventory_sync, listing_match, price_sync};
use ports::{Clock, CountingStore, Deadline, ManualClock, StateStore, StoreCounts, WorkQueue};

/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) of the calling thread so far.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// What one measured step cost.
#[derive(Default)]
struct Cost {
    walmart: BTreeMap<String, u64>,
    commerce: u64,
    store: StoreCounts,
    cpu: Duration,
    wall: Duration,
}

impl Cost {
    fn walmart_total(&self) -> u64 {
        self.walmart.values().sum()
    }
}

struct Bench {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    store: Arc<CountingStore>,
    queues: Arc<EmbeddedQueues>,
    settings: ChannelSettings,
    endpoints: Endpoints,
    secrets: ChannelSecrets,
}

fn walmart_calls(
    stats: &BTreeMap<String, operations::testkit::walmart_sandbox::EndpointCounters>,
) -> BTreeMap<String, u64> {
    stats.iter().map(|(k, v)| (k.clone(), v.calls)).collect()
}

impl Bench {
    /// Runs `step` on a thread of its own with a fresh channel and measures it.
    async fn measure<F, Fut>(&self, step: F) -> (Vec<RunReport>, Cost)
    where
        F: FnOnce(Arc<Channel>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<RunReport>>,
    {
        let walmart_before = walmart_calls(&self.sandboxes.walmart_control().stats().await.unwrap());
        let commerce_before: u64 = self
            .sandboxes
            .commerce_control()
            .stats()
            .await
            .unwrap()
            .values()
            .sum();
        self.store.reset();
        let store: Arc<dyn StateStore> = self.store.clone();
        let queues: Arc<dyn WorkQueue> = self.queues.clone();
        let clock: Arc<dyn Clock> = self.clock.clone();
        let (settings, endpoints, secrets) = (
            self.settings.clone(),
            self.endpoints.clone(),
            self.secrets.clone(),
        );
        let started = Instant::now();
        let (reports, cpu) = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let before = thread_cpu();
            let reports = runtime.block_on(async move {
                let apis = wiring::connect(&endpoints, &secrets, clock.clone()).expect("clients");
                let channel = Arc::new(Channel {
                    settings,
                    store,
                    queues,
                    walmart: apis.walmart,
                    commerce: apis.commerce,
                    clock,
                });
                step(channel).await
            });
            (reports, thread_cpu() - before)
        })
        .join()
        .expect("measured step");
        let wall = started.elapsed();
        let walmart_after = walmart_calls(&self.sandboxes.walmart_control().stats().await.unwrap());
        let commerce_after: u64 = self
            .sandboxes
            .commerce_control()
            .stats()
            .await
            .unwrap()
            .values()
            .sum();
        let walmart = walmart_after
            .into_iter()
            .map(|(k, v)| {
                let before = walmart_before.get(&k).copied().unwrap_or(0);
                (k, v - before)
            })
            .filter(|(_, v)| *v > 0)
            .collect();
        let cost = Cost {
            walmart,
            commerce: commerce_after - commerce_before,
            store: self.store.counts(),
            cpu,
            wall,
        };
        // The sandboxes keep a bounded log of exchanges; a 100,000-SKU run has no use for it.
        self.sandboxes.walmart_control().clear_exchanges().await.unwrap();
        self.sandboxes.commerce_control().clear_exchanges().await.unwrap();
        (reports, cost)
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

fn deadline() -> Deadline {
    Deadline::none()
}

/// Runs `op`'s schedule, then again every `every` of clock time while it reports work left or
/// waiting (a budget, a feed in flight), at most `max` times.
async fn until_settled(
    ch: &Arc<Channel>,
    clock: &ManualClock,
    op: Operation,
    every: Duration,
    max: usize,
) -> Vec<RunReport> {
    let mut reports = Vec::new();
    for _ in 0..max {
        let report = match op {
            Operation::InventorySync => inventory_sync::run_scheduled(ch, &deadline()).await,
            Operation::PriceSync => price_sync::run_scheduled(ch, &deadline()).await,
            Operation::ListingMatch => listing_match::run_scheduled(ch, &deadline()).await,
            _ => catalog_import::run_scheduled(ch, &deadline()).await,
        }
        .expect("scheduled run");
        let busy = !report.complete
            || report.count(operations::Counter::Deferred) > 0
            || report.count(operations::Counter::FeedsProcessing) > 0
            || report.count(operations::Counter::DraftsWaiting) > 0
            || report.count(operations::Counter::MatchFeeds) > 0
            || report.count(operations::Counter::InventoryFeeds) > 0
            || report.count(operations::Counter::PriceFeeds) > 0;
        reports.push(report);
        if !busy {
            break;
        }
        clock.advance(every);
    }
    reports
}

/// Walmart's floor for sending `changed` values by feed: one submission per `per_feed` items, and
/// one status call per 1,000 items of results (the first also says the feed is done).
fn feed_floor(changed: u64, per_feed: u64) -> u64 {
    if changed == 0 {
        return 0;
    }
    changed.div_ceil(per_feed) + changed.div_ceil(1_000)
}

fn row(phase: &str, changed: u64, floor: Option<u64>, cost: &Cost) {
    let endpoints: Vec<String> = cost
        .walmart
        .iter()
        .map(|(k, v)| format!("{} {v}", short(k)))
        .collect();
    let per_k = if changed == 0 {
        "-".to_owned()
    } else {
        format!(
            "{:.1}",
            cost.cpu.as_secs_f64() * 1000.0 / (changed as f64 / 1000.0)
        )
    };
    println!(
        "| {phase} | {changed} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} |",
        cost.walmart_total(),
        floor.map_or("-".to_owned(), |f| f.to_string()),
        endpoints.join(", "),
        cost.commerce,
        cost.store.reads(),
        cost.store.writes(),
        cost.cpu.as_millis(),
        cost.wall.as_secs_f64(),
        per_k
    );
}

fn short(endpoint: &str) -> String {
    endpoint
        .replace("POST /v3/feeds?feedType=", "feed ")
        .replace("GET /v3/feeds/{feedId}", "feed status")
        .replace("POST /v3/token", "token")
        .replace("PUT /v3/", "PUT ")
        .replace("GET /v3/", "GET ")
}

fn main() {
    let skus: usize = std::env::var("CATALOG_BENCH_SKUS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench(skus));
}

async fn bench(n: usize) {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let sandboxes = Sandboxes::start_default(clock.clone() as Arc<dyn Clock>)
        .await
        .unwrap();
    let settings = ChannelSettings::with_defaults(ChannelId::new("bench").unwrap());
    let started = Instant::now();
    let seeded = seed_catalog(&sandboxes, "BEN-", n, 0, 0).await;
    eprintln!(
        "seeded {} products in {:.1}s",
        seeded.matching.len(),
        started.elapsed().as_secs_f64()
    );
    let bench = Bench {
        store: Arc::new(CountingStore::new(Arc::new(EmbeddedStore::in_memory()))),
        queues: Arc::new(EmbeddedQueues::in_memory(
            queue_settings(),
            clock.clone() as Arc<dyn Clock>,
        )),
        endpoints: sandboxes.endpoints(&settings.store_code),
        secrets: sandboxes.secrets(),
        settings,
        clock,
        sandboxes,
    };
    let skus = seeded.matching;
    let total = skus.len() as u64;

    println!("Catalog of {total} SKUs; Walmart's rate limits enforced; every count is for the whole step.");
    println!();
    println!(
        "| step | SKUs changed | Walmart calls | floor | Walmart calls by endpoint | Commerce calls | store reads | store writes | CPU ms | wall s | CPU ms per 1,000 changed |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");

    // The whole catalog, once: import, match, first quantities, first price check.
    let (_, cost) = bench
        .measure(|ch| async move {
            let mut reports = vec![catalog_import::run_scheduled(&ch, &deadline()).await.unwrap()];
            let (_, failed) = drain(&ch, Operation::CatalogImport).await;
            assert_eq!(failed, 0);
            reports.push(RunReport::default());
            reports
        })
        .await;
    row("catalog-import: whole catalog new", total, None, &cost);

    bench.advance(Duration::from_secs(61));
    let clock = bench.clock.clone();
    let (reports, cost) = bench
        .measure(move |ch| async move {
            let mut reports =
                until_settled(&ch, &clock, Operation::ListingMatch, Duration::from_secs(61), 10).await;
            drain(&ch, Operation::ListingMatch).await;
            reports.push(RunReport::default());
            reports
        })
        .await;
    let matched: u64 = reports
        .iter()
        .map(|r| r.count(operations::Counter::Matched))
        .sum();
    assert_eq!(matched, total, "every SKU matched");
    row(
        "listing-match: whole catalog",
        total,
        Some(feed_floor(total, 10_000)),
        &cost,
    );

    bench.advance(Duration::from_secs(300));
    let clock = bench.clock.clone();
    let (_, cost) = bench
        .measure(move |ch| async move {
            until_settled(
                &ch,
                &clock,
                Operation::InventorySync,
                Duration::from_secs(300),
                10,
            )
            .await
        })
        .await;
    row(
        "inventory-sync: first quantities",
        total,
        Some(feed_floor(total, 100_000)),
        &cost,
    );

    bench.advance(Duration::from_secs(120));
    let clock = bench.clock.clone();
    let (_, cost) = bench
        .measure(move |ch| async move {
            until_settled(&ch, &clock, Operation::PriceSync, Duration::from_secs(120), 10).await
        })
        .await;
    row(
        "price-sync: first check (prices came with the match)",
        0,
        Some(0),
        &cost,
    );

    // Past the window in which streams re-read their newest changes (late commits).
    bench.advance(Duration::from_secs(660));
    let (_, cost) = bench
        .measure(|ch| async move {
            vec![
                inventory_sync::run_scheduled(&ch, &deadline()).await.unwrap(),
                price_sync::run_scheduled(&ch, &deadline()).await.unwrap(),
                catalog_import::run_scheduled(&ch, &deadline()).await.unwrap(),
            ]
        })
        .await;
    row(
        "idle: one run each of inventory, price and import, nothing changed",
        0,
        Some(0),
        &cost,
    );

    for percent in [1usize, 10, 100] {
        let changed: Vec<String> = skus.iter().step_by(100 / percent).cloned().collect();
        let count = changed.len() as u64;
        // An hour apart, so each percentage starts with Walmart's hourly feed budgets refilled.
        bench.advance(Duration::from_secs(3600));

        let stock: Vec<commerce_sandbox::StockChange> = changed
            .iter()
            .map(|sku| commerce_sandbox::StockChange {
                sku: sku.clone(),
                source_code: "default".into(),
                quantity: 3.0 + percent as f64,
                status: None,
            })
            .collect();
        for chunk in stock.chunks(5_000) {
            bench.sandboxes.commerce_control().set_stock(chunk).await.unwrap();
        }
        bench.advance(Duration::from_secs(300));
        let clock = bench.clock.clone();
        let (_, cost) = bench
            .measure(move |ch| async move {
                until_settled(
                    &ch,
                    &clock,
                    Operation::InventorySync,
                    Duration::from_secs(300),
                    10,
                )
                .await
            })
            .await;
        row(
            &format!("inventory-sync: stock of {percent}% changed"),
            count,
            Some(feed_floor(count, 100_000)),
            &cost,
        );

        let prices: Vec<commerce_sandbox::ProductSeed> = changed
            .iter()
            .map(|sku| commerce_sandbox::ProductSeed {
                sku: sku.clone(),
                price: Some(20.0 + percent as f64),
                ..Default::default()
            })
            .collect();
        for chunk in prices.chunks(5_000) {
            bench
                .sandboxes
                .commerce_control()
                .seed_products(chunk)
                .await
                .unwrap();
        }
        bench.advance(Duration::from_secs(120));
        let clock = bench.clock.clone();
        let (_, cost) = bench
            .measure(move |ch| async move {
                until_settled(&ch, &clock, Operation::PriceSync, Duration::from_secs(360), 20).await
            })
            .await;
        row(
            &format!("price-sync: price of {percent}% changed"),
            count,
            Some(feed_floor(count, 10_000)),
            &cost,
        );

        let names: Vec<commerce_sandbox::ProductSeed> = changed
            .iter()
            .map(|sku| commerce_sandbox::ProductSeed {
                sku: sku.clone(),
                name: Some(format!("Renamed {percent}")),
                ..Default::default()
            })
            .collect();
        for chunk in names.chunks(5_000) {
            bench
                .sandboxes
                .commerce_control()
                .seed_products(chunk)
                .await
                .unwrap();
        }
        bench.advance(Duration::from_secs(120));
        let (_, cost) = bench
            .measure(|ch| async move {
                let report = catalog_import::run_scheduled(&ch, &deadline()).await.unwrap();
                drain(&ch, Operation::CatalogImport).await;
                drain(&ch, Operation::ListingMatch).await;
                vec![report]
            })
            .await;
        row(
            &format!("catalog-import: {percent}% of products changed"),
            count,
            Some(0),
            &cost,
        );
    }
    println!();
    println!(
        "floor: feed submissions Walmart's item limits require (10,000 per match or price feed, 100,000 per \
         inventory feed) plus one feed status call per 1,000 item results; token calls come from each step's \
         fresh client, as after a Lambda cold start."
    );
    bench.sandboxes.shutdown().await;
}
