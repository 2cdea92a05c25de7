//! Client configuration: where Walmart is and who we are.

use std::fmt;
use std::time::Duration;

use ports::Backoff;

/// Walmart's production API.
pub const PRODUCTION_URL: &str = "https://marketplace.walmartapis.com";
/// Walmart's own sandbox.
pub const WALMART_SANDBOX_URL: &str = "https://sandbox.walmartapis.com";
/// The `WM_SVC.NAME` value Walmart's documentation uses.
pub const DEFAULT_SERVICE_NAME: &str = "Walmart Marketplace";

/// A client secret. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct WalmartConfig {
    /// Scheme, host and optional port, no trailing slash (e.g. `https://marketplace.walmartapis.com`).
    pub base_url: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// `WM_SVC.NAME`.
    pub service_name: String,
    /// `WM_CONSUMER.CHANNEL.TYPE`, given to solution providers at onboarding; sent when set.
    pub consumer_channel_type: Option<String>,
    /// Longest wait for one HTTP exchange; shortened further to the caller's deadline.
    pub request_timeout: Duration,
    /// Retry policy for 429, 5xx and timeouts.
    pub backoff: Backoff,
    /// Refresh the cached token this long before it expires.
    pub token_refresh_margin: Duration,
    /// Apply the client-side token buckets. Off only for tests that want to provoke 429s.
    pub client_rate_limits: bool,
    /// Largest response body read; a larger one is [`crate::WalmartError::ResponseTooLarge`].
    pub max_response_bytes: usize,
}

impl WalmartConfig {
    /// Against any base URL (our local sandbox, a proxy). The client refuses it unless it is https,
    /// or http to this machine.
    pub fn custom(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            client_id: client_id.into(),
            client_secret,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            consumer_channel_type: None,
            request_timeout: Duration::from_secs(30),
            backoff: Backoff::default(),
            token_refresh_margin: Duration::from_secs(60),
            client_rate_limits: true,
            max_response_bytes: ports::http::MAX_RESPONSE_BYTES,
        }
    }

    pub fn production(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self::custom(PRODUCTION_URL, client_id, client_secret)
    }

    pub fn walmart_sandbox(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self::custom(WALMART_SANDBOX_URL, client_id, client_secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let config = WalmartConfig::production("id", ClientSecret::new("hunter2"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(config.base_url, PRODUCTION_URL);
        assert_eq!(
            WalmartConfig::custom("http://127.0.0.1:1/", "id", ClientSecret::new("s")).base_url,
            "http://127.0.0.1:1"
        );
    }
}
