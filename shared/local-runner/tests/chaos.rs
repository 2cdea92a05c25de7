//! `demo --chaos` in CI: a few fixed seeds of a short day, each with faults in both sandboxes,
//! killed invocations, duplicate and late messages, doubled ticks and concurrent runs. Every
//! invariant (read from the sandboxes' own records) must hold after the settle phase, and whatever
//! was dead-lettered must have been redriven and handled. Kills land at points drawn from the seed
//! (before the k-th state store call of an invocation), not at wall-clock moments; the invariants
//! must hold whatever the interleaving, so a busy machine changes the path, never the verdict. The
//! long run over many seeds is `local-runner chaos --seeds N` (figures in docs/reliability.md).

use std::path::PathBuf;

use local_runner::chaos::kind;
use local_runner::demo::{self, DemoOptions, DemoOutcome};
use local_runner::scenario::ScenarioParams;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const ORDERS: usize = 6;

async fn chaos_day(seed: u64) {
    let dir = temp_dir(&format!("chaos-{seed}"));
    let params = ScenarioParams {
        products: 30,
        orders: ORDERS,
        hours: 2.0,
        seed,
    };
    let mut options = DemoOptions::new(params, 720.0, dir.clone()).unwrap();
    options.chaos = Some(seed);
    let summary = match demo::run(options, std::future::pending()).await.unwrap() {
        DemoOutcome::Finished(summary) => summary,
        other => panic!("the demo did not finish: {other:?}"),
    };
    let text = summary.render();
    println!("{text}");
    let chaos = summary.chaos.as_ref().expect("a chaos report");
    assert_eq!(chaos.seed, seed);
    assert!(chaos.total() > 0, "chaos injected something\n{text}");
    assert!(
        chaos.count(kind::DUPLICATED) + chaos.count(kind::TICK_TWICE) > 0,
        "{text}"
    );
    assert!(text.contains(&format!("Chaos (seed {seed})")), "{text}");
    for check in &summary.invariants {
        assert!(
            check.holds(),
            "seed {seed}: {}: {:?}\n{text}",
            check.name,
            check.broken
        );
    }
    assert_eq!(summary.facts.settled, Some(true), "{text}");
    assert!(
        summary.dead_letters.is_empty(),
        "dead letters are redriven and handled\n{text}"
    );
    assert_eq!(summary.orders.placed, Some(ORDERS), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_seed_2_keeps_every_invariant() {
    chaos_day(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_seed_3_keeps_every_invariant() {
    chaos_day(3).await;
}
