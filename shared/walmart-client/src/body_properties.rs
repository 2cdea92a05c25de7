//! Any body Walmart could send gives the client a typed error or a value, never a panic: arbitrary
//! bytes, and bodies the sandbox renders (an order, seller items) with any member replaced by any
//! JSON value or removed, decoded through the wire types (`wire::decode`) and converted to the
//! port's types as the client does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use domain::{FeedId, Money, Timestamp};
use ports::ManualClock;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use walmart_sandbox::{
    CatalogItemSpec, NewOrder, NewOrderLine, SandboxSettings, SellerItemSpec, ShipToSpec, WalmartSandbox,
};

use crate::endpoint::Endpoint;
use crate::{convert, wire};

fn source(endpoint: Endpoint) -> convert::Source<'static> {
    convert::Source {
        endpoint,
        correlation_id: "properties",
    }
}

/// Every response type the client reads, decoded and (where the client converts it) converted.
fn read_everything(body: &[u8]) {
    let _ = wire::decode::<wire::TokenResponse>(body);
    let _ = wire::decode::<wire::FeedId>(body);
    let _ = wire::decode::<wire::Inventory>(body);
    let _ = wire::decode::<wire::ItemPriceResponse>(body);
    let _ = wire::decode::<wire::OrdersListResponse>(body);
    let _ = wire::decode::<wire::OrderEnvelope>(body);
    let _ = wire::decode::<wire::ItemResponses>(body);
    if let Ok(order) = wire::decode::<wire::Order>(body) {
        let _ = convert::order(source(Endpoint::GetOrder), order);
    }
    if let Ok(item) = wire::decode::<wire::ItemResponse>(body) {
        let _ = convert::seller_item(Endpoint::GetItem, item);
    }
    if let Ok(found) = wire::decode::<wire::SearchResponse>(body) {
        found.items.0.into_iter().flatten().for_each(|i| {
            let _ = convert::catalog_item(i);
        });
    }
    if let Ok(feed) = wire::decode::<wire::PartnerFeedResponse>(body) {
        let _ = convert::feed_status(source(Endpoint::FeedStatus), &FeedId::new("F1").unwrap(), feed);
    }
    if let Ok(returns) = wire::decode::<wire::ReturnsResponse>(body) {
        returns.return_orders.0.into_iter().flatten().for_each(|r| {
            let _ = convert::return_order(Endpoint::ListReturns, r);
        });
    }
}

/// A JSON value of any shape, with the numbers and strings Walmart's fields hold (and the ones they
/// must not).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(-0.01)),
        Just(json!(1e300)),
        Just(json!("")),
        Just(json!("1.5")),
        Just(json!("-3")),
        Just(json!("NaN")),
        Just(json!("2026-13-45T99:99:99Z")),
        "[A-Za-z0-9 .:-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path to a member or element of `value`.
fn paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                prefix.push(key.clone());
                out.push(prefix.clone());
                paths(member, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                prefix.push(n.to_string());
                out.push(prefix.clone());
                paths(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// `value` with the member or element at `path` replaced by `with`, or removed when `with` is `None`.
fn mutated(value: &Value, path: &[String], with: Option<Value>) -> Value {
    let mut value = value.clone();
    let Some((last, parents)) = path.split_last() else {
        return with.unwrap_or(Value::Null);
    };
    let mut at = &mut value;
    for step in parents {
        at = match at {
            Value::Object(m) => m.get_mut(step).unwrap(),
            Value::Array(a) => &mut a[step.parse::<usize>().unwrap()],
            _ => unreachable!("paths only go through containers"),
        };
    }
    match (at, with) {
        (Value::Object(m), Some(v)) => {
            m.insert(last.clone(), v);
        }
        (Value::Object(m), None) => {
            m.remove(last);
        }
        (Value::Array(a), Some(v)) => a[last.parse::<usize>().unwrap()] = v,
        (Value::Array(a), None) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        _ => unreachable!("paths only go through containers"),
    }
    value
}

/// Bodies as the sandbox renders them: an order list (one order of two lines), the order alone,
/// and the seller items.
fn rendered_bodies() -> Vec<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
        let sandbox = WalmartSandbox::start(
            SandboxSettings::default(),
            clock,
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await
        .unwrap();
        let control = sandbox.control();
        control
            .add_catalog_items(&[CatalogItemSpec {
                gtin: "00012345678905".into(),
                product_name: "Mug".into(),
                brand: None,
                product_type: None,
                price: Some(Money::from_cents(1999)),
                wpid: None,
            }])
            .await
            .unwrap();
        control
            .add_seller_items(&[SellerItemSpec {
                sku: "MUG-1".into(),
                gtin: "00012345678905".into(),
                price: Some(Money::from_cents(1999)),
                quantity: Some(3),
            }])
            .await
            .unwrap();
        let line = |sku: &str, quantity| NewOrderLine {
            sku: sku.into(),
            quantity,
            unit_price: Money::from_cents(1999),
            tax: Money::from_cents(160),
            shipping: Money::from_cents(499),
            product_name: None,
        };
        let created = control
            .create_order(&NewOrder {
                lines: vec![line("MUG-1", 2), line("MUG-2", 1)],
                ship_to: ShipToSpec::default(),
                method_code: "Standard".into(),
                order_date: None,
                purchase_order_id: None,
            })
            .await
            .unwrap();
        let order = control.order(&created.purchase_order_id).await.unwrap();
        let items = control.seller_items().await.unwrap();
        sandbox.shutdown().await;
        vec![
            json!({"list": {"meta": {"totalCount": 1, "limit": 10}, "elements": {"order": [order.clone()]}}}),
            json!({"order": order.clone()}),
            order,
            json!({"ItemResponse": items.clone(), "totalItems": items.len()}),
            items[0].clone(),
        ]
    })
}

#[test]
fn any_bytes_give_an_error_or_a_value() {
    let mut runner = TestRunner::new(Config {
        cases: 512,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..256), |bytes| {
            read_everything(&bytes);
            Ok(())
        })
        .unwrap();
    runner
        .run(&any_json(), |value| {
            read_everything(value.to_string().as_bytes());
            Ok(())
        })
        .unwrap();
}

#[test]
fn rendered_bodies_with_any_member_changed_give_an_error_or_a_value() {
    let bodies = rendered_bodies();
    // Unchanged, they read cleanly: the changes below start from bodies that go all the way.
    let order: wire::Order = wire::decode_value(bodies[2].clone()).unwrap();
    convert::order(source(Endpoint::GetOrder), order).unwrap();
    wire::decode_value::<wire::OrdersListResponse>(bodies[0].clone()).unwrap();
    let item: wire::ItemResponse = wire::decode_value(bodies[4].clone()).unwrap();
    convert::seller_item(Endpoint::GetItem, item).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 2_000,
        ..Config::default()
    });
    let mutation = (
        0..bodies.len(),
        any::<prop::sample::Index>(),
        prop::option::weighted(0.8, any_json()),
    );
    runner
        .run(&mutation, |(which, at, with)| {
            let body = &bodies[which];
            let mut all = Vec::new();
            paths(body, &mut Vec::new(), &mut all);
            let changed = mutated(body, &all[at.index(all.len())], with);
            read_everything(changed.to_string().as_bytes());
            Ok(())
        })
        .unwrap();
}
