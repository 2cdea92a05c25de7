//! Magento-shaped error answers: `{"message": "...%1...", "parameters": [...]}` (list form) or
//! `{"message": "...%name...", "parameters": {"name": ...}}` (named form), with Magento's statuses:
//! 400 input, 401 authentication/authorisation, 404 no such entity or no such route, 500 internal.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            body: json!({ "message": message }),
        }
    }

    pub fn with_list(status: StatusCode, message: &str, parameters: &[&str]) -> Self {
        Self {
            status,
            body: json!({ "message": message, "parameters": parameters }),
        }
    }

    pub fn with_named(status: StatusCode, message: &str, parameters: Value) -> Self {
        Self {
            status,
            body: json!({ "message": message, "parameters": parameters }),
        }
    }

    pub fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn bad_request_list(message: &str, parameters: &[&str]) -> Self {
        Self::with_list(StatusCode::BAD_REQUEST, message, parameters)
    }

    pub fn bad_request_named(message: &str, parameters: Value) -> Self {
        Self::with_named(StatusCode::BAD_REQUEST, message, parameters)
    }

    /// Magento's `InputException::requiredField`.
    pub fn required_field(name: &str) -> Self {
        Self::bad_request_named(
            "\"%fieldName\" is required. Enter and try again.",
            json!({ "fieldName": name }),
        )
    }

    /// Magento's `NoSuchEntityException::singleField`.
    pub fn no_such_entity(field: &str, value: impl ToString) -> Self {
        Self::with_named(
            StatusCode::NOT_FOUND,
            "No such entity with %fieldName = %fieldValue",
            json!({ "fieldName": field, "fieldValue": value.to_string() }),
        )
    }

    pub fn product_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The product that was requested doesn't exist. Verify the product and try again.",
        )
    }

    pub fn entity_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The entity that was requested doesn't exist. Verify the entity and try again.",
        )
    }

    /// What Magento answers for a path no module serves (e.g. `/V1/returns` on Open Source).
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Request does not match any route.")
    }

    /// What Magento answers when the caller is not authenticated or lacks the ACL resource.
    pub fn unauthorized(resource: &str) -> Self {
        Self::with_named(
            StatusCode::UNAUTHORIZED,
            "The consumer isn't authorized to access %resources.",
            json!({ "resources": resource }),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}
