//! Any body a Commerce store could send gives the client a typed error or a value, never a panic:
//! arbitrary bytes, and bodies the sandbox renders (a product, an order, a search page of them) with
//! any member replaced by any JSON value or removed, read as the client reads them (the wire
//! types, their accessors, then their conversion to the port's terms).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use commerce_client::convert;
use commerce_client::wire::{
    CreditMemo, Order, Product, Rma, SearchResults, Shipment, SourceItem, Stock, StockItem, StoreConfig,
};
use commerce_sandbox::SandboxSettings;
use common::{deadline, product, purchase_order, start, start_time, walmart_line};
use domain::CustomerMapping;
use ports::commerce::OrderPlacement;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn read<T: DeserializeOwned>(body: &str) -> Option<T> {
    serde_json::from_str::<T>(body).ok()
}

fn use_product(p: &Product) {
    let _ = (
        p.attribute("upc"),
        p.is_enabled(),
        p.is_configurable(),
        p.price_money(),
    );
    let _ = (
        p.special_price(&domain::StoreTimeZone::utc()),
        p.child_ids(),
        p.category_ids(),
    );
    let _ = convert::product(p.clone()).to_snapshot("upc", &domain::StoreTimeZone::utc());
}

/// Every model type the client reads, and what the channel asks of a product and an order.
fn read_everything(body: &str) {
    if let Some(p) = read::<Product>(body) {
        use_product(&p);
    }
    if let Some(page) = read::<SearchResults<Product>>(body) {
        page.items.iter().for_each(use_product);
    }
    if let Some(o) = read::<Order>(body) {
        let _ = o.po_number();
        let _ = convert::order(o);
    }
    if let Some(page) = read::<SearchResults<Order>>(body) {
        page.items.iter().for_each(|o| {
            let _ = o.po_number();
        });
        let _ = convert::all(page.items, convert::order);
    }
    if let Some(page) = read::<SearchResults<Shipment>>(body) {
        let _ = convert::all(page.items, convert::shipment);
    }
    if let Some(page) = read::<SearchResults<CreditMemo>>(body) {
        let _ = convert::all(page.items, convert::credit_memo);
    }
    if let Some(page) = read::<SearchResults<SourceItem>>(body) {
        let _ = page.items.into_iter().map(convert::source_item).count();
    }
    if let Some(rmas) = read::<Vec<Rma>>(body) {
        let _ = convert::all(rmas, convert::rma);
    }
    let _ = read::<Stock>(body).map(convert::stock);
    let _ = read::<StockItem>(body).map(convert::stock_item);
    let _ = read::<Vec<StoreConfig>>(body);
    let _ = read::<f64>(body);
    let _ = read::<bool>(body);
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(-0.01)),
        Just(json!(1e300)),
        Just(json!("")),
        Just(json!("12.5000")),
        Just(json!("-3")),
        Just(json!("2026-02-30 25:61:00")),
        "[A-Za-z0-9 .:-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(members) => members.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        prefix.push(step);
        out.push(prefix.clone());
        paths(child, prefix, out);
        prefix.pop();
    }
}

/// `value` with the member or element at `path` replaced by `with`, or removed when `None`.
fn mutated(value: &Value, path: &[String], with: Option<Value>) -> Value {
    let mut value = value.clone();
    let (last, parents) = path.split_last().unwrap();
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

/// A product and an order as the sandbox renders them, alone and as search pages.
fn rendered_bodies() -> Vec<Value> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let h = start(SandboxSettings::default()).await;
        let control = h.sandbox.control();
        control
            .seed_products(&[product("MUG-1", 12.0, 3.0, 2.0)])
            .await
            .unwrap();
        let po = purchase_order(
            "1796277083022",
            "buyer-1@relay.walmart.com",
            start_time(),
            vec![walmart_line(1, "MUG-1", 2, 1000)],
        );
        let placement = OrderPlacement {
            customer: CustomerMapping::Guest,
            carrier_method: "flatrate_flatrate".into(),
            payment_method: "purchaseorder".into(),
        };
        h.client
            .create_order_for(&po, &placement, &deadline())
            .await
            .unwrap();
        let product = control.product("MUG-1").await.unwrap();
        let order = control.orders().await.unwrap().remove(0);
        h.sandbox.shutdown().await;
        vec![
            json!({"items": [product.clone()], "total_count": 1}),
            product,
            json!({"items": [order.clone()], "total_count": 1}),
            order,
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
            read_everything(&String::from_utf8_lossy(&bytes));
            Ok(())
        })
        .unwrap();
    runner
        .run(&any_json(), |value| {
            read_everything(&value.to_string());
            Ok(())
        })
        .unwrap();
}

#[test]
fn rendered_bodies_with_any_member_changed_give_an_error_or_a_value() {
    let bodies = rendered_bodies();
    // Unchanged, they read cleanly: the changes below start from bodies that go all the way.
    assert!(read::<Product>(&bodies[1].to_string()).is_some());
    assert!(read::<SearchResults<Order>>(&bodies[2].to_string()).is_some());
    assert_eq!(
        read::<Order>(&bodies[3].to_string()).unwrap().po_number(),
        Some("1796277083022")
    );
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
            read_everything(&changed.to_string());
            Ok(())
        })
        .unwrap();
}
