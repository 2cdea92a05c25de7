//! `local-runner demo`: both sandboxes on free loopback ports, a seeded catalog, the whole channel on
//! the embedded adapters with the template's schedules in compressed scenario time, the scenario
//! driving the world, a settle phase, then the summary with latencies and invariants.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{ChannelId, ChannelSettings, Operation, Timestamp};
use operations::testkit::{CommerceSandboxSettings, Sandboxes, WalmartSandboxSettings};
use ports::records::channel_pk;
use ports::{Clock, QueueName, ScaledClock, SystemClock, WorkQueue};
use tokio::time::Instant;

use crate::RunnerError;
use crate::activity::Activity;
use crate::chaos::{Chaos, kind};
use crate::engine::{Engine, EngineConfig, HandlerTable};
use crate::evidence::Evidence;
use crate::observe::{ObservedStore, PartitionsByOperation};
use crate::plan::Plan;
use crate::progress::{Progress, ProgressView, clock};
use crate::scenario::{Scenario, ScenarioParams, Step};
use crate::state_dir::{Manifest, StateDir, Status};
use crate::summary::{ApiCounts, ListingCounts, OrderCounts, RunFacts, Summary};
use crate::{invariants, latency};

/// A 24-hour day in about a minute.
pub const DEFAULT_TIME_SCALE: f64 = 1440.0;
/// How often the scenario acts and the settle phase looks, in scenario time.
const STEP: Duration = Duration::from_secs(60);
/// Longest the settle phase may take, in scenario time.
pub const DEFAULT_SETTLE_CAP: Duration = Duration::from_secs(3 * 3600);
/// Dead letters listed per queue in the summary.
const DEAD_LETTERS_SHOWN: usize = 20;

/// Everything a demo run needs.
pub struct DemoOptions {
    pub params: ScenarioParams,
    pub time_scale: f64,
    pub state_dir: PathBuf,
    pub settings: ChannelSettings,
    /// The Walmart sandbox: Walmart's rate limits on, feeds processed within a few minutes.
    pub walmart_sandbox: WalmartSandboxSettings,
    pub commerce_sandbox: CommerceSandboxSettings,
    /// `operations::registry::handlers`, unless a test wants others.
    pub handlers: HandlerTable,
    pub progress: Progress,
    pub settle_cap: Duration,
    /// `--chaos SEED`: faults, kills and redeliveries on top of the scripted day.
    pub chaos: Option<u64>,
    /// Faults both sandboxes suffer from the start (none by default), e.g. every call slowed.
    pub sandbox_faults: sandbox_kit::FaultPlan,
    /// Filled, when the demo finishes, with the partitions each operation touched (for tests that
    /// hold the deployed roles' key conditions to the code).
    pub partitions_touched: Option<Arc<std::sync::Mutex<PartitionsByOperation>>>,
    /// Serve the dashboard over the channel into this slot (it outlives the run: `--serve`).
    pub dashboard: Option<crate::serve::DashboardSlot>,
    /// Walmart's notifications to the receiver on loopback (on), or the polls alone (`--no-push`).
    pub push: crate::push::PushOptions,
}

impl DemoOptions {
    pub fn new(params: ScenarioParams, time_scale: f64, state_dir: PathBuf) -> Result<Self, RunnerError> {
        Ok(Self {
            params,
            time_scale,
            state_dir,
            settings: ChannelSettings::with_defaults(
                ChannelId::new("demo").map_err(|e| RunnerError::Config(e.to_string()))?,
            ),
            walmart_sandbox: WalmartSandboxSettings {
                feed_received_secs: 30,
                feed_processing_secs: 120,
                ..WalmartSandboxSettings::default()
            },
            // The merchant switched on "Purchase Order" for the channel (Magento ships it off).
            commerce_sandbox: CommerceSandboxSettings::default().with_purchase_order(),
            handlers: operations::registry::handlers,
            progress: Progress::silent(),
            settle_cap: DEFAULT_SETTLE_CAP,
            chaos: None,
            sandbox_faults: sandbox_kit::FaultPlan::default(),
            partitions_touched: None,
            dashboard: None,
            push: crate::push::PushOptions::default(),
        })
    }
}

/// How a demo ended.
#[derive(Debug)]
pub enum DemoOutcome {
    Finished(Box<Summary>),
    /// The directory already held a finished demo: its saved summary and exit code.
    AlreadyFinished {
        summary: String,
        exit_code: i32,
    },
    /// Stopped by the interrupt; the directory says so.
    Interrupted {
        state_dir: PathBuf,
    },
}

impl DemoOutcome {
    pub fn exit_code(&self) -> i32 {
        match self {
            DemoOutcome::Finished(summary) => summary.exit_code(),
            DemoOutcome::AlreadyFinished { exit_code, .. } => *exit_code,
            DemoOutcome::Interrupted { .. } => crate::EXIT_INTERRUPTED,
        }
    }
}

/// Prepares the directory: a finished demo is reported as it was; an interrupted one is moved aside
/// and replayed with its own parameters (see `state_dir` for why a demo cannot continue).
fn prepare_state_dir(dir: &StateDir, options: &DemoOptions) -> Result<Option<DemoOutcome>, RunnerError> {
    let attempts = match dir.manifest()? {
        None => {
            if dir.path().join("state.jsonl").exists() {
                return Err(RunnerError::Config(format!(
                    "{} holds a state store but no runner manifest; use another --state-dir",
                    dir.path().display()
                )));
            }
            0
        }
        Some(Manifest::Run { .. }) => {
            return Err(RunnerError::Config(format!(
                "{} holds a `run` against real endpoints; a demo needs its own --state-dir",
                dir.path().display()
            )));
        }
        Some(Manifest::Demo {
            params,
            time_scale,
            status,
            exit_code,
            interrupted_attempts,
        }) => {
            if params != options.params || time_scale != options.time_scale {
                return Err(RunnerError::Config(format!(
                    "{} holds a demo with {} products, {} orders, {} h, seed {}, time scale {}; \
                     rerun with those or use another --state-dir",
                    dir.path().display(),
                    params.products,
                    params.orders,
                    params.hours,
                    params.seed,
                    time_scale
                )));
            }
            if status == Status::Finished {
                return Ok(Some(DemoOutcome::AlreadyFinished {
                    summary: dir.summary_text().unwrap_or_default(),
                    exit_code: exit_code.unwrap_or(0),
                }));
            }
            let next = interrupted_attempts + 1;
            dir.archive_attempt(next)?;
            next
        }
    };
    dir.write_manifest(&Manifest::Demo {
        params: options.params.clone(),
        time_scale: options.time_scale,
        status: Status::Running,
        exit_code: None,
        interrupted_attempts: attempts,
    })?;
    Ok(None)
}

fn set_status(
    dir: &StateDir,
    options: &DemoOptions,
    status: Status,
    exit_code: Option<i32>,
) -> Result<(), RunnerError> {
    let attempts = match dir.manifest()? {
        Some(Manifest::Demo {
            interrupted_attempts, ..
        }) => interrupted_attempts,
        _ => 0,
    };
    dir.write_manifest(&Manifest::Demo {
        params: options.params.clone(),
        time_scale: options.time_scale,
        status,
        exit_code,
        interrupted_attempts: attempts,
    })?;
    Ok(())
}

/// Runs the demo until it has played its day and settled, or until `interrupt` resolves.
pub async fn run(
    mut options: DemoOptions,
    interrupt: impl Future<Output = ()>,
) -> Result<DemoOutcome, RunnerError> {
    let wall_start = Instant::now();
    let dir = StateDir::open(&options.state_dir)?;
    if let Some(done) = prepare_state_dir(&dir, &options)? {
        return Ok(done);
    }
    let (mut demo, engine) = Demo::prepare(dir, &mut options).await?;
    let settled = demo.play(&mut options, interrupt).await;
    demo.stop(engine).await;
    let Some(settled) = settled else {
        return demo.interrupted(&mut options).await;
    };
    let summary = demo.summarise(&options, settled, wall_start).await?;
    demo.finish(&options, summary).await
}

/// A demo under way: the sandboxes, the channel's adapters and the scenario driving them.
struct Demo {
    dir: StateDir,
    sandboxes: Sandboxes,
    clock: Arc<dyn Clock>,
    plan: Plan,
    settings: ChannelSettings,
    embedded: Arc<EmbeddedStore>,
    store: Arc<ObservedStore>,
    queues: Arc<EmbeddedQueues>,
    scenario: Scenario,
    activity: Activity,
    chaos: Option<Chaos>,
    /// The walmart-events receiver on loopback (push on).
    receiver: Option<crate::push::Receiver>,
    /// What the engine could not wire, reported in the summary.
    not_wired: Vec<String>,
    /// The operations running on a schedule: the settle phase waits for each to run once more.
    wired_schedules: Vec<Operation>,
    /// Problems worth a line in the summary.
    notes: Vec<String>,
    start: Timestamp,
    day_end: Timestamp,
    settle_end: Timestamp,
    settle: SettleState,
}

/// Where the settle phase stands.
#[derive(Default)]
struct SettleState {
    /// Since when everything has been quiet.
    quiet_since: Option<Timestamp>,
    /// Whether chaos has been calmed for the settle phase.
    calmed: bool,
}

impl Demo {
    /// Starts the sandboxes, opens the adapters, begins the scenario and starts the engine.
    async fn prepare(dir: StateDir, options: &mut DemoOptions) -> Result<(Self, Engine), RunnerError> {
        options
            .push
            .configure_sandbox(&mut options.walmart_sandbox, options.params.seed);
        let scaled = Arc::new(ScaledClock::new(SystemClock.now(), options.time_scale));
        let clock: Arc<dyn Clock> = scaled.clone();
        let sandboxes = Sandboxes::start(
            clock.clone(),
            options.walmart_sandbox.clone(),
            options.commerce_sandbox.clone(),
        )
        .await
        .map_err(RunnerError::Sandbox)?;
        sandboxes.walmart.faults().set(options.sandbox_faults.clone());
        sandboxes.commerce.faults().set(options.sandbox_faults.clone());
        let plan = Plan::from_embedded_template()?;
        let mut settings = options.settings.clone();
        let embedded = Arc::new(EmbeddedStore::open(dir.path())?);
        let store = Arc::new(ObservedStore::new(
            embedded.clone(),
            clock.clone(),
            vec![channel_pk(&settings.id, "LISTING")],
        ));
        let queues = Arc::new(EmbeddedQueues::open(
            dir.path(),
            plan.queues.clone(),
            clock.clone(),
        )?);
        let receiver = crate::push::start(&options.push, &mut settings, queues.clone())
            .await
            .map_err(RunnerError::Sandbox)?;
        let channel =
            Arc::new(sandboxes.channel(settings.clone(), store.clone(), queues.clone(), clock.clone()));
        crate::serve::start_into(options.dashboard.as_ref(), channel.clone()).await?;

        let start = clock.now();
        announce(options, &dir, &sandboxes);
        let scenario = Scenario::begin(&sandboxes, options.params.clone(), start)
            .await?
            .stamped_by(clock.clone());
        let activity = Activity::new();
        let chaos = options.chaos.map(Chaos::new);
        let engine = Engine::start(EngineConfig {
            channel,
            clock: scaled.clone(),
            plan: plan.clone(),
            handlers: options.handlers,
            activity: activity.clone(),
            chaos: chaos.clone(),
        });
        let not_wired = Summary::not_wired(engine.wiring());
        for line in &not_wired {
            options.progress.say(&format!("not running yet: {line}"));
        }
        let wired_schedules = engine
            .wiring()
            .iter()
            .filter(|w| !w.schedules.is_empty())
            .map(|w| w.operation)
            .collect();
        let day_end = start.plus(options.params.day());
        let demo = Demo {
            dir,
            sandboxes,
            clock,
            plan,
            settings,
            embedded,
            store,
            queues,
            scenario,
            activity,
            chaos,
            receiver,
            not_wired,
            wired_schedules,
            notes: Vec::new(),
            start,
            day_end,
            settle_end: day_end.plus(options.settle_cap),
            settle: SettleState::default(),
        };
        Ok((demo, engine))
    }

    /// Plays the day, then settles: one step a minute of scenario time. `None` when interrupted,
    /// else whether everything settled before the cap.
    async fn play(&mut self, options: &mut DemoOptions, interrupt: impl Future<Output = ()>) -> Option<bool> {
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                biased;
                () = &mut interrupt => return None,
                () = self.clock.sleep(STEP) => {}
            }
            let now = self.clock.now();
            self.play_step(now).await;
            let settling = now >= self.day_end;
            if settling && let Some(settled) = self.settle_step(now).await {
                return Some(settled);
            }
            let placed = self.scenario.journal().orders.len();
            options
                .progress
                .tick(ProgressView {
                    start: self.start,
                    now,
                    phase: if settling { "settling" } else { "active" },
                    activity: &self.activity,
                    store: self.store.as_ref(),
                    settings: &self.settings,
                    queues: &self.queues,
                    extra: format!("buyers placed {placed}"),
                })
                .await;
        }
    }

    /// The scenario acts; during the day chaos strikes.
    async fn play_step(&mut self, now: Timestamp) {
        if let Err(e) = self.scenario.advance(&self.sandboxes, now).await {
            // A control call failing (the sandbox is local, so this is rare) skips this step only.
            tracing::warn!(error = %e, "scenario step failed");
            if self.notes.len() < 20 {
                self.notes.push(format!(
                    "scenario step at {} failed: {e}",
                    clock_at(self.start, now)
                ));
            }
        }
        if let Some(chaos) = &self.chaos
            && now < self.day_end
        {
            chaos.step(&self.sandboxes).await;
        }
    }

    /// After the day: calms chaos, then waits for quiet. `Some(true)` once settled, `Some(false)` at
    /// the cap, `None` to keep waiting.
    async fn settle_step(&mut self, now: Timestamp) -> Option<bool> {
        if let Some(chaos) = &self.chaos
            && !self.settle.calmed
        {
            chaos.calm(&self.sandboxes).await;
            self.settle.calmed = true;
        }
        let quiet = self.quiet().await;
        self.settle.quiet_since = if quiet {
            self.settle.quiet_since.or(Some(now))
        } else {
            None
        };
        // Quiet, and every schedule has run once more since: nothing is left in flight.
        if let Some(since) = self.settle.quiet_since
            && self.every_schedule_ran_since(since)
        {
            // Chaos: what the channel gave up on honestly goes back to its queue, once the
            // rest is quiet, and the settling starts over; an operator would redrive it so.
            let redriven = match &self.chaos {
                Some(chaos) => {
                    let redriven = redrive_dead_letters(self.queues.as_ref());
                    chaos.note(kind::REDRIVEN, redriven as u64);
                    redriven
                }
                None => 0,
            };
            if redriven == 0 {
                return Some(true);
            }
            self.settle.quiet_since = None;
        }
        (now >= self.settle_end).then_some(false)
    }

    /// The scenario is done, no story waits, no feed is pending and every queue is empty.
    async fn quiet(&self) -> bool {
        let feeds_pending = self
            .sandboxes
            .walmart_control()
            .state()
            .await
            .map_or(1, |s| s.feeds_pending);
        self.scenario.timeline_done()
            && self.scenario.unfinished_stories().next().is_none()
            && feeds_pending == 0
            && QueueName::ALL.into_iter().all(|q| self.queues.depth(q) == 0)
    }

    fn every_schedule_ran_since(&self, since: Timestamp) -> bool {
        self.wired_schedules.iter().all(|op| {
            self.activity
                .of(*op)
                .last_finished_run_started_at
                .is_some_and(|t| t >= since)
        })
    }

    /// Stops the engine; every run is bounded by its deadline (the function's timeout), so it
    /// finishes within that.
    async fn stop(&mut self, engine: Engine) {
        let grace = self.plan.longest_timeout() + Duration::from_secs(1);
        let stopped = engine.stop(grace).await;
        if stopped.aborted > 0 {
            self.notes.push(format!(
                "{} runs were still going {} s after the stop and were aborted",
                stopped.aborted,
                grace.as_secs()
            ));
        }
    }

    /// Records the interruption; the demo is played again from the start on the next run.
    async fn interrupted(self, options: &mut DemoOptions) -> Result<DemoOutcome, RunnerError> {
        set_status(&self.dir, options, Status::Interrupted, None)?;
        self.sandboxes.shutdown().await;
        options.progress.say(&format!(
            "interrupted; rerun with --state-dir {} to play this demo again",
            self.dir.path().display()
        ));
        Ok(DemoOutcome::Interrupted {
            state_dir: self.dir.path().to_owned(),
        })
    }

    /// Gathers the evidence from both sandboxes and the store, and sums it up.
    async fn summarise(
        &mut self,
        options: &DemoOptions,
        settled: bool,
        wall_start: Instant,
    ) -> Result<Summary, RunnerError> {
        let evidence = Evidence::gather(
            &self.settings,
            self.clock.now(),
            self.scenario.journal().clone(),
            &self.store,
            &self.sandboxes.walmart_control(),
            &self.sandboxes.commerce_control(),
        )
        .await?;
        self.note_unfinished_stories();
        let mut notes = std::mem::take(&mut self.notes);
        notes.extend(
            evidence
                .journal
                .refused_actions
                .iter()
                .map(|r| format!("a sandbox refused: {r}")),
        );
        notes.extend(
            evidence
                .records
                .unreadable
                .iter()
                .map(|r| format!("unreadable record {r}")),
        );
        let push = match self.receiver.take() {
            Some(receiver) => Some(
                receiver
                    .finish(
                        &self.sandboxes.walmart_control(),
                        &self.activity.snapshot(),
                        self.store.as_ref(),
                        &self.settings,
                    )
                    .await,
            ),
            None => None,
        };
        let mut orders = OrderCounts::from_records(&evidence.records);
        orders.placed = Some(evidence.journal.orders.len());
        orders.not_placed = Some(evidence.journal.orders_not_placed);
        Ok(Summary {
            configuration: Summary::configuration_lines(&evidence.records),
            facts: RunFacts {
                title: format!(
                    "demo, {} products, {} orders, seed {}, x{}{}",
                    options.params.products,
                    options.params.orders,
                    options.params.seed,
                    options.time_scale,
                    options.chaos.map(|c| format!(", chaos {c}")).unwrap_or_default()
                ),
                state_dir: self.dir.path().display().to_string(),
                scenario_time: self.clock.now().since(self.start),
                wall_time: wall_start.elapsed(),
                time_scale: options.time_scale,
                settled: Some(settled),
            },
            listings: ListingCounts::from_records(&evidence.records),
            orders,
            activity: self.activity.snapshot(),
            not_wired: std::mem::take(&mut self.not_wired),
            dead_letters: dead_letters(self.queues.as_ref()).await,
            notes,
            latency: latency::measure(&evidence),
            api: Some(ApiCounts::from_evidence(&evidence)),
            invariants: invariants::check(&evidence),
            chaos: self.chaos.as_ref().map(|c| c.report()),
            push,
        })
    }

    /// One note per story that did not reach its end.
    fn note_unfinished_stories(&mut self) {
        for story in self.scenario.unfinished_stories() {
            let since = clock_at(self.start, story.since);
            self.notes.push(match &story.step {
                step if step.waits_on_channel() => format!(
                    "PO {} ({:?}): still waiting for {} since {since}",
                    story.purchase_order_id,
                    story.story,
                    step.waiting_for()
                ),
                Step::Done => continue,
                step => format!(
                    "PO {} ({:?}): {} not reached before the end",
                    story.purchase_order_id,
                    story.story,
                    step.waiting_for()
                ),
            });
        }
    }

    /// Saves the summary, marks the demo finished and stops the sandboxes.
    async fn finish(self, options: &DemoOptions, summary: Summary) -> Result<DemoOutcome, RunnerError> {
        if let Some(slot) = &options.partitions_touched {
            *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
                self.store.partitions_by_operation();
        }
        // Earlier versions of records (orders as imported, with the buyer's address) leave the disk.
        self.embedded.compact(self.clock.now())?;
        let json = serde_json::to_value(&summary).unwrap_or_default();
        self.dir.write_summary(&summary.render(), &json)?;
        set_status(&self.dir, options, Status::Finished, Some(summary.exit_code()))?;
        self.sandboxes.shutdown().await;
        Ok(DemoOutcome::Finished(Box::new(summary)))
    }
}

/// The opening progress lines: what is played, and where the sandboxes listen.
fn announce(options: &mut DemoOptions, dir: &StateDir, sandboxes: &Sandboxes) {
    options.progress.say(&format!(
        "local-runner demo: {} products, {} orders, {} h of scenario time at x{} (about {:.0} s); state in {}",
        options.params.products,
        options.params.orders,
        options.params.hours,
        options.time_scale,
        options.params.day().as_secs_f64() / options.time_scale,
        dir.path().display()
    ));
    options.progress.say(&format!(
        "sandboxes: Walmart {}  Commerce {}",
        sandboxes.walmart.base_url(),
        sandboxes.commerce.base_url()
    ));
}

fn clock_at(start: Timestamp, at: Timestamp) -> String {
    clock(at.since(start))
}

/// Moves every dead letter back to its queue; returns how many.
fn redrive_dead_letters(queues: &EmbeddedQueues) -> usize {
    QueueName::ALL
        .into_iter()
        .map(|q| match queues.redrive_dead_letters(q) {
            Ok(n) => n,
            Err(ports::QueueError::UnknownQueue(_)) => 0,
            Err(e) => {
                tracing::warn!(queue = q.as_str(), error = %e, "redrive failed");
                0
            }
        })
        .sum()
}

/// What waits in each dead-letter queue, one line per message.
pub async fn dead_letters(queues: &dyn WorkQueue) -> BTreeMap<QueueName, Vec<String>> {
    let mut out = BTreeMap::new();
    for queue in QueueName::ALL {
        let Ok(dead) = queues.dead_letters(queue, DEAD_LETTERS_SHOWN).await else {
            continue;
        };
        if dead.is_empty() {
            continue;
        }
        out.insert(
            queue,
            dead.iter()
                .map(|d| {
                    let body: String = d.body.chars().take(160).collect();
                    format!("{} (received {} times): {body}", d.message_id, d.receive_count)
                })
                .collect(),
        );
    }
    out
}
