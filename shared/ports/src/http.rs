//! What both HTTP clients hold to, whoever configures them: where they may connect, how long
//! connecting may take, how much of an answer they read, and how much of an API's error text they
//! keep.

use std::time::Duration;

/// Longest wait for a TCP and TLS connection. Much shorter than a request timeout: a host that does
/// not accept a connection within this is down, and the rest of the deadline is better spent on a
/// retry.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest response body read. The largest documented answers (a 200-order Walmart page, a
/// 300-product Commerce page with every attribute) are a few MB; a body past this is refused
/// rather than buffered, so a broken or hostile server cannot exhaust a Lambda's memory.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Longest excerpt of an API's own error text kept in an error: enough for the sentence and its
/// codes, short enough that a record carrying it stays far below DynamoDB's 400 KB item limit
/// however often it fails, and that an API echoing its input cannot copy much of it into logs.
pub const MAX_ERROR_TEXT_CHARS: usize = 300;

/// A base URL the clients refuse, at construction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// The text does not parse as an absolute URL. The URL itself is not repeated: it may carry
    /// credentials.
    #[error("the base URL is not a valid absolute URL ({0})")]
    Invalid(String),
    /// Plain http (or another scheme) to a host other than this machine.
    #[error(
        "the base URL uses {scheme}:// to {host}: only https is allowed, except http to this \
         machine (localhost, 127.0.0.0/8, ::1) for sandboxes"
    )]
    Insecure { scheme: String, host: String },
    /// User name, password, query or fragment: none belongs in a base URL, and a password there
    /// would be logged with it.
    #[error("the base URL must not carry a user name, password, query or fragment")]
    Extraneous,
}

/// Checks that `raw` is a base URL the clients may send credentials to: `https://`, or `http://`
/// to a loopback host (the bundled sandboxes), with nothing but scheme, host, port and path.
pub fn check_base_url(raw: &str) -> Result<url::Url, BaseUrlError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| BaseUrlError::Invalid(e.to_string()))?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(BaseUrlError::Extraneous);
    }
    let host = url.host();
    let loopback = match &host {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if host.is_some() => Ok(url),
        "http" if loopback => Ok(url),
        scheme => Err(BaseUrlError::Insecure {
            scheme: scheme.to_owned(),
            host: url.host_str().unwrap_or("no host").to_owned(),
        }),
    }
}

pub use domain::excerpt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        for ok in [
            "https://marketplace.walmartapis.com",
            "https://shop.example.com/magento/",
            "http://127.0.0.1:8080",
            "http://127.3.2.1",
            "http://localhost:1/",
            "http://[::1]:9000",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for (refused, expected) in [
            ("http://shop.example.com", "http:// to shop.example.com"),
            ("http://10.0.0.1", "http:// to 10.0.0.1"),
            ("http://localhost.example.com", "http:// to localhost.example.com"),
            ("ftp://127.0.0.1", "ftp:// to 127.0.0.1"),
            ("file:///etc/passwd", "file:// to no host"),
        ] {
            let shown = check_base_url(refused).unwrap_err().to_string();
            assert!(shown.contains(expected), "{refused}: {shown}");
        }
        assert_eq!(
            check_base_url("https://user:hunter2@shop.example.com"),
            Err(BaseUrlError::Extraneous)
        );
        assert_eq!(
            check_base_url("https://shop.example.com/?token=hunter2"),
            Err(BaseUrlError::Extraneous)
        );
        let invalid = check_base_url("shop.example.com/hunter2")
            .unwrap_err()
            .to_string();
        assert!(!invalid.contains("hunter2"), "{invalid}");
    }
}
