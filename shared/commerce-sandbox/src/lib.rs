//! An in-memory Adobe Commerce / Magento 2 REST API for tests, benchmarks and the local runner.
//!
//! It serves the routes `commerce-client` uses under `/rest/<store_code>/V1/...` with Magento's
//! payload shapes, status codes and error bodies (`{"message": "...%1...", "parameters": [...]}` and
//! the named-map form), `searchCriteria` semantics (filter groups AND, filters OR, condition types,
//! sort orders, `pageSize` capped by input limits, a page past the end answering the last page), and
//! the business rules the channel depends on:
//!
//! * catalog: simple and configurable products with children, status, visibility, price, special
//!   price and dates, weight, `upc` and `walmart_enabled` attributes, categories, websites;
//!   `updated_at` moves on every change; indexed for 100,000-product catalogs;
//! * MSI: several sources, a stock, reservations; salable quantity = Σ source quantity −
//!   reservations; placing an order reserves, shipping deducts sources (by priority) and
//!   compensates, cancelling compensates;
//! * carts → orders (guest carts and customer carts; `purchaseorder` with `po_number`), order
//!   states/statuses new/pending, processing, complete, canceled, closed; status histories;
//!   invoices; shipments with tracks; cancellations that answer `false` when Magento cannot cancel;
//!   offline credit memos; RMA (only when the RMA module is on: Open Source mode answers Magento's
//!   404 "Request does not match any route.");
//! * OAuth 1.0a (HMAC-SHA256) signatures verified for real, Bearer tokens when allowed, tokens that
//!   the control API can expire.
//!
//! Recording and fault injection come from `sandbox-kit`; the control API is described in the
//! crate's README.md. Start it in-process with [`CommerceSandbox::start`] or as a binary:
//! `cargo run -p commerce-sandbox -- --port 8082`.

// Magento orders are wide JSON objects: `json!` needs more macro recursion than the default.
#![recursion_limit = "256"]

mod api;
mod auth;
mod control;
mod control_client;
pub mod error;
pub mod model;
mod render;
pub mod search;
pub mod settings;
pub mod store;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ports::Clock;
use sandbox_kit::{Faults, Recorder, RunningServer};

pub use control::{PriceChange, RefundRequest, ShipRequest, StockChange, StoreConfigChange, Throttle};
pub use control_client::{ControlClient, ControlError};
pub use model::Customer;
pub use settings::{OAuthCredentials, PURCHASE_ORDER, SandboxSettings, ShippingMethod};
pub use store::{CatalogSpec, Commerce, ProductSeed, RefundInput, ShipLine, TrackInput, upc_for};

/// The sandbox's router (API, instrumented, plus control routes), for embedding.
pub fn router(shared: Arc<Mutex<Commerce>>, recorder: Recorder, faults: Faults) -> axum::Router {
    let api = axum::Router::new()
        .fallback(api::dispatch)
        .with_state(shared.clone());
    sandbox_kit::instrument(api, recorder.clone(), faults.clone())
        .merge(sandbox_kit::control_routes(recorder, faults))
        .merge(control::routes(shared))
}

pub struct CommerceSandbox;

impl CommerceSandbox {
    /// Serves a fresh store on `addr` (port 0 picks a free port).
    pub async fn start(
        settings: SandboxSettings,
        clock: Arc<dyn Clock>,
        addr: SocketAddr,
    ) -> std::io::Result<RunningSandbox> {
        let shared = Arc::new(Mutex::new(Commerce::new(settings, clock)));
        let (recorder, faults) = (Recorder::new(), Faults::new());
        let server =
            sandbox_kit::serve(router(shared.clone(), recorder.clone(), faults.clone()), addr).await?;
        Ok(RunningSandbox {
            server,
            recorder,
            faults,
            shared,
        })
    }
}

/// A running sandbox.
pub struct RunningSandbox {
    server: RunningServer,
    recorder: Recorder,
    faults: Faults,
    shared: Arc<Mutex<Commerce>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the client's `base_url`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// A control client for this sandbox.
    pub fn control(&self) -> ControlClient {
        ControlClient::new(self.base_url())
    }

    /// Every exchange the API saw (not the control routes).
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Runs `f` on the store's state (in-process inspection).
    pub fn inspect<R>(&self, f: impl FnOnce(&Commerce) -> R) -> R {
        f(&api::lock(&self.shared))
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// Serves until ctrl-c (binaries).
    pub async fn wait(self) {
        self.server.wait().await;
    }
}
