//! What the Walmart and Commerce ports share: their error, and paged reads.

use std::fmt;

use domain::Timestamp;

/// Which external API an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Walmart,
    Commerce,
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Api::Walmart => "Walmart",
            Api::Commerce => "Commerce",
        })
    }
}

/// What kind of failure, as far as an operation needs to know to decide: retry, record, or give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiErrorKind {
    /// Credentials rejected.
    Auth,
    /// Rate limited past what the caller's deadline allowed to wait.
    Throttled,
    NotFound,
    /// The request was rejected as invalid: retrying the same request cannot help.
    Validation,
    /// The resource's state does not allow the call (e.g. shipping a cancelled line).
    Conflict,
    Server,
    Timeout,
    /// An answer that is not what the API documents.
    Malformed,
    /// The connection failed before an answer.
    Transport,
    /// The caller's deadline left no time for (another) attempt.
    DeadlineExceeded,
    /// The request could not be built from the inputs.
    Input,
    /// Commerce cannot cancel the order.
    CannotCancel,
    /// The store or account is not set up as the channel needs (a route missing because a module
    /// is disabled or the store code is wrong, a payment method switched off): nothing works until
    /// someone fixes the configuration, and no answer of such a call says anything about the data.
    Configuration,
}

impl ApiErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiErrorKind::Auth => "auth",
            ApiErrorKind::Throttled => "throttled",
            ApiErrorKind::NotFound => "not_found",
            ApiErrorKind::Validation => "validation",
            ApiErrorKind::Conflict => "conflict",
            ApiErrorKind::Server => "server",
            ApiErrorKind::Timeout => "timeout",
            ApiErrorKind::Malformed => "malformed",
            ApiErrorKind::Transport => "transport",
            ApiErrorKind::DeadlineExceeded => "deadline_exceeded",
            ApiErrorKind::Input => "input",
            ApiErrorKind::CannotCancel => "cannot_cancel",
            ApiErrorKind::Configuration => "configuration",
        }
    }
}

/// An error from the Walmart or Commerce port, with the client's full message (endpoint, status,
/// the API's own error text) for logs and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub api: Api,
    pub kind: ApiErrorKind,
    pub message: String,
    /// The API's error code, when it gives one (Walmart's `code`, e.g. `CONTENT_NOT_FOUND.GMP_ORDER_API`).
    pub code: Option<String>,
    /// When a throttled call may be tried again.
    pub retry_at: Option<Timestamp>,
}

/// `message` cut to [`domain::MAX_REASON_CHARS`]: the client's context (endpoint, status,
/// attempts) and the API's text excerpt fit; a record or log line carrying it stays small.
pub fn bounded_message(message: &str) -> String {
    crate::http::excerpt(message, domain::MAX_REASON_CHARS)
}

impl ApiError {
    /// The message is bounded ([`bounded_message`]).
    pub fn new(api: Api, kind: ApiErrorKind, message: impl Into<String>) -> Self {
        Self {
            api,
            kind,
            message: bounded_message(&message.into()),
            code: None,
            retry_at: None,
        }
    }

    /// Trying again later may succeed (the API or the network was the trouble, not the request).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ApiErrorKind::Throttled
                | ApiErrorKind::Server
                | ApiErrorKind::Timeout
                | ApiErrorKind::Transport
                | ApiErrorKind::DeadlineExceeded
                | ApiErrorKind::Malformed
        )
    }
}

/// One page of a search: 1-based page number and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub size: u32,
}

impl PageRequest {
    pub fn first(size: u32) -> Self {
        Self {
            page: 1,
            size: size.max(1),
        }
    }

    pub fn next(self) -> Self {
        Self {
            page: self.page + 1,
            size: self.size,
        }
    }
}

/// A page of results and the total the search matched. Magento answers a page past the end with
/// the last page again, so callers stop by the total, never by an empty or short page.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage<T> {
    pub items: Vec<T>,
    pub total_count: u64,
}

impl<T> SearchPage<T> {
    /// Whether pages after `request` hold more results.
    pub fn has_more(&self, request: PageRequest) -> bool {
        u64::from(request.page) * u64::from(request.size) < self.total_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_stops_by_total() {
        let page = SearchPage {
            items: vec![1, 2, 3],
            total_count: 7,
        };
        assert!(page.has_more(PageRequest { page: 2, size: 3 }));
        assert!(!page.has_more(PageRequest { page: 3, size: 3 }));
        assert_eq!(PageRequest::first(0).size, 1);
        assert!(ApiError::new(Api::Walmart, ApiErrorKind::Server, "x").is_retryable());
        assert!(!ApiError::new(Api::Commerce, ApiErrorKind::Validation, "x").is_retryable());
    }
}
