//! The sign-in page. Its form's CSRF token is bound to a random login cookie (there is no session
//! yet), and spent on use like every other.

use domain::Timestamp;
use http::{Request, Response, StatusCode, header};

use crate::auth::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::html::{self, Nav, esc};
use crate::i18n::Lang;
use crate::{ClientAddr, Dashboard};

pub fn show(
    dashboard: &Dashboard,
    request: &Request<Vec<u8>>,
    lang: Lang,
    now: Timestamp,
    problem: Option<(StatusCode, &str)>,
) -> Response<Vec<u8>> {
    let t = lang.text();
    let existing = auth::cookie(request.headers(), LOGIN_COOKIE).filter(|id| id.len() == 32);
    let login_id = existing.map_or_else(auth::random_id, str::to_owned);
    let token = dashboard.credentials().csrf_token(&login_id, now);
    let message = problem.map_or_else(String::new, |(_, m)| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(m))
    });
    let body = format!(
        "{message}<form method=\"post\" action=\"/login\" class=\"login\">{}\
         <label>{}<input name=\"user\" autocomplete=\"username\" required autofocus></label>\
         <label>{}<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button>{}</button></form>",
        html::csrf_field(&token),
        t.user,
        t.password,
        t.sign_in
    );
    let status = problem.map_or(StatusCode::OK, |(s, _)| s);
    let mut response = html::html(
        status,
        html::layout(lang, t.sign_in, Nav::None, None, None, &body),
    );
    if existing.is_none()
        && let Ok(v) = http::HeaderValue::from_str(&dashboard.login_cookie(&login_id))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn submit(
    dashboard: &Dashboard,
    request: &Request<Vec<u8>>,
    lang: Lang,
    now: Timestamp,
) -> Response<Vec<u8>> {
    let t = lang.text();
    let form = super::actions::form(request.body());
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let store = dashboard.channel.store.as_ref();
    let channel_id = &dashboard.channel.settings.id;
    let login_id = auth::cookie(request.headers(), LOGIN_COOKIE).unwrap_or_default();
    let nonce = field("csrf").and_then(|token| dashboard.credentials().check_csrf(token, login_id, now));
    let fresh = match nonce {
        Some(nonce) => auth::spend_nonce(store, channel_id, &nonce, now).await,
        None => Ok(false),
    };
    match fresh {
        Ok(true) => {}
        Ok(false) => {
            return show(
                dashboard,
                request,
                lang,
                now,
                Some((StatusCode::FORBIDDEN, t.form_expired)),
            );
        }
        Err(e) => return unavailable(&e),
    }
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or("unknown", |c| c.0.as_str());
    match auth::login_throttled(store, channel_id, client, now).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::warn!(client, "sign-in refused: too many failures");
            return show(
                dashboard,
                request,
                lang,
                now,
                Some((StatusCode::TOO_MANY_REQUESTS, t.login_throttled)),
            );
        }
        Err(e) => return unavailable(&e),
    }
    let user = field("user").unwrap_or_default();
    let password = field("password").unwrap_or_default();
    match dashboard.credentials().check(user, password) {
        Some(user) => {
            tracing::info!(user, client, "signed in");
            let mut response = html::redirect("/");
            for cookie in [
                dashboard.session_cookie(&user, now),
                dashboard.clear_cookie(LOGIN_COOKIE),
            ] {
                if let Ok(v) = http::HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        None => {
            tracing::warn!(client, "sign-in failed");
            if let Err(e) = auth::login_failed(store, channel_id, client, now).await {
                return unavailable(&e);
            }
            show(
                dashboard,
                request,
                lang,
                now,
                Some((StatusCode::UNAUTHORIZED, t.login_failed)),
            )
        }
    }
}

/// Signs out: the cookie goes (a copied cookie stays valid until it expires; sessions are short).
pub fn sign_out(dashboard: &Dashboard) -> Response<Vec<u8>> {
    let mut response = html::redirect("/login");
    if let Ok(v) = http::HeaderValue::from_str(&dashboard.clear_cookie(SESSION_COOKIE)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn unavailable(e: &ports::StoreError) -> Response<Vec<u8>> {
    tracing::error!(error = %e, "sign-in cannot reach the state store");
    html::plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "the channel's state cannot be read right now; try again",
    )
}
