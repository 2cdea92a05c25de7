//! The HTTP core: URLs, authentication, one attempt, retries within the caller's deadline, and
//! paged searches.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ports::{Clock, Deadline};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{CommerceAuth, CommerceConfig};
use crate::error::{CommerceError, NO_ROUTE_MESSAGE, render_error_body};
use crate::oauth;
use crate::search::{PageCursor, SearchCriteria};
use crate::wire::SearchResults;
use ports::http::{MAX_ERROR_TEXT_CHARS, excerpt};

/// A typed client of one Commerce store view. Cheap to clone; build it once per cold start.
#[derive(Clone)]
pub struct CommerceClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    pub(crate) config: CommerceConfig,
    pub(crate) clock: Arc<dyn Clock>,
    /// `<base_url>/rest/<store_code>/V1`, without a trailing slash.
    api_root: String,
    /// Whether the store has the RMA module, once detected.
    pub(crate) rma_supported: Mutex<Option<bool>>,
    /// The store view's set-up once checked, and whether MSI was checked with it.
    pub(crate) store_setup: Mutex<Option<(ports::commerce::StoreSetup, bool)>>,
    /// Configuration checks passed so far, by name ([`route_check`], [`payment_method_check`]).
    checks_passed: Mutex<std::collections::HashMap<String, u64>>,
}

/// The configuration check a route passes whenever Magento's router serves it (any answer but
/// "Request does not match any route.").
pub fn route_check(route: &str) -> String {
    format!("route {route}")
}

/// The configuration check a placement passes when the cart offers its payment method.
pub fn payment_method_check(method: &str) -> String {
    format!("payment method {method}")
}

/// One request: the route template names it in logs and errors (never the concrete path, which can
/// carry SKUs or emails in the query).
pub(crate) struct Call<'a> {
    pub method: Method,
    pub route: &'static str,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<&'a Value>,
    /// Magento cannot repeat it safely (no idempotency key: an invoice, a comment, a cancellation,
    /// a credit memo, an RMA): see [`Call::once`].
    pub once: bool,
}

impl<'a> Call<'a> {
    pub fn get(route: &'static str, path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            route,
            path: path.into(),
            query: Vec::new(),
            body: None,
            once: false,
        }
    }

    pub fn send(method: Method, route: &'static str, path: impl Into<String>, body: &'a Value) -> Self {
        Self {
            method,
            route,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            once: false,
        }
    }

    pub fn post_empty(route: &'static str, path: impl Into<String>) -> Self {
        Self {
            method: Method::POST,
            route,
            path: path.into(),
            query: Vec::new(),
            body: None,
            once: false,
        }
    }

    pub fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }

    /// Sent at most once per call: after a timeout, a 5xx or a garbled answer Magento may have
    /// applied it, so it is not sent again blindly; the caller reads the order to see what is
    /// missing ([`outcome_unknown`]). Throttling (429, or 503 with `Retry-After`) is answered
    /// before Magento does anything and is still waited out and retried.
    pub fn once(mut self) -> Self {
        self.once = true;
        self
    }
}

/// Whether a failed call may still have been applied by Magento (the answer was lost, late or
/// unreadable), as opposed to refused before anything happened.
pub(crate) fn outcome_unknown(error: &CommerceError) -> bool {
    matches!(
        error,
        CommerceError::Server { .. }
            | CommerceError::Timeout { .. }
            | CommerceError::Transport { .. }
            | CommerceError::Malformed { .. }
            | CommerceError::DeadlineExceeded { .. }
    )
}

/// Percent-encodes one path segment (SKUs may hold `/`, spaces or `#`).
pub(crate) fn seg(raw: &str) -> String {
    oauth::encode(raw)
}

impl CommerceClient {
    pub fn new(config: CommerceConfig, clock: Arc<dyn Clock>) -> Result<Self, CommerceError> {
        let base = config.base_url.trim_end_matches('/');
        // https only (http to this machine for sandboxes): every request carries the
        // Integration's credentials and order bodies carry buyer addresses.
        ports::http::check_base_url(base)
            .map_err(|e| CommerceError::Input(format!("Commerce configuration: {e}")))?;
        if config.store_code.is_empty() || config.store_code.contains('/') {
            return Err(CommerceError::Input(format!(
                "invalid store code {:?}",
                config.store_code
            )));
        }
        // No redirects: Magento's REST API does not redirect, and following one would resend a
        // signed request, and its body, to wherever it points.
        let http = reqwest::Client::builder()
            .connect_timeout(ports::http::CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CommerceError::Input(format!("cannot build the HTTP client: {e}")))?;
        let api_root = format!("{base}/rest/{}/V1", config.store_code);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                clock,
                api_root,
                rma_supported: Mutex::new(None),
                store_setup: Mutex::new(None),
                checks_passed: Mutex::new(std::collections::HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &CommerceConfig {
        &self.inner.config
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    /// Counts a configuration check that passed (see [`ports::commerce::Commerce::checks_passed`]).
    pub(crate) fn note_check_passed(&self, check: String) {
        if let Ok(mut passed) = self.inner.checks_passed.lock() {
            *passed.entry(check).or_default() += 1;
        }
    }

    /// How many times the configuration check named `check` passed in this client.
    pub fn checks_passed(&self, check: &str) -> u64 {
        self.inner
            .checks_passed
            .lock()
            .map(|passed| passed.get(check).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Sends `call`, retrying 5xx, 429, timeouts and dropped connections with jittered backoff for as
    /// long as `deadline` allows, and decodes a 2xx body as `T`.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        deadline: &Deadline,
    ) -> Result<T, CommerceError> {
        let answered = self.execute_raw(call, deadline).await;
        // The router served the route: whatever it found missing is an entity, not the route.
        if matches!(
            &answered,
            Ok(_) | Err(CommerceError::NotFound { .. } | CommerceError::Validation { .. })
        ) {
            self.note_check_passed(route_check(call.route));
        }
        let body = answered?;
        serde_json::from_str(&body).map_err(|e| {
            // serde quotes the value it refused (in an order, a buyer's data): redacted. The start
            // of a body that is not JSON at all (a proxy's error page) says what answered.
            let message = ports::redact::redact_values(&e.to_string());
            let context = if body.trim_start().starts_with(['{', '[']) {
                message
            } else {
                format!(
                    "{message} in a body starting {:?}",
                    body.chars().take(80).collect::<String>()
                )
            };
            CommerceError::Malformed {
                route: call.route.to_owned(),
                context,
            }
        })
    }

    pub(crate) async fn execute_raw(
        &self,
        call: &Call<'_>,
        deadline: &Deadline,
    ) -> Result<String, CommerceError> {
        let backoff = self.inner.config.backoff;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            if deadline.is_past() {
                return Err(CommerceError::DeadlineExceeded {
                    route: call.route.to_owned(),
                    last: "no time left for an attempt".to_owned(),
                });
            }
            let timeout = self.inner.config.request_timeout.min(deadline.remaining());
            let outcome = self.attempt(call, timeout).await;
            let error = match outcome {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            let error = with_attempts(error, attempt);
            if !error.is_retryable() {
                return Err(error);
            }
            if call.once && !matches!(error, CommerceError::Throttled { .. }) {
                return Err(error);
            }
            if backoff.delay(attempt).is_none() {
                return Err(error);
            }
            match backoff.next_wait(attempt, error.retry_after(), deadline) {
                Some(wait) => {
                    tracing::warn!(
                        route = call.route,
                        attempt,
                        kind = error.kind(),
                        wait_ms = wait.as_millis() as u64,
                        "Commerce call failed; retrying"
                    );
                    self.inner.clock.sleep(wait).await;
                }
                // Throttling stays throttling: the caller reschedules instead of reporting a failure.
                None if matches!(error, CommerceError::Throttled { .. }) => return Err(error),
                None => {
                    return Err(CommerceError::DeadlineExceeded {
                        route: call.route.to_owned(),
                        last: error.to_string(),
                    });
                }
            }
        }
    }

    /// The full URL (query included) and the decoded query pairs that were signed.
    fn url_for(&self, call: &Call<'_>) -> Result<url::Url, CommerceError> {
        // Magento collects query parameters into a PHP array keyed by name, so a repeated key is
        // signed with its last value only and the signature fails: lists are indexed (`[0]`, `[1]`).
        let mut names = std::collections::HashSet::new();
        if let Some((repeated, _)) = call.query.iter().find(|(name, _)| !names.insert(name.as_str())) {
            return Err(CommerceError::Input(format!(
                "{}: query parameter {repeated} repeated; Magento would verify only its last value",
                call.route
            )));
        }
        let mut full = format!("{}/{}", self.inner.api_root, call.path.trim_start_matches('/'));
        if !call.query.is_empty() {
            let encoded = call
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", oauth::encode(k), oauth::encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            full.push('?');
            full.push_str(&encoded);
        }
        url::Url::parse(&full)
            .map_err(|e| CommerceError::Input(format!("cannot build a URL for {}: {e}", call.route)))
    }

    fn authorization(&self, method: &Method, url: &url::Url, query: &[(String, String)]) -> String {
        match &self.inner.config.auth {
            CommerceAuth::Bearer { token } => format!("Bearer {token}"),
            CommerceAuth::OAuth1 {
                consumer_key,
                consumer_secret,
                access_token,
                access_token_secret,
            } => {
                let creds = oauth::Credentials {
                    consumer_key,
                    consumer_secret,
                    token: access_token,
                    token_secret: access_token_secret,
                };
                oauth::authorization_header(
                    method.as_str(),
                    url,
                    query,
                    creds,
                    &oauth::nonce(),
                    self.inner.clock.now().seconds(),
                )
            }
        }
    }

    async fn attempt(&self, call: &Call<'_>, timeout: Duration) -> Result<String, CommerceError> {
        let route = call.route.to_owned();
        let url = self.url_for(call)?;
        let authorization = self.authorization(&call.method, &url, &call.query);
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .timeout(timeout)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = call.body {
            let bytes =
                serde_json::to_vec(body).map_err(|e| CommerceError::Input(format!("{route}: {e}")))?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&route, e, timeout))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| retry_after(value, self.inner.clock.now()));
        let retry_at = retry_after.map(|wait| self.inner.clock.now().plus(wait));
        let text = read_body(response, &route, timeout, self.inner.config.max_response_bytes).await?;
        tracing::debug!(
            route = call.route,
            method = call.method.as_str(),
            status,
            "Commerce answered"
        );
        if (200..300).contains(&status) {
            return Ok(text);
        }
        if (300..400).contains(&status) {
            return Err(CommerceError::Redirected { route, status });
        }
        let message = render_error_body(&text);
        Err(match status {
            401 | 403 => CommerceError::Auth { route, message },
            // Only Magento's router answers this text; an entity 404 names the entity.
            404 if message == NO_ROUTE_MESSAGE => CommerceError::NoRoute { route, message },
            404 => CommerceError::NotFound { route, message },
            // Fastly or nginx in front of the store (and 2.4.7's order-placement limiter) answer 429,
            // or 503 with `Retry-After`: slow down, and say so rather than report a server error.
            429 => CommerceError::Throttled {
                route,
                status,
                retry_after,
                retry_at,
                attempts: 1,
                message,
            },
            503 if retry_after.is_some() => CommerceError::Throttled {
                route,
                status,
                retry_after,
                retry_at,
                attempts: 1,
                message,
            },
            400..=499 => CommerceError::Validation {
                route,
                status,
                message,
            },
            _ => CommerceError::Server {
                route,
                status,
                attempts: 1,
                message,
            },
        })
    }

    /// Starts a paged search of `path` (a search route such as `products`) with `criteria`; the
    /// configured page size is used unless the criteria set one.
    pub(crate) fn paged<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
        criteria: SearchCriteria,
    ) -> Paged<T> {
        let page_size = criteria.page_size.unwrap_or(self.inner.config.page_size);
        Paged {
            client: self.clone(),
            route,
            path: path.to_owned(),
            criteria,
            cursor: PageCursor::new(page_size),
            _items: PhantomData,
        }
    }
}

/// Reads the body as text, refusing one longer than `limit` bytes (announced or actual) before
/// buffering it.
async fn read_body(
    mut response: reqwest::Response,
    route: &str,
    timeout: Duration,
    limit: usize,
) -> Result<String, CommerceError> {
    let too_large = || CommerceError::ResponseTooLarge {
        route: route.to_owned(),
        limit_bytes: limit,
    };
    if response
        .content_length()
        .is_some_and(|announced| announced > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(route, e, timeout))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The error of a failed exchange. reqwest's text names the URL, whose query can carry the buyer's
/// email (the order look-up) or SKUs: it is dropped, as the route already says where the call went.
fn transport_error(route: &str, error: reqwest::Error, timeout: Duration) -> CommerceError {
    let error = error.without_url();
    if error.is_timeout() {
        CommerceError::Timeout {
            route: route.to_owned(),
            timeout,
            attempts: 1,
        }
    } else if error.is_decode() || error.is_body() {
        CommerceError::Transport {
            route: route.to_owned(),
            message: format!("answer cut short: {}", transport_text(&error)),
        }
    } else {
        CommerceError::Transport {
            route: route.to_owned(),
            message: transport_text(&error),
        }
    }
}

/// reqwest's error text (already without the URL) with its causes (connection refused, TLS
/// failure), bounded.
fn transport_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    excerpt(&text, MAX_ERROR_TEXT_CHARS)
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (IMF-fixdate, `Sun, 06 Nov
/// 1994 08:49:37 GMT`) read against our clock; a date in the past means no wait.
pub(crate) fn retry_after(value: &str, now: domain::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut parts = value.split_whitespace().skip(1);
    let (day, month, year, time) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let at = domain::Timestamp::parse_commerce(&format!("{year}-{month:02}-{day:0>2} {time}")).ok()?;
    Some(if at > now { at.since(now) } else { Duration::ZERO })
}

fn with_attempts(error: CommerceError, attempts: u32) -> CommerceError {
    match error {
        CommerceError::Throttled {
            route,
            status,
            retry_after,
            retry_at,
            message,
            ..
        } => CommerceError::Throttled {
            route,
            status,
            retry_after,
            retry_at,
            attempts,
            message,
        },
        CommerceError::Server {
            route,
            status,
            message,
            ..
        } => CommerceError::Server {
            route,
            status,
            attempts,
            message,
        },
        CommerceError::Timeout { route, timeout, .. } => CommerceError::Timeout {
            route,
            timeout,
            attempts,
        },
        other => other,
    }
}

/// A search read page by page. Ends by `total_count` (Magento repeats the last page when asked past
/// it), so a caller can stop between pages and keep a cursor.
pub struct Paged<T> {
    client: CommerceClient,
    route: &'static str,
    path: String,
    criteria: SearchCriteria,
    cursor: PageCursor,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Paged<T> {
    /// The next page, or `None` once every page was read.
    pub async fn next_page(&mut self, deadline: &Deadline) -> Result<Option<Vec<T>>, CommerceError> {
        if self.cursor.done {
            return Ok(None);
        }
        let criteria = self
            .criteria
            .clone()
            .page_size(self.cursor.page_size)
            .current_page(self.cursor.next_page);
        let call = Call::get(self.route, self.path.clone()).query(criteria.to_query());
        let page: SearchResults<T> = self.client.execute(&call, deadline).await?;
        self.cursor.advance(page.total_count, page.items.len());
        Ok(Some(page.items))
    }

    /// Reads every remaining page.
    pub async fn collect_all(mut self, deadline: &Deadline) -> Result<Vec<T>, CommerceError> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page(deadline).await? {
            all.extend(items);
        }
        Ok(all)
    }

    /// Reads exactly one page, for callers that keep their own cursor (a page number in a queue
    /// message, say).
    pub async fn page(
        self,
        request: ports::PageRequest,
        deadline: &Deadline,
    ) -> Result<ports::SearchPage<T>, CommerceError> {
        let criteria = self.criteria.page_size(request.size).current_page(request.page);
        let call = Call::get(self.route, self.path.clone()).query(criteria.to_query());
        let page: SearchResults<T> = self.client.execute(&call, deadline).await?;
        Ok(ports::SearchPage {
            items: page.items,
            total_count: page.total_count,
        })
    }

    /// Where the search stands (pages read, `total_count` as last reported).
    pub fn cursor(&self) -> PageCursor {
        self.cursor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = domain::Timestamp::parse_commerce("2026-03-01 12:00:00").unwrap();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Sun, 01 Mar 2026 12:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }
}
