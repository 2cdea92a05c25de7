//! One conformance suite for every adapter: the DynamoDB and embedded state stores, the SQS and
//! in-process work queues all run these same checks (from their own test files).
//!
//! Each check uses keys under its own random prefix, so one store or queue can serve them all and
//! runs against a shared server do not interfere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use domain::Timestamp;

use crate::queue::{OutgoingMessage, QueueError, QueueName, WorkQueue};
use crate::state::{
    Claim, ClaimTerms, ClaimToken, Expect, IdempotencyKey, IndexKey, Item, Key, Query, SortRange, StateStore,
    StoreError, Version, Write,
};
use crate::{Records, query_all};

fn prefix() -> String {
    format!("T{}", uuid_like())
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}{:x}", N.fetch_add(1, Ordering::Relaxed))
}

fn item(pk: &str, sk: &str, n: i64) -> Item {
    Item {
        key: Key::new(pk, sk),
        index: None,
        expires_at: None,
        body: json!({ "n": n }),
    }
}

/// Runs every state-store check against `store`.
pub async fn state_store(store: Arc<dyn StateStore>) {
    versioned_puts(store.as_ref()).await;
    deletes(store.as_ref()).await;
    partition_queries(store.as_ref()).await;
    status_index(store.as_ref()).await;
    counts_and_upper_bounds(store.as_ref()).await;
    transactions(store.as_ref()).await;
    bulk_writes(store.as_ref()).await;
    limits(store.as_ref()).await;
    idempotency(store.as_ref()).await;
    fenced_claims(store.as_ref()).await;
    state_store_concurrency(store).await;
}

/// The state-store checks that race writers against each other (claims, optimistic updates), alone:
/// what the stress run in `docs/reliability.md` repeats under load.
pub async fn state_store_concurrency(store: Arc<dyn StateStore>) {
    concurrent_claims(store.clone()).await;
    concurrent_updates(store).await;
}

async fn versioned_puts(store: &dyn StateStore) {
    let pk = prefix();
    let key = Key::new(&pk, "a");
    assert!(store.get(&key).await.unwrap().is_none());
    let v1 = store.put(item(&pk, "a", 1), Expect::Absent).await.unwrap();
    assert_eq!(v1, Version(1));
    match store.put(item(&pk, "a", 2), Expect::Absent).await {
        Err(StoreError::ConditionFailed { current, .. }) => assert_eq!(current, Some(Version(1))),
        other => panic!("expected ConditionFailed, got {other:?}"),
    }
    let v2 = store.put(item(&pk, "a", 2), Expect::Version(v1)).await.unwrap();
    assert_eq!(v2, Version(2));
    let err = store
        .put(item(&pk, "a", 3), Expect::Version(v1))
        .await
        .unwrap_err();
    assert!(err.is_condition_failure(), "stale version must fail: {err:?}");
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.version, Version(2));
    assert_eq!(stored.item.body, json!({ "n": 2 }));
    let v3 = store.put(item(&pk, "a", 4), Expect::Any).await.unwrap();
    assert_eq!(v3, Version(3));
    let missing = store
        .put(item(&pk, "b", 1), Expect::Version(Version(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::ConditionFailed { current: None, .. }),
        "{missing:?}"
    );
}

async fn deletes(store: &dyn StateStore) {
    let pk = prefix();
    let key = Key::new(&pk, "a");
    let v = store.put(item(&pk, "a", 1), Expect::Absent).await.unwrap();
    assert!(
        store
            .delete(&key, Expect::Version(Version(9)))
            .await
            .unwrap_err()
            .is_condition_failure()
    );
    store.delete(&key, Expect::Version(v)).await.unwrap();
    assert!(store.get(&key).await.unwrap().is_none());
    store.delete(&key, Expect::Any).await.unwrap();
}

async fn partition_queries(store: &dyn StateStore) {
    let pk = prefix();
    for sk in ["b#2", "a#1", "c#3", "b#1", "d#4"] {
        store.put(item(&pk, sk, 0), Expect::Absent).await.unwrap();
    }
    store
        .put(item(&format!("{pk}x"), "a#0", 0), Expect::Absent)
        .await
        .unwrap();
    let sks = |items: Vec<crate::state::Stored>| items.into_iter().map(|s| s.item.key.sk).collect::<Vec<_>>();
    let all = query_all(store, Query::partition(&pk).limit(2)).await.unwrap();
    assert_eq!(sks(all), ["a#1", "b#1", "b#2", "c#3", "d#4"]);
    let prefixed = query_all(store, Query::partition(&pk).range(SortRange::Prefix("b#".into())))
        .await
        .unwrap();
    assert_eq!(sks(prefixed), ["b#1", "b#2"]);
    let between = query_all(
        store,
        Query::partition(&pk).range(SortRange::Between("b#2".into(), "c#9".into())),
    )
    .await
    .unwrap();
    assert_eq!(sks(between), ["b#2", "c#3"]);
    let from = query_all(store, Query::partition(&pk).range(SortRange::From("c".into())))
        .await
        .unwrap();
    assert_eq!(sks(from), ["c#3", "d#4"]);
    let first = store
        .query(&Query::partition(&pk).descending().limit(2))
        .await
        .unwrap();
    assert_eq!(sks(first.items), ["d#4", "c#3"]);
    let second = store
        .query(&Query::partition(&pk).descending().limit(2).after(first.next))
        .await
        .unwrap();
    assert_eq!(sks(second.items), ["b#2", "b#1"]);
    let empty = store
        .query(&Query::partition(format!("{pk}-none")))
        .await
        .unwrap();
    assert!(empty.items.is_empty() && empty.next.is_none());
}

async fn status_index(store: &dyn StateStore) {
    let pk = prefix();
    let ipk_draft = format!("{pk}#draft");
    let ipk_done = format!("{pk}#done");
    for (sk, at) in [("x", "2026-01-02"), ("y", "2026-01-01"), ("z", "2026-01-03")] {
        let mut it = item(&pk, sk, 0);
        it.index = Some(IndexKey::new(&ipk_draft, format!("{at}#{sk}")));
        store.put(it, Expect::Absent).await.unwrap();
    }
    let order =
        |items: Vec<crate::state::Stored>| items.into_iter().map(|s| s.item.key.sk).collect::<Vec<_>>();
    let drafts = query_all(store, Query::status_index(&ipk_draft).limit(1))
        .await
        .unwrap();
    assert_eq!(order(drafts), ["y", "x", "z"], "ordered by index sort key");
    // Moving an item to another status removes it from the old bucket.
    let current = store.get(&Key::new(&pk, "x")).await.unwrap().unwrap();
    let mut moved = current.item.clone();
    moved.index = Some(IndexKey::new(&ipk_done, "2026-01-05#x"));
    store.put(moved, Expect::Version(current.version)).await.unwrap();
    let drafts = query_all(store, Query::status_index(&ipk_draft)).await.unwrap();
    assert_eq!(order(drafts), ["y", "z"]);
    let done = query_all(store, Query::status_index(&ipk_done)).await.unwrap();
    assert_eq!(order(done), ["x"]);
    // Dropping the index key removes it from the index.
    let current = store.get(&Key::new(&pk, "y")).await.unwrap().unwrap();
    let mut unindexed = current.item.clone();
    unindexed.index = None;
    store.put(unindexed, Expect::Any).await.unwrap();
    let dated = query_all(
        store,
        Query::status_index(&ipk_draft).range(SortRange::Between("2026-01-01".into(), "2026-01-04".into())),
    )
    .await
    .unwrap();
    assert_eq!(order(dated), ["z"]);
}

/// `count` matches what paging through the same query returns; `SortRange::To` bounds from above.
async fn counts_and_upper_bounds(store: &dyn StateStore) {
    let pk = prefix();
    let ipk = format!("{pk}#index");
    let mut items = Vec::new();
    for n in 0..7 {
        let mut it = item(&pk, &format!("k{n}"), n);
        if n % 2 == 0 {
            it.index = Some(IndexKey::new(&ipk, format!("i{n}")));
        }
        items.push(it);
    }
    store.put_many(items).await.unwrap();
    assert_eq!(store.count(&Query::partition(&pk)).await.unwrap(), 7);
    assert_eq!(
        store
            .count(&Query::partition(&pk).range(SortRange::To("k3".into())))
            .await
            .unwrap(),
        4
    );
    assert_eq!(store.count(&Query::status_index(&ipk)).await.unwrap(), 4);
    assert_eq!(
        store
            .count(&Query::status_index(&ipk).range(SortRange::Between("i2".into(), "i4".into())))
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.count(&Query::partition(prefix())).await.unwrap(), 0);
    let below: Vec<String> = query_all(
        store,
        Query::partition(&pk)
            .range(SortRange::To("k2".into()))
            .descending(),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|s| s.item.key.sk)
    .collect();
    assert_eq!(below, ["k2", "k1", "k0"]);

    // Pages of every size, both directions, bounded ranges: the same keys as one read.
    let sks = |items: Vec<crate::state::Stored>| -> Vec<String> {
        items.into_iter().map(|s| s.item.key.sk).collect()
    };
    let isks = |items: Vec<crate::state::Stored>| -> Vec<String> {
        items
            .into_iter()
            .filter_map(|s| s.item.index.map(|i| i.sk))
            .collect()
    };
    for limit in 1..4 {
        for descending in [false, true] {
            for range in [
                SortRange::All,
                SortRange::Prefix("k".into()),
                SortRange::Between("k1".into(), "k5".into()),
                SortRange::From("k4".into()),
                SortRange::To("k4".into()),
            ] {
                let mut q = Query::partition(&pk).range(range.clone()).limit(limit);
                let mut expected: Vec<String> = (0..7)
                    .map(|n| format!("k{n}"))
                    .filter(|k| range.contains(k))
                    .collect();
                if descending {
                    q = q.descending();
                    expected.reverse();
                }
                assert_eq!(
                    sks(query_all(store, q).await.unwrap()),
                    expected,
                    "{range:?} {limit} {descending}"
                );
                let mut q = Query::status_index(&ipk)
                    .range(SortRange::Between("i1".into(), "i6".into()))
                    .limit(limit);
                let mut expected = vec!["i2".to_owned(), "i4".into(), "i6".into()];
                if descending {
                    q = q.descending();
                    expected.reverse();
                }
                assert_eq!(isks(query_all(store, q).await.unwrap()), expected);
            }
        }
    }
}

async fn transactions(store: &dyn StateStore) {
    let pk = prefix();
    let v = store.put(item(&pk, "guard", 0), Expect::Absent).await.unwrap();
    store
        .transact(vec![
            Write::Check {
                key: Key::new(&pk, "guard"),
                expect: Expect::Version(v),
            },
            Write::Put {
                item: item(&pk, "a", 1),
                expect: Expect::Absent,
            },
            Write::Put {
                item: item(&pk, "b", 1),
                expect: Expect::Absent,
            },
        ])
        .await
        .unwrap();
    assert!(store.get(&Key::new(&pk, "a")).await.unwrap().is_some());
    let err = store
        .transact(vec![
            Write::Put {
                item: item(&pk, "c", 1),
                expect: Expect::Absent,
            },
            Write::Delete {
                key: Key::new(&pk, "a"),
                expect: Expect::Any,
            },
            Write::Put {
                item: item(&pk, "b", 2),
                expect: Expect::Absent,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TransactionConflict { .. }), "{err:?}");
    assert!(
        store.get(&Key::new(&pk, "c")).await.unwrap().is_none(),
        "nothing of a failed transaction is written"
    );
    assert!(store.get(&Key::new(&pk, "a")).await.unwrap().is_some());
    let b = store.get(&Key::new(&pk, "b")).await.unwrap().unwrap();
    assert_eq!((b.version, b.item.body), (Version(1), json!({ "n": 1 })));
    let dup = store
        .transact(vec![
            Write::Put {
                item: item(&pk, "d", 1),
                expect: Expect::Any,
            },
            Write::Put {
                item: item(&pk, "d", 2),
                expect: Expect::Any,
            },
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::Invalid(_)),
        "duplicate keys are refused: {dup:?}"
    );
}

async fn bulk_writes(store: &dyn StateStore) {
    let pk = prefix();
    let items: Vec<Item> = (0..60).map(|n| item(&pk, &format!("{n:03}"), n)).collect();
    store.put_many(items).await.unwrap();
    let all = query_all(store, Query::partition(&pk).limit(25)).await.unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(all[59].item.body, json!({ "n": 59 }));
    // Overwriting in bulk keeps versions moving.
    store.put_many(vec![item(&pk, "000", 100)]).await.unwrap();
    let first = store.get(&Key::new(&pk, "000")).await.unwrap().unwrap();
    assert_ne!(first.version, Version(1), "a bulk overwrite changes the version");
}

async fn limits(store: &dyn StateStore) {
    let pk = prefix();
    let big = Item {
        key: Key::new(&pk, "big"),
        index: None,
        expires_at: None,
        body: json!({ "blob": "x".repeat(crate::state::MAX_ITEM_BYTES + 1) }),
    };
    assert!(matches!(
        store.put(big, Expect::Any).await,
        Err(StoreError::ItemTooLarge { .. })
    ));
}

fn terms(now: i64, lease: i64, expiry: i64) -> ClaimTerms {
    ClaimTerms {
        now: Timestamp::from_millis(now),
        in_progress_until: Timestamp::from_millis(now + lease),
        expires_at: Timestamp::from_millis(now + expiry),
    }
}

fn acquired(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("expected Acquired, got {other:?}"),
    }
}

fn is_claim_lost(result: Result<(), StoreError>) -> bool {
    matches!(result, Err(StoreError::ClaimLost { .. }))
}

async fn idempotency(store: &dyn StateStore) {
    let key = IdempotencyKey(format!("{}#order-create", prefix()));
    let t0 = 1_800_000_000_000;
    let first = acquired(store.claim(&key, terms(t0, 1_000, 60_000)).await.unwrap());
    assert_eq!(
        store.claim(&key, terms(t0 + 10, 1_000, 60_000)).await.unwrap(),
        Claim::InProgress {
            until: Timestamp::from_millis(t0 + 1_000)
        }
    );
    // The holder crashed: once its lease is over, another invocation takes the work, with a new
    // token.
    let second = acquired(store.claim(&key, terms(t0 + 2_000, 1_000, 60_000)).await.unwrap());
    assert_ne!(first, second, "every acquisition gets a fresh token");
    store
        .complete(
            &key,
            &second,
            json!({ "increment_id": "000000042" }),
            Timestamp::from_millis(t0 + 60_000),
        )
        .await
        .unwrap();
    assert_eq!(
        store.claim(&key, terms(t0 + 5_000, 1_000, 60_000)).await.unwrap(),
        Claim::Completed(json!({ "increment_id": "000000042" }))
    );
    // Completed records expire by the condition, whether or not TTL deleted them.
    let third = acquired(
        store
            .claim(&key, terms(t0 + 61_000, 1_000, 60_000))
            .await
            .unwrap(),
    );
    store.release(&key, &third).await.unwrap();
    acquired(
        store
            .claim(&key, terms(t0 + 61_001, 1_000, 60_000))
            .await
            .unwrap(),
    );
}

/// Only the current holder completes, renews or releases a claim: a stale holder whose lease
/// passed and was taken over is refused ([`StoreError::ClaimLost`]) and leaves the new holder's
/// record as it is.
async fn fenced_claims(store: &dyn StateStore) {
    let key = IdempotencyKey(format!("{}#fenced", prefix()));
    let t0 = 1_800_000_000_000;
    let stale = acquired(store.claim(&key, terms(t0, 1_000, 60_000)).await.unwrap());
    let stranger = ClaimToken::fresh();
    let later = Timestamp::from_millis(t0 + 60_000);
    assert!(is_claim_lost(
        store.complete(&key, &stranger, json!(1), later).await
    ));
    assert!(is_claim_lost(store.release(&key, &stranger).await));
    assert!(is_claim_lost(
        store
            .renew(&key, &stranger, Timestamp::from_millis(t0 + 50_000))
            .await
    ));
    // Refused calls changed nothing.
    assert_eq!(
        store.claim(&key, terms(t0 + 10, 1_000, 60_000)).await.unwrap(),
        Claim::InProgress {
            until: Timestamp::from_millis(t0 + 1_000)
        }
    );
    // The holder renews its lease before a long action; nobody takes the work meanwhile.
    store
        .renew(&key, &stale, Timestamp::from_millis(t0 + 5_000))
        .await
        .unwrap();
    assert_eq!(
        store.claim(&key, terms(t0 + 2_000, 1_000, 60_000)).await.unwrap(),
        Claim::InProgress {
            until: Timestamp::from_millis(t0 + 5_000)
        }
    );
    // The lease passes; a new holder takes over; the stale holder wakes and is refused everything.
    let current = acquired(store.claim(&key, terms(t0 + 6_000, 1_000, 60_000)).await.unwrap());
    assert!(is_claim_lost(
        store
            .renew(&key, &stale, Timestamp::from_millis(t0 + 9_000))
            .await
    ));
    assert!(is_claim_lost(store.complete(&key, &stale, json!(1), later).await));
    assert!(is_claim_lost(store.release(&key, &stale).await));
    assert_eq!(
        store.claim(&key, terms(t0 + 6_010, 1_000, 60_000)).await.unwrap(),
        Claim::InProgress {
            until: Timestamp::from_millis(t0 + 7_000)
        },
        "the new holder's record survives the stale holder"
    );
    store
        .complete(&key, &current, json!({ "order_id": 7 }), later)
        .await
        .unwrap();
    // Even after completion, the stale holder cannot delete the completed record.
    assert!(is_claim_lost(store.release(&key, &stale).await));
    assert_eq!(
        store.claim(&key, terms(t0 + 8_000, 1_000, 60_000)).await.unwrap(),
        Claim::Completed(json!({ "order_id": 7 }))
    );
}

async fn concurrent_claims(store: Arc<dyn StateStore>) {
    let key = IdempotencyKey(format!("{}#race", prefix()));
    let t0 = 1_800_000_000_000;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.claim(&key, terms(t0, 30_000, 60_000)).await.unwrap() })
        })
        .collect();
    let mut acquired = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Claim::Acquired(_)) {
            acquired += 1;
        }
    }
    assert_eq!(acquired, 1, "exactly one concurrent claimant wins");
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Counter {
    pk: String,
    n: u32,
}

impl crate::Record for Counter {
    fn key(&self) -> Key {
        Key::new(&self.pk, "counter")
    }
}

async fn concurrent_updates(store: Arc<dyn StateStore>) {
    let pk = prefix();
    assert!(store.insert_new(&Counter { pk: pk.clone(), n: 0 }).await.unwrap());
    assert!(
        !store.insert_new(&Counter { pk: pk.clone(), n: 5 }).await.unwrap(),
        "insert_new never overwrites"
    );
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let key = Key::new(&pk, "counter");
            tokio::spawn(async move {
                store
                    .update::<Counter, (), _>(&key, |c| {
                        c.n += 1;
                        Ok(true)
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let c = store
        .load::<Counter>(&Key::new(&pk, "counter"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.record.n, 6, "no lost update under optimistic concurrency");
}

/// Runs every work-queue check. `queue` must be configured with at most 3 receives before
/// dead-lettering on [`QueueName::CatalogImport`] and [`QueueName::ListingMatch`], and must be
/// otherwise empty for those two queues.
pub async fn work_queue(queue: Arc<dyn WorkQueue>) {
    let q = queue.as_ref();
    drain(q, QueueName::CatalogImport).await;
    send_receive_delete(q).await;
    visibility_and_receive_count(q).await;
    dead_letter_after_max_receives(q).await;
    depth_and_redrive(q).await;
    batches(q).await;
    too_large(q).await;
}

async fn drain(q: &dyn WorkQueue, name: QueueName) {
    loop {
        let got = q.receive(name, 10, Duration::ZERO).await.unwrap();
        if got.is_empty() {
            return;
        }
        for d in got {
            q.delete(name, &d.receipt).await.unwrap();
        }
    }
}

async fn send_receive_delete(q: &dyn WorkQueue) {
    let name = QueueName::CatalogImport;
    let body = format!("hello {}", prefix());
    q.send(name, OutgoingMessage::new(&body)).await.unwrap();
    let got = q.receive(name, 10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, body);
    assert_eq!(got[0].receive_count, 1);
    assert!(!got[0].message_id.is_empty());
    assert!(
        q.receive(name, 10, Duration::ZERO).await.unwrap().is_empty(),
        "in flight messages are hidden"
    );
    q.delete(name, &got[0].receipt).await.unwrap();
    q.change_visibility(name, &got[0].receipt, Duration::ZERO)
        .await
        .ok();
    assert!(
        q.receive(name, 10, Duration::ZERO).await.unwrap().is_empty(),
        "deleted messages never return"
    );
}

async fn visibility_and_receive_count(q: &dyn WorkQueue) {
    let name = QueueName::CatalogImport;
    q.send(name, OutgoingMessage::new("again")).await.unwrap();
    let first = q.receive(name, 1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(first.len(), 1);
    q.change_visibility(name, &first[0].receipt, Duration::ZERO)
        .await
        .unwrap();
    let second = q.receive(name, 1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].receive_count, 2, "redelivery is counted");
    q.delete(name, &second[0].receipt).await.unwrap();
}

async fn dead_letter_after_max_receives(q: &dyn WorkQueue) {
    let name = QueueName::ListingMatch;
    drain(q, name).await;
    let body = format!("poison {}", prefix());
    q.send(name, OutgoingMessage::new(&body)).await.unwrap();
    let mut receives = 0;
    for _ in 0..10 {
        let got = q.receive(name, 1, Duration::from_millis(500)).await.unwrap();
        let Some(d) = got.into_iter().next() else { break };
        receives += 1;
        q.change_visibility(name, &d.receipt, Duration::ZERO)
            .await
            .unwrap();
    }
    assert!(
        (2..=3).contains(&receives),
        "dead-lettered after max receives, got {receives}"
    );
    let dead = q.dead_letters(name, 10).await.unwrap();
    assert!(
        dead.iter().any(|d| d.body == body),
        "the poison message waits in the DLQ"
    );
}

/// Depth counts waiting, in-flight and dead messages; a re-drive moves dead letters back as new.
async fn depth_and_redrive(q: &dyn WorkQueue) {
    let name = QueueName::ListingMatch;
    drain(q, name).await;
    let dead_before = q.depth(name).await.unwrap().dead_letters;
    assert!(
        dead_before >= 1,
        "the poison message of the dead-letter check is counted"
    );
    q.send(name, OutgoingMessage::new("one")).await.unwrap();
    q.send(name, OutgoingMessage::new("two")).await.unwrap();
    let depth = q.depth(name).await.unwrap();
    assert_eq!((depth.waiting, depth.in_flight), (2, 0), "{depth:?}");
    let got = q.receive(name, 1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(got.len(), 1);
    let depth = q.depth(name).await.unwrap();
    assert_eq!((depth.waiting, depth.in_flight), (1, 1), "{depth:?}");
    q.delete(name, &got[0].receipt).await.unwrap();
    drain(q, name).await;

    let dead: BTreeSet<String> = q
        .dead_letters(name, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.body)
        .collect();
    let moved = q.redrive(name, 100).await.unwrap();
    assert_eq!(moved as u64, dead_before);
    assert_eq!(q.depth(name).await.unwrap().dead_letters, 0);
    let mut back = BTreeSet::new();
    for _ in 0..10 {
        let got = q.receive(name, 10, Duration::from_millis(500)).await.unwrap();
        for d in &got {
            assert_eq!(
                d.receive_count, 1,
                "a re-driven message starts its receives again"
            );
            back.insert(d.body.clone());
            q.delete(name, &d.receipt).await.unwrap();
        }
        if back.len() >= dead.len() {
            break;
        }
    }
    assert!(
        dead.is_subset(&back),
        "every dead letter is back: {dead:?} vs {back:?}"
    );
    assert_eq!(q.redrive(name, 100).await.unwrap(), 0, "nothing left to move");
}

async fn batches(q: &dyn WorkQueue) {
    let name = QueueName::CatalogImport;
    let tag = prefix();
    let msgs: Vec<_> = (0..23)
        .map(|n| OutgoingMessage::new(format!("{tag}-{n}")))
        .collect();
    q.send_all(name, msgs).await.unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..20 {
        let got = q.receive(name, 10, Duration::from_millis(500)).await.unwrap();
        for d in &got {
            seen.insert(d.body.clone());
            q.delete(name, &d.receipt).await.unwrap();
        }
        if seen.len() == 23 {
            break;
        }
    }
    assert_eq!(seen.len(), 23, "every message of a batch send arrives");
}

async fn too_large(q: &dyn WorkQueue) {
    let err = q
        .send(
            QueueName::CatalogImport,
            OutgoingMessage::new("x".repeat(crate::queue::MAX_MESSAGE_BYTES + 1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::TooLarge { .. }), "{err:?}");
}
