//! Lambda Function URL events (payload format 2.0) to `http` requests and back: what the
//! dashboard Lambda needs of `lambda_http`, in the two shapes the Function URL documentation
//! gives. Cookies travel in their own arrays both ways; a binary or base64 body is decoded.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::{Request, Response};
use serde::{Deserialize, Serialize};

use crate::ClientAddr;

/// Largest body accepted (forms are small; Function URLs allow 6 MB).
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionUrlRequest {
    #[serde(default)]
    pub raw_path: String,
    #[serde(default)]
    pub raw_query_string: String,
    #[serde(default)]
    pub cookies: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub request_context: RequestContext,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    pub http: HttpContext,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpContext {
    pub method: String,
    #[serde(default)]
    pub source_ip: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FunctionUrlResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub cookies: Vec<String>,
    pub body: String,
    pub is_base64_encoded: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the request body is not valid base64")]
    Body,
    #[error("the request body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("not an HTTP request: {0}")]
    Http(#[from] http::Error),
}

/// The event as an `http` request, with the caller's address as [`ClientAddr`].
pub fn to_request(event: FunctionUrlRequest) -> Result<Request<Vec<u8>>, EventError> {
    let body = match event.body {
        None => Vec::new(),
        Some(b) if event.is_base64_encoded => B64.decode(b).map_err(|_| EventError::Body)?,
        Some(b) => b.into_bytes(),
    };
    if body.len() > MAX_BODY {
        return Err(EventError::TooLarge);
    }
    let uri = if event.raw_query_string.is_empty() {
        event.raw_path.clone()
    } else {
        format!("{}?{}", event.raw_path, event.raw_query_string)
    };
    let mut builder = Request::builder()
        .method(event.request_context.http.method.as_str())
        .uri(if uri.is_empty() { "/".to_owned() } else { uri });
    for (name, value) in &event.headers {
        // Function URLs join repeated headers with commas, and put cookies in `cookies`.
        if !name.eq_ignore_ascii_case("cookie") {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    if !event.cookies.is_empty() {
        builder = builder.header(http::header::COOKIE, event.cookies.join("; "));
    }
    let mut request = builder.body(body)?;
    request
        .extensions_mut()
        .insert(ClientAddr(event.request_context.http.source_ip));
    Ok(request)
}

/// The response as a Function URL answer: text bodies as they are, others in base64.
pub fn from_response(response: Response<Vec<u8>>) -> FunctionUrlResponse {
    let (parts, body) = response.into_parts();
    let mut headers = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else {
            continue;
        };
        if name == http::header::SET_COOKIE {
            cookies.push(value.to_owned());
        } else {
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(value);
                })
                .or_insert_with(|| value.to_owned());
        }
    }
    let (body, is_base64_encoded) = match String::from_utf8(body) {
        Ok(text) => (text, false),
        Err(e) => (B64.encode(e.into_bytes()), true),
    };
    FunctionUrlResponse {
        status_code: parts.status.as_u16(),
        headers,
        cookies,
        body,
        is_base64_encoded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_requests_and_responses_become_answers() {
        let event: FunctionUrlRequest = serde_json::from_value(serde_json::json!({
            "version": "2.0",
            "rawPath": "/actions/pause",
            "rawQueryString": "a=1",
            "cookies": ["cm_session=abc", "other=1"],
            "headers": {"content-type": "application/x-www-form-urlencoded", "accept-language": "sv"},
            "requestContext": {"http": {"method": "POST", "sourceIp": "203.0.113.5", "path": "/actions/pause"}, "timeEpoch": 1},
            "body": "b3BlcmF0aW9uPWludmVudG9yeS1zeW5j",
            "isBase64Encoded": true
        }))
        .unwrap();
        let request = to_request(event).unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri(), "/actions/pause?a=1");
        assert_eq!(request.body(), b"operation=inventory-sync");
        assert_eq!(request.headers()["cookie"], "cm_session=abc; other=1");
        assert_eq!(request.extensions().get::<ClientAddr>().unwrap().0, "203.0.113.5");

        let mut response = Response::new(b"<p>hi</p>".to_vec());
        response
            .headers_mut()
            .append("set-cookie", "a=1".parse().unwrap());
        response
            .headers_mut()
            .append("set-cookie", "b=2".parse().unwrap());
        response
            .headers_mut()
            .insert("content-type", "text/html".parse().unwrap());
        let answer = from_response(response);
        assert_eq!(answer.cookies, ["a=1", "b=2"]);
        assert_eq!(answer.body, "<p>hi</p>");
        assert!(!answer.is_base64_encoded);
        assert!(!answer.headers.contains_key("set-cookie"));
    }
}
