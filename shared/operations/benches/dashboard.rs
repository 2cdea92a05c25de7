//! Server time of each dashboard query at 100,000 listings and 10,000 orders: p50 and p99 of
//! repeated calls, on the embedded store and on DynamoDB and SQS on moto.
//!
//! `cargo bench -p operations --bench dashboard`. The moto half runs when `MOTO_ENDPOINT` is set
//! (a serialized moto: `tests/moto_serialized.py`), and says so when it is not.
//! `DASHBOARD_BENCH_LISTINGS`, `DASHBOARD_BENCH_ORDERS` and `DASHBOARD_BENCH_RUNS` change the sizes
//! and the calls per query (default 100,000, 10,000 and 30); `DASHBOARD_BENCH_MOTO_LISTINGS`,
//! `_MOTO_ORDERS` and `_MOTO_RUNS` those of the moto half (default the same sizes, 5 calls).
//!
//! Server time is the wall time of the `operations` call, store round trips included: what the
//! dashboard's handler waits for before it renders. The data: listings 80% Match (with the offer
//! sent), 10% Draft, 3% Processing, 7% Error; orders over 30 days, 60% shipped, 25% open, 5%
//! pending, 5% cancelled, 5% in error, each created one indexed by its Commerce number; 500 returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{
    ChannelId, ChannelSettings, CommerceOrderId, CommerceOrderLink, CommerceProductId, CustomerOrderId,
    FeedId, IncrementId, LineNumber, Listing, Money, OfferState, OrderRecord, ProductSnapshot,
    PurchaseOrderId, ReturnLine, ReturnOrderId, ReturnRecord, SentVia, Sku, Timestamp, WalmartLineStatus,
    Wpid,
};
use operations::Channel;
use operations::dashboard::listings::{ListingFilter, ListingSort, listing_counts, listing_detail, listings};
use operations::dashboard::order_list::{OrderState, find_order, order_rows};
use operations::dashboard::overview::{overview, percentile};
use operations::dashboard::return_list::return_rows;
use operations::dashboard::{CommerceOrderIndex, DateRange};
use operations::merchant::{self, Actor};
use operations::testkit::{Sandboxes, queue_settings};
use ports::{Clock, ManualClock, Records, StateStore, WorkQueue};

const NOW: i64 = 1_800_000_000_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn product(n: usize, identifier: Option<String>) -> ProductSnapshot {
    ProductSnapshot {
        product_id: CommerceProductId(n as u64 + 1),
        name: format!("Product {n}"),
        raw_identifier: identifier,
        price: Some(Money::from_cents(1000 + (n % 5000) as i64)),
        weight_lb: Some(1.0),
        special_price: None,
        enabled: true,
        updated_at: Timestamp::from_millis(NOW - 40 * DAY_MS),
    }
}

fn upc(n: usize) -> String {
    let body = format!("{:011}", 10_000_000_000u64 + n as u64);
    let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
    let odd: u32 = digits.iter().step_by(2).sum();
    let even: u32 = digits.iter().skip(1).step_by(2).sum();
    format!("{body}{}", (10 - (odd * 3 + even) % 10) % 10)
}

async fn seed_listings(store: &dyn StateStore, channel: &ChannelId, count: usize) {
    let mut batch_l = Vec::new();
    let mut batch_o = Vec::new();
    for n in 0..count {
        let sku = Sku::new(format!("SKU-{n:06}")).unwrap();
        let at = Timestamp::from_millis(NOW - 30 * DAY_MS + n as i64 * 1_000);
        let bucket = n % 100;
        let identifier = (bucket < 93).then(|| upc(n));
        let mut listing = Listing::import(channel.clone(), sku.clone(), product(n, identifier), at);
        if bucket < 80 || (90..93).contains(&bucket) {
            listing
                .submitted(FeedId::new(format!("FEED{}", n / 10_000)).unwrap(), at)
                .unwrap();
        }
        if bucket < 80 {
            listing
                .matched(Wpid::new(format!("W{n:09}")).unwrap(), true, at)
                .unwrap();
            let mut offer = OfferState::new(channel.clone(), sku);
            offer.quantity_sent((n % 50) as u32, SentVia::Single, at);
            offer.price_sent(Money::from_cents(1000 + (n % 5000) as i64), SentVia::Single, at);
            batch_o.push(offer);
        }
        batch_l.push(listing);
        if batch_l.len() == 5_000 {
            store.save_all(&batch_l).await.unwrap();
            store.save_all(&batch_o).await.unwrap();
            batch_l.clear();
            batch_o.clear();
        }
    }
    store.save_all(&batch_l).await.unwrap();
    store.save_all(&batch_o).await.unwrap();
}

fn order(n: usize, at: Timestamp) -> domain::PurchaseOrder {
    let mut order = domain::fixtures::purchase_order(
        &[(1, "SKU-000001", 1), (2, "SKU-000002", 2)],
        1999,
        WalmartLineStatus::Created,
        "STANDARD",
    );
    order.id = PurchaseOrderId::new(format!("{}", 1_796_000_000_000u64 + n as u64)).unwrap();
    order.customer_order_id = CustomerOrderId::new(format!("{}", 5_400_000_000_000u64 + n as u64)).unwrap();
    order.order_date = at;
    order
}

async fn seed_orders(
    store: &dyn StateStore,
    channel: &ChannelId,
    count: usize,
) -> (Vec<PurchaseOrderId>, Vec<String>) {
    let mut records = Vec::new();
    let mut index = Vec::new();
    let mut returns = Vec::new();
    let mut pos = Vec::new();
    let mut numbers = Vec::new();
    for n in 0..count {
        let at = Timestamp::from_millis(NOW - 30 * DAY_MS + (n as i64 * 30 * DAY_MS) / count.max(1) as i64);
        let imported = at.plus(Duration::from_secs(300));
        let mut record = OrderRecord::import(channel.clone(), order(n, at), imported);
        let bucket = n % 20;
        if bucket == 0 {
            record
                .creation_failed("Commerce refused the order".into(), 1, imported)
                .unwrap();
        } else if bucket != 1 {
            let increment = format!("{:09}", 100_000 + n);
            let link = CommerceOrderLink {
                order_id: CommerceOrderId(n as u64 + 1),
                increment_id: IncrementId::new(&increment).unwrap(),
            };
            let created = imported.plus(Duration::from_secs(60));
            record.created(link.clone(), created).unwrap();
            record.acknowledged(created).unwrap();
            index.push(CommerceOrderIndex {
                channel: channel.clone(),
                order_id: link.order_id,
                purchase_order: record.order.id.clone(),
                increment_id: Some(link.increment_id),
            });
            numbers.push(increment);
            let later = created.plus(Duration::from_secs(3600));
            if bucket == 2 {
                record.cancel(LineNumber(1), 1, later).unwrap();
                record.cancel(LineNumber(2), 2, later).unwrap();
            } else if bucket >= 8 {
                record.ship(LineNumber(1), 1, later).unwrap();
                record.ship(LineNumber(2), 2, later).unwrap();
                if returns.len() < 500 && n % 7 == 0 {
                    returns.push(ReturnRecord::receive(
                        channel.clone(),
                        ReturnOrderId::new(format!("R{n}")).unwrap(),
                        record.order.id.clone(),
                        vec![ReturnLine {
                            return_line: 1,
                            order_line: LineNumber(1),
                            sku: Sku::new("SKU-000001").unwrap(),
                            quantity: 1,
                            refund_amount: Money::from_cents(1999),
                        }],
                        later.plus(Duration::from_secs(86_400)),
                    ));
                }
            }
        }
        pos.push(record.order.id.clone());
        records.push(record);
        if records.len() == 2_000 {
            store.save_all(&records).await.unwrap();
            records.clear();
        }
    }
    store.save_all(&records).await.unwrap();
    store.save_all(&index).await.unwrap();
    store.save_all(&returns).await.unwrap();
    (pos, numbers)
}

/// Calls `f` `runs` times; returns p50 and p99 of its wall time.
async fn time<F, Fut, T>(runs: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        std::hint::black_box(f(i).await);
        samples.push(started.elapsed());
    }
    (
        percentile(&samples, 0.5).unwrap_or_default(),
        percentile(&samples, 0.99).unwrap_or_default(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

async fn run_queries(
    label: &str,
    ch: &Arc<Channel>,
    runs: usize,
    listings_count: usize,
    pos: &[PurchaseOrderId],
    numbers: &[String],
) {
    let actor = Actor::new("bench");
    merchant::pause(ch, &actor, domain::Operation::PriceSync)
        .await
        .unwrap();
    merchant::resume(ch, &actor, domain::Operation::PriceSync)
        .await
        .unwrap();
    let mut results: BTreeMap<&str, (Duration, Duration)> = BTreeMap::new();
    let sku = |i: usize| Sku::new(format!("SKU-{:06}", (i * 7_919) % listings_count.max(1))).unwrap();
    let week = DateRange {
        from: Some(Timestamp::from_millis(NOW - 7 * DAY_MS)),
        to: None,
    };
    results.insert("overview", time(runs, |_| overview(ch)).await);
    // The first call counts; the rest read the kept counts.
    results.insert(
        "listing counts (recounted)",
        time(runs.min(5), |_| listing_counts(ch, Duration::ZERO)).await,
    );
    results.insert(
        "listing counts (kept 60 s)",
        time(runs, |_| listing_counts(ch, Duration::from_secs(60))).await,
    );
    results.insert(
        "listings: all, SKU order, page 50",
        time(runs, |_| {
            listings(ch, ListingFilter::All, ListingSort::SkuAscending, None, 50, None)
        })
        .await,
    );
    results.insert(
        "listings: Error, SKU order, page 50",
        time(runs, |_| {
            listings(
                ch,
                ListingFilter::Status(domain::ListingStatus::Error),
                ListingSort::SkuAscending,
                None,
                50,
                None,
            )
        })
        .await,
    );
    results.insert(
        "listings: Match, newest change, page 50",
        time(runs, |_| {
            listings(
                ch,
                ListingFilter::Status(domain::ListingStatus::Match),
                ListingSort::ChangedNewest,
                None,
                50,
                None,
            )
        })
        .await,
    );
    results.insert(
        "listings: SKU prefix search",
        time(runs, |i| {
            let prefix = format!("SKU-0{:02}", i % 100);
            async move {
                listings(
                    ch,
                    ListingFilter::All,
                    ListingSort::SkuAscending,
                    Some(&prefix),
                    50,
                    None,
                )
                .await
            }
        })
        .await,
    );
    results.insert(
        "listing detail",
        time(runs, |i| {
            let sku = sku(i);
            async move { listing_detail(ch, &sku).await }
        })
        .await,
    );
    results.insert(
        "orders: all states, page 50",
        time(runs, |_| order_rows(ch, None, DateRange::default(), 50, None)).await,
    );
    results.insert(
        "orders: Open, last 7 days, page 50",
        time(runs, |_| order_rows(ch, Some(OrderState::Open), week, 50, None)).await,
    );
    results.insert(
        "order by purchase order",
        time(runs, |i| {
            let po = pos[(i * 131) % pos.len()].to_string();
            async move { find_order(ch, &po).await }
        })
        .await,
    );
    results.insert(
        "order by Commerce number",
        time(runs, |i| {
            let number = numbers[(i * 131) % numbers.len()].clone();
            async move { find_order(ch, &number).await }
        })
        .await,
    );
    results.insert(
        "returns: all states, page 50",
        time(runs, |_| return_rows(ch, None, DateRange::default(), 50, None)).await,
    );
    results.insert(
        "recent actions",
        time(runs, |_| {
            merchant::recent_actions(ch.store.as_ref(), &ch.settings.id, 50, None)
        })
        .await,
    );
    println!("\n{label}: server time per query, {runs} calls each (p50 / p99, ms)");
    println!("| query | p50 ms | p99 ms |");
    println!("|---|---:|---:|");
    for (query, (p50, p99)) in results {
        println!("| {query} | {} | {} |", ms(p50), ms(p99));
    }
}

fn main() {
    let listings_count = env_usize("DASHBOARD_BENCH_LISTINGS", 100_000);
    let orders_count = env_usize("DASHBOARD_BENCH_ORDERS", 10_000);
    let runs = env_usize("DASHBOARD_BENCH_RUNS", 30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(NOW)));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let sandboxes = Sandboxes::start_default(dyn_clock.clone()).await.unwrap();
        let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        println!("dashboard queries at {listings_count} listings and {orders_count} orders");

        let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::in_memory());
        let queues: Arc<dyn WorkQueue> =
            Arc::new(EmbeddedQueues::in_memory(queue_settings(), dyn_clock.clone()));
        let ch = Arc::new(sandboxes.channel(settings.clone(), store.clone(), queues, dyn_clock.clone()));
        let started = Instant::now();
        seed_listings(store.as_ref(), &settings.id, listings_count).await;
        let (pos, numbers) = seed_orders(store.as_ref(), &settings.id, orders_count).await;
        println!(
            "embedded store seeded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        run_queries("embedded store", &ch, runs, listings_count, &pos, &numbers).await;

        match std::env::var("MOTO_ENDPOINT") {
            Err(_) => println!(
                "\nmoto: skipped (MOTO_ENDPOINT is not set; start tests/moto_serialized.py and export \
                 MOTO_ENDPOINT=http://127.0.0.1:PORT to measure DynamoDB and SQS)"
            ),
            Ok(endpoint) => {
                let config = test_support::moto_sdk_config().await;
                let dynamo = aws_sdk_dynamodb::Client::new(&config);
                let table = test_support::unique_name("cm-dashboard-bench");
                adapters_aws::create_table(&dynamo, &table).await.unwrap();
                let sqs = aws_sdk_sqs::Client::new(&config);
                let mut urls = BTreeMap::new();
                for (queue, settings) in queue_settings() {
                    let url = adapters_aws::create_queue_with_dlq(
                        &sqs,
                        &test_support::unique_name(queue.as_str()),
                        settings,
                    )
                    .await
                    .unwrap();
                    urls.insert(queue, url);
                }
                let store: Arc<dyn StateStore> = Arc::new(adapters_aws::DynamoDbStore::new(dynamo, table));
                let queues: Arc<dyn WorkQueue> = Arc::new(adapters_aws::SqsQueues::new(sqs, urls));
                let ch = Arc::new(sandboxes.channel(settings.clone(), store.clone(), queues, dyn_clock));
                let listings_count = env_usize("DASHBOARD_BENCH_MOTO_LISTINGS", listings_count);
                let orders_count = env_usize("DASHBOARD_BENCH_MOTO_ORDERS", orders_count);
                let started = Instant::now();
                seed_listings(store.as_ref(), &settings.id, listings_count).await;
                let (pos, numbers) = seed_orders(store.as_ref(), &settings.id, orders_count).await;
                println!(
                    "\nmoto ({endpoint}): {listings_count} listings and {orders_count} orders seeded in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                let runs = env_usize("DASHBOARD_BENCH_MOTO_RUNS", 5);
                run_queries(
                    "DynamoDB and SQS on moto",
                    &ch,
                    runs,
                    listings_count,
                    &pos,
                    &numbers,
                )
                .await;
            }
        }
        sandboxes.shutdown().await;
    });
}
