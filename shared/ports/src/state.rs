//! The state store port: versioned items in one keyspace, a status index, transactions and
//! idempotency records.
//!
//! The model is DynamoDB's single-table design, small enough to implement faithfully in memory:
//! an item has a partition key and a sort key, an optional status-index key pair, an optional
//! expiry and a JSON body. Every write bumps a version; conditional writes compare it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use domain::Timestamp;

/// Largest item we write. DynamoDB's limit is 400 KB including attribute names; we keep headroom.
pub const MAX_ITEM_BYTES: usize = 380 * 1024;

/// Most writes in one transaction (DynamoDB's TransactWriteItems limit).
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// Primary key: partition and sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// Key in the status index (GSI1 in DynamoDB): a status bucket and an ordering key, usually a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

impl IndexKey {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// The attributes the status index projects besides its keys: what the store reads back from an
/// index query (the record, its version, its expiry). `adapters-aws` creates the index so and
/// `infra-checks` holds the template to it.
pub const STATUS_INDEX_ATTRIBUTES: [&str; 3] = ["body", "version", "expires_at"];

/// An item to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub key: Key,
    pub index: Option<IndexKey>,
    /// When the store may forget the item (epoch seconds in DynamoDB's TTL attribute). Readers must
    /// treat an expired item as absent themselves: TTL deletes late.
    pub expires_at: Option<Timestamp>,
    pub body: Value,
}

/// Version of a stored item: 1 after the first write, +1 on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version(pub u64);

/// An item as read, with its version for a later conditional write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub item: Item,
    pub version: Version,
}

/// The precondition of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Write whatever is there.
    Any,
    /// Only if no item has this key.
    Absent,
    /// Only if the item is at exactly this version (optimistic concurrency).
    Version(Version),
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        item: Item,
        expect: Expect,
    },
    Delete {
        key: Key,
        expect: Expect,
    },
    /// No write, only a condition the transaction depends on.
    Check {
        key: Key,
        expect: Expect,
    },
}

impl Write {
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } => key,
        }
    }
}

/// Which keys a query walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryTarget {
    /// Items with this partition key, ordered by sort key.
    Partition(String),
    /// Items with this status-index partition key, ordered by index sort key.
    StatusIndex(String),
}

/// Sort-key condition of a query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SortRange {
    #[default]
    All,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
    /// Inclusive.
    From(String),
    /// Inclusive upper bound.
    To(String),
}

impl SortRange {
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SortRange::All => true,
            SortRange::Prefix(p) => sk.starts_with(p.as_str()),
            SortRange::Between(lo, hi) => lo.as_str() <= sk && sk <= hi.as_str(),
            SortRange::From(lo) => lo.as_str() <= sk,
            SortRange::To(hi) => sk <= hi.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub target: QueryTarget,
    pub range: SortRange,
    /// Most items per page (the store may return fewer).
    pub limit: u32,
    pub descending: bool,
    /// Continue after this token from a previous page.
    pub after: Option<PageToken>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            target: QueryTarget::Partition(pk.into()),
            range: SortRange::All,
            limit: 100,
            descending: false,
            after: None,
        }
    }

    pub fn status_index(pk: impl Into<String>) -> Self {
        Self {
            target: QueryTarget::StatusIndex(pk.into()),
            range: SortRange::All,
            limit: 100,
            descending: false,
            after: None,
        }
    }

    pub fn range(mut self, range: SortRange) -> Self {
        self.range = range;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.max(1);
        self
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn after(mut self, token: Option<PageToken>) -> Self {
        self.after = token;
        self
    }
}

/// Opaque continuation of a query: the key of the last item returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Stored>,
    pub next: Option<PageToken>,
}

/// Proof of holding an idempotency claim: a fresh random id per acquisition. `complete`, `renew`
/// and `release` are conditioned on it, so a holder whose lease ran out and was taken over cannot
/// touch the new holder's record (fencing).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClaimToken(pub String);

impl ClaimToken {
    pub fn fresh() -> Self {
        use rand::RngExt;
        Self(format!("{:032x}", rand::rng().random::<u128>()))
    }
}

/// How an idempotency claim came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The caller owns the work now and must `complete` or `release` it with this token.
    Acquired(ClaimToken),
    /// The work was already done; here is its recorded result.
    Completed(Value),
    /// Someone else holds an unexpired claim, leased until `until`: retry after that.
    InProgress { until: Timestamp },
}

/// An idempotency record's key: a business key such as `order-create#<purchaseOrderId>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    pub fn new(operation: &str, channel: &domain::ChannelId, business_key: &str) -> Self {
        Self(format!("{operation}#{channel}#{business_key}"))
    }
}

/// Terms of an idempotency claim (Powertools' design).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimTerms {
    pub now: Timestamp,
    /// An in-progress claim older than this is abandoned (its holder crashed): usually the holder's
    /// Lambda deadline.
    pub in_progress_until: Timestamp,
    /// A completed record is honoured until then.
    pub expires_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write's precondition did not hold. `current` is the item's version now, if it exists.
    #[error("condition failed on {key:?} (current version {current:?})")]
    ConditionFailed { key: Key, current: Option<Version> },
    /// A transaction was cancelled because one of its conditions failed.
    #[error("transaction cancelled: condition failed on {keys:?}")]
    TransactionConflict { keys: Vec<Key> },
    #[error("item {key:?} is {bytes} bytes, over the {MAX_ITEM_BYTES}-byte limit")]
    ItemTooLarge { key: Key, bytes: usize },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("stored item {key:?} is corrupt: {reason}")]
    Corrupt { key: Key, reason: String },
    /// Throttling or a transient service fault; the caller may retry.
    #[error("state store temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("state store error: {0}")]
    Backend(String),
    /// `complete`, `renew` or `release` by a caller that no longer holds the claim: its lease ran
    /// out and another caller took it (or the record is gone). The caller must not act further.
    #[error("idempotency claim {key} is no longer held by this caller")]
    ClaimLost { key: String },
}

impl StoreError {
    pub fn is_condition_failure(&self) -> bool {
        matches!(
            self,
            StoreError::ConditionFailed { .. } | StoreError::TransactionConflict { .. }
        )
    }
}

/// Checks the limits every adapter enforces the same way.
pub fn check_item(item: &Item) -> Result<(), StoreError> {
    let bytes = item.key.pk.len()
        + item.key.sk.len()
        + item.index.as_ref().map_or(0, |i| i.pk.len() + i.sk.len())
        + serde_json::to_vec(&item.body).map_or(0, |v| v.len());
    if bytes > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge {
            key: item.key.clone(),
            bytes,
        });
    }
    if item.key.pk.is_empty() || item.key.sk.is_empty() {
        return Err(StoreError::Invalid(
            "partition and sort keys must not be empty".into(),
        ));
    }
    Ok(())
}

#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError>;

    /// Writes an item if `expect` holds; returns its new version.
    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError>;

    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError>;

    /// Reads one page of a partition or of the status index.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// How many items the query matches over all its pages (its `limit`, `after` and direction do
    /// not matter). For dashboards' counts; DynamoDB still reads every matching item (`Select:
    /// COUNT` only saves sending them), so it is not for operations. Wrappers may keep this
    /// default, which pages through `query`.
    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        let mut q = query.clone();
        q.after = None;
        q.limit = 1_000;
        let mut n = 0u64;
        loop {
            let page = self.query(&q).await?;
            n += page.items.len() as u64;
            match page.next {
                Some(next) => q.after = Some(next),
                None => return Ok(n),
            }
        }
    }

    /// All-or-nothing writes (at most [`MAX_TRANSACTION_ITEMS`], distinct keys).
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Unconditional bulk writes, for imports. Not atomic as a whole; each item is written at most
    /// once and all are written when this returns Ok.
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError>;

    /// Claims the idempotency record `key` (see the exemplars' Powertools design). An acquisition
    /// carries a fresh [`ClaimToken`].
    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError>;

    /// Marks a claimed record completed with its result; only by the current holder
    /// ([`StoreError::ClaimLost`] otherwise).
    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Moves the holder's lease to `in_progress_until` (before an action that may outlast the
    /// lease); only by the current holder ([`StoreError::ClaimLost`] otherwise).
    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError>;

    /// Gives a claim back after a failure, so the work can be tried again; only by the current
    /// holder ([`StoreError::ClaimLost`] otherwise).
    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError>;
}

/// Reads every page of a query. For bounded partitions (a channel's feeds, an order's records).
pub async fn query_all(store: &dyn StateStore, query: Query) -> Result<Vec<Stored>, StoreError> {
    let mut out = Vec::new();
    let mut q = query;
    loop {
        let page = store.query(&q).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => q.after = Some(next),
            None => return Ok(out),
        }
    }
}
