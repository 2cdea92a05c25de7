//! The whole channel in one process (README command 1).
//!
//! Every operation runs through `operations::registry` exactly as the Lambdas do; only the adapters
//! differ: the embedded state store and in-process queues, timers from the SAM template, and either
//! the bundled Walmart and Commerce sandboxes (`demo`) or real endpoints (`run`).
//!
//! | module       | what it does                                                                        |
//! |--------------|-------------------------------------------------------------------------------------|
//! | `cli`        | the command line                                                                    |
//! | `chaos`      | `demo --chaos`: faults, kills, redeliveries and doubled ticks drawn from a seed      |
//! | `demo`       | `local-runner demo`: sandboxes, seeded catalog, scenario, settle, summary            |
//! | `live`       | `local-runner run`: the channel against real endpoints from a config file or env     |
//! | `config`     | the `run` configuration (TOML/JSON file or environment)                              |
//! | `plan`       | periods, timeouts, batch sizes and queue settings, read from `infra/template.yaml`   |
//! | `engine`     | timers and queue consumers with Lambda's semantics, dispatching through the registry |
//! | `activity`   | what the engine saw: runs, messages, failures, the operations' report counts         |
//! | `serve`      | the merchant's dashboard on loopback over the running channel                        |
//! | `scenario`   | the demo's merchant and buyers, acting through the sandboxes' control APIs           |
//! | `observe`    | a store decorator noting when listings are first written (for latencies)             |
//! | `evidence`   | the end state: channel records, both sandboxes, the scenario's journal               |
//! | `latency`    | observed delays per seed operation (p50/p99 in scenario time)                        |
//! | `invariants` | what must hold once the channel has settled                                          |
//! | `summary`    | the end-of-run report                                                                |
//! | `progress`   | live progress lines                                                                 |
//! | `push`       | Walmart's notifications in the demo: the receiver on loopback, the sandbox's habits  |
//! | `state_dir`  | the run's directory: journals, manifest, summary, log, lock; what a restart does     |

pub mod activity;
pub mod chaos;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod evidence;
pub mod invariants;
pub mod latency;
pub mod live;
pub mod observe;
pub mod plan;
pub mod progress;
pub mod push;
pub mod scenario;
pub mod serve;
pub mod state_dir;
pub mod summary;

/// Exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code for a bad command line or configuration.
pub const EXIT_USAGE: i32 = 2;
/// Exit code when the runner itself failed (a sandbox would not start, the disk is full, ...).
pub const EXIT_FAILURE: i32 = 3;

/// Why the runner could not do its job (as opposed to the channel failing at its: that is in the
/// summary).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    StateDir(#[from] state_dir::StateDirError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error("embedded adapters: {0}")]
    Journal(#[from] adapters_embedded::JournalError),
    #[error("cannot start the sandboxes: {0}")]
    Sandbox(std::io::Error),
    #[error("scenario: {0}")]
    Scenario(#[from] scenario::ScenarioError),
    #[error("reading the end state: {0}")]
    Evidence(#[from] evidence::EvidenceError),
    #[error("state store: {0}")]
    Store(#[from] ports::StoreError),
    #[error(transparent)]
    Wiring(#[from] operations::wiring::WiringError),
}

impl RunnerError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunnerError::Config(_) | RunnerError::Wiring(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}
