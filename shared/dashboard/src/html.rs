//! HTML by hand: every value goes through [`esc`], pages share one [`layout`], and every answer gets
//! the same security headers ([`secure`]). No inline script or style anywhere (the CSP forbids
//! them): behaviour lives in `/static/app.js`, looks in `/static/app.css`.

use std::fmt::Write as _;

use http::{HeaderValue, Response, StatusCode, header};

use crate::i18n::Lang;

/// Scripts and styles from the app itself only; no frames, no plugins, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value.
pub fn q(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Listings,
    Orders,
    Returns,
    Audit,
    None,
}

/// Who is looking, for the header and every form's CSRF token.
pub struct Viewer<'a> {
    pub user: &'a str,
    /// A fresh CSRF token for each form on the page.
    pub token: &'a dyn Fn() -> String,
}

/// A whole page.
pub fn layout(
    lang: Lang,
    title: &str,
    nav: Nav,
    viewer: Option<&Viewer<'_>>,
    notice: Option<&str>,
    body: &str,
) -> String {
    let t = lang.text();
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {}</title><link rel=\"stylesheet\" href=\"/static/app.css\">\
         <script src=\"/static/app.js\" defer></script></head><body>",
        lang.code(),
        esc(title),
        t.app_name
    );
    out.push_str("<header><span class=\"brand\">Channel Manager</span>");
    if let Some(viewer) = viewer {
        out.push_str("<nav>");
        for (entry, href, label) in [
            (Nav::Overview, "/", t.overview),
            (Nav::Listings, "/listings", t.listings),
            (Nav::Orders, "/orders", t.orders),
            (Nav::Returns, "/returns", t.returns),
            (Nav::Audit, "/audit", t.audit),
        ] {
            let current = if entry == nav {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(out, "<a href=\"{href}\"{current}>{label}</a>");
        }
        out.push_str("</nav>");
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/logout\" class=\"signout\"><span>{} {}</span>{}<button>{}</button></form>",
            t.signed_in_as,
            esc(viewer.user),
            csrf_field(&(viewer.token)()),
            t.sign_out
        );
    }
    out.push_str("</header><main>");
    if let Some(notice) = notice {
        let _ = write!(out, "<p class=\"notice\" role=\"status\">{}</p>", esc(notice));
    }
    let _ = write!(out, "<h1>{}</h1>", esc(title));
    out.push_str(body);
    out.push_str("</main></body></html>");
    out
}

pub fn csrf_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(token))
}

/// A one-button form posting an action.
pub fn action_button(
    viewer: &Viewer<'_>,
    action: &str,
    fields: &[(&str, &str)],
    label: &str,
    back: &str,
) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"/actions/{}\" class=\"inline\">{}<input type=\"hidden\" name=\"back\" value=\"{}\">",
        esc(action),
        csrf_field(&(viewer.token)()),
        esc(back)
    );
    for (name, value) in fields {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        );
    }
    let _ = write!(
        out,
        "<button data-confirm=\"{0}?\">{0}</button></form>",
        esc(label)
    );
    out
}

/// Adds the headers every answer carries.
pub fn secure<B>(mut response: Response<B>, https: bool) -> Response<B> {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

pub fn html(status: StatusCode, body: String) -> Response<Vec<u8>> {
    let mut r = Response::new(body.into_bytes());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// 303 See Other: after a POST, or to the login page.
pub fn redirect(location: &str) -> Response<Vec<u8>> {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub fn plain(status: StatusCode, text: &str) -> Response<Vec<u8>> {
    let mut r = Response::new(text.as_bytes().to_vec());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A table head whose columns sort by a link (`?sort=<key>&dir=asc|desc`); `base` is the page's
/// query without sort.
pub fn sortable_head(columns: &[(&str, Option<&str>)], base: &str, sort: &str, descending: bool) -> String {
    let mut out = String::from("<thead><tr>");
    for (label, key) in columns {
        match key {
            Some(key) => {
                let (dir, mark, aria) = if *key == sort {
                    if descending {
                        ("asc", " ▼", " aria-sort=\"descending\"")
                    } else {
                        ("desc", " ▲", " aria-sort=\"ascending\"")
                    }
                } else {
                    ("asc", "", "")
                };
                let _ = write!(
                    out,
                    "<th{aria}><a href=\"?{base}sort={key}&amp;dir={dir}\">{}{mark}</a></th>",
                    esc(label)
                );
            }
            None => {
                let _ = write!(out, "<th>{}</th>", esc(label));
            }
        }
    }
    out.push_str("</tr></thead>");
    out
}

/// A duration for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A timestamp as `YYYY-MM-DD HH:MM UTC`.
pub fn when(t: domain::Timestamp) -> String {
    let raw = t.to_rfc3339();
    format!(
        "{} {} UTC",
        raw.get(..10).unwrap_or(&raw),
        raw.get(11..16).unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_interprets() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
