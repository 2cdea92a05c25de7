//! The client core: token cache, headers, rate limits, retries and response classification.
//! The operations themselves live in `api/`, one module per Walmart API.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use base64::Engine;
use domain::Timestamp;
use ports::{Clock, Deadline};
use reqwest::Method;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::config::WalmartConfig;
use crate::endpoint::Endpoint;
use crate::error::WalmartError;
use crate::rate_limit::{ClientStats, RateLimiter};
use crate::wire;

/// An access token. Never printed.
#[derive(Clone, PartialEq, Eq)]
struct AccessToken(String);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: AccessToken,
    expires_at: Timestamp,
}

/// Walmart's documented token lifetime, used when a token response omits `expires_in`.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(900);

/// What a request carries.
pub(crate) enum Payload {
    Empty,
    Json(Vec<u8>),
    /// A feed file, sent as the multipart part `file`.
    Feed(Vec<u8>),
    Form(&'static str),
}

/// One logical call: retried as a whole.
pub(crate) struct Call<'a> {
    pub endpoint: Endpoint,
    pub method: Method,
    /// Path and query, already percent-encoded.
    pub path: String,
    pub payload: Payload,
    /// The business key for logs (a SKU, purchase order id, feed id): never buyer data.
    pub key: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn get(endpoint: Endpoint, path: String) -> Self {
        Self {
            endpoint,
            method: Method::GET,
            path,
            payload: Payload::Empty,
            key: None,
        }
    }

    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    pub fn with_key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    pub fn with_json<T: serde::Serialize>(mut self, body: &T) -> Result<Self, WalmartError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| WalmartError::InvalidInput(format!("cannot serialise the request: {e}")))?;
        self.payload = Payload::Json(bytes);
        Ok(self)
    }

    pub fn with_feed(mut self, file: Vec<u8>) -> Self {
        self.payload = Payload::Feed(file);
        self
    }
}

/// Walmart Marketplace client. Build once (per Lambda cold start) and share: it holds the HTTP
/// connection pool, the token cache and the rate-limit buckets.
pub struct WalmartClient {
    config: WalmartConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    limiter: RateLimiter,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    /// `Basic base64(client_id:client_secret)`: derived from the secret, so never logged.
    basic_auth: String,
    /// The largest feed details page to ask for: lowered for the rest of the process once Walmart
    /// refuses the large one.
    pub(crate) feed_details_page: AtomicU32,
}

impl fmt::Debug for WalmartClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalmartClient")
            .field("base_url", &self.config.base_url)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

impl WalmartClient {
    /// Refuses a base URL that is not https (http only to this machine, for sandboxes): the
    /// client secret and access tokens must never travel in clear.
    pub fn new(config: WalmartConfig, clock: Arc<dyn Clock>) -> Result<Self, WalmartError> {
        ports::http::check_base_url(&config.base_url)
            .map_err(|e| WalmartError::InvalidInput(format!("Walmart configuration: {e}")))?;
        // No redirects: Walmart's API never redirects, and following one would send the access
        // token and order bodies to wherever it points.
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(50))
            .connect_timeout(ports::http::CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| WalmartError::InvalidInput(format!("cannot build the HTTP client: {e}")))?;
        let credentials = format!("{}:{}", config.client_id, config.client_secret.expose());
        let basic_auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        );
        Ok(Self {
            limiter: RateLimiter::new(clock.clone(), config.client_rate_limits),
            config,
            http,
            clock,
            token: tokio::sync::Mutex::new(None),
            basic_auth,
            feed_details_page: AtomicU32::new(crate::api::feeds::MAX_FEED_DETAILS_PAGE),
        })
    }

    pub fn config(&self) -> &WalmartConfig {
        &self.config
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Calls, 429s, retries and rate-limit waits per endpoint since the client was built.
    pub fn stats(&self) -> ClientStats {
        self.limiter.stats()
    }

    async fn access_token(&self, deadline: &Deadline) -> Result<AccessToken, WalmartError> {
        // Holding the lock across the fetch makes concurrent callers share one token request.
        let mut slot = self.token.lock().await;
        if let Some(cached) = slot.as_ref()
            && self.clock.now().plus(self.config.token_refresh_margin) < cached.expires_at
        {
            return Ok(cached.token.clone());
        }
        let call = Call {
            endpoint: Endpoint::Token,
            method: Method::POST,
            path: "/v3/token".to_owned(),
            payload: Payload::Form("grant_type=client_credentials"),
            key: None,
        };
        // Boxed: `execute` fetches tokens, so its future cannot contain itself unboxed.
        let response: wire::TokenResponse = Box::pin(self.execute(&call, deadline)).await?;
        if response.access_token.is_empty() {
            return Err(WalmartError::Malformed {
                endpoint: Endpoint::Token,
                context: "empty access_token".to_owned(),
            });
        }
        let ttl = response
            .expires_in
            .and_then(|s| u64::try_from(s).ok())
            .map_or(DEFAULT_TOKEN_TTL, Duration::from_secs);
        let cached = CachedToken {
            token: AccessToken(response.access_token),
            expires_at: self.clock.now().plus(ttl),
        };
        tracing::debug!(expires_at = %cached.expires_at, "fetched a Walmart access token");
        let token = cached.token.clone();
        *slot = Some(cached);
        Ok(token)
    }

    async fn invalidate(&self, used: &AccessToken) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == used) {
            *slot = None;
        }
    }

    /// Runs a call to completion: token, rate limit, send, classify, retry. The body of a 2xx is
    /// parsed as `T` inside the retry loop so a mangled body of an idempotent read is retried.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        deadline: &Deadline,
    ) -> Result<T, WalmartError> {
        self.execute_correlated(call, deadline)
            .await
            .map(|(value, _)| value)
    }

    /// [`Self::execute`], with the call's correlation id, for what is reported about the body
    /// after it decoded (a skipped record, a value Walmart added since).
    pub(crate) async fn execute_correlated<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        deadline: &Deadline,
    ) -> Result<(T, String), WalmartError> {
        // One correlation id per logical call, kept across its retries as Walmart asks, so their
        // support can follow one operation end to end.
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let span = tracing::info_span!(
            "walmart",
            endpoint = call.endpoint.name(),
            correlation_id = %correlation_id,
            key = call.key.unwrap_or(""),
        );
        let value = self
            .execute_inner(call, &correlation_id, deadline)
            .instrument(span)
            .await?;
        Ok((value, correlation_id))
    }

    async fn execute_inner<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        correlation_id: &str,
        deadline: &Deadline,
    ) -> Result<T, WalmartError> {
        let endpoint = call.endpoint;
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let mut last: Option<WalmartError> = None;
        loop {
            attempt += 1;
            if deadline.is_past() {
                return Err(WalmartError::DeadlineExceeded {
                    endpoint,
                    attempts: attempt - 1,
                    last: last.map(Box::new),
                });
            }
            self.limiter.acquire(endpoint, deadline).await?;
            let token = match endpoint {
                Endpoint::Token => None,
                _ => Some(self.access_token(deadline).await?),
            };
            let outcome = self
                .send_once(call, token.as_ref(), correlation_id, deadline)
                .await
                .and_then(|body| {
                    // serde quotes the value it refused: in an order, a buyer's name.
                    wire::decode::<T>(&body).map_err(|e| WalmartError::Malformed {
                        endpoint,
                        context: ports::redact::redact_values(&e.to_string()),
                    })
                });
            let err = match outcome {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if let (WalmartError::Auth { status: 401, .. }, Some(used)) = (&err, &token)
                && !refreshed
            {
                // A token can be revoked or expire early: fetch a new one, once.
                tracing::info!("access token rejected; refreshing it once");
                refreshed = true;
                self.invalidate(used).await;
                continue;
            }
            // A call that is not repeatable (ship, cancel, refund, feed submission) is retried
            // only after a 429, which Walmart answers before doing anything. After a timeout, a
            // 5xx or a lost answer it may have been applied: the caller reads Walmart's state
            // before acting again, never this loop.
            let retryable = if endpoint.is_idempotent() {
                err.is_retryable() || matches!(err, WalmartError::Malformed { .. })
            } else {
                matches!(err, WalmartError::Throttled { .. })
            };
            if !retryable || attempt >= self.config.backoff.max_attempts {
                tracing::warn!(attempt, error = %err, "Walmart call failed");
                return Err(err);
            }
            let hint = err.retry_hint(self.clock.now());
            let Some(wait) = self.config.backoff.next_wait(attempt, hint, deadline) else {
                tracing::warn!(attempt, error = %err, "no time left before the deadline to retry");
                return Err(WalmartError::DeadlineExceeded {
                    endpoint,
                    attempts: attempt,
                    last: Some(Box::new(err)),
                });
            };
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "retrying Walmart call");
            self.limiter.count_retry(endpoint);
            last = Some(err);
            self.clock.sleep(wait).await;
        }
    }

    /// One HTTP exchange. Returns the body of a 2xx response, or the classified error.
    async fn send_once(
        &self,
        call: &Call<'_>,
        token: Option<&AccessToken>,
        correlation_id: &str,
        deadline: &Deadline,
    ) -> Result<Vec<u8>, WalmartError> {
        let endpoint = call.endpoint;
        let timeout = self.config.request_timeout.min(deadline.remaining());
        if timeout.is_zero() {
            return Err(WalmartError::Timeout { endpoint });
        }
        let url = format!("{}{}", self.config.base_url, call.path);
        let mut request = self
            .http
            .request(call.method.clone(), &url)
            .timeout(timeout)
            .header("Authorization", &self.basic_auth)
            .header("WM_SVC.NAME", &self.config.service_name)
            .header("WM_QOS.CORRELATION_ID", correlation_id)
            .header("Accept", "application/json");
        if let Some(token) = token {
            request = request.header("WM_SEC.ACCESS_TOKEN", &token.0);
        }
        if let Some(channel) = &self.config.consumer_channel_type {
            request = request.header("WM_CONSUMER.CHANNEL.TYPE", channel);
        }
        request = match &call.payload {
            // Walmart answers 500 to a POST without a Content-Type, even one without a body
            // (acknowledge).
            Payload::Empty if call.method == Method::POST => {
                request.header("Content-Type", "application/json")
            }
            Payload::Empty => request,
            Payload::Json(bytes) => request
                .header("Content-Type", "application/json")
                .body(bytes.clone()),
            Payload::Form(text) => request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(*text),
            Payload::Feed(bytes) => {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name("feed.json")
                    .mime_str("application/json")
                    .map_err(|e| WalmartError::InvalidInput(format!("feed part: {e}")))?;
                request.multipart(reqwest::multipart::Form::new().part("file", part))
            }
        };
        self.limiter.count_call(endpoint);
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(|e| transport_error(endpoint, e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let token_count = header("x-current-token-count").and_then(|n| u32::try_from(n).ok());
        let replenish_at = header("x-next-replenishment-time").map(Timestamp::from_millis);
        let body = read_body(response, endpoint, self.config.max_response_bytes).await?;
        // Inside the call's span: endpoint, correlation id and business key come with it.
        tracing::info!(
            status,
            bytes = body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Walmart responded"
        );
        if status == 429 {
            self.limiter.throttled(endpoint, replenish_at);
        } else {
            self.limiter.observe(endpoint, token_count, replenish_at);
        }
        if (200..300).contains(&status) {
            return Ok(body);
        }
        if (300..400).contains(&status) {
            return Err(WalmartError::Redirected { endpoint, status });
        }
        Err(WalmartError::from_status(endpoint, status, &body, replenish_at))
    }
}

/// Reads the body, refusing one longer than `limit` bytes (announced or actual) before buffering it.
async fn read_body(
    mut response: reqwest::Response,
    endpoint: Endpoint,
    limit: usize,
) -> Result<Vec<u8>, WalmartError> {
    let too_large = WalmartError::ResponseTooLarge {
        endpoint,
        limit_bytes: limit,
    };
    if response
        .content_length()
        .is_some_and(|announced| announced > limit as u64)
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(endpoint, e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error of a failed exchange. reqwest's text names the URL, whose query can hold SKUs or
/// order filters; it is dropped, as the endpoint already says where the call went.
fn transport_error(endpoint: Endpoint, e: reqwest::Error) -> WalmartError {
    let e = e.without_url();
    if e.is_timeout() {
        WalmartError::Timeout { endpoint }
    } else if e.is_decode() || e.is_body() {
        WalmartError::Malformed {
            endpoint,
            context: format!("body could not be read: {}", transport_text(&e)),
        }
    } else {
        WalmartError::Transport {
            endpoint,
            message: transport_text(&e),
        }
    }
}

/// reqwest's error text without the URL, with its causes (connection refused, TLS failure), bounded.
fn transport_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ports::http::excerpt(&text, ports::http::MAX_ERROR_TEXT_CHARS)
}
