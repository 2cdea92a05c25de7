//! `local-runner run`: the channel against real endpoints (Walmart's sandbox or production, a real
//! Commerce store), on the embedded adapters with the template's schedules in real time. No
//! scenario and no invariants: the channel runs with live progress until Ctrl-C (or `--hours`),
//! and a restart with the same state directory continues where it stopped.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::ChannelSettings;
use operations::Channel;
use ports::{Clock, QueueName, ScaledClock, StateStore, SystemClock};
use tokio::time::Instant;

use crate::RunnerError;
use crate::activity::Activity;
use crate::config::LiveConfig;
use crate::demo::dead_letters;
use crate::engine::{Engine, EngineConfig, HandlerTable};
use crate::evidence::ChannelRecords;
use crate::plan::Plan;
use crate::progress::{Progress, ProgressView};
use crate::state_dir::{Manifest, StateDir, Status};
use crate::summary::{ListingCounts, OrderCounts, RunFacts, Summary};

/// How often the run loop looks at the clock and prints progress.
const LOOK_EVERY: Duration = Duration::from_secs(1);

pub struct LiveOptions {
    pub config: LiveConfig,
    pub state_dir: PathBuf,
    /// Stop after this long; `None` runs until interrupted.
    pub duration: Option<Duration>,
    pub handlers: HandlerTable,
    pub progress: Progress,
    /// Serve the dashboard over the channel while it runs.
    pub dashboard: Option<crate::serve::DashboardSlot>,
}

impl LiveOptions {
    pub fn new(config: LiveConfig, state_dir: PathBuf) -> Self {
        Self {
            config,
            state_dir,
            duration: None,
            handlers: operations::registry::handlers,
            progress: Progress::silent(),
            dashboard: None,
        }
    }
}

/// How a live run ended.
#[derive(Debug)]
pub struct LiveOutcome {
    pub summary: Box<Summary>,
    pub interrupted: bool,
}

impl LiveOutcome {
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            crate::EXIT_INTERRUPTED
        } else {
            0
        }
    }
}

/// Runs the channel until `interrupt` resolves or the duration is up.
pub async fn run(
    mut options: LiveOptions,
    interrupt: impl Future<Output = ()>,
) -> Result<LiveOutcome, RunnerError> {
    let wall_start = Instant::now();
    let settings = options.config.settings.clone();
    let dir = StateDir::open(&options.state_dir)?;
    check_state_dir(&dir, &settings)?;
    dir.write_manifest(&manifest(&settings, Status::Running))?;

    // Real endpoints live in real time: scale 1.
    let scaled = Arc::new(ScaledClock::new(SystemClock.now(), 1.0));
    let clock: Arc<dyn Clock> = scaled.clone();
    let plan = Plan::from_embedded_template()?;
    let embedded = Arc::new(EmbeddedStore::open(dir.path())?);
    let store: Arc<dyn StateStore> = embedded.clone();
    let queues = Arc::new(EmbeddedQueues::open(
        dir.path(),
        plan.queues.clone(),
        clock.clone(),
    )?);
    let channel = connect(&options.config, store.clone(), queues.clone(), clock.clone())?;
    announce(&mut options, &dir);
    crate::serve::start_into(options.dashboard.as_ref(), channel.clone()).await?;
    let activity = Activity::new();
    let engine = Engine::start(EngineConfig {
        channel,
        clock: scaled.clone(),
        plan: plan.clone(),
        handlers: options.handlers,
        activity: activity.clone(),
        chaos: None,
    });
    let not_wired = Summary::not_wired(engine.wiring());
    for line in &not_wired {
        options.progress.say(&format!("not running yet: {line}"));
    }

    let start = clock.now();
    tokio::pin!(interrupt);
    let interrupted = loop {
        tokio::select! {
            biased;
            () = &mut interrupt => break true,
            () = tokio::time::sleep(LOOK_EVERY) => {}
        }
        if options.duration.is_some_and(|d| wall_start.elapsed() >= d) {
            break false;
        }
        options
            .progress
            .tick(ProgressView {
                start,
                now: clock.now(),
                phase: "running",
                activity: &activity,
                store: store.as_ref(),
                settings: &settings,
                queues: &queues,
                extra: String::new(),
            })
            .await;
    };
    let stopped = engine.stop(plan.longest_timeout() + Duration::from_secs(1)).await;

    let records = ChannelRecords::load(store.as_ref(), &settings).await?;
    let facts = RunFacts {
        title: format!("run, channel {}", settings.id),
        state_dir: dir.path().display().to_string(),
        scenario_time: clock.now().since(start),
        wall_time: wall_start.elapsed(),
        time_scale: 1.0,
        settled: None,
    };
    let summary = summarise(
        &records,
        facts,
        &activity,
        not_wired,
        dead_letters(queues.as_ref()).await,
        stopped.aborted,
    );
    // Earlier versions of records (orders as imported, with the buyer's address) leave the disk,
    // and settled records past their retention go, as the table's TTL deletes them.
    embedded.compact(clock.now())?;
    let json = serde_json::to_value(&summary).unwrap_or_default();
    dir.write_summary(&summary.render(), &json)?;
    dir.write_manifest(&manifest(
        &settings,
        if interrupted {
            Status::Interrupted
        } else {
            Status::Finished
        },
    ))?;
    Ok(LiveOutcome {
        summary: Box::new(summary),
        interrupted,
    })
}

fn manifest(settings: &ChannelSettings, status: Status) -> Manifest {
    Manifest::Run {
        channel: settings.id.as_str().to_owned(),
        status,
    }
}

/// The opening progress line: which channel runs against which endpoints.
fn announce(options: &mut LiveOptions, dir: &StateDir) {
    options.progress.say(&format!(
        "local-runner run: channel {} against Walmart {} and Commerce {}; state in {}",
        options.config.settings.id,
        options.config.endpoints.walmart_base_url,
        options.config.endpoints.commerce_base_url,
        dir.path().display()
    ));
}

/// A `run` needs a state directory of its own channel (or a new one).
fn check_state_dir(dir: &StateDir, settings: &ChannelSettings) -> Result<(), RunnerError> {
    match dir.manifest()? {
        Some(Manifest::Demo { .. }) => Err(RunnerError::Config(format!(
            "{} holds a demo; `run` needs its own --state-dir",
            dir.path().display()
        ))),
        Some(Manifest::Run { channel, .. }) if channel != settings.id.as_str() => {
            Err(RunnerError::Config(format!(
                "{} holds channel {channel}, not {}",
                dir.path().display(),
                settings.id
            )))
        }
        _ => Ok(()),
    }
}

/// The channel on the embedded adapters, talking to the configured Walmart and Commerce.
fn connect(
    config: &LiveConfig,
    store: Arc<dyn StateStore>,
    queues: Arc<EmbeddedQueues>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Channel>, RunnerError> {
    let apis = operations::wiring::connect(&config.endpoints, &config.secrets, clock.clone())?;
    Ok(Arc::new(Channel {
        settings: config.settings.clone(),
        store,
        queues,
        walmart: apis.walmart,
        commerce: apis.commerce,
        clock,
    }))
}

/// The run's summary: what the records show and what the engine did (no latencies, no invariants).
fn summarise(
    records: &ChannelRecords,
    facts: RunFacts,
    activity: &Activity,
    not_wired: Vec<String>,
    dead_letters: BTreeMap<QueueName, Vec<String>>,
    aborted: usize,
) -> Summary {
    let mut notes: Vec<String> = records
        .unreadable
        .iter()
        .map(|r| format!("unreadable record {r}"))
        .collect();
    if aborted > 0 {
        notes.push(format!("{aborted} runs were aborted at the stop"));
    }
    Summary {
        configuration: Summary::configuration_lines(records),
        facts,
        listings: ListingCounts::from_records(records),
        orders: OrderCounts::from_records(records),
        activity: activity.snapshot(),
        not_wired,
        dead_letters,
        notes,
        latency: Vec::new(),
        api: None,
        invariants: Vec::new(),
        chaos: None,
        push: None,
    }
}
