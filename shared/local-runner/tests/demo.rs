//! The demo, headless and short: the same scenario as `local-runner demo` (a few hours of scenario
//! time, 50 products, 10 orders, high time scale), through every operation in the registry, judged
//! by the summary's invariants. And the checks bite: without order-create the orders go missing.

use std::path::PathBuf;
use std::time::Duration;

use domain::{ListingStatus, Operation};
use local_runner::demo::{self, DemoOptions, DemoOutcome};
use local_runner::scenario::ScenarioParams;
use local_runner::summary::Summary;
use operations::registry::{Handlers, handlers};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn wired(op: Operation) -> bool {
    let h = handlers(op);
    h.schedule.is_some() || h.queue.is_some()
}

fn finished(outcome: DemoOutcome) -> Box<Summary> {
    match outcome {
        DemoOutcome::Finished(summary) => summary,
        other => panic!("the demo did not finish: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_short_demo_keeps_every_invariant() {
    let dir = temp_dir("demo-short");
    let params = ScenarioParams {
        products: 50,
        orders: 10,
        hours: 3.0,
        seed: 7,
    };
    let options = DemoOptions::new(params.clone(), 720.0, dir.clone()).unwrap();
    let summary = finished(demo::run(options, std::future::pending()).await.unwrap());
    let text = summary.render();
    println!("{text}");

    for check in &summary.invariants {
        assert!(check.holds(), "{}: {:?}\n{text}", check.name, check.broken);
    }
    assert_eq!(summary.exit_code(), 0);
    assert_eq!(summary.facts.settled, Some(true), "{text}");
    assert_eq!(summary.latency.len(), 11);
    assert!(summary.dead_letters.is_empty(), "{text}");

    // What each registered operation must have done in a day like this.
    let latency = |op: Operation| summary.latency.iter().filter(move |r| r.operation == op);
    if wired(Operation::CatalogImport) {
        assert!(
            summary.listings.total > params.products,
            "products added later are imported too\n{text}"
        );
        assert!(
            summary
                .listings
                .error_reasons
                .iter()
                .any(|r| r.code == "CM_INVALID_IDENTIFIER"),
            "bad GTINs are listing errors with a reason\n{text}"
        );
        assert!(
            latency(Operation::CatalogImport).all(|r| r.latency.samples > 0),
            "{text}"
        );
    }
    if wired(Operation::ListingMatch) {
        assert!(summary.listings.count(ListingStatus::Match) > 0, "{text}");
        assert!(
            summary
                .listings
                .error_reasons
                .iter()
                .any(|r| r.code.starts_with("ERR_EXT_DATA")),
            "Walmart's rejections come back with its code\n{text}"
        );
    }
    if wired(Operation::OrderImport) && wired(Operation::OrderCreate) && wired(Operation::InventorySync) {
        let orders = &summary.orders;
        assert_eq!(
            orders.placed,
            Some(params.orders),
            "buyers found items to buy\n{text}"
        );
        assert_eq!(orders.imported, params.orders, "{text}");
        assert_eq!(orders.created_in_commerce, params.orders, "{text}");
        for op in [
            Operation::OrderImport,
            Operation::OrderCreate,
            Operation::ShipmentSync,
        ] {
            assert!(
                latency(op).all(|r| r.latency.samples > 0),
                "{op:?} measured\n{text}"
            );
        }
    }
    if wired(Operation::ReturnsSync) {
        assert!(
            summary.orders.refunded > 0,
            "a return was refunded end to end\n{text}"
        );
    }
    assert_eq!(
        summary.api.as_ref().map(|a| a.walmart_throttled),
        Some(0),
        "{text}"
    );

    // Run again on the same directory: the finished demo is reported, not replayed.
    let again = DemoOptions::new(params, 720.0, dir.clone()).unwrap();
    match demo::run(again, std::future::pending()).await.unwrap() {
        DemoOutcome::AlreadyFinished { summary, exit_code } => {
            assert_eq!(exit_code, 0);
            assert!(summary.contains("All invariants hold."), "{summary}");
        }
        other => panic!("expected the saved summary, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The registry, less order-create.
fn without_order_create(op: Operation) -> Handlers {
    match op {
        Operation::OrderCreate => Handlers::default(),
        other => handlers(other),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_missing_in_commerce_break_an_invariant_and_the_exit_code() {
    let dir = temp_dir("demo-broken");
    let params = ScenarioParams {
        products: 20,
        orders: 3,
        hours: 2.0,
        seed: 3,
    };
    let mut options = DemoOptions::new(params, 720.0, dir.clone()).unwrap();
    options.handlers = without_order_create;
    // The stories wait for Commerce orders that never come: do not wait long for them.
    options.settle_cap = Duration::from_secs(30 * 60);
    let summary = finished(demo::run(options, std::future::pending()).await.unwrap());
    let text = summary.render();
    assert!(
        summary.not_wired.iter().any(|l| l.starts_with("order-create")),
        "{text}"
    );
    let placed = summary.orders.placed.unwrap_or(0);
    assert!(placed > 0, "buyers placed orders\n{text}");
    let exactly_once = &summary.invariants[0];
    assert_eq!(exactly_once.broken.len(), placed, "{text}");
    assert!(
        exactly_once
            .broken
            .iter()
            .all(|b| b.ends_with("no Commerce order")),
        "{text}"
    );
    assert_eq!(summary.exit_code(), local_runner::summary::EXIT_INVARIANT_BROKEN);
    assert!(
        text.contains("BROKEN every Walmart order has exactly one Commerce order"),
        "{text}"
    );
    assert!(text.contains("still waiting for its Commerce order"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12: a Commerce store not set up as the channel needs stops the channel before it sends
/// anything, and the summary and the exit code say what is wrong in one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_store_stops_the_channel_and_the_summary_says_why() {
    let params = ScenarioParams {
        products: 20,
        orders: 3,
        hours: 1.0,
        seed: 5,
    };
    // MSI disabled, and an unknown store code: found by the set-up check, before anything is sent.
    for (name, expected) in [
        ("msi-off", "Multi-Source Inventory is disabled"),
        ("store-code", "store code \"us_store\" is unknown"),
    ] {
        let dir = temp_dir(&format!("demo-{name}"));
        let mut options = DemoOptions::new(params.clone(), 720.0, dir.clone()).unwrap();
        options.settle_cap = Duration::from_secs(20 * 60);
        match name {
            "msi-off" => options.commerce_sandbox.msi = false,
            _ => options.settings.store_code = "us_store".into(),
        }
        let summary = finished(demo::run(options, std::future::pending()).await.unwrap());
        let text = summary.render();
        assert_eq!(summary.configuration.len(), 1, "{text}");
        assert!(summary.configuration[0].contains(expected), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("CONFIGURATION: Commerce configuration: ")),
            "{text}"
        );
        assert_eq!(summary.exit_code(), local_runner::EXIT_USAGE, "{text}");
        assert_eq!(
            summary.listings.total, 0,
            "nothing imported, nothing sent to Walmart\n{text}"
        );
        let api = summary.api.as_ref().unwrap();
        assert_eq!(api.walmart_calls, 0, "not one call to Walmart\n{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Issue 12, fact 8: "Purchase Order" switched off (Magento's default) is found at the first order
/// placement; no Commerce order is placed, and the channel stops selling until it is fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_payment_method_stops_the_channel_and_the_summary_says_why() {
    let params = ScenarioParams {
        products: 20,
        orders: 3,
        hours: 2.0,
        seed: 5,
    };
    let dir = temp_dir("demo-payment-off");
    let mut options = DemoOptions::new(params, 720.0, dir.clone()).unwrap();
    options.settle_cap = Duration::from_secs(30 * 60);
    options.commerce_sandbox = operations::testkit::CommerceSandboxSettings::default();
    let summary = finished(demo::run(options, std::future::pending()).await.unwrap());
    let text = summary.render();
    assert_eq!(summary.configuration.len(), 1, "{text}");
    assert!(
        summary.configuration[0].contains("payment method \"purchaseorder\" is not available"),
        "{text}"
    );
    assert!(
        summary.configuration[0].contains("found by order-create"),
        "{text}"
    );
    assert_eq!(summary.exit_code(), local_runner::EXIT_USAGE, "{text}");
    assert_eq!(summary.orders.created_in_commerce, 0, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
