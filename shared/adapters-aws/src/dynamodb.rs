//! The state store on DynamoDB: one table for everything a deployment keeps.
//!
//! # Table design
//! | attribute    | type | role                                                                 |
//! |--------------|------|----------------------------------------------------------------------|
//! | `pk`         | S    | partition key (`CH#{channel}#...`, see `ports::records` for patterns) |
//! | `sk`         | S    | sort key                                                             |
//! | `gsi1pk`     | S    | status-index partition key (absent: not indexed)                      |
//! | `gsi1sk`     | S    | status-index sort key, usually `{time}#{id}`                           |
//! | `version`    | N    | optimistic-concurrency version, bumped by every write                  |
//! | `expires_at` | N    | TTL attribute, epoch seconds (TTL deletes late: readers check expiry)  |
//! | `body`       | S    | the record as JSON                                                   |
//!
//! Global secondary index `status-index`: hash `gsi1pk`, range `gsi1sk`, projecting
//! `ports::state::STATUS_INDEX_ATTRIBUTES` (body, version, expires_at). Billing
//! on demand. Items are bounded by `ports::state::MAX_ITEM_BYTES` (under DynamoDB's 400 KB).
//!
//! Idempotency records (`pk = IDEMPOTENCY#{key}`) add `status` (INPROGRESS/COMPLETED),
//! `expiration` (epoch ms), `in_progress_expiration` (epoch ms) and `data` (JSON) as Powertools
//! lays them out; the claim's condition, not TTL, enforces expiry. `token` (S) is the holder's
//! claim token: completing, renewing and releasing are conditioned on it (fencing).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, Select, TimeToLiveSpecification,
    TransactWriteItem, Update, WriteRequest,
};
use serde_json::Value;

use domain::Timestamp;
use ports::state::{MAX_TRANSACTION_ITEMS, check_item};
use ports::{
    Backoff, Claim, ClaimTerms, ClaimToken, Deadline, Expect, IdempotencyKey, IndexKey, Item, Key, Page,
    PageToken, Query, QueryTarget, SortRange, StateStore, StoreCall, StoreError, Stored, Version, Write,
};

pub const STATUS_INDEX: &str = "status-index";
const BATCH_WRITE_MAX: usize = 25;

/// The IAM actions each store method below issues, so that a function's role can be derived from
/// the methods its operation uses (`infra/checks`). Keep it beside the calls: a method that starts
/// issuing another request changes its row here. A failed condition on `put`, `delete` and `claim`
/// reads the item (`GetItem`) when DynamoDB does not return it; a transaction needs the action of
/// each kind of item it carries (TransactWriteItems has no action of its own).
pub fn iam_actions(call: StoreCall) -> &'static [&'static str] {
    match call {
        StoreCall::Get => &["dynamodb:GetItem"],
        // An UpdateItem conditioned on the version.
        StoreCall::Put => &["dynamodb:UpdateItem", "dynamodb:GetItem"],
        StoreCall::Delete => &["dynamodb:DeleteItem", "dynamodb:GetItem"],
        // The table or its status index.
        StoreCall::Query => &["dynamodb:Query"],
        // A transaction's put is an Update item, like `put`.
        StoreCall::TransactPut => &["dynamodb:UpdateItem"],
        StoreCall::TransactDelete => &["dynamodb:DeleteItem"],
        StoreCall::TransactCheck => &["dynamodb:ConditionCheckItem"],
        StoreCall::PutMany => &["dynamodb:BatchWriteItem"],
        StoreCall::Claim => &["dynamodb:PutItem", "dynamodb:GetItem"],
        StoreCall::Complete => &["dynamodb:PutItem"],
        StoreCall::Renew => &["dynamodb:UpdateItem"],
        StoreCall::Release => &["dynamodb:DeleteItem"],
    }
}

/// DynamoDB-backed state store.
#[derive(Clone, Debug)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Creates the table as the SAM template does (for tests and local AWS APIs).
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))
    };
    let gsi = GlobalSecondaryIndex::builder()
        .index_name(STATUS_INDEX)
        .key_schema(key("gsi1pk", KeyType::Hash)?)
        .key_schema(key("gsi1sk", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    ports::state::STATUS_INDEX_ATTRIBUTES
                        .iter()
                        .map(|a| (*a).to_owned())
                        .collect(),
                ))
                .build(),
        )
        .build()
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .attribute_definitions(attr("gsi1pk")?)
        .attribute_definitions(attr("gsi1sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(gsi)
        .send()
        .await
        .map_err(backend)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        )
        .send()
        .await
        .map_err(backend)?;
    Ok(())
}

fn backend<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let code = e.code().unwrap_or_default().to_owned();
    let message = e.message().map(str::to_owned).unwrap_or_else(|| format!("{e:?}"));
    let transient = matches!(
        code.as_str(),
        "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "InternalServerError"
    ) || matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_));
    if transient {
        StoreError::Unavailable(format!("{code}: {message}"))
    } else {
        StoreError::Backend(format!("{code}: {message}"))
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn get_s<'a>(attrs: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn get_n(attrs: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    attrs
        .get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn to_stored(attrs: &HashMap<String, AttributeValue>) -> Result<Stored, StoreError> {
    let key = Key::new(
        get_s(attrs, "pk").unwrap_or_default(),
        get_s(attrs, "sk").unwrap_or_default(),
    );
    let corrupt = |reason: &str| StoreError::Corrupt {
        key: key.clone(),
        reason: reason.to_owned(),
    };
    let body = get_s(attrs, "body").ok_or_else(|| corrupt("no body"))?;
    let body: Value = serde_json::from_str(body).map_err(|e| corrupt(&e.to_string()))?;
    let version = get_n(attrs, "version").ok_or_else(|| corrupt("no version"))?;
    let index = match (get_s(attrs, "gsi1pk"), get_s(attrs, "gsi1sk")) {
        (Some(pk), Some(sk)) => Some(IndexKey::new(pk, sk)),
        _ => None,
    };
    let expires_at = get_n(attrs, "expires_at").map(|secs| Timestamp::from_millis(secs * 1000));
    Ok(Stored {
        item: Item {
            key: key.clone(),
            index,
            expires_at,
            body,
        },
        version: Version(version.max(0) as u64),
    })
}

/// The parts of a conditional write: expression and values, shared by Update, Delete and ConditionCheck.
struct Condition {
    expression: Option<String>,
    values: HashMap<String, AttributeValue>,
}

fn condition(expect: Expect) -> Condition {
    match expect {
        Expect::Any => Condition {
            expression: None,
            values: HashMap::new(),
        },
        Expect::Absent => Condition {
            expression: Some("attribute_not_exists(pk)".into()),
            values: HashMap::new(),
        },
        Expect::Version(v) => Condition {
            expression: Some("version = :expected".into()),
            values: HashMap::from([(":expected".to_owned(), n(v.0))]),
        },
    }
}

/// An UpdateItem that replaces every attribute we own and bumps the version: a put that knows the
/// version it produced.
struct Replace {
    expression: String,
    values: HashMap<String, AttributeValue>,
}

fn replace(item: &Item) -> Result<Replace, StoreError> {
    let body = serde_json::to_string(&item.body).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut set = vec!["body = :body", "version = if_not_exists(version, :zero) + :one"];
    let mut remove = Vec::new();
    let mut values = HashMap::from([
        (":body".to_owned(), s(body)),
        (":zero".to_owned(), n(0)),
        (":one".to_owned(), n(1)),
    ]);
    match &item.index {
        Some(ix) => {
            set.push("gsi1pk = :gpk");
            set.push("gsi1sk = :gsk");
            values.insert(":gpk".into(), s(&ix.pk));
            values.insert(":gsk".into(), s(&ix.sk));
        }
        None => remove.extend(["gsi1pk", "gsi1sk"]),
    }
    match item.expires_at {
        Some(t) => {
            set.push("expires_at = :exp");
            values.insert(":exp".into(), n(t.seconds()));
        }
        None => remove.push("expires_at"),
    }
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    Ok(Replace { expression, values })
}

fn merge(
    mut a: HashMap<String, AttributeValue>,
    b: HashMap<String, AttributeValue>,
) -> HashMap<String, AttributeValue> {
    a.extend(b);
    a
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// Bulk writes stamp a time-based version (epoch µs): BatchWriteItem cannot increment, and any
/// later conditional write only needs the version to differ from what a reader saw.
fn bulk_version() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl DynamoDbStore {
    /// The current version of `key`, for reporting a failed condition (moto does not always return
    /// the old item with the failure: getmoto/moto#7068).
    async fn current_version(&self, key: &Key) -> Result<Option<Version>, StoreError> {
        Ok(self.get(key).await?.map(|s| s.version))
    }

    async fn idempotency_record(
        &self,
        key: &Key,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }
}

fn idempotency_key(key: &IdempotencyKey) -> Key {
    Key::new(format!("IDEMPOTENCY#{}", key.0), "IDEMPOTENCY")
}

fn claim_outcome(attrs: &HashMap<String, AttributeValue>) -> Claim {
    if get_s(attrs, "status") == Some("COMPLETED") {
        let data = get_s(attrs, "data")
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null);
        Claim::Completed(data)
    } else {
        Claim::InProgress {
            until: Timestamp::from_millis(get_n(attrs, "in_progress_expiration").unwrap_or(0)),
        }
    }
}

/// A failed `#token = :token` condition: the caller no longer holds the claim.
fn claim_lost<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: SdkError<E, R>,
    key: &IdempotencyKey,
) -> StoreError {
    if is_condition_failure(&e) {
        StoreError::ClaimLost { key: key.0.clone() }
    } else {
        backend(e)
    }
}

fn encode_token(last: &HashMap<String, AttributeValue>) -> PageToken {
    let map: serde_json::Map<String, Value> = last
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), Value::String(s.clone()))))
        .collect();
    PageToken(Value::Object(map).to_string())
}

fn decode_token(token: &PageToken) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let map: HashMap<String, String> =
        serde_json::from_str(&token.0).map_err(|e| StoreError::Invalid(format!("bad page token: {e}")))?;
    Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
}

/// The index (none: the table), key condition and its values of a query.
fn key_condition(query: &Query) -> (Option<&'static str>, String, HashMap<String, AttributeValue>) {
    let (index, hash, range) = match &query.target {
        QueryTarget::Partition(pk) => (None, ("pk", pk), "sk"),
        QueryTarget::StatusIndex(pk) => (Some(STATUS_INDEX), ("gsi1pk", pk), "gsi1sk"),
    };
    let mut values = HashMap::from([(":h".to_owned(), s(hash.1))]);
    let mut expression = format!("{} = :h", hash.0);
    match &query.range {
        SortRange::All => {}
        SortRange::Prefix(p) => {
            expression.push_str(&format!(" AND begins_with({range}, :a)"));
            values.insert(":a".into(), s(p));
        }
        SortRange::Between(lo, hi) => {
            expression.push_str(&format!(" AND {range} BETWEEN :a AND :b"));
            values.insert(":a".into(), s(lo));
            values.insert(":b".into(), s(hi));
        }
        SortRange::From(lo) => {
            expression.push_str(&format!(" AND {range} >= :a"));
            values.insert(":a".into(), s(lo));
        }
        SortRange::To(hi) => {
            expression.push_str(&format!(" AND {range} <= :b"));
            values.insert(":b".into(), s(hi));
        }
    }
    (index, expression, values)
}

#[async_trait]
impl StateStore for DynamoDbStore {
    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(to_stored).transpose()
    }

    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError> {
        check_item(&item)?;
        let r = replace(&item)?;
        let c = condition(expect);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&item.key)))
            .update_expression(r.expression)
            .set_condition_expression(c.expression)
            .set_expression_attribute_values(Some(merge(r.values, c.values)))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let version = out
                    .attributes
                    .as_ref()
                    .and_then(|a| get_n(a, "version"))
                    .ok_or_else(|| StoreError::Backend("UpdateItem returned no version".into()))?;
                Ok(Version(version.max(0) as u64))
            }
            Err(e) if is_condition_failure(&e) => {
                let current = self.current_version(&item.key).await?;
                Err(StoreError::ConditionFailed {
                    key: item.key,
                    current,
                })
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError> {
        let c = condition(expect);
        let values = (!c.values.is_empty()).then_some(c.values);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(c.expression)
            .set_expression_attribute_values(values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                let current = self.current_version(key).await?;
                Err(StoreError::ConditionFailed {
                    key: key.clone(),
                    current,
                })
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (index, expression, values) = key_condition(query);
        let start = query.after.as_ref().map(decode_token).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(expression)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.descending)
            .limit(i32::try_from(query.limit.max(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .set_consistent_read(index.is_none().then_some(true))
            .send()
            .await
            .map_err(backend)?;
        let items = out.items().iter().map(to_stored).collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key
            .as_ref()
            .filter(|_| !items.is_empty())
            .map(encode_token);
        Ok(Page { items, next })
    }

    /// `Select: COUNT`, page by page (each page reads up to 1 MB of items; none is sent back).
    async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        let (index, expression, values) = key_condition(query);
        let mut start = None;
        let mut n = 0u64;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(&expression)
                .set_expression_attribute_values(Some(values.clone()))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            n += u64::try_from(out.count).unwrap_or(0);
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(n),
            }
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Invalid(format!(
                "{} writes in one transaction",
                writes.len()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        let mut keys = Vec::with_capacity(writes.len());
        let mut items = Vec::with_capacity(writes.len());
        for w in writes {
            if !seen.insert(w.key().clone()) {
                return Err(StoreError::Invalid(format!(
                    "{:?} appears twice in one transaction",
                    w.key()
                )));
            }
            keys.push(w.key().clone());
            let built = match w {
                Write::Put { item, expect } => {
                    check_item(&item)?;
                    let r = replace(&item)?;
                    let c = condition(expect);
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(&item.key)))
                        .update_expression(r.expression)
                        .set_condition_expression(c.expression)
                        .set_expression_attribute_values(Some(merge(r.values, c.values)))
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    TransactWriteItem::builder().update(update).build()
                }
                Write::Delete { key, expect } => {
                    let c = condition(expect);
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(&key)))
                        .set_condition_expression(c.expression)
                        .set_expression_attribute_values((!c.values.is_empty()).then_some(c.values))
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                Write::Check { key, expect } => {
                    let c = condition(expect);
                    // A condition check needs an expression; `Any` checks nothing.
                    let Some(expression) = c.expression else { continue };
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(&key)))
                        .condition_expression(expression)
                        .set_expression_attribute_values((!c.values.is_empty()).then_some(c.values))
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            items.push(built);
        }
        if items.is_empty() {
            return Ok(());
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("TransactionCanceledException") => {
                let reasons = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().to_vec()
                    }
                    _ => Vec::new(),
                };
                let failed: Vec<Key> = if reasons.is_empty() {
                    keys
                } else {
                    keys.into_iter()
                        .zip(reasons)
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(k, _)| k)
                        .collect()
                };
                Err(StoreError::TransactionConflict { keys: failed })
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for item in &items {
            check_item(item)?;
        }
        let version = bulk_version();
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let mut attrs = key_attrs(&item.key);
            let body = serde_json::to_string(&item.body).map_err(|e| StoreError::Invalid(e.to_string()))?;
            attrs.insert("body".into(), s(body));
            attrs.insert("version".into(), n(version));
            if let Some(ix) = &item.index {
                attrs.insert("gsi1pk".into(), s(&ix.pk));
                attrs.insert("gsi1sk".into(), s(&ix.sk));
            }
            if let Some(t) = item.expires_at {
                attrs.insert("expires_at".into(), n(t.seconds()));
            }
            let put = PutRequest::builder()
                .set_item(Some(attrs))
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        // DynamoDB takes 25 per call (moto takes more; we hold ourselves to the real limit) and may
        // leave some unprocessed under load: those are retried with backoff.
        let backoff = Backoff::default();
        let deadline = Deadline::after(std::time::Duration::from_secs(60));
        let chunks: Vec<Vec<WriteRequest>> = requests.chunks(BATCH_WRITE_MAX).map(<[_]>::to_vec).collect();
        let writes = chunks.into_iter().map(|chunk| {
            let client = self.client.clone();
            let table = self.table.clone();
            async move {
                let mut pending = chunk;
                let mut retry = 0;
                loop {
                    let out = client
                        .batch_write_item()
                        .request_items(&table, pending)
                        .send()
                        .await
                        .map_err(backend)?;
                    let left = out
                        .unprocessed_items
                        .and_then(|mut m| m.remove(&table))
                        .unwrap_or_default();
                    if left.is_empty() {
                        return Ok::<(), StoreError>(());
                    }
                    retry += 1;
                    let wait = backoff.next_wait(retry, None, &deadline).ok_or_else(|| {
                        StoreError::Unavailable(format!(
                            "{} items still unprocessed after retries",
                            left.len()
                        ))
                    })?;
                    tokio::time::sleep(wait).await;
                    pending = left;
                }
            }
        });
        // A few calls in flight at once: bulk imports are latency-bound, not throughput-bound.
        use futures::StreamExt;
        let results: Vec<Result<(), StoreError>> =
            futures::stream::iter(writes).buffer_unordered(8).collect().await;
        results.into_iter().collect()
    }

    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError> {
        let item_key = idempotency_key(key);
        let token = ClaimToken::fresh();
        let mut attrs = key_attrs(&item_key);
        attrs.insert("status".into(), s("INPROGRESS"));
        attrs.insert("expiration".into(), n(terms.expires_at.millis()));
        attrs.insert(
            "in_progress_expiration".into(),
            n(terms.in_progress_until.millis()),
        );
        attrs.insert("expires_at".into(), n(terms.expires_at.seconds()));
        attrs.insert("token".into(), s(token.0.clone()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .condition_expression(
                "attribute_not_exists(pk) OR expiration < :now OR (#status = :inprogress AND in_progress_expiration < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(terms.now.millis()))
            .expression_attribute_values(":inprogress", s("INPROGRESS"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired(token)),
            Err(e) if is_condition_failure(&e) => {
                let old = e.as_service_error().and_then(|s| match s {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                        c,
                    ) => c.item.clone(),
                    _ => None,
                });
                let old = match old {
                    Some(o) => Some(o),
                    None => self.idempotency_record(&item_key).await?,
                };
                // Gone between the failure and our read: someone released it; let the caller retry.
                Ok(old
                    .as_ref()
                    .map_or(Claim::InProgress { until: terms.now }, claim_outcome))
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let item_key = idempotency_key(key);
        let mut attrs = key_attrs(&item_key);
        attrs.insert("status".into(), s("COMPLETED"));
        attrs.insert("expiration".into(), n(expires_at.millis()));
        attrs.insert("in_progress_expiration".into(), n(0));
        attrs.insert("expires_at".into(), n(expires_at.seconds()));
        attrs.insert("data".into(), s(result.to_string()));
        attrs.insert("token".into(), s(token.0.clone()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(token.0.clone()))
            .send()
            .await
            .map_err(|e| claim_lost(e, key))?;
        Ok(())
    }

    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&idempotency_key(key))))
            .update_expression("SET in_progress_expiration = :until")
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(token.0.clone()))
            .expression_attribute_values(":until", n(in_progress_until.millis()))
            .send()
            .await
            .map_err(|e| claim_lost(e, key))?;
        Ok(())
    }

    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&idempotency_key(key))))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(token.0.clone()))
            .send()
            .await
            .map_err(|e| claim_lost(e, key))?;
        Ok(())
    }
}
