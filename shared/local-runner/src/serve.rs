//! The merchant's dashboard (`shared/dashboard`) on loopback, over the channel the runner runs:
//! the same `Dashboard::handle` the dashboard Lambda serves behind its Function URL.
//!
//! Sign-in: user `merchant` with a one-time password generated at start and printed with the
//! address, or the password in `CHANNEL_DASHBOARD_PASSWORD` when set (scripts, the browser test).
//! Plain http on loopback, so cookies go without `Secure`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use dashboard::auth::{Credentials, LoginSecret, UserEntry, random_id};
use dashboard::password::PasswordHash;
use dashboard::{ClientAddr, Dashboard, Options};
use operations::Channel;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::RunnerError;

/// The local user's name.
pub const USER: &str = "merchant";
/// A fixed password instead of a generated one.
pub const PASSWORD_VAR: &str = "CHANNEL_DASHBOARD_PASSWORD";
/// PBKDF2 iterations of the local password: enough for a loopback one-time password, few enough
/// that a debug build signs in at once.
const LOCAL_ITERATIONS: u32 = 5_000;
/// Largest request body read (forms are small).
const MAX_BODY: usize = 64 * 1024;

/// Where a demo puts its dashboard, so the caller can keep serving after the demo returns.
pub type DashboardSlot = Arc<Mutex<Option<DashboardServer>>>;

/// A dashboard serving on loopback until dropped or stopped.
pub struct DashboardServer {
    pub address: SocketAddr,
    pub user: String,
    /// The password to sign in with (generated unless given).
    pub password: String,
    stop: Arc<Notify>,
}

impl DashboardServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// One line for the progress output: where, and how to sign in.
    pub fn announcement(&self) -> String {
        format!(
            "dashboard: {}  (user {}, password {})",
            self.url(),
            self.user,
            self.password
        )
    }

    pub fn stop(&self) {
        self.stop.notify_waiters();
    }
}

impl Drop for DashboardServer {
    fn drop(&mut self) {
        self.stop.notify_waiters();
    }
}

/// Starts the dashboard over `channel` on `127.0.0.1:port` (0 for any free port), with `password`
/// for the user (a generated one when `None`).
pub async fn start(
    channel: Arc<Channel>,
    port: u16,
    password: Option<String>,
) -> Result<DashboardServer, RunnerError> {
    let password = password
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| random_id()[..16].to_owned());
    let secret = LoginSecret {
        session_key: random_id() + &random_id(),
        users: vec![UserEntry {
            name: USER.into(),
            password_hash: PasswordHash::new(&password, LOCAL_ITERATIONS).encode(),
        }],
    };
    let credentials = Credentials::from_secret(&secret).map_err(|e| RunnerError::Config(e.to_string()))?;
    let options = Options {
        https: false,
        ..Options::default()
    };
    let dashboard = Arc::new(Dashboard::new(channel, credentials, options));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| RunnerError::Config(format!("the dashboard cannot listen on port {port}: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| RunnerError::Config(format!("the dashboard's address: {e}")))?;
    let router = axum::Router::new().fallback(answer).with_state(dashboard);
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    tokio::spawn(async move {
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stopped.notified().await })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the dashboard stopped serving");
        }
    });
    tracing::info!(%address, "dashboard listening");
    Ok(DashboardServer {
        address,
        user: USER.into(),
        password,
        stop,
    })
}

async fn answer(
    State(dashboard): State<Arc<Dashboard>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes.to_vec(),
        Err(_) => {
            let mut r = Response::new(axum::body::Body::from("request too large"));
            *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            return r;
        }
    };
    let mut request = http::Request::from_parts(parts, body);
    request.extensions_mut().insert(ClientAddr(peer.ip().to_string()));
    dashboard.handle(request).await.map(axum::body::Body::from)
}

/// Starts the dashboard into `slot`, if the caller asked for one, and says where it is (on stderr:
/// the address matters even with `--quiet`).
pub async fn start_into(slot: Option<&DashboardSlot>, channel: Arc<Channel>) -> Result<(), RunnerError> {
    let Some(slot) = slot else {
        return Ok(());
    };
    let server = start(channel, 0, std::env::var(PASSWORD_VAR).ok()).await?;
    eprintln!("{}", server.announcement());
    *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(server);
    Ok(())
}

/// A slot for [`start_into`].
pub fn slot() -> DashboardSlot {
    Arc::new(Mutex::new(None))
}
