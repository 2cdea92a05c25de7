//! Shipments, returns (Adobe Commerce RMA, with a documented fallback for Magento Open Source) and
//! offline refunds (credit memos).
//!
//! # Returns without RMA
//! Magento Open Source has no RMA module: `GET /V1/returns` answers 404 ("Request does not match
//! any route"). [`CommerceClient::returns_supported`] detects this once per client. Without RMA,
//! [`CommerceClient::request_return`] records the Walmart return as an order status-history
//! comment instead, and the merchant refunds with an offline credit memo as usual; credit memos
//! are found by [`CommerceClient::credit_memos_updated_since`] either way.

use domain::{CommerceOrderId, CreditMemoId, RmaId, Timestamp};
use ports::Deadline;
use reqwest::Method;
use serde_json::json;

use crate::client::{Call, CommerceClient, Paged};
use crate::error::CommerceError;
use crate::search::{Condition, Direction, SearchCriteria};
use crate::wire::lenient::Number;
use crate::wire::{CreditMemo, ItemQuantity, Order, Rma, RmaItem, Shipment};
pub use ports::commerce::{RefundArguments, ReturnItem, ReturnRecorded, ReturnRequest};

/// Shipment ids per `entity_id in (...)` search (one page at the client's default size).
const SHIPMENTS_PER_QUERY: usize = 100;

impl CommerceClient {
    /// Shipments changed at or after `since`, with their items and tracks.
    pub fn shipments_updated_since(&self, since: Timestamp) -> Paged<Shipment> {
        let criteria = SearchCriteria::new()
            .filter("updated_at", Condition::Gteq, since.to_commerce())
            .sort_by("updated_at", Direction::Asc)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/shipments", "shipments", criteria)
    }

    /// The shipments with these entity ids, with their items and tracks (unknown ids are absent).
    /// Magento adds a track to a shipment without touching the shipment's `updated_at`
    /// (`Sales/Model/Order/Shipment/TrackRepository::save` writes only the track row), so a shipment
    /// waiting for its tracking number is read again by id, never found again by `updated_at`.
    pub async fn shipments_by_ids(
        &self,
        ids: &[u64],
        deadline: &Deadline,
    ) -> Result<Vec<Shipment>, CommerceError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(SHIPMENTS_PER_QUERY) {
            let criteria = SearchCriteria::new()
                .any_of(vec![crate::search::Filter::in_list(
                    "entity_id",
                    chunk.iter().map(u64::to_string),
                )])
                .sort_by("entity_id", Direction::Asc);
            found.extend(
                self.paged::<Shipment>("GET /V1/shipments", "shipments", criteria)
                    .collect_all(deadline)
                    .await?,
            );
        }
        Ok(found)
    }

    /// Whether the store has Adobe Commerce's RMA module; asked once, then remembered.
    pub async fn returns_supported(&self, deadline: &Deadline) -> Result<bool, CommerceError> {
        if let Ok(known) = self.inner.rma_supported.lock()
            && let Some(known) = *known
        {
            return Ok(known);
        }
        let probe = SearchCriteria::new().page_size(1).current_page(1);
        let call = Call::get("GET /V1/returns", "returns").query(probe.to_query());
        let supported = match self.execute::<serde_json::Value>(&call, deadline).await {
            Ok(_) => true,
            // Open Source has no `/V1/returns` route at all.
            Err(CommerceError::NoRoute { .. }) => false,
            Err(other) => return Err(other),
        };
        if let Ok(mut known) = self.inner.rma_supported.lock() {
            *known = Some(supported);
        }
        tracing::info!(supported, "Commerce RMA module detection");
        Ok(supported)
    }

    /// Creates an RMA (Adobe Commerce only; see [`Self::request_return`] for the fallback).
    pub async fn create_return(
        &self,
        request: &ReturnRequest,
        order: &Order,
        deadline: &Deadline,
    ) -> Result<Rma, CommerceError> {
        let now = self.clock().now().to_commerce();
        let rma = Rma {
            increment_id: String::new(),
            entity_id: 0,
            order_id: request.order_id.0,
            order_increment_id: order.increment_id.clone(),
            store_id: 0,
            customer_id: order.customer_id.unwrap_or(0),
            date_requested: now,
            customer_custom_email: order.customer_email.clone(),
            items: request
                .items
                .iter()
                .map(|i| RmaItem {
                    order_item_id: i.order_item_id,
                    qty_requested: i.qty,
                    reason: i.reason.clone(),
                    condition: i.condition.clone(),
                    resolution: i.resolution.clone(),
                    status: "pending".to_owned(),
                    ..RmaItem::default()
                })
                .collect(),
            status: "pending".to_owned(),
            comments: vec![crate::wire::RmaComment {
                comment: request.comment.clone(),
                status: "pending".to_owned(),
                admin: true,
                created_at: self.clock().now().to_commerce(),
                ..crate::wire::RmaComment::default()
            }],
            tracks: Vec::new(),
        };
        let body = json!({ "rmaDataObject": rma });
        self.execute(
            // No idempotency key: returns-sync looks for the RMA before asking again.
            &Call::send(Method::POST, "POST /V1/returns", "returns", &body).once(),
            deadline,
        )
        .await
    }

    /// Records a Walmart return in Commerce: an RMA where the module exists, else an order comment.
    pub async fn request_return(
        &self,
        request: &ReturnRequest,
        deadline: &Deadline,
    ) -> Result<ReturnRecorded, CommerceError> {
        if self.returns_supported(deadline).await? {
            let order = self.get_order(request.order_id, deadline).await?;
            let rma = self.create_return(request, &order, deadline).await?;
            Ok(ReturnRecorded::Rma(RmaId(rma.entity_id)))
        } else {
            self.add_order_comment(
                request.order_id,
                &format!("Return requested on Walmart: {}", request.comment),
                deadline,
            )
            .await?;
            Ok(ReturnRecorded::OrderComment)
        }
    }

    /// RMAs of one order.
    pub fn returns_for_order(&self, order_id: CommerceOrderId) -> Paged<Rma> {
        let criteria = SearchCriteria::new()
            .filter("order_id", Condition::Eq, order_id.0.to_string())
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/returns", "returns", criteria)
    }

    /// RMAs requested at or after `since` (RMAs have no `updated_at`).
    pub fn returns_requested_since(&self, since: Timestamp) -> Paged<Rma> {
        let criteria = SearchCriteria::new()
            .filter("date_requested", Condition::Gteq, since.to_commerce())
            .sort_by("date_requested", Direction::Asc)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/returns", "returns", criteria)
    }

    /// Credit memos changed at or after `since`.
    pub fn credit_memos_updated_since(&self, since: Timestamp) -> Paged<CreditMemo> {
        let criteria = SearchCriteria::new()
            .filter("updated_at", Condition::Gteq, since.to_commerce())
            .sort_by("updated_at", Direction::Asc)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/creditmemos", "creditmemos", criteria)
    }

    /// Refunds offline (a credit memo without a payment gateway). The order must be invoiced for
    /// the refunded items. Returns the credit memo id.
    pub async fn refund_order_offline(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        arguments: RefundArguments,
        comment: Option<&str>,
        deadline: &Deadline,
    ) -> Result<CreditMemoId, CommerceError> {
        let mut body = json!({ "items": items, "notify": false });
        let mut args = serde_json::Map::new();
        for (name, value) in [
            ("shipping_amount", arguments.shipping_amount),
            ("adjustment_positive", arguments.adjustment_positive),
            ("adjustment_negative", arguments.adjustment_negative),
        ] {
            if let Some(value) = value {
                args.insert(name.to_owned(), json!(value));
            }
        }
        if !args.is_empty() {
            body["arguments"] = serde_json::Value::Object(args);
        }
        if let Some(comment) = comment {
            body["appendComment"] = json!(true);
            body["comment"] = json!({ "comment": comment, "is_visible_on_front": 0 });
        }
        let call = Call::send(
            Method::POST,
            "POST /V1/order/{orderId}/refund",
            format!("order/{}/refund", order_id.0),
            &body,
        )
        .once();
        self.execute::<Number<u64>>(&call, deadline)
            .await
            .map(|Number(id)| CreditMemoId(id))
    }
}
