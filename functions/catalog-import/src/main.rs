//! `catalog-import` Lambda: Imports the Commerce products chosen for Walmart as listings.
//!
//! Triggered by an EventBridge schedule and its SQS queue. The work itself lives in `shared/`; this binary only wires it.

use domain::Operation;
use lambda_glue::{Invocation, NotImplemented, cold_start};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ports::QueueName;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let runtime = cold_start(
        Operation::CatalogImport,
        &[QueueName::CatalogImport, QueueName::ListingMatch],
    )
    .await?;
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| async move {
        tracing::info!(function = runtime.operation.function_name(), "invoked");
        let _ = event;
        Err::<Value, _>(NotImplemented("catalog-import"))
    }))
    .await
}
