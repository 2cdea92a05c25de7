//! A state store decorator that notes, in scenario time, when each record of a watched partition
//! was first written. Records do not all carry their creation time (a listing keeps only the time of
//! its latest status change), and the demo's latencies need it: "product selected → listing in
//! Channel Manager" ends when the listing is first written. It also notes which partitions each
//! operation reads and writes (the engine runs every invocation inside [`OPERATION`]), so a test can
//! hold the deployed roles' key conditions to what the code really touches. Pure observation; every
//! call goes to the store unchanged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::{Operation, Timestamp};
use ports::{
    Claim, ClaimTerms, ClaimToken, Clock, Expect, IdempotencyKey, Item, Key, Page, Query, QueryTarget,
    StateStore, StoreError, Version, Write,
};
use serde_json::Value;

tokio::task_local! {
    /// The operation an invocation runs for: the engine scopes every invocation's task with it.
    pub static OPERATION: Operation;
}

/// Partition keys (table or status index; `IDEMPOTENCY#{key}` for claims) each operation touched.
pub type PartitionsByOperation = BTreeMap<Operation, BTreeSet<String>>;

pub struct ObservedStore {
    inner: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    /// Partition keys whose records are watched.
    watched: Vec<String>,
    first_written: Mutex<HashMap<Key, Timestamp>>,
    touched: Mutex<PartitionsByOperation>,
}

impl ObservedStore {
    pub fn new(inner: Arc<dyn StateStore>, clock: Arc<dyn Clock>, watched: Vec<String>) -> Self {
        Self {
            inner,
            clock,
            watched,
            first_written: Mutex::new(HashMap::new()),
            touched: Mutex::new(BTreeMap::new()),
        }
    }

    /// Notes `partition` under the operation of the running invocation (none outside one).
    fn touch(&self, partition: &str) {
        if let Ok(op) = OPERATION.try_with(|op| *op) {
            self.touched
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(op)
                .or_default()
                .insert(partition.to_owned());
        }
    }

    /// Every partition each operation touched so far.
    pub fn partitions_by_operation(&self) -> PartitionsByOperation {
        self.touched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn note<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) {
        let now = self.clock.now();
        let mut seen = self
            .first_written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for key in keys {
            if self.watched.contains(&key.pk) {
                seen.entry(key.clone()).or_insert(now);
            }
        }
    }

    /// When the record at `key` was first written through this store (since the process started).
    pub fn first_written(&self, key: &Key) -> Option<Timestamp> {
        self.first_written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .copied()
    }
}

#[async_trait]
impl StateStore for ObservedStore {
    async fn get(&self, key: &Key) -> Result<Option<ports::Stored>, StoreError> {
        crate::chaos::kill_point().await;
        self.touch(&key.pk);
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError> {
        crate::chaos::kill_point().await;
        let key = item.key.clone();
        self.touch(&key.pk);
        let version = self.inner.put(item, expect).await?;
        self.note([&key]);
        Ok(version)
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError> {
        crate::chaos::kill_point().await;
        self.touch(&key.pk);
        self.inner.delete(key, expect).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        crate::chaos::kill_point().await;
        match &query.target {
            QueryTarget::Partition(pk) | QueryTarget::StatusIndex(pk) => self.touch(pk),
        }
        self.inner.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        crate::chaos::kill_point().await;
        let keys: Vec<Key> = writes
            .iter()
            .filter(|w| matches!(w, Write::Put { .. }))
            .map(|w| w.key().clone())
            .collect();
        for w in &writes {
            self.touch(&w.key().pk);
        }
        self.inner.transact(writes).await?;
        self.note(&keys);
        Ok(())
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        crate::chaos::kill_point().await;
        let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
        for key in &keys {
            self.touch(&key.pk);
        }
        self.inner.put_many(items).await?;
        self.note(&keys);
        Ok(())
    }

    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError> {
        crate::chaos::kill_point().await;
        self.touch(&format!("IDEMPOTENCY#{}", key.0));
        self.inner.claim(key, terms).await
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        crate::chaos::kill_point().await;
        self.touch(&format!("IDEMPOTENCY#{}", key.0));
        self.inner.complete(key, token, result, expires_at).await
    }

    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError> {
        crate::chaos::kill_point().await;
        self.touch(&format!("IDEMPOTENCY#{}", key.0));
        self.inner.renew(key, token, in_progress_until).await
    }

    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError> {
        crate::chaos::kill_point().await;
        self.touch(&format!("IDEMPOTENCY#{}", key.0));
        self.inner.release(key, token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters_embedded::EmbeddedStore;
    use ports::ManualClock;
    use serde_json::json;

    fn item(pk: &str, sk: &str) -> Item {
        Item {
            key: Key::new(pk, sk),
            index: None,
            expires_at: None,
            body: json!({}),
        }
    }

    #[tokio::test]
    async fn first_writes_of_watched_partitions_are_noted_in_clock_time() {
        let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_000)));
        let store = ObservedStore::new(
            Arc::new(EmbeddedStore::in_memory()),
            clock.clone(),
            vec!["CH#main#LISTING".into()],
        );
        store
            .put(item("CH#main#LISTING", "A"), Expect::Any)
            .await
            .unwrap();
        store.put(item("CH#main#OTHER", "A"), Expect::Any).await.unwrap();
        clock.advance(std::time::Duration::from_secs(1));
        store
            .put_many(vec![item("CH#main#LISTING", "A"), item("CH#main#LISTING", "B")])
            .await
            .unwrap();
        let failed = store
            .put(item("CH#main#LISTING", "C"), Expect::Version(Version(9)))
            .await;
        assert!(failed.is_err());
        store
            .transact(vec![Write::Put {
                item: item("CH#main#LISTING", "D"),
                expect: Expect::Absent,
            }])
            .await
            .unwrap();
        let at = |sk: &str| store.first_written(&Key::new("CH#main#LISTING", sk));
        assert_eq!(at("A"), Some(Timestamp::from_millis(1_000)));
        assert_eq!(at("B"), Some(Timestamp::from_millis(2_000)));
        assert_eq!(at("C"), None, "a refused write is not a write");
        assert_eq!(at("D"), Some(Timestamp::from_millis(2_000)));
        assert_eq!(store.first_written(&Key::new("CH#main#OTHER", "A")), None);
        assert!(
            store
                .get(&Key::new("CH#main#OTHER", "A"))
                .await
                .unwrap()
                .is_some()
        );
    }
}
