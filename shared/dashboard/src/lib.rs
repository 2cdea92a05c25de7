//! The merchant's Channel Manager page: overview of the operations, listings, orders, returns and
//! the activity log, with the merchant's actions, as one function from an HTTP request to an HTTP
//! response over a [`Channel`]. The dashboard Lambda (behind a Function URL) and the local runner
//! serve the same [`Dashboard::handle`].
//!
//! Pages are HTML rendered here; `/static/app.js` adds small conveniences (confirmations, select
//! all, filters that apply on change) and nothing depends on it. Who gets in and how requests are
//! held to them: [`auth`].

pub mod attention;
pub mod auth;
#[cfg(feature = "fixture")]
pub mod fixture;
pub mod function_url;
pub mod html;
pub mod i18n;
pub mod pages;
pub mod password;

use std::sync::Arc;

use domain::Timestamp;
use http::{Method, Request, Response, StatusCode, header};
use operations::Channel;
use ports::{Clock, SystemClock};

use crate::auth::{Credentials, LOGIN_COOKIE, SESSION_COOKIE, SESSION_LIFETIME, Session};
use crate::html::{Nav, Viewer};
use crate::i18n::Lang;

pub use crate::auth::{LoginSecret, LoginSecretError};
pub use http;

/// The state-store methods the dashboard calls (pages, sign-in and the merchant's actions): its
/// function's declaration (`operations::merchant::DECLARATION`), from which `infra/checks` derives
/// its table actions; `tests/declared_calls.rs` holds them to the calls really made.
pub const STORE_CALLS: &[ports::StoreCall] = operations::merchant::DECLARATION.store_calls;

const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

/// The client's address, as a request extension (the Function URL's `sourceIp`, the local socket's
/// peer): what failed logins are counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// How the dashboard is served.
#[derive(Clone)]
pub struct Options {
    /// Cookies get `Secure` and answers HSTS: true everywhere but plain-http loopback.
    pub https: bool,
    /// Rows per page of the listings, orders and returns tables.
    pub page_size: u32,
    /// The people's clock: sessions, forms and login throttling run on it. The wall clock, also
    /// where the channel runs on compressed scenario time (the local demo), so a session lasts
    /// its hours for the person using it.
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            https: true,
            page_size: 50,
            clock: Arc::new(SystemClock),
        }
    }
}

pub struct Dashboard {
    channel: Arc<Channel>,
    credentials: Credentials,
    options: Options,
}

/// What every page handler gets: the request's language, time, and (past the login) its session.
pub struct Ctx<'a> {
    pub dashboard: &'a Dashboard,
    pub lang: Lang,
    pub now: Timestamp,
    pub session: Session,
    pub query: Vec<(String, String)>,
}

impl Ctx<'_> {
    pub fn channel(&self) -> &Channel {
        &self.dashboard.channel
    }

    /// A query parameter, if given and not empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn page_size(&self) -> u32 {
        self.dashboard.options.page_size
    }

    /// Renders `body` in the layout, with a CSRF token for each form on it.
    pub fn page(&self, title: &str, nav: Nav, body: impl FnOnce(&Viewer<'_>) -> String) -> Response<Vec<u8>> {
        let token = || self.dashboard.credentials.csrf_token(&self.session.id, self.now);
        let viewer = Viewer {
            user: &self.session.user,
            token: &token,
        };
        let notice = match self.param("notice") {
            Some("done") => Some(self.lang.text().done),
            Some("expired") => Some(self.lang.text().form_expired),
            Some(other) => Some(other),
            None => None,
        };
        let content = body(&viewer);
        html::html(
            StatusCode::OK,
            html::layout(self.lang, title, nav, Some(&viewer), notice, &content),
        )
    }
}

impl Dashboard {
    pub fn new(channel: Arc<Channel>, credentials: Credentials, options: Options) -> Self {
        Self {
            channel,
            credentials,
            options,
        }
    }

    /// Answers one request. Never fails: errors become error pages (and a log line).
    pub async fn handle(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let response = self.route(request).await;
        html::secure(response, self.options.https)
    }

    async fn route(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let now = self.options.clock.now();
        let lang = Lang::negotiate(
            request
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        match (&method, path.as_str()) {
            (&Method::GET, "/static/app.js") => return asset(APP_JS, "text/javascript; charset=utf-8"),
            (&Method::GET, "/static/app.css") => return asset(APP_CSS, "text/css; charset=utf-8"),
            (&Method::GET, "/favicon.ico") => return html::plain(StatusCode::NOT_FOUND, "not found"),
            _ => {}
        }
        // A browser says where a request comes from: refuse other sites' POSTs outright (CSRF tokens
        // would refuse them too; this is the second lock).
        if method == Method::POST
            && request
                .headers()
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|site| site == "cross-site")
        {
            return html::plain(StatusCode::FORBIDDEN, "cross-site request refused");
        }
        match (&method, path.as_str()) {
            (&Method::GET, "/login") => return pages::login::show(self, &request, lang, now, None),
            (&Method::POST, "/login") => return pages::login::submit(self, &request, lang, now).await,
            _ => {}
        }
        let session =
            auth::cookie(request.headers(), SESSION_COOKIE).and_then(|c| self.credentials.session(c, now));
        let Some(session) = session else {
            return match method {
                Method::GET | Method::HEAD => html::redirect("/login"),
                _ => html::plain(StatusCode::FORBIDDEN, "sign in first"),
            };
        };
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let ctx = Ctx {
            dashboard: self,
            lang,
            now,
            session,
            query,
        };
        if method == Method::POST {
            return pages::actions::post(&ctx, &path, request.body()).await;
        }
        if method != Method::GET && method != Method::HEAD {
            return html::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let result = match path.as_str() {
            "/" => pages::overview::show(&ctx).await,
            "/listings" => pages::listings::show(&ctx).await,
            "/orders" => pages::orders::list(&ctx).await,
            "/returns" => pages::returns::show(&ctx).await,
            "/audit" => pages::audit::show(&ctx).await,
            other => match other.strip_prefix("/orders/") {
                Some(po) => pages::orders::detail(&ctx, po).await,
                None => Ok(html::plain(StatusCode::NOT_FOUND, "not found")),
            },
        };
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, path, "dashboard page failed");
            html::plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the channel's state cannot be read right now; try again",
            )
        })
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub(crate) fn session_cookie(&self, user: &str, now: Timestamp) -> String {
        auth::set_cookie(
            SESSION_COOKIE,
            &self.credentials.issue_session(user, now),
            SESSION_LIFETIME,
            self.options.https,
        )
    }

    pub(crate) fn clear_cookie(&self, name: &str) -> String {
        auth::set_cookie(name, "", std::time::Duration::ZERO, self.options.https)
    }

    pub(crate) fn login_cookie(&self, id: &str) -> String {
        auth::set_cookie(LOGIN_COOKIE, id, auth::CSRF_LIFETIME, self.options.https)
    }
}

fn asset(body: &'static str, content_type: &'static str) -> Response<Vec<u8>> {
    let mut r = Response::new(body.as_bytes().to_vec());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=300"),
    );
    r
}
