//! How to reach one Commerce store and authenticate as its Integration.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Pages of at most this many items: stores with input limits enabled (2.4.7+) reject more.
pub const DEFAULT_PAGE_SIZE: u32 = 300;

/// How requests are authenticated. Built from the channel's secret; `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommerceAuth {
    /// An Integration's OAuth 1.0a credentials: every request is signed (HMAC-SHA256). Works on every
    /// store, so it is the default.
    #[serde(rename = "oauth1")]
    OAuth1 {
        consumer_key: String,
        consumer_secret: String,
        access_token: String,
        access_token_secret: String,
    },
    /// The Integration's access token as a bearer token. Only stores that enable
    /// `oauth/consumer/enable_integration_as_bearer` accept it.
    Bearer { token: String },
}

impl fmt::Debug for CommerceAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommerceAuth::OAuth1 { consumer_key, .. } => f
                .debug_struct("OAuth1")
                .field("consumer_key", consumer_key)
                .field("consumer_secret", &"[redacted]")
                .field("access_token", &"[redacted]")
                .field("access_token_secret", &"[redacted]")
                .finish(),
            CommerceAuth::Bearer { .. } => f.debug_struct("Bearer").field("token", &"[redacted]").finish(),
        }
    }
}

/// Everything the client needs to talk to one store view.
#[derive(Debug, Clone)]
pub struct CommerceConfig {
    /// The store's base URL, e.g. `https://shop.example.com` (the client appends `/rest/<store_code>/V1/...`).
    /// The client refuses it unless it is https, or http to this machine.
    pub base_url: String,
    /// Store view code in `/rest/<store_code>/V1/...`.
    pub store_code: String,
    pub auth: CommerceAuth,
    /// Longest wait for one HTTP answer.
    pub request_timeout: Duration,
    /// `searchCriteria[pageSize]` for every paged search.
    pub page_size: u32,
    /// Retries of 5xx and timeouts (waits are also bounded by each call's deadline).
    pub backoff: ports::Backoff,
    /// Largest response body read; a larger one is [`crate::CommerceError::ResponseTooLarge`].
    pub max_response_bytes: usize,
}

impl CommerceConfig {
    pub fn new(base_url: impl Into<String>, store_code: impl Into<String>, auth: CommerceAuth) -> Self {
        Self {
            base_url: base_url.into(),
            store_code: store_code.into(),
            auth,
            request_timeout: ports::commerce::REQUEST_TIMEOUT,
            page_size: DEFAULT_PAGE_SIZE,
            backoff: ports::Backoff::default(),
            max_response_bytes: ports::http::MAX_RESPONSE_BYTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_secrets() {
        let auth = CommerceAuth::OAuth1 {
            consumer_key: "ck".into(),
            consumer_secret: "cs-secret".into(),
            access_token: "at-secret".into(),
            access_token_secret: "ats-secret".into(),
        };
        let shown = format!("{:?}", CommerceConfig::new("http://x", "default", auth));
        assert!(!shown.contains("secret\""), "{shown}");
        assert!(
            !shown.contains("cs-secret") && !shown.contains("at-secret"),
            "{shown}"
        );
        let bearer = format!(
            "{:?}",
            CommerceAuth::Bearer {
                token: "tok-secret".into()
            }
        );
        assert!(!bearer.contains("tok-secret"));
    }

    #[test]
    fn auth_deserialises_from_the_channel_secret() {
        let auth: CommerceAuth = serde_json::from_str(
            r#"{"type":"oauth1","consumer_key":"a","consumer_secret":"b","access_token":"c","access_token_secret":"d"}"#,
        )
        .unwrap();
        assert!(matches!(auth, CommerceAuth::OAuth1 { .. }));
        let bearer: CommerceAuth = serde_json::from_str(r#"{"type":"bearer","token":"t"}"#).unwrap();
        assert_eq!(bearer, CommerceAuth::Bearer { token: "t".into() });
    }
}
