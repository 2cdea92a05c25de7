//! Authentication as Magento checks it for an Integration: OAuth 1.0a signatures recomputed
//! server-side (HMAC-SHA256, RFC 5849), or the access token as `Bearer` when the store allows it.
//!
//! This is written independently of the client's signer, from the server's side: the base string is
//! rebuilt from the request as received (Host header, raw path, decoded query).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

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
    /// Raw query string as received (without `?`).
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
}

/// What the verifier remembers and knows beyond the request: the store's clock and the nonces
/// already used.
pub struct Replay<'a> {
    pub now_secs: i64,
    /// (consumer key, nonce) pairs seen.
    pub used_nonces: &'a mut HashSet<(String, String)>,
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
    NonceUsed,
    TimestampRefused,
}

/// `Magento\Framework\Oauth\Helper\Request::_extractQueryStringParams`: `&`-separated pairs with
/// exactly one `=`, name and value `rawurldecode`d, protocol parameters left out, kept in a PHP
/// array keyed by name, so a repeated name is signed with its last value only.
pub fn magento_query_params(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    for pair in raw.unwrap_or_default().split('&') {
        let parts: Vec<&str> = pair.split('=').collect();
        if let [name, value] = parts.as_slice()
            && !name.starts_with("oauth_")
        {
            params.insert(dec(name), dec(value));
        }
    }
    params
}

/// PHP's `strnatcmp`, which Laminas OAuth sorts the encoded parameter names with (`uksort`): digit
/// runs compare as numbers (left-aligned when one starts with `0`), the rest byte by byte.
fn strnatcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let digits = |s: &[u8], at: usize| s[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (ra, rb) = (&a[i..i + digits(a, i)], &b[j..j + digits(b, j)]);
            let order = if ra[0] == b'0' || rb[0] == b'0' {
                ra.cmp(rb)
            } else {
                ra.len().cmp(&rb.len()).then(ra.cmp(rb))
            };
            if order.is_ne() {
                return order;
            }
            (i, j) = (i + ra.len(), j + rb.len());
        } else if a[i] != b[j] {
            return a[i].cmp(&b[j]);
        } else {
            (i, j) = (i + 1, j + 1);
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// Magento 2.4.6 decodes these in the request path before rebuilding the base string
/// (magento/magento2#37830, #37913), so a client that signed the encoded path fails there.
fn decode_path_delimiters(path: &str) -> String {
    const DECODED: [(&str, &str); 9] = [
        ("%2F", "/"),
        ("%2B", "+"),
        ("%26", "&"),
        ("%3A", ":"),
        ("%40", "@"),
        ("%3D", "="),
        ("%24", "$"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        match DECODED
            .iter()
            .find(|(encoded, _)| encoded.eq_ignore_ascii_case(code))
        {
            Some((_, plain)) => out.push_str(plain),
            None => out.push_str(code),
        }
        rest = &rest[at + code.len()..];
    }
    out.push_str(rest);
    out
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
    settings: &SandboxSettings,
) -> String {
    let mut params: Vec<(String, String)> = magento_query_params(req.query)
        .iter()
        .map(|(k, v)| (enc(k), enc(v)))
        .collect();
    params.extend(
        oauth
            .iter()
            .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
            .map(|(k, v)| (enc(k), enc(v))),
    );
    params.sort_by(|(ka, _), (kb, _)| strnatcmp(ka, kb));
    let normalised = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let host = req.host.to_ascii_lowercase();
    let host = host.strip_suffix(":80").unwrap_or(&host);
    let path = if settings.oauth_decodes_path_delimiters {
        decode_path_delimiters(req.path)
    } else {
        req.path.to_owned()
    };
    let uri = format!("http://{host}{path}");
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
    replay: Replay<'_>,
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
    // `Integration/Model/Oauth/Nonce/Generator::validateNonce`, before the signature: a timestamp
    // that is not positive or lies more than TIME_DEVIATION ahead of the store's clock, or a nonce
    // the consumer used before. An old timestamp is not refused: its nonce is what stops a replay.
    let timestamp: i64 = get("oauth_timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(Refusal::Malformed("timestamp"))?;
    let ahead = timestamp.saturating_sub(replay.now_secs);
    if timestamp <= 0 || ahead > i64::try_from(settings.oauth_time_deviation_secs).unwrap_or(i64::MAX) {
        return Err(Refusal::TimestampRefused);
    }
    let nonce = get("oauth_nonce").unwrap_or_default();
    if !replay.used_nonces.insert((consumer.to_owned(), nonce.to_owned())) {
        return Err(Refusal::NonceUsed);
    }
    if expected_signature(req, &oauth, creds, settings) != signature {
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

    fn settings() -> SandboxSettings {
        SandboxSettings {
            oauth: vec![OAuthCredentials {
                consumer_key: "ck123".into(),
                consumer_secret: "cs&secret".into(),
                access_token: "tok456".into(),
                access_token_secret: "ts secret".into(),
            }],
            oauth_decodes_path_delimiters: false,
            ..SandboxSettings::default()
        }
    }

    const HEADER: &str = "OAuth oauth_consumer_key=\"ck123\", oauth_nonce=\"abcdef0123456789\", \
        oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1764237600\", oauth_token=\"tok456\", \
        oauth_version=\"1.0\", oauth_signature=\"HSRbuBQuTRo9uw1RJCYvxjDKuD7HUKvu2UYwWTA%2FH3Y%3D\"";
    const NOW: i64 = 1_764_237_600;

    fn check(
        req: &SignedRequest<'_>,
        settings: &SandboxSettings,
        expired: &[String],
        now: i64,
    ) -> Result<(), Refusal> {
        let mut nonces = HashSet::new();
        verify(
            req,
            settings,
            expired,
            Replay {
                now_secs: now,
                used_nonces: &mut nonces,
            },
        )
    }

    #[test]
    fn verifies_an_independently_computed_signature() {
        // Same worked example as the client's test (computed with Python's hmac and urllib).
        let settings = settings();
        let req = SignedRequest {
            method: "GET",
            host: "127.0.0.1:8082",
            path: "/rest/default/V1/products",
            query: Some("searchCriteria%5BpageSize%5D=300"),
            authorization: Some(HEADER),
        };
        assert_eq!(check(&req, &settings, &[], NOW), Ok(()));
        let tampered = SignedRequest {
            query: Some("searchCriteria%5BpageSize%5D=301"),
            ..req
        };
        assert_eq!(check(&tampered, &settings, &[], NOW), Err(Refusal::BadSignature));
        let req = SignedRequest {
            query: Some("searchCriteria%5BpageSize%5D=300"),
            ..tampered
        };
        assert_eq!(
            check(&req, &settings, &["tok456".to_owned()], NOW),
            Err(Refusal::Expired)
        );
        let none = SignedRequest {
            authorization: None,
            ..req
        };
        assert_eq!(check(&none, &settings, &[], NOW), Err(Refusal::Missing));
    }

    /// Fact 2 (issue 12): Magento keeps one value per query name (the last), so a repeated key
    /// signed both times fails, and one signed only with its last value passes.
    #[test]
    fn a_repeated_query_key_is_verified_with_its_last_value_only() {
        let params = magento_query_params(Some("skus%5B%5D=a&skus%5B%5D=b&stockId=1&x&y=1=2"));
        assert_eq!(params.len(), 2);
        assert_eq!(params["skus[]"], "b");
        assert_eq!(params["stockId"], "1");
        assert_eq!(strnatcmp("a%5B9%5D", "a%5B10%5D"), Ordering::Less);
        assert_eq!(strnatcmp("a%5B0%5D", "a%5B1%5D"), Ordering::Less);
        assert_eq!(strnatcmp("ab", "abc"), Ordering::Less);
    }

    /// Fact 2: a nonce is used once, and a timestamp may not lie more than TIME_DEVIATION ahead of
    /// the store's clock (an old one passes; its nonce stops the replay).
    #[test]
    fn reused_nonces_and_timestamps_ahead_of_the_store_are_refused() {
        let settings = settings();
        let req = SignedRequest {
            method: "GET",
            host: "127.0.0.1:8082",
            path: "/rest/default/V1/products",
            query: Some("searchCriteria%5BpageSize%5D=300"),
            authorization: Some(HEADER),
        };
        let mut nonces = HashSet::new();
        let mut verify_at = |now| {
            verify(
                &req,
                &settings,
                &[],
                Replay {
                    now_secs: now,
                    used_nonces: &mut nonces,
                },
            )
        };
        assert_eq!(
            verify_at(NOW - 601),
            Err(Refusal::TimestampRefused),
            "the request's timestamp is 601 s ahead of the store"
        );
        assert_eq!(verify_at(NOW + 3600), Ok(()), "an hour old");
        assert_eq!(verify_at(NOW + 3600), Err(Refusal::NonceUsed));
    }

    /// Fact 2: Magento 2.4.6 decodes `%2F %2B %26 %3A %40 %3D %24 %2C %3B` in the path before
    /// signing, so a signature over the encoded path fails there.
    #[test]
    fn magento_2_4_6_decodes_path_delimiters_before_verifying() {
        assert_eq!(
            decode_path_delimiters("/V1/products/A%2FB%2cC%20D%25"),
            "/V1/products/A/B,C%20D%25"
        );
        let plain = settings();
        let decoding = SandboxSettings {
            oauth_decodes_path_delimiters: true,
            ..settings()
        };
        let req = SignedRequest {
            method: "GET",
            host: "127.0.0.1:8082",
            path: "/rest/default/V1/products",
            query: Some("searchCriteria%5BpageSize%5D=300"),
            authorization: Some(HEADER),
        };
        assert_eq!(check(&req, &decoding, &[], NOW), Ok(()), "nothing to decode");
        let oauth = parse_oauth_header(HEADER).unwrap();
        let creds = &plain.oauth[0];
        let slash = SignedRequest {
            path: "/rest/default/V1/products/A%2FB",
            ..req
        };
        assert_ne!(
            expected_signature(&slash, &oauth, creds, &plain),
            expected_signature(&slash, &oauth, creds, &decoding)
        );
    }
}
