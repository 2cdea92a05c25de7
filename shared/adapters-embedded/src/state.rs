//! The embedded state store: the same semantics as the DynamoDB adapter (versions, conditions,
//! status index, transactions, idempotency), in memory, journaled to disk when given a directory.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use domain::Timestamp;
use ports::state::check_item;
use ports::{
    Claim, ClaimTerms, ClaimToken, Expect, IdempotencyKey, IndexKey, Item, Key, Page, PageToken, Query,
    QueryTarget, SortRange, StateStore, StoreError, Stored, Version, Write,
};

use crate::journal::{Journal, JournalError};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Entry {
    Put { stored: Stored },
    Delete { key: Key },
}

#[derive(Default)]
struct Tables {
    items: BTreeMap<Key, Stored>,
    /// (index pk, index sk, pk, sk): the status index, kept in step with `items`.
    index: BTreeSet<(String, String, String, String)>,
}

impl Tables {
    fn version_of(&self, key: &Key) -> Option<Version> {
        self.items.get(key).map(|s| s.version)
    }

    fn holds(&self, key: &Key, expect: Expect) -> bool {
        match expect {
            Expect::Any => true,
            Expect::Absent => !self.items.contains_key(key),
            Expect::Version(v) => self.version_of(key) == Some(v),
        }
    }

    fn apply(&mut self, entry: &Entry) {
        match entry {
            Entry::Put { stored } => {
                self.unindex(&stored.item.key);
                if let Some(ix) = &stored.item.index {
                    let k = &stored.item.key;
                    self.index
                        .insert((ix.pk.clone(), ix.sk.clone(), k.pk.clone(), k.sk.clone()));
                }
                self.items.insert(stored.item.key.clone(), stored.clone());
            }
            Entry::Delete { key } => {
                self.unindex(key);
                self.items.remove(key);
            }
        }
    }

    fn unindex(&mut self, key: &Key) {
        if let Some(IndexKey { pk, sk }) = self.items.get(key).and_then(|s| s.item.index.clone()) {
            self.index.remove(&(pk, sk, key.pk.clone(), key.sk.clone()));
        }
    }

    fn next_version(&self, key: &Key) -> Version {
        Version(self.version_of(key).map_or(1, |v| v.0 + 1))
    }
}

struct Inner {
    tables: Tables,
    journal: Option<Journal>,
}

impl Inner {
    /// Applies and journals one change. The journal is written first: a change that could not be
    /// made durable is not made at all.
    fn commit(&mut self, entries: Vec<Entry>) -> Result<(), StoreError> {
        if let Some(j) = &mut self.journal {
            for e in &entries {
                j.append(e).map_err(|e| StoreError::Backend(e.to_string()))?;
            }
        }
        for e in &entries {
            self.tables.apply(e);
        }
        Ok(())
    }
}

/// State store for one machine. Cheap to share behind an `Arc`.
pub struct EmbeddedStore {
    inner: Mutex<Inner>,
}

const JOURNAL_FILE: &str = "state.jsonl";

impl EmbeddedStore {
    /// A store that lives only as long as the process.
    pub fn in_memory() -> Self {
        Self {
            inner: Mutex::new(Inner {
                tables: Tables::default(),
                journal: None,
            }),
        }
    }

    /// A store kept in `dir`: reopened with everything it held.
    pub fn open(dir: &Path) -> Result<Self, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let mut tables = Tables::default();
        for e in Journal::replay::<Entry>(&path)? {
            tables.apply(&e);
        }
        let live: Vec<Entry> = tables
            .items
            .values()
            .map(|s| Entry::Put { stored: s.clone() })
            .collect();
        let journal = Journal::compact(&path, live)?;
        Ok(Self {
            inner: Mutex::new(Inner {
                tables,
                journal: Some(journal),
            }),
        })
    }

    /// Deletes what the table's TTL would have deleted by `now` (items whose `expires_at` passed)
    /// and rewrites the journal to the live items only, so earlier versions (an order record as
    /// imported, with the buyer's address) no longer lie on disk. The runner calls it when a run
    /// ends.
    pub fn compact(&self, now: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let expired: Vec<Key> = inner
            .tables
            .items
            .values()
            .filter(|s| s.item.expires_at.is_some_and(|at| at <= now))
            .map(|s| s.item.key.clone())
            .collect();
        for key in expired {
            inner.tables.apply(&Entry::Delete { key });
        }
        if let Some(journal) = &inner.journal {
            let path = journal.path().to_owned();
            let live: Vec<Entry> = inner
                .tables
                .items
                .values()
                .map(|s| Entry::Put { stored: s.clone() })
                .collect();
            inner.journal =
                Some(Journal::compact(&path, live).map_err(|e| StoreError::Backend(e.to_string()))?);
        }
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Backend("embedded store lock poisoned".into()))
    }

    /// Number of items held (for the local runner's summary).
    pub fn len(&self) -> usize {
        self.lock().map_or(0, |g| g.tables.items.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn idempotency_key(key: &IdempotencyKey) -> Key {
    Key::new(format!("IDEMPOTENCY#{}", key.0), "IDEMPOTENCY")
}

/// Idempotency record body, as the Powertools design lays it out.
#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyRecord {
    status: String,
    /// Epoch ms after which the record no longer counts.
    expiration: i64,
    in_progress_expiration: i64,
    data: Value,
    /// The holder's [`ClaimToken`] (absent in records written before claims were fenced).
    #[serde(default)]
    token: Option<String>,
}

/// The sort-key bounds of a range, as `Bound`s of the sort key alone: an inclusive upper bound `hi`
/// becomes "below `hi` followed by NUL", which every key up to `hi` (and no key above it) is; a
/// prefix is bounded above by the prefix with its last character incremented.
fn sort_bounds(range: &SortRange) -> (Option<Bound<String>>, Option<Bound<String>>) {
    let through = |hi: &str| Bound::Excluded(format!("{hi}\0"));
    match range {
        SortRange::All => (None, None),
        SortRange::Prefix(p) => (
            Some(Bound::Included(p.clone())),
            prefix_end(p).map(Bound::Excluded),
        ),
        SortRange::Between(lo, hi) => (Some(Bound::Included(lo.clone())), Some(through(hi))),
        SortRange::From(lo) => (Some(Bound::Included(lo.clone())), None),
        SortRange::To(hi) => (None, Some(through(hi))),
    }
}

/// The smallest string above every string starting with `prefix` (`None`: there is none).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => 0xE000,
            n => n,
        };
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Whether a range with these bounds can hold anything (`BTreeMap::range` panics otherwise).
fn bounds_ordered<T: Ord>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l <= u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l < u,
        _ => true,
    }
}

fn decode_token(token: &PageToken) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&token.0).map_err(|e| StoreError::Invalid(format!("bad page token: {e}")))
}

#[async_trait]
impl StateStore for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        Ok(self.lock()?.tables.items.get(key).cloned())
    }

    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError> {
        check_item(&item)?;
        let mut g = self.lock()?;
        if !g.tables.holds(&item.key, expect) {
            return Err(StoreError::ConditionFailed {
                current: g.tables.version_of(&item.key),
                key: item.key,
            });
        }
        let version = g.tables.next_version(&item.key);
        g.commit(vec![Entry::Put {
            stored: Stored { item, version },
        }])?;
        Ok(version)
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError> {
        let mut g = self.lock()?;
        if !g.tables.holds(key, expect) {
            return Err(StoreError::ConditionFailed {
                key: key.clone(),
                current: g.tables.version_of(key),
            });
        }
        if g.tables.items.contains_key(key) {
            g.commit(vec![Entry::Delete { key: key.clone() }])?;
        }
        Ok(())
    }

    /// Walks only the keys the query can return: the partition's (or index partition's) sort-key
    /// range, continued after the token, in either direction, so a page costs its own size and not
    /// the partition's.
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let g = self.lock()?;
        let after = query.after.as_ref().map(decode_token).transpose()?;
        let limit = query.limit.max(1) as usize;
        let (lo, hi) = sort_bounds(&query.range);
        let mut items = Vec::new();
        let mut last: Option<Vec<String>> = None;
        let mut more = false;
        match &query.target {
            QueryTarget::Partition(pk) => {
                let key = |sk: String| Key::new(pk.clone(), sk);
                let mut lower = lo.map_or(Bound::Included(key(String::new())), |b| b.map(key));
                let mut upper = hi.map_or(Bound::Excluded(Key::new(format!("{pk}\0"), String::new())), |b| {
                    b.map(key)
                });
                if let Some(a) = after.as_ref().and_then(|a| a.first()) {
                    if query.descending {
                        upper = Bound::Excluded(key(a.clone()));
                    } else {
                        lower = Bound::Excluded(key(a.clone()));
                    }
                }
                if !bounds_ordered(&lower, &upper) {
                    return Ok(Page { items, next: None });
                }
                let range = g.tables.items.range((lower, upper));
                let candidates: Box<dyn Iterator<Item = (&Key, &Stored)>> = if query.descending {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                for (k, stored) in candidates {
                    if !query.range.contains(&k.sk) {
                        continue;
                    }
                    if items.len() == limit {
                        more = true;
                        break;
                    }
                    last = Some(vec![k.sk.clone()]);
                    items.push(stored.clone());
                }
            }
            QueryTarget::StatusIndex(ipk) => {
                let entry = |isk: String| (ipk.clone(), isk, String::new(), String::new());
                let mut lower = lo.map_or(Bound::Included(entry(String::new())), |b| b.map(entry));
                let mut upper = hi.map_or(
                    Bound::Excluded((format!("{ipk}\0"), String::new(), String::new(), String::new())),
                    |b| b.map(entry),
                );
                if let Some([isk, pk, sk]) = after.as_deref() {
                    let position = (ipk.clone(), isk.clone(), pk.clone(), sk.clone());
                    if query.descending {
                        upper = Bound::Excluded(position);
                    } else {
                        lower = Bound::Excluded(position);
                    }
                }
                if !bounds_ordered(&lower, &upper) {
                    return Ok(Page { items, next: None });
                }
                let range = g.tables.index.range((lower, upper));
                let candidates: Box<dyn Iterator<Item = &(String, String, String, String)>> =
                    if query.descending {
                        Box::new(range.rev())
                    } else {
                        Box::new(range)
                    };
                for (_, isk, pk, sk) in candidates {
                    if !query.range.contains(isk) {
                        continue;
                    }
                    if items.len() == limit {
                        more = true;
                        break;
                    }
                    if let Some(stored) = g.tables.items.get(&Key::new(pk.clone(), sk.clone())) {
                        items.push(stored.clone());
                    }
                    last = Some(vec![isk.clone(), pk.clone(), sk.clone()]);
                }
            }
        }
        let next = match (more, last) {
            (true, Some(pos)) => Some(PageToken(json!(pos).to_string())),
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        let g = self.lock()?;
        let n = match &query.target {
            QueryTarget::Partition(pk) => g
                .tables
                .items
                .range(Key::new(pk.clone(), String::new())..)
                .take_while(|(k, _)| &k.pk == pk)
                .filter(|(k, _)| query.range.contains(&k.sk))
                .count(),
            QueryTarget::StatusIndex(ipk) => g
                .tables
                .index
                .range((ipk.clone(), String::new(), String::new(), String::new())..)
                .take_while(|e| &e.0 == ipk)
                .filter(|e| query.range.contains(&e.1))
                .count(),
        };
        Ok(n as u64)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.len() > ports::state::MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Invalid(format!(
                "{} writes in one transaction",
                writes.len()
            )));
        }
        let mut seen = HashSet::new();
        for w in &writes {
            if !seen.insert(w.key().clone()) {
                return Err(StoreError::Invalid(format!(
                    "{:?} appears twice in one transaction",
                    w.key()
                )));
            }
            if let Write::Put { item, .. } = w {
                check_item(item)?;
            }
        }
        let mut g = self.lock()?;
        let failed: Vec<Key> = writes
            .iter()
            .filter(|w| {
                let (Write::Put { expect, .. } | Write::Delete { expect, .. } | Write::Check { expect, .. }) =
                    w;
                !g.tables.holds(w.key(), *expect)
            })
            .map(|w| w.key().clone())
            .collect();
        if !failed.is_empty() {
            return Err(StoreError::TransactionConflict { keys: failed });
        }
        let entries = writes
            .into_iter()
            .filter_map(|w| match w {
                Write::Put { item, .. } => {
                    let version = g.tables.next_version(&item.key);
                    Some(Entry::Put {
                        stored: Stored { item, version },
                    })
                }
                Write::Delete { key, .. } => Some(Entry::Delete { key }),
                Write::Check { .. } => None,
            })
            .collect();
        g.commit(entries)
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for item in &items {
            check_item(item)?;
        }
        let mut g = self.lock()?;
        for item in items {
            // One by one, so a key repeated within the call still versions correctly.
            let version = g.tables.next_version(&item.key);
            g.commit(vec![Entry::Put {
                stored: Stored { item, version },
            }])?;
        }
        Ok(())
    }

    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError> {
        let item_key = idempotency_key(key);
        let mut g = self.lock()?;
        if let Some(rec) = idempotency_record(&g.tables, &item_key)? {
            let expired = rec.expiration < terms.now.millis();
            let abandoned = rec.status == "INPROGRESS" && rec.in_progress_expiration < terms.now.millis();
            if !expired && !abandoned {
                return Ok(if rec.status == "COMPLETED" {
                    Claim::Completed(rec.data)
                } else {
                    Claim::InProgress {
                        until: Timestamp::from_millis(rec.in_progress_expiration),
                    }
                });
            }
        }
        let token = ClaimToken::fresh();
        let record = IdempotencyRecord {
            status: "INPROGRESS".into(),
            expiration: terms.expires_at.millis(),
            in_progress_expiration: terms.in_progress_until.millis(),
            data: Value::Null,
            token: Some(token.0.clone()),
        };
        write_idempotency_record(&mut g, item_key, record, terms.expires_at)?;
        Ok(Claim::Acquired(token))
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let item_key = idempotency_key(key);
        let mut g = self.lock()?;
        held_record(&g.tables, &item_key, key, token)?;
        let record = IdempotencyRecord {
            status: "COMPLETED".into(),
            expiration: expires_at.millis(),
            in_progress_expiration: 0,
            data: result,
            token: Some(token.0.clone()),
        };
        write_idempotency_record(&mut g, item_key, record, expires_at)
    }

    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError> {
        let item_key = idempotency_key(key);
        let mut g = self.lock()?;
        let mut record = held_record(&g.tables, &item_key, key, token)?;
        record.in_progress_expiration = in_progress_until.millis();
        let expires_at = Timestamp::from_millis(record.expiration);
        write_idempotency_record(&mut g, item_key, record, expires_at)
    }

    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError> {
        let item_key = idempotency_key(key);
        let mut g = self.lock()?;
        held_record(&g.tables, &item_key, key, token)?;
        g.commit(vec![Entry::Delete { key: item_key }])
    }
}

fn idempotency_record(tables: &Tables, item_key: &Key) -> Result<Option<IdempotencyRecord>, StoreError> {
    tables
        .items
        .get(item_key)
        .map(|stored| {
            serde_json::from_value(stored.item.body.clone()).map_err(|e| StoreError::Corrupt {
                key: item_key.clone(),
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// The record, if `token` holds it (DynamoDB's `token = :token` condition).
fn held_record(
    tables: &Tables,
    item_key: &Key,
    key: &IdempotencyKey,
    token: &ClaimToken,
) -> Result<IdempotencyRecord, StoreError> {
    match idempotency_record(tables, item_key)? {
        Some(rec) if rec.token.as_deref() == Some(token.0.as_str()) => Ok(rec),
        _ => Err(StoreError::ClaimLost { key: key.0.clone() }),
    }
}

fn write_idempotency_record(
    g: &mut Inner,
    item_key: Key,
    record: IdempotencyRecord,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    let body = serde_json::to_value(record).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let version = g.tables.next_version(&item_key);
    let item = Item {
        key: item_key,
        index: None,
        expires_at: Some(expires_at),
        body,
    };
    g.commit(vec![Entry::Put {
        stored: Stored { item, version },
    }])
}
