//! Typed Walmart errors, parsed from every error body form Walmart is known to send.
//!
//! Walmart's error bodies come in three shapes: `{"errors": [..]}`, `{"errors": {"error": [..]}}`
//! and `{"error": [..]}`. All three carry the same entries (`code`, `field`, `description`,
//! `info`, `category`, `severity`); [`parse_error_details`] reads any of them.

use std::time::Duration;

use domain::Timestamp;
use ports::http::{MAX_ERROR_TEXT_CHARS, excerpt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::endpoint::Endpoint;

/// One entry of a Walmart error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub field: Option<String>,
    pub description: Option<String>,
    pub info: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
}

impl ErrorDetail {
    /// The most readable sentence the entry has.
    pub fn message(&self) -> String {
        self.description
            .clone()
            .or_else(|| self.info.clone())
            .unwrap_or_else(|| self.code.clone())
    }
}

/// Reads the entries of any documented error body form; empty when the body is none of them.
pub fn parse_error_details(body: &[u8]) -> Vec<ErrorDetail> {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let entries = match (json.get("errors"), json.get("error")) {
        (Some(Value::Array(list)), _) => list.clone(),
        (Some(Value::Object(wrapper)), _) => match wrapper.get("error") {
            Some(Value::Array(list)) => list.clone(),
            Some(single @ Value::Object(_)) => vec![single.clone()],
            _ => Vec::new(),
        },
        (_, Some(Value::Array(list))) => list.clone(),
        (_, Some(single @ Value::Object(_))) => vec![single.clone()],
        _ => Vec::new(),
    };
    entries.iter().filter_map(detail_from_json).collect()
}

fn detail_from_json(entry: &Value) -> Option<ErrorDetail> {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let code = text("code")?;
    Some(ErrorDetail {
        code,
        field: text("field"),
        description: text("description"),
        info: text("info"),
        category: text("category"),
        severity: text("severity"),
    })
}

/// Everything a Walmart call can fail with. Each variant names the endpoint it came from.
#[derive(Debug, thiserror::Error)]
pub enum WalmartError {
    /// Credentials or token rejected (401/403), after the one refresh a 401 earns.
    #[error("{endpoint}: authentication failed (HTTP {status}): {message}")]
    Auth {
        endpoint: Endpoint,
        status: u16,
        message: String,
    },
    /// Rate limited (429, or the local bucket would make the caller wait past its deadline).
    #[error("{endpoint}: throttled, tokens replenish at {}", replenish_at.map_or_else(|| "an unknown time".to_owned(), |t| t.to_rfc3339()))]
    Throttled {
        endpoint: Endpoint,
        replenish_at: Option<Timestamp>,
    },
    #[error("{endpoint}: not found: {message}")]
    NotFound { endpoint: Endpoint, message: String },
    /// The request was rejected as invalid (400 and other 4xx not listed elsewhere). Never retried.
    #[error("{endpoint}: rejected ({code}{}): {message}", field.as_deref().map(|f| format!(", field {f}")).unwrap_or_default())]
    Validation {
        endpoint: Endpoint,
        status: u16,
        code: String,
        field: Option<String>,
        message: String,
        details: Vec<ErrorDetail>,
    },
    /// The resource is in a state that does not allow the call (409 conflict, 423 locked), e.g.
    /// shipping a cancelled line.
    #[error("{endpoint}: conflict (HTTP {status}, {code}): {message}")]
    Conflict {
        endpoint: Endpoint,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{endpoint}: Walmart server error (HTTP {status}): {message}")]
    Server {
        endpoint: Endpoint,
        status: u16,
        message: String,
    },
    /// No answer within the request timeout, or a gateway timeout (504).
    #[error("{endpoint}: timed out")]
    Timeout { endpoint: Endpoint },
    /// A response whose body is not what the API documents.
    #[error("{endpoint}: malformed response: {context}")]
    Malformed { endpoint: Endpoint, context: String },
    /// The request could not be sent or the connection broke.
    #[error("{endpoint}: transport error: {message}")]
    Transport { endpoint: Endpoint, message: String },
    /// A 3xx: Walmart's API never redirects, and the client follows no redirect, since that would
    /// carry the access token and the request body to another place.
    #[error("{endpoint}: answered a redirect (HTTP {status}), which the client does not follow")]
    Redirected { endpoint: Endpoint, status: u16 },
    /// A response body longer than the client reads (`WalmartConfig::max_response_bytes`).
    #[error("{endpoint}: response body larger than {limit_bytes} bytes, not read")]
    ResponseTooLarge { endpoint: Endpoint, limit_bytes: usize },
    /// A retry (or the call itself) would not finish before the caller's deadline.
    #[error("{endpoint}: deadline reached after {attempts} attempt(s){}", last.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    DeadlineExceeded {
        endpoint: Endpoint,
        attempts: u32,
        last: Option<Box<WalmartError>>,
    },
    /// The caller asked for something the client refuses to send (checked before any request).
    #[error("invalid request: {0}")]
    InvalidInput(String),
}

impl WalmartError {
    /// Whether the same call may succeed if tried again later: 429, 5xx and timeouts only.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            WalmartError::Throttled { .. } | WalmartError::Server { .. } | WalmartError::Timeout { .. }
        )
    }

    /// The server's hint of how long to wait before retrying, measured from `now`.
    pub fn retry_hint(&self, now: Timestamp) -> Option<Duration> {
        match self {
            WalmartError::Throttled {
                replenish_at: Some(at),
                ..
            } => Some(at.since(now)),
            _ => None,
        }
    }

    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            WalmartError::Auth { endpoint, .. }
            | WalmartError::Throttled { endpoint, .. }
            | WalmartError::NotFound { endpoint, .. }
            | WalmartError::Validation { endpoint, .. }
            | WalmartError::Conflict { endpoint, .. }
            | WalmartError::Server { endpoint, .. }
            | WalmartError::Timeout { endpoint }
            | WalmartError::Malformed { endpoint, .. }
            | WalmartError::Transport { endpoint, .. }
            | WalmartError::Redirected { endpoint, .. }
            | WalmartError::ResponseTooLarge { endpoint, .. }
            | WalmartError::DeadlineExceeded { endpoint, .. } => Some(*endpoint),
            WalmartError::InvalidInput(_) => None,
        }
    }

    /// Builds the error for a non-success status from its body.
    pub(crate) fn from_status(
        endpoint: Endpoint,
        status: u16,
        body: &[u8],
        replenish_at: Option<Timestamp>,
    ) -> Self {
        let details = parse_error_details(body);
        let first = details.first().cloned().unwrap_or_default();
        // Bounded: the text ends up in logs and on records, and Walmart's descriptions can echo
        // the request.
        let text = if details.is_empty() {
            String::from_utf8_lossy(&body[..body.len().min(4 * MAX_ERROR_TEXT_CHARS)]).into_owned()
        } else {
            details
                .iter()
                .map(ErrorDetail::message)
                .collect::<Vec<_>>()
                .join("; ")
        };
        let message = excerpt(&text, MAX_ERROR_TEXT_CHARS);
        match status {
            401 | 403 => WalmartError::Auth {
                endpoint,
                status,
                message,
            },
            404 => WalmartError::NotFound { endpoint, message },
            409 | 423 => WalmartError::Conflict {
                endpoint,
                status,
                code: first.code,
                message,
            },
            429 => WalmartError::Throttled {
                endpoint,
                replenish_at,
            },
            408 | 504 => WalmartError::Timeout { endpoint },
            500..=599 => WalmartError::Server {
                endpoint,
                status,
                message,
            },
            _ => WalmartError::Validation {
                endpoint,
                status,
                code: if first.code.is_empty() {
                    format!("HTTP_{status}")
                } else {
                    first.code
                },
                field: first.field,
                message,
                details,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_body_form_is_parsed() {
        let flat = br#"{"errors":[{"code":"INVALID_REQUEST_PARAM.GMP_ORDER_API","field":"sku","description":"bad sku","category":"DATA","severity":"ERROR"}]}"#;
        let wrapped = br#"{"errors":{"error":[{"code":"CONTENT_NOT_FOUND.GMP_ORDER_API","description":"No orders found"}]}}"#;
        let bare = br#"{"error":[{"code":"UNAUTHORIZED.GMP_GATEWAY_API","info":"Unauthorized token"}]}"#;
        let flat = parse_error_details(flat);
        assert_eq!(flat[0].field.as_deref(), Some("sku"));
        assert_eq!(flat[0].message(), "bad sku");
        assert_eq!(
            parse_error_details(wrapped)[0].code,
            "CONTENT_NOT_FOUND.GMP_ORDER_API"
        );
        assert_eq!(parse_error_details(bare)[0].message(), "Unauthorized token");
        assert!(parse_error_details(b"<html>").is_empty());
        assert!(parse_error_details(br#"{"message":"x"}"#).is_empty());
    }

    #[test]
    fn statuses_map_to_kinds() {
        let body = br#"{"errors":[{"code":"C","field":"f","description":"d"}]}"#;
        let e = |s| WalmartError::from_status(Endpoint::UpdatePrice, s, body, None);
        assert!(
            matches!(e(400), WalmartError::Validation { ref field, .. } if field.as_deref() == Some("f"))
        );
        assert!(matches!(e(401), WalmartError::Auth { .. }));
        assert!(matches!(e(404), WalmartError::NotFound { .. }));
        assert!(matches!(e(409), WalmartError::Conflict { .. }));
        assert!(matches!(e(429), WalmartError::Throttled { .. }));
        assert!(matches!(e(503), WalmartError::Server { status: 503, .. }));
        assert!(matches!(e(504), WalmartError::Timeout { .. }));
        assert!(e(503).is_retryable());
        assert!(!e(400).is_retryable());
        let hint = WalmartError::Throttled {
            endpoint: Endpoint::UpdatePrice,
            replenish_at: Some(Timestamp::from_millis(5_000)),
        }
        .retry_hint(Timestamp::from_millis(2_000));
        assert_eq!(hint, Some(Duration::from_secs(3)));
    }
}
