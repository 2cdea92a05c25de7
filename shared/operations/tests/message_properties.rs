//! Every queue's message handler (through the registry, as the Lambdas and the local runner dispatch),
//! given any body: a handled message or a typed error, never a panic. Bodies are arbitrary text and
//! JSON shaped like the real messages with wrong, missing or extreme values. Case count modest: each
//! case runs every handler against the sandboxes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use domain::{ChannelId, ChannelSettings, Operation, Timestamp};
use operations::registry::{self, Message};
use operations::testkit::Sandboxes;
use ports::{Clock, Deadline, ManualClock};

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        prop::collection::vec(any::<String>().prop_map(Value::String), 0..4).prop_map(Value::Array),
        Just(json!(["SKU-1", ""])),
        Just(json!("108829485327661")),
    ]
}

/// Message bodies: any text, or JSON objects with the messages' own field names.
fn body() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("skus"),
        Just("sku"),
        Just("kind"),
        Just("purchase_order_id"),
        Just("purchaseOrderId"),
        Just("request_id"),
        Just("page"),
        Just("cursor"),
        Just("since"),
        Just("reason"),
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec((key, field_value()), 0..4).prop_map(|fields| {
            let object: serde_json::Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Value::Object(object).to_string()
        }),
    ]
}

#[test]
fn every_queue_handler_answers_any_body_without_panicking() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let sandboxes = runtime.block_on(Sandboxes::start_default(clock.clone())).unwrap();
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let channel = runtime.block_on(async {
        Arc::new(
            sandboxes
                .embedded_channel(settings, clock.clone() as Arc<dyn Clock>)
                .0,
        )
    });
    let handlers: Vec<_> = Operation::ALL
        .iter()
        .filter_map(|op| registry::handlers(*op).queue.map(|(_, handler)| (*op, handler)))
        .collect();
    assert!(!handlers.is_empty());

    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    runner
        .run(&(body(), 1u32..6), |(body, receive_count)| {
            for (operation, handler) in &handlers {
                let message = Message {
                    message_id: "property-1".to_owned(),
                    body: body.clone(),
                    receive_count,
                };
                let deadline = Deadline::after(Duration::from_secs(30));
                let handled = runtime.block_on(runtime.spawn(handler(channel.clone(), message, deadline)));
                prop_assert!(handled.is_ok(), "{operation:?} panicked on the body {body:?}");
            }
            Ok(())
        })
        .unwrap();
    runtime.block_on(sandboxes.shutdown());
}
