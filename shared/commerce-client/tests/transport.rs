//! The transport's own rules, against loopback servers that misbehave in ways no sandbox does: no
//! redirect is followed, bodies are read up to a limit, plain http is refused except to this
//! machine, and no error names the URL (the order look-up carries the buyer's email in its query).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use commerce_client::{CommerceClient, CommerceConfig, CommerceError};
use common::*;
use domain::{PurchaseOrderId, Sku, Timestamp};
use ports::ManualClock;
use ports::commerce::OrderLookup;
use sandbox_kit::canned::{CannedServer, json_response, large_json_response, redirect_response};

const BUYER_EMAIL: &str = "jane.buyer.7731@relay.walmart.com";

fn client_for(base_url: &str, adjust: impl FnOnce(&mut CommerceConfig)) -> CommerceClient {
    let mut config = CommerceConfig::new(base_url, "default", oauth());
    config.request_timeout = Duration::from_secs(10);
    config.backoff.max_attempts = 1;
    adjust(&mut config);
    CommerceClient::new(config, Arc::new(ManualClock::at(start_time()))).unwrap()
}

fn mug() -> Sku {
    Sku::new("MUG-1").unwrap()
}

fn lookup() -> OrderLookup {
    OrderLookup {
        customer_email: Some(BUYER_EMAIL.to_owned()),
        customer_id: None,
        created_after: Timestamp::from_millis(0),
    }
}

#[tokio::test]
async fn redirects_are_refused_not_followed() {
    let elsewhere = CannedServer::start(large_json_response(10, true)).await.unwrap();
    for status in [301, 302, 307, 308] {
        let redirecting = CannedServer::start(redirect_response(
            status,
            &format!("{}/stolen", elsewhere.base_url()),
        ))
        .await
        .unwrap();
        let client = client_for(redirecting.base_url(), |_| {});
        let error = client.product(&mug(), &deadline()).await.unwrap_err();
        assert!(
            matches!(error, CommerceError::Redirected { status: s, .. } if s == status),
            "{error}"
        );
        assert_eq!(redirecting.requests(), 1);
        // The order look-up's query holds the buyer's email; a redirect error does not repeat it.
        let error = client
            .find_order_for_purchase_order(&PurchaseOrderId::new("1001").unwrap(), &lookup(), &deadline())
            .await
            .unwrap_err();
        assert!(!error.to_string().contains("relay"), "{error}");
    }
    assert_eq!(elsewhere.requests(), 0, "a redirect was followed");
}

#[tokio::test]
async fn bodies_past_the_limit_are_a_typed_error_announced_or_not() {
    for announced in [true, false] {
        let server = CannedServer::start(large_json_response(300_000, announced))
            .await
            .unwrap();
        let client = client_for(server.base_url(), |c| c.max_response_bytes = 100_000);
        let error = client.product(&mug(), &deadline()).await.unwrap_err();
        assert!(
            matches!(
                error,
                CommerceError::ResponseTooLarge {
                    limit_bytes: 100_000,
                    ..
                }
            ),
            "announced {announced}: {error}"
        );
        // Under the limit the same answer is read (and found not to be a product).
        let client = client_for(server.base_url(), |c| c.max_response_bytes = 400_000);
        let error = client.product(&mug(), &deadline()).await.unwrap_err();
        assert!(
            matches!(error, CommerceError::Malformed { .. }),
            "announced {announced}: {error}"
        );
    }
}

#[test]
fn plain_http_is_refused_except_to_this_machine() {
    let clock = Arc::new(ManualClock::at(start_time()));
    for refused in [
        "http://shop.example.com",
        "http://10.1.2.3:8080",
        "ftp://127.0.0.1",
        "https://user:pass@shop.example.com",
    ] {
        let config = CommerceConfig::new(refused, "default", oauth());
        let error = CommerceClient::new(config, clock.clone()).err().expect(refused);
        assert!(
            matches!(error, CommerceError::Input(ref m) if m.starts_with("Commerce configuration")),
            "{refused}: {error}"
        );
        assert!(!error.to_string().contains("pass@"), "{error}");
    }
    for accepted in [
        "https://shop.example.com",
        "http://127.0.0.1:9",
        "http://localhost:9",
    ] {
        let config = CommerceConfig::new(accepted, "default", oauth());
        assert!(CommerceClient::new(config, clock.clone()).is_ok(), "{accepted}");
    }
}

#[tokio::test]
async fn a_failed_connection_names_neither_the_url_nor_the_buyer() {
    // A port nothing listens on: connection refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = client_for(&format!("http://{closed}"), |_| {});
    let error = client
        .find_order_for_purchase_order(&PurchaseOrderId::new("1001").unwrap(), &lookup(), &deadline())
        .await
        .unwrap_err();
    assert!(matches!(error, CommerceError::Transport { .. }), "{error}");
    let mut shown = format!("{error} {error:?}");
    shown.push_str(&ports::ApiError::from(error).to_string());
    for leak in ["relay", "jane", "customer_email", "searchCriteria", "/rest/"] {
        assert!(!shown.contains(leak), "{leak} in {shown}");
    }
}

#[tokio::test]
async fn a_body_that_does_not_decode_is_not_quoted_in_the_error() {
    let server = CannedServer::start(json_response(
        r#"{"items":[{"entity_id":"Jane Q. Buyer, 1 Main St"}],"total_count":1}"#,
    ))
    .await
    .unwrap();
    let client = client_for(server.base_url(), |_| {});
    let error = client
        .find_order_for_purchase_order(&PurchaseOrderId::new("1001").unwrap(), &lookup(), &deadline())
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, CommerceError::Malformed { .. }), "{shown}");
    assert!(!shown.contains("Jane") && !shown.contains("Main St"), "{shown}");
}
