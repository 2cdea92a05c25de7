//! `POST /v3/token`: client-credentials tokens that expire.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::json;

use super::{AppState, ok_json};
use crate::errors::{ErrorForm, WalmartFault};

fn unauthorized(description: &str) -> Response {
    WalmartFault {
        field: Some("Authorization".to_owned()),
        ..WalmartFault::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED.GMP_GATEWAY_API",
            description,
        )
    }
    .into_response(ErrorForm::Gateway)
}

/// Decodes `Basic base64(id:secret)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((id, secret)) = basic_credentials(&headers) else {
        return unauthorized("Basic authorization with the client id and secret is required");
    };
    let grant = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned());
    if grant.as_deref() != Some("client_credentials") {
        return WalmartFault::bad_request(
            "INVALID_REQUEST_CONTENT.GMP_GATEWAY_API",
            "grant_type",
            "grant_type must be client_credentials",
        )
        .into_response(ErrorForm::Gateway);
    }
    let (mut world, now) = state.lock();
    if id != world.settings.client_id || secret != world.settings.client_secret {
        return unauthorized("Invalid client id or secret");
    }
    let (token, ttl) = world.issue_token(now);
    ok_json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl }))
}
