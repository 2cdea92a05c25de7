//! Auth, headers, error forms, rate limits, retries, timeouts, malformed bodies and deadlines,
//! against the sandbox over loopback.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Harness, start, start_with};
use domain::{Money, Sku};
use ports::{Clock, Deadline};
use sandbox_kit::FaultPlan;
use walmart_client::feeds::{PriceEntry, price_feeds};
use walmart_client::{ClientSecret, Endpoint, FeedType, OrdersQuery, WalmartError};

fn sku(n: u64) -> Sku {
    Sku::new(format!("sku-{n}")).expect("valid sku")
}

#[tokio::test]
async fn every_call_carries_walmart_headers_and_one_cached_token() {
    let h = start().await;
    h.seed_items(0..3).await;
    for n in 0..3 {
        h.client
            .get_inventory(&sku(n), &Deadline::none())
            .await
            .expect("inventory read");
    }
    let tokens = h.exchanges_to("POST", "/v3/token");
    assert_eq!(tokens.len(), 1, "the token is cached");
    let token_call = &tokens[0];
    assert!(
        token_call
            .request_header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    );
    assert_eq!(
        token_call.request_text.as_deref(),
        Some("grant_type=client_credentials")
    );
    let calls = h.exchanges_to("GET", "/v3/inventory");
    assert_eq!(calls.len(), 3);
    let mut correlation_ids = BTreeSet::new();
    for call in &calls {
        assert_eq!(call.status, 200);
        assert!(call.request_header("wm_sec.access_token").is_some());
        assert_eq!(call.request_header("wm_svc.name"), Some("Walmart Marketplace"));
        assert_eq!(call.request_header("accept"), Some("application/json"));
        correlation_ids.insert(
            call.request_header("wm_qos.correlation_id")
                .expect("correlation id")
                .to_owned(),
        );
        assert!(call.response_headers.contains_key("x-current-token-count"));
        assert!(call.response_headers.contains_key("x-next-replenishment-time"));
    }
    assert_eq!(correlation_ids.len(), 3, "a fresh correlation id per call");
}

#[tokio::test]
async fn token_is_refreshed_before_expiry_by_the_clock() {
    let h = start().await;
    h.seed_items(0..1).await;
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("first call");
    h.clock.advance(Duration::from_secs(800));
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("still valid");
    assert_eq!(
        h.exchanges_to("POST", "/v3/token").len(),
        1,
        "800 s in: token still fresh"
    );
    h.clock.advance(Duration::from_secs(50));
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("refreshed");
    assert_eq!(
        h.exchanges_to("POST", "/v3/token").len(),
        2,
        "850 s in: within the 60 s margin, refreshed before Walmart would reject it"
    );
    assert!(
        h.exchanges().iter().all(|e| e.status == 200),
        "no call ever hit an expired token"
    );
}

#[tokio::test]
async fn a_401_refreshes_the_token_once() {
    let h = start().await;
    h.seed_items(0..1).await;
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("first call");
    assert_eq!(h.control.expire_tokens().await.expect("tokens expired"), 1);
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("refreshed after 401");
    let statuses: Vec<(String, u16)> = h.exchanges().iter().map(|e| (e.path.clone(), e.status)).collect();
    assert_eq!(
        statuses[statuses.len() - 3..],
        [
            ("/v3/inventory".to_owned(), 401),
            ("/v3/token".to_owned(), 200),
            ("/v3/inventory".to_owned(), 200)
        ]
    );
}

#[tokio::test]
async fn bad_credentials_are_an_auth_error_in_the_gateway_body_form() {
    let h = start_with(common::settings(), |c| {
        c.client_secret = ClientSecret::new("wrong")
    })
    .await;
    let err = h
        .client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .unwrap_err();
    let WalmartError::Auth {
        status,
        message,
        endpoint,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((status, endpoint), (401, Endpoint::Token));
    assert!(message.contains("Invalid client id or secret"), "{message}");
    let token_body = h.exchanges_to("POST", "/v3/token")[0]
        .response_body
        .clone()
        .expect("error body");
    assert!(
        token_body["error"].is_array(),
        "gateway form {{\"error\": [..]}}: {token_body}"
    );
    assert_eq!(h.exchanges().len(), 1, "auth errors are not retried");
}

#[tokio::test]
async fn error_body_forms_become_typed_errors_and_are_never_retried() {
    let h = start().await;
    h.seed_items(0..1).await;
    // Flat form {"errors": [..]}: items API.
    let err = h
        .client
        .get_item(&Sku::new("nope").expect("sku"), &Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WalmartError::NotFound { message, .. } if message.contains("No item found")),
        "{err:?}"
    );
    // Wrapped form {"errors": {"error": [..]}}: orders API, a validation error with its field.
    let po = h.order(&[("sku-0", 1)]).await;
    let po = domain::PurchaseOrderId::new(po).expect("po");
    let err = h
        .client
        .refund_lines(
            &po,
            &[walmart_client::RefundLine {
                line: domain::LineNumber(1),
                reason: walmart_client::RefundReason::DamagedItem,
                amount: Money::from_cents(100),
                tax: None,
                comments: None,
            }],
            &Deadline::none(),
        )
        .await
        .unwrap_err();
    let WalmartError::Validation {
        status,
        code,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 400);
    assert_eq!(code, "INVALID_STATUS_TRANSITION.GMP_ORDER_API");
    assert!(
        message.contains("only shipped lines can be refunded"),
        "{message}"
    );
    let refund_calls = h.exchanges_to("POST", "/v3/orders/");
    assert_eq!(refund_calls.len(), 1, "validation errors are not retried");
    assert!(refund_calls[0].response_body.as_ref().expect("body")["errors"]["error"].is_array());
    // Validation with a field: an inventory body Walmart rejects.
    let err = h
        .client
        .update_price(
            &Sku::new("unknown-sku").expect("sku"),
            Money::from_cents(100),
            &Deadline::none(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_429_waits_for_the_replenish_time_then_succeeds() {
    // The client's own buckets are off so it sends into Walmart's limit.
    let h = start_with(common::settings(), |c| c.client_rate_limits = false).await;
    h.seed_items(0..1).await;
    let feed = &price_feeds(&[PriceEntry {
        sku: sku(0),
        price: Money::from_cents(1234),
    }])
    .expect("feed")[0];
    let start = h.clock.now();
    for _ in 0..11 {
        h.client
            .submit(feed, &Deadline::none())
            .await
            .expect("feed accepted, after a wait if needed");
    }
    let submissions = h.exchanges_to("POST", "/v3/feeds");
    let throttled: Vec<_> = submissions.iter().filter(|e| e.status == 429).collect();
    assert_eq!(
        throttled.len(),
        1,
        "the 11th price feed within an hour is throttled"
    );
    let replenish: i64 = throttled[0].response_headers["x-next-replenishment-time"]
        .parse()
        .expect("epoch ms");
    assert_eq!(throttled[0].response_headers["x-current-token-count"], "0");
    assert!(
        h.clock.now().millis() >= replenish,
        "the retry waited for the replenish time"
    );
    assert!(
        h.clock.now().since(start) >= Duration::from_secs(360),
        "one price feed token per 6 minutes"
    );
    let stats = h.client.stats();
    let feed_stats = stats[Endpoint::SubmitFeed(FeedType::Price).name()];
    assert_eq!(
        (feed_stats.calls, feed_stats.throttled, feed_stats.retries),
        (12, 1, 1)
    );
    let sandbox_stats = h.control.stats().await.expect("stats");
    assert_eq!(sandbox_stats["POST /v3/feeds?feedType=price"].throttled, 1);
}

#[tokio::test]
async fn client_buckets_keep_steady_state_below_walmarts_limit() {
    let h = start().await;
    h.seed_items(0..1).await;
    let feed = &price_feeds(&[PriceEntry {
        sku: sku(0),
        price: Money::from_cents(1234),
    }])
    .expect("feed")[0];
    for _ in 0..12 {
        h.client
            .submit(feed, &Deadline::none())
            .await
            .expect("feed accepted");
    }
    assert!(
        h.exchanges().iter().all(|e| e.status != 429),
        "the client waited for tokens instead of provoking 429s"
    );
    let stats = h.client.stats()[Endpoint::SubmitFeed(FeedType::Price).name()];
    assert_eq!(stats.calls, 12);
    assert!(
        stats.waited_ms >= 2 * 360_000 - 1_000,
        "waited about two refills: {stats:?}"
    );
}

#[tokio::test]
async fn no_wait_or_retry_goes_past_the_deadline() {
    let h = start().await;
    h.seed_items(0..1).await;
    let feed = &price_feeds(&[PriceEntry {
        sku: sku(0),
        price: Money::from_cents(1),
    }])
    .expect("feed")[0];
    for _ in 0..10 {
        h.client
            .submit(feed, &Deadline::none())
            .await
            .expect("within the limit");
    }
    let sent = h.exchanges().len();
    let err = h
        .client
        .submit(feed, &Deadline::after(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WalmartError::Throttled {
                replenish_at: Some(_),
                ..
            }
        ),
        "an empty bucket with a 6-minute refill and 5 s left: {err:?}"
    );
    assert_eq!(h.exchanges().len(), sent, "nothing was sent");
}

#[tokio::test]
async fn a_429_whose_replenish_time_is_past_the_deadline_is_not_waited_for() {
    let h = start_with(common::settings(), |c| c.client_rate_limits = false).await;
    h.seed_items(0..1).await;
    let feed = &price_feeds(&[PriceEntry {
        sku: sku(0),
        price: Money::from_cents(1),
    }])
    .expect("feed")[0];
    for _ in 0..10 {
        h.client
            .submit(feed, &Deadline::none())
            .await
            .expect("within the limit");
    }
    let before = h.clock.now();
    let err = h
        .client
        .submit(feed, &Deadline::after(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WalmartError::DeadlineExceeded { attempts: 1, last: Some(last), .. }
            if matches!(**last, WalmartError::Throttled { replenish_at: Some(_), .. })),
        "{err:?}"
    );
    assert_eq!(h.clock.now(), before, "no wait was started");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_up_to_the_attempt_limit() {
    let h = start().await;
    h.seed_items(0..1).await;
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("warm up the token");
    h.control
        .set_faults(&FaultPlan {
            burst_5xx: 2,
            ..FaultPlan::default()
        })
        .await
        .expect("faults set");
    assert_eq!(
        h.client
            .get_inventory(&sku(0), &Deadline::none())
            .await
            .expect("third attempt"),
        5
    );
    assert_eq!(h.client.stats()[Endpoint::GetInventory.name()].retries, 2);

    h.control
        .set_faults(&FaultPlan {
            burst_5xx: 10,
            ..FaultPlan::default()
        })
        .await
        .expect("faults set");
    let err = h
        .client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::Server { status: 503, .. }), "{err:?}");
    assert_eq!(
        h.client.stats()[Endpoint::GetInventory.name()].retries,
        2 + 3,
        "4 attempts in all"
    );
}

#[tokio::test]
async fn a_hanging_request_times_out_and_is_retried() {
    let h = start_with(common::settings(), |c| {
        c.request_timeout = Duration::from_millis(300)
    })
    .await;
    h.seed_items(0..1).await;
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("warm up the token");
    h.control
        .set_faults(&FaultPlan {
            timeout_next: 1,
            hang_ms: 2_000,
            ..FaultPlan::default()
        })
        .await
        .expect("faults set");
    assert_eq!(
        h.client
            .get_inventory(&sku(0), &Deadline::none())
            .await
            .expect("retried"),
        5
    );
    assert_eq!(h.client.stats()[Endpoint::GetInventory.name()].retries, 1);
}

#[tokio::test]
async fn malformed_bodies_are_retried_for_reads_but_not_for_updates() {
    let h = start().await;
    h.seed_items(0..1).await;
    let po = domain::PurchaseOrderId::new(h.order(&[("sku-0", 1)]).await).expect("po");
    h.client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .expect("warm up the token");
    h.control
        .set_faults(&FaultPlan {
            malformed_rate: 1.0,
            seed: Some(7),
            ..FaultPlan::default()
        })
        .await
        .expect("faults set");
    let err = h
        .client
        .get_inventory(&sku(0), &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::Malformed { .. }), "{err:?}");
    assert_eq!(
        h.client.stats()[Endpoint::GetInventory.name()].retries,
        3,
        "a read is retried"
    );

    let cancel = walmart_client::CancelLine {
        line: domain::LineNumber(1),
        quantity: 1,
        reason: walmart_client::CancellationReason::SellerCancelOutOfStock,
    };
    let err = h
        .client
        .cancel_lines(&po, &[cancel], &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::Malformed { .. }), "{err:?}");
    assert_eq!(
        h.client.stats()[Endpoint::CancelOrderLines.name()].calls,
        1,
        "an update is not repeated"
    );
    let received = h.control.received().await.expect("received");
    assert_eq!(
        received.cancellations.len(),
        1,
        "Walmart did get the cancellation"
    );
}

#[tokio::test]
async fn local_input_errors_are_refused_before_sending() {
    let h: Harness = start().await;
    let mut query = OrdersQuery::created_between(common::START, common::START);
    query.limit = 500;
    let err = h.client.list_orders(&query, &Deadline::none()).await.unwrap_err();
    assert!(matches!(err, WalmartError::InvalidInput(_)), "{err:?}");
    assert!(h.exchanges().is_empty());
}

/// Cancelling, shipping, refunding and feed submission are not repeatable on Walmart's side: after
/// a lost answer (the call was applied, the client sees a 504) or a 5xx the client does not send
/// them again; the caller reads Walmart's state. A 429 (nothing done) is still retried.
#[tokio::test]
async fn calls_walmart_cannot_repeat_are_not_retried_after_an_ambiguous_outcome() {
    let h = start().await;
    h.seed_items(0..1).await;
    let po = domain::PurchaseOrderId::new(h.order(&[("sku-0", 2)]).await).expect("po");
    h.client
        .acknowledge(&po, &Deadline::none())
        .await
        .expect("acknowledged");
    let cancel = |quantity| walmart_client::CancelLine {
        line: domain::LineNumber(1),
        quantity,
        reason: walmart_client::CancellationReason::SellerCancelOutOfStock,
    };
    h.control
        .set_faults(&FaultPlan {
            lose_next: 1,
            ..FaultPlan::default()
        })
        .await
        .expect("faults set");
    let err = h
        .client
        .cancel_lines(&po, &[cancel(1)], &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::Timeout { .. }), "{err:?}");
    assert_eq!(h.exchanges_to("POST", "/v3/orders/").len() - 1, 1, "sent once");
    assert_eq!(
        h.control.received().await.expect("received").cancellations.len(),
        1
    );

    h.control
        .set_faults(&FaultPlan {
            burst_5xx: 1,
            ..FaultPlan::default()
        })
        .await
        .expect("faults set");
    let err = h
        .client
        .cancel_lines(&po, &[cancel(1)], &Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, WalmartError::Server { status: 503, .. }), "{err:?}");
    assert_eq!(h.client.stats()[Endpoint::CancelOrderLines.name()].retries, 0);
    assert_eq!(
        h.control.received().await.expect("received").cancellations.len(),
        1
    );
}
