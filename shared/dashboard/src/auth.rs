//! Who gets in, and how their requests are held to them.
//!
//! - **Login**: a user name and password, checked against a PBKDF2 hash (see [`crate::password`])
//!   from the dashboard's secret ([`LoginSecret`]); nothing else in the deployment knows the password.
//! - **Session**: a cookie carrying the user, its expiry and a random session id, signed with
//!   HMAC-SHA256 under the secret's session key; `HttpOnly`, `SameSite=Strict`, `Secure` (except on
//!   loopback), expiring after [`SESSION_LIFETIME`]. A cookie whose signature does not verify, or
//!   that expired, is no session.
//! - **CSRF**: every form carries a token signed for the session's id; the action it authorises is
//!   refused unless the token verifies, belongs to this session, is young enough, and was never
//!   used before (its nonce is recorded in the state table on first use, conditionally, so a
//!   replay is refused on any Lambda instance).
//! - **Throttle**: failed logins are counted per client address and over all clients in fixed
//!   windows in the state table; past either limit every login is refused until the window ends,
//!   without checking the password (so a burst learns nothing).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use domain::{ChannelId, Timestamp};
use hmac::{Hmac, KeyInit, Mac};
use ports::records::channel_pk;
use ports::{Expect, Item, Key, Record, Records, StateStore, StoreError};
use rand::RngExt as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::password::{MalformedHash, PasswordHash};

pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// A form older than this must be reloaded before it can act.
pub const CSRF_LIFETIME: Duration = Duration::from_secs(3600);
/// Failed logins per client address within [`THROTTLE_WINDOW`] before its logins are refused.
pub const FAILURES_PER_CLIENT: u32 = 5;
/// Failed logins over all clients within [`THROTTLE_WINDOW`] before every login is refused: a
/// distributed guesser gets 100 guesses per quarter hour against a 600,000-iteration hash.
pub const FAILURES_OVERALL: u32 = 100;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

pub const SESSION_COOKIE: &str = "cm_session";
/// Binds the login form's CSRF token to the browser that loaded it (before any session exists).
pub const LOGIN_COOKIE: &str = "cm_login";

/// The dashboard's secret: `{"session_key": "...", "users": [{"name": "...", "password_hash": "..."}]}`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSecret {
    /// At least 32 characters; the template has Secrets Manager generate it.
    pub session_key: String,
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub name: String,
    pub password_hash: String,
}

impl std::fmt::Debug for LoginSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginSecret([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginSecretError {
    #[error(
        "the dashboard secret is not {{\"session_key\": \"...\", \"users\": [{{\"name\", \"password_hash\"}}]}}: {0}"
    )]
    Malformed(String),
    #[error("the dashboard secret's session_key must be at least 32 characters")]
    ShortSessionKey,
    #[error("the dashboard secret's user {user:?}: {source}")]
    Hash { user: String, source: MalformedHash },
}

/// The users and keys, checked once at start.
#[derive(Clone)]
pub struct Credentials {
    session_key: Vec<u8>,
    users: Vec<(String, PasswordHash)>,
    /// Verified when the user is unknown, so an unknown name costs the same time as a wrong password.
    decoy: PasswordHash,
}

impl Credentials {
    pub fn parse(raw: &str) -> Result<Self, LoginSecretError> {
        let secret: LoginSecret = serde_json::from_str(raw)
            .map_err(|e| LoginSecretError::Malformed(ports::redact::redact_values(&e.to_string())))?;
        Self::from_secret(&secret)
    }

    pub fn from_secret(secret: &LoginSecret) -> Result<Self, LoginSecretError> {
        if secret.session_key.len() < 32 {
            return Err(LoginSecretError::ShortSessionKey);
        }
        let mut users = Vec::new();
        for user in &secret.users {
            let hash = PasswordHash::parse(&user.password_hash).map_err(|source| LoginSecretError::Hash {
                user: user.name.clone(),
                source,
            })?;
            users.push((user.name.clone(), hash));
        }
        let iterations = users
            .first()
            .map_or(crate::password::ITERATIONS, |(_, h)| h.iterations());
        Ok(Self {
            session_key: secret.session_key.as_bytes().to_vec(),
            users,
            decoy: PasswordHash::decoy(iterations),
        })
    }

    /// The user, if the password is theirs.
    pub fn check(&self, user: &str, password: &str) -> Option<String> {
        match self.users.iter().find(|(name, _)| name == user) {
            Some((name, hash)) => hash.verify(password).then(|| name.clone()),
            None => {
                let _ = self.decoy.verify(password);
                None
            }
        }
    }

    fn mac(&self, purpose: &str, payload: &str) -> String {
        match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.session_key) {
            Ok(mut mac) => {
                mac.update(purpose.as_bytes());
                mac.update(b"\n");
                mac.update(payload.as_bytes());
                B64.encode(mac.finalize().into_bytes())
            }
            Err(_) => String::new(), // HMAC takes keys of any length: not reached
        }
    }

    fn verify_mac(&self, purpose: &str, payload: &str, tag: &str) -> bool {
        let Ok(tag) = B64.decode(tag) else {
            return false;
        };
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.session_key) else {
            return false;
        };
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).is_ok()
    }

    /// A new session for `user`, as the cookie value.
    pub fn issue_session(&self, user: &str, now: Timestamp) -> String {
        let payload = format!(
            "{}.{}.{}",
            B64.encode(user.as_bytes()),
            now.plus(SESSION_LIFETIME).millis(),
            random_id()
        );
        let tag = self.mac("session", &payload);
        format!("{payload}.{tag}")
    }

    /// The session a cookie value proves, if its signature verifies and it has not expired.
    pub fn session(&self, cookie: &str, now: Timestamp) -> Option<Session> {
        let (payload, tag) = cookie.rsplit_once('.')?;
        if !self.verify_mac("session", payload, tag) {
            return None;
        }
        let mut parts = payload.split('.');
        let user = String::from_utf8(B64.decode(parts.next()?).ok()?).ok()?;
        let expires = Timestamp::from_millis(parts.next()?.parse().ok()?);
        let id = parts.next()?.to_owned();
        if parts.next().is_some() || now >= expires {
            return None;
        }
        // A user removed from the secret loses their sessions.
        self.users
            .iter()
            .any(|(name, _)| *name == user)
            .then_some(Session { user, id, expires })
    }

    /// A CSRF token for a form shown to the session (or, for the login form, to the login cookie's
    /// id).
    pub fn csrf_token(&self, bound_to: &str, now: Timestamp) -> String {
        let payload = format!("{}.{}", random_id(), now.millis());
        let tag = self.mac("csrf", &format!("{bound_to}.{payload}"));
        format!("{payload}.{tag}")
    }

    /// The token's nonce, if it was issued for `bound_to` less than [`CSRF_LIFETIME`] ago. Whether
    /// it was used before is the caller's check ([`spend_nonce`]).
    pub fn check_csrf(&self, token: &str, bound_to: &str, now: Timestamp) -> Option<String> {
        let mut parts = token.split('.');
        let (nonce, issued, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !self.verify_mac("csrf", &format!("{bound_to}.{nonce}.{issued}"), tag) {
            return None;
        }
        let issued = Timestamp::from_millis(issued.parse().ok()?);
        (issued <= now && now.since(issued) < CSRF_LIFETIME).then(|| nonce.to_owned())
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    /// Random per login: what CSRF tokens are bound to.
    pub id: String,
    pub expires: Timestamp,
}

/// 128 random bits, hex.
pub fn random_id() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// Records a CSRF nonce as used; false if it was used before (a replay).
pub async fn spend_nonce(
    store: &dyn StateStore,
    channel: &ChannelId,
    nonce: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let item = Item {
        key: Key::new(channel_pk(channel, "DASHBOARD#CSRF"), nonce),
        index: None,
        body: serde_json::json!({ "used_at": now.to_rfc3339() }),
        expires_at: Some(now.plus(CSRF_LIFETIME).plus(Duration::from_secs(60))),
    };
    match store.put(item, Expect::Absent).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_condition_failure() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Failed logins in one window, for one client or for all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FailedLogins {
    channel: ChannelId,
    /// `client#<address>` or `all`, then `#<window start ms>`.
    scope: String,
    window_start: Timestamp,
    failures: u32,
}

impl Record for FailedLogins {
    fn key(&self) -> Key {
        failed_logins_key(&self.channel, &self.scope)
    }
    fn expires_at(&self) -> Option<Timestamp> {
        Some(self.window_start.plus(THROTTLE_WINDOW).plus(THROTTLE_WINDOW))
    }
}

fn failed_logins_key(channel: &ChannelId, scope: &str) -> Key {
    Key::new(channel_pk(channel, "DASHBOARD#LOGIN"), scope)
}

fn window_start(now: Timestamp) -> Timestamp {
    let window = THROTTLE_WINDOW.as_millis() as i64;
    Timestamp::from_millis(now.millis().div_euclid(window) * window)
}

fn scopes(client: &str, now: Timestamp) -> [(String, u32); 2] {
    let start = window_start(now).millis();
    [
        (format!("client#{client}#{start}"), FAILURES_PER_CLIENT),
        (format!("all#{start}"), FAILURES_OVERALL),
    ]
}

/// Whether logins from `client` are refused now (it, or everyone together, failed too often in
/// this window).
pub async fn login_throttled(
    store: &dyn StateStore,
    channel: &ChannelId,
    client: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    for (scope, limit) in scopes(client, now) {
        let key = failed_logins_key(channel, &scope);
        if let Some(found) = store.load::<FailedLogins>(&key).await?
            && found.record.failures >= limit
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Counts a failed login for `client` and for everyone.
pub async fn login_failed(
    store: &dyn StateStore,
    channel: &ChannelId,
    client: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    for (scope, _) in scopes(client, now) {
        let key = failed_logins_key(channel, &scope);
        let created = store
            .insert_new(&FailedLogins {
                channel: channel.clone(),
                scope: scope.clone(),
                window_start: window_start(now),
                failures: 1,
            })
            .await?;
        if !created {
            store
                .update::<FailedLogins, std::convert::Infallible, _>(&key, |r| {
                    r.failures = r.failures.saturating_add(1);
                    Ok(true)
                })
                .await
                .map_err(|e| match e {
                    ports::UpdateError::Store(s) => s,
                    ports::UpdateError::Rejected(never) => match never {},
                })?;
        }
    }
    Ok(())
}

/// The `name=value` of a `Cookie` header.
pub fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the dashboard's attributes.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        let secret = LoginSecret {
            session_key: "k".repeat(40),
            users: vec![UserEntry {
                name: "merchant".into(),
                password_hash: PasswordHash::new("pw", 10).encode(),
            }],
        };
        Credentials::from_secret(&secret).unwrap()
    }

    #[test]
    fn sessions_verify_expire_and_refuse_tampering() {
        let c = creds();
        let now = Timestamp::from_millis(1_000_000);
        let cookie = c.issue_session("merchant", now);
        let session = c.session(&cookie, now).unwrap();
        assert_eq!(session.user, "merchant");
        assert!(c.session(&cookie, now.plus(SESSION_LIFETIME)).is_none());
        let (payload, tag) = cookie.rsplit_once('.').unwrap();
        let forged_user = payload.replacen(&B64.encode("merchant"), &B64.encode("admin"), 1);
        assert!(c.session(&format!("{forged_user}.{tag}"), now).is_none());
        let other = Credentials::from_secret(&LoginSecret {
            session_key: "x".repeat(40),
            users: vec![],
        })
        .unwrap();
        assert!(c.session(&other.issue_session("merchant", now), now).is_none());
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session_and_age() {
        let c = creds();
        let now = Timestamp::from_millis(1_000_000);
        let token = c.csrf_token("session-a", now);
        assert!(c.check_csrf(&token, "session-a", now).is_some());
        assert!(c.check_csrf(&token, "session-b", now).is_none());
        assert!(
            c.check_csrf(&token, "session-a", now.plus(CSRF_LIFETIME))
                .is_none()
        );
    }
}
