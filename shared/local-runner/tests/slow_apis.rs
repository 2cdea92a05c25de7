//! The demo with every Walmart and Commerce call slowed to minutes of scenario time: claims' leases
//! run out under live holders, the sweep re-queues orders still being placed, and deliveries meet
//! claims held by others. Still exactly one Commerce order per purchase order, and no order-create
//! message dead-lettered.

use std::path::PathBuf;

use local_runner::demo::{self, DemoOptions, DemoOutcome};
use local_runner::scenario::ScenarioParams;
use ports::QueueName;
use sandbox_kit::FaultPlan;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_apis_still_give_one_commerce_order_per_purchase_order_and_no_dead_letter() {
    let dir = temp_dir("demo-slow-apis");
    let params = ScenarioParams {
        products: 20,
        orders: 4,
        hours: 3.0,
        seed: 11,
    };
    let mut options = DemoOptions::new(params, 1440.0, dir.clone()).unwrap();
    // 250 ms per call at x1440 is six minutes of scenario time: a cart-flow placement (about eight
    // calls) takes most of an hour, far past a 15-minute lease and the sweep's re-queue delay.
    options.sandbox_faults = FaultPlan {
        latency_ms: 250,
        ..FaultPlan::default()
    };
    let outcome = demo::run(options, std::future::pending()).await.unwrap();
    let summary = match outcome {
        DemoOutcome::Finished(summary) => summary,
        other => panic!("the demo did not finish: {other:?}"),
    };
    let text = summary.render();
    println!("{text}");

    let once = summary
        .invariants
        .iter()
        .find(|c| c.name == "every Walmart order has exactly one Commerce order")
        .expect("the order invariant is checked");
    assert!(once.checked > 0, "buyers placed orders\n{text}");
    assert!(once.holds(), "{:?}\n{text}", once.broken);
    assert!(
        summary
            .dead_letters
            .get(&QueueName::OrderCreate)
            .is_none_or(Vec::is_empty),
        "no order-create message dead-lettered\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
