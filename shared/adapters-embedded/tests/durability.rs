//! The embedded adapters keep everything across a restart of the process.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use ports::{
    Claim, ClaimTerms, Expect, IdempotencyKey, IndexKey, Item, Key, OutgoingMessage, Query, QueueName,
    QueueSettings, StateStore, SystemClock, Version, WorkQueue, query_all,
};
use serde_json::json;

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cm-durability-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn store_reopens_with_items_versions_index_and_claims() {
    let dir = tempdir();
    let key = IdempotencyKey("order-create#main#1".into());
    let terms = ClaimTerms {
        now: domain::Timestamp::from_millis(1_000),
        in_progress_until: domain::Timestamp::from_millis(60_000),
        expires_at: domain::Timestamp::from_millis(3_600_000),
    };
    {
        let store = EmbeddedStore::open(&dir).unwrap();
        let item = Item {
            key: Key::new("p", "a"),
            index: Some(IndexKey::new("p#draft", "1#a")),
            expires_at: None,
            body: json!({"v": 1}),
        };
        store.put(item.clone(), Expect::Absent).await.unwrap();
        store.put(item, Expect::Version(Version(1))).await.unwrap();
        store
            .put(
                Item {
                    key: Key::new("p", "gone"),
                    index: None,
                    expires_at: None,
                    body: json!(0),
                },
                Expect::Any,
            )
            .await
            .unwrap();
        store.delete(&Key::new("p", "gone"), Expect::Any).await.unwrap();
        assert!(matches!(
            store.claim(&key, terms).await.unwrap(),
            Claim::Acquired(_)
        ));
    }
    // A crash mid-write leaves a torn last line: it is ignored, not fatal.
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("state.jsonl"))
        .unwrap()
        .write_all(b"{\"op\":\"pu")
        .unwrap();
    let store = EmbeddedStore::open(&dir).unwrap();
    let a = store.get(&Key::new("p", "a")).await.unwrap().unwrap();
    assert_eq!(a.version, Version(2));
    assert!(store.get(&Key::new("p", "gone")).await.unwrap().is_none());
    assert_eq!(
        query_all(&store, Query::status_index("p#draft"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.claim(&key, terms).await.unwrap(),
        Claim::InProgress {
            until: terms.in_progress_until
        },
        "the claim survived the restart"
    );
}

#[tokio::test]
async fn queues_reopen_with_waiting_and_dead_messages() {
    let dir = tempdir();
    let settings: HashMap<_, _> = [(
        QueueName::OrderCreate,
        QueueSettings {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 1,
        },
    )]
    .into();
    {
        let q = EmbeddedQueues::open(&dir, settings.clone(), Arc::new(SystemClock)).unwrap();
        q.send(QueueName::OrderCreate, OutgoingMessage::new("poison"))
            .await
            .unwrap();
        let d = q
            .receive(QueueName::OrderCreate, 1, Duration::ZERO)
            .await
            .unwrap();
        q.change_visibility(QueueName::OrderCreate, &d[0].receipt, Duration::ZERO)
            .await
            .unwrap();
        assert!(
            q.receive(QueueName::OrderCreate, 1, Duration::ZERO)
                .await
                .unwrap()
                .is_empty(),
            "dead-lettered"
        );
        q.send(QueueName::OrderCreate, OutgoingMessage::new("po-1"))
            .await
            .unwrap();
    }
    let q = EmbeddedQueues::open(&dir, settings, Arc::new(SystemClock)).unwrap();
    let got = q
        .receive(QueueName::OrderCreate, 10, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(), ["po-1"]);
    let dead = q.dead_letters(QueueName::OrderCreate, 10).await.unwrap();
    assert_eq!(
        dead.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(),
        ["poison"]
    );
    assert!(matches!(
        q.send(QueueName::PriceSync, OutgoingMessage::new("x")).await,
        Err(ports::QueueError::UnknownQueue(QueueName::PriceSync))
    ));

    // A redrive brings the dead letter back as a fresh message, and that survives a restart too.
    q.delete(QueueName::OrderCreate, &got[0].receipt).await.unwrap();
    assert_eq!(q.redrive_dead_letters(QueueName::OrderCreate).unwrap(), 1);
    assert!(
        q.dead_letters(QueueName::OrderCreate, 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(q);
    let q = EmbeddedQueues::open(&dir, settings_again(), Arc::new(SystemClock)).unwrap();
    let back = q
        .receive(QueueName::OrderCreate, 10, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        back.iter()
            .map(|d| (d.body.as_str(), d.receive_count))
            .collect::<Vec<_>>(),
        [("poison", 1)]
    );
}

fn settings_again() -> HashMap<QueueName, QueueSettings> {
    [(
        QueueName::OrderCreate,
        QueueSettings {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 1,
        },
    )]
    .into()
}

/// Compaction leaves only the live items on disk: an earlier version holding a buyer's address is
/// gone from the journal, and so is an item whose TTL passed. The journal is owner-only.
#[tokio::test]
async fn compaction_forgets_earlier_versions_and_expired_items() {
    let dir = tempdir().join("state");
    let store = EmbeddedStore::open(&dir).unwrap();
    let key = Key::new("CH#main#ORDER#1", "ORDER");
    let item = |body| Item {
        key: key.clone(),
        index: None,
        expires_at: None,
        body,
    };
    store
        .put(item(json!({"ship_to": "Jane Doe, 1 Main St"})), Expect::Absent)
        .await
        .unwrap();
    store
        .put(item(json!({"ship_to": null})), Expect::Version(Version(1)))
        .await
        .unwrap();
    let expiring = Item {
        key: Key::new("CH#main#RETURN", "9"),
        index: None,
        expires_at: Some(domain::Timestamp::from_millis(5_000)),
        body: json!({"refunded": true}),
    };
    store.put(expiring, Expect::Absent).await.unwrap();
    let journal = dir.join("state.jsonl");
    assert!(std::fs::read_to_string(&journal).unwrap().contains("Jane Doe"));

    store.compact(domain::Timestamp::from_millis(4_000)).unwrap();
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains("Jane Doe"), "{text}");
    assert!(text.contains("refunded"), "not expired yet");
    store.compact(domain::Timestamp::from_millis(5_000)).unwrap();
    assert!(!std::fs::read_to_string(&journal).unwrap().contains("refunded"));
    assert!(
        store
            .get(&Key::new("CH#main#RETURN", "9"))
            .await
            .unwrap()
            .is_none()
    );

    // Still writable after compaction, and the state survives a reopen.
    store
        .put(
            item(json!({"ship_to": null, "n": 2})),
            Expect::Version(Version(2)),
        )
        .await
        .unwrap();
    drop(store);
    let reopened = EmbeddedStore::open(&dir).unwrap();
    let stored = reopened.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.version, Version(3));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&journal), 0o600);
    }
}
