//! inventory-sync on the embedded adapters, against both sandboxes over loopback HTTP, one manual
//! clock for everything. Walmart's rate limits are on (the sandbox's default).

use std::sync::Arc;
use std::time::Duration;

use commerce_sandbox::StockChange;
use domain::{
    ChannelId, ChannelSettings, InventoryRules, MethodCode, OfferState, Operation, PurchaseOrderId, SentVia,
    Sku, StockSource, Timestamp,
};
use operations::testkit::{Sandboxes, drain, seed_catalog, seed_live_listings};
use operations::{Channel, RunReport, inventory_sync};
use ports::commerce::OrderPlacement;
use ports::records::offer_key;
use ports::{Clock, Deadline, ManualClock, Records};

const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

struct Fixture {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
    skus: Vec<String>,
}

/// `count` live listings, synced at 10 units each.
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
    f.clock.advance(Duration::from_secs(300));
    let report = inventory_sync::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    report
}

async fn set_stock(f: &Fixture, changes: &[(&str, f64)]) {
    let changes: Vec<StockChange> = changes
        .iter()
        .map(|(sku, quantity)| StockChange {
            sku: (*sku).to_owned(),
            source_code: "default".into(),
            quantity: *quantity,
            status: None,
        })
        .collect();
    f.sandboxes.commerce_control().set_stock(&changes).await.unwrap();
}

async fn on_walmart(f: &Fixture, sku: &str) -> Option<u32> {
    f.sandboxes.walmart_control().inventory_of(sku).await.unwrap()
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

fn assert_no_429(stats: &std::collections::BTreeMap<String, walmart_sandbox::EndpointCounters>) {
    assert!(stats.values().all(|s| s.throttled == 0), "{stats:?}");
}

#[tokio::test]
async fn stock_changes_reach_walmart_once_and_only_when_they_differ() {
    let f = fixture(settings(), "INV-", 6).await;
    let first = run(&f).await;
    assert_eq!(first.count(operations::Counter::ListingsFollowed), 6, "{first:?}");
    assert_eq!(
        first.count(operations::Counter::Unchanged),
        6,
        "already in step: nothing sent"
    );
    assert_eq!(first.count(operations::Counter::QuantitiesSentSingle), 0);

    set_stock(&f, &[(&f.skus[0], 3.0), (&f.skus[1], 0.0)]).await;
    let report = run(&f).await;
    assert_eq!(report.count(operations::Counter::SourceChanges), 2, "{report:?}");
    assert_eq!(report.count(operations::Counter::QuantitiesSentSingle), 2);
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(3));
    assert_eq!(on_walmart(&f, &f.skus[1]).await, Some(0));
    let sent = offer(&f, &f.skus[0]).await.quantity.unwrap();
    assert_eq!((sent.value, sent.via), (3, SentVia::Single));

    // Reruns and redelivered urgent messages send nothing more.
    let again = run(&f).await;
    assert_eq!(
        again.count(operations::Counter::QuantitiesSentSingle)
            + again.count(operations::Counter::InventoryFeeds),
        0,
        "{again:?}"
    );
    inventory_sync::enqueue_urgent(&f.channel, &[Sku::new(f.skus[0].as_str()).unwrap()])
        .await
        .unwrap();
    inventory_sync::enqueue_urgent(&f.channel, &[Sku::new(f.skus[0].as_str()).unwrap()])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::InventorySync).await, (2, 0));
    let updates = f.sandboxes.walmart_control().inventory_updates().await.unwrap();
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_no_429(&f.sandboxes.walmart_control().stats().await.unwrap());
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn the_channels_rules_shape_the_advertised_quantity() {
    let mut s = settings();
    s.inventory = InventoryRules {
        safety_buffer: 2,
        max_advertised: Some(5),
        out_of_stock_threshold: 1,
    };
    let f = fixture(s, "RUL-", 3).await;
    let report = run(&f).await;
    assert_eq!(
        report.count(operations::Counter::QuantitiesSentSingle),
        3,
        "10 - 2 capped at 5: {report:?}"
    );
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(5));
    set_stock(&f, &[(&f.skus[0], 3.0), (&f.skus[1], 6.0)]).await;
    run(&f).await;
    assert_eq!(
        on_walmart(&f, &f.skus[0]).await,
        Some(0),
        "3 - 2 = 1 is at the threshold"
    );
    assert_eq!(on_walmart(&f, &f.skus[1]).await, Some(4));
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn orders_reduce_what_walmart_shows_through_reservations() {
    let f = fixture(settings(), "ORD-", 3).await;
    run(&f).await;
    // A Walmart order placed in Commerce reserves stock; source items do not change.
    let created = f
        .sandboxes
        .walmart_control()
        .create_order(&walmart_sandbox::NewOrder {
            lines: vec![walmart_sandbox::NewOrderLine {
                sku: f.skus[0].clone(),
                quantity: 4,
                unit_price: domain::Money::from_cents(1999),
                tax: domain::Money::ZERO,
                shipping: domain::Money::ZERO,
                product_name: None,
            }],
            ship_to: Default::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        })
        .await
        .unwrap();
    let po = PurchaseOrderId::new(created.purchase_order_id).unwrap();
    let order = f.channel.walmart.get_order(&po, &deadline()).await.unwrap().order;
    let placement =
        OrderPlacement::from_settings(&f.channel.settings.orders, &MethodCode::new("Standard").unwrap());
    f.channel
        .commerce
        .create_order_for(&order, &placement, &deadline())
        .await
        .unwrap();
    let report = run(&f).await;
    assert_eq!(report.count(operations::Counter::SourceChanges), 0, "{report:?}");
    assert_eq!(report.count(operations::Counter::OrderSkus), 1);
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(6));

    // Order-create's urgent message gets there first when it can.
    let second = f
        .sandboxes
        .walmart_control()
        .create_order(&walmart_sandbox::NewOrder {
            lines: vec![walmart_sandbox::NewOrderLine {
                sku: f.skus[1].clone(),
                quantity: 10,
                unit_price: domain::Money::from_cents(1999),
                tax: domain::Money::ZERO,
                shipping: domain::Money::ZERO,
                product_name: None,
            }],
            ship_to: Default::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        })
        .await
        .unwrap();
    let po = PurchaseOrderId::new(second.purchase_order_id).unwrap();
    let order = f.channel.walmart.get_order(&po, &deadline()).await.unwrap().order;
    f.channel
        .commerce
        .create_order_for(&order, &placement, &deadline())
        .await
        .unwrap();
    inventory_sync::enqueue_urgent(&f.channel, &[Sku::new(f.skus[1].as_str()).unwrap()])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::InventorySync).await, (1, 0));
    assert_eq!(on_walmart(&f, &f.skus[1]).await, Some(0), "sold out at once");
    let report = run(&f).await;
    assert_eq!(
        report.count(operations::Counter::QuantitiesSentSingle),
        0,
        "already sent: {report:?}"
    );
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn many_changes_go_in_one_feed_with_stock_outs_sent_first_as_single_calls() {
    let f = fixture(settings(), "MNY-", 250).await;
    run(&f).await;
    let mut changes: Vec<(&str, f64)> = f.skus.iter().map(|s| (s.as_str(), 7.0)).collect();
    for change in changes.iter_mut().take(5) {
        change.1 = 0.0;
    }
    set_stock(&f, &changes).await;
    let report = run(&f).await;
    assert_eq!(
        report.count(operations::Counter::QuantitiesSentSingle),
        5,
        "{report:?}"
    );
    assert_eq!(report.count(operations::Counter::InventoryFeeds), 1);
    assert_eq!(report.count(operations::Counter::QuantitiesSentFeed), 245);
    let updates = f.sandboxes.walmart_control().inventory_updates().await.unwrap();
    assert_eq!(updates.len(), 5, "the feed is still processing");
    assert!(updates.iter().all(|u| u.value == 0));

    // The feed finishes; its results are applied; nothing is sent twice.
    f.clock.advance(Duration::from_secs(120));
    let after = run(&f).await;
    assert_eq!(after.count(operations::Counter::FeedsSettled), 1, "{after:?}");
    assert_eq!(
        after.count(operations::Counter::QuantitiesSentSingle)
            + after.count(operations::Counter::InventoryFeeds),
        0
    );
    assert_eq!(on_walmart(&f, &f.skus[100]).await, Some(7));
    assert!(matches!(
        offer(&f, &f.skus[100]).await.quantity.unwrap().via,
        SentVia::Feed { .. }
    ));
    assert_no_429(&f.sandboxes.walmart_control().stats().await.unwrap());
    f.sandboxes.shutdown().await;
}

/// Walmart applies a feed's lines when it processes the feed, after any single call made
/// meanwhile: a newer quantity sent singly for a SKU of a feed still processing is overwritten by
/// the feed's older one. Seen in the demo (a stock change right after the first run's feed).
#[tokio::test]
async fn a_single_sent_while_an_older_feed_is_processing_is_sent_again_once_the_feed_is_done() {
    use operations::Counter;
    let f = fixture(settings(), "OVT-", 250).await;
    run(&f).await;
    let changes: Vec<(&str, f64)> = f.skus.iter().map(|s| (s.as_str(), 7.0)).collect();
    set_stock(&f, &changes).await;
    let report = run(&f).await;
    assert_eq!(report.count(Counter::QuantitiesSentFeed), 250, "{report:?}");

    // While Walmart still processes the feed, one SKU's stock changes again and an urgent
    // message sends it singly: Walmart shows it at once.
    let sku = f.skus[3].clone();
    set_stock(&f, &[(&sku, 20.0)]).await;
    inventory_sync::enqueue_urgent(&f.channel, &[Sku::new(sku.as_str()).unwrap()])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::InventorySync).await, (1, 0));
    assert_eq!(on_walmart(&f, &sku).await, Some(20));

    // Walmart processes the feed: its older line overwrites the single call.
    f.clock.advance(Duration::from_secs(120));
    assert_eq!(on_walmart(&f, &sku).await, Some(7));
    // The run that reads the feed's results sends the newer quantity again, and only that one.
    let after = run(&f).await;
    assert_eq!(after.count(Counter::FeedsSettled), 1, "{after:?}");
    assert_eq!(after.count(Counter::FeedOverwroteNewer), 1, "{after:?}");
    assert_eq!(after.count(Counter::QuantitiesSentSingle), 1, "{after:?}");
    assert_eq!(on_walmart(&f, &sku).await, Some(20));
    assert_eq!(on_walmart(&f, &f.skus[4]).await, Some(7));
    let settled = run(&f).await;
    assert_eq!(
        settled.count(Counter::QuantitiesSentSingle) + settled.count(Counter::InventoryFeeds),
        0,
        "{settled:?}"
    );
    assert_no_429(&f.sandboxes.walmart_control().stats().await.unwrap());
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn reconciliation_repairs_quantities_changed_outside_commerce() {
    let f = fixture(settings(), "DRF-", 5).await;
    run(&f).await;
    // Someone sets a quantity in Seller Center: Walmart now shows 99.
    let sku = f.skus[2].clone();
    let gtin = f.sandboxes.walmart_control().seller_item(&sku).await.unwrap()["upc"]
        .as_str()
        .unwrap()
        .to_owned();
    f.sandboxes
        .walmart_control()
        .add_seller_items(&[walmart_sandbox::SellerItemSpec {
            sku: sku.clone(),
            gtin,
            price: None,
            quantity: Some(99),
        }])
        .await
        .unwrap();
    assert_eq!(on_walmart(&f, &sku).await, Some(99));
    // Five SKUs, a daily pass: each run reads one; the drifted one is found within the pass and
    // repaired by the run that finds it.
    let mut reports = Vec::new();
    for _ in 0..5 {
        let report = run(&f).await;
        assert_eq!(report.count(operations::Counter::Reconciled), 1, "{report:?}");
        let found = report.count(operations::Counter::DriftFound) == 1;
        reports.push(report);
        if found {
            break;
        }
    }
    assert_eq!(
        reports
            .last()
            .unwrap()
            .count(operations::Counter::QuantitiesSentSingle),
        1,
        "{reports:?}"
    );
    assert_eq!(on_walmart(&f, &sku).await, Some(10), "repaired in the same run");
    for _ in 0..5 {
        assert_eq!(run(&f).await.count(operations::Counter::DriftFound), 0);
    }
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn a_run_out_of_time_leaves_its_work_for_the_next_run() {
    let f = fixture(settings(), "DLN-", 4).await;
    run(&f).await;
    set_stock(&f, &[(&f.skus[0], 1.0)]).await;
    f.clock.advance(Duration::from_secs(300));
    let cut = inventory_sync::run_scheduled(&f.channel, &Deadline::after(Duration::ZERO))
        .await
        .unwrap();
    assert!(!cut.complete, "{cut:?}");
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(10));
    let next = run(&f).await;
    assert!(next.complete);
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(1));
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn stores_without_msi_use_the_legacy_stock_and_disabled_products_show_zero() {
    let mut s = settings();
    s.stock = StockSource::Legacy;
    let f = fixture(s, "LEG-", 2).await;
    set_stock(&f, &[(&f.skus[0], 4.0)]).await;
    inventory_sync::enqueue_urgent(&f.channel, &[Sku::new(f.skus[0].as_str()).unwrap()])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::InventorySync).await, (1, 0));
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(4));

    // Disabled in Commerce (and re-imported): nothing to sell.
    f.sandboxes
        .commerce_control()
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: f.skus[1].clone(),
            status: Some(2),
            ..Default::default()
        }])
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(5));
    operations::catalog_import::import_products(
        &f.channel,
        f.channel
            .commerce
            .products_by_skus(&[Sku::new(f.skus[1].as_str()).unwrap()], &deadline())
            .await
            .unwrap(),
        &deadline(),
        &mut RunReport::default(),
    )
    .await
    .unwrap();
    inventory_sync::enqueue_urgent(&f.channel, &[Sku::new(f.skus[1].as_str()).unwrap()])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::InventorySync).await, (1, 0));
    assert_eq!(on_walmart(&f, &f.skus[1]).await, Some(0));
    f.sandboxes.shutdown().await;
}

/// Issue 12, fact 1: Magento's route 404 (`"Request does not match any route."`: MSI disabled, an
/// unknown store code) says nothing about a product. Runs and urgent messages stop before sending
/// anything, every listing keeps its quantity on Walmart, and the channel's health says what to fix.
#[tokio::test]
async fn a_route_404_stops_the_sync_and_changes_no_quantity_on_walmart() {
    use commerce_sandbox::StoreConfigChange;
    use operations::health::configuration_problem;
    use operations::registry;
    let f = fixture(settings(), "R404-", 4).await;
    run(&f).await;
    let control = f.sandboxes.commerce_control();
    let updates_before = f
        .sandboxes
        .walmart_control()
        .inventory_updates()
        .await
        .unwrap()
        .len();
    let all_skus: Vec<Sku> = f.skus.iter().map(|s| Sku::new(s.as_str()).unwrap()).collect();
    let scheduled = registry::handlers(Operation::InventorySync).schedule.unwrap();

    for (change, problem) in [
        (
            StoreConfigChange {
                msi: Some(false),
                ..Default::default()
            },
            "Multi-Source Inventory is disabled",
        ),
        (
            StoreConfigChange {
                msi: Some(true),
                store_codes: Some(vec!["us_store".into()]),
                ..Default::default()
            },
            "store code \"default\" is unknown",
        ),
    ] {
        control.change_store_config(&change).await.unwrap();
        // A stock change Walmart would otherwise hear of.
        set_stock(&f, &[(&f.skus[0], 2.0)]).await;
        f.clock.advance(Duration::from_secs(300));
        let err = inventory_sync::run_scheduled(&f.channel, &deadline())
            .await
            .unwrap_err();
        assert!(err.configuration_problem().is_some(), "{err}");
        inventory_sync::enqueue_urgent(&f.channel, &all_skus)
            .await
            .unwrap();
        let (handled, failed) = drain(&f.channel, Operation::InventorySync).await;
        assert_eq!(handled, 0, "the urgent messages wait for the fix");
        assert!(failed >= 1);
        let err = scheduled(f.channel.clone(), deadline()).await.unwrap_err();
        assert!(err.to_string().contains(problem), "{err}");
        let health = configuration_problem(f.channel.store.as_ref(), &f.channel.settings.id)
            .await
            .unwrap()
            .expect("the problem is recorded for the dashboard");
        assert!(health.problem.as_deref().unwrap().contains(problem), "{health:?}");
        assert_eq!(health.found_by.as_deref(), Some("inventory-sync"));
        for sku in &f.skus {
            assert_eq!(on_walmart(&f, sku).await, Some(10), "{sku} unchanged on Walmart");
        }
        assert_eq!(
            f.sandboxes
                .walmart_control()
                .inventory_updates()
                .await
                .unwrap()
                .len(),
            updates_before
        );
    }

    // Fixed: the next run clears the health record and the change goes through.
    control
        .change_store_config(&StoreConfigChange {
            store_codes: Some(vec!["default".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(300));
    scheduled(f.channel.clone(), deadline()).await.unwrap();
    assert!(
        configuration_problem(f.channel.store.as_ref(), &f.channel.settings.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(drain(&f.channel, Operation::InventorySync).await.1, 0);
    assert_eq!(on_walmart(&f, &f.skus[0]).await, Some(2));
    f.sandboxes.shutdown().await;
}
