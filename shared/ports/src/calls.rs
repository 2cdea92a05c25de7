//! The state store's and the work queue's methods as values, so an operation can declare which it uses
//! (`operations::declared`), an adapter can say what each needs from its backend
//! (`adapters_aws::dynamodb::iam_actions`), and the deployment's permissions follow from both.
//! [`RecordingStore`] records the calls an operation really makes, to keep the declarations honest.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde_json::Value;

use domain::Timestamp;

use crate::state::{
    Claim, ClaimTerms, ClaimToken, Expect, IdempotencyKey, Item, Key, Page, Query, StateStore, StoreError,
    Stored, Version, Write,
};

/// One [`StateStore`] method; a transaction counts once per kind of write it carries, since each
/// kind needs its own permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreCall {
    Get,
    Put,
    Delete,
    Query,
    /// A [`Write::Put`] inside `transact`.
    TransactPut,
    /// A [`Write::Delete`] inside `transact`.
    TransactDelete,
    /// A [`Write::Check`] inside `transact`.
    TransactCheck,
    PutMany,
    Claim,
    Complete,
    Renew,
    Release,
}

impl StoreCall {
    pub const ALL: [StoreCall; 12] = [
        StoreCall::Get,
        StoreCall::Put,
        StoreCall::Delete,
        StoreCall::Query,
        StoreCall::TransactPut,
        StoreCall::TransactDelete,
        StoreCall::TransactCheck,
        StoreCall::PutMany,
        StoreCall::Claim,
        StoreCall::Complete,
        StoreCall::Renew,
        StoreCall::Release,
    ];

    /// The method as written in code (`transact(Write::Check)` for a transaction's kind of write).
    pub fn as_str(self) -> &'static str {
        match self {
            StoreCall::Get => "get",
            StoreCall::Put => "put",
            StoreCall::Delete => "delete",
            StoreCall::Query => "query",
            StoreCall::TransactPut => "transact(Write::Put)",
            StoreCall::TransactDelete => "transact(Write::Delete)",
            StoreCall::TransactCheck => "transact(Write::Check)",
            StoreCall::PutMany => "put_many",
            StoreCall::Claim => "claim",
            StoreCall::Complete => "complete",
            StoreCall::Renew => "renew",
            StoreCall::Release => "release",
        }
    }

    fn of_write(write: &Write) -> Self {
        match write {
            Write::Put { .. } => StoreCall::TransactPut,
            Write::Delete { .. } => StoreCall::TransactDelete,
            Write::Check { .. } => StoreCall::TransactCheck,
        }
    }
}

impl std::fmt::Display for StoreCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One [`crate::WorkQueue`] method, for the permissions its adapter needs to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueCall {
    Send,
    SendAll,
    Receive,
    Delete,
    ChangeVisibility,
    DeadLetters,
    /// [`crate::WorkQueue::depth`].
    Depth,
    /// [`crate::WorkQueue::redrive`].
    Redrive,
}

impl QueueCall {
    /// The methods operations use to hand work to another function's queue.
    pub const SENDING: [QueueCall; 2] = [QueueCall::Send, QueueCall::SendAll];
}

/// Records which methods are called on the store it wraps; otherwise changes nothing.
pub struct RecordingStore {
    inner: Arc<dyn StateStore>,
    calls: Mutex<BTreeSet<StoreCall>>,
}

impl RecordingStore {
    pub fn new(inner: Arc<dyn StateStore>) -> Self {
        Self {
            inner,
            calls: Mutex::new(BTreeSet::new()),
        }
    }

    /// The methods called since the last [`RecordingStore::take`].
    pub fn take(&self) -> BTreeSet<StoreCall> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, call: StoreCall) {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(call);
    }
}

#[async_trait]
impl StateStore for RecordingStore {
    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        self.record(StoreCall::Get);
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError> {
        self.record(StoreCall::Put);
        self.inner.put(item, expect).await
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError> {
        self.record(StoreCall::Delete);
        self.inner.delete(key, expect).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.record(StoreCall::Query);
        self.inner.query(query).await
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        self.record(StoreCall::Query);
        self.inner.count(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        for write in &writes {
            self.record(StoreCall::of_write(write));
        }
        self.inner.transact(writes).await
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.record(StoreCall::PutMany);
        self.inner.put_many(items).await
    }

    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError> {
        self.record(StoreCall::Claim);
        self.inner.claim(key, terms).await
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.record(StoreCall::Complete);
        self.inner.complete(key, token, result, expires_at).await
    }

    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.record(StoreCall::Renew);
        self.inner.renew(key, token, in_progress_until).await
    }

    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.record(StoreCall::Release);
        self.inner.release(key, token).await
    }
}
