//! The notifications calls (`/v3/webhooks`) against the sandbox over loopback: the channel's
//! subscription life (a legacy subscription beside it, create, list, update, test, delete), then
//! every recorded request and response validated against Walmart's `notifications.json` (spec-check,
//! reference directory from `CHANNEL_REFERENCE_DIR`).

mod common;

use std::time::Duration;

use common::start;
use domain::WebhookSecret;
use ports::Deadline;
use ports::webhooks::{ORDER_UPDATES, SubscriptionRequest, WebhookAuth};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A destination on loopback that answers every request 200 (what the channel's receiver does with
/// Walmart's test sample); returns its URL.
async fn destination() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/walmart-events", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Read the head, then as many body bytes as content-length says.
                loop {
                    let Ok(n) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, server)
}

fn hmac(secret: &str) -> WebhookAuth {
    WebhookAuth::Hmac {
        header_name: "X-Walmart-Signature".into(),
        client_secret: WebhookSecret::new(secret),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_calls_match_walmarts_notifications_spec() {
    let spec = spec_check::walmart_spec().unwrap_or_else(|e| panic!("Walmart specs: {e}"));
    let h = start().await;
    let d = Deadline::after(Duration::from_secs(30));
    let (url, server) = destination().await;

    // A legacy order subscription to the same URL (the sandbox's clock is before 2026-12-15).
    let legacy = SubscriptionRequest {
        event_type: "PO_CREATED".into(),
        ..SubscriptionRequest::order_updates(url.clone(), hmac("old"))
    };
    let legacy_id = h.client.create_subscription(&legacy, &d).await.expect("legacy");
    let wanted = SubscriptionRequest::order_updates(url.clone(), hmac("s3cret"));
    let id = h.client.create_subscription(&wanted, &d).await.expect("created");
    let listed = h.client.list_subscriptions(&d).await.expect("listed");
    assert_eq!(listed.len(), 2, "{listed:?}");
    let ours = listed
        .iter()
        .find(|s| s.subscription_id == id)
        .expect("ours listed");
    assert_eq!(ours.event_type, ORDER_UPDATES);
    assert!(ours.delivers_to(&url) && ours.matches(&wanted), "{ours:?}");
    assert_eq!(ours.auth_method.as_deref(), Some("HMAC"));

    // The daily update (a rotated secret does not show), then Walmart's test notification.
    let rotated = SubscriptionRequest::order_updates(url.clone(), hmac("rotated"));
    h.client
        .update_subscription(&id, &rotated, &d)
        .await
        .expect("updated");
    h.client
        .test_notification(&rotated, &d)
        .await
        .expect("a live destination validates");
    h.client
        .delete_subscription(&legacy_id, &d)
        .await
        .expect("legacy removed");
    let left = h.client.list_subscriptions(&d).await.expect("listed");
    assert_eq!(
        left.iter()
            .map(|s| s.subscription_id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );

    // A destination that is gone fails the test notification (N8: 400, not in the spec).
    server.abort();
    let _ = server.await;
    let failed = h.client.test_notification(&rotated, &d).await;
    assert!(failed.is_err(), "{failed:?}");

    let exchanges: Vec<_> = h
        .exchanges()
        .into_iter()
        .filter(|e| e.path.starts_with("/v3/webhooks"))
        .collect();
    assert!(exchanges.len() >= 8, "{} exchanges", exchanges.len());
    let mut violations = Vec::new();
    for exchange in &exchanges {
        // The failed test notification's 400 is the sandbox's strict choice the spec does not list
        // (docs/fidelity.md, N8); its request is still held to the spec.
        let mut exchange = exchange.clone();
        if exchange.status == 400 && exchange.path == "/v3/webhooks/test" {
            exchange.status = 200;
            exchange.response_body = Some(serde_json::json!({"message": "Eventurl successfully validated"}));
        }
        violations.extend(spec.check(&exchange));
    }
    assert!(
        violations.is_empty(),
        "violations:\n{}",
        violations.iter().map(|v| format!("  {v}\n")).collect::<String>()
    );
    for method in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(
            exchanges.iter().any(|e| e.method == method),
            "no {method} exchange"
        );
    }
}
