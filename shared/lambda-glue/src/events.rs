//! The `walmart-events` receiver's glue: a Lambda Function URL request becomes an
//! [`HttpDelivery`] for `operations::walmart_events::receive`, and its outcome the HTTP answer.
//! The receiver builds only what it uses: the SQS queues it sends to and the authentication from
//! the channel's secret (no state table, no Walmart or Commerce client).

use std::sync::Arc;

use adapters_aws::SqsQueues;
use aws_lambda_events::event::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::http::header::{CONTENT_TYPE, HeaderValue};
use base64::Engine as _;
use domain::ChannelId;
use lambda_runtime::LambdaEvent;
use operations::walmart_events::{DECLARATION, HttpDelivery, Outcome, receive, receiver_auth};
use ports::webhooks::WebhookAuth;
use ports::{Clock, SystemClock, WorkQueue};

use crate::config::FunctionConfig;
use crate::{ColdStartError, logging, metrics, secrets};

/// What the receiver builds once at cold start.
pub struct Receiver {
    pub channel: ChannelId,
    pub auth: WebhookAuth,
    pub queues: Arc<dyn WorkQueue>,
}

/// The function name in logs and metrics.
pub const FUNCTION: &str = DECLARATION.function;

/// Reads the configuration (the URLs of the queues `walmart_events::DECLARATION` sends to) and the
/// secret; without a `walmart_events` secret the receiver refuses to start, since it could
/// authenticate nothing.
pub async fn cold_start() -> Result<Receiver, ColdStartError> {
    logging::init();
    let config = FunctionConfig::from_env(&DECLARATION.queue_urls())
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = adapters_aws::sdk::load().await;
    let secrets = secrets::fetch(&aws_sdk_secretsmanager::Client::new(&sdk), &config.secret_arn)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cannot load credentials"))?;
    let mut settings = config.channel;
    secrets.apply_push_secret(&mut settings);
    let auth = receiver_auth(&settings.push).ok_or_else(|| {
        let e = crate::SecretError::Malformed {
            arn: config.secret_arn.clone(),
            reason: "no walmart_events.secret: the receiver cannot authenticate Walmart's deliveries".into(),
        };
        tracing::error!(error = %e, "cannot start the receiver");
        e
    })?;
    let queues = Arc::new(SqsQueues::new(aws_sdk_sqs::Client::new(&sdk), config.queues));
    tracing::info!(function = FUNCTION, channel = %settings.id, auth = auth.method(), "cold start complete");
    Ok(Receiver {
        channel: settings.id,
        auth,
        queues,
    })
}

/// The delivery a Function URL request carries. A body the URL passed base64-encoded (not UTF-8
/// text) is decoded; one that does not decode stays as sent, so it fails authentication.
pub fn delivery(request: &LambdaFunctionUrlRequest) -> HttpDelivery {
    let method = request.request_context.http.method.clone().unwrap_or_default();
    let headers = request
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let raw = request.body.clone().unwrap_or_default();
    let body = if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(raw.as_bytes())
            .unwrap_or_else(|_| raw.into_bytes())
    } else {
        raw.into_bytes()
    };
    HttpDelivery {
        method,
        headers,
        body,
    }
}

/// The HTTP answer to an outcome.
pub fn response(outcome: &Outcome) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut answer = LambdaFunctionUrlResponse::default();
    answer.status_code = i64::from(outcome.status());
    answer.headers = headers;
    answer.body = Some(outcome.body());
    answer
}

/// Handles one Function URL invocation: always an HTTP answer (a refusal is an answer, not a
/// failed invocation), with the outcome counted as an EMF metric.
pub async fn handle(
    receiver: &Receiver,
    event: LambdaEvent<LambdaFunctionUrlRequest>,
) -> Result<LambdaFunctionUrlResponse, std::convert::Infallible> {
    let delivery = delivery(&event.payload);
    let outcome = receive(&receiver.auth, receiver.queues.as_ref(), &delivery).await;
    let mut metrics = metrics::Metrics::new(receiver.channel.clone(), FUNCTION);
    metrics.add(format!("WalmartEvents_{}", outcome.kind()), 1.0);
    metrics.flush(SystemClock.now());
    Ok(response(&outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Function URL event as Lambda sends it (the shape `cargo lambda invoke` replays).
    fn request(body: &str, base64: bool, signature: &str) -> LambdaFunctionUrlRequest {
        let encoded = if base64 {
            base64::engine::general_purpose::STANDARD.encode(body)
        } else {
            body.to_owned()
        };
        serde_json::from_value(serde_json::json!({
            "version": "2.0",
            "rawPath": "/",
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "x-walmart-signature": signature},
            "requestContext": {
                "accountId": "anonymous", "apiId": "x", "domainName": "x.lambda-url.us-east-1.on.aws",
                "domainPrefix": "x", "requestId": "r", "routeKey": "$default", "stage": "$default",
                "time": "06/Dec/2026:10:00:00 +0000", "timeEpoch": 1_796_000_000_000i64,
                "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "Walmart"}
            },
            "body": encoded,
            "isBase64Encoded": base64
        }))
        .unwrap()
    }

    #[test]
    fn function_url_requests_become_deliveries_with_their_exact_bytes() {
        let body = r#"{"source":{"eventType":"ORDER_UPDATES","eventId":"e"}}"#;
        for base64 in [false, true] {
            let d = delivery(&request(body, base64, "sig"));
            assert_eq!(d.method, "POST");
            assert_eq!(d.body, body.as_bytes());
            assert_eq!(d.header("X-Walmart-Signature"), Some("sig"));
        }
        let answer = response(&Outcome::Rejected(
            operations::walmart_events::Rejection::Unauthenticated,
        ));
        assert_eq!(answer.status_code, 401);
        assert!(answer.body.unwrap().contains("not authenticated"));
    }
}
