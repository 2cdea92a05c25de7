//! Walmart's error bodies. Walmart sends three forms and the sandbox uses each where Walmart does:
//! the gateway (auth, headers, throttling) `{"error": [..]}`, the orders API
//! `{"errors": {"error": [..]}}`, and the other APIs `{"errors": [..]}`.

use axum::http::StatusCode;
use axum::response::Response;
use sandbox_kit::json_error;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorForm {
    /// `{"error": [..]}`: gateway errors.
    Gateway,
    /// `{"errors": {"error": [..]}}`: orders API.
    Wrapped,
    /// `{"errors": [..]}`: items, feeds, inventory, price, returns.
    Flat,
}

/// One Walmart error entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalmartFault {
    pub status: StatusCode,
    pub code: String,
    pub field: Option<String>,
    pub description: String,
    pub category: &'static str,
}

impl WalmartFault {
    pub fn new(status: StatusCode, code: impl Into<String>, description: impl Into<String>) -> Self {
        let category = if status.is_server_error() {
            "SYSTEM"
        } else if status == StatusCode::BAD_REQUEST {
            "DATA"
        } else {
            "REQUEST"
        };
        Self {
            status,
            code: code.into(),
            field: None,
            description: description.into(),
            category,
        }
    }

    pub fn bad_request(code: impl Into<String>, field: &str, description: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(StatusCode::BAD_REQUEST, code, description)
        }
    }

    pub fn not_found(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, description)
    }

    fn entry(&self) -> Value {
        let mut entry = json!({
            "code": self.code,
            "description": self.description,
            "info": self.status.canonical_reason().unwrap_or("Error"),
            "severity": "ERROR",
            "category": self.category,
        });
        if let Some(field) = &self.field {
            entry["field"] = json!(field);
        }
        entry
    }

    pub fn into_response(self, form: ErrorForm) -> Response {
        let entries = vec![self.entry()];
        let body = match form {
            ErrorForm::Gateway => json!({ "error": entries }),
            ErrorForm::Wrapped => json!({ "errors": { "error": entries } }),
            ErrorForm::Flat => json!({ "errors": entries }),
        };
        json_error(self.status, body)
    }
}
