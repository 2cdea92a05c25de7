//! Error forms and retries over loopback: authentication (OAuth, Bearer, expired tokens), Magento's
//! list and named-map error bodies, 5xx bursts, timeouts, malformed bodies and deadlines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use commerce_client::{CommerceAuth, CommerceClient, CommerceError};
use commerce_sandbox::{SandboxSettings, Throttle};
use common::*;
use domain::Sku;
use ports::{Clock, Deadline};
use sandbox_kit::FaultPlan;

fn mug() -> Sku {
    Sku::new("MUG-1").unwrap()
}

async fn seeded() -> Harness {
    let h = start(SandboxSettings::default()).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    h
}

#[tokio::test]
async fn oauth_signatures_are_verified_and_bad_ones_refused() {
    let h = seeded().await;
    assert_eq!(h.client.product(&mug(), &deadline()).await.unwrap().sku, "MUG-1");
    let auth = h.sandbox.exchanges_auth();
    assert!(
        auth.starts_with("OAuth ") && auth.contains("oauth_signature_method=\"HMAC-SHA256\""),
        "{auth}"
    );

    let CommerceAuth::OAuth1 {
        consumer_key,
        access_token,
        access_token_secret,
        ..
    } = oauth()
    else {
        unreachable!()
    };
    let mut config = h.client.config().clone();
    config.auth = CommerceAuth::OAuth1 {
        consumer_key,
        consumer_secret: "wrong".into(),
        access_token,
        access_token_secret,
    };
    let wrong = CommerceClient::new(config, h.clock.clone()).unwrap();
    let err = wrong.product(&mug(), &deadline()).await.unwrap_err();
    assert!(matches!(&err, CommerceError::Auth { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("The consumer isn't authorized to access Magento_Catalog::products."),
        "named parameters rendered: {err}"
    );
    assert_eq!(h.sandbox.recorder().count(), 2, "auth errors are not retried");
}

/// Fact 3 (issue 12): since 2.4.4 an Integration's access token is refused as a standalone Bearer
/// token unless the store sets `oauth/consumer/enable_integration_as_bearer`; the sandbox's default
/// is the store's default.
#[tokio::test]
async fn bearer_tokens_are_refused_unless_the_store_allows_them() {
    let strict = seeded().await;
    let mut config = strict.client.config().clone();
    config.auth = CommerceAuth::Bearer {
        token: commerce_sandbox::OAuthCredentials::sandbox().access_token,
    };
    let refused = CommerceClient::new(config, strict.clock.clone()).unwrap();
    let err = refused.stock_for_website("base", &deadline()).await.unwrap_err();
    assert!(
        matches!(err, CommerceError::Auth { .. }),
        "a default store refuses integration tokens as Bearer: {err}"
    );
    assert!(
        strict.client.stock_for_website("base", &deadline()).await.is_ok(),
        "OAuth 1.0a signing is what works by default"
    );
}

#[tokio::test]
async fn bearer_tokens_and_expired_tokens() {
    let h = start(SandboxSettings {
        accept_bearer: true,
        ..SandboxSettings::default()
    })
    .await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    let mut config = h.client.config().clone();
    config.auth = CommerceAuth::Bearer {
        token: commerce_sandbox::OAuthCredentials::sandbox().access_token,
    };
    let bearer = CommerceClient::new(config, h.clock.clone()).unwrap();
    assert_eq!(
        bearer.salable_quantity(&mug(), 1, &deadline()).await.unwrap(),
        5.0
    );

    h.sandbox.control().expire_tokens(&[]).await.unwrap();
    for client in [&bearer, &h.client] {
        let err = client.salable_quantity(&mug(), 1, &deadline()).await.unwrap_err();
        assert!(matches!(err, CommerceError::Auth { .. }), "{err}");
    }
    h.sandbox.control().restore_tokens().await.unwrap();
    assert!(h.client.salable_quantity(&mug(), 1, &deadline()).await.is_ok());
}

#[tokio::test]
async fn error_bodies_render_list_and_named_parameters() {
    // Named map: the input-limit page size cap.
    let h = start_with(SandboxSettings::default(), |c| c.page_size = 500).await;
    let err = h
        .client
        .products_updated_since(start_time())
        .collect_all(&deadline())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Commerce rejected the request on GET /V1/products (400): Maximum SearchCriteria pageSize is 300"
    );
    // List form: an unknown search field.
    let h = start(SandboxSettings::default()).await;
    let err = h
        .client
        .products_with_attribute("no_such_attribute", "1")
        .collect_all(&deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CommerceError::Validation { message, .. } if message == "Invalid attribute name: no_such_attribute"),
        "{err}"
    );
    // A plain message on 404.
    let err = h
        .client
        .product(&Sku::new("NOPE").unwrap(), &deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CommerceError::NotFound { message, .. }
        if message == "The product that was requested doesn't exist. Verify the product and try again."),
        "{err}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_they_pass() {
    let h = seeded().await;
    h.sandbox.faults().set(FaultPlan {
        burst_5xx: 2,
        ..FaultPlan::default()
    });
    let started = h.clock_now();
    assert_eq!(
        h.client.salable_quantity(&mug(), 1, &deadline()).await.unwrap(),
        5.0
    );
    let exchanges = h.sandbox.recorder().snapshot();
    assert_eq!(
        exchanges.iter().map(|e| e.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    assert!(h.clock_now() > started, "the waits went through the clock");
}

#[tokio::test]
async fn exhausted_retries_report_the_server_error_with_attempts() {
    let h = start_with(SandboxSettings::default(), |c| c.backoff.max_attempts = 3).await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    h.sandbox.faults().set(FaultPlan {
        burst_5xx: 10,
        ..FaultPlan::default()
    });
    let err = h
        .client
        .salable_quantity(&mug(), 1, &deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CommerceError::Server {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(h.sandbox.recorder().count(), 3);
    // Validation errors are never retried.
    h.sandbox.faults().set(FaultPlan::default());
    h.sandbox.recorder().clear();
    let _ = h
        .client
        .product(&Sku::new("NOPE").unwrap(), &deadline())
        .await
        .unwrap_err();
    assert_eq!(h.sandbox.recorder().count(), 1);
}

#[tokio::test]
async fn timeouts_are_retried_and_typed() {
    let h = start_with(SandboxSettings::default(), |c| {
        // Generous for a loaded machine: only the injected hangs (far longer) may time out.
        c.request_timeout = Duration::from_millis(1_500);
        c.backoff.max_attempts = 2;
    })
    .await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    // One hang: the first attempt times out, the retry answers.
    h.sandbox.faults().set(FaultPlan {
        timeout_next: 1,
        hang_ms: 30_000,
        ..FaultPlan::default()
    });
    assert_eq!(
        h.client.salable_quantity(&mug(), 1, &deadline()).await.unwrap(),
        5.0
    );
    // Two hangs with two attempts: a typed timeout.
    h.sandbox.faults().set(FaultPlan {
        timeout_next: 2,
        hang_ms: 30_000,
        ..FaultPlan::default()
    });
    let err = h
        .client
        .salable_quantity(&mug(), 1, &deadline())
        .await
        .unwrap_err();
    assert!(matches!(err, CommerceError::Timeout { attempts: 2, .. }), "{err}");
}

#[tokio::test]
async fn malformed_bodies_and_deadlines() {
    let h = seeded().await;
    h.sandbox.faults().set(FaultPlan {
        malformed_rate: 1.0,
        seed: Some(7),
        ..FaultPlan::default()
    });
    let err = h.client.product(&mug(), &deadline()).await.unwrap_err();
    assert!(matches!(err, CommerceError::Malformed { .. }), "{err}");
    assert_eq!(h.sandbox.recorder().count(), 1, "a malformed 200 is not retried");

    h.sandbox.faults().set(FaultPlan {
        burst_5xx: 5,
        ..FaultPlan::default()
    });
    let err = h
        .client
        .product(&mug(), &Deadline::after(Duration::from_millis(30)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CommerceError::DeadlineExceeded { .. }),
        "no retry waits past the deadline: {err}"
    );
    let err = h
        .client
        .product(&mug(), &Deadline::after(Duration::ZERO))
        .await
        .unwrap_err();
    assert!(matches!(err, CommerceError::DeadlineExceeded { .. }), "{err}");
}

#[tokio::test]
async fn store_codes_are_part_of_every_path() {
    let h = start(SandboxSettings {
        store_codes: vec!["default".into(), "us_store".into()],
        ..SandboxSettings::default()
    })
    .await;
    h.sandbox
        .control()
        .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
        .await
        .unwrap();
    let mut config = h.client.config().clone();
    config.store_code = "us_store".into();
    let us = CommerceClient::new(config.clone(), h.clock.clone()).unwrap();
    assert!(us.product(&mug(), &deadline()).await.is_ok());
    assert_eq!(
        h.sandbox.recorder().snapshot()[0].path,
        "/rest/us_store/V1/products/MUG-1"
    );
    config.store_code = "nowhere".into();
    let nowhere = CommerceClient::new(config, h.clock.clone()).unwrap();
    // Magento keeps an unknown store code in the path, which then matches no route.
    assert!(matches!(
        nowhere.product(&mug(), &deadline()).await.unwrap_err(),
        CommerceError::NoRoute { .. }
    ));
}

trait Helpers {
    fn clock_now(&self) -> domain::Timestamp;
}

impl Helpers for Harness {
    fn clock_now(&self) -> domain::Timestamp {
        use ports::Clock;
        self.clock.now()
    }
}

trait AuthOfLastExchange {
    fn exchanges_auth(&self) -> String;
}

impl AuthOfLastExchange for commerce_sandbox::RunningSandbox {
    fn exchanges_auth(&self) -> String {
        self.recorder()
            .snapshot()
            .last()
            .and_then(|e| e.request_header("authorization").map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Fact 11 (issue 12): Fastly or nginx in front of a store answer 429, or 503 with `Retry-After`.
/// The client waits what it is told (on its clock) and tries again; when the wait does not fit the
/// deadline it reports throttling as its own kind, never as a server error or a lost deadline.
#[tokio::test]
async fn throttling_waits_retry_after_and_is_reported_as_throttling() {
    let h = seeded().await;
    let control = h.sandbox.control();
    for status in [429, 503] {
        control
            .throttle(&Throttle {
                requests: 2,
                status,
                retry_after_secs: 7,
            })
            .await
            .unwrap();
        let before = h.clock.now();
        assert_eq!(h.client.product(&mug(), &deadline()).await.unwrap().sku, "MUG-1");
        assert!(
            h.clock.now().since(before) >= Duration::from_secs(14),
            "two waits of Retry-After: 7 s on the client's clock ({status})"
        );
    }

    control
        .throttle(&Throttle {
            requests: 1,
            status: 503,
            retry_after_secs: 3600,
        })
        .await
        .unwrap();
    let err = h.client.product(&mug(), &deadline()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            CommerceError::Throttled { status: 503, retry_after: Some(wait), .. } if *wait == Duration::from_secs(3600)
        ),
        "{err}"
    );
    assert_eq!(err.kind(), "throttled");
    assert_eq!(ports::ApiError::from(err).kind, ports::ApiErrorKind::Throttled);

    // A 503 without Retry-After is the store's own failure: a server error, retried by backoff.
    control
        .set_faults(&FaultPlan {
            burst_5xx: 1,
            ..FaultPlan::default()
        })
        .await
        .unwrap();
    assert!(h.client.product(&mug(), &deadline()).await.is_ok());
}

/// Fact 2 (issue 12): signed as Magento verifies. Lists are indexed (`skus[0]`, never `skus[]`
/// repeated), names sort in natural order (eleven filters put `[10]` after `[9]`), and a SKU with
/// one of `/ + & : @ = $ , ;` is read through a searchCriteria route, because Magento 2.4.6 (the
/// sandbox's default) decodes those in a path before checking the signature; their salable
/// quantity comes from `export-stock-salable-qty` (SKU in the query). The legacy stock route, which
/// only exists with the SKU in the path, refuses such a SKU before sending, saying why.
#[tokio::test]
async fn signatures_hold_as_magento_verifies_them() {
    let h = start(SandboxSettings::default()).await;
    let odd = [
        "A/1", "B+2", "C&3", "D:4", "E@5", "F=6", "G$7", "H,8", "I;9", "J,10", "K 11",
    ];
    let mut seeds: Vec<_> = odd.iter().map(|sku| product(sku, 5.0, 1.0, 0.0)).collect();
    seeds.push(product("MUG-1", 12.0, 3.0, 2.0));
    h.sandbox.control().seed_products(&seeds).await.unwrap();
    let d = deadline();
    let skus: Vec<Sku> = odd.iter().map(|s| Sku::new(*s).unwrap()).collect();

    for sku in &skus {
        assert_eq!(h.client.product(sku, &d).await.unwrap().sku, sku.as_str());
    }
    let found = h.client.products_by_skus(&skus, &d).await.unwrap();
    assert_eq!(
        found.len(),
        odd.len(),
        "commas need eq filters: eleven filters in one group"
    );
    let salable = h.client.are_products_salable(&skus, 1, &d).await.unwrap();
    assert_eq!(salable.len(), odd.len());
    assert!(salable.iter().all(|r| r.salable));
    assert_eq!(h.client.salable_quantity(&mug(), 1, &d).await.unwrap(), 5.0);
    // Their salable quantities come through the export route's searchCriteria, in the query.
    for sku in &skus {
        assert_eq!(h.client.salable_quantity(sku, 1, &d).await.unwrap(), 1.0, "{sku}");
    }
    let err = h.client.legacy_stock_item(&skus[0], &d).await.unwrap_err();
    assert!(
        matches!(&err, CommerceError::Input(message) if message.contains("37830")),
        "{err}"
    );

    let exchanges = h.sandbox.recorder().snapshot();
    assert!(exchanges.iter().all(|e| e.status == 200), "no refusal anywhere");
    let indexed = exchanges
        .iter()
        .find(|e| e.path.ends_with("/are-products-salable"))
        .unwrap();
    // Eleven indexed SKUs: `skus[10]` sorts after `skus[9]` only in natural order, and was accepted.
    assert!(indexed.query_value("skus[10]").is_some() && indexed.query_value("skus[]").is_none());
    let search = exchanges
        .iter()
        .find(|e| e.query_value("searchCriteria[filterGroups][0][filters][0][conditionType]") == Some("in"))
        .unwrap();
    let value =
        |n: usize| search.query_value(&format!("searchCriteria[filterGroups][0][filters][{n}][value]"));
    assert!(!value(0).unwrap().contains("H,8"));
    assert_eq!((value(1), value(2)), (Some("H,8"), Some("J,10")));
    assert_eq!(
        search.query_value("searchCriteria[filterGroups][0][filters][1][conditionType]"),
        Some("eq")
    );
}
