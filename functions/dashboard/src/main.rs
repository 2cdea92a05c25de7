//! `dashboard` Lambda: the merchant's Channel Manager page behind a Lambda Function URL.
//!
//! Cold start (`start.rs`): the channel as every function builds it, the login secret, then each
//! request goes through `dashboard::Dashboard::handle`, as the local runner serves it.

mod start;

use dashboard::function_url::{FunctionUrlRequest, FunctionUrlResponse, from_response, to_request};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dashboard = start::cold_start().await?;
    let dashboard = &dashboard;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<FunctionUrlRequest>| async move {
            let answer = match to_request(event.payload) {
                Ok(request) => from_response(dashboard.handle(request).await),
                Err(e) => from_response(dashboard::html::plain(http_status_bad_request(), &e.to_string())),
            };
            Ok::<FunctionUrlResponse, Error>(answer)
        },
    ))
    .await
}

fn http_status_bad_request() -> dashboard::http::StatusCode {
    dashboard::http::StatusCode::BAD_REQUEST
}
