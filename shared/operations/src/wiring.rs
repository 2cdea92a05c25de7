//! Building a [`Channel`](crate::Channel)'s API adapters from settings and credentials: the one place
//! both the Lambdas and the local runner connect to Walmart and Commerce.

use std::fmt;
use std::sync::Arc;

use commerce_client::CommerceClient;
use commerce_client::config::{CommerceAuth, CommerceConfig};
pub use ports::redact::redact_values;
use ports::{Clock, Commerce, Walmart};
use serde::Deserialize;
use walmart_client::{ClientSecret, WalmartClient, WalmartConfig};

/// Walmart API credentials (client credentials grant).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalmartCredentials {
    pub client_id: String,
    pub client_secret: String,
}

/// Commerce Integration credentials: OAuth 1.0a, or a bearer token on stores that allow it.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub enum CommerceCredentials {
    OAuth1 {
        consumer_key: String,
        consumer_secret: String,
        access_token: String,
        access_token_secret: String,
    },
    Bearer {
        bearer_token: String,
    },
}

/// The channel's secret: `{"walmart": {...}, "commerce": {...}}`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSecrets {
    pub walmart: WalmartCredentials,
    pub commerce: CommerceCredentials,
    /// The key Walmart signs its notifications with (HMAC) or their basic-auth password:
    /// `"walmart_events": {"secret": "..."}`. Absent or empty: no push, polling alone.
    #[serde(default)]
    pub walmart_events: Option<WalmartEventsSecret>,
}

/// The `walmart_events` part of the channel's secret.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalmartEventsSecret {
    pub secret: String,
}

impl ChannelSecrets {
    /// Puts the notifications secret where the receiver and the subscription check read it (the
    /// channel's push settings; never serialized).
    pub fn apply_push_secret(&self, settings: &mut domain::ChannelSettings) {
        settings.push.secret = self
            .walmart_events
            .as_ref()
            .filter(|e| !e.secret.is_empty())
            .map(|e| domain::WebhookSecret::new(e.secret.clone()));
    }
}

// Secrets never print, whatever logs them by accident.
impl fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSecrets([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(
        "channel secret is not the expected JSON ({{\"walmart\":{{client_id,client_secret}},\"commerce\":{{consumer_key,consumer_secret,access_token,access_token_secret}}}}): {0}"
    )]
    MalformedSecret(String),
    #[error("cannot set up the Walmart client: {0}")]
    Walmart(String),
    #[error("cannot set up the Commerce client: {0}")]
    Commerce(String),
}

impl ChannelSecrets {
    /// Parses the secret's JSON. A malformed one gets serde's message with every value redacted
    /// (see [`redact_values`]), so the error can be logged whatever the input.
    pub fn parse(raw: &str) -> Result<Self, WiringError> {
        serde_json::from_str(raw).map_err(|e| WiringError::MalformedSecret(redact_values(&e.to_string())))
    }
}

/// Where the APIs are.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub walmart_base_url: String,
    pub commerce_base_url: String,
    /// Commerce store view code (`/rest/<store_code>/V1/...`).
    pub store_code: String,
}

/// A channel's two API ports.
pub struct Apis {
    pub walmart: Arc<dyn Walmart>,
    pub commerce: Arc<dyn Commerce>,
}

/// The Walmart and Commerce ports for a channel.
pub fn connect(
    endpoints: &Endpoints,
    secrets: &ChannelSecrets,
    clock: Arc<dyn Clock>,
) -> Result<Apis, WiringError> {
    let walmart = WalmartClient::new(
        WalmartConfig::custom(
            endpoints.walmart_base_url.clone(),
            secrets.walmart.client_id.clone(),
            ClientSecret::new(secrets.walmart.client_secret.clone()),
        ),
        clock.clone(),
    )
    .map_err(|e| WiringError::Walmart(e.to_string()))?;
    let auth = match &secrets.commerce {
        CommerceCredentials::OAuth1 {
            consumer_key,
            consumer_secret,
            access_token,
            access_token_secret,
        } => CommerceAuth::OAuth1 {
            consumer_key: consumer_key.clone(),
            consumer_secret: consumer_secret.clone(),
            access_token: access_token.clone(),
            access_token_secret: access_token_secret.clone(),
        },
        CommerceCredentials::Bearer { bearer_token } => CommerceAuth::Bearer {
            token: bearer_token.clone(),
        },
    };
    let commerce = CommerceClient::new(
        CommerceConfig::new(
            endpoints.commerce_base_url.clone(),
            endpoints.store_code.clone(),
            auth,
        ),
        clock,
    )
    .map_err(|e| WiringError::Commerce(e.to_string()))?;
    Ok(Apis {
        walmart: Arc::new(walmart),
        commerce: Arc::new(commerce),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_parse_and_never_print() {
        let raw = r#"{"walmart":{"client_id":"id","client_secret":"s3cret"},
            "commerce":{"consumer_key":"ck","consumer_secret":"cs","access_token":"at","access_token_secret":"ats"}}"#;
        let s = ChannelSecrets::parse(raw).unwrap();
        assert_eq!(s.walmart.client_id, "id");
        assert!(!format!("{s:?}").contains("s3cret"));
        let bearer = r#"{"walmart":{"client_id":"id","client_secret":"x"},"commerce":{"bearer_token":"t"}}"#;
        assert!(matches!(
            ChannelSecrets::parse(bearer).unwrap().commerce,
            CommerceCredentials::Bearer { .. }
        ));
        let err = ChannelSecrets::parse(r#"{"walmart":{}}"#).unwrap_err();
        assert!(err.to_string().contains("client_id"), "{err}");
    }

    /// Every malformed shape of the secret, each carrying the secret value: the error names the
    /// problem and never the value.
    #[test]
    fn malformed_secrets_never_echo_a_secret() {
        const SECRET: &str = "Sup3rSecretValue42";
        const NUMERIC: &str = "987654321";
        let cases = [
            // Wrong types.
            r#"{"walmart":{"client_id":"id","client_secret":987654321},"commerce":{"bearer_token":"t"}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":987654321.5},"commerce":{"bearer_token":"t"}}"#,
            r#"{"walmart":"Sup3rSecretValue42","commerce":{"bearer_token":"t"}}"#,
            r#"{"walmart":["Sup3rSecretValue42"],"commerce":{"bearer_token":"t"}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"x"},"commerce":"Sup3rSecretValue42"}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"x"},"commerce":{"bearer_token":987654321}}"#,
            r#""Sup3rSecretValue42""#,
            r#"987654321"#,
            // Missing and extra fields.
            r#"{"walmart":{"client_secret":"Sup3rSecretValue42"},"commerce":{"bearer_token":"t"}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"x","secret":"Sup3rSecretValue42"},"commerce":{"bearer_token":"t"}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"Sup3rSecretValue42","client_secret":"Sup3rSecretValue42"}}"#,
            // Bad syntax on the secret's line.
            r#"{"walmart":{"client_id":"id","client_secret":Sup3rSecretValue42}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"Sup3rSecretValue42}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"Sup3rSecretValue42\q"}}"#,
            "{\"walmart\":{\"client_id\":\"id\",\"client_secret\":\"Sup3rSecretValue42\u{1}\"}}",
            r#"{"walmart":{"client_id":"id","client_secret":"Sup3rSecretValue42",}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":'Sup3rSecretValue42'}}"#,
            r#"{"walmart":{"client_id":"id","client_secret":"x"},"commerce":{"bearer_token":"t"}} Sup3rSecretValue42"#,
            r#"{"walmart":{"client_id":"id" "client_secret":"Sup3rSecretValue42"}}"#,
        ];
        for raw in cases {
            let err = ChannelSecrets::parse(raw).expect_err(raw).to_string();
            for leak in [SECRET, NUMERIC, "3rSecretVal"] {
                assert!(!err.contains(leak), "{raw}\n  -> {err}");
            }
        }
        let missing = ChannelSecrets::parse(cases[8]).unwrap_err().to_string();
        assert!(missing.contains("missing field `client_id`"), "{missing}");
        let typed = ChannelSecrets::parse(cases[0]).unwrap_err().to_string();
        assert!(
            typed.contains("invalid type: integer `[redacted]`, expected a string"),
            "{typed}"
        );
    }
}
