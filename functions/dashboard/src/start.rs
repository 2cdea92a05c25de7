//! What the dashboard builds once per process: the channel (every queue's URL: the merchant's
//! actions send to the work queues and re-drive their dead letters) and the login credentials from
//! the dashboard's own secret (`DASHBOARD_LOGIN_ARN`), which no other function can read.

use dashboard::auth::Credentials;
use dashboard::{Dashboard, LoginSecretError, Options};
use lambda_glue::{ColdStartError, SecretError};
use ports::QueueName;

/// The dashboard secret's ARN (its name avoids "SECRET": only SECRET_ARN may look like one).
pub const LOGIN_ARN: &str = "DASHBOARD_LOGIN_ARN";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Channel(#[from] ColdStartError),
    #[error("environment variable {LOGIN_ARN} is missing")]
    NoLoginSecret,
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Login(#[from] LoginSecretError),
}

pub async fn cold_start() -> Result<Dashboard, StartError> {
    lambda_glue::logging::init();
    let (channel, sdk) = lambda_glue::connect_channel("dashboard", &QueueName::ALL).await?;
    let arn = std::env::var(LOGIN_ARN).map_err(|_| StartError::NoLoginSecret)?;
    let raw = lambda_glue::secrets::fetch_string(&aws_sdk_secretsmanager::Client::new(&sdk), &arn)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot read the dashboard secret"))?;
    let credentials = Credentials::parse(&raw)
        .inspect_err(|e| tracing::error!(error = %e, "the dashboard secret is malformed"))?;
    Ok(Dashboard::new(channel, credentials, Options::default()))
}
