//! The channel's credentials, read from Secrets Manager once at cold start.

use operations::wiring::ChannelSecrets;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret {arn}: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error("secret {arn}: {reason}")]
    Malformed { arn: String, reason: String },
}

pub async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<ChannelSecrets, SecretError> {
    let raw = fetch_string(client, arn).await?;
    ChannelSecrets::parse(&raw).map_err(|e| SecretError::Malformed {
        arn: arn.to_owned(),
        reason: e.to_string(),
    })
}

/// A secret's string, as stored.
pub async fn fetch_string(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<String, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            arn: arn.to_owned(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    out.secret_string()
        .map(str::to_owned)
        .ok_or_else(|| SecretError::Unreadable {
            arn: arn.to_owned(),
            reason: "no SecretString".into(),
        })
}
