//! OAuth 1.0a request signing (RFC 5849) with HMAC-SHA256, as Magento verifies it for Integrations.
//!
//! The signature covers the method, the base string URI and every parameter: the `oauth_*` protocol
//! parameters (without `oauth_signature`) and the query parameters. Request bodies are JSON, which
//! RFC 5849 §3.4.1.3.1 leaves out of the signature (only form-encoded bodies take part).

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngExt as _;
use sha2::Sha256;

/// RFC 5849 §3.6: everything but ALPHA, DIGIT, `-`, `.`, `_` and `~` is encoded, with uppercase hex.
const RFC3986_RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub const SIGNATURE_METHOD: &str = "HMAC-SHA256";

/// Percent-encodes as RFC 5849 §3.6 requires (also used for our query strings, so the URL sent and
/// the string signed agree).
pub fn encode(raw: &str) -> String {
    utf8_percent_encode(raw, RFC3986_RESERVED).to_string()
}

/// The four secrets of an Integration.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub token: &'a str,
    pub token_secret: &'a str,
}

/// RFC 5849 §3.4.1.2: scheme and host in lowercase, the port only when it is not the scheme's
/// default, the path, no query or fragment.
pub fn base_string_uri(url: &url::Url) -> String {
    let scheme = url.scheme().to_ascii_lowercase();
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = match (url.port(), scheme.as_str()) {
        (Some(80), "http") | (Some(443), "https") | (None, _) => String::new(),
        (Some(port), _) => format!(":{port}"),
    };
    format!("{scheme}://{host}{port}{}", url.path())
}

/// RFC 5849 §3.4.1: `METHOD&enc(uri)&enc(normalised parameters)`, where the parameters are
/// encoded first, then sorted by name and value, then joined. The sort is Magento's, not the RFC's
/// byte order: Laminas OAuth sorts the encoded names with `uksort($params, 'strnatcmp')`, so
/// `[10]` comes after `[9]` (the two orders differ only where a number has several digits).
pub fn signature_base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort_by(|(ka, va), (kb, vb)| natural_cmp(ka, kb).then_with(|| natural_cmp(va, vb)));
    let normalised = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalised)
    )
}

/// PHP's `strnatcmp`: runs of digits compare as numbers (a run starting with `0` compares digit by
/// digit, left-aligned), everything else byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let run_end = |s: &[u8], from: usize| from + s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (end_a, end_b) = (run_end(a, i), run_end(b, j));
                let (run_a, run_b) = (&a[i..end_a], &b[j..end_b]);
                let order = if *x == b'0' || *y == b'0' {
                    run_a.cmp(run_b)
                } else {
                    run_a.len().cmp(&run_b.len()).then_with(|| run_a.cmp(run_b))
                };
                if order != Ordering::Equal {
                    return order;
                }
                (i, j) = (end_a, end_b);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (i, j) = (i + 1, j + 1);
            }
        }
    }
}

/// The characters Magento 2.4.6 decodes in a request path before it rebuilds the signature base
/// string (magento/magento2#37830, #37913): a SKU holding one of them cannot be signed in a path
/// route there, and is reached through a `searchCriteria` route instead.
pub const PATH_DECODED_BY_MAGENTO: &[char] = &['/', '+', '&', ':', '@', '=', '$', ',', ';'];

/// Whether `raw` cannot go into a signed path segment on every Magento 2.4.x.
pub fn unsafe_in_signed_path(raw: &str) -> bool {
    raw.contains(PATH_DECODED_BY_MAGENTO)
}

/// Base64 of HMAC-SHA256 over the base string, keyed `enc(consumer_secret)&enc(token_secret)`.
pub fn sign(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    // HMAC takes keys of any length, so this cannot fail; an empty MAC would only fail verification.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(base_string.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A fresh nonce: 32 random alphanumerics.
pub fn nonce() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The `Authorization: OAuth ...` header value for one request. `query` holds the decoded query
/// parameters of `url` (which must not carry others).
pub fn authorization_header(
    method: &str,
    url: &url::Url,
    query: &[(String, String)],
    creds: Credentials<'_>,
    nonce: &str,
    timestamp: i64,
) -> String {
    let timestamp = timestamp.to_string();
    let protocol = [
        ("oauth_consumer_key", creds.consumer_key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", SIGNATURE_METHOD),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_token", creds.token),
        ("oauth_version", "1.0"),
    ];
    let mut params: Vec<(String, String)> = query.to_vec();
    params.extend(protocol.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let base = signature_base_string(method, &base_string_uri(url), &params);
    let signature = sign(&base, creds.consumer_secret, creds.token_secret);
    let mut fields: Vec<String> = protocol
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", encode(v)))
        .collect();
    fields.push(format!("oauth_signature=\"{}\"", encode(&signature)));
    format!("OAuth {}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn encoding_follows_rfc5849() {
        assert_eq!(encode("abcABC123-._~"), "abcABC123-._~");
        assert_eq!(encode("a b+c/d=e&f"), "a%20b%2Bc%2Fd%3De%26f");
        assert_eq!(encode("searchCriteria[pageSize]"), "searchCriteria%5BpageSize%5D");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn base_string_uri_drops_default_ports_and_query() {
        let url = url::Url::parse("HTTP://Shop.Example.com:80/rest/default/V1/products?x=1").unwrap();
        assert_eq!(
            base_string_uri(&url),
            "http://shop.example.com/rest/default/V1/products"
        );
        let url = url::Url::parse("http://127.0.0.1:8082/rest/V1/orders").unwrap();
        assert_eq!(base_string_uri(&url), "http://127.0.0.1:8082/rest/V1/orders");
    }

    /// RFC 5849 §3.4.1.1's own example (its parameters, sorted and encoded as §3.4.1.3.2 shows).
    #[test]
    fn base_string_matches_the_rfc_example() {
        let params = pairs(&[
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        let base = signature_base_string("post", "http://example.com/request", &params);
        assert_eq!(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D\
             %26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26\
             oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// A worked example computed independently of this code (Python's `hmac` and `urllib.parse.quote`
    /// over the same inputs): the header must carry exactly this signature.
    #[test]
    fn signature_matches_an_independent_computation() {
        let url = url::Url::parse(
            "http://127.0.0.1:8082/rest/default/V1/products?searchCriteria%5BpageSize%5D=300",
        )
        .unwrap();
        let query = pairs(&[("searchCriteria[pageSize]", "300")]);
        let creds = Credentials {
            consumer_key: "ck123",
            consumer_secret: "cs&secret",
            token: "tok456",
            token_secret: "ts secret",
        };
        let header = authorization_header("GET", &url, &query, creds, "abcdef0123456789", 1_764_237_600);
        assert!(
            header.contains("oauth_signature=\"HSRbuBQuTRo9uw1RJCYvxjDKuD7HUKvu2UYwWTA%2FH3Y%3D\""),
            "{header}"
        );
        assert!(header.starts_with("OAuth oauth_consumer_key=\"ck123\", oauth_nonce=\"abcdef0123456789\""));
        assert!(header.contains("oauth_signature_method=\"HMAC-SHA256\""));
    }

    /// Fact 2 (issue 12): Laminas OAuth sorts parameter names with `strnatcmp`, so Magento signs
    /// `[10]` after `[9]`; byte order would put it first and every such signature would fail.
    #[test]
    fn parameters_sort_in_natural_order_as_magento_does() {
        use std::cmp::Ordering;
        assert_eq!(natural_cmp("a%5B9%5D", "a%5B10%5D"), Ordering::Less);
        assert_eq!(natural_cmp("a%5B10%5D", "a%5B9%5D"), Ordering::Greater);
        assert_eq!(natural_cmp("a%5B0%5D", "a%5B10%5D"), Ordering::Less);
        assert_eq!(natural_cmp("img12", "img10"), Ordering::Greater);
        assert_eq!(natural_cmp("abc", "abd"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        let params: Vec<(String, String)> = (0..11)
            .map(|f| {
                (
                    format!("searchCriteria[filterGroups][0][filters][{f}][value]"),
                    f.to_string(),
                )
            })
            .collect();
        let base = signature_base_string("GET", "http://h/rest/V1/products", &params);
        let nine = base.find("%255B9%255D").unwrap();
        let ten = base.find("%255B10%255D").unwrap();
        assert!(nine < ten, "{base}");
        assert!(unsafe_in_signed_path("A/B") && unsafe_in_signed_path("A,B"));
        assert!(!unsafe_in_signed_path("A B-C_D.E~#"));
    }

    #[test]
    fn nonces_are_fresh() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
