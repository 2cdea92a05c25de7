//! `run` against endpoints given as configuration (here both sandboxes stand in for Walmart and a
//! Commerce store): the channel runs on its schedules until interrupted, and a restart with the same
//! state directory continues from the state it left.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adapters_embedded::EmbeddedStore;
use domain::{ChannelId, ChannelSettings, Operation};
use local_runner::config::LiveConfig;
use local_runner::live::{self, LiveOptions};
use local_runner::state_dir::{Manifest, Status, peek_manifest};
use operations::registry::Handlers;
use operations::testkit::Sandboxes;
use operations::{Channel, OpError, RunReport};
use ports::{BoxFuture, Clock, Deadline, Expect, Item, Key, Query, SystemClock, query_all};
use serde_json::json;
use tokio::sync::oneshot;

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Counts its runs in the channel's state store: run N writes `run-N`, N read from the store.
fn counting_run(ch: Arc<Channel>, _deadline: Deadline) -> BoxFuture<'static, Result<RunReport, OpError>> {
    Box::pin(async move {
        let before = query_all(ch.store.as_ref(), Query::partition("TEST"))
            .await?
            .len();
        ch.store
            .put(
                Item {
                    key: Key::new("TEST", format!("run-{before}")),
                    index: None,
                    expires_at: None,
                    body: json!({}),
                },
                Expect::Absent,
            )
            .await?;
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(RunReport::new(Operation::OrderImport))
    })
}

fn counting_table(op: Operation) -> Handlers {
    match op {
        Operation::OrderImport => Handlers {
            queue: None,
            schedule: Some(counting_run),
        },
        _ => Handlers::default(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn run_until_runs(config: &LiveConfig, dir: &Path, runs: usize) -> live::LiveOutcome {
    let mut options = LiveOptions::new(config.clone(), dir.to_owned());
    options.handlers = counting_table;
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(live::run(options, async move {
        let _ = stopped.await;
    }));
    let give_up = tokio::time::Instant::now() + Duration::from_secs(60);
    while RUNS.load(Ordering::SeqCst) < runs {
        assert!(tokio::time::Instant::now() < give_up, "the schedule never ran");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    running.await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_continues_from_its_state_directory_after_a_restart() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sandboxes = Sandboxes::start_default(clock).await.unwrap();
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let config = LiveConfig {
        endpoints: sandboxes.endpoints(&settings.store_code),
        secrets: sandboxes.secrets(),
        settings,
        warnings: Vec::new(),
    };
    let dir = temp_dir("live");

    let first = run_until_runs(&config, &dir, 1).await;
    assert!(first.interrupted);
    assert_eq!(first.exit_code(), 130);
    assert!(
        first
            .summary
            .not_wired
            .iter()
            .any(|l| l.starts_with("order-create")),
        "{}",
        first.summary.render()
    );
    assert_eq!(
        peek_manifest(&dir),
        Some(Manifest::Run {
            channel: "main".into(),
            status: Status::Interrupted
        })
    );

    let second = run_until_runs(&config, &dir, 2).await;
    assert!(second.interrupted);
    assert_eq!(second.summary.activity[&Operation::OrderImport].scheduled_runs, 1);
    let store = EmbeddedStore::open(&dir).unwrap();
    let written: Vec<String> = query_all(&store, Query::partition("TEST"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.item.key.sk)
        .collect();
    assert_eq!(
        written,
        ["run-0", "run-1"],
        "the second run read the first one's state"
    );

    // Another channel, or a demo, may not take over the directory.
    let mut other = config.clone();
    other.settings.id = ChannelId::new("other").unwrap();
    let err = live::run(LiveOptions::new(other, dir.clone()), std::future::pending())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds channel main"), "{err}");
    sandboxes.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
