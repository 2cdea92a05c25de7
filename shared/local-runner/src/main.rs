//! `local-runner`: see `local-runner help` and the README's "Run it on one machine".

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use local_runner::chaos::{self, SeedRow};
use local_runner::cli::{self, ChaosArgs, Command, DemoArgs, RunArgs};
use local_runner::config::LiveConfig;
use local_runner::progress::Progress;
use local_runner::scenario::ScenarioParams;
use local_runner::state_dir::{self, Manifest};
use local_runner::{EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, RunnerError, demo, live};
use ports::{Clock, SystemClock};

/// Progress lines at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Records are counted for the progress line at most this often against real endpoints.
const LIVE_RECORDS_EVERY: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("{e}\n\n{}", cli::USAGE);
            return exit(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return exit(EXIT_FAILURE);
        }
    };
    let code = runtime.block_on(async {
        let outcome = match command {
            Command::Help => {
                println!("{}", cli::USAGE);
                return 0;
            }
            Command::Demo(args) => run_demo(args).await,
            Command::Chaos(args) => run_chaos(args).await,
            Command::Run(args) => run_live(args).await,
        };
        outcome.unwrap_or_else(|e| {
            eprintln!("local-runner: {e}");
            e.exit_code()
        })
    });
    // In-flight HTTP connections and sandbox tasks need not be waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    exit(code)
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Resolves on the first Ctrl-C; a second one ends the process at once.
async fn interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling on this platform: never interrupted.
        std::future::pending::<()>().await;
    }
    eprintln!("\nstopping: letting running functions finish (Ctrl-C again to quit at once)");
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(EXIT_INTERRUPTED);
        }
    });
}

/// Logs go to the state directory, never to the terminal the progress lines use.
fn init_logging(dir: &Path) -> Result<(), RunnerError> {
    adapters_embedded::private_files::create_dir(dir)
        .map_err(|e| RunnerError::Config(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("runner.log");
    let file = adapters_embedded::private_files::open(&path, true)
        .map_err(|e| RunnerError::Config(format!("cannot open the log {}: {e}", path.display())))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// `records_every`: how often the channel's records are counted again for the progress line.
fn progress(quiet: bool, records_every: Duration) -> Progress {
    if quiet {
        Progress::silent()
    } else {
        Progress::new(Some(Box::new(std::io::stderr())), PROGRESS_EVERY, records_every)
    }
}

/// A value given on the command line must agree with the one the state directory was made with.
fn pick<T: PartialEq + Copy + std::fmt::Display>(
    given: Option<T>,
    saved: T,
    flag: &str,
    dir: &Path,
) -> Result<T, RunnerError> {
    match given {
        Some(v) if v != saved => Err(RunnerError::Config(format!(
            "{} was made with {flag} {saved}; rerun without {flag} (or with {saved}), or use another --state-dir",
            dir.display()
        ))),
        _ => Ok(saved),
    }
}

async fn run_demo(args: DemoArgs) -> Result<i32, RunnerError> {
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir::default_path("demo", SystemClock.now()));
    let (params, time_scale) = match state_dir::peek_manifest(&state_dir) {
        Some(Manifest::Demo {
            params, time_scale, ..
        }) => (
            ScenarioParams {
                products: pick(args.products, params.products, "--products", &state_dir)?,
                orders: pick(args.orders, params.orders, "--orders", &state_dir)?,
                hours: pick(args.hours, params.hours, "--hours", &state_dir)?,
                seed: pick(args.seed, params.seed, "--seed", &state_dir)?,
            },
            pick(args.time_scale, time_scale, "--time-scale", &state_dir)?,
        ),
        _ => (
            ScenarioParams {
                products: args.products.unwrap_or(300),
                orders: args.orders.unwrap_or(40),
                hours: args.hours.unwrap_or(24.0),
                seed: args.seed.unwrap_or(1),
            },
            args.time_scale.unwrap_or(demo::DEFAULT_TIME_SCALE),
        ),
    };
    init_logging(&state_dir)?;
    let mut options = demo::DemoOptions::new(params, time_scale, state_dir)?;
    options.progress = progress(args.quiet, PROGRESS_EVERY);
    options.chaos = args.chaos;
    options.push = local_runner::push::PushOptions {
        enabled: !args.no_push,
        drop_rate: args.push_drop_rate.unwrap_or(0.0),
    };
    let dashboard = local_runner::serve::slot();
    options.dashboard = Some(dashboard.clone());
    let outcome = demo::run(options, interrupt()).await?;
    match &outcome {
        demo::DemoOutcome::Finished(summary) => print!("{}", summary.render()),
        demo::DemoOutcome::AlreadyFinished { summary, .. } => {
            eprintln!("this state directory holds a finished demo; its summary:");
            print!("{summary}");
        }
        demo::DemoOutcome::Interrupted { .. } => {}
    }
    let server = dashboard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    if let Some(server) = server
        && args.serve
        && !matches!(outcome, demo::DemoOutcome::Interrupted { .. })
    {
        eprintln!("{}; serving until Ctrl-C", server.announcement());
        interrupt().await;
    }
    Ok(outcome.exit_code())
}

/// `chaos --seeds N`: one short demo per seed with chaos drawn from the same seed, one table line
/// each. Exit code 1 when any seed broke an invariant.
async fn run_chaos(args: ChaosArgs) -> Result<i32, RunnerError> {
    let root = args
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir::default_path("chaos", SystemClock.now()));
    init_logging(&root)?;
    let first = args.from.unwrap_or(1);
    let seeds = args.seeds.unwrap_or(10);
    let mut rows = Vec::new();
    for seed in first..first.saturating_add(seeds) {
        let params = ScenarioParams {
            products: args.products.unwrap_or(50),
            orders: args.orders.unwrap_or(10),
            hours: args.hours.unwrap_or(3.0),
            seed,
        };
        let mut options = demo::DemoOptions::new(
            params,
            args.time_scale.unwrap_or(720.0),
            root.join(format!("seed-{seed}")),
        )?;
        options.chaos = Some(seed);
        let outcome = demo::run(options, interrupt()).await?;
        let summary = match outcome {
            demo::DemoOutcome::Finished(summary) => summary,
            demo::DemoOutcome::AlreadyFinished { .. } => {
                return Err(RunnerError::Config(format!(
                    "{} holds finished runs; use another --state-dir",
                    root.display()
                )));
            }
            demo::DemoOutcome::Interrupted { .. } => return Ok(EXIT_INTERRUPTED),
        };
        let row = SeedRow {
            seed,
            settled: summary.facts.settled == Some(true),
            report: summary.chaos.clone().unwrap_or_default(),
            honest_failures: summary.activity.values().map(|a| a.total_failures()).sum(),
            dead_letters_left: summary.dead_letters.values().map(Vec::len).sum(),
            violations: summary
                .invariants
                .iter()
                .flat_map(|c| c.broken.iter().map(move |b| format!("{}: {b}", c.name)))
                .collect(),
            wall_secs: summary.facts.wall_time.as_secs_f64(),
        };
        eprintln!(
            "seed {seed}: {} injected, {} violations ({:.1} s)",
            row.report.total(),
            row.violations.len(),
            row.wall_secs
        );
        rows.push(row);
    }
    print!("{}", chaos::render_table(&rows));
    println!("per-seed summaries in {}", root.display());
    Ok(if rows.iter().all(|r| r.violations.is_empty()) {
        0
    } else {
        local_runner::summary::EXIT_INVARIANT_BROKEN
    })
}

async fn run_live(args: RunArgs) -> Result<i32, RunnerError> {
    let env = |name: &str| std::env::var(name).ok();
    let config = match &args.config {
        Some(path) => LiveConfig::from_file(path, &env)?,
        None => LiveConfig::from_env(&env)?,
    };
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    let state_dir: PathBuf = args
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir::default_path("run", SystemClock.now()));
    init_logging(&state_dir)?;
    let mut options = live::LiveOptions::new(config, state_dir);
    options.duration = args.hours.map(|h| Duration::from_secs_f64(h * 3600.0));
    // A real store can hold a whole catalog: count it less often.
    options.progress = progress(args.quiet, LIVE_RECORDS_EVERY);
    options.dashboard = Some(local_runner::serve::slot());
    let outcome = live::run(options, interrupt()).await?;
    print!("{}", outcome.summary.render());
    Ok(outcome.exit_code())
}
