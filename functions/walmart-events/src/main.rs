//! `walmart-events` Lambda: Walmart's ORDER_UPDATES notifications, through its Function URL.
//!
//! Each delivery is authenticated and answered after one SQS send (order-import and
//! cancellation-sync consume the queues). The work itself lives in `shared/`; this binary only
//! wires it.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let receiver = lambda_glue::events::cold_start().await?;
    let receiver = &receiver;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<LambdaFunctionUrlRequest>| {
        lambda_glue::events::handle(receiver, event)
    }))
    .await
}
