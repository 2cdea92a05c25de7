//! The background sender: takes due deliveries from the hub, posts them with the subscription's
//! authentication, and hands the outcome back (retries and copies are scheduled by the hub on
//! the sandbox clock). Nothing here holds the world's lock during a request.
//!
//! Authentication of a delivery, by `authDetails.authMethod`:
//! - `HMAC`: header `authHeaderName` = standard base64 of HMAC-SHA256 keyed with `clientSecret`
//!   over the exact bytes of the request body (the one documented choice we adopt: Walmart says
//!   "HMACSHA256 of complete response, using clientSecret as key" without the encoding);
//! - `BASIC_AUTH`: header `authHeaderName` (default `Authorization`) = `Basic base64(userName:password)`;
//! - `OAUTH`: a client-credentials token from `authUrl` first, then `Bearer <token>` in `authHeaderName`.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use base64::Engine;
use domain::Timestamp;
use hmac::{Hmac, KeyInit, Mac};
use ports::Clock;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use sha2::Sha256;

use super::Job;
use super::model::DeliveryOutcome;
use super::subscriptions::{AuthDetails, AuthMethod, Subscription};
use crate::world::World;

/// How often the sender looks at the sandbox clock for due retries and held-back deliveries.
const TICK: Duration = Duration::from_millis(10);

/// The HMAC header value for `body`: standard base64 of HMAC-SHA256 keyed with `secret`.
pub fn hmac_signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `Basic base64(user:password)`.
pub fn basic_credentials(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// Where and how to post: what a subscription (or a test request) names.
#[derive(Debug, Clone)]
pub struct Target {
    pub event_url: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub auth: Option<AuthDetails>,
}

impl From<&Subscription> for Target {
    fn from(s: &Subscription) -> Self {
        Self {
            event_url: s.event_url.clone(),
            headers: s.headers.clone(),
            auth: s.auth.clone(),
        }
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Walmart's OAuth step: `grant_type=client_credentials` to `authUrl` with the client's basic
/// credentials in `authHeaderName`; the answer's `access_token`.
async fn oauth_token(
    http: &reqwest::Client,
    auth: &AuthDetails,
    timeout: Duration,
) -> Result<String, String> {
    let url = auth.auth_url.as_deref().ok_or("no authUrl")?;
    let credentials = basic_credentials(
        auth.client_id.as_deref().unwrap_or_default(),
        auth.client_secret.as_deref().unwrap_or_default(),
    );
    let response = http
        .post(url)
        .timeout(timeout)
        .header(auth.header_name.as_str(), credentials)
        .header("Accept", "application/json; charset=UTF-8")
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=ISO-8859-1",
        )
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| format!("OAuth token call to {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("OAuth token call to {url}: HTTP {}", response.status()));
    }
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("OAuth token answer from {url}: {e}"))?;
    body.get("access_token")
        .and_then(Value::as_str)
        .filter(|_| body.get("expires_in").is_some())
        .map(str::to_owned)
        .ok_or_else(|| format!("OAuth token answer from {url} lacks access_token or expires_in"))
}

/// Posts `body` to the target once.
pub async fn post(
    http: &reqwest::Client,
    target: &Target,
    body: &[u8],
    timeout: Duration,
) -> DeliveryOutcome {
    // One value per header: the subscription's own headers (its `content-type` included) replace
    // ours, and the authentication header replaces theirs.
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in &target.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    if let Some(auth) = &target.auth {
        let value = match auth.method {
            AuthMethod::Hmac => hmac_signature(auth.client_secret.as_deref().unwrap_or_default(), body),
            AuthMethod::BasicAuth => basic_credentials(
                auth.user_name.as_deref().unwrap_or_default(),
                auth.password.as_deref().unwrap_or_default(),
            ),
            AuthMethod::OAuth => match oauth_token(http, auth, timeout).await {
                Ok(token) => format!("Bearer {token}"),
                Err(message) => return DeliveryOutcome::Failed { message },
            },
        };
        match (
            HeaderName::from_bytes(auth.header_name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => {
                return DeliveryOutcome::Failed {
                    message: format!("{:?} cannot carry the credential", auth.header_name),
                };
            }
        }
    }
    let request = http
        .post(&target.event_url)
        .timeout(timeout)
        .headers(headers)
        .body(body.to_vec());
    match request.send().await {
        Ok(response) if response.status().is_success() => DeliveryOutcome::Delivered {
            status: response.status().as_u16(),
        },
        Ok(response) => DeliveryOutcome::Rejected {
            status: response.status().as_u16(),
        },
        Err(e) if e.is_timeout() => DeliveryOutcome::TimedOut,
        Err(e) => DeliveryOutcome::Failed {
            message: e.to_string(),
        },
    }
}

fn lock(world: &Mutex<World>) -> std::sync::MutexGuard<'_, World> {
    world.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the sender on the current Tokio runtime (none: deliveries wait until there is one and
/// nothing is sent). It stops once the world is dropped.
pub fn spawn_sender(world: &Arc<Mutex<World>>, clock: Arc<dyn Clock>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let wake = lock(world).webhooks.wake.clone();
    let world = Arc::downgrade(world);
    runtime.spawn(async move {
        let http = http_client();
        loop {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(TICK) => {}
            }
            let Some(strong) = world.upgrade() else {
                return;
            };
            let (due, timeout) = {
                let mut guard = lock(&strong);
                let now = clock.now();
                let timeout = Duration::from_millis(guard.settings.webhooks.timeout_ms);
                (guard.webhooks.take_due(now), timeout)
            };
            drop(strong);
            for (job, subscription) in due {
                tokio::spawn(send(
                    world.clone(),
                    clock.clone(),
                    http.clone(),
                    job,
                    Target::from(&subscription),
                    timeout,
                ));
            }
        }
    });
}

async fn send(
    world: Weak<Mutex<World>>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    job: Job,
    target: Target,
    timeout: Duration,
) {
    let sent_at: Timestamp = clock.now();
    let outcome = post(&http, &target, &job.body, timeout).await;
    let finished_at = clock.now();
    let Some(world) = world.upgrade() else {
        return;
    };
    let mut guard = lock(&world);
    let world = &mut *guard;
    world.webhooks.finish(
        &world.settings.webhooks,
        job,
        target.event_url,
        sent_at,
        finished_at,
        outcome,
    );
}
