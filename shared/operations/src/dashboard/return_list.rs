//! The returns page: Adobe's return states (Received, Refunded, Error) with the purchase order, the
//! Commerce return (RMA) and credit memo, amounts and lines; newest first within a received-date
//! range, through the returns' status-index partitions.

use domain::{
    CreditMemoId, Money, PurchaseOrderId, ReturnLine, ReturnOrderId, ReturnRecord, ReturnStatus, RmaId,
    Timestamp,
};
use ports::records::return_status_pk;
use ports::{PageToken, StoreError};
use serde::{Deserialize, Serialize};

use super::order_list::merged_page;
use super::{DateRange, ReturnBucket, RowsPage};
use crate::Channel;

/// Adobe's return states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnState {
    /// Pulled from Walmart, requested in Commerce or on its way there.
    Received,
    Refunded,
    Error,
}

impl ReturnState {
    pub const ALL: [ReturnState; 3] = [ReturnState::Received, ReturnState::Refunded, ReturnState::Error];

    pub fn buckets(self) -> &'static [ReturnBucket] {
        match self {
            ReturnState::Received => &[ReturnBucket::Received, ReturnBucket::RequestedInCommerce],
            ReturnState::Refunded => &[ReturnBucket::Refunded],
            ReturnState::Error => &[ReturnBucket::Error],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReturnState::Received => "Received",
            ReturnState::Refunded => "Refunded",
            ReturnState::Error => "Error",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnState::Received => "received",
            ReturnState::Refunded => "refunded",
            ReturnState::Error => "error",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One row of the returns table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnRow {
    pub return_order_id: ReturnOrderId,
    pub purchase_order: PurchaseOrderId,
    pub state: ReturnState,
    pub status_label: &'static str,
    /// Requested in Commerce (an RMA on Adobe Commerce; an order comment on Magento Open Source).
    pub requested_in_commerce: bool,
    pub commerce_return: Option<RmaId>,
    pub credit_memo: Option<CreditMemoId>,
    /// What Walmart expects to refund, and what was refunded.
    pub refund_expected: Money,
    pub refunded: Option<Money>,
    pub error: Option<String>,
    pub lines: Vec<ReturnLine>,
    pub received_at: Timestamp,
    pub updated_at: Timestamp,
}

pub fn return_row(record: &ReturnRecord) -> ReturnRow {
    let (state, credit_memo, refunded, error, requested) = match record.status() {
        ReturnStatus::Received => (ReturnState::Received, None, None, None, false),
        ReturnStatus::RequestedInCommerce { .. } => (ReturnState::Received, None, None, None, true),
        ReturnStatus::Refunded { credit_memo, amount } => (
            ReturnState::Refunded,
            Some(*credit_memo),
            Some(*amount),
            None,
            true,
        ),
        ReturnStatus::Error { reason } => (ReturnState::Error, None, None, Some(reason.clone()), false),
    };
    ReturnRow {
        return_order_id: record.return_order_id.clone(),
        purchase_order: record.purchase_order.clone(),
        state,
        status_label: record.status().adobe_label(),
        requested_in_commerce: requested,
        commerce_return: record.rma(),
        credit_memo,
        refund_expected: record.refund_total(),
        refunded,
        error,
        lines: record.lines.clone(),
        received_at: record.received_at,
        updated_at: record.updated_at,
    }
}

/// A page of returns in a state (every state when `None`), newest first, within the received-date
/// range.
pub async fn return_rows(
    ch: &Channel,
    state: Option<ReturnState>,
    range: DateRange,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<ReturnRow>, StoreError> {
    let states: Vec<ReturnState> = match state {
        Some(state) => vec![state],
        None => ReturnState::ALL.to_vec(),
    };
    let partitions = states
        .iter()
        .flat_map(|s| s.buckets())
        .map(|b| return_status_pk(&ch.settings.id, b.as_str()))
        .collect();
    let page = merged_page::<ReturnRecord>(ch.store.as_ref(), partitions, range, limit, after).await?;
    Ok(RowsPage {
        rows: page.rows.iter().map(return_row).collect(),
        next: page.next,
    })
}

/// A return by its Walmart return order id.
pub async fn find_return(ch: &Channel, id: &ReturnOrderId) -> Result<Option<ReturnRow>, StoreError> {
    use ports::Records;
    Ok(ch
        .store
        .load::<ReturnRecord>(&super::return_key(&ch.settings.id, id))
        .await?
        .map(|v| return_row(&v.record)))
}
