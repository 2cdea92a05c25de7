//! Walmart's ORDER_UPDATES notifications through the receiver and the two consumers, over both
//! sandboxes: every refused request kind enqueues nothing; an event, a poll, duplicates and
//! out-of-order deliveries together still make exactly one Commerce order and one cancellation;
//! the subscription order-import keeps is re-created when Walmart loses it, and a failing test
//! notification is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod orders_fixture;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use domain::{Operation, PurchaseOrderId, WebhookSecret};
use operations::registry::Message;
use operations::walmart_events::{
    HttpDelivery, Outcome, Rejection, handle_cancel_event, handle_order_event, hmac_signature, receive,
    receiver_auth,
};
use operations::{Counter, RunReport, cancellation_sync, push_subscription};
use orders_fixture::Fixture;
use ports::webhooks::WebhookAuth;
use ports::{Claim, ClaimTerms, Deadline, IdempotencyKey, QueueName, WorkQueue};
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec};

const SECRET: &str = "push-test-secret";
const HEADER: &str = "X-Walmart-Signature";

fn auth() -> WebhookAuth {
    WebhookAuth::Hmac {
        header_name: HEADER.into(),
        client_secret: WebhookSecret::new(SECRET),
    }
}

fn event(event_id: &str, sub_event: &str, po: &str) -> String {
    serde_json::json!({
        "source": {"eventType": "ORDER_UPDATES", "eventFilters": null, "eventTime": "2026-12-06T10:00:00.000Z", "eventId": event_id},
        "payload": {"subEventType": sub_event, "order": {"purchaseOrderId": po, "customerOrderId": "5400000000001", "orderDate": "2026-12-06T09:59:00.000Z"}},
        "meta": {}
    })
    .to_string()
}

fn signed(body: &str) -> HttpDelivery {
    HttpDelivery {
        method: "POST".into(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                HEADER.to_ascii_lowercase(),
                hmac_signature(SECRET, body.as_bytes()),
            ),
        ],
        body: body.as_bytes().to_vec(),
    }
}

const EVENT_QUEUES: [QueueName; 2] = [QueueName::WalmartOrderEvents, QueueName::WalmartCancelEvents];

/// Messages waiting on the event queues (received and made visible again at once).
async fn depth(fx: &Fixture) -> usize {
    let mut n = 0;
    for queue in EVENT_QUEUES {
        let batch = fx.queues.receive(queue, 10, Duration::ZERO).await.unwrap();
        for d in &batch {
            fx.queues
                .change_visibility(queue, &d.receipt, Duration::ZERO)
                .await
                .unwrap();
        }
        n += batch.len();
    }
    n
}

/// Plays the event queues' event source mappings: every visible message decoded and handled,
/// deleted when handled. Returns the number handled.
async fn drain_events(fx: &Fixture) -> usize {
    let mut handled = 0;
    for queue in EVENT_QUEUES {
        loop {
            let batch = fx.queues.receive(queue, 10, Duration::ZERO).await.unwrap();
            if batch.is_empty() {
                break;
            }
            for d in batch {
                let message = Message {
                    message_id: d.message_id.clone(),
                    body: d.body.clone(),
                    receive_count: d.receive_count,
                };
                let deadline = Fixture::deadline();
                match queue {
                    QueueName::WalmartOrderEvents => {
                        handle_order_event(&fx.ch, &message.decode().unwrap(), &deadline).await
                    }
                    _ => handle_cancel_event(&fx.ch, &message.decode().unwrap(), &deadline).await,
                }
                .unwrap();
                fx.queues.delete(queue, &d.receipt).await.unwrap();
                handled += 1;
            }
        }
    }
    handled
}

async fn deliver(fx: &Fixture, body: &str) -> Outcome {
    receive(&auth(), fx.queues.as_ref(), &signed(body)).await
}

fn with_push(mut settings: domain::ChannelSettings, url: &str) -> domain::ChannelSettings {
    settings.push.event_url = Some(url.to_owned());
    settings.push.secret = Some(WebhookSecret::new(SECRET));
    settings
}

async fn push_fixture() -> Fixture {
    Fixture::start_with(
        with_push(orders_fixture::settings(), "http://127.0.0.1:9/walmart-events"),
        operations::testkit::CommerceSandboxSettings::default().with_purchase_order(),
    )
    .await
}

async fn buyer_cancels(fx: &Fixture, po: &PurchaseOrderId, lines: &[(u32, u32)]) {
    fx.sandboxes
        .walmart_control()
        .cancel_as_buyer(
            po.as_str(),
            &BuyerCancellation {
                lines: lines
                    .iter()
                    .map(|(line, quantity)| LineQuantitySpec {
                        line: *line,
                        quantity: *quantity,
                    })
                    .collect(),
                reason: "AUTO_CANCEL".into(),
            },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_request_kind_enqueues_nothing() {
    let fx = Fixture::start().await;
    let body = event("e-1", "PO_CREATED", "1796000000001");
    let mut cases: Vec<(&str, HttpDelivery, u16)> = Vec::new();
    let mut unsigned = signed(&body);
    unsigned
        .headers
        .retain(|(n, _)| n != &HEADER.to_ascii_lowercase());
    cases.push(("unauthenticated", unsigned, 401));
    let mut forged = signed(&body);
    forged.headers[1].1 = hmac_signature("guessed", body.as_bytes());
    cases.push(("forged", forged, 401));
    let mut tampered = signed(&body);
    tampered.body = body.replace("1796000000001", "1796000000002").into_bytes();
    cases.push(("body changed after signing", tampered, 401));
    cases.push(("not JSON", signed("{not json"), 400));
    cases.push((
        "no purchase order id",
        signed(r#"{"source":{"eventType":"ORDER_UPDATES","eventId":"e-2"},"payload":{"subEventType":"PO_CREATED","order":{}}}"#),
        400,
    ));
    cases.push((
        "no eventId",
        signed(r#"{"source":{"eventType":"ORDER_UPDATES"},"payload":{"subEventType":"PO_CREATED"}}"#),
        400,
    ));
    let big = format!(
        r#"{{"source":{{"eventType":"ORDER_UPDATES","eventId":"e-3"}},"pad":"{}"}}"#,
        "x".repeat(256 * 1024)
    );
    cases.push(("over 256 KB", signed(&big), 413));
    let mut text = signed(&body);
    text.headers[0].1 = "text/plain".into();
    cases.push(("wrong content type", text, 415));
    let mut get = signed(&body);
    get.method = "GET".into();
    cases.push(("GET", get, 405));
    for (what, delivery, status) in cases {
        let outcome = receive(&auth(), fx.queues.as_ref(), &delivery).await;
        assert_eq!(outcome.status(), status, "{what}: {outcome:?}");
        assert!(matches!(outcome, Outcome::Rejected(_)), "{what}");
        assert_eq!(depth(&fx).await, 0, "{what} enqueued something");
    }
    // Unknown sub-events and event types are accepted, and nothing is queued.
    for body in [
        event("e-4", "PO_SHIPPED_SOMEDAY", "1796000000001"),
        r#"{"source":{"eventType":"OFFER_UNPUBLISHED","eventId":"e-5"},"payload":{}}"#.to_owned(),
    ] {
        let outcome = deliver(&fx, &body).await;
        assert_eq!(outcome.status(), 200, "{outcome:?}");
        assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:?}");
    }
    assert_eq!(depth(&fx).await, 0);
    assert_eq!(
        deliver(&fx, &body).await,
        Outcome::Queued {
            queue: QueueName::WalmartOrderEvents,
            sub_event: "PO_CREATED".into()
        }
    );
    assert_eq!(depth(&fx).await, 1, "one queue send per delivery");
    assert!(!matches!(
        receive(&auth(), fx.queues.as_ref(), &signed(&body)).await,
        Outcome::Rejected(Rejection::Unauthenticated)
    ));
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_then_the_poll_then_a_duplicate_create_one_order() {
    let fx = push_fixture().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    let body = event("evt-1", "PO_CREATED", po.as_str());
    assert!(matches!(deliver(&fx, &body).await, Outcome::Queued { .. }));
    assert_eq!(drain_events(&fx).await, 1);
    let (created, failed) = fx.drain_creations().await;
    assert_eq!((created, failed), (1, 0));
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);

    // The poll finds it known: nothing that events missed.
    let report = fx.import().await;
    assert_eq!(report.count(Counter::OrdersImported), 0, "{report:?}");
    assert_eq!(report.count(push_subscription::ORDERS_FOUND_BY_POLL_NOT_EVENT), 0);
    fx.drain_creations().await;

    // Walmart retries the same event: dropped by its eventId, before any Walmart call.
    assert!(matches!(deliver(&fx, &body).await, Outcome::Queued { .. }));
    assert_eq!(drain_events(&fx).await, 1);
    let now = fx.ch.clock.now();
    let claim = fx
        .ch
        .store
        .claim(
            &IdempotencyKey::new("walmart-event", &fx.ch.settings.id, "evt-1"),
            ClaimTerms {
                now,
                in_progress_until: now.plus(Duration::from_secs(60)),
                expires_at: now.plus(Duration::from_secs(3600)),
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(claim, Claim::Completed(_)),
        "the event is recorded as handled"
    );
    assert_eq!(fx.drain_creations().await, (0, 0));
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);
    fx.shutdown().await;
}

/// A copy of an event whose first copy is being handled elsewhere fails as busy (its message comes
/// back later) and does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_an_event_in_progress_elsewhere_waits() {
    let fx = push_fixture().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    orders_fixture::hold_claim(&fx, "walmart-event", "busy-1").await;
    assert!(matches!(
        deliver(&fx, &event("busy-1", "PO_CREATED", po.as_str())).await,
        Outcome::Queued { .. }
    ));
    let batch = fx
        .queues
        .receive(QueueName::WalmartOrderEvents, 10, Duration::ZERO)
        .await
        .unwrap();
    let message = Message {
        message_id: batch[0].message_id.clone(),
        body: batch[0].body.clone(),
        receive_count: 1,
    };
    let err = handle_order_event(&fx.ch, &message.decode().unwrap(), &Fixture::deadline())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        operations::dashboard::load_order(fx.ch.store.as_ref(), &fx.ch.settings.id, &po)
            .await
            .unwrap()
            .is_none(),
        "nothing recorded"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_for_an_order_polling_already_created_changes_nothing() {
    let fx = push_fixture().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    let report = fx.import().await;
    assert_eq!(
        report.count(push_subscription::ORDERS_FOUND_BY_POLL_NOT_EVENT),
        1,
        "the poll found what no event announced: {report:?}"
    );
    fx.drain_creations().await;
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);
    assert!(matches!(
        deliver(&fx, &event("late-1", "PO_CREATED", po.as_str())).await,
        Outcome::Queued { .. }
    ));
    assert_eq!(drain_events(&fx).await, 1);
    assert_eq!(
        fx.drain_creations().await,
        (0, 0),
        "nothing queued for creation again"
    );
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);
    fx.shutdown().await;
}

/// The cancellation's event arrives before the order's: the cancellation waits for nothing, and
/// the order, imported from Walmart as it is then, leaves the cancelled line out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_event_before_the_orders_loses_nothing() {
    let fx = push_fixture().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 1, 1999), (&b, 1, 1999)]).await;
    buyer_cancels(&fx, &po, &[(2, 1)]).await;
    assert!(matches!(
        deliver(&fx, &event("c-1", "PO_LINE_AUTOCANCELLED", po.as_str())).await,
        Outcome::Queued {
            queue: QueueName::WalmartCancelEvents,
            ..
        }
    ));
    assert_eq!(drain_events(&fx).await, 1);
    assert!(matches!(
        deliver(&fx, &event("o-1", "PO_CREATED", po.as_str())).await,
        Outcome::Queued { .. }
    ));
    assert_eq!(drain_events(&fx).await, 1);
    fx.drain_creations().await;
    let order = fx.commerce_order(&po).await;
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the cancelled line is left out");
    assert_eq!(items[0]["sku"], a.as_str());
    let record = fx.record(&po).await;
    assert_eq!(record.line(domain::LineNumber(2)).unwrap().cancelled, 1);
    fx.shutdown().await;
}

/// Out of order and duplicated: a fraud cancellation delivered twice after the order's event;
/// the Commerce order is cancelled once and the poll afterwards finds nothing the events missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_event_cancels_the_commerce_order_once_and_the_poll_finds_nothing_more() {
    let fx = push_fixture().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    fx.import_and_create().await;
    buyer_cancels(&fx, &po, &[(1, 2)]).await;
    let body = event("fraud-1", "FRAUD_CANCEL", po.as_str());
    assert!(matches!(deliver(&fx, &body).await, Outcome::Queued { .. }));
    assert!(matches!(deliver(&fx, &body).await, Outcome::Queued { .. }));
    assert_eq!(drain_events(&fx).await, 2);
    assert_eq!(fx.commerce_order(&po).await["state"], "canceled");

    fx.advance(Duration::from_secs(30));
    let report = cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(report.count(Counter::CommerceOrdersCancelled), 0, "{report:?}");
    assert_eq!(
        report.count(push_subscription::CANCELLATIONS_FOUND_BY_POLL_NOT_EVENT),
        0
    );
    fx.shutdown().await;
}

// ------------------------------------------------------------------ the subscription

/// The receiver served on loopback, as Walmart reaches it: each request through
/// [`receive`] onto the channel's queues.
async fn serve_receiver(fx: &Fixture) -> (String, tokio::task::JoinHandle<()>) {
    #[derive(Clone)]
    struct Receiver {
        auth: WebhookAuth,
        queues: std::sync::Arc<adapters_embedded::EmbeddedQueues>,
    }
    async fn answer(
        State(receiver): State<Receiver>,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, String) {
        let delivery = HttpDelivery {
            method: method.to_string(),
            headers: headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            body: body.to_vec(),
        };
        let outcome = receive(&receiver.auth, receiver.queues.as_ref(), &delivery).await;
        (StatusCode::from_u16(outcome.status()).unwrap(), outcome.body())
    }
    let receiver = Receiver {
        auth: receiver_auth(&fx.ch.settings.push).expect("push settings"),
        queues: fx.queues.clone(),
    };
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(receiver)
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/walmart-events", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, server)
}

async fn check_subscription(fx: &Fixture) -> RunReport {
    let mut report = RunReport::new(Operation::OrderImport);
    push_subscription::maintain(&fx.ch, &Deadline::after(Duration::from_secs(30)), &mut report).await;
    report
}

/// order-import keeps the ORDER_UPDATES subscription: created with Walmart's test notification
/// passing through the real receiver, checked daily, re-created when Walmart loses it; a failing
/// test notification is reported in the run report and the health record, and rechecked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_walmart_lost_is_created_again_and_a_failing_test_is_reported() {
    // The receiver's address is known once it listens: the channel is pointed at it after.
    let fx = push_fixture().await;
    let (url, server) = serve_receiver(&fx).await;
    let mut ch = (*fx.ch).clone();
    ch.settings.push.event_url = Some(url.clone());
    let fx = Fixture {
        ch: std::sync::Arc::new(ch),
        ..fx
    };
    let deadline = Deadline::after(Duration::from_secs(30));
    let store = fx.ch.store.clone();
    let channel = fx.ch.settings.id.clone();

    let first = check_subscription(&fx).await;
    assert_eq!(
        first.count(push_subscription::SUBSCRIPTION_CREATED),
        1,
        "{first:?}"
    );
    assert!(first.problems.is_empty(), "{first:?}");
    let listed = fx.ch.walmart.list_subscriptions(&deadline).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].event_type, "ORDER_UPDATES");
    assert!(listed[0].delivers_to(&url));
    assert_eq!(listed[0].auth_method.as_deref(), Some("HMAC"));
    assert_eq!(
        push_subscription::push_problem(store.as_ref(), &channel)
            .await
            .unwrap(),
        None
    );

    // Checked daily, not on every run.
    fx.advance(Duration::from_secs(3600));
    assert!(check_subscription(&fx).await.counts.is_empty());

    // Walmart loses it: the daily check creates it again and says so.
    assert_eq!(
        fx.sandboxes
            .walmart_control()
            .lose_webhook_subscriptions()
            .await
            .unwrap(),
        1
    );
    fx.advance(Duration::from_secs(24 * 3600));
    let lost = check_subscription(&fx).await;
    assert_eq!(lost.count(push_subscription::SUBSCRIPTION_MISSING), 1, "{lost:?}");
    assert_eq!(lost.count(push_subscription::SUBSCRIPTION_CREATED), 1, "{lost:?}");
    assert_eq!(
        fx.ch.walmart.list_subscriptions(&deadline).await.unwrap().len(),
        1
    );

    // The next day it is there: updated in place.
    fx.advance(Duration::from_secs(24 * 3600));
    let kept = check_subscription(&fx).await;
    assert_eq!(kept.count(push_subscription::SUBSCRIPTION_UPDATED), 1, "{kept:?}");
    assert_eq!(kept.count(push_subscription::SUBSCRIPTION_CREATED), 0, "{kept:?}");

    // The receiver is gone: Walmart's test notification fails; reported, and rechecked each run.
    server.abort();
    let _ = server.await;
    fx.advance(Duration::from_secs(24 * 3600));
    let failing = check_subscription(&fx).await;
    assert_eq!(
        failing.count(push_subscription::TEST_NOTIFICATION_FAILED),
        1,
        "{failing:?}"
    );
    assert!(
        failing.problems.iter().any(|p| p.contains("test notification")),
        "{failing:?}"
    );
    let problem = operations::health::push_subscription_problem(store.as_ref(), &channel)
        .await
        .unwrap();
    assert!(problem.is_some_and(|p| p.contains("test notification")));
    let overview = operations::dashboard::overview::overview(&fx.ch).await.unwrap();
    assert!(
        overview.attention.iter().any(|a| matches!(
            a,
            operations::dashboard::overview::Attention::PushSubscription { problem } if problem.contains("test notification")
        )),
        "the dashboard's overview says so: {:?}",
        overview.attention
    );
    fx.advance(Duration::from_secs(300));
    assert_eq!(
        check_subscription(&fx)
            .await
            .count(push_subscription::TEST_NOTIFICATION_FAILED),
        1,
        "a standing problem is rechecked"
    );
    fx.shutdown().await;
}

/// Before Walmart removes the legacy order events (2026-12-15), a legacy subscription delivering to
/// the channel's own URL is removed when the channel subscribes to ORDER_UPDATES; one delivering
/// elsewhere is not the channel's and stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_order_subscriptions_to_the_channels_url_are_removed() {
    use std::sync::Arc;
    // 2026-11-29.
    let clock = Arc::new(ports::ManualClock::at(domain::Timestamp::from_millis(
        1_796_000_000_000,
    )));
    let dyn_clock: Arc<dyn ports::Clock> = clock.clone();
    let sandboxes = operations::testkit::Sandboxes::start_default(dyn_clock.clone())
        .await
        .unwrap();
    let (ch, queues) = sandboxes.embedded_channel(
        with_push(orders_fixture::settings(), "http://127.0.0.1:9/walmart-events"),
        dyn_clock,
    );
    let fx = Fixture {
        clock,
        sandboxes,
        ch: Arc::new(ch),
        queues,
        skus: Vec::new(),
    };
    let (url, server) = serve_receiver(&fx).await;
    let mut ch = (*fx.ch).clone();
    ch.settings.push.event_url = Some(url.clone());
    let fx = Fixture {
        ch: Arc::new(ch),
        ..fx
    };
    let deadline = Deadline::after(Duration::from_secs(30));
    let legacy = |event_type: &str, to: &str| ports::webhooks::SubscriptionRequest {
        event_type: event_type.into(),
        ..ports::webhooks::SubscriptionRequest::order_updates(to, auth())
    };
    let elsewhere = "https://other.example.com/walmart";
    fx.ch
        .walmart
        .create_subscription(&legacy("PO_CREATED", &url), &deadline)
        .await
        .unwrap();
    fx.ch
        .walmart
        .create_subscription(&legacy("INTENT_TO_CANCEL", elsewhere), &deadline)
        .await
        .unwrap();

    let report = check_subscription(&fx).await;
    assert_eq!(
        report.count(push_subscription::LEGACY_SUBSCRIPTIONS_REMOVED),
        1,
        "{report:?}"
    );
    assert_eq!(
        report.count(push_subscription::SUBSCRIPTION_CREATED),
        1,
        "{report:?}"
    );
    assert!(report.problems.is_empty(), "{report:?}");
    let mut left: Vec<(String, bool)> = fx
        .ch
        .walmart
        .list_subscriptions(&deadline)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.event_type.clone(), s.delivers_to(&url)))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ("INTENT_TO_CANCEL".to_owned(), false),
            ("ORDER_UPDATES".to_owned(), true)
        ]
    );
    server.abort();
    fx.shutdown().await;
}
