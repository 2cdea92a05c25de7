//! The merchant's actions: every POST lands here, and is refused unless its CSRF token verifies,
//! belongs to this session and was never used before. Each action is done through `operations`
//! and answered with a redirect back to the page it came from (post/redirect/get).

use http::{Response, StatusCode};

use domain::{Operation, PurchaseOrderId, ReturnOrderId, Sku, Timestamp};
use operations::OpError;
use operations::merchant::{self, Actor, MatchMode};
use ports::{Deadline, QueueName};

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

/// The longest a re-import may take within one request (a Function URL answers within the
/// function's timeout; known orders are skipped, so running it again continues).
const REIMPORT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Does one action through `operations::merchant` (which records it in the activity log); `Err`
/// is a sentence for the merchant.
async fn perform(ctx: &Ctx<'_>, action: &str, fields: &[(String, String)]) -> Result<(), String> {
    let ch = ctx.channel();
    let actor = Actor::new(ctx.session.user.clone());
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{name} is missing"))
    };
    let skus = || -> Result<Vec<Sku>, String> {
        let skus: Result<Vec<Sku>, _> = fields
            .iter()
            .filter(|(k, _)| k == "sku")
            .map(|(_, v)| Sku::new(v.trim()).map_err(|e| e.to_string()))
            .collect();
        let skus = skus?;
        if skus.is_empty() {
            return Err(ctx.lang.text().select_listings.to_owned());
        }
        Ok(skus)
    };
    let operation = || {
        field("operation").and_then(|name| {
            Operation::from_function_name(name).ok_or_else(|| format!("no operation {name:?}"))
        })
    };
    let failed = |e: OpError| e.to_string();
    match action {
        "match" => merchant::send_to_match(ch, &actor, &skus()?)
            .await
            .map(drop)
            .map_err(failed),
        "retry-match" => {
            for sku in skus()? {
                merchant::retry_match(ch, &actor, &sku).await.map_err(failed)?;
            }
            Ok(())
        }
        "resync" => {
            for sku in skus()? {
                merchant::resync_sku(ch, &actor, &sku).await.map_err(failed)?;
            }
            Ok(())
        }
        "retry-order" => {
            let po = PurchaseOrderId::new(field("po")?).map_err(|e| e.to_string())?;
            merchant::retry_order(ch, &actor, &po)
                .await
                .map(drop)
                .map_err(failed)
        }
        "retry-return" => {
            let id = ReturnOrderId::new(field("return")?).map_err(|e| e.to_string())?;
            merchant::retry_return(ch, &actor, &id)
                .await
                .map(drop)
                .map_err(failed)
        }
        "redrive" => {
            let name = field("queue")?;
            let queue = QueueName::ALL
                .into_iter()
                .find(|q| q.as_str() == name)
                .ok_or_else(|| format!("no queue {name:?}"))?;
            merchant::redrive_dead_letters(ch, &actor, queue)
                .await
                .map(drop)
                .map_err(failed)
        }
        "pause" => merchant::pause(ch, &actor, operation()?).await.map_err(failed),
        "resume" => merchant::resume(ch, &actor, operation()?).await.map_err(failed),
        "match-mode" => {
            let mode = match field("mode")? {
                "automatic" => MatchMode::Automatic,
                "manual" => MatchMode::Manual,
                other => return Err(format!("no match mode {other:?}")),
            };
            merchant::set_match_mode(ch, &actor, mode).await.map_err(failed)
        }
        "reimport" => {
            let day = |name: &str, time: &str| {
                field(name)
                    .and_then(|d| Timestamp::parse_rfc3339(&format!("{d}{time}")).map_err(|e| e.to_string()))
            };
            let from = day("from", "T00:00:00Z")?;
            let to = day("to", "T23:59:59.999Z")?;
            let deadline = Deadline::after(REIMPORT_DEADLINE);
            merchant::reimport_orders(ch, &actor, from, to, &deadline)
                .await
                .map(drop)
                .map_err(failed)
        }
        other => Err(format!("no action {other:?}")),
    }
}
