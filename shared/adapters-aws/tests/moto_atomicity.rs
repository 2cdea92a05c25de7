//! moto checks a write's condition and applies it in two steps with no lock, so two writers of one
//! version can both succeed: a lost update DynamoDB never allows, which made the concurrency checks
//! pass or fail by luck on a busy machine. The test harness runs moto through
//! `tests/moto_serialized.py`, which serializes DynamoDB requests per table.
//!
//! These tests prove the difference deterministically, not by load: each server is started with
//! `--hold-check-window`, which holds a write that passed its condition check until another write has
//! passed its own (or the window ends). Plain moto (`--unserialized`) then always lets a second
//! writer of the same version through; the serialized one checks the second writer only after the
//! first one wrote, so it always refuses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use serde_json::json;
use tokio::sync::Barrier;

use adapters_aws::{DynamoDbStore, create_table};
use ports::conformance;
use ports::state::{Expect, Item, Key, StateStore};
use test_support::{OwnMoto, unique_name};

/// Long enough for every racing writer's request to reach moto, even on a loaded machine; on the
/// serialized server it only costs time (nothing else can pass a check while a write is held).
const HOLD_SECONDS: &str = "2";
const WRITERS: usize = 6;

async fn store_on(moto: &OwnMoto) -> Arc<DynamoDbStore> {
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let table = unique_name("cm-atomicity");
    create_table(&client, &table).await.unwrap();
    Arc::new(DynamoDbStore::new(client, table))
}

fn counter(pk: &str, n: usize) -> Item {
    Item {
        key: Key::new(pk, "counter"),
        index: None,
        expires_at: None,
        body: json!({ "n": n }),
    }
}

/// Six writers read version 1, then all write conditioned on it at once: how many succeeded.
async fn writers_of_one_version(store: Arc<DynamoDbStore>) -> usize {
    let pk = unique_name("race");
    let first = store.put(counter(&pk, 0), Expect::Absent).await.unwrap();
    let start = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (1..=WRITERS)
        .map(|n| {
            let store = store.clone();
            let start = start.clone();
            let pk = pk.clone();
            tokio::spawn(async move {
                start.wait().await;
                match store.put(counter(&pk, n), Expect::Version(first)).await {
                    Ok(_) => true,
                    Err(e) if e.is_condition_failure() => false,
                    Err(e) => panic!("unexpected store error: {e:?}"),
                }
            })
        })
        .collect();
    let mut succeeded = 0;
    for task in tasks {
        if task.await.unwrap() {
            succeeded += 1;
        }
    }
    succeeded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plain_moto_lets_two_writers_of_one_version_succeed() {
    let moto = OwnMoto::start(&["--unserialized", "--hold-check-window", HOLD_SECONDS]);
    let succeeded = writers_of_one_version(store_on(&moto).await).await;
    assert!(
        succeeded >= 2,
        "plain moto with its check-to-write window held open must let a second writer of the same \
         version through (a lost update); {succeeded} succeeded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serialized_moto_lets_exactly_one_writer_of_a_version_succeed() {
    let moto = OwnMoto::start(&["--hold-check-window", HOLD_SECONDS]);
    let succeeded = writers_of_one_version(store_on(&moto).await).await;
    assert_eq!(
        succeeded, 1,
        "one write per version, as DynamoDB: the others fail their condition"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plain_moto_fails_the_concurrency_conformance_check() {
    let moto = OwnMoto::start(&["--unserialized", "--hold-check-window", HOLD_SECONDS]);
    let store = store_on(&moto).await;
    let outcome = tokio::spawn(conformance::state_store_concurrency(store)).await;
    assert!(
        outcome.is_err_and(|e| e.is_panic()),
        "the concurrency conformance check must catch plain moto's lost update"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serialized_moto_passes_the_concurrency_conformance_check() {
    // One second is enough here: serialized, the window never sees a second writer.
    let moto = OwnMoto::start(&["--hold-check-window", "1"]);
    conformance::state_store_concurrency(store_on(&moto).await).await;
}
