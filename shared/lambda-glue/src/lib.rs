//! What every Channel Manager Lambda shares, so each function's `main.rs` only names its operation:
//! config from the environment, JSON logs, the adapters built once per process (DynamoDB, SQS,
//! Walmart, Commerce), secrets, EMF metrics, and routing of SQS batches (with partial batch
//! failures) and schedule ticks to the operation.

pub mod config;
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
use ports::{Clock, Deadline, QueueName, SystemClock};
use serde_json::Value;

pub use config::{ConfigError, FunctionConfig};
pub use invocation::Invocation;
pub use secrets::SecretError;

/// Time kept back from the Lambda deadline to save state and answer after the last call.
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
/// builds the adapters. `queues` are the queues the function sends to or consumes.
pub async fn cold_start(operation: Operation, queues: &[QueueName]) -> Result<Runtime, ColdStartError> {
    logging::init();
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
    tracing::info!(function = operation.function_name(), channel = %channel.settings.id, "cold start complete");
    Ok(Runtime {
        operation,
        channel: Arc::new(channel),
    })
}

/// The invocation's deadline as a [`Deadline`], less [`DEADLINE_MARGIN`].
pub fn deadline(context: &lambda_runtime::Context) -> Deadline {
    let remaining = context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Deadline::at(Instant::now() + remaining).minus(DEADLINE_MARGIN)
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
