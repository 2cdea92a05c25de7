//! Errors of the Commerce client, and Magento's error bodies rendered as readable messages.
//!
//! Magento answers errors as `{"message": "...%1...", "parameters": [...]}` or with named
//! placeholders, `{"message": "...%fieldName...", "parameters": {"fieldName": "..."}}`. The message
//! is only meaningful with the placeholders substituted, so every error carries the rendered text.

use std::time::Duration;

use ports::http::{MAX_ERROR_TEXT_CHARS, excerpt};
use serde_json::Value;

/// What went wrong talking to Commerce. Only [`CommerceError::is_retryable`] kinds are retried.
#[derive(Debug, thiserror::Error)]
pub enum CommerceError {
    /// 401/403: bad or expired credentials, or the integration lacks the ACL resource.
    #[error("Commerce refused the credentials on {route}: {message}")]
    Auth { route: String, message: String },
    /// 404 whose body names a missing entity ("The product that was requested doesn't exist...").
    #[error("Commerce has no such entity on {route}: {message}")]
    NotFound { route: String, message: String },
    /// 404 `"Request does not match any route."`: the route itself is missing. Magento answers so
    /// when the module serving it is disabled (MSI for `/V1/inventory/...`), when the store code in
    /// `/rest/<code>/V1` is unknown (`Webapi/Controller/PathProcessor` leaves it in the path), or
    /// when the web server refused an encoded `/` (magento2 issue 8615). It says nothing about the
    /// entity: it is a store configuration problem.
    #[error(
        "Commerce has no route for {route} (\"{message}\"): the module serving it is disabled \
         (Multi-Source Inventory for /V1/inventory), the store code is unknown, or the web server \
         refuses encoded slashes; check the store's configuration"
    )]
    NoRoute { route: String, message: String },
    /// The store is not set up as the channel needs (a payment method disabled, say).
    #[error("Commerce is not configured for the channel: {0}")]
    Configuration(String),
    /// 400 and other 4xx: Commerce rejected the request; retrying the same request cannot help.
    #[error("Commerce rejected the request on {route} ({status}): {message}")]
    Validation {
        route: String,
        status: u16,
        message: String,
    },
    /// 429, or 503 with `Retry-After`: a CDN or proxy in front of the store (Fastly, nginx) or
    /// Magento's order-placement limiter asks us to slow down. Returned once the retries the
    /// deadline allowed are spent, or at once when the wait asked for does not fit the deadline.
    #[error(
        "Commerce throttled {route} ({status}, retry after {retry_after:?}) after {attempts} attempt(s): {message}"
    )]
    Throttled {
        route: String,
        status: u16,
        retry_after: Option<Duration>,
        /// When the wait ends, on the client's clock.
        retry_at: Option<domain::Timestamp>,
        attempts: u32,
        message: String,
    },
    /// 5xx after the retries the deadline allowed.
    #[error("Commerce failed on {route} with {status} after {attempts} attempt(s): {message}")]
    Server {
        route: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    /// No answer within the request timeout, after the retries the deadline allowed.
    #[error("Commerce did not answer {route} within {timeout:?} after {attempts} attempt(s)")]
    Timeout {
        route: String,
        timeout: Duration,
        attempts: u32,
    },
    /// A 2xx whose body is not what the schema promises.
    #[error("Commerce sent a malformed answer on {route}: {context}")]
    Malformed { route: String, context: String },
    /// The connection failed before any answer (refused, reset, DNS).
    #[error("could not reach Commerce on {route}: {message}")]
    Transport { route: String, message: String },
    /// A 3xx: Magento's REST API does not redirect, and the client follows no redirect, since that
    /// would carry the credentials' signature and the request body (buyer addresses) elsewhere. A
    /// store answering one is misconfigured (often http→https or a changed domain).
    #[error(
        "Commerce answered {route} with a redirect ({status}), which the client does not follow; check the base URL"
    )]
    Redirected { route: String, status: u16 },
    /// A response body longer than the client reads (`CommerceConfig::max_response_bytes`).
    #[error("Commerce answered {route} with a body larger than {limit_bytes} bytes, not read")]
    ResponseTooLarge { route: String, limit_bytes: usize },
    /// The caller's deadline left no time for (another) attempt.
    #[error("deadline reached before Commerce answered {route} (last problem: {last})")]
    DeadlineExceeded { route: String, last: String },
    /// `POST /V1/orders/{id}/cancel` answered `false`: Magento cannot cancel the order (for example
    /// because everything is invoiced or shipped).
    #[error("Commerce cannot cancel order {order_id}")]
    CannotCancel { order_id: u64 },
    /// The request could not be built from the inputs (e.g. an unmapped country, an empty cart).
    #[error("cannot build the Commerce request: {0}")]
    Input(String),
    /// A 2xx whose values the channel's terms cannot hold (a fractional or negative unit count,
    /// an invalid id): see [`crate::convert`].
    #[error("Commerce sent a value the channel cannot represent: {0}")]
    Unrepresentable(#[from] crate::convert::ConvertError),
}

impl CommerceError {
    /// Throttling, 5xx, timeouts and dropped connections may succeed when tried again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CommerceError::Throttled { .. }
                | CommerceError::Server { .. }
                | CommerceError::Timeout { .. }
                | CommerceError::Transport { .. }
        )
    }

    /// How long the server asked us to wait (`Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CommerceError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A kind name for metrics and for the dashboard's error column.
    pub fn kind(&self) -> &'static str {
        match self {
            CommerceError::Auth { .. } => "auth",
            CommerceError::NotFound { .. } => "not_found",
            CommerceError::NoRoute { .. } => "no_route",
            CommerceError::Configuration(_) => "configuration",
            CommerceError::Validation { .. } => "validation",
            CommerceError::Throttled { .. } => "throttled",
            CommerceError::Server { .. } => "server",
            CommerceError::Timeout { .. } => "timeout",
            CommerceError::Malformed { .. } => "malformed",
            CommerceError::Transport { .. } => "transport",
            CommerceError::Redirected { .. } => "redirected",
            CommerceError::ResponseTooLarge { .. } => "response_too_large",
            CommerceError::DeadlineExceeded { .. } => "deadline_exceeded",
            CommerceError::CannotCancel { .. } => "cannot_cancel",
            CommerceError::Input(_) => "input",
            CommerceError::Unrepresentable(_) => "unrepresentable",
        }
    }
}

/// Magento's message for a path no route serves (`Magento\\Webapi\\Controller\\Rest\\Router`).
pub const NO_ROUTE_MESSAGE: &str = "Request does not match any route.";

/// Renders a Magento error body: `%1`, `%2`... take list parameters in order, `%name` takes the
/// named parameter. Placeholders without a value are left as they are, so nothing is lost. A body
/// that is not Magento-shaped is returned as text. Either is cut to
/// [`ports::http::MAX_ERROR_TEXT_CHARS`]: parameters can echo the request (a buyer's address) and
/// the text goes to logs and onto records.
pub fn render_error_body(body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => match map.get("message").and_then(Value::as_str) {
            Some(message) => render_message(message, map.get("parameters")),
            None => body.to_owned(),
        },
        _ => body.to_owned(),
    };
    let text = excerpt(&text, MAX_ERROR_TEXT_CHARS);
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    text
}

fn param_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Substitutes `%1`.. (list) or `%name` (map) placeholders in `message`.
pub fn render_message(message: &str, parameters: Option<&Value>) -> String {
    let lookup = |name: &str| -> Option<String> {
        match parameters? {
            Value::Array(list) => {
                let index: usize = name.parse().ok()?;
                list.get(index.checked_sub(1)?).map(param_text)
            }
            Value::Object(map) => map.get(name).map(param_text),
            _ => None,
        }
    };
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        // A placeholder is `%` followed by digits or by an identifier.
        let name_len = if after.starts_with(|c: char| c.is_ascii_digit()) {
            after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len())
        } else {
            after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len())
        };
        let name = &after[..name_len];
        match (name_len > 0).then(|| lookup(name)).flatten() {
            Some(value) => out.push_str(&value),
            None => {
                out.push('%');
                out.push_str(name);
            }
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_list_and_named_parameters() {
        assert_eq!(
            render_error_body(
                r#"{"message":"The \"%1\" cart doesn't contain the \"%2\" item.","parameters":["7","12"]}"#
            ),
            r#"The "7" cart doesn't contain the "12" item."#
        );
        assert_eq!(
            render_error_body(
                r#"{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"cartId","fieldValue":"abc"}}"#
            ),
            "No such entity with cartId = abc"
        );
        assert_eq!(
            render_error_body(
                r#"{"message":"Maximum SearchCriteria pageSize is %max","parameters":{"max":300}}"#
            ),
            "Maximum SearchCriteria pageSize is 300"
        );
    }

    #[test]
    fn leaves_unknown_placeholders_and_percent_signs_alone() {
        assert_eq!(
            render_message("%1 of %2", Some(&serde_json::json!(["a"]))),
            "a of %2"
        );
        assert_eq!(
            render_message("100% sure, %0", Some(&serde_json::json!(["a"]))),
            "100% sure, %0"
        );
        assert_eq!(render_message("%name", None), "%name");
        assert_eq!(render_message("%10 %1", Some(&serde_json::json!(["a"]))), "%10 a");
    }

    #[test]
    fn rendered_messages_are_bounded() {
        let long = format!(
            r#"{{"message":"Invalid value of \"%1\" provided for the %2 field.","parameters":["{}","street"]}}"#,
            "1 Main Street ".repeat(100)
        );
        assert_eq!(render_error_body(&long).chars().count(), MAX_ERROR_TEXT_CHARS + 1);
    }

    #[test]
    fn non_magento_bodies_are_shortened_text() {
        assert_eq!(render_error_body(""), "(empty body)");
        assert_eq!(render_error_body("<html>oops</html>"), "<html>oops</html>");
        assert_eq!(render_error_body(&"x".repeat(400)).chars().count(), 301);
    }
}
