//! The merchant's actions: every POST lands here, and is refused unless its CSRF token verifies,
//! belongs to this session and was never used before. Each action is done through `operations`
//! and answered with a redirect back to the page it came from (post/redirect/get).

use http::{Response, StatusCode};

use crate::html;
use crate::{Ctx, auth};

/// An `application/x-www-form-urlencoded` body as pairs.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Where to go back to: a path of this site only (never `//host` or a scheme).
fn back_to(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.as_str())
        .filter(|v| v.starts_with('/') && !v.starts_with("//") && !v.contains('\\'))
        .unwrap_or("/")
        .to_owned()
}

fn with_notice(back: &str, notice: &str) -> String {
    let separator = if back.contains('?') { '&' } else { '?' };
    format!("{back}{separator}notice={}", html::q(notice))
}

pub async fn post(ctx: &Ctx<'_>, path: &str, body: &[u8]) -> Response<Vec<u8>> {
    let fields = form(body);
    let ch = ctx.channel();
    let nonce = fields.iter().find(|(k, _)| k == "csrf").and_then(|(_, token)| {
        ctx.dashboard
            .credentials()
            .check_csrf(token, &ctx.session.id, ctx.now)
    });
    let fresh = match nonce {
        Some(nonce) => auth::spend_nonce(ch.store.as_ref(), &ch.settings.id, &nonce, ctx.now).await,
        None => Ok(false),
    };
    match fresh {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                user = ctx.session.user,
                path,
                "action refused: CSRF token missing, foreign or used"
            );
            return html::html(
                StatusCode::FORBIDDEN,
                html::layout(
                    ctx.lang,
                    ctx.lang.text().form_expired,
                    html::Nav::None,
                    None,
                    None,
                    "",
                ),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record the CSRF token");
            return html::plain(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    }
    if path == "/logout" {
        return super::login::sign_out(ctx.dashboard);
    }
    let back = back_to(&fields);
    let Some(action) = path.strip_prefix("/actions/") else {
        return html::plain(StatusCode::NOT_FOUND, "not found");
    };
    match perform(ctx, action, &fields).await {
        Ok(()) => html::redirect(&with_notice(&back, "done")),
        Err(message) => html::redirect(&with_notice(&back, &message)),
    }
}

/// Does one action; `Err` is a sentence for the merchant.
async fn perform(ctx: &Ctx<'_>, action: &str, fields: &[(String, String)]) -> Result<(), String> {
    let _ = (ctx, fields);
    tracing::info!(user = ctx.session.user, action, "merchant action");
    Err(format!("{action}: not available yet"))
}
