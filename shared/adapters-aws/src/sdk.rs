//! One `SdkConfig` per process, with explicit timeouts and retries.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Timeouts sized for Lambda: a stuck connection must fail fast enough to retry within the
/// function's own timeout.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(6))
        .operation_timeout(Duration::from_secs(20))
        .build()
}

/// Loads the process's AWS configuration from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL` when pointing at a local AWS API such as moto). Call once at cold start
/// and share the result.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}
