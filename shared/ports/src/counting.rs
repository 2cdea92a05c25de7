//! A state store decorator that counts what passes through it, for benchmarks and tests that want
//! to hold an operation to a number of reads and writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use domain::Timestamp;

use crate::state::{
    Claim, ClaimTerms, ClaimToken, Expect, IdempotencyKey, Item, Key, Page, Query, StateStore, StoreError,
    Version, Write,
};

/// Counters of one [`CountingStore`], as a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    /// `get` calls.
    pub gets: u64,
    /// `query` calls (one per page).
    pub queries: u64,
    /// Items returned by gets and queries.
    pub items_read: u64,
    /// Single-item `put` and `delete` calls.
    pub single_writes: u64,
    /// Items written by `put_many` (DynamoDB batch writes of 25).
    pub batch_items: u64,
    /// Writes (and checks) inside transactions.
    pub transaction_items: u64,
    /// `claim`, `complete`, `renew` and `release` calls.
    pub idempotency_calls: u64,
}

impl StoreCounts {
    /// Read requests: gets and query pages.
    pub fn reads(&self) -> u64 {
        self.gets + self.queries
    }

    /// Items written, however they were sent.
    pub fn writes(&self) -> u64 {
        self.single_writes + self.batch_items + self.transaction_items + self.idempotency_calls
    }
}

#[derive(Default)]
struct Counters {
    gets: AtomicU64,
    queries: AtomicU64,
    items_read: AtomicU64,
    single_writes: AtomicU64,
    batch_items: AtomicU64,
    transaction_items: AtomicU64,
    idempotency_calls: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Counts the calls made to the store it wraps; otherwise changes nothing.
pub struct CountingStore {
    inner: Arc<dyn StateStore>,
    counters: Counters,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn StateStore>) -> Self {
        Self {
            inner,
            counters: Counters::default(),
        }
    }

    pub fn counts(&self) -> StoreCounts {
        let c = &self.counters;
        StoreCounts {
            gets: c.gets.load(Ordering::Relaxed),
            queries: c.queries.load(Ordering::Relaxed),
            items_read: c.items_read.load(Ordering::Relaxed),
            single_writes: c.single_writes.load(Ordering::Relaxed),
            batch_items: c.batch_items.load(Ordering::Relaxed),
            transaction_items: c.transaction_items.load(Ordering::Relaxed),
            idempotency_calls: c.idempotency_calls.load(Ordering::Relaxed),
        }
    }

    /// Sets every counter back to zero (between benchmark phases).
    pub fn reset(&self) {
        let c = &self.counters;
        for counter in [
            &c.gets,
            &c.queries,
            &c.items_read,
            &c.single_writes,
            &c.batch_items,
            &c.transaction_items,
            &c.idempotency_calls,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

#[async_trait]
impl StateStore for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<crate::state::Stored>, StoreError> {
        bump(&self.counters.gets, 1);
        let found = self.inner.get(key).await?;
        bump(&self.counters.items_read, u64::from(found.is_some()));
        Ok(found)
    }

    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError> {
        bump(&self.counters.single_writes, 1);
        self.inner.put(item, expect).await
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError> {
        bump(&self.counters.single_writes, 1);
        self.inner.delete(key, expect).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        bump(&self.counters.queries, 1);
        let page = self.inner.query(query).await?;
        bump(&self.counters.items_read, page.items.len() as u64);
        Ok(page)
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        bump(&self.counters.queries, 1);
        self.inner.count(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        bump(&self.counters.transaction_items, writes.len() as u64);
        self.inner.transact(writes).await
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        bump(&self.counters.batch_items, items.len() as u64);
        self.inner.put_many(items).await
    }

    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError> {
        bump(&self.counters.idempotency_calls, 1);
        self.inner.claim(key, terms).await
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        bump(&self.counters.idempotency_calls, 1);
        self.inner.complete(key, token, result, expires_at).await
    }

    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError> {
        bump(&self.counters.idempotency_calls, 1);
        self.inner.renew(key, token, in_progress_until).await
    }

    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError> {
        bump(&self.counters.idempotency_calls, 1);
        self.inner.release(key, token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// The smallest store that answers: enough to see the counters move.
    #[derive(Default)]
    struct MapStore(Mutex<BTreeMap<Key, Item>>);

    #[async_trait]
    impl StateStore for MapStore {
        async fn get(&self, key: &Key) -> Result<Option<crate::state::Stored>, StoreError> {
            let map = self.0.lock().map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok(map.get(key).map(|item| crate::state::Stored {
                item: item.clone(),
                version: Version(1),
            }))
        }
        async fn put(&self, item: Item, _: Expect) -> Result<Version, StoreError> {
            let mut map = self.0.lock().map_err(|e| StoreError::Backend(e.to_string()))?;
            map.insert(item.key.clone(), item);
            Ok(Version(1))
        }
        async fn delete(&self, key: &Key, _: Expect) -> Result<(), StoreError> {
            let mut map = self.0.lock().map_err(|e| StoreError::Backend(e.to_string()))?;
            map.remove(key);
            Ok(())
        }
        async fn query(&self, _: &Query) -> Result<Page, StoreError> {
            Ok(Page {
                items: Vec::new(),
                next: None,
            })
        }
        async fn transact(&self, _: Vec<Write>) -> Result<(), StoreError> {
            Ok(())
        }
        async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
            for item in items {
                self.put(item, Expect::Any).await?;
            }
            Ok(())
        }
        async fn claim(&self, _: &IdempotencyKey, _: ClaimTerms) -> Result<Claim, StoreError> {
            Ok(Claim::Acquired(ClaimToken::fresh()))
        }
        async fn complete(
            &self,
            _: &IdempotencyKey,
            _: &ClaimToken,
            _: Value,
            _: Timestamp,
        ) -> Result<(), StoreError> {
            Ok(())
        }
        async fn renew(&self, _: &IdempotencyKey, _: &ClaimToken, _: Timestamp) -> Result<(), StoreError> {
            Ok(())
        }
        async fn release(&self, _: &IdempotencyKey, _: &ClaimToken) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn item(sk: &str) -> Item {
        Item {
            key: Key::new("P", sk),
            index: None,
            expires_at: None,
            body: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn counts_reads_and_writes_and_resets() {
        let store = CountingStore::new(Arc::new(MapStore::default()));
        store.put(item("a"), Expect::Any).await.unwrap();
        store.put_many(vec![item("b"), item("c")]).await.unwrap();
        assert!(store.get(&Key::new("P", "a")).await.unwrap().is_some());
        assert!(store.get(&Key::new("P", "z")).await.unwrap().is_none());
        store.query(&Query::partition("P")).await.unwrap();
        let counts = store.counts();
        assert_eq!(counts.reads(), 3);
        assert_eq!(counts.items_read, 1);
        assert_eq!(counts.writes(), 3);
        store.reset();
        assert_eq!(store.counts(), StoreCounts::default());
    }
}
