//! `cancellation-sync` Lambda: Mirrors cancellations between Commerce and Walmart.
//!
//! Triggered by an EventBridge schedule. The work itself lives in `shared/`; this binary only wires it.

use domain::Operation;
use lambda_glue::{Handlers, Invocation, cold_start, dispatch};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ports::QueueName;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let runtime = cold_start(Operation::CancellationSync, &[QueueName::InventorySync]).await?;
    // The operation's handlers land with its issue; until then every trigger is refused clearly.
    let handlers = Handlers::default();
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| {
        dispatch(runtime, handlers, event)
    }))
    .await
}
