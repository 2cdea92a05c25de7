//! The engine's Lambda semantics with handler tables of the test's own, over the embedded adapters
//! and both sandboxes on loopback: deletes on success, redelivery after the visibility timeout,
//! dead letters after the template's maximum receives, runs that never overlap, panics reported as
//! failures, a stop that lets in-flight work finish, and queued work surviving a restart.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{ChannelId, ChannelSettings, Operation};
use local_runner::activity::Activity;
use local_runner::engine::{Engine, EngineConfig, HandlerTable};
use local_runner::plan::Plan;
use operations::registry::{Handlers, Message};
use operations::{Channel, OpError, RunReport};
use ports::{
    BoxFuture, Clock, Deadline, Expect, Item, Key, ManualClock, OutgoingMessage, QueueName, ScaledClock,
    StateStore, SystemClock, WorkQueue,
};
use serde_json::json;

/// Fast enough that the template's visibility timeouts (minutes) pass in milliseconds.
const SCALE: f64 = 20_000.0;

async fn mark(ch: &Channel, key: String) {
    ch.store
        .put(
            Item {
                key: Key::new("TEST", key),
                index: None,
                expires_at: None,
                body: json!({}),
            },
            Expect::Any,
        )
        .await
        .expect("mark");
}

async fn marked(store: &dyn StateStore, key: &str) -> bool {
    store.get(&Key::new("TEST", key)).await.expect("get").is_some()
}

/// Polls `condition` until it holds; fails the test (naming `what`) if it never does.
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let give_up = tokio::time::Instant::now() + Duration::from_secs(60);
    while !condition().await {
        assert!(tokio::time::Instant::now() < give_up, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `ok:N` succeeds, `fail:N` always fails, `flaky:N` fails on its first delivery, `slow:N` takes a
/// moment of wall time. Every attempt is marked in the store.
fn handle_message(
    ch: Arc<Channel>,
    m: Message,
    _deadline: Deadline,
) -> BoxFuture<'static, Result<(), OpError>> {
    Box::pin(async move {
        mark(&ch, format!("attempt:{}:{}", m.body, m.receive_count)).await;
        let (kind, _) = m.body.split_once(':').unwrap_or((m.body.as_str(), ""));
        match kind {
            "fail" => Err(OpError::Invalid(format!("{} never works", m.body))),
            "flaky" if m.receive_count == 1 => Err(OpError::Busy(m.body.clone())),
            "slow" => {
                mark(&ch, format!("started:{}", m.body)).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                mark(&ch, format!("handled:{}", m.body)).await;
                Ok(())
            }
            _ => {
                mark(&ch, format!("handled:{}", m.body)).await;
                Ok(())
            }
        }
    })
}

fn succeed_always(
    ch: Arc<Channel>,
    m: Message,
    _deadline: Deadline,
) -> BoxFuture<'static, Result<(), OpError>> {
    Box::pin(async move {
        mark(&ch, format!("handled:{}:{}", m.body, m.receive_count)).await;
        Ok(())
    })
}

fn fail_always(ch: Arc<Channel>, m: Message, _deadline: Deadline) -> BoxFuture<'static, Result<(), OpError>> {
    Box::pin(async move {
        mark(&ch, format!("attempt:{}:{}", m.body, m.receive_count)).await;
        Err(OpError::Busy("not today".into()))
    })
}

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST_AT_ONCE: AtomicUsize = AtomicUsize::new(0);
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Takes four of its own schedule periods (order-import runs every 5 minutes).
fn long_run(ch: Arc<Channel>, _deadline: Deadline) -> BoxFuture<'static, Result<RunReport, OpError>> {
    Box::pin(async move {
        let now_running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        MOST_AT_ONCE.fetch_max(now_running, Ordering::SeqCst);
        ch.clock.sleep(Duration::from_secs(20 * 60)).await;
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        RUNS.fetch_add(1, Ordering::SeqCst);
        let mut report = RunReport::new(Operation::OrderImport);
        report.add(operations::Counter::OrdersImported, 2);
        report.problem("PO 7: a problem worth reporting");
        Ok(report)
    })
}

fn panics(_ch: Arc<Channel>, _deadline: Deadline) -> BoxFuture<'static, Result<RunReport, OpError>> {
    Box::pin(async move { panic!("a bug in a scheduled run") })
}

fn queue_table(op: Operation) -> Handlers {
    match op {
        Operation::OrderCreate => Handlers {
            queue: Some((QueueName::OrderCreate, handle_message)),
            schedule: None,
        },
        _ => Handlers::default(),
    }
}

fn schedule_table(op: Operation) -> Handlers {
    match op {
        Operation::OrderImport => Handlers {
            queue: None,
            schedule: Some(long_run),
        },
        Operation::ShipmentSync => Handlers {
            queue: None,
            schedule: Some(panics),
        },
        _ => Handlers::default(),
    }
}

fn failing_table(op: Operation) -> Handlers {
    match op {
        Operation::OrderCreate => Handlers {
            queue: Some((QueueName::OrderCreate, fail_always)),
            schedule: None,
        },
        _ => Handlers::default(),
    }
}

fn succeeding_table(op: Operation) -> Handlers {
    match op {
        Operation::OrderCreate => Handlers {
            queue: Some((QueueName::OrderCreate, succeed_always)),
            schedule: None,
        },
        _ => Handlers::default(),
    }
}

struct Rig {
    sandboxes: operations::testkit::Sandboxes,
    clock: Arc<ScaledClock>,
    plan: Plan,
}

impl Rig {
    async fn new() -> Self {
        let clock = Arc::new(ScaledClock::new(SystemClock.now(), SCALE));
        let sandboxes = operations::testkit::Sandboxes::start_default(clock.clone())
            .await
            .expect("sandboxes");
        Self {
            sandboxes,
            clock,
            plan: Plan::from_embedded_template().expect("plan"),
        }
    }

    fn channel(&self, store: Arc<dyn StateStore>, queues: Arc<dyn WorkQueue>) -> Arc<Channel> {
        let settings = ChannelSettings::with_defaults(ChannelId::new("main").expect("id"));
        Arc::new(
            self.sandboxes
                .channel(settings, store, queues, self.clock.clone()),
        )
    }

    /// A clock for the queues' visibility timeouts that only the test moves. On the scaled clock a
    /// visibility timeout passes in milliseconds of wall time, so on a busy machine a message could
    /// come back while its handler still runs (the engine's heartbeat late): handled twice, by luck.
    fn queue_clock(&self) -> Arc<ManualClock> {
        Arc::new(ManualClock::at(self.clock.now()))
    }

    fn start(&self, channel: Arc<Channel>, handlers: HandlerTable, activity: &Activity) -> Engine {
        Engine::start(EngineConfig {
            channel,
            clock: self.clock.clone(),
            plan: self.plan.clone(),
            handlers,
            activity: activity.clone(),
            chaos: None,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_deleted_retried_and_dead_lettered_as_lambda_does() {
    let rig = Rig::new().await;
    let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::in_memory());
    // Moved only once every delivery so far is handled, failed and (if handled) deleted.
    let queue_clock = rig.queue_clock();
    let queues = Arc::new(EmbeddedQueues::in_memory(
        rig.plan.queues.clone(),
        queue_clock.clone(),
    ));
    let activity = Activity::new();
    let engine = rig.start(rig.channel(store.clone(), queues.clone()), queue_table, &activity);
    let wiring = engine.wiring();
    let order_create = wiring
        .iter()
        .find(|w| w.operation == Operation::OrderCreate)
        .unwrap();
    assert_eq!(order_create.queue, Some(QueueName::OrderCreate));
    assert!(
        wiring
            .iter()
            .find(|w| w.operation == Operation::OrderImport)
            .unwrap()
            .schedule_without_handler
    );

    let bodies = ["ok:1", "ok:2", "ok:3", "ok:4", "ok:5", "fail:1", "flaky:1"];
    queues
        .send_all(
            QueueName::OrderCreate,
            bodies.iter().map(|b| OutgoingMessage::new(*b)).collect(),
        )
        .await
        .unwrap();
    let settings = &rig.plan.queues[&QueueName::OrderCreate];
    let max_receives = settings.max_receives;
    // Delivery n of every message still queued: the five good ones handled at the first, flaky:1 at
    // the second, fail:1 failing every time until its receives are used up.
    for n in 1..=max_receives {
        let (handled, failed, left) = if n == 1 { (5, 2, 2) } else { (6, n + 1, 1) };
        eventually(&format!("delivery {n} settled"), || {
            let (activity, queues) = (activity.clone(), queues.clone());
            async move {
                let tally = activity.of(Operation::OrderCreate);
                tally.messages_handled == handled
                    && tally.messages_failed == u64::from(failed)
                    && queues.depth(QueueName::OrderCreate) == left
            }
        })
        .await;
        queue_clock.advance(settings.visibility_timeout + Duration::from_secs(1));
    }
    eventually("the bad message dead-lettered", || {
        let queues = queues.clone();
        async move {
            !queues
                .dead_letters(QueueName::OrderCreate, 10)
                .await
                .unwrap()
                .is_empty()
        }
    })
    .await;
    let stopped = engine.stop(Duration::from_secs(10)).await;
    assert_eq!(stopped.aborted, 0);

    let dead = queues.dead_letters(QueueName::OrderCreate, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "fail:1");
    for n in 1..=max_receives {
        assert!(
            marked(store.as_ref(), &format!("attempt:fail:1:{n}")).await,
            "attempt {n}"
        );
    }
    assert!(
        !marked(store.as_ref(), &format!("attempt:fail:1:{}", max_receives + 1)).await,
        "no receive after the maximum"
    );
    assert!(
        marked(store.as_ref(), "attempt:flaky:1:2").await,
        "redelivered after the visibility timeout"
    );
    assert!(
        !marked(store.as_ref(), "attempt:ok:1:2").await,
        "a handled message is deleted"
    );
    assert_eq!(queues.depth(QueueName::OrderCreate), 0);
    let tally = activity.of(Operation::OrderCreate);
    assert_eq!(tally.messages_handled, 6);
    assert_eq!(tally.messages_failed, u64::from(max_receives) + 1);
    assert!(
        tally
            .failures
            .keys()
            .any(|r| r.contains("InvalidInput") && r.contains("fail:1"))
    );
    rig.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_runs_never_overlap_and_a_panic_is_a_failure() {
    let rig = Rig::new().await;
    let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::in_memory());
    let queues = Arc::new(EmbeddedQueues::in_memory(
        rig.plan.queues.clone(),
        rig.clock.clone(),
    ));
    let activity = Activity::new();
    let started_at = rig.clock.now();
    let engine = rig.start(rig.channel(store, queues), schedule_table, &activity);
    eventually("three long runs and a panicking one", || {
        let activity = activity.clone();
        async move {
            RUNS.load(Ordering::SeqCst) >= 3 && activity.of(Operation::ShipmentSync).scheduled_failures >= 1
        }
    })
    .await;
    engine.stop(Duration::from_secs(10)).await;

    assert_eq!(
        MOST_AT_ONCE.load(Ordering::SeqCst),
        1,
        "a run never overlaps itself"
    );
    let import = activity.of(Operation::OrderImport);
    assert!(import.scheduled_runs >= 3);
    assert!(
        import.skipped_ticks >= 3,
        "ticks inside a long run are skipped: {import:?}"
    );
    assert_eq!(
        import.report_counts["orders_imported"],
        2 * import.scheduled_runs,
        "report counts add up"
    );
    assert_eq!(
        import.problems["PO 7: a problem worth reporting"],
        import.scheduled_runs
    );
    assert!(
        import
            .last_finished_run_started_at
            .is_some_and(|t| t >= started_at)
    );
    let shipments = activity.of(Operation::ShipmentSync);
    assert!(
        shipments.failures.keys().all(|r| r.contains("panicked")),
        "{shipments:?}"
    );
    rig.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_lets_in_flight_messages_finish() {
    let rig = Rig::new().await;
    let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::in_memory());
    // Never moved: the slow message is not redelivered while it runs.
    let queues = Arc::new(EmbeddedQueues::in_memory(
        rig.plan.queues.clone(),
        rig.queue_clock(),
    ));
    let activity = Activity::new();
    let engine = rig.start(rig.channel(store.clone(), queues.clone()), queue_table, &activity);
    queues
        .send(QueueName::OrderCreate, OutgoingMessage::new("slow:1"))
        .await
        .unwrap();
    eventually("the slow message started", || {
        let store = store.clone();
        async move { marked(store.as_ref(), "started:slow:1").await }
    })
    .await;
    let stopped = engine.stop(Duration::from_secs(30)).await;
    assert_eq!(stopped.aborted, 0);
    assert!(
        marked(store.as_ref(), "handled:slow:1").await,
        "finished, not cut off"
    );
    assert_eq!(queues.depth(QueueName::OrderCreate), 0, "and deleted");
    assert_eq!(activity.of(Operation::OrderCreate).messages_handled, 1);
    rig.sandboxes.shutdown().await;
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_work_and_state_survive_a_restart() {
    let rig = Rig::new().await;
    let dir = temp_dir("restart");
    let bodies = ["later:1", "later:2", "later:3"];
    // Moved once, between the two processes: each message fails once before the restart and is
    // handled once after it.
    let queue_clock = rig.queue_clock();
    {
        let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::open(&dir).unwrap());
        let queues =
            Arc::new(EmbeddedQueues::open(&dir, rig.plan.queues.clone(), queue_clock.clone()).unwrap());
        let activity = Activity::new();
        let engine = rig.start(
            rig.channel(store.clone(), queues.clone()),
            failing_table,
            &activity,
        );
        queues
            .send_all(
                QueueName::OrderCreate,
                bodies.iter().map(|b| OutgoingMessage::new(*b)).collect(),
            )
            .await
            .unwrap();
        eventually("every message tried once", || {
            let store = store.clone();
            async move {
                for body in bodies {
                    if !marked(store.as_ref(), &format!("attempt:{body}:1")).await {
                        return false;
                    }
                }
                true
            }
        })
        .await;
        engine.stop(Duration::from_secs(10)).await;
    }
    queue_clock.advance(rig.plan.queues[&QueueName::OrderCreate].visibility_timeout + Duration::from_secs(1));
    // A new process: the store and queues come back from their journals.
    let store: Arc<dyn StateStore> = Arc::new(EmbeddedStore::open(&dir).unwrap());
    let queues = Arc::new(EmbeddedQueues::open(&dir, rig.plan.queues.clone(), queue_clock.clone()).unwrap());
    assert!(
        marked(store.as_ref(), "attempt:later:1:1").await,
        "the store kept its records"
    );
    let activity = Activity::new();
    let engine = rig.start(
        rig.channel(store.clone(), queues.clone()),
        succeeding_table,
        &activity,
    );
    eventually("every queued message handled after the restart", || {
        let queues = queues.clone();
        async move { queues.depth(QueueName::OrderCreate) == 0 }
    })
    .await;
    engine.stop(Duration::from_secs(10)).await;
    assert_eq!(activity.of(Operation::OrderCreate).messages_handled, 3);
    let handled: Vec<String> = ports::query_all(store.as_ref(), ports::Query::partition("TEST"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.item.key.sk)
        .filter(|k| k.starts_with("handled:"))
        .collect();
    assert_eq!(handled.len(), 3, "{handled:?}");
    assert!(
        handled.iter().all(|k| !k.ends_with(":1")),
        "each is a redelivery, not a new message: {handled:?}"
    );
    rig.sandboxes.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
