//! What every Channel Manager Lambda shares, so each function's `main.rs` only names its operation:
//! config from the environment, JSON logs, the adapters built once per process (DynamoDB, SQS,
//! Walmart, Commerce), secrets, EMF metrics, and routing of SQS batches (with partial batch
//! failures) and schedule ticks to the operation.

pub mod config;
pub mod events;
pub mod invocation;
pub mod logging;
pub mod metrics;
pub mod secrets;
pub mod sqs;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use adapters_aws::{DynamoDbStore, SqsQueues};
use domain::Operation;
use lambda_runtime::{Diagnostic, LambdaEvent};
use operations::registry::{Handlers, Message};
use operations::wiring::{self, Endpoints};
use operations::{Channel, OpError};
use ports::{Clock, Deadline, SystemClock};
use serde_json::Value;

pub use config::{ConfigError, FunctionConfig};
pub use invocation::Invocation;
pub use secrets::SecretError;

/// Time kept back from the Lambda deadline to save state and answer after the last call: 3 s, or a
/// tenth of the invocation's time when that is shorter (a 3 s invocation still gets to work).
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Everything a function builds once at cold start and shares across invocations.
pub struct Runtime {
    pub operation: Operation,
    pub channel: Arc<Channel>,
}

#[derive(Debug, thiserror::Error)]
pub enum ColdStartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Wiring(#[from] wiring::WiringError),
}

/// Initialises logging, reads and validates the configuration, loads the shared SDK config once and
/// builds the adapters. The queue URLs it reads are those the operation declares
/// (`operations::registry::queue_urls`).
pub async fn cold_start(operation: Operation) -> Result<Runtime, ColdStartError> {
    logging::init();
    let queues = operations::registry::queue_urls(operation);
    let (channel, _) = connect_channel(operation.function_name(), &queues).await?;
    Ok(Runtime { operation, channel })
}

/// The channel a function works on, from its environment: configuration (with the URLs of
/// `queues`), credentials from the secret, DynamoDB and SQS adapters, the API clients. Also the SDK
/// config, for a function that needs more AWS clients (the dashboard reads its login secret).
pub async fn connect_channel(
    function: &str,
    queues: &[ports::QueueName],
) -> Result<(Arc<Channel>, aws_config::SdkConfig), ColdStartError> {
    let config = FunctionConfig::from_env(queues)
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = adapters_aws::sdk::load().await;
    let secrets = secrets::fetch(&aws_sdk_secretsmanager::Client::new(&sdk), &config.secret_arn)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot load credentials"))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let endpoints = Endpoints {
        walmart_base_url: config.walmart_base_url.clone(),
        commerce_base_url: config.commerce_base_url.clone(),
        store_code: config.channel.store_code.clone(),
    };
    let apis = wiring::connect(&endpoints, &secrets, clock.clone())?;
    let mut config = config;
    secrets.apply_push_secret(&mut config.channel);
    let channel = Channel {
        store: Arc::new(DynamoDbStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.table_name.clone(),
        )),
        queues: Arc::new(SqsQueues::new(
            aws_sdk_sqs::Client::new(&sdk),
            config.queues.clone(),
        )),
        settings: config.channel,
        walmart: apis.walmart,
        commerce: apis.commerce,
        clock,
    };
    tracing::info!(function, channel = %channel.settings.id, "cold start complete");
    Ok((Arc::new(channel), sdk))
}

/// Deadlines before this (2001-09-09, in epoch ms) are not absolute times: `cargo lambda watch` sends
/// the function's timeout itself in `Lambda-Runtime-Deadline-Ms`, and taking that for an epoch time
/// would leave no time at all.
const EARLIEST_ABSOLUTE_DEADLINE_MS: u64 = 1_000_000_000_000;

/// The invocation's deadline as a [`Deadline`], less the margin ([`DEADLINE_MARGIN`] or a tenth of
/// the time left, whichever is shorter).
pub fn deadline(context: &lambda_runtime::Context) -> Deadline {
    let remaining = if context.deadline < EARLIEST_ABSOLUTE_DEADLINE_MS {
        Duration::from_millis(context.deadline)
    } else {
        context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    let margin = DEADLINE_MARGIN.min(remaining / 10);
    tracing::debug!(remaining_ms = remaining.as_millis() as u64, "invocation deadline");
    Deadline::at(Instant::now() + remaining).minus(margin)
}

/// A failed invocation, reported to Lambda with a meaningful error type.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error("{operation} has no {trigger} trigger")]
    UnexpectedTrigger {
        operation: &'static str,
        trigger: &'static str,
    },
    #[error(transparent)]
    Batch(#[from] sqs::BatchError),
    #[error(transparent)]
    Operation(#[from] OpError),
    #[error("cannot encode the report: {0}")]
    Report(#[from] serde_json::Error),
}

impl From<InvocationError> for Diagnostic {
    fn from(e: InvocationError) -> Self {
        let error_type = match &e {
            InvocationError::UnexpectedTrigger { .. } => "UnexpectedTrigger",
            InvocationError::Batch(_) => "MalformedBatch",
            InvocationError::Operation(op) => op.kind(),
            InvocationError::Report(_) => "ReportEncoding",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Routes an invocation through the operation's handlers (`operations::registry`): an SQS batch to
/// the message handler (answering with partial batch failures), a schedule tick to the scheduled run
/// (answering with its report). Metrics go out as EMF on the way.
pub async fn dispatch(runtime: &Runtime, event: LambdaEvent<Invocation>) -> Result<Value, InvocationError> {
    let handlers: Handlers = operations::registry::handlers(runtime.operation);
    let deadline = deadline(&event.context);
    let operation = runtime.operation.function_name();
    let mut metrics = metrics::Metrics::new(runtime.channel.settings.id.clone(), operation);
    match event.payload {
        Invocation::Queue(batch) => {
            let (_, handle) = handlers.queue.ok_or(InvocationError::UnexpectedTrigger {
                operation,
                trigger: "SQS",
            })?;
            let records = batch.records.len();
            let channel = runtime.channel.clone();
            let response = sqs::process_batch(batch, move |record| {
                let channel = channel.clone();
                let message = Message {
                    message_id: record.message_id,
                    body: record.body,
                    receive_count: record.receive_count,
                };
                async move {
                    handle(channel, message, deadline)
                        .await
                        .map_err(|e| sqs::RecordError::Failed(e.to_string()))
                }
            })
            .await?;
            metrics.add("RecordsReceived", records as f64);
            metrics.add("RecordsFailed", response.batch_item_failures.len() as f64);
            metrics.flush(runtime.channel.clock.now());
            Ok(serde_json::to_value(response)?)
        }
        Invocation::Schedule(input) => {
            let run = handlers.schedule.ok_or(InvocationError::UnexpectedTrigger {
                operation,
                trigger: "schedule",
            })?;
            tracing::debug!(%input, "schedule tick");
            let report = run(runtime.channel.clone(), deadline).await.inspect_err(|e| {
                tracing::error!(error = %e, kind = e.kind(), "scheduled run failed");
            })?;
            for (name, n) in &report.counts {
                metrics.add(name.clone(), *n as f64);
            }
            metrics.flush(runtime.channel.clock.now());
            tracing::info!(report = %serde_json::to_string(&report)?, "scheduled run finished");
            Ok(serde_json::to_value(report)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with(remaining: Duration) -> lambda_runtime::Context {
        let mut c = lambda_runtime::Context::default();
        c.deadline = (SystemTime::now() + remaining)
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        c
    }

    #[test]
    fn margin_is_three_seconds_or_a_tenth_of_a_short_invocation() {
        let long = deadline(&context_with(Duration::from_secs(120))).remaining();
        assert!(
            long > Duration::from_secs(116) && long <= Duration::from_secs(117),
            "{long:?}"
        );
        let short = deadline(&context_with(Duration::from_secs(3))).remaining();
        assert!(
            short > Duration::from_millis(2_500) && short <= Duration::from_millis(2_700),
            "{short:?}"
        );
        assert!(deadline(&lambda_runtime::Context::default()).is_past());
        let mut emulator = lambda_runtime::Context::default();
        emulator.deadline = 600_000;
        let relative = deadline(&emulator).remaining();
        assert!(
            relative > Duration::from_secs(596) && relative <= Duration::from_secs(597),
            "{relative:?}"
        );
    }
}
