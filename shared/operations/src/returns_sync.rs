//! `returns_sync`: Walmart returns become Commerce return requests; the merchant's offline refunds
//! (credit memos) go back to Walmart.
//!
//! **Returns.** Walmart returns created since the cursor (less an overlap) are read, following
//! `nextCursor`. Each becomes a [`ReturnRecord`] (Received, keyed by return order id) linked to the
//! dashboard record of its purchase order, and a return request in Commerce linked to the original
//! order: an RMA on Adobe Commerce, or, on Magento Open Source (no RMA module), an order comment naming
//! the Walmart return, lines and quantities: the documented fallback; the merchant refunds with a
//! credit memo either way and the dashboard records carry the return. The return's lines are
//! counted as returned on the order (summary "Return requested"). The request is claimed per return
//! and, when an earlier attempt may have made it, looked for in Commerce first.
//!
//! **Refunds.** Credit memos created or updated since their cursor are read. A credit memo of a
//! channel order is matched to the order's returns awaiting a refund: a return whose every line
//! (order line and quantity) the memo refunds is refunded on Walmart (`POST
//! /v3/returns/{id}/refund` for its return lines: Walmart refunds the buyer the return's amounts),
//! and the return record shows Refunded with the credit memo and its amount; the order's lines count
//! the refunded units and amounts. Once per credit memo (claim `refund#<channel>#<memo id>`). A refund Walmart
//! refuses, or whose answer is lost, is settled by reading the return again: lines Walmart shows
//! refunded (by any signal: `refundedQty`, `refundChannel`, refund events) count as done, e.g.
//! after Walmart's automatic refund; a refund is never sent twice on a guess. A memo covering only part of a return cannot be expressed in Walmart's return refund: the
//! return shows Error with the reason, for the merchant to finish on Walmart.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{
    CreditMemoId, LineNumber, Money, Operation, OrderRecord, PurchaseOrderId, ReturnOrderId, ReturnRecord,
    Stream, SyncTask, Timestamp,
};
use ports::commerce::model::{CreditMemo, CreditMemoItem};
use ports::commerce::{ReturnItem, ReturnRecorded, ReturnRequest};
use ports::records::return_status_pk;
use ports::walmart::{ReturnsQuery, WalmartReturn};
use ports::{Deadline, Query, Records, Versioned};
use ports::{QueueName, StoreCall};
use tracing::Instrument;

use crate::Counter;
use crate::claim::{ClaimKind, Lease, OnceOutcome};
use crate::dashboard::{load_order, purchase_order_of, return_key};
use crate::declaration::Declaration;
use crate::order_support::{RACE_ATTEMPTS, StreamWindow, caused_by_request, recorded_order, save_both};
use crate::scan::{Seen, StreamScan, scan};
use crate::walmart_scan::{WalmartScan, scan_walmart};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): return and order records, pairs
/// saved together (`order_support::save_both`); the per-return and per-refund claims; the
/// configuration check.
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Query,
    StoreCall::TransactPut,
    StoreCall::Claim,
    StoreCall::Complete,
    StoreCall::Renew,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): none.
pub const SENDS_TO: &[QueueName] = &[];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "returns-sync",
    consumes: None,
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

/// Walmart's return creation times can lag; returns are few, so a generous overlap is cheap.
const RETURNS_OVERLAP: Duration = Duration::from_secs(60 * 60);
/// Clock skew between us and the store, and slow commits.
const MEMO_OVERLAP: Duration = Duration::from_secs(10 * 60);
const RETURNS_PAGE: u32 = 50;
/// How long a return waits for the shipment it returns to be recorded (shipment-sync may record a
/// shipment Walmart already shows after the buyer returned it: a cut invocation, a slow run) before
/// it shows Error.
pub const SHIPMENT_WAIT: Duration = Duration::from_secs(6 * 3600);
const MEMO_PAGE: u32 = 100;

pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::ReturnsSync);
    // Returns first: a memo written right after a return arrives finds it in the same run.
    let pulled = pull_returns(ch, deadline, &mut report).await;
    let refunds = report_refunds(ch, deadline, &mut report).await;
    pulled?;
    refunds?;
    Ok(report)
}

// ------------------------------------------------------------------ Walmart returns → Commerce

async fn pull_returns(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let mut window = StreamWindow::open(ch, Stream::WalmartReturns, RETURNS_OVERLAP).await?;
    let query = ReturnsQuery {
        created_start: Some(window.from),
        created_end: None,
        status: None,
        limit: RETURNS_PAGE,
    };
    let returns = WalmartScan {
        what: "Walmart returns",
        window: &mut window,
    };
    scan_walmart(
        returns,
        deadline,
        report,
        ch.walmart.list_returns(&query, deadline),
        |cursor| async move { ch.walmart.next_returns(&cursor, deadline).await },
        |walmart_return| async move {
            let id = walmart_return.return_order_id.clone();
            let span = tracing::info_span!("return_request", return_order = %id);
            Ok(
                match request_return(ch, &walmart_return, deadline)
                    .instrument(span)
                    .await
                {
                    Ok(ReturnOutcome::Requested) => Seen::count(Counter::ReturnsRequested, 1),
                    Ok(ReturnOutcome::AlreadyRequested) => Seen::count(Counter::ReturnsKnown, 1),
                    Ok(ReturnOutcome::Busy) => Seen::count(Counter::Busy, 1).held(),
                    Ok(ReturnOutcome::WaitingForShipment) => {
                        Seen::count(Counter::ReturnsWaitingForShipment, 1).held()
                    }
                    Ok(ReturnOutcome::Failed(reason)) => {
                        Seen::count(Counter::ReturnsFailed, 1).problem(format!("return {id}: {reason}"))
                    }
                    Err(e) => Seen::failed(format_args!("return {id}"), &e),
                },
            )
        },
    )
    .await?;
    window.close(ch).await
}

/// What became of one Walmart return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnOutcome {
    Requested,
    AlreadyRequested,
    Busy,
    /// The order does not count the returned units as shipped yet: asked again next run, for at
    /// most [`SHIPMENT_WAIT`].
    WaitingForShipment,
    /// Recorded as Error with the reason.
    Failed(String),
}

/// The text naming a Walmart return in Commerce (RMA comment or order comment); also how an earlier
/// attempt's request is recognised.
fn return_marker(id: &ReturnOrderId) -> String {
    format!("Walmart return {id}")
}

/// The return request for Commerce: one item per Commerce order item (lines sharing a SKU share
/// one), with the channel's RMA attribute values.
pub fn return_request(
    ch_settings: &domain::OrderSettings,
    order: &OrderRecord,
    walmart_return: &ReturnRecord,
    commerce_order: domain::CommerceOrderId,
) -> Result<ReturnRequest, String> {
    let mut items: Vec<ReturnItem> = Vec::new();
    let mut described = Vec::new();
    for line in &walmart_return.lines {
        let item_id = order
            .line(line.order_line)
            .and_then(|l| l.order_item_id)
            .ok_or_else(|| format!("order line {} has no Commerce order item", line.order_line))?;
        described.push(format!(
            "line {} ({}) x{}",
            line.order_line, line.sku, line.quantity
        ));
        match items.iter_mut().find(|i| i.order_item_id == item_id) {
            Some(item) => item.qty += u64::from(line.quantity),
            None => items.push(ReturnItem {
                order_item_id: item_id,
                qty: u64::from(line.quantity),
                reason: ch_settings.rma_reason.clone(),
                condition: ch_settings.rma_condition.clone(),
                resolution: ch_settings.rma_resolution.clone(),
            }),
        }
    }
    if items.is_empty() {
        return Err("the return has no lines".to_owned());
    }
    Ok(ReturnRequest {
        order_id: commerce_order,
        items,
        comment: format!(
            "{} (purchase order {}): {}. Refund with a credit memo (offline).",
            return_marker(&walmart_return.return_order_id),
            walmart_return.purchase_order,
            described.join(", ")
        ),
    })
}

impl OnceOutcome for ReturnOutcome {
    const DONE_BEFORE: Self = ReturnOutcome::AlreadyRequested;
    const BUSY: Self = ReturnOutcome::Busy;
    fn done_for_good(&self) -> bool {
        matches!(self, ReturnOutcome::Requested)
    }
}

async fn request_return(
    ch: &Channel,
    walmart_return: &WalmartReturn,
    deadline: &Deadline,
) -> Result<ReturnOutcome, OpError> {
    let id = &walmart_return.return_order_id;
    let key = return_key(&ch.settings.id, id);
    let existing = ch.store.load::<ReturnRecord>(&key).await?;
    if let Some(existing) = &existing
        && !matches!(
            existing.record.status(),
            domain::ReturnStatus::Received | domain::ReturnStatus::Error { .. }
        )
    {
        return Ok(ReturnOutcome::AlreadyRequested);
    }
    // An earlier attempt got as far as recording the return: it may have made the request too.
    let may_exist = existing.is_some();
    if existing.is_none() {
        let Some(po) = walmart_return.purchase_order_id.clone() else {
            return Ok(ReturnOutcome::Failed(
                "Walmart's return names no purchase order; it is not recorded".to_owned(),
            ));
        };
        let mut record = ReturnRecord::receive(
            ch.settings.id.clone(),
            id.clone(),
            po,
            walmart_return.lines.clone(),
            ch.clock.now(),
        );
        record.opened_at = walmart_return.returned_at;
        ch.store.insert_new(&record).await?;
    }
    let work = |lease| request_claimed(ch, lease, id, may_exist, deadline);
    ClaimKind::ReturnRequest
        .on(id)
        .keeping(serde_json::json!({ "requested": true }))
        .once(ch, deadline, work)
        .await
}

async fn request_claimed(
    ch: &Channel,
    lease: Lease,
    id: &ReturnOrderId,
    may_exist: bool,
    deadline: &Deadline,
) -> Result<ReturnOutcome, OpError> {
    let key = return_key(&ch.settings.id, id);
    let record = ch
        .store
        .load::<ReturnRecord>(&key)
        .await?
        .ok_or_else(|| OpError::missing("return", id, "vanished"))?
        .record;
    let po = record.purchase_order.clone();
    let Some(order) = load_order(ch.store.as_ref(), &ch.settings.id, &po).await? else {
        let reason = format!("purchase order {po} is not known to the channel");
        fail_return(ch, id, None, reason.clone()).await?;
        return Ok(ReturnOutcome::Failed(reason));
    };
    let Some(link) = order.record.commerce_link().cloned() else {
        let reason = format!("purchase order {po} has no Commerce order");
        fail_return(ch, id, Some(&po), reason.clone()).await?;
        return Ok(ReturnOutcome::Failed(reason));
    };
    // Walmart shows a return only of shipped units; the order must count them shipped before the
    // return is requested, or the merchant's refund would find no returned units to refund.
    if !order.record.returns().contains(id)
        && let Err(unfit) = fits_shipped_units(&order.record, &record)
    {
        let waited = ch.clock.now().since(record.received_at);
        if waited < SHIPMENT_WAIT {
            tracing::info!(return_order = %id, %unfit, "return waits for its shipment to be recorded");
            return Ok(ReturnOutcome::WaitingForShipment);
        }
        let reason = format!(
            "return {id} does not fit the order's shipped units after waiting {} min for the shipment: {unfit}",
            waited.as_secs() / 60
        );
        fail_return(ch, id, Some(&po), reason.clone()).await?;
        return Ok(ReturnOutcome::Failed(reason));
    }
    let request = match return_request(&ch.settings.orders, &order.record, &record, link.order_id) {
        Ok(request) => request,
        Err(reason) => {
            fail_return(ch, id, Some(&po), reason.clone()).await?;
            return Ok(ReturnOutcome::Failed(reason));
        }
    };
    let found = if may_exist {
        find_request(ch, link.order_id, id, deadline).await?
    } else {
        None
    };
    if found.is_none() {
        lease.keep_for_action(ch, deadline).await?;
    }
    let recorded = match found {
        Some(recorded) => recorded,
        None => match ch.commerce.request_return(&request, deadline).await {
            Ok(recorded) => recorded,
            Err(e) if caused_by_request(&e) => {
                let reason = format!("Commerce refused the return request: {}", e.message);
                fail_return(ch, id, Some(&po), reason.clone()).await?;
                return Ok(ReturnOutcome::Failed(reason));
            }
            Err(e) => return Err(e.into()),
        },
    };
    record_requested(ch, id, &po, &recorded).await
}

/// Records the request Commerce holds for return `id` on the return and the order, saved together;
/// retried while the order changes under it.
async fn record_requested(
    ch: &Channel,
    id: &ReturnOrderId,
    po: &PurchaseOrderId,
    recorded: &ReturnRecorded,
) -> Result<ReturnOutcome, OpError> {
    let key = return_key(&ch.settings.id, id);
    for _ in 0..RACE_ATTEMPTS {
        let now = ch.clock.now();
        let mut order = recorded_order(ch, po, "vanished").await?;
        let mut ret = ch
            .store
            .load::<ReturnRecord>(&key)
            .await?
            .ok_or_else(|| OpError::missing("return", id, "vanished"))?;
        ret.record.requested_in_commerce(recorded.rma(), now)?;
        let task = SyncTask::ReturnRequest {
            return_order_id: id.clone(),
        };
        if order.record.link_return(id.clone(), now) {
            let mut refused = None;
            for line in &ret.record.lines {
                if let Err(e) = order.record.return_requested(line.order_line, line.quantity, now) {
                    refused = Some(format!("return {id} does not fit the order's shipped units: {e}"));
                }
            }
            match refused {
                Some(reason) => order.record.sync_failed(task, reason, now),
                None => {
                    order.record.sync_recovered(&task, now);
                }
            }
        }
        match save_both(ch, &mut order, &mut ret).await {
            Ok(()) => {
                tracing::info!(rma = ?recorded.rma(), "Walmart return requested in Commerce");
                return Ok(ReturnOutcome::Requested);
            }
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::Busy(format!(
        "order {po} kept changing while recording return {id}"
    )))
}

/// Whether the order counts every returned unit of `ret` as shipped and not returned yet.
fn fits_shipped_units(order: &OrderRecord, ret: &ReturnRecord) -> Result<(), String> {
    let mut trial = order.clone();
    for line in &ret.lines {
        trial
            .return_requested(line.order_line, line.quantity, ret.received_at)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A request an earlier attempt made: an RMA whose comments name the return, or (without the RMA
/// module) an order comment naming it.
async fn find_request(
    ch: &Channel,
    order_id: domain::CommerceOrderId,
    id: &ReturnOrderId,
    deadline: &Deadline,
) -> Result<Option<ReturnRecorded>, OpError> {
    let marker = return_marker(id);
    if ch.commerce.returns_supported(deadline).await? {
        let rmas = ch.commerce.returns_for_order(order_id, deadline).await?;
        Ok(rmas
            .iter()
            .find(|rma| rma.comments.iter().any(|c| c.comment.contains(&marker)))
            .map(|rma| ReturnRecorded::Rma(rma.entity_id)))
    } else {
        let order = ch.commerce.get_order(order_id, deadline).await?;
        Ok(order
            .status_histories
            .iter()
            .any(|h| h.comment.contains(&marker))
            .then_some(ReturnRecorded::OrderComment))
    }
}

/// The return shows Error with the reason (and its order too, when known).
async fn fail_return(
    ch: &Channel,
    id: &ReturnOrderId,
    po: Option<&PurchaseOrderId>,
    reason: String,
) -> Result<(), OpError> {
    let now = ch.clock.now();
    ch.store
        .update::<ReturnRecord, OpError, _>(&return_key(&ch.settings.id, id), |r| {
            r.failed(reason.clone(), now)?;
            Ok(true)
        })
        .await?;
    if let Some(po) = po {
        let task = SyncTask::ReturnRequest {
            return_order_id: id.clone(),
        };
        ch.store
            .update::<OrderRecord, OpError, _>(&ports::records::order_key(&ch.settings.id, po), |r| {
                r.sync_failed(task.clone(), reason.clone(), now);
                Ok(true)
            })
            .await?;
    }
    tracing::warn!(%reason, "Walmart return not requested in Commerce");
    Ok(())
}

// ------------------------------------------------------------------ credit memos → Walmart refunds

async fn report_refunds(ch: &Channel, deadline: &Deadline, report: &mut RunReport) -> Result<(), OpError> {
    let memos = StreamScan {
        stream: Stream::CommerceCreditMemos,
        overlap: MEMO_OVERLAP,
        page_size: MEMO_PAGE,
        what: "credit memos",
    };
    scan(
        ch,
        memos,
        deadline,
        report,
        |from, request| ch.commerce.credit_memos_page(from, request, deadline),
        |memo: &CreditMemo| memo.updated_at,
        |memo| async move {
            let span = tracing::info_span!("refund", credit_memo = memo.entity_id.0, order_id = memo.order_id.0);
            match report_memo(ch, &memo, deadline).instrument(span).await {
                Ok(RefundOutcome::Reported { returns }) => Seen::count(Counter::ReturnsRefunded, returns),
                Ok(RefundOutcome::AlreadyReported) => Seen::count(Counter::CreditMemosKnown, 1),
                Ok(RefundOutcome::NotChannel) => Seen::count(Counter::NotChannelOrders, 1),
                Ok(RefundOutcome::NoReturn) => Seen::count(Counter::CreditMemosWithoutReturn, 1).problem(format!(
                    "credit memo {} refunds no Walmart return awaiting a refund; report it on Walmart by hand if needed",
                    memo.entity_id
                )),
                Ok(RefundOutcome::Busy) => Seen::count(Counter::Busy, 1).held(),
                Ok(RefundOutcome::WaitingForReturn) => Seen::count(Counter::CreditMemosWaitingForReturn, 1).held(),
                Ok(RefundOutcome::Failed(reason)) => Seen::count(Counter::RefundsFailed, 1)
                    .problem(format!("credit memo {}: {reason}", memo.entity_id)),
                Err(e) => Seen::failed(format_args!("credit memo {}", memo.entity_id), &e),
            }
        },
    )
    .await
}

/// What became of one credit memo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Reported {
        returns: u64,
    },
    AlreadyReported,
    NotChannel,
    NoReturn,
    /// A Walmart return of the order is still on its way into Commerce (received, not yet
    /// requested: its holder is slow or died): the memo is read again once it is.
    WaitingForReturn,
    Busy,
    Failed(String),
}

/// Units and amount a credit memo refunds, per order line: each memo item's units spread over the
/// lines placed as that item, filling their returned-but-unrefunded units in line order.
pub fn memo_refunds_by_line(
    order: &OrderRecord,
    items: &[CreditMemoItem],
) -> BTreeMap<LineNumber, (u32, Money)> {
    let mut out: BTreeMap<LineNumber, (u32, Money)> = BTreeMap::new();
    for item in items {
        let qty = item.qty;
        if qty == 0 {
            continue;
        }
        let unit = item.unit_price.unwrap_or(Money::ZERO);
        let mut left = qty;
        for number in order.lines_of_item(item.order_item_id, item.sku.as_ref()) {
            if left == 0 {
                break;
            }
            let taken = out.get(&number).map_or(0, |(q, _)| *q);
            let room = order
                .line(number)
                .map_or(0, |l| l.returned - l.refunded)
                .saturating_sub(taken);
            let take = room.min(left);
            if take > 0 {
                let entry = out.entry(number).or_insert((0, Money::ZERO));
                entry.0 += take;
                entry.1 = entry.1 + unit * take;
                left -= take;
            }
        }
    }
    out
}

/// Which returns (oldest first) a memo's per-line refunds cover entirely, and which only in part.
pub fn match_returns<'a>(
    awaiting: &'a [ReturnRecord],
    refunds: &BTreeMap<LineNumber, (u32, Money)>,
) -> (Vec<&'a ReturnRecord>, Vec<&'a ReturnRecord>) {
    let mut left: BTreeMap<LineNumber, u32> = refunds.iter().map(|(l, (q, _))| (*l, *q)).collect();
    let mut covered = Vec::new();
    let mut partial = Vec::new();
    for ret in awaiting {
        let fits = ret
            .lines
            .iter()
            .all(|l| left.get(&l.order_line).copied().unwrap_or(0) >= l.quantity);
        if fits {
            for l in &ret.lines {
                if let Some(q) = left.get_mut(&l.order_line) {
                    *q -= l.quantity;
                }
            }
            covered.push(ret);
        } else if ret
            .lines
            .iter()
            .any(|l| left.get(&l.order_line).copied().unwrap_or(0) > 0)
        {
            partial.push(ret);
        }
    }
    (covered, partial)
}

impl OnceOutcome for RefundOutcome {
    const DONE_BEFORE: Self = RefundOutcome::AlreadyReported;
    const BUSY: Self = RefundOutcome::Busy;
    fn done_for_good(&self) -> bool {
        matches!(self, RefundOutcome::Reported { .. })
    }
}

async fn report_memo(ch: &Channel, memo: &CreditMemo, deadline: &Deadline) -> Result<RefundOutcome, OpError> {
    let memo_id = memo.entity_id;
    let Some(po) = purchase_order_of(ch.store.as_ref(), &ch.settings.id, memo.order_id).await? else {
        return Ok(RefundOutcome::NotChannel);
    };
    let plan = match memo_plan(ch, &po, memo, "is indexed but not recorded").await? {
        Ok(plan) => plan,
        Err(reported) => return Ok(reported),
    };
    if plan.covered.is_empty() && plan.partial.is_empty() {
        if return_on_its_way(ch, &po).await? {
            return Ok(RefundOutcome::WaitingForReturn);
        }
        return Ok(RefundOutcome::NoReturn);
    }
    let work = |lease| report_claimed(ch, lease, &po, memo, memo_id, deadline);
    ClaimKind::Refund
        .on(memo_id)
        .keeping(serde_json::json!({ "purchase_order": po }))
        .once(ch, deadline, work)
        .await
}

/// What a credit memo refunds: the returns awaiting a refund that it covers whole, and those it
/// covers only in part.
struct MemoPlan {
    order: OrderRecord,
    refunds: BTreeMap<LineNumber, (u32, Money)>,
    covered: Vec<ReturnRecord>,
    partial: Vec<ReturnRecord>,
}

/// Reads the order of `po` and its returns for `memo`; `Err` is the outcome when the memo was
/// reported already. `why` says how a missing order record went missing.
async fn memo_plan(
    ch: &Channel,
    po: &PurchaseOrderId,
    memo: &CreditMemo,
    why: &'static str,
) -> Result<Result<MemoPlan, RefundOutcome>, OpError> {
    let order = recorded_order(ch, po, why).await?.record;
    let returns = load_returns(ch, &order).await?;
    if returns.iter().any(|r| refunded_by(r, memo.entity_id)) {
        return Ok(Err(RefundOutcome::AlreadyReported));
    }
    let awaiting: Vec<ReturnRecord> = returns.into_iter().filter(ReturnRecord::awaits_refund).collect();
    let refunds = memo_refunds_by_line(&order, &memo.items);
    let (covered, partial) = match_returns(&awaiting, &refunds);
    let (covered, partial) = (
        covered.into_iter().cloned().collect(),
        partial.into_iter().cloned().collect(),
    );
    Ok(Ok(MemoPlan {
        order,
        refunds,
        covered,
        partial,
    }))
}

fn refunded_by(ret: &ReturnRecord, memo: CreditMemoId) -> bool {
    matches!(ret.status(), domain::ReturnStatus::Refunded { credit_memo, .. } if *credit_memo == memo)
}

/// Whether a Walmart return of `po` is recorded as received but not yet requested in Commerce: the
/// merchant may refund it before it is (its holder was slow or died). Received returns are few and
/// indexed by status, so this reads only them.
async fn return_on_its_way(ch: &Channel, po: &PurchaseOrderId) -> Result<bool, OpError> {
    let received = return_status_pk(&ch.settings.id, domain::ReturnStatus::Received.as_str());
    let mut query = Query::status_index(received).limit(100);
    loop {
        let (page, next) = ch.store.query_records::<ReturnRecord>(&query).await?;
        if page.iter().any(|r| &r.record.purchase_order == po) {
            return Ok(true);
        }
        match next {
            Some(token) => query = query.after(Some(token)),
            None => return Ok(false),
        }
    }
}

async fn load_returns(ch: &Channel, order: &OrderRecord) -> Result<Vec<ReturnRecord>, OpError> {
    let mut out = Vec::new();
    for id in order.returns() {
        if let Some(v) = ch
            .store
            .load::<ReturnRecord>(&return_key(&ch.settings.id, id))
            .await?
        {
            out.push(v.record);
        }
    }
    out.sort_by_key(|r| r.received_at);
    Ok(out)
}

async fn report_claimed(
    ch: &Channel,
    lease: Lease,
    po: &PurchaseOrderId,
    memo: &CreditMemo,
    memo_id: CreditMemoId,
    deadline: &Deadline,
) -> Result<RefundOutcome, OpError> {
    // Re-read under the claim: the previous holder may have reported some of it.
    let MemoPlan {
        order,
        refunds,
        covered,
        partial,
    } = match memo_plan(ch, po, memo, "vanished").await? {
        Ok(plan) => plan,
        Err(reported) => return Ok(reported),
    };
    let task = SyncTask::Refund { credit_memo: memo_id };
    for ret in &partial {
        let reason = format!(
            "credit memo {memo_id} refunds only part of Walmart return {}; Walmart refunds whole return \
             lines, so finish the refund on Walmart by hand",
            ret.return_order_id
        );
        fail_return(ch, &ret.return_order_id, None, reason.clone()).await?;
        mark_order_problem(ch, po, task.clone(), reason).await?;
    }
    let mut reported = 0;
    let mut unit_amounts: BTreeMap<LineNumber, Money> = BTreeMap::new();
    for (line, (qty, amount)) in &refunds {
        if *qty > 0 {
            unit_amounts.insert(*line, Money::from_cents(amount.cents() / i64::from(*qty)));
        }
    }
    for ret in covered {
        let lines: Vec<u32> = ret.lines.iter().map(|l| l.return_line).collect();
        let customer_order = order.order.customer_order_id.clone();
        lease.keep_for_action(ch, deadline).await?;
        if let Err(e) = ch
            .walmart
            .refund_return(&ret.return_order_id, &customer_order, &lines, deadline)
            .await
        {
            // Refused (a line Walmart refunded already, e.g. by its automatic refund) or an
            // ambiguous outcome (the refund may have been paid): Walmart's return says which.
            // A refund is never sent twice on a guess.
            if !refunded_on_walmart(ch, &ret.return_order_id, &lines, deadline).await? {
                if !caused_by_request(&e) {
                    return Err(e.into());
                }
                let reason = format!(
                    "Walmart refused the refund of return {}: {e}",
                    ret.return_order_id
                );
                fail_return(ch, &ret.return_order_id, None, reason.clone()).await?;
                mark_order_problem(ch, po, task.clone(), reason).await?;
                continue;
            }
            tracing::info!(return_order = %ret.return_order_id, error = %e,
                "Walmart shows the return refunded already; recorded as done");
        }
        record_refund(
            ch,
            po,
            &ret.return_order_id,
            memo_id,
            memo.updated_at,
            &unit_amounts,
        )
        .await?;
        reported += 1;
    }
    if reported == 0 {
        return Ok(RefundOutcome::Failed(format!(
            "credit memo {memo_id} refunded no whole Walmart return"
        )));
    }
    Ok(RefundOutcome::Reported { returns: reported })
}

/// Whether Walmart's return shows every one of `lines` (return line numbers) refunded.
async fn refunded_on_walmart(
    ch: &Channel,
    id: &ReturnOrderId,
    lines: &[u32],
    deadline: &Deadline,
) -> Result<bool, OpError> {
    let Some(on_walmart) = ch.walmart.get_return(id, deadline).await? else {
        return Ok(false);
    };
    Ok(lines.iter().all(|n| on_walmart.refunded_lines.contains(n)))
}

/// The return is Refunded with the credit memo's amount for its lines; the order counts the
/// refunded units and amounts. One transaction, redone on a lost race. `memo_at` is the credit
/// memo's time in Commerce (when the merchant refunded), for the refund's delay.
async fn record_refund(
    ch: &Channel,
    po: &PurchaseOrderId,
    id: &ReturnOrderId,
    memo_id: CreditMemoId,
    memo_at: Option<Timestamp>,
    unit_amounts: &BTreeMap<LineNumber, Money>,
) -> Result<(), OpError> {
    let key = return_key(&ch.settings.id, id);
    for _ in 0..RACE_ATTEMPTS {
        let now = ch.clock.now();
        let mut order: Versioned<OrderRecord> = recorded_order(ch, po, "vanished").await?;
        let mut ret = ch
            .store
            .load::<ReturnRecord>(&key)
            .await?
            .ok_or_else(|| OpError::missing("return", id, "vanished"))?;
        if refunded_by(&ret.record, memo_id) {
            return Ok(());
        }
        let mut total = Money::ZERO;
        for line in &ret.record.lines {
            let amount = unit_amounts.get(&line.order_line).copied().unwrap_or(Money::ZERO) * line.quantity;
            total = total + amount;
            if let Err(e) = order.record.refunded(line.order_line, line.quantity, amount, now) {
                order.record.sync_failed(
                    SyncTask::Refund { credit_memo: memo_id },
                    format!("refund of return {id} does not fit the order's returned units: {e}"),
                    now,
                );
            }
        }
        ret.record.refunded(memo_id, total, now)?;
        ret.record.refund_issued_at = memo_at;
        if total != ret.record.refund_total() {
            tracing::info!(commerce = %total, walmart = %ret.record.refund_total(),
                "credit memo amount differs from Walmart's refund amount of the return");
        }
        match save_both(ch, &mut order, &mut ret).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::Busy(format!(
        "order {po} kept changing while recording a refund"
    )))
}

async fn mark_order_problem(
    ch: &Channel,
    po: &PurchaseOrderId,
    task: SyncTask,
    reason: String,
) -> Result<(), OpError> {
    let now = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&ports::records::order_key(&ch.settings.id, po), |r| {
            r.sync_failed(task.clone(), reason.clone(), now);
            Ok(true)
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::fixtures::{created_record, purchase_order};
    use domain::{ChannelId, CommerceOrderId, ReturnLine, RmaId, Sku, Timestamp, WalmartLineStatus};

    fn order() -> OrderRecord {
        let order = purchase_order(
            &[(1, "A", 2), (2, "B", 1)],
            1000,
            WalmartLineStatus::Shipped,
            "Standard",
        );
        let mut r = created_record(order, &[(1, 70), (2, 80)]);
        let now = Timestamp::from_millis(1);
        r.ship(LineNumber(1), 2, now).unwrap();
        r.ship(LineNumber(2), 1, now).unwrap();
        r
    }

    fn walmart_return(id: &str, lines: &[(u32, u32, u32)]) -> ReturnRecord {
        let mut r = ReturnRecord::receive(
            ChannelId::new("main").unwrap(),
            ReturnOrderId::new(id).unwrap(),
            PurchaseOrderId::new("1796000000001").unwrap(),
            lines
                .iter()
                .map(|(return_line, order_line, quantity)| ReturnLine {
                    return_line: *return_line,
                    order_line: LineNumber(*order_line),
                    sku: Sku::new(if *order_line == 1 { "A" } else { "B" }).unwrap(),
                    quantity: *quantity,
                    refund_amount: Money::from_cents(1000) * *quantity,
                })
                .collect(),
            Timestamp::from_millis(1),
        );
        r.requested_in_commerce(Some(RmaId(1)), Timestamp::from_millis(2))
            .unwrap();
        r
    }

    fn memo_item(item: u64, qty: u32, price: f64) -> CreditMemoItem {
        CreditMemoItem {
            order_item_id: Some(item),
            qty,
            unit_price: Money::from_decimal(price).ok(),
            ..CreditMemoItem::default()
        }
    }

    #[test]
    fn return_requests_group_lines_by_commerce_item() {
        let settings = domain::OrderSettings {
            rma_reason: "32".into(),
            ..domain::OrderSettings::default()
        };
        let ret = walmart_return("R1", &[(1, 1, 1), (2, 2, 1)]);
        let request = return_request(&settings, &order(), &ret, CommerceOrderId(9)).unwrap();
        assert_eq!(request.items.len(), 2);
        assert_eq!(request.items[0].order_item_id, 70);
        assert_eq!(request.items[0].reason, "32");
        assert!(
            request
                .comment
                .starts_with("Walmart return R1 (purchase order 1796000000001)")
        );
        let unlinked: OrderRecord = {
            let mut v = serde_json::to_value(order()).unwrap();
            v["lines"][0]["order_item_id"] = serde_json::Value::Null;
            serde_json::from_value(v).unwrap()
        };
        assert!(return_request(&settings, &unlinked, &ret, CommerceOrderId(9)).is_err());
    }

    #[test]
    fn memos_refund_returned_units_and_cover_whole_returns() {
        let now = Timestamp::from_millis(3);
        let mut o = order();
        o.return_requested(LineNumber(1), 2, now).unwrap();
        o.return_requested(LineNumber(2), 1, now).unwrap();
        let r1 = walmart_return("R1", &[(1, 1, 1)]);
        let r2 = walmart_return("R2", &[(1, 1, 1), (2, 2, 1)]);
        let awaiting = vec![r1, r2];

        let one = memo_refunds_by_line(&o, &[memo_item(70, 1, 10.0)]);
        assert_eq!(one[&LineNumber(1)], (1, Money::from_cents(1000)));
        let (covered, partial) = match_returns(&awaiting, &one);
        assert_eq!(covered.len(), 1);
        assert_eq!(covered[0].return_order_id.as_str(), "R1");
        assert!(partial.is_empty());

        let all = memo_refunds_by_line(&o, &[memo_item(70, 2, 10.0), memo_item(80, 1, 10.0)]);
        let (covered, partial) = match_returns(&awaiting, &all);
        assert_eq!(covered.len(), 2);
        assert!(partial.is_empty());

        let short = memo_refunds_by_line(&o, &[memo_item(80, 1, 10.0)]);
        let (covered, partial) = match_returns(&awaiting, &short);
        assert!(covered.is_empty());
        assert_eq!(partial.len(), 1, "R2 only in part");

        let more_than_returned = memo_refunds_by_line(&o, &[memo_item(70, 5, 10.0)]);
        assert_eq!(more_than_returned[&LineNumber(1)].0, 2);
    }
}
