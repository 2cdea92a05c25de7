//! `order-create` Lambda: Creates the Commerce order for a Walmart purchase order, exactly once.
//!
//! Triggered by its SQS queue. The work itself lives in `shared/`; this binary only wires it.

use domain::Operation;
use lambda_glue::{Invocation, cold_start, dispatch};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let runtime = cold_start(Operation::OrderCreate).await?;
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| {
        dispatch(runtime, event)
    }))
    .await
}
