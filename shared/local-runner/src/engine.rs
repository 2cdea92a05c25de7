//! Lambda's event sources, in process: one timer per schedule of the template and one event source
//! mapping per queue, dispatching through the operations' registry exactly as the Lambdas do.
//!
//! - A timer ticks at the template's `rate(...)` period (in scenario time) and runs the operation's
//!   scheduled handler with the function's timeout as its deadline. A run never overlaps itself: a
//!   tick that finds the previous run still going is skipped (and counted).
//! - A queue consumer receives up to the trigger's batch size (gathering for its batching window),
//!   runs up to `MaximumConcurrency` batches at once, and runs every message of a batch
//!   concurrently. A message whose handler succeeds is deleted; one that fails (or panics) is left
//!   alone, so it comes back after the queue's visibility timeout and, after the queue's maximum
//!   receives, lands in the dead-letter queue: the partial batch failures of the SQS glue.
//! - Stopping lets in-flight runs and batches finish (they are bounded by their deadlines) and
//!   starts nothing new.
//! - With [`Chaos`], invocations may be killed or get short deadlines, ticks fire twice or start two
//!   runs at once, and messages are delivered again, at once or late (see `chaos`).

use std::sync::Arc;
use std::time::Duration;

use domain::Operation;
use operations::Channel;
use operations::registry::{Handlers, Message, MessageHandler, ScheduleHandler};
use ports::{Clock, Deadline, Delivery, OutgoingMessage, QueueName, ScaledClock};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use crate::activity::Activity;
use crate::chaos::{Chaos, InvocationFate, KillSwitch, kind};
use crate::observe::OPERATION;
use crate::plan::{OperationPlan, Plan, QueueTriggerPlan};

/// Which handlers serve each operation: `operations::registry::handlers` (tests may pass others to
/// exercise the mechanics).
pub type HandlerTable = fn(Operation) -> Handlers;

/// How long a consumer long-polls an empty queue before checking whether it should stop.
const LONG_POLL: Duration = Duration::from_millis(200);
/// A week: beyond any run, and far from overflowing the monotonic clock at absurd time scales.
const LONGEST_DEADLINE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Pause after a failed receive, so a broken queue does not spin.
const RECEIVE_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// How one operation is wired in this process, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    pub operation: Operation,
    /// Schedule periods that run (the template's, where the operation has a scheduled handler).
    pub schedules: Vec<Duration>,
    /// The template schedules the operation but no scheduled handler is registered yet.
    pub schedule_without_handler: bool,
    pub queue: Option<QueueName>,
    /// The template triggers the operation from a queue but no message handler is registered yet.
    pub queue_without_handler: bool,
}

/// What the engine needs.
#[derive(Clone)]
pub struct EngineConfig {
    pub channel: Arc<Channel>,
    /// Scenario time: timers, deadlines and visibility timeouts follow it.
    pub clock: Arc<ScaledClock>,
    pub plan: Plan,
    pub handlers: HandlerTable,
    pub activity: Activity,
    /// `demo --chaos`: what the engine does to invocations and messages.
    pub chaos: Option<Chaos>,
}

impl EngineConfig {
    /// An invocation's deadline: the function's timeout stretched by the time scale, on the wall
    /// clock. Operations read `Deadline::remaining()` two ways: as wall time (margins to save their
    /// state, HTTP timeouts) and as clock time (idempotency leases: `now + remaining`). CPU work and
    /// HTTP calls do not compress, so with scenario time compressed a deadline of the timeout in
    /// scenario time would cut short runs a real Lambda finishes easily, and a lease of it would
    /// lapse (in scenario time) while its holder still works, letting a second invocation in. At
    /// scale 1 this is exactly the timeout; runs take milliseconds, and a run longer than its
    /// schedule period shows as skipped ticks.
    fn deadline(&self, timeout: Duration) -> Deadline {
        Deadline::after(timeout.mul_f64(self.clock.scale()).min(LONGEST_DEADLINE))
    }
}

/// The running timers and consumers.
pub struct Engine {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    wiring: Vec<Wiring>,
}

/// How a stop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    /// Tasks still running after the grace period, aborted.
    pub aborted: usize,
}

impl Engine {
    /// Starts every timer and consumer the plan and the handler table call for.
    pub fn start(config: EngineConfig) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut wiring = Vec::new();
        for plan in &config.plan.operations {
            let handlers = (config.handlers)(plan.operation);
            let mut wired = Wiring {
                operation: plan.operation,
                schedules: Vec::new(),
                schedule_without_handler: false,
                queue: None,
                queue_without_handler: false,
            };
            match handlers.schedule {
                Some(run) => {
                    // Runs of one operation never overlap, however many schedules it has.
                    let busy = Arc::new(tokio::sync::Mutex::new(()));
                    for period in &plan.schedules {
                        wired.schedules.push(*period);
                        tasks.spawn(timer(
                            config.clone(),
                            plan.clone(),
                            *period,
                            run,
                            busy.clone(),
                            stopped.clone(),
                        ));
                    }
                }
                None => wired.schedule_without_handler = !plan.schedules.is_empty(),
            }
            match handlers.queue {
                Some((queue, handle)) => {
                    let trigger = match &plan.queue_trigger {
                        Some(t) if t.queue == queue => t.clone(),
                        // A handler on a queue the template does not wire to this function: consume it
                        // with one SQS receive per batch, one batch at a time.
                        _ => QueueTriggerPlan {
                            queue,
                            batch_size: ports::queue::MAX_BATCH,
                            batching_window: Duration::ZERO,
                            max_concurrency: 1,
                        },
                    };
                    wired.queue = Some(queue);
                    tasks.spawn(consumer(
                        config.clone(),
                        plan.clone(),
                        trigger,
                        handle,
                        stopped.clone(),
                    ));
                }
                None => wired.queue_without_handler = plan.queue_trigger.is_some(),
            }
            wiring.push(wired);
        }
        Self { stop, tasks, wiring }
    }

    pub fn wiring(&self) -> &[Wiring] {
        &self.wiring
    }

    /// Stops starting work, lets in-flight runs and batches finish for up to `grace` (wall time),
    /// then aborts what is left.
    pub async fn stop(mut self, grace: Duration) -> StopReport {
        let _ = self.stop.send(true);
        let drained =
            tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} }).await;
        let aborted = if drained.is_ok() {
            0
        } else {
            let left = self.tasks.len();
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
            left
        };
        StopReport { aborted }
    }
}

/// Resolves once the stop flag is raised (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn is_stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

async fn timer(
    config: EngineConfig,
    plan: OperationPlan,
    period: Duration,
    run: ScheduleHandler,
    busy: Arc<tokio::sync::Mutex<()>>,
    mut stop: watch::Receiver<bool>,
) {
    let op = plan.operation;
    let wall_period = config.clock.to_wall(period).max(Duration::from_millis(1));
    // The first tick comes at once: a deployed schedule also fires soon after it is enabled.
    let mut ticks = tokio::time::interval(wall_period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => return,
            _ = ticks.tick() => {}
        }
        if is_stopped(&stop) {
            return;
        }
        let Ok(_running) = busy.clone().try_lock_owned() else {
            config.activity.tick_skipped(op);
            continue;
        };
        let wall_start = Instant::now();
        let fate = config.chaos.as_ref().map(|c| c.scheduled(op)).unwrap_or_default();
        // A tick fired twice runs again once the first run is done (EventBridge delivers at least
        // once); the repeat gets no chaos of its own.
        let mut fates = vec![fate];
        if fate.tick_twice {
            fates.push(InvocationFate::default());
        }
        for fate in fates {
            // Two invocations at once: the second starts with the first, on an ordinary deadline.
            let twin = fate.concurrent.then(|| {
                let started_at = config.clock.now();
                let span = tracing::info_span!("scheduled run (concurrent)", operation = op.function_name());
                let task = tokio::spawn(
                    OPERATION
                        .scope(op, run(config.channel.clone(), config.deadline(plan.timeout)))
                        .instrument(span),
                );
                (started_at, task)
            });
            let started_at = config.clock.now();
            let deadline = fate
                .deadline
                .map_or_else(|| config.deadline(plan.timeout), Deadline::after);
            let span = tracing::info_span!("scheduled run", operation = op.function_name());
            let switch = fate.kill_at_call.map(KillSwitch::at_call);
            let work = OPERATION
                .scope(op, run(config.channel.clone(), deadline))
                .instrument(span);
            let task = match &switch {
                Some(switch) => tokio::spawn(switch.clone().scope(work)),
                None => tokio::spawn(work),
            };
            if let Some(outcome) = invoke(&config, switch, task).await {
                record_run(&config, op, started_at, outcome);
            }
            if let Some((started_at, twin)) = twin {
                record_run(&config, op, started_at, twin.await);
            }
        }
        // The ticks that fell inside a long run: EventBridge would have fired them.
        let missed = wall_start.elapsed().as_nanos() / wall_period.as_nanos().max(1);
        for _ in 0..missed {
            config.activity.tick_skipped(op);
        }
    }
}

/// Awaits an invocation, killing it if it reaches its kill switch's point (`None`: killed, as a
/// Lambda timeout or crash would: whatever it did so far stays done, nothing after).
async fn invoke<T>(
    config: &EngineConfig,
    switch: Option<Arc<KillSwitch>>,
    mut task: tokio::task::JoinHandle<T>,
) -> Option<Result<T, tokio::task::JoinError>> {
    let Some(switch) = switch else {
        return Some(task.await);
    };
    tokio::select! {
        outcome = &mut task => Some(outcome),
        () = switch.fired() => {
            task.abort();
            let _ = task.await;
            if let Some(chaos) = &config.chaos {
                chaos.note(kind::KILLED, 1);
            }
            None
        }
    }
}

fn record_run(
    config: &EngineConfig,
    op: Operation,
    started_at: domain::Timestamp,
    outcome: Result<Result<operations::RunReport, operations::OpError>, tokio::task::JoinError>,
) {
    match outcome {
        Ok(Ok(report)) => config
            .activity
            .scheduled_run_finished(op, started_at, Ok(&report)),
        Ok(Err(e)) => {
            tracing::warn!(operation = op.function_name(), error = %e, kind = e.kind(), "scheduled run failed");
            config
                .activity
                .scheduled_run_finished(op, started_at, Err(format!("{}: {e}", e.kind())));
        }
        Err(join) => {
            tracing::error!(operation = op.function_name(), error = %join, "scheduled run panicked");
            config
                .activity
                .scheduled_run_finished(op, started_at, Err(format!("panicked: {join}")));
        }
    }
}

async fn consumer(
    config: EngineConfig,
    plan: OperationPlan,
    trigger: QueueTriggerPlan,
    handle: MessageHandler,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(trigger.max_concurrency.max(1)));
    let mut batches = JoinSet::new();
    loop {
        while batches.try_join_next().is_some() {}
        // A permit first: messages are only received when an invocation can take them, or they
        // would sit invisible for a visibility timeout.
        let permit = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let batch = match collect_batch(&config, &trigger, &mut stop).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(queue = trigger.queue.as_str(), error = %e, "receive failed");
                tokio::time::sleep(RECEIVE_RETRY_PAUSE).await;
                continue;
            }
        };
        if batch.is_empty() {
            if is_stopped(&stop) {
                break;
            }
            continue;
        }
        let config = config.clone();
        let plan = plan.clone();
        let queue = trigger.queue;
        batches.spawn(async move {
            process_batch(&config, &plan, queue, handle, batch).await;
            drop(permit);
        });
    }
    // In-flight batches finish (bounded by their deadlines); nothing new starts.
    while batches.join_next().await.is_some() {}
}

/// One invocation's worth of messages: up to the batch size, gathered for at most the batching
/// window once the first message is in.
async fn collect_batch(
    config: &EngineConfig,
    trigger: &QueueTriggerPlan,
    stop: &mut watch::Receiver<bool>,
) -> Result<Vec<Delivery>, ports::QueueError> {
    let queues = &config.channel.queues;
    let first = tokio::select! {
        biased;
        () = stopped(stop) => return Ok(Vec::new()),
        got = queues.receive(trigger.queue, trigger.batch_size.min(ports::queue::MAX_BATCH), LONG_POLL) => got?,
    };
    if first.is_empty() {
        return Ok(first);
    }
    let mut batch = first;
    let window_ends = Instant::now() + config.clock.to_wall(trigger.batching_window);
    while batch.len() < trigger.batch_size && !is_stopped(stop) {
        let left = window_ends.saturating_duration_since(Instant::now());
        let want = (trigger.batch_size - batch.len()).min(ports::queue::MAX_BATCH);
        // Messages already in hand are handled even if a stop comes now: they are in flight.
        let more = tokio::select! {
            biased;
            () = stopped(stop) => break,
            got = queues.receive(trigger.queue, want, left) => got?,
        };
        if more.is_empty() {
            break;
        }
        batch.extend(more);
    }
    Ok(batch)
}

async fn process_batch(
    config: &EngineConfig,
    plan: &OperationPlan,
    queue: QueueName,
    handle: MessageHandler,
    batch: Vec<Delivery>,
) {
    let op = plan.operation;
    config.activity.batch_started(op);
    let deadline = config.deadline(plan.timeout);
    // Lambda's timeout is far below the queue's visibility timeout, so SQS never redelivers a message
    // while its invocation lives. Here work takes wall time while the visibility timeout passes in
    // compressed scenario time: keep the batch's messages invisible until their handlers finish.
    let heartbeat = tokio::spawn(keep_invisible(
        config.clone(),
        queue,
        batch.iter().map(|d| d.receipt.clone()).collect(),
    ));
    let visibility = config
        .plan
        .queues
        .get(&queue)
        .map_or(Duration::ZERO, |s| s.visibility_timeout);
    let mut running = Vec::with_capacity(batch.len());
    for delivery in batch {
        let fate = match &config.chaos {
            Some(chaos) => {
                let fate = chaos.message(op, visibility);
                redeliver(config, queue, &delivery.body, fate.duplicate, fate.deliver_late).await;
                fate.invocation
            }
            None => InvocationFate::default(),
        };
        let deadline = fate.deadline.map_or(deadline, Deadline::after);
        let message = Message {
            message_id: delivery.message_id.clone(),
            body: delivery.body.clone(),
            receive_count: delivery.receive_count,
        };
        let span = tracing::info_span!(
            "message",
            operation = op.function_name(),
            message_id = %delivery.message_id,
            receive_count = delivery.receive_count
        );
        let switch = fate.kill_at_call.map(KillSwitch::at_call);
        let work = OPERATION
            .scope(op, handle(config.channel.clone(), message, deadline))
            .instrument(span);
        let task = match &switch {
            Some(switch) => tokio::spawn(switch.clone().scope(work)),
            None => tokio::spawn(work),
        };
        running.push((delivery, switch, task));
    }
    let mut outcomes = Vec::with_capacity(running.len());
    for (delivery, switch, task) in running {
        outcomes.push((delivery, invoke(config, switch, task).await));
    }
    heartbeat.abort();
    for (delivery, outcome) in outcomes {
        // Killed: the message was neither deleted nor failed; it returns after its visibility timeout.
        let Some(outcome) = outcome else {
            continue;
        };
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{}: {e}", e.kind())),
            Err(join) => Some(format!("panicked: {join}")),
        };
        match failure {
            None => {
                config.activity.message_handled(op);
                if let Err(e) = config.channel.queues.delete(queue, &delivery.receipt).await {
                    // Not deleted: the message comes back and the handler's idempotency absorbs it.
                    tracing::warn!(queue = queue.as_str(), message_id = %delivery.message_id, error = %e, "delete failed");
                }
            }
            Some(reason) => {
                tracing::warn!(
                    queue = queue.as_str(),
                    message_id = %delivery.message_id,
                    receive_count = delivery.receive_count,
                    error = %reason,
                    "message failed; it returns after the visibility timeout"
                );
                config.activity.message_failed(op, reason);
            }
        }
    }
}

/// Chaos: the message's body sent again, now and/or after `late` (scenario time), as SQS's
/// at-least-once delivery and a producer's retry would.
async fn redeliver(config: &EngineConfig, queue: QueueName, body: &str, now: bool, late: Option<Duration>) {
    let mut copies = Vec::new();
    if now {
        copies.push(OutgoingMessage::new(body));
    }
    if let Some(late) = late {
        copies.push(OutgoingMessage::new(body).delayed(late));
    }
    if copies.is_empty() {
        return;
    }
    if let Err(e) = config.channel.queues.send_all(queue, copies).await {
        tracing::warn!(queue = queue.as_str(), error = %e, "chaos: redelivery not sent");
    }
}

/// Extends the visibility of in-flight messages every half visibility timeout (scenario time).
async fn keep_invisible(config: EngineConfig, queue: QueueName, receipts: Vec<String>) {
    let Some(visibility) = config.plan.queues.get(&queue).map(|s| s.visibility_timeout) else {
        return;
    };
    loop {
        config.clock.sleep(visibility / 2).await;
        for receipt in &receipts {
            // A stale receipt means the message is gone or was received again: nothing to keep.
            let _ = config
                .channel
                .queues
                .change_visibility(queue, receipt, visibility)
                .await;
        }
    }
}
