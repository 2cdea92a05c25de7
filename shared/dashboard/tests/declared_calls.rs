//! `dashboard::STORE_CALLS` (from which the dashboard function's table actions are derived) covers
//! every state-store method its pages, sign-in and actions really call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use dashboard::auth::Credentials;
use dashboard::{ClientAddr, Dashboard, Options, fixture};
use domain::{ChannelSettings, Timestamp};
use http::Request;
use operations::testkit::{Sandboxes, queue_settings};
use ports::{Clock, ManualClock, RecordingStore};

const NOW: Timestamp = Timestamp::from_millis(1_796_000_000_000);

#[tokio::test]
async fn every_store_call_of_the_dashboard_is_declared() {
    let clock = Arc::new(ManualClock::at(NOW));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let sandboxes = Sandboxes::start_default(dyn_clock.clone()).await.unwrap();
    let store = Arc::new(RecordingStore::new(Arc::new(EmbeddedStore::in_memory())));
    let queues = Arc::new(EmbeddedQueues::in_memory(queue_settings(), dyn_clock.clone()));
    let settings: ChannelSettings = serde_json::from_str(r#"{"id":"main"}"#).unwrap();
    let channel = Arc::new(sandboxes.channel(settings, store.clone(), queues, dyn_clock.clone()));
    let seeded = fixture::seed(&channel, 30, 12, NOW).await;
    let _ = store.take();
    let options = Options {
        https: false,
        page_size: 20,
        clock: dyn_clock,
    };
    let dashboard = Dashboard::new(
        channel,
        Credentials::from_secret(&fixture::login_secret()).unwrap(),
        options,
    );
    let send = |method: &str, uri: &str, cookie: &str, body: String| {
        let mut r = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", cookie)
            .body(body.into_bytes())
            .unwrap();
        r.extensions_mut().insert(ClientAddr("192.0.2.1".into()));
        r
    };
    let token_of = |html: &str| {
        let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    };
    // Sign in (a wrong password first: the throttle's counters), then every page and action.
    let login = dashboard.handle(send("GET", "/login", "", String::new())).await;
    let login_cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = token_of(std::str::from_utf8(login.body()).unwrap());
    let form = |pairs: &[(&str, &str)]| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    dashboard
        .handle(send(
            "POST",
            "/login",
            &login_cookie,
            form(&[("csrf", &token), ("user", "merchant"), ("password", "wrong")]),
        ))
        .await;
    let login = dashboard
        .handle(send("GET", "/login", &login_cookie, String::new()))
        .await;
    let token = token_of(std::str::from_utf8(login.body()).unwrap());
    let signed_in = dashboard
        .handle(send(
            "POST",
            "/login",
            &login_cookie,
            form(&[
                ("csrf", &token),
                ("user", fixture::USER),
                ("password", fixture::PASSWORD),
            ]),
        ))
        .await;
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut last_page = String::new();
    for path in [
        "/".to_owned(),
        "/listings".into(),
        "/listings?status=error&sort=changed&dir=desc".into(),
        "/listings?sku=MUG".into(),
        "/orders".into(),
        "/orders?status=error&from=2020-01-01&to=2030-01-01".into(),
        format!("/orders?q={}", seeded.commerce_number),
        format!("/orders/{}", seeded.created_po),
        "/returns".into(),
        "/audit".into(),
    ] {
        let page = dashboard
            .handle(send("GET", &path, &session, String::new()))
            .await;
        assert!(
            page.status().is_success() || page.status().is_redirection(),
            "{path}"
        );
        last_page = String::from_utf8(page.body().clone()).unwrap();
    }
    for (action, fields) in [
        ("pause", vec![("operation", "inventory-sync")]),
        ("resume", vec![("operation", "inventory-sync")]),
        ("retry-order", vec![("po", seeded.failed_po.as_str())]),
        ("retry-match", vec![("sku", seeded.error_sku.as_str())]),
        ("resync", vec![("sku", "MUG-000002")]),
        ("match", vec![("sku", "MUG-000000")]),
        ("match-mode", vec![("mode", "manual")]),
        ("redrive", vec![("queue", "order-create")]),
        ("retry-return", vec![("return", "77001")]),
        ("reimport", vec![("from", "2026-11-01"), ("to", "2026-11-30")]),
    ] {
        let token = token_of(&last_page);
        let mut pairs = vec![("csrf", token.as_str()), ("back", "/audit")];
        pairs.extend(fields);
        let answer = dashboard
            .handle(send(
                "POST",
                &format!("/actions/{action}"),
                &session,
                form(&pairs),
            ))
            .await;
        assert_eq!(answer.status(), 303, "{action}");
        last_page = String::from_utf8(
            dashboard
                .handle(send("GET", "/audit", &session, String::new()))
                .await
                .body()
                .clone(),
        )
        .unwrap();
    }
    let called = store.take();
    let undeclared: Vec<_> = called
        .iter()
        .filter(|c| !dashboard::STORE_CALLS.contains(c))
        .collect();
    assert!(
        undeclared.is_empty(),
        "called but not declared: {undeclared:?} (called {called:?})"
    );
}
