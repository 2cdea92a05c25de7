//! What a merchant can do from the dashboard, each recorded in the audit log (who, when, what):
//! choose how imported products are matched, send selected drafts to match, retry a listing's
//! match, resync one SKU's stock and price now, retry an order or a return in Error, re-drive a
//! queue's dead letters, pause and resume an operation, and import Walmart orders again for a date
//! range.
//!
//! The merchant's switches (match mode, paused operations) are one record, read once at the start
//! of every run and message (`registry::guarded` → [`is_paused`]) and by catalog-import
//! ([`hold_new_listings`]).
//!
//! | record             | pk                   | sk                    |
//! |--------------------|----------------------|-----------------------|
//! | `MerchantSettings` | `CH#{ch}#MERCHANT`   | `settings`            |
//! | `AuditEntry`       | `CH#{ch}#AUDIT`      | `{at}#{nonce}`        |

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{
    ChannelId, Listing, ListingStatus, Operation, OrderSummary, PurchaseOrderId, ReturnOrderId, ReturnRecord,
    Sku, Stream, Timestamp,
};
use ports::records::{channel_pk, cursor_key, listing_key, order_key};
use ports::walmart::OrdersQuery;
use ports::{
    ClaimToken, Deadline, Key, PageToken, Query, QueueCall, QueueName, Record, Records, StateStore,
    StoreCall, StoreError, Versioned,
};
use serde::{Deserialize, Serialize};

use crate::dashboard::{RowsPage, return_key};
use crate::declaration::{Declaration, UrlAuth};
use crate::run_log::Outcome;
use crate::{Channel, OpError};

/// The state-store methods the dashboard function calls: its queries (`dashboard::*`), these
/// actions and its sign-in (`shared/dashboard`: sessions' CSRF tokens, failed-login counts), for its
/// role (as each operation declares its own): records read, written (audit entries, switches, kept
/// counts, re-imported orders, tokens) and queried (counts are queries).
pub const STORE_CALLS: &[StoreCall] = &[StoreCall::Get, StoreCall::Put, StoreCall::Query];

/// The queues the actions send to: urgent stock and price, match requests, re-driven and
/// re-imported orders. Re-driving dead letters ([`QUEUE_CALLS`]) reaches every queue.
pub const SENDS_TO: &[QueueName] = &[
    QueueName::ListingMatch,
    QueueName::InventorySync,
    QueueName::PriceSync,
    QueueName::OrderCreate,
];

/// The dashboard function's wiring (`declaration`): behind a Function URL that anyone may reach,
/// because it signs its merchants in itself (`shared/dashboard`), with no queue or schedule of its
/// own; the registry, `infra/checks` and the local runner read it like an operation's.
pub const DECLARATION: Declaration = Declaration {
    function: "dashboard",
    consumes: None,
    scheduled: false,
    function_url: Some(UrlAuth::None),
    sends_to: SENDS_TO,
    redrives_dead_letters: true,
    store_calls: STORE_CALLS,
};

/// The queue methods the dashboard calls: sends ([`SENDS_TO`]), and on every queue its depth
/// (overview) and the re-drive of its dead letters.
pub const QUEUE_CALLS: &[QueueCall] = &[
    QueueCall::Send,
    QueueCall::SendAll,
    QueueCall::Depth,
    QueueCall::Redrive,
];

/// How imported products reach matching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// Every imported draft is sent to match (the channel's behaviour before the dashboard).
    #[default]
    Automatic,
    /// Imported drafts wait until the merchant selects them and sends them to match (Adobe's
    /// "Match products on Walmart").
    Manual,
}

impl MatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Automatic => "automatic",
            MatchMode::Manual => "manual",
        }
    }
}

/// Who paused an operation, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub by: String,
    pub since: Timestamp,
}

/// The merchant's switches for a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantSettings {
    pub channel: ChannelId,
    #[serde(default)]
    pub match_mode: MatchMode,
    /// Paused operations, by function name.
    #[serde(default)]
    pub paused: BTreeMap<String, Pause>,
}

impl MerchantSettings {
    pub fn new(channel: ChannelId) -> Self {
        Self {
            channel,
            match_mode: MatchMode::Automatic,
            paused: BTreeMap::new(),
        }
    }

    pub fn pause_of(&self, operation: Operation) -> Option<&Pause> {
        self.paused.get(operation.function_name())
    }
}

impl Record for MerchantSettings {
    fn key(&self) -> Key {
        merchant_settings_key(&self.channel)
    }
}

pub fn merchant_settings_key(channel: &ChannelId) -> Key {
    Key::new(channel_pk(channel, "MERCHANT"), "settings")
}

/// The person acting on the dashboard (their login name), as the audit log shows them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(pub String);

impl Actor {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }
}

/// What the merchant did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    SetMatchMode { mode: MatchMode },
    SendToMatch { skus: Vec<Sku> },
    RetryMatch { sku: Sku },
    ResyncSku { sku: Sku },
    RetryOrder { purchase_order: PurchaseOrderId },
    RetryReturn { return_order: ReturnOrderId },
    RedriveDeadLetters { queue: QueueName },
    Pause { operation: Operation },
    Resume { operation: Operation },
    ReimportOrders { from: Timestamp, to: Timestamp },
}

impl Action {
    /// A short English description (the dashboard translates by the variant).
    pub fn describe(&self) -> String {
        match self {
            Action::SetMatchMode { mode } => format!("set matching to {}", mode.as_str()),
            Action::SendToMatch { skus } => format!("sent {} listing(s) to match", skus.len()),
            Action::RetryMatch { sku } => format!("retried the match of {sku}"),
            Action::ResyncSku { sku } => format!("resynced stock and price of {sku}"),
            Action::RetryOrder { purchase_order } => format!("retried order {purchase_order}"),
            Action::RetryReturn { return_order } => format!("retried return {return_order}"),
            Action::RedriveDeadLetters { queue } => {
                format!("re-drove the dead letters of {}", queue.as_str())
            }
            Action::Pause { operation } => format!("paused {}", operation.function_name()),
            Action::Resume { operation } => format!("resumed {}", operation.function_name()),
            Action::ReimportOrders { from, to } => format!(
                "imported Walmart orders again from {} to {}",
                from.to_rfc3339(),
                to.to_rfc3339()
            ),
        }
    }
}

/// How long audit entries are kept.
pub const AUDIT_RETENTION: Duration = Duration::from_secs(365 * 24 * 3600);

/// One recorded action: who, when, what, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub channel: ChannelId,
    pub at: Timestamp,
    pub actor: Actor,
    #[serde(flatten)]
    pub action: Action,
    /// What came of it, in a sentence ("3 messages moved back", "failed: ...").
    pub result: String,
    pub succeeded: bool,
    /// Tells apart two actions in the same millisecond.
    nonce: String,
}

impl Record for AuditEntry {
    fn key(&self) -> Key {
        Key::new(
            audit_pk(&self.channel),
            format!("{}#{}", self.at.to_rfc3339(), self.nonce),
        )
    }
    fn expires_at(&self) -> Option<Timestamp> {
        Some(self.at.plus(AUDIT_RETENTION))
    }
}

pub fn audit_pk(channel: &ChannelId) -> String {
    channel_pk(channel, "AUDIT")
}

/// The merchant's settings (defaults when never set).
pub async fn settings(store: &dyn StateStore, channel: &ChannelId) -> Result<MerchantSettings, StoreError> {
    Ok(store
        .load::<MerchantSettings>(&merchant_settings_key(channel))
        .await?
        .map_or_else(|| MerchantSettings::new(channel.clone()), |v| v.record))
}

/// Recent actions, newest first.
pub async fn recent_actions(
    store: &dyn StateStore,
    channel: &ChannelId,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<AuditEntry>, StoreError> {
    let query = Query::partition(audit_pk(channel))
        .descending()
        .limit(limit)
        .after(after);
    let (records, next) = store.query_records::<AuditEntry>(&query).await?;
    Ok(RowsPage {
        rows: records.into_iter().map(|v| v.record).collect(),
        next,
    })
}

/// Records an action and its result; the action's own error is returned after it is recorded.
async fn audited<T>(
    ch: &Channel,
    actor: &Actor,
    action: Action,
    result: Result<(T, String), OpError>,
) -> Result<T, OpError> {
    let (succeeded, sentence) = match &result {
        Ok((_, sentence)) => (true, sentence.clone()),
        Err(e) => (false, format!("failed: {e}")),
    };
    let entry = AuditEntry {
        channel: ch.settings.id.clone(),
        at: ch.clock.now(),
        actor: actor.clone(),
        action,
        result: domain::bounded_reason(sentence),
        succeeded,
        nonce: ClaimToken::fresh().0.chars().take(12).collect(),
    };
    tracing::info!(actor = %actor.0, action = %entry.action.describe(), result = %entry.result, "merchant action");
    ch.store.insert_new(&entry).await?;
    result.map(|(value, _)| value)
}

async fn change_settings(
    ch: &Channel,
    change: impl Fn(&mut MerchantSettings) -> bool + Send,
) -> Result<MerchantSettings, OpError> {
    let key = merchant_settings_key(&ch.settings.id);
    for _ in 0..8 {
        let mut current = ch
            .store
            .load::<MerchantSettings>(&key)
            .await?
            .unwrap_or_else(|| Versioned::new(MerchantSettings::new(ch.settings.id.clone())));
        if !change(&mut current.record) {
            return Ok(current.record);
        }
        match ch.store.save(&mut current).await {
            Ok(()) => return Ok(current.record),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::Busy("the merchant settings kept changing".into()))
}

// ---------------------------------------------------------------- hooks the operations call

/// Whether the merchant paused the operation: read at the start of every run and message
/// (`registry::guarded`). One state-store read.
pub async fn is_paused(ch: &Channel, operation: Operation) -> Result<bool, OpError> {
    let settings = settings(ch.store.as_ref(), &ch.settings.id).await?;
    Ok(settings.pause_of(operation).is_some())
}

/// What a paused operation answers instead of working: a scheduled run reports it was skipped; a
/// message fails retryably and comes back after its visibility timeout (after the queue's maximum
/// receives it waits in the dead-letter queue, to be re-driven once the operation is resumed).
pub fn paused_answer<T: Outcome>(operation: Operation) -> Result<T, OpError> {
    tracing::info!(
        operation = operation.function_name(),
        "paused by the merchant: skipped"
    );
    T::paused(operation)
        .ok_or_else(|| OpError::Busy(format!("{} is paused by the merchant", operation.function_name())))
}

/// catalog-import, before writing new listings: in manual match mode they wait for the merchant's
/// selection. Returns the match mode. One state-store read.
pub async fn hold_new_listings(ch: &Channel, listings: &mut [Listing]) -> Result<MatchMode, OpError> {
    if listings.is_empty() {
        return Ok(MatchMode::Automatic);
    }
    let mode = settings(ch.store.as_ref(), &ch.settings.id).await?.match_mode;
    if mode == MatchMode::Manual {
        for listing in listings {
            listing.hold_for_selection();
        }
    }
    Ok(mode)
}

// ---------------------------------------------------------------- actions

pub async fn set_match_mode(ch: &Channel, actor: &Actor, mode: MatchMode) -> Result<(), OpError> {
    let result = change_settings(ch, |s| {
        let changed = s.match_mode != mode;
        s.match_mode = mode;
        changed
    })
    .await
    .map(|_| ((), format!("matching is {}", mode.as_str())));
    audited(ch, actor, Action::SetMatchMode { mode }, result).await
}

/// What became of SKUs sent to match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SendToMatchOutcome {
    /// Drafts that waited for selection and are now queued for matching.
    pub sent: Vec<Sku>,
    /// Listings that were not waiting (already sent, matched, or in Error), left as they are.
    pub not_waiting: Vec<Sku>,
    pub unknown: Vec<Sku>,
}

/// The merchant selected drafts and sends them to match (manual match mode).
pub async fn send_to_match(ch: &Channel, actor: &Actor, skus: &[Sku]) -> Result<SendToMatchOutcome, OpError> {
    let result = send_to_match_now(ch, skus).await.map(|o| {
        let sentence = format!(
            "{} sent to match, {} not waiting, {} unknown",
            o.sent.len(),
            o.not_waiting.len(),
            o.unknown.len()
        );
        (o, sentence)
    });
    audited(ch, actor, Action::SendToMatch { skus: skus.to_vec() }, result).await
}

async fn send_to_match_now(ch: &Channel, skus: &[Sku]) -> Result<SendToMatchOutcome, OpError> {
    let now = ch.clock.now();
    let mut outcome = SendToMatchOutcome::default();
    for sku in skus {
        let mut released = false;
        let found = ch
            .store
            .update::<Listing, OpError, _>(&listing_key(&ch.settings.id, sku), |listing| {
                released = listing.select_for_matching(now);
                Ok(released)
            })
            .await?;
        match found {
            None => outcome.unknown.push(sku.clone()),
            Some(_) if released => outcome.sent.push(sku.clone()),
            Some(_) => outcome.not_waiting.push(sku.clone()),
        }
    }
    if !outcome.sent.is_empty() {
        crate::messages::request_match(ch, &[]).await?;
    }
    Ok(outcome)
}

/// Matches a listing in Error again (listing-match re-checks it and sends it in the next feed).
pub async fn retry_match(ch: &Channel, actor: &Actor, sku: &Sku) -> Result<(), OpError> {
    let result = retry_match_now(ch, sku).await;
    audited(ch, actor, Action::RetryMatch { sku: sku.clone() }, result).await
}

async fn retry_match_now(ch: &Channel, sku: &Sku) -> Result<((), String), OpError> {
    let listing = ch
        .store
        .load::<Listing>(&listing_key(&ch.settings.id, sku))
        .await?
        .ok_or_else(|| OpError::Invalid(format!("{sku}: no such listing")))?
        .record;
    if listing.status() != ListingStatus::Error {
        return Err(OpError::Invalid(format!(
            "{sku} is {}, not in Error: nothing to retry",
            listing.status().as_str()
        )));
    }
    crate::messages::request_match(ch, std::slice::from_ref(sku)).await?;
    Ok(((), "queued for matching again".to_owned()))
}

/// Sends one SKU's stock and price to Walmart now, through the urgent messages inventory-sync and
/// price-sync consume.
pub async fn resync_sku(ch: &Channel, actor: &Actor, sku: &Sku) -> Result<(), OpError> {
    let result = resync_now(ch, sku).await;
    audited(ch, actor, Action::ResyncSku { sku: sku.clone() }, result).await
}

async fn resync_now(ch: &Channel, sku: &Sku) -> Result<((), String), OpError> {
    let listing = ch
        .store
        .load::<Listing>(&listing_key(&ch.settings.id, sku))
        .await?
        .ok_or_else(|| OpError::Invalid(format!("{sku}: no such listing")))?
        .record;
    if !listing.is_live_on_walmart() {
        return Err(OpError::Invalid(format!(
            "{sku} is not matched on Walmart yet: stock and price flow once it is"
        )));
    }
    let skus = std::slice::from_ref(sku);
    crate::messages::enqueue_urgent(ch, skus).await?;
    crate::messages::enqueue_prices(ch, skus).await?;
    Ok(((), "stock and price queued".to_owned()))
}

/// What a retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOutcome {
    /// Queued again now (a failed Commerce order creation, from zero attempts).
    Requeued,
    /// The failed steps are tried again by their operation's next run (the record keeps them
    /// until then).
    NextRun,
}

/// Retries an order in Error: a failed Commerce order creation is re-driven (from zero attempts);
/// failed sync steps (acknowledgement, shipment, cancellation, refund) are retried by their
/// operation's next run.
pub async fn retry_order(ch: &Channel, actor: &Actor, po: &PurchaseOrderId) -> Result<RetryOutcome, OpError> {
    let result = retry_order_now(ch, po).await;
    audited(
        ch,
        actor,
        Action::RetryOrder {
            purchase_order: po.clone(),
        },
        result,
    )
    .await
}

async fn retry_order_now(ch: &Channel, po: &PurchaseOrderId) -> Result<(RetryOutcome, String), OpError> {
    let record = ch
        .store
        .load::<domain::OrderRecord>(&order_key(&ch.settings.id, po))
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} is not recorded")))?
        .record;
    if record.summary() != OrderSummary::Error {
        return Err(OpError::Invalid(format!(
            "order {po} is {}, not in Error",
            record.summary().adobe_label()
        )));
    }
    if matches!(record.creation(), domain::CreationState::Failed { .. }) {
        crate::order_intake::redrive(ch, po).await?;
        return Ok((
            RetryOutcome::Requeued,
            "Commerce order creation queued again".into(),
        ));
    }
    Ok((
        RetryOutcome::NextRun,
        "the failed steps are retried by their operation's next run".into(),
    ))
}

/// How far back returns-sync reads again for a retried return: Walmart's return is created before
/// the channel receives it.
pub const RETURN_REREAD: Duration = Duration::from_secs(48 * 3600);

/// Retries a return in Error: returns-sync reads Walmart's returns again from a little before the
/// return was received (its stream cursor moves back) and requests the return in Commerce again,
/// looking for an earlier request first.
pub async fn retry_return(ch: &Channel, actor: &Actor, id: &ReturnOrderId) -> Result<RetryOutcome, OpError> {
    let result = retry_return_now(ch, id).await;
    audited(
        ch,
        actor,
        Action::RetryReturn {
            return_order: id.clone(),
        },
        result,
    )
    .await
}

async fn retry_return_now(ch: &Channel, id: &ReturnOrderId) -> Result<(RetryOutcome, String), OpError> {
    let record = ch
        .store
        .load::<ReturnRecord>(&return_key(&ch.settings.id, id))
        .await?
        .ok_or_else(|| OpError::Invalid(format!("return {id} is not recorded")))?
        .record;
    if !matches!(record.status(), domain::ReturnStatus::Error { .. }) {
        return Err(OpError::Invalid(format!(
            "return {id} is {}, not in Error",
            record.status().adobe_label()
        )));
    }
    let from = record.received_at.minus(RETURN_REREAD);
    let key = cursor_key(&ch.settings.id, Stream::WalmartReturns);
    ch.store
        .update::<domain::SyncCursor, OpError, _>(&key, |cursor| {
            if cursor.seen_until <= from {
                return Ok(false);
            }
            cursor.seen_until = from;
            Ok(true)
        })
        .await?;
    Ok((
        RetryOutcome::NextRun,
        format!(
            "returns-sync reads Walmart's returns again from {}",
            from.to_rfc3339()
        ),
    ))
}

/// Most dead letters one re-drive moves.
pub const REDRIVE_MAX: usize = 1_000;

/// Moves a queue's dead letters back to the queue (at most [`REDRIVE_MAX`]); returns how many.
pub async fn redrive_dead_letters(ch: &Channel, actor: &Actor, queue: QueueName) -> Result<usize, OpError> {
    let result = ch
        .queues
        .redrive(queue, REDRIVE_MAX)
        .await
        .map_err(OpError::from)
        .map(|n| (n, format!("{n} message(s) moved back")));
    audited(ch, actor, Action::RedriveDeadLetters { queue }, result).await
}

/// Pauses an operation: every run and message checks the switch first.
pub async fn pause(ch: &Channel, actor: &Actor, operation: Operation) -> Result<(), OpError> {
    let now = ch.clock.now();
    let by = actor.0.clone();
    let result = change_settings(ch, move |s| {
        if s.pause_of(operation).is_some() {
            return false;
        }
        s.paused.insert(
            operation.function_name().to_owned(),
            Pause {
                by: by.clone(),
                since: now,
            },
        );
        true
    })
    .await
    .map(|_| ((), "paused".to_owned()));
    audited(ch, actor, Action::Pause { operation }, result).await
}

pub async fn resume(ch: &Channel, actor: &Actor, operation: Operation) -> Result<(), OpError> {
    let result = change_settings(ch, |s| s.paused.remove(operation.function_name()).is_some())
        .await
        .map(|_| ((), "resumed".to_owned()));
    audited(ch, actor, Action::Resume { operation }, result).await
}

/// What importing orders again found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReimportReport {
    /// Orders Walmart listed in the range.
    pub listed: u64,
    /// Orders the channel did not know: recorded and queued for creation now.
    pub imported: u64,
    /// Orders already recorded (left alone: their creation is exactly-once by purchase order).
    pub already_known: u64,
    pub failed: Vec<String>,
    /// False when the deadline stopped it; run it again to continue (known orders are skipped).
    pub complete: bool,
}

/// The longest range one re-import reads (Walmart keeps orders' details for 180 days).
pub const REIMPORT_MAX_RANGE: Duration = Duration::from_secs(180 * 24 * 3600);

/// Imports every Walmart order created in `[from, to]` that the channel has not recorded, as
/// order-import does (the record is inserted only if absent, and order-create's claim per purchase
/// order makes the Commerce order exactly once): a range already imported changes nothing.
pub async fn reimport_orders(
    ch: &Channel,
    actor: &Actor,
    from: Timestamp,
    to: Timestamp,
    deadline: &Deadline,
) -> Result<ReimportReport, OpError> {
    let result = reimport_now(ch, from, to, deadline).await.map(|r| {
        let sentence = format!(
            "{} listed, {} imported, {} already known, {} failed{}",
            r.listed,
            r.imported,
            r.already_known,
            r.failed.len(),
            if r.complete {
                ""
            } else {
                " (stopped at the deadline)"
            }
        );
        (r, sentence)
    });
    audited(ch, actor, Action::ReimportOrders { from, to }, result).await
}

async fn reimport_now(
    ch: &Channel,
    from: Timestamp,
    to: Timestamp,
    deadline: &Deadline,
) -> Result<ReimportReport, OpError> {
    if to < from || to.since(from) > REIMPORT_MAX_RANGE {
        return Err(OpError::Invalid(format!(
            "the range must run forwards and span at most {} days",
            REIMPORT_MAX_RANGE.as_secs() / 86_400
        )));
    }
    let mut report = ReimportReport {
        complete: true,
        ..ReimportReport::default()
    };
    let mut page = ch
        .walmart
        .list_orders(&OrdersQuery::created_between(from, to), deadline)
        .await?;
    loop {
        let mut messages = Vec::new();
        for order in &page.orders {
            if deadline.is_past() {
                report.complete = false;
                break;
            }
            report.listed += 1;
            match crate::order_intake::import_one(ch, order, deadline).await {
                Ok(crate::order_intake::Imported::New { queue }) => {
                    report.imported += 1;
                    if queue {
                        messages
                            .push(crate::messages::CreateOrder::new(ch, order.order.id.clone()).message()?);
                    }
                }
                Ok(crate::order_intake::Imported::Known) => report.already_known += 1,
                Err(e) => report
                    .failed
                    .push(format!("purchase order {}: {e}", order.order.id)),
            }
        }
        if !messages.is_empty() {
            // A failure here is repaired by order-import's sweep, which queues recorded orders
            // not created yet.
            if let Err(e) = ch.queues.send_all(QueueName::OrderCreate, messages).await {
                report
                    .failed
                    .push(format!("creations not queued (the sweep queues them): {e}"));
            }
        }
        if !report.complete {
            break;
        }
        let Some(cursor) = page.next_cursor.take() else {
            break;
        };
        page = ch.walmart.next_orders(&cursor, deadline).await?;
    }
    Ok(report)
}
