//! What every Channel Manager Lambda shares, so each function's `main.rs` only wires its operation:
//! config from the environment, JSON logs, the AWS adapters built once per process, secrets,
//! EMF metrics and SQS partial batch failures.

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
use ports::{Clock, Deadline, QueueName, StateStore, SystemClock, WorkQueue};

pub use config::{ConfigError, FunctionConfig};
pub use invocation::Invocation;
pub use secrets::{ChannelSecrets, SecretError};

/// Time kept back from the Lambda deadline to save state and answer after the last call.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Everything a function builds once at cold start and shares across invocations.
pub struct Runtime {
    pub operation: Operation,
    pub config: FunctionConfig,
    pub store: Arc<dyn StateStore>,
    pub queues: Arc<dyn WorkQueue>,
    pub secrets: ChannelSecrets,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum ColdStartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Initialises logging, reads and validates the configuration, loads the shared SDK config once and
/// builds the adapters. `queues` are the queues the function sends to or consumes.
pub async fn cold_start(operation: Operation, queues: &[QueueName]) -> Result<Runtime, ColdStartError> {
    logging::init();
    let config = FunctionConfig::from_env(queues)
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = adapters_aws::sdk::load().await;
    let secrets = ChannelSecrets::fetch(&aws_sdk_secretsmanager::Client::new(&sdk), &config.secret_arn)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot load credentials"))?;
    let store = Arc::new(DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.table_name.clone(),
    ));
    let queues = Arc::new(SqsQueues::new(
        aws_sdk_sqs::Client::new(&sdk),
        config.queues.clone(),
    ));
    tracing::info!(function = operation.function_name(), channel = %config.channel.id, "cold start complete");
    Ok(Runtime {
        operation,
        config,
        store,
        queues,
        secrets,
        clock: Arc::new(SystemClock),
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

/// The error an operation not built yet answers with.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not implemented yet")]
pub struct NotImplemented(pub &'static str);

impl From<NotImplemented> for lambda_runtime::Diagnostic {
    fn from(e: NotImplemented) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "NotImplemented".into(),
            error_message: e.to_string(),
        }
    }
}
