//! Walmart's push notifications in the demo: the `walmart-events` receiver served on loopback
//! (the same `operations::walmart_events::receive` the Lambda runs behind its Function URL), the
//! channel set up to subscribe to it (order-import keeps the subscription, as deployed), and the
//! Walmart sandbox delivering `ORDER_UPDATES` to it with Walmart's habits: some duplicates, some
//! out of order, and, with `--push-drop-rate`, a share never sent. `--no-push` plays the day on the
//! polls alone.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::IntoResponse;
use domain::{ChannelSettings, Operation, WebhookSecret};
use operations::walmart_events::{HttpDelivery, receive, receiver_auth};
use ports::WorkQueue;
use ports::webhooks::WebhookAuth;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::activity::OperationActivity;

/// The demo receiver's HMAC key (loopback only).
const DEMO_SECRET: &str = "local-runner-walmart-events-key";
/// Walmart's duplicates and out-of-order deliveries in the demo (seeded by the scenario's seed).
const DUPLICATE_RATE: f64 = 0.05;
const OUT_OF_ORDER_RATE: f64 = 0.05;
/// How long a held-back delivery waits (sandbox seconds): long enough for later events to
/// overtake it, short of the polls' periods (the sandbox's default, 120 s, would leave the polls
/// to import the held-back orders).
const OUT_OF_ORDER_DELAY_SECS: u64 = 30;

/// `demo` push options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushOptions {
    /// On by default; `--no-push` plays the polls alone.
    pub enabled: bool,
    /// `--push-drop-rate`: the share of deliveries Walmart never sends.
    pub drop_rate: f64,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            drop_rate: 0.0,
        }
    }
}

impl PushOptions {
    /// The Walmart sandbox's delivery habits for this run.
    pub fn configure_sandbox(&self, sandbox: &mut walmart_sandbox::SandboxSettings, seed: u64) {
        if self.enabled {
            sandbox.webhooks.seed = seed;
            sandbox.webhooks.drop_rate = self.drop_rate;
            sandbox.webhooks.duplicate_rate = DUPLICATE_RATE;
            sandbox.webhooks.out_of_order_rate = OUT_OF_ORDER_RATE;
            sandbox.webhooks.out_of_order_delay_secs = OUT_OF_ORDER_DELAY_SECS;
        }
    }
}

/// The receiver serving on loopback, and what it answered.
pub struct Receiver {
    pub url: String,
    answers: Arc<Mutex<BTreeMap<&'static str, u64>>>,
    stop: Option<oneshot::Sender<()>>,
    drop_rate: f64,
}

struct ReceiverState {
    auth: WebhookAuth,
    queues: Arc<dyn WorkQueue>,
    answers: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

async fn deliver(
    State(state): State<Arc<ReceiverState>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let delivery = HttpDelivery {
        method: method.to_string(),
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    let outcome = receive(&state.auth, state.queues.as_ref(), &delivery).await;
    *state
        .answers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(outcome.kind())
        .or_default() += 1;
    (
        StatusCode::from_u16(outcome.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        outcome.body(),
    )
}

/// Starts the receiver when push is on, and points the channel's push settings at it.
pub async fn start(
    options: &PushOptions,
    settings: &mut ChannelSettings,
    queues: Arc<dyn WorkQueue>,
) -> std::io::Result<Option<Receiver>> {
    if !options.enabled {
        settings.push.event_url = None;
        return Ok(None);
    }
    settings.push.secret = Some(WebhookSecret::new(DEMO_SECRET));
    let Some(auth) = receiver_auth(&settings.push) else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}/walmart-events", listener.local_addr()?);
    settings.push.event_url = Some(url.clone());
    let answers = Arc::new(Mutex::new(BTreeMap::new()));
    let app = axum::Router::new()
        .fallback(deliver)
        .with_state(Arc::new(ReceiverState {
            auth,
            queues,
            answers: answers.clone(),
        }));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "walmart-events receiver stopped");
        }
    });
    Ok(Some(Receiver {
        url,
        answers,
        stop: Some(stop),
        drop_rate: options.drop_rate,
    }))
}

/// The summary's Push section.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PushReport {
    pub url: String,
    pub drop_rate: f64,
    /// The receiver's answers by outcome (`queued`, `ignored`, `unauthenticated`, ...).
    pub answers: BTreeMap<String, u64>,
    /// What the Walmart sandbox says of its deliveries.
    pub walmart: Option<walmart_sandbox::WebhookStatus>,
    /// Orders and cancellations the polls found before any event: the push path's misses.
    pub orders_found_by_poll: u64,
    pub cancellations_found_by_poll: u64,
    /// The subscription's standing problem, if any.
    pub subscription_problem: Option<String>,
}

impl Receiver {
    /// Stops serving; returns the section.
    pub async fn finish(
        mut self,
        walmart: &walmart_sandbox::ControlClient,
        activity: &BTreeMap<Operation, OperationActivity>,
        store: &dyn ports::StateStore,
        settings: &ChannelSettings,
    ) -> PushReport {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let count = |op: Operation, what: operations::Counter| {
            activity
                .get(&op)
                .and_then(|a| a.report_counts.get(what.as_str()))
                .copied()
                .unwrap_or(0)
        };
        let answers: BTreeMap<String, u64> = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        PushReport {
            url: self.url.clone(),
            drop_rate: self.drop_rate,
            answers,
            walmart: walmart.webhook_status().await.ok(),
            orders_found_by_poll: count(
                Operation::OrderImport,
                operations::push_subscription::ORDERS_FOUND_BY_POLL_NOT_EVENT,
            ),
            cancellations_found_by_poll: count(
                Operation::CancellationSync,
                operations::push_subscription::CANCELLATIONS_FOUND_BY_POLL_NOT_EVENT,
            ),
            subscription_problem: operations::push_subscription::push_problem(store, &settings.id)
                .await
                .ok()
                .flatten(),
        }
    }
}

impl PushReport {
    /// The section's lines.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nPush (Walmart ORDER_UPDATES to {}, HMAC; Walmart drops {:.0}% of deliveries)",
            self.url,
            self.drop_rate * 100.0
        );
        let answers: Vec<String> = self.answers.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  receiver answered: {}", answers.join(", "));
        if let Some(w) = &self.walmart {
            let _ = writeln!(
                out,
                "  Walmart: {} delivered, {} dropped, {} given up, {} pending",
                w.delivered, w.dropped, w.given_up, w.pending
            );
        }
        let _ = writeln!(
            out,
            "  found by the polls before any event: {} orders, {} cancellations",
            self.orders_found_by_poll, self.cancellations_found_by_poll
        );
        let _ = writeln!(
            out,
            "  subscription: {}",
            self.subscription_problem.as_deref().unwrap_or("ok")
        );
        out
    }
}
