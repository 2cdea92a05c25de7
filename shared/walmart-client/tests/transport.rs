//! The transport's own rules, against loopback servers that misbehave in ways the sandbox does not:
//! no redirect is followed (it would carry the access token and order bodies elsewhere), bodies are
//! read up to a limit, and plain http is refused except to this machine.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use domain::Sku;
use ports::{Deadline, ManualClock};
use sandbox_kit::canned::{CannedServer, json_response, large_json_response, redirect_response};
use walmart_client::{ClientSecret, Endpoint, WalmartClient, WalmartConfig, WalmartError};

fn client_for(base_url: &str, adjust: impl FnOnce(&mut WalmartConfig)) -> WalmartClient {
    let mut config = config(base_url);
    config.backoff.max_attempts = 1;
    adjust(&mut config);
    WalmartClient::new(config, Arc::new(ManualClock::at(START))).expect("client builds")
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

fn sku() -> Sku {
    Sku::new("sku-1").expect("valid SKU")
}

#[tokio::test]
async fn redirects_are_refused_not_followed() {
    let elsewhere = CannedServer::start(large_json_response(10, true))
        .await
        .expect("server starts");
    for status in [301, 302, 303, 307, 308] {
        let redirecting = CannedServer::start(redirect_response(
            status,
            &format!("{}/stolen", elsewhere.base_url()),
        ))
        .await
        .expect("server starts");
        let client = client_for(redirecting.base_url(), |_| {});
        let error = client
            .get_item(&sku(), &deadline())
            .await
            .expect_err("a redirect is an error");
        assert!(
            matches!(
                error,
                WalmartError::Redirected { endpoint: Endpoint::Token, status: s } if s == status
            ),
            "{error}"
        );
        assert_eq!(redirecting.requests(), 1, "not retried");
    }
    assert_eq!(elsewhere.requests(), 0, "a redirect was followed");
}

#[tokio::test]
async fn bodies_past_the_limit_are_a_typed_error_announced_or_not() {
    for announced in [true, false] {
        let server = CannedServer::start(large_json_response(300_000, announced))
            .await
            .expect("server starts");
        let client = client_for(server.base_url(), |c| c.max_response_bytes = 100_000);
        let error = client.get_item(&sku(), &deadline()).await.expect_err("too large");
        assert!(
            matches!(
                error,
                WalmartError::ResponseTooLarge {
                    limit_bytes: 100_000,
                    ..
                }
            ),
            "announced {announced}: {error}"
        );
        // Under the limit the same answer is read (and found not to be a token).
        let client = client_for(server.base_url(), |c| c.max_response_bytes = 400_000);
        let error = client
            .get_item(&sku(), &deadline())
            .await
            .expect_err("not a token");
        assert!(
            matches!(error, WalmartError::Malformed { .. }),
            "announced {announced}: {error}"
        );
    }
}

#[test]
fn plain_http_is_refused_except_to_this_machine() {
    let clock = Arc::new(ManualClock::at(START));
    for refused in [
        "http://marketplace.walmartapis.com",
        "http://192.168.1.20:8080",
        "https://marketplace.walmartapis.com/?key=hunter2",
    ] {
        let config = WalmartConfig::custom(refused, "id", ClientSecret::new("hunter2"));
        let error = WalmartClient::new(config, clock.clone()).expect_err(refused);
        let shown = error.to_string();
        assert!(shown.contains("Walmart configuration"), "{refused}: {shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    for accepted in [
        walmart_client::PRODUCTION_URL,
        walmart_client::WALMART_SANDBOX_URL,
        "http://127.0.0.1:9",
        "http://[::1]:9",
    ] {
        let config = WalmartConfig::custom(accepted, "id", ClientSecret::new("s"));
        assert!(WalmartClient::new(config, clock.clone()).is_ok(), "{accepted}");
    }
}

#[tokio::test]
async fn a_failed_connection_does_not_name_the_url() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        listener.local_addr().expect("bound")
    };
    let client = client_for(&format!("http://{closed}"), |_| {});
    let error = client
        .get_item(&sku(), &deadline())
        .await
        .expect_err("nothing listens");
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, WalmartError::Transport { .. }), "{shown}");
    assert!(!shown.contains(&closed.to_string()), "{shown}");
}

#[tokio::test]
async fn a_body_that_does_not_decode_is_not_quoted_in_the_error() {
    let server = CannedServer::start(json_response(
        r#"{"access_token":"t","token_type":"Bearer","expires_in":"Jane Q. Buyer, 1 Main St"}"#,
    ))
    .await
    .expect("server starts");
    let client = client_for(server.base_url(), |_| {});
    let error = client
        .get_item(&sku(), &deadline())
        .await
        .expect_err("not a token");
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, WalmartError::Malformed { .. }), "{shown}");
    assert!(!shown.contains("Jane") && !shown.contains("Main St"), "{shown}");
    assert!(
        shown.contains("invalid type"),
        "the kind of mistake stays: {shown}"
    );
}
