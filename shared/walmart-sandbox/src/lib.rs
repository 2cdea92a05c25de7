//! A local Walmart Marketplace (US) v3 API with Walmart's paths, shapes and status codes, for
//! tests, benchmarks and the local runner. The control API is documented in the crate README.
//!
//! ```text
//! settings        SandboxSettings: credentials, token TTL, feed durations, rate limits, store live
//! world/          the state (mod.rs: tokens, overrides, what the seller sent) by concern: items
//!                 (catalog, seller items, inventory, prices), feeds, orders (Walmart's line-status
//!                 rules), returns
//! api/            Walmart's paths behind a gateway layer (headers, tokens, rate limits, counters)
//! render          records as Walmart's JSON
//! errors          Walmart's three error body forms
//! limits          published rate limits as token buckets on the sandbox clock
//! control         /_sandbox/ routes; control_client: the typed ControlClient
//! webhooks/       notifications: subscriptions API, order events delivered to subscribed URLs
//! ```
//!
//! Recording, fault injection and serving come from `sandbox-kit`: every Walmart exchange is
//! recorded (`GET /_sandbox/exchanges`) and faults are set with `PUT /_sandbox/faults`.

mod api;
mod control;
pub mod control_client;
mod errors;
pub mod limits;
pub mod model;
mod render;
pub mod settings;
mod webhooks;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use ports::Clock;
use sandbox_kit::{Faults, Recorder, RunningServer, control_routes, instrument, serve};

pub use control_client::{ControlClient, ControlError};
pub use model::*;
pub use sandbox_kit::FaultPlan;
pub use settings::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxSettings};
pub use webhooks::delivery::{basic_credentials, hmac_signature};
pub use webhooks::model::*;
pub use world::codes as feed_error_codes;

/// The Walmart sandbox.
pub struct WalmartSandbox;

/// The pieces of a sandbox, for embedding its router in another server.
pub struct SandboxApp {
    pub router: Router,
    pub recorder: Recorder,
    pub faults: Faults,
}

impl WalmartSandbox {
    /// The complete app (Walmart API instrumented by sandbox-kit, plus every control route).
    pub fn app(settings: SandboxSettings, clock: Arc<dyn Clock>) -> SandboxApp {
        let state = api::AppState {
            world: Arc::new(Mutex::new(world::World::new(settings))),
            clock,
        };
        webhooks::delivery::spawn_sender(&state.world, state.clock.clone());
        let recorder = Recorder::new();
        let faults = Faults::new();
        let router = instrument(api::router(state.clone()), recorder.clone(), faults.clone())
            .merge(control_routes(recorder.clone(), faults.clone()))
            .merge(control::routes(state.clone()))
            .merge(webhooks::control::routes(state));
        SandboxApp {
            router,
            recorder,
            faults,
        }
    }

    /// Serves a sandbox on `addr` (port 0: any free port).
    pub async fn start(
        settings: SandboxSettings,
        clock: Arc<dyn Clock>,
        addr: SocketAddr,
    ) -> std::io::Result<RunningSandbox> {
        let app = Self::app(settings, clock);
        let server = serve(app.router, addr).await?;
        Ok(RunningSandbox {
            server,
            recorder: app.recorder,
            faults: app.faults,
        })
    }
}

/// A sandbox serving in the background.
pub struct RunningSandbox {
    server: RunningServer,
    recorder: Recorder,
    faults: Faults,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the base URL for `WalmartConfig::custom`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn control(&self) -> ControlClient {
        ControlClient::new(self.base_url())
    }

    /// The exchanges recorded so far, in-process (the same as `GET /_sandbox/exchanges`).
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// Serves until ctrl-c or SIGTERM.
    pub async fn wait(self) {
        self.server.wait().await;
    }
}
