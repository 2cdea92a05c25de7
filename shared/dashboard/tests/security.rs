//! Who gets in: an anonymous request, a forged session, a replayed CSRF token and a brute-force
//! burst are each refused; every answer carries the security headers; no page shows buyer data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Browser, world};
use dashboard::auth::{FAILURES_PER_CLIENT, SESSION_COOKIE, SESSION_LIFETIME};
use dashboard::fixture;

#[tokio::test]
async fn anonymous_requests_see_nothing_and_change_nothing() {
    let w = world().await;
    let mut b = Browser::new(&w);
    for path in [
        "/",
        "/listings",
        "/orders",
        "/returns",
        "/audit",
        &format!("/orders/{}", w.seeded.created_po),
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location(), Some("/login"), "{path}");
        assert!(page.body.is_empty(), "{path}");
    }
    let page = b
        .post("/actions/retry-order", &[("po", &w.seeded.failed_po)])
        .await;
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn forged_and_expired_sessions_are_refused() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    assert_eq!(b.get("/orders").await.status, 200);
    let (_, real) = b
        .cookies
        .iter()
        .find(|(k, _)| k == SESSION_COOKIE)
        .cloned()
        .unwrap();
    // Another user's name under the real signature; a made-up signature; a session from another key.
    let (payload, tag) = real.rsplit_once('.').unwrap();
    let mut parts: Vec<&str> = payload.split('.').collect();
    let admin = base64_url("admin");
    parts[0] = &admin;
    let forged_user = format!("{}.{tag}", parts.join("."));
    let forged_tag = format!("{payload}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let other_key = dashboard::auth::Credentials::from_secret(&dashboard::LoginSecret {
        session_key: "a different session key of 32+ characters".into(),
        users: fixture::login_secret().users,
    })
    .unwrap()
    .issue_session(fixture::USER, common::NOW);
    for forged in [forged_user, forged_tag, other_key, "merchant".to_owned()] {
        let mut f = Browser::new(&w);
        f.cookies.push((SESSION_COOKIE.into(), forged.clone()));
        let page = f.get("/orders").await;
        assert_eq!(page.status, 303, "{forged}");
        assert_eq!(page.location(), Some("/login"));
    }
    w.clock.advance(SESSION_LIFETIME);
    assert_eq!(b.get("/orders").await.status, 303, "an expired session");
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn a_csrf_token_works_once_for_its_own_session_only() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    let page = b.get(&format!("/orders/{}", w.seeded.failed_po)).await;
    assert_eq!(page.status, 200);
    let token = page.csrf();
    let form = [
        ("csrf", token.as_str()),
        ("po", w.seeded.failed_po.as_str()),
        ("back", "/orders"),
    ];
    let first = b.post("/actions/retry-order", &form).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let replay = b.post("/actions/retry-order", &form).await;
    assert_eq!(replay.status, 403, "a replayed token is refused");
    let no_token = b.post("/actions/retry-order", &form[1..]).await;
    assert_eq!(no_token.status, 403, "a form without a token is refused");
    // A token shown to one session does not work for another.
    let mut other = Browser::new(&w);
    other.sign_in().await;
    let fresh = b.get("/orders").await.csrf();
    let foreign = other
        .post(
            "/actions/retry-order",
            &[("csrf", &fresh), ("po", &w.seeded.failed_po)],
        )
        .await;
    assert_eq!(foreign.status, 403);
    // The login form's token is single-use too.
    let mut c = Browser::new(&w);
    let login = c.get("/login").await;
    let token = login.csrf();
    let creds = [
        ("csrf", token.as_str()),
        ("user", fixture::USER),
        ("password", fixture::PASSWORD),
    ];
    assert_eq!(c.post("/login", &creds).await.status, 303);
    assert_eq!(c.post("/login", &creds).await.status, 403);
    // Another site's POST is refused before anything else.
    let cross = b
        .world
        .dashboard
        .handle(
            http::Request::builder()
                .method("POST")
                .uri("/logout")
                .header("sec-fetch-site", "cross-site")
                .body(Vec::new())
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status(), 403);
}

#[tokio::test]
async fn a_brute_force_burst_is_throttled_per_client_and_overall() {
    let w = world().await;
    let mut guesser = Browser::new(&w);
    for n in 0..FAILURES_PER_CLIENT {
        let page = guesser.sign_in_with(&format!("guess {n}")).await;
        assert_eq!(page.status, 401, "guess {n}");
    }
    // Past the limit even the right password is refused, without being checked.
    let page = guesser.sign_in_with(fixture::PASSWORD).await;
    assert_eq!(page.status, 429);
    assert!(!guesser.cookies.iter().any(|(k, _)| k == SESSION_COOKIE));
    // Another client still gets in.
    let mut merchant = Browser::new(&w);
    merchant.client = "203.0.113.9".into();
    merchant.sign_in().await;
    // Many clients together hit the overall limit.
    for n in 0..dashboard::auth::FAILURES_OVERALL {
        let mut b = Browser::new(&w);
        b.client = format!("10.0.{}.{}", n / 250, n % 250);
        let _ = b.sign_in_with("wrong").await;
    }
    let mut late = Browser::new(&w);
    late.client = "192.0.2.44".into();
    assert_eq!(late.sign_in_with(fixture::PASSWORD).await.status, 429);
    // The window passes.
    w.clock.advance(dashboard::auth::THROTTLE_WINDOW);
    guesser.sign_in().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_cookies_are_locked_down() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let login = b.get("/login").await;
    let signed_in = b.sign_in().await;
    let cookie = signed_in.header("set-cookie").unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pages = [
        login,
        signed_in,
        b.get("/").await,
        b.get("/static/app.js").await,
        b.get("/nowhere").await,
    ];
    for page in &pages {
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert!(page.header("strict-transport-security").is_some());
    }
    let html = b.get("/orders").await.body;
    assert!(!html.contains("<script>") && !html.contains(" style=") && !html.contains(" onclick="));
}

#[tokio::test]
async fn no_page_shows_a_buyers_name_address_phone_or_email() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    let mut paths = vec![
        "/".to_owned(),
        "/listings".into(),
        "/orders".into(),
        "/returns".into(),
        "/audit".into(),
        format!("/orders?q={}", w.seeded.commerce_number),
    ];
    for status in ["open", "error", "shipped", "partially_shipped", "canceled"] {
        paths.push(format!("/orders?status={status}"));
    }
    for n in 0..w.seeded.orders {
        paths.push(format!("/orders/1797{n:09}"));
    }
    for path in paths {
        let page = b.get(&path).await;
        assert!(
            page.status == 200 || page.status == 303,
            "{path}: {}",
            page.status
        );
        for private in [
            fixture::BUYER_NAME,
            fixture::BUYER_STREET,
            fixture::BUYER_EMAIL,
            fixture::BUYER_PHONE,
            "@",
        ] {
            assert!(!page.body.contains(private), "{path} shows {private:?}");
        }
    }
}
