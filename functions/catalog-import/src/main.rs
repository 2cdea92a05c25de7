//! `catalog-import` Lambda: Imports the Commerce products chosen for Walmart as listings.
//!
//! Triggered by an EventBridge schedule and its SQS queue. The work itself lives in `shared/`; this binary only wires it.

use domain::Operation;
use lambda_glue::{Invocation, cold_start, dispatch};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let runtime = cold_start(Operation::CatalogImport).await?;
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| {
        dispatch(runtime, event)
    }))
    .await
}
