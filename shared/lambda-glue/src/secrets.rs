//! The channel's credentials, read from Secrets Manager once at cold start.

use std::fmt;

use serde::Deserialize;

/// Walmart API credentials (client credentials grant).
#[derive(Clone, Deserialize)]
pub struct WalmartCredentials {
    pub client_id: String,
    pub client_secret: String,
}

/// Commerce Integration credentials (OAuth 1.0a).
#[derive(Clone, Deserialize)]
pub struct CommerceCredentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
}

/// The secret's JSON: `{"walmart": {...}, "commerce": {...}}`.
#[derive(Clone, Deserialize)]
pub struct ChannelSecrets {
    pub walmart: WalmartCredentials,
    pub commerce: CommerceCredentials,
}

// Secrets never print, whatever logs them by accident.
impl fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSecrets([redacted])")
    }
}

impl fmt::Debug for WalmartCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalmartCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for CommerceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommerceCredentials")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret {arn}: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error(
        "secret {arn} is not the expected JSON ({{\"walmart\":{{client_id,client_secret}},\"commerce\":{{consumer_key,consumer_secret,access_token,access_token_secret}}}}): {reason}"
    )]
    Malformed { arn: String, reason: String },
}

impl ChannelSecrets {
    pub fn parse(arn: &str, raw: &str) -> Result<Self, SecretError> {
        // The serde error never quotes secret values for a missing or mistyped field.
        serde_json::from_str(raw).map_err(|e| SecretError::Malformed {
            arn: arn.to_owned(),
            reason: e.to_string(),
        })
    }

    pub async fn fetch(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<Self, SecretError> {
        let out = client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| SecretError::Unreadable {
                arn: arn.to_owned(),
                reason: format!("{}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)),
            })?;
        let raw = out.secret_string().ok_or_else(|| SecretError::Unreadable {
            arn: arn.to_owned(),
            reason: "no SecretString".into(),
        })?;
        Self::parse(arn, raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_never_prints_secrets() {
        let raw = r#"{"walmart":{"client_id":"id","client_secret":"s3cret"},
            "commerce":{"consumer_key":"ck","consumer_secret":"cs","access_token":"at","access_token_secret":"ats"}}"#;
        let s = ChannelSecrets::parse("arn", raw).unwrap();
        assert_eq!(s.walmart.client_id, "id");
        let printed = format!("{s:?} {:?} {:?}", s.walmart, s.commerce);
        assert!(
            !printed.contains("s3cret") && !printed.contains("ats") && !printed.contains("\"cs\""),
            "{printed}"
        );
        let err = ChannelSecrets::parse("arn", r#"{"walmart":{}}"#).unwrap_err();
        assert!(err.to_string().contains("client_id"), "{err}");
    }
}
