//! Authentication as Magento checks it for an Integration: OAuth 1.0a signatures recomputed
//! server-side (HMAC-SHA256, RFC 5849), or the access token as `Bearer` when the store allows it.
//!
//! This is written independently of the client's signer, from the server's side: the base string is
//! rebuilt from the request as received (Host header, raw path, decoded query).

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::Sha256;

use crate::error::ApiError;
use crate::settings::{OAuthCredentials, SandboxSettings};

const UNRESERVED_KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(raw: &str) -> String {
    utf8_percent_encode(raw, UNRESERVED_KEPT).to_string()
}

fn dec(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// The request as the verifier needs it.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Host header (`127.0.0.1:8082`).
    pub host: &'a str,
    /// Raw path as received, percent-encoding kept.
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    pub authorization: Option<&'a str>,
}

/// Why a request was refused (for the sandbox log; the answer is always Magento's 401 body).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Malformed(&'static str),
    UnknownConsumer,
    UnknownToken,
    Expired,
    BadSignature,
    UnsupportedMethod,
    BearerDisabled,
}

/// Parses `OAuth k="v", ...` into decoded parameters.
pub fn parse_oauth_header(header: &str) -> Option<BTreeMap<String, String>> {
    let rest = header.trim().strip_prefix("OAuth")?.trim();
    let mut params = BTreeMap::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, value) = part.split_once('=')?;
        let value = value.trim().trim_matches('"');
        params.insert(dec(key.trim()), dec(value));
    }
    Some(params)
}

fn expected_signature(
    req: &SignedRequest<'_>,
    oauth: &BTreeMap<String, String>,
    creds: &OAuthCredentials,
) -> String {
    let mut params: Vec<(String, String)> = req.query.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    params.extend(
        oauth
            .iter()
            .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
            .map(|(k, v)| (enc(k), enc(v))),
    );
    params.sort();
    let normalised = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let host = req.host.to_ascii_lowercase();
    let host = host.strip_suffix(":80").unwrap_or(&host);
    let uri = format!("http://{host}{}", req.path);
    let base = format!(
        "{}&{}&{}",
        req.method.to_ascii_uppercase(),
        enc(&uri),
        enc(&normalised)
    );
    let key = format!(
        "{}&{}",
        enc(&creds.consumer_secret),
        enc(&creds.access_token_secret)
    );
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks the request's credentials. `expired` lists access tokens the merchant revoked.
pub fn verify(
    req: &SignedRequest<'_>,
    settings: &SandboxSettings,
    expired: &[String],
) -> Result<(), Refusal> {
    let header = req.authorization.ok_or(Refusal::Missing)?;
    if let Some(token) = header.strip_prefix("Bearer ") {
        if !settings.accept_bearer {
            return Err(Refusal::BearerDisabled);
        }
        let token = token.trim();
        let known = settings.bearer_tokens.iter().any(|t| t == token)
            || settings.oauth.iter().any(|c| c.access_token == token);
        if !known {
            return Err(Refusal::UnknownToken);
        }
        if expired.iter().any(|t| t == token) {
            return Err(Refusal::Expired);
        }
        return Ok(());
    }
    let oauth = parse_oauth_header(header).ok_or(Refusal::Malformed("not an OAuth or Bearer header"))?;
    let get = |k: &str| oauth.get(k).map(String::as_str);
    if get("oauth_signature_method") != Some("HMAC-SHA256") {
        return Err(Refusal::UnsupportedMethod);
    }
    if get("oauth_nonce").is_none_or(str::is_empty)
        || get("oauth_timestamp").is_none_or(|t| t.parse::<i64>().is_err())
    {
        return Err(Refusal::Malformed("nonce or timestamp missing"));
    }
    let consumer = get("oauth_consumer_key").ok_or(Refusal::Malformed("no consumer key"))?;
    let token = get("oauth_token").ok_or(Refusal::Malformed("no token"))?;
    let signature = get("oauth_signature").ok_or(Refusal::Malformed("no signature"))?;
    let creds = settings
        .oauth
        .iter()
        .find(|c| c.consumer_key == consumer)
        .ok_or(Refusal::UnknownConsumer)?;
    if creds.access_token != token {
        return Err(Refusal::UnknownToken);
    }
    if expired.iter().any(|t| t == token) {
        return Err(Refusal::Expired);
    }
    if expected_signature(req, &oauth, creds) != signature {
        return Err(Refusal::BadSignature);
    }
    Ok(())
}

/// Magento answers every authentication failure the same way.
pub fn refusal_error(resource: &str) -> ApiError {
    ApiError::unauthorized(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_an_independently_computed_signature() {
        // Same worked example as the client's test (computed with Python's hmac and urllib).
        let settings = SandboxSettings {
            oauth: vec![OAuthCredentials {
                consumer_key: "ck123".into(),
                consumer_secret: "cs&secret".into(),
                access_token: "tok456".into(),
                access_token_secret: "ts secret".into(),
            }],
            ..SandboxSettings::default()
        };
        let header = "OAuth oauth_consumer_key=\"ck123\", oauth_nonce=\"abcdef0123456789\", \
            oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1764237600\", oauth_token=\"tok456\", \
            oauth_version=\"1.0\", oauth_signature=\"HSRbuBQuTRo9uw1RJCYvxjDKuD7HUKvu2UYwWTA%2FH3Y%3D\"";
        let query = vec![("searchCriteria[pageSize]".to_owned(), "300".to_owned())];
        let req = SignedRequest {
            method: "GET",
            host: "127.0.0.1:8082",
            path: "/rest/default/V1/products",
            query: &query,
            authorization: Some(header),
        };
        assert_eq!(verify(&req, &settings, &[]), Ok(()));
        let other_query = vec![("searchCriteria[pageSize]".to_owned(), "301".to_owned())];
        let tampered = SignedRequest {
            query: &other_query,
            ..req
        };
        assert_eq!(verify(&tampered, &settings, &[]), Err(Refusal::BadSignature));
        let req = SignedRequest {
            query: &query,
            ..tampered
        };
        assert_eq!(
            verify(&req, &settings, &["tok456".to_owned()]),
            Err(Refusal::Expired)
        );
        let none = SignedRequest {
            authorization: None,
            ..req
        };
        assert_eq!(verify(&none, &settings, &[]), Err(Refusal::Missing));
    }
}
