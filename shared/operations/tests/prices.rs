//! price-sync on the embedded adapters, against both sandboxes over loopback HTTP, one manual clock
//! for everything. Walmart's rate limits are on (the sandbox's default).

use std::sync::Arc;
use std::time::Duration;

use commerce_sandbox::PriceChange;
use domain::{
    ChannelId, ChannelSettings, Money, OfferState, Operation, PriceRules, Rounding, SentVia, Sku, Timestamp,
};
use operations::testkit::{Sandboxes, drain, seed_catalog, seed_live_listings};
use operations::{Channel, RunReport, price_sync};
use ports::records::offer_key;
use ports::{Clock, Deadline, ManualClock, Records};

/// 2027-01-15T08:00:00Z.
const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

struct Fixture {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
    skus: Vec<String>,
}

/// `count` live listings at 19.99, in step with Walmart.
async fn fixture(settings: ChannelSettings, prefix: &str, count: usize) -> Fixture {
    let clock = Arc::new(ManualClock::at(START));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    let seeded = seed_catalog(&sandboxes, prefix, count, 0, 0).await;
    seed_live_listings(&sandboxes, &channel, &seeded.matching, 10).await;
    Fixture {
        clock,
        sandboxes,
        channel: Arc::new(channel),
        skus: seeded.matching,
    }
}

fn settings() -> ChannelSettings {
    ChannelSettings::with_defaults(ChannelId::new("main").unwrap())
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(300))
}

async fn run(f: &Fixture) -> RunReport {
    f.clock.advance(Duration::from_secs(120));
    let report = price_sync::run_scheduled(&f.channel, &deadline()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    report
}

async fn set_price(f: &Fixture, sku: &str, change: PriceChange) {
    f.sandboxes
        .commerce_control()
        .set_price(sku, &change)
        .await
        .unwrap();
}

fn base(price: f64) -> PriceChange {
    PriceChange {
        price: Some(price),
        ..PriceChange::default()
    }
}

async fn on_walmart(f: &Fixture, sku: &str) -> Option<Money> {
    f.sandboxes.walmart_control().price_of(sku).await.unwrap()
}

async fn offer(f: &Fixture, sku: &str) -> OfferState {
    f.channel
        .store
        .load::<OfferState>(&offer_key(&f.channel.settings.id, &Sku::new(sku).unwrap()))
        .await
        .unwrap()
        .unwrap()
        .record
}

#[tokio::test]
async fn price_changes_reach_walmart_once() {
    let f = fixture(settings(), "PRC-", 4).await;
    let first = run(&f).await;
    assert_eq!(
        first.count(operations::Counter::LiveProductsChecked),
        4,
        "{first:?}"
    );
    assert_eq!(
        first.count(operations::Counter::PricesSentSingle),
        0,
        "in step already"
    );

    set_price(&f, &f.skus[0], base(24.5)).await;
    let report = run(&f).await;
    assert_eq!(
        report.count(operations::Counter::PricesSentSingle),
        1,
        "{report:?}"
    );
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(Money::from_cents(2450)));
    assert_eq!(offer(&f, &f.skus[0]).await.price.unwrap().via, SentVia::Single);

    let again = run(&f).await;
    assert_eq!(
        again.count(operations::Counter::PricesSentSingle) + again.count(operations::Counter::PriceFeeds),
        0,
        "{again:?}"
    );
    // A redelivered request sends nothing either.
    let sku = Sku::new(f.skus[0].as_str()).unwrap();
    price_sync::enqueue(&f.channel, std::slice::from_ref(&sku))
        .await
        .unwrap();
    price_sync::enqueue(&f.channel, &[sku]).await.unwrap();
    assert_eq!(drain(&f.channel, Operation::PriceSync).await, (2, 0));
    assert_eq!(
        f.sandboxes.walmart_control().price_updates().await.unwrap().len(),
        1
    );
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn the_channels_rules_apply_markup_rounding_and_minimum() {
    let mut s = settings();
    s.pricing = PriceRules {
        adjustment_percent: 10,
        rounding: Rounding::EndIn99,
        minimum: Some(Money::from_cents(1000)),
    };
    let f = fixture(s, "RLS-", 3).await;
    let report = run(&f).await;
    assert_eq!(
        report.count(operations::Counter::PricesSentSingle),
        3,
        "{report:?}"
    );
    // 19.99 + 10% = 21.989 -> 21.99 -> ends in .99.
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(Money::from_cents(2199)));
    set_price(&f, &f.skus[1], base(4.0)).await;
    run(&f).await;
    assert_eq!(
        on_walmart(&f, &f.skus[1]).await,
        Some(Money::from_cents(1000)),
        "the minimum"
    );
    f.sandboxes.shutdown().await;
}

/// Issue 12, fact 12: `special_from_date`/`special_to_date` are days in the store's time zone
/// (`general/locale/timezone`, read from `GET /V1/store/storeConfigs`; the sandbox's store is in
/// America/Chicago, UTC-6 in January), not UTC: a special price dated the 16th starts at midnight
/// of the 16th in Chicago and ends at the end of the 17th there.
#[tokio::test]
async fn special_prices_start_and_end_on_the_stores_days_without_a_product_change() {
    let f = fixture(settings(), "SPC-", 2).await;
    run(&f).await;
    set_price(
        &f,
        &f.skus[0],
        PriceChange {
            special_price: Some(15.0),
            special_from_date: Some("2027-01-16 00:00:00".into()),
            special_to_date: Some("2027-01-17 00:00:00".into()),
            ..PriceChange::default()
        },
    )
    .await;
    let before = run(&f).await;
    assert_eq!(
        before.count(operations::Counter::PricesSentSingle),
        0,
        "not yet: {before:?}"
    );
    let due = offer(&f, &f.skus[0]).await.price_due_at;
    assert_eq!(
        due,
        Timestamp::parse_commerce("2027-01-16 06:00:00").ok(),
        "midnight in Chicago"
    );

    // Already the 16th in UTC, still the 15th in the store.
    f.clock
        .set(Timestamp::parse_commerce("2027-01-16 00:00:30").unwrap());
    let utc_midnight = run(&f).await;
    assert_eq!(
        utc_midnight.count(operations::Counter::PricesSentSingle),
        0,
        "{utc_midnight:?}"
    );
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(Money::from_cents(1999)));

    f.clock
        .set(Timestamp::parse_commerce("2027-01-16 06:00:30").unwrap());
    let starts = run(&f).await;
    assert_eq!(
        starts.count(operations::Counter::SpecialPricesDue),
        1,
        "{starts:?}"
    );
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(Money::from_cents(1500)));

    // The 18th in UTC, still the 17th (the last day) in the store.
    f.clock
        .set(Timestamp::parse_commerce("2027-01-18 03:00:00").unwrap());
    run(&f).await;
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(Money::from_cents(1500)));

    f.clock
        .set(Timestamp::parse_commerce("2027-01-18 06:00:00").unwrap());
    let ends = run(&f).await;
    assert_eq!(ends.count(operations::Counter::SpecialPricesDue), 1, "{ends:?}");
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(Money::from_cents(1999)));
    assert_eq!(offer(&f, &f.skus[0]).await.price_due_at, None);
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn many_changes_go_in_one_feed_with_each_sku_once() {
    let f = fixture(settings(), "FED-", 30).await;
    run(&f).await;
    for (n, sku) in f.skus.iter().enumerate() {
        set_price(&f, sku, base(20.0 + n as f64)).await;
    }
    let report = run(&f).await;
    assert_eq!(report.count(operations::Counter::PriceFeeds), 1, "{report:?}");
    assert_eq!(report.count(operations::Counter::PricesSentFeed), 30);
    assert_eq!(report.count(operations::Counter::PricesSentSingle), 0);
    let feeds = f.sandboxes.walmart_control().feeds().await.unwrap();
    assert_eq!(feeds.len(), 1);

    f.clock.advance(Duration::from_secs(60));
    let after = run(&f).await;
    assert_eq!(after.count(operations::Counter::FeedsSettled), 1, "{after:?}");
    assert_eq!(on_walmart(&f, &f.skus[29]).await, Some(Money::from_cents(4900)));
    let updates = f.sandboxes.walmart_control().price_updates().await.unwrap();
    let skus: std::collections::BTreeSet<&str> = updates.iter().map(|u| u.sku.as_str()).collect();
    assert_eq!((updates.len(), skus.len()), (30, 30), "each SKU once");
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn single_price_calls_keep_to_walmarts_hourly_budget() {
    let f = fixture(settings(), "HRB-", 15).await;
    run(&f).await;
    // Eight rounds of fifteen changes in sixteen minutes: 120 changes, 100 single calls an hour.
    for round in 0..8 {
        for sku in &f.skus {
            set_price(&f, sku, base(10.0 + f64::from(round))).await;
        }
        let report = run(&f).await;
        let sent = report.count(operations::Counter::PricesSentSingle)
            + report.count(operations::Counter::PricesSentFeed);
        assert_eq!(sent, 15, "round {round}: {report:?}");
    }
    let stats = f.sandboxes.walmart_control().stats().await.unwrap();
    assert!(stats.values().all(|s| s.throttled == 0), "{stats:?}");
    let singles = stats.get("PUT /v3/price").map_or(0, |s| s.calls);
    assert!(singles <= 100, "{singles} single price calls in an hour");
    assert!(
        stats
            .get("POST /v3/feeds?feedType=price")
            .is_some_and(|s| s.calls >= 2),
        "the rest went by feed: {stats:?}"
    );
    f.sandboxes.shutdown().await;
}
