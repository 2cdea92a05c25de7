//! Structured JSON logs. Lambda's `LoggingConfig` sets `AWS_LAMBDA_LOG_FORMAT=JSON` and
//! `AWS_LAMBDA_LOG_LEVEL`; `RUST_LOG` overrides the level for local runs.
//!
//! What never reaches a log line: credentials, tokens, and buyer data (names, addresses, emails,
//! phones). Domain types with such data redact themselves in `Debug`; business keys (channel,
//! purchase order id, sku, feed id) and Walmart correlation ids are logged as span fields.

use tracing_subscriber::EnvFilter;

/// Installs the process's subscriber: JSON lines with the current span's fields on each line.
/// Safe to call more than once (later calls do nothing).
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .unwrap_or_else(|_| "info".to_owned())
        .to_lowercase();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .try_init();
}
