//! `WalmartClient` as the channel's Walmart port.

use async_trait::async_trait;
use domain::{CustomerOrderId, FeedId, Gtin, Money, PurchaseOrderId, ReturnOrderId, Sku};
use ports::walmart::{
    CancelLine, CatalogItem, FeedStatusPage, FeedSummary, FeedType, ItemsPage, ItemsQuery, OrdersCursor,
    OrdersPage, OrdersQuery, RefundLine, ReturnsPage, ReturnsQuery, SellerItem, ShipLine, Walmart,
    WalmartOrder, WalmartReturn,
};
use ports::{Api, ApiError, ApiErrorKind, Deadline, bounded_message};

use crate::WalmartClient;
use crate::error::WalmartError;

impl From<WalmartError> for ApiError {
    fn from(e: WalmartError) -> Self {
        let (kind, code, retry_at) = match &e {
            WalmartError::Auth { .. } => (ApiErrorKind::Auth, None, None),
            WalmartError::Throttled { replenish_at, .. } => (ApiErrorKind::Throttled, None, *replenish_at),
            WalmartError::NotFound { .. } => (ApiErrorKind::NotFound, None, None),
            WalmartError::Validation { code, .. } => (ApiErrorKind::Validation, Some(code.clone()), None),
            WalmartError::Conflict { code, .. } => (ApiErrorKind::Conflict, Some(code.clone()), None),
            WalmartError::Server { .. } => (ApiErrorKind::Server, None, None),
            WalmartError::Timeout { .. } => (ApiErrorKind::Timeout, None, None),
            WalmartError::Malformed { .. } => (ApiErrorKind::Malformed, None, None),
            WalmartError::Transport { .. } => (ApiErrorKind::Transport, None, None),
            // Walmart never redirects: a redirect means the base URL points at something else.
            WalmartError::Redirected { .. } => (ApiErrorKind::Configuration, None, None),
            WalmartError::ResponseTooLarge { .. } => (ApiErrorKind::Malformed, None, None),
            WalmartError::DeadlineExceeded { .. } => (ApiErrorKind::DeadlineExceeded, None, None),
            WalmartError::InvalidInput(_) => (ApiErrorKind::Input, None, None),
        };
        ApiError {
            api: Api::Walmart,
            kind,
            message: bounded_message(&e.to_string()),
            code,
            retry_at,
        }
    }
}

#[async_trait]
impl Walmart for WalmartClient {
    async fn list_items(&self, query: &ItemsQuery, deadline: &Deadline) -> Result<ItemsPage, ApiError> {
        Ok(WalmartClient::list_items(self, query, deadline).await?)
    }

    async fn get_item(&self, sku: &Sku, deadline: &Deadline) -> Result<SellerItem, ApiError> {
        Ok(WalmartClient::get_item(self, sku, deadline).await?)
    }

    async fn search_catalog_by_gtin(
        &self,
        gtin: &Gtin,
        deadline: &Deadline,
    ) -> Result<Vec<CatalogItem>, ApiError> {
        Ok(WalmartClient::search_catalog_by_gtin(self, gtin, deadline).await?)
    }

    async fn submit_feed(
        &self,
        feed_type: FeedType,
        payload: &serde_json::Value,
        deadline: &Deadline,
    ) -> Result<FeedId, ApiError> {
        Ok(WalmartClient::submit_feed(self, feed_type, payload, deadline).await?)
    }

    async fn recent_feeds(&self, deadline: &Deadline) -> Result<Vec<FeedSummary>, ApiError> {
        Ok(WalmartClient::recent_feeds(self, deadline).await?)
    }

    async fn feed_status(
        &self,
        feed_id: &FeedId,
        offset: u32,
        limit: u32,
        deadline: &Deadline,
    ) -> Result<FeedStatusPage, ApiError> {
        Ok(WalmartClient::feed_status(self, feed_id, offset, limit, deadline).await?)
    }

    async fn get_inventory(&self, sku: &Sku, deadline: &Deadline) -> Result<u32, ApiError> {
        Ok(WalmartClient::get_inventory(self, sku, deadline).await?)
    }

    async fn update_inventory(&self, sku: &Sku, quantity: u32, deadline: &Deadline) -> Result<(), ApiError> {
        Ok(WalmartClient::update_inventory(self, sku, quantity, deadline).await?)
    }

    async fn update_price(&self, sku: &Sku, price: Money, deadline: &Deadline) -> Result<(), ApiError> {
        Ok(WalmartClient::update_price(self, sku, price, deadline).await?)
    }

    async fn list_orders(&self, query: &OrdersQuery, deadline: &Deadline) -> Result<OrdersPage, ApiError> {
        Ok(WalmartClient::list_orders(self, query, deadline).await?)
    }

    async fn next_orders(&self, cursor: &OrdersCursor, deadline: &Deadline) -> Result<OrdersPage, ApiError> {
        Ok(WalmartClient::next_orders(self, cursor, deadline).await?)
    }

    async fn get_order(&self, po: &PurchaseOrderId, deadline: &Deadline) -> Result<WalmartOrder, ApiError> {
        Ok(WalmartClient::get_order(self, po, deadline).await?)
    }

    async fn acknowledge(&self, po: &PurchaseOrderId, deadline: &Deadline) -> Result<WalmartOrder, ApiError> {
        Ok(WalmartClient::acknowledge(self, po, deadline).await?)
    }

    async fn ship(
        &self,
        po: &PurchaseOrderId,
        lines: &[ShipLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        Ok(WalmartClient::ship(self, po, lines, deadline).await?)
    }

    async fn cancel_lines(
        &self,
        po: &PurchaseOrderId,
        lines: &[CancelLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        Ok(WalmartClient::cancel_lines(self, po, lines, deadline).await?)
    }

    async fn refund_lines(
        &self,
        po: &PurchaseOrderId,
        lines: &[RefundLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        Ok(WalmartClient::refund_lines(self, po, lines, deadline).await?)
    }

    async fn list_returns(&self, query: &ReturnsQuery, deadline: &Deadline) -> Result<ReturnsPage, ApiError> {
        Ok(WalmartClient::list_returns(self, query, deadline).await?)
    }

    async fn next_returns(&self, cursor: &str, deadline: &Deadline) -> Result<ReturnsPage, ApiError> {
        Ok(WalmartClient::next_returns(self, cursor, deadline).await?)
    }

    async fn get_return(
        &self,
        return_order_id: &ReturnOrderId,
        deadline: &Deadline,
    ) -> Result<Option<WalmartReturn>, ApiError> {
        Ok(WalmartClient::get_return(self, return_order_id, deadline).await?)
    }

    async fn refund_return(
        &self,
        return_order_id: &ReturnOrderId,
        customer_order_id: &CustomerOrderId,
        return_lines: &[u32],
        deadline: &Deadline,
    ) -> Result<(), ApiError> {
        Ok(
            WalmartClient::refund_return(self, return_order_id, customer_order_id, return_lines, deadline)
                .await?,
        )
    }

    async fn list_subscriptions(
        &self,
        deadline: &Deadline,
    ) -> Result<Vec<ports::webhooks::Subscription>, ApiError> {
        Ok(WalmartClient::list_subscriptions(self, deadline).await?)
    }

    async fn create_subscription(
        &self,
        request: &ports::webhooks::SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<String, ApiError> {
        Ok(WalmartClient::create_subscription(self, request, deadline).await?)
    }

    async fn update_subscription(
        &self,
        subscription_id: &str,
        request: &ports::webhooks::SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<(), ApiError> {
        Ok(WalmartClient::update_subscription(self, subscription_id, request, deadline).await?)
    }

    async fn delete_subscription(&self, subscription_id: &str, deadline: &Deadline) -> Result<(), ApiError> {
        Ok(WalmartClient::delete_subscription(self, subscription_id, deadline).await?)
    }

    async fn test_notification(
        &self,
        request: &ports::webhooks::SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<(), ApiError> {
        Ok(WalmartClient::test_notification(self, request, deadline).await?)
    }
}
