//! Walmart's push notifications for the channel: where Walmart delivers `ORDER_UPDATES` and how the
//! deliveries are authenticated. The secret itself comes from the channel's secret at start-up,
//! never from settings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How Walmart authenticates deliveries to the receiver (`authDetails.authMethod`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PushAuthMethod {
    /// An HMAC-SHA256 of the body in a header (the default).
    #[default]
    Hmac,
    /// `Basic base64(user:password)` in a header.
    BasicAuth,
}

/// The channel's push settings (`push` in `CHANNEL_SETTINGS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSettings {
    /// The `walmart-events` receiver's URL (the deployment sets it from the Function URL). Unset:
    /// no subscription is managed and orders arrive by polling alone.
    #[serde(default)]
    pub event_url: Option<String>,
    #[serde(default)]
    pub auth_method: PushAuthMethod,
    /// The header Walmart puts the signature or the basic credentials in.
    #[serde(default = "default_auth_header")]
    pub auth_header_name: String,
    /// The user name of basic authentication (its password is the secret).
    #[serde(default)]
    pub basic_user_name: Option<String>,
    /// The HMAC key or the basic password, from the channel's secret (`walmart_events` in the
    /// secret's JSON); never serialized.
    #[serde(skip)]
    pub secret: Option<WebhookSecret>,
}

fn default_auth_header() -> String {
    "X-Walmart-Signature".to_owned()
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            event_url: None,
            auth_method: PushAuthMethod::default(),
            auth_header_name: default_auth_header(),
            basic_user_name: None,
            secret: None,
        }
    }
}

impl PushSettings {
    /// Whether the channel subscribes to Walmart's order events: a URL and a secret to sign with.
    pub fn enabled(&self) -> bool {
        self.event_url.is_some() && self.secret.is_some()
    }
}

/// A value that must never print (a webhook's HMAC key or password).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_nor_serializes() {
        let settings = PushSettings {
            event_url: Some("https://x.example/".into()),
            secret: Some(WebhookSecret::new("s3cret")),
            ..PushSettings::default()
        };
        assert!(!format!("{settings:?}").contains("s3cret"));
        let json = serde_json::to_string(&settings).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
        let back: PushSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back.secret, None);
        assert!(settings.enabled() && !back.enabled());
    }
}
