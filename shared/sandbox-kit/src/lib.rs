//! What the Walmart and Commerce sandbox servers share.
//!
//! A sandbox builds its API as an [`axum::Router`], wraps it with [`instrument`] (records every
//! exchange into a [`Recorder`], applies the [`FaultPlan`] held by [`Faults`]), merges the
//! [`control_routes`] and serves it with [`serve`]:
//!
//! ```no_run
//! # async fn run(api: axum::Router) -> std::io::Result<()> {
//! use sandbox_kit::{Faults, Recorder, control_routes, instrument, serve};
//! let (recorder, faults) = (Recorder::new(), Faults::new());
//! let app = instrument(api, recorder.clone(), faults.clone()).merge(control_routes(recorder.clone(), faults));
//! let server = serve(app, "127.0.0.1:0".parse().expect("literal address")).await?;
//! // ... talk to server.base_url(), then inspect recorder.snapshot() ...
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Control routes (`/_sandbox/...`): `GET /_sandbox/exchanges`, `DELETE /_sandbox/exchanges`,
//! `GET|PUT /_sandbox/faults`, `GET /_sandbox/health`. They are never recorded or faulted.
//!
//! Faults, in the order they are considered per request: `timeout_next` (hang `hang_ms`, then 504),
//! `burst_5xx` (503), `error_rate` (500), `malformed_rate` (the handler runs, then its answer becomes a
//! 200 with a truncated non-JSON body). `latency_ms` delays every response. Faulted responses carry the
//! header [`FAULT_HEADER`] and are recorded with `fault_injected: true`; latency alone does not count as
//! a fault.

pub mod canned;
mod control;
mod exchange;
mod faults;
mod instrument;
mod server;

pub use control::control_routes;
pub use exchange::{DEFAULT_RECORDER_CAPACITY, Exchange, Recorder};
pub use faults::{FaultPlan, Faults};
pub use instrument::{
    CONTROL_PREFIX, FAULT_HEADER, REQUEST_BODY_LIMIT, REQUEST_TEXT_LIMIT, instrument, json_error,
};
pub use server::{RunningServer, SHUTDOWN_GRACE, parse_listen_args, parse_listen_args_from, serve};
