//! The middleware that records exchanges and applies faults around a sandbox's API router.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, OriginalUri, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::exchange::{Exchange, Recorder};
use crate::faults::{FaultDecision, Faults};

/// Largest request body a sandbox accepts (Walmart feeds go up to 10 MB; leave ample room).
pub const REQUEST_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Non-JSON request bodies are recorded as text up to this many bytes.
pub const REQUEST_TEXT_LIMIT: usize = 64 * 1024;
/// Paths under this prefix are the sandbox's own control routes: never recorded, never faulted.
pub const CONTROL_PREFIX: &str = "/_sandbox/";
/// Response header naming the fault that produced or altered a response.
pub const FAULT_HEADER: &str = "x-sandbox-fault";

/// Marks a response that a fault produced or altered, for the recorder further out.
#[derive(Clone, Copy, Debug)]
struct FaultInjected;

/// A JSON error response: `status` with `body` serialised as JSON.
pub fn json_error(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Wraps a sandbox's API router: records every exchange (outermost, so it sees faulted responses and
/// marks them) and applies faults. Control routes (paths starting with `/_sandbox/`) are neither recorded
/// nor faulted, whether they are merged before or after instrumenting. Request bodies up to
/// [`REQUEST_BODY_LIMIT`] are accepted, also by the API's own extractors (`Json`, `Multipart`, ...).
pub fn instrument(api: Router, recorder: Recorder, faults: Faults) -> Router {
    // The API becomes the fallback of an otherwise empty router, so that unknown paths (the API's own
    // 404s) are recorded too, and stay recorded after `merge(control_routes(..))`: merging two routers
    // with default fallbacks would keep the other router's unlayered fallback.
    Router::new()
        .fallback_service(api)
        .layer(middleware::from_fn_with_state(faults, apply_faults))
        .layer(middleware::from_fn_with_state(recorder, record_exchange))
        // Outermost, so the limit is also in force for the recorder's own multipart parsing.
        .layer(DefaultBodyLimit::max(REQUEST_BODY_LIMIT))
}

/// The path as the client sent it, even if this router is nested under a prefix.
fn original_path(request: &Request) -> String {
    match request.extensions().get::<OriginalUri>() {
        Some(OriginalUri(uri)) => uri.path().to_owned(),
        None => request.uri().path().to_owned(),
    }
}

fn is_control_path(path: &str) -> bool {
    path.starts_with(CONTROL_PREFIX) || path == CONTROL_PREFIX.trim_end_matches('/')
}

async fn apply_faults(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    if is_control_path(&original_path(&request)) {
        return next.run(request).await;
    }
    let latency = faults.latency();
    let is_write = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let decision = faults.decide(is_write);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = match decision {
        FaultDecision::PassThrough => return next.run(request).await,
        FaultDecision::Hang(hang) => {
            tokio::time::sleep(hang).await;
            fault_error(StatusCode::GATEWAY_TIMEOUT, decision)
        }
        FaultDecision::Burst => fault_error(StatusCode::SERVICE_UNAVAILABLE, decision),
        FaultDecision::Error => fault_error(StatusCode::INTERNAL_SERVER_ERROR, decision),
        FaultDecision::Malformed => malform(next.run(request).await).await,
        FaultDecision::Lost => {
            // The change is applied; only its answer goes missing.
            drop(next.run(request).await);
            fault_error(StatusCode::GATEWAY_TIMEOUT, decision)
        }
    };
    tracing::debug!(
        fault = decision.name(),
        status = response.status().as_u16(),
        "sandbox fault injected"
    );
    response
        .headers_mut()
        .insert(FAULT_HEADER, HeaderValue::from_static(decision.name()));
    response.extensions_mut().insert(FaultInjected);
    response
}

fn fault_error(status: StatusCode, decision: FaultDecision) -> Response {
    json_error(
        status,
        json!({
            "message": format!("sandbox fault injection: {}", decision.name()),
            "errors": [{"code": "SANDBOX.FAULT_INJECTED", "description": decision.name()}],
        }),
    )
}

/// Keeps the handler's effects but garbles its answer: 200 with the first half of the body and a marker
/// that can never be valid JSON, still labelled as JSON so clients try (and fail) to parse it.
async fn malform(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let original = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut garbled = original[..original.len() / 2].to_vec();
    garbled.extend_from_slice(b"<truncated by sandbox");
    parts.status = StatusCode::OK;
    parts.headers.remove(CONTENT_LENGTH);
    if !parts.headers.contains_key(CONTENT_TYPE) {
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Response::from_parts(parts, Body::from(garbled))
}

async fn record_exchange(State(recorder): State<Recorder>, request: Request, next: Next) -> Response {
    let path = original_path(&request);
    if is_control_path(&path) {
        return next.run(request).await;
    }
    let seq = recorder.next_seq();
    let (parts, body) = request.into_parts();
    let mut exchange = Exchange {
        seq,
        method: parts.method.as_str().to_owned(),
        path,
        query: decode_query(parts.uri.query()),
        request_headers: header_map(&parts.headers),
        request_content_type: header_text(&parts.headers, CONTENT_TYPE.as_str()),
        ..Exchange::default()
    };

    let request_bytes = match axum::body::to_bytes(body, REQUEST_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let response = json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"message": format!(
                    "request body could not be read (limit {REQUEST_BODY_LIMIT} bytes): {error}"
                )}),
            );
            return finish(&recorder, exchange, response).await;
        }
    };
    let (request_body, request_text) = decode_request_body(&parts, &request_bytes).await;
    exchange.request_body = request_body;
    exchange.request_text = request_text;

    let response = next
        .run(Request::from_parts(parts, Body::from(request_bytes)))
        .await;
    finish(&recorder, exchange, response).await
}

/// Buffers the response, completes and stores the exchange, and hands the same response on.
async fn finish(recorder: &Recorder, mut exchange: Exchange, response: Response) -> Response {
    exchange.fault_injected = response.extensions().get::<FaultInjected>().is_some();
    let (parts, body) = response.into_parts();
    let response = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            exchange.status = parts.status.as_u16();
            exchange.response_headers = header_map(&parts.headers);
            exchange.response_body = parse_json(&bytes);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(error) => {
            let response = json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"message": format!("sandbox response body failed: {error}")}),
            );
            exchange.status = response.status().as_u16();
            exchange.response_headers = header_map(response.headers());
            response
        }
    };
    recorder.record(exchange);
    response
}

fn decode_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        map.entry(name.as_str().to_ascii_lowercase())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn parse_json(bytes: &[u8]) -> Option<serde_json::Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// Text of a body that is not JSON, cut at a character boundary at most [`REQUEST_TEXT_LIMIT`] bytes in.
fn truncated_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(REQUEST_TEXT_LIMIT)]).into_owned();
    let mut end = text.len().min(REQUEST_TEXT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

/// `(request_body, request_text)`: JSON bodies as JSON; multipart's `file` part (feed uploads) as JSON
/// when it is JSON; anything else as truncated text.
async fn decode_request_body(parts: &Parts, bytes: &Bytes) -> (Option<serde_json::Value>, Option<String>) {
    if bytes.is_empty() {
        return (None, None);
    }
    let is_multipart = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if is_multipart {
        return match multipart_file_part(parts, bytes).await {
            Some(file) => match parse_json(&file) {
                Some(json) => (Some(json), None),
                None => (None, truncated_text(&file)),
            },
            None => (None, truncated_text(bytes)),
        };
    }
    match parse_json(bytes) {
        Some(json) => (Some(json), None),
        None => (None, truncated_text(bytes)),
    }
}

/// The bytes of the multipart part named `file`, if the body is well-formed multipart and has one.
async fn multipart_file_part(parts: &Parts, bytes: &Bytes) -> Option<Bytes> {
    let mut copy = Request::new(Body::from(bytes.clone()));
    *copy.headers_mut() = parts.headers.clone();
    // Carries the DefaultBodyLimit set by `instrument`, which the multipart reader honours.
    *copy.extensions_mut() = parts.extensions.clone();
    let mut multipart = Multipart::from_request(copy, &()).await.ok()?;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            return field.bytes().await.ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_truncated_on_a_character_boundary() {
        let mut body = vec![b'a'; REQUEST_TEXT_LIMIT - 1];
        body.extend_from_slice("é and more".as_bytes());
        let text = truncated_text(&body).unwrap();
        assert_eq!(text.len(), REQUEST_TEXT_LIMIT - 1);
        assert!(text.bytes().all(|byte| byte == b'a'));
    }

    #[test]
    fn repeated_headers_are_joined_and_names_lower_cased() {
        let mut headers = HeaderMap::new();
        headers.append("Accept", HeaderValue::from_static("application/json"));
        headers.append("accept", HeaderValue::from_static("text/plain"));
        let map = header_map(&headers);
        assert_eq!(
            map.get("accept").map(String::as_str),
            Some("application/json, text/plain")
        );
    }

    #[test]
    fn control_paths_are_recognised() {
        assert!(is_control_path("/_sandbox/exchanges"));
        assert!(is_control_path("/_sandbox"));
        assert!(!is_control_path("/_sandboxes"));
        assert!(!is_control_path("/v3/orders"));
    }
}
