//! Server time of each dashboard page at 100,000 listings and 10,000 orders, p50 and p99 by nearest
//! rank, and the store requests each page makes: on the embedded store, and on DynamoDB and SQS on
//! moto.
//!
//! `cargo bench -p dashboard --bench pages` (release profile). The moto half runs when
//! `MOTO_ENDPOINT` is set (a serialized moto: `tests/moto_serialized.py`) and says so when it is
//! not. `PAGES_BENCH_LISTINGS`, `PAGES_BENCH_ORDERS` and `PAGES_BENCH_RUNS` change the sizes and the
//! requests per page (default 100,000, 10,000 and 30); `PAGES_BENCH_MOTO_LISTINGS`, `_MOTO_ORDERS`
//! and `_MOTO_RUNS` those of the moto half (default the same sizes, 5 requests per page);
//! `PAGES_BENCH_SKIP_EMBEDDED=1` measures moto only; `PAGES_BENCH_PAGES=orders,returns` only the
//! pages whose names start with one of those words.
//!
//! Server time is what the Function URL serves: `Dashboard::handle`, from the request to the rendered
//! response, signed in (the session cookie checked, the page's store reads, the HTML). Store
//! requests are counted through the state-store port (`ports::CountingStore`): a `get` is one
//! GetItem, a `query` one Query page, a `count` one Select-COUNT query, which DynamoDB pages by
//! 1 MB read: on moto the DynamoDB client's own requests are counted too (an SDK interceptor), and
//! those are what a page costs in DynamoDB requests. The data: listings 80% Match (with the offer sent), 10% Draft, 3%
//! Processing, 7% Error, their last changes spread over 30 days; orders over 30 days, 60% shipped,
//! 25% open, 5% pending, 5% cancelled, 5% in error, each created one indexed by its Commerce number;
//! 500 returns; a few merchant actions in the activity log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use dashboard::auth::Credentials;
use dashboard::{ClientAddr, Dashboard, Options, fixture};
use domain::{
    ChannelId, ChannelSettings, CommerceOrderId, CommerceOrderLink, CommerceProductId, CustomerOrderId,
    FeedId, IncrementId, LineNumber, Listing, Money, OfferState, OrderRecord, ProductSnapshot,
    PurchaseOrderId, ReturnLine, ReturnOrderId, ReturnRecord, SentVia, Sku, Timestamp, WalmartLineStatus,
    Wpid,
};
use http::{Request, Response};
use operations::dashboard::CommerceOrderIndex;
use operations::dashboard::listings::listing_counts_key;
use operations::dashboard::overview::percentile;
use operations::merchant::{self, Actor};
use operations::testkit::{Sandboxes, queue_settings};
use ports::{Clock, CountingStore, Expect, ManualClock, Records, StateStore, StoreCounts, WorkQueue};

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

/// `n` of `count` spread over the last 30 days (oldest first).
fn within_30_days(n: usize, count: usize) -> Timestamp {
    Timestamp::from_millis(NOW - 30 * DAY_MS + (n as i64 * 30 * DAY_MS) / count.max(1) as i64)
}

async fn seed_listings(store: &dyn StateStore, channel: &ChannelId, count: usize) {
    let mut listings = Vec::new();
    let mut offers = Vec::new();
    for n in 0..count {
        let sku = Sku::new(format!("SKU-{n:06}")).unwrap();
        let at = within_30_days(n, count);
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
            offers.push(offer);
        }
        listings.push(listing);
        if listings.len() == 5_000 {
            store.save_all(&listings).await.unwrap();
            store.save_all(&offers).await.unwrap();
            listings.clear();
            offers.clear();
        }
    }
    store.save_all(&listings).await.unwrap();
    store.save_all(&offers).await.unwrap();
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

/// What the order pages look up: every purchase order, and the Commerce numbers of those created.
struct SeededOrders {
    purchase_orders: Vec<PurchaseOrderId>,
    commerce_numbers: Vec<String>,
}

async fn seed_orders(store: &dyn StateStore, channel: &ChannelId, count: usize) -> SeededOrders {
    let mut records = Vec::new();
    let mut index = Vec::new();
    let mut returns = Vec::new();
    let mut seeded = SeededOrders {
        purchase_orders: Vec::new(),
        commerce_numbers: Vec::new(),
    };
    for n in 0..count {
        let at = within_30_days(n, count);
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
            seeded.commerce_numbers.push(increment);
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
        seeded.purchase_orders.push(record.order.id.clone());
        records.push(record);
        if records.len() == 2_000 {
            store.save_all(&records).await.unwrap();
            records.clear();
        }
    }
    store.save_all(&records).await.unwrap();
    store.save_all(&index).await.unwrap();
    store.save_all(&returns).await.unwrap();
    seeded
}

/// One page to request: its name in the table, its address for the `i`th request, the status it
/// answers with, and whether the status cards' kept counts are dropped before each request.
struct PageCase {
    name: &'static str,
    uri: Box<dyn Fn(usize) -> String>,
    status: u16,
    recount: bool,
    runs: usize,
}

/// What one page measured.
struct PageFigures {
    p50: Duration,
    p99: Duration,
    /// Fewest and most store requests (gets + queries + counts) of one request, and the counts of
    /// the request with the most.
    fewest: u64,
    most: StoreCounts,
    /// Fewest and most DynamoDB requests of one request (on moto).
    dynamo: Option<(u64, u64)>,
}

/// Counts the requests a DynamoDB client sends (retries included).
#[derive(Debug, Clone, Default)]
struct DynamoRequests(Arc<AtomicU64>);

impl aws_sdk_dynamodb::config::Intercept for DynamoRequests {
    fn name(&self) -> &'static str {
        "DynamoRequests"
    }

    fn read_before_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn requests(counts: &StoreCounts) -> u64 {
    counts.reads()
}

fn cases(runs: usize, listings: usize, orders: &SeededOrders) -> Vec<PageCase> {
    let listings = listings.max(1);
    let sku = move |i: usize| format!("SKU-{:06}", (i * 7_919) % listings);
    let pos: Vec<String> = orders.purchase_orders.iter().map(ToString::to_string).collect();
    let pick = |list: &[String], i: usize| list[(i * 131) % list.len()].clone();
    let (pos_a, pos_b) = (pos.clone(), pos);
    let numbers = orders.commerce_numbers.clone();
    let week_ago = Timestamp::from_millis(NOW - 7 * DAY_MS).to_rfc3339()[..10].to_owned();
    let case = |name, status, uri: Box<dyn Fn(usize) -> String>| PageCase {
        name,
        uri,
        status,
        recount: false,
        runs,
    };
    vec![
        case("overview", 200, Box::new(|_| "/".into())),
        case(
            "listings: all, SKU order (status cards kept)",
            200,
            Box::new(|_| "/listings".into()),
        ),
        // Counting every status partition is the dearest read there is: a sixth of the requests.
        PageCase {
            recount: true,
            runs: runs.div_ceil(6),
            ..case(
                "listings: all, status cards recounted",
                200,
                Box::new(|_| "/listings".into()),
            )
        },
        case(
            "listings: page further on (after a SKU)",
            200,
            Box::new(move |i| format!("/listings?after=sku:{}", sku(i))),
        ),
        case(
            "listings: Error, SKU order",
            200,
            Box::new(|_| "/listings?status=error".into()),
        ),
        case(
            "listings: Match, newest change first",
            200,
            Box::new(|_| "/listings?status=match&sort=changed&dir=desc".into()),
        ),
        case(
            "listings: SKU prefix search",
            200,
            Box::new(|i| format!("/listings?sku=SKU-0{:02}", i % 100)),
        ),
        case(
            "listing detail (exact SKU)",
            200,
            Box::new(move |i| format!("/listings?sku={}", sku(i))),
        ),
        case("orders: all states", 200, Box::new(|_| "/orders".into())),
        case(
            "orders: Open, last 7 days",
            200,
            Box::new(move |_| format!("/orders?status=open&from={week_ago}")),
        ),
        case(
            "order search by purchase order",
            303,
            Box::new(move |i| format!("/orders?q={}", pick(&pos_a, i))),
        ),
        case(
            "order search by Commerce number",
            303,
            Box::new(move |i| format!("/orders?q={}", pick(&numbers, i))),
        ),
        case(
            "order detail",
            200,
            Box::new(move |i| format!("/orders/{}", pick(&pos_b, i))),
        ),
        case("returns: all states", 200, Box::new(|_| "/returns".into())),
        case("activity", 200, Box::new(|_| "/audit".into())),
    ]
}

fn request(method: &str, uri: &str, cookie: &str, body: String) -> Request<Vec<u8>> {
    let mut r = Request::builder()
        .method(method)
        .uri(uri)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into_bytes())
        .unwrap();
    r.extensions_mut().insert(ClientAddr("192.0.2.1".into()));
    r
}

fn first_cookie(response: &Response<Vec<u8>>) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Signs in as the fixture's merchant; returns the session cookie.
async fn sign_in(dashboard: &Dashboard) -> String {
    let login = dashboard
        .handle(request("GET", "/login", "", String::new()))
        .await;
    let login_cookie = first_cookie(&login);
    let html = std::str::from_utf8(login.body()).unwrap();
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = &html[start..start + html[start..].find('"').unwrap()];
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", token),
            ("user", fixture::USER),
            ("password", fixture::PASSWORD),
        ])
        .finish();
    let signed_in = dashboard
        .handle(request("POST", "/login", &login_cookie, form))
        .await;
    assert_eq!(signed_in.status(), 303, "signed in");
    first_cookie(&signed_in)
}

async fn measure(
    dashboard: &Dashboard,
    counting: &CountingStore,
    store: &dyn StateStore,
    channel: &ChannelId,
    session: &str,
    case: &PageCase,
    dynamo: Option<&DynamoRequests>,
) -> PageFigures {
    let mut samples = Vec::with_capacity(case.runs);
    let mut fewest = u64::MAX;
    let mut most = StoreCounts::default();
    let mut sent: Option<(u64, u64)> = None;
    for i in 0..case.runs {
        if case.recount {
            store
                .delete(&listing_counts_key(channel), Expect::Any)
                .await
                .unwrap();
        }
        let uri = (case.uri)(i);
        counting.reset();
        if let Some(d) = dynamo {
            d.0.store(0, Ordering::Relaxed);
        }
        let started = Instant::now();
        let response = dashboard
            .handle(request("GET", &uri, session, String::new()))
            .await;
        samples.push(started.elapsed());
        let counts = counting.counts();
        if let Some(d) = dynamo {
            let n = d.0.load(Ordering::Relaxed);
            sent = Some(sent.map_or((n, n), |(lo, hi)| (lo.min(n), hi.max(n))));
        }
        assert_eq!(
            response.status().as_u16(),
            case.status,
            "{uri}: {}",
            String::from_utf8_lossy(response.body())
        );
        fewest = fewest.min(requests(&counts));
        if requests(&counts) >= requests(&most) {
            most = counts;
        }
    }
    PageFigures {
        p50: percentile(&samples, 0.5).unwrap_or_default(),
        p99: percentile(&samples, 0.99).unwrap_or_default(),
        fewest,
        most,
        dynamo: sent,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Seeds the channel behind `store`, signs in and requests every page; prints the table.
#[allow(clippy::too_many_arguments)]
async fn run_pages(
    label: &str,
    sandboxes: &Sandboxes,
    settings: &ChannelSettings,
    inner: Arc<dyn StateStore>,
    queues: Arc<dyn WorkQueue>,
    clock: Arc<dyn Clock>,
    listings: usize,
    orders: usize,
    runs: usize,
    dynamo: Option<&DynamoRequests>,
) {
    let counting = Arc::new(CountingStore::new(inner.clone()));
    let channel = Arc::new(sandboxes.channel(settings.clone(), counting.clone(), queues, clock.clone()));
    let started = Instant::now();
    seed_listings(inner.as_ref(), &settings.id, listings).await;
    let seeded = seed_orders(inner.as_ref(), &settings.id, orders).await;
    let actor = Actor::new("bench");
    for operation in [domain::Operation::PriceSync, domain::Operation::InventorySync] {
        merchant::pause(&channel, &actor, operation).await.unwrap();
        merchant::resume(&channel, &actor, operation).await.unwrap();
    }
    println!(
        "\n{label}: {listings} listings and {orders} orders seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let dashboard = Dashboard::new(
        channel.clone(),
        Credentials::from_secret(&fixture::login_secret()).unwrap(),
        Options {
            https: true,
            page_size: 50,
            clock,
        },
    );
    let session = sign_in(&dashboard).await;
    let mut results: Vec<(&str, PageFigures)> = Vec::new();
    let wanted = std::env::var("PAGES_BENCH_PAGES").unwrap_or_default();
    let wanted: Vec<&str> = wanted
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    for case in cases(runs, listings, &seeded) {
        if !wanted.is_empty() && !wanted.iter().any(|w| case.name.starts_with(w)) {
            continue;
        }
        let figures = measure(
            &dashboard,
            &counting,
            inner.as_ref(),
            &settings.id,
            &session,
            &case,
            dynamo,
        )
        .await;
        println!(
            "  {}: p50 {} ms, p99 {} ms, {} requests",
            case.name,
            ms(figures.p50),
            ms(figures.p99),
            requests(&figures.most)
        );
        results.push((case.name, figures));
    }
    println!(
        "\n{label}: server time per page, {runs} requests each ({} with the status cards recounted)",
        runs.div_ceil(6)
    );
    let (column, rule) = match dynamo {
        Some(_) => (" DynamoDB requests |", "---:|"),
        None => ("", ""),
    };
    println!(
        "| page | p50 ms | p99 ms | store calls | of which gets / queries and counts / writes |{column}"
    );
    println!("|---|---:|---:|---:|---|{rule}");
    let span = |lo: u64, hi: u64| {
        if lo == hi {
            hi.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    };
    for (name, f) in results {
        let sent = f
            .dynamo
            .map(|(lo, hi)| format!(" {} |", span(lo, hi)))
            .unwrap_or_default();
        println!(
            "| {name} | {} | {} | {} | {} / {} / {} |{sent}",
            ms(f.p50),
            ms(f.p99),
            span(f.fewest, requests(&f.most)),
            f.most.gets,
            f.most.queries,
            f.most.writes()
        );
    }
}

async fn on_moto(
    sandboxes: &Sandboxes,
    settings: &ChannelSettings,
    clock: Arc<dyn Clock>,
    defaults: (usize, usize),
) {
    let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") else {
        println!(
            "\nmoto: skipped (MOTO_ENDPOINT is not set; start tests/moto_serialized.py and export \
             MOTO_ENDPOINT=http://127.0.0.1:PORT to measure DynamoDB and SQS)"
        );
        return;
    };
    let config = test_support::moto_sdk_config().await;
    let sent = DynamoRequests::default();
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(sent.clone())
            .build(),
    );
    let table = test_support::unique_name("cm-pages-bench");
    adapters_aws::create_table(&dynamo, &table).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let mut urls = BTreeMap::new();
    for (queue, settings) in queue_settings() {
        let url =
            adapters_aws::create_queue_with_dlq(&sqs, &test_support::unique_name(queue.as_str()), settings)
                .await
                .unwrap();
        urls.insert(queue, url);
    }
    let store: Arc<dyn StateStore> = Arc::new(adapters_aws::DynamoDbStore::new(dynamo, table));
    let queues: Arc<dyn WorkQueue> = Arc::new(adapters_aws::SqsQueues::new(sqs, urls));
    run_pages(
        &format!("DynamoDB and SQS on moto ({endpoint})"),
        sandboxes,
        settings,
        store,
        queues,
        clock,
        env_usize("PAGES_BENCH_MOTO_LISTINGS", defaults.0),
        env_usize("PAGES_BENCH_MOTO_ORDERS", defaults.1),
        env_usize("PAGES_BENCH_MOTO_RUNS", 5),
        Some(&sent),
    )
    .await;
}

fn main() {
    let listings = env_usize("PAGES_BENCH_LISTINGS", 100_000);
    let orders = env_usize("PAGES_BENCH_ORDERS", 10_000);
    let runs = env_usize("PAGES_BENCH_RUNS", 30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(Timestamp::from_millis(NOW)));
        let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
        let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        println!("dashboard pages at {listings} listings and {orders} orders");
        if env_usize("PAGES_BENCH_SKIP_EMBEDDED", 0) == 0 {
            let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::in_memory());
            let queues: Arc<dyn WorkQueue> =
                Arc::new(EmbeddedQueues::in_memory(queue_settings(), clock.clone()));
            run_pages(
                "embedded store",
                &sandboxes,
                &settings,
                store,
                queues,
                clock.clone(),
                listings,
                orders,
                runs,
                None,
            )
            .await;
        }
        on_moto(&sandboxes, &settings, clock, (listings, orders)).await;
        sandboxes.shutdown().await;
    });
}
