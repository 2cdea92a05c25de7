//! The channel's ORDER_UPDATES subscription against the Walmart sandbox, with the receiver served
//! on loopback: created with Walmart's test notification passing, legacy subscriptions to the
//! channel's URL removed, a subscription Walmart lost re-created on the daily check, and a failing
//! test notification reported in the run report and the health record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{ChannelId, ChannelSettings, Operation, Timestamp};
use local_runner::push::{PushOptions, start};
use operations::push_subscription::{
    LEGACY_SUBSCRIPTIONS_REMOVED, SUBSCRIPTION_CREATED, SUBSCRIPTION_MISSING, SUBSCRIPTION_UPDATED,
    TEST_NOTIFICATION_FAILED, maintain, push_problem,
};
use operations::testkit::{Sandboxes, queue_settings};
use operations::{Channel, RunReport};
use ports::webhooks::{SubscriptionRequest, WebhookAuth};
use ports::{Clock, Deadline, ManualClock};

/// 2026-11-29: before Walmart removes the legacy order events.
const START: i64 = 1_796_000_000_000;

async fn check(ch: &Channel) -> RunReport {
    let mut report = RunReport::new(Operation::OrderImport);
    maintain(ch, &Deadline::after(Duration::from_secs(30)), &mut report).await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_is_kept_recreated_when_lost_and_a_failing_test_is_reported() {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(START)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let sandboxes = Sandboxes::start_default(dyn_clock.clone()).await.unwrap();
    let queues = Arc::new(EmbeddedQueues::in_memory(queue_settings(), dyn_clock.clone()));
    let mut settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let receiver = start(&PushOptions::default(), &mut settings, queues.clone())
        .await
        .unwrap()
        .expect("push on");
    let url = receiver.url.clone();
    let store = Arc::new(EmbeddedStore::in_memory());
    let ch = sandboxes.channel(settings.clone(), store.clone(), queues.clone(), dyn_clock);
    let deadline = Deadline::after(Duration::from_secs(30));

    // A legacy subscription of the channel's own URL, from before ORDER_UPDATES.
    let auth = operations::walmart_events::receiver_auth(&settings.push).unwrap();
    let legacy = SubscriptionRequest {
        event_type: "PO_CREATED".into(),
        ..SubscriptionRequest::order_updates(url.clone(), auth.clone())
    };
    ch.walmart.create_subscription(&legacy, &deadline).await.unwrap();

    let first = check(&ch).await;
    assert_eq!(first.count(SUBSCRIPTION_CREATED), 1, "{first:?}");
    assert_eq!(first.count(LEGACY_SUBSCRIPTIONS_REMOVED), 1, "{first:?}");
    assert!(first.problems.is_empty(), "{first:?}");
    let subscriptions = ch.walmart.list_subscriptions(&deadline).await.unwrap();
    assert_eq!(subscriptions.len(), 1, "{subscriptions:?}");
    assert_eq!(subscriptions[0].event_type, "ORDER_UPDATES");
    assert!(subscriptions[0].delivers_to(&url));
    assert!(matches!(auth, WebhookAuth::Hmac { .. }));
    assert_eq!(subscriptions[0].auth_method.as_deref(), Some("HMAC"));
    assert_eq!(push_problem(store.as_ref(), &settings.id).await.unwrap(), None);

    // Checked daily, not on every run.
    clock.advance(Duration::from_secs(3600));
    assert!(check(&ch).await.counts.is_empty());

    // Walmart loses it: the daily check creates it again and says so.
    sandboxes
        .walmart_control()
        .lose_webhook_subscriptions()
        .await
        .unwrap();
    clock.advance(Duration::from_secs(24 * 3600));
    let lost = check(&ch).await;
    assert_eq!(lost.count(SUBSCRIPTION_MISSING), 1, "{lost:?}");
    assert_eq!(lost.count(SUBSCRIPTION_CREATED), 1, "{lost:?}");
    assert_eq!(ch.walmart.list_subscriptions(&deadline).await.unwrap().len(), 1);

    // The next day it is there: updated in place.
    clock.advance(Duration::from_secs(24 * 3600));
    let kept = check(&ch).await;
    assert_eq!(kept.count(SUBSCRIPTION_UPDATED), 1, "{kept:?}");
    assert_eq!(kept.count(SUBSCRIPTION_CREATED), 0, "{kept:?}");

    // The receiver is gone: Walmart's test notification fails; reported, and rechecked each run.
    let activity = std::collections::BTreeMap::new();
    let _ = receiver
        .finish(&sandboxes.walmart_control(), &activity, store.as_ref(), &settings)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    clock.advance(Duration::from_secs(24 * 3600));
    let failing = check(&ch).await;
    assert_eq!(failing.count(TEST_NOTIFICATION_FAILED), 1, "{failing:?}");
    assert!(
        failing.problems.iter().any(|p| p.contains("test notification")),
        "{failing:?}"
    );
    let problem = push_problem(store.as_ref(), &settings.id).await.unwrap();
    assert!(problem.is_some_and(|p| p.contains("test notification")));
    clock.advance(Duration::from_secs(300));
    assert_eq!(
        check(&ch).await.count(TEST_NOTIFICATION_FAILED),
        1,
        "a standing problem is rechecked"
    );
    sandboxes.shutdown().await;
}
