//! A Walmart port for tests that need an exact interleaving or a crash at an exact point.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use domain::{CustomerOrderId, FeedId, Gtin, Money, PurchaseOrderId, ReturnOrderId, Sku};
use ports::walmart::{
    CancelLine, CatalogItem, FeedStatusPage, FeedSummary, FeedType, ItemsPage, ItemsQuery, OrdersCursor,
    OrdersPage, OrdersQuery, RefundLine, ReturnsPage, ReturnsQuery, SellerItem, ShipLine, Walmart,
    WalmartOrder, WalmartReturn,
};
use ports::{Api, ApiError, ApiErrorKind, Deadline};

/// Holds the first quantity or price update before it reaches Walmart, until `resume`.
#[derive(Default)]
pub struct Hold {
    /// Set: nothing is held (any more).
    pub used: AtomicBool,
    pub reached: tokio::sync::Notify,
    pub resume: tokio::sync::Notify,
}

impl Hold {
    async fn maybe_wait(&self) {
        if !self.used.swap(true, Ordering::SeqCst) {
            self.reached.notify_one();
            self.resume.notified().await;
        }
    }
}

/// The channel's Walmart port with hooks: updates held by `hold`, and a crash (panic) right after
/// the first shipment Walmart accepted when `crash_after_ship` is set.
pub struct Tap {
    pub inner: Arc<dyn Walmart>,
    pub hold: Arc<Hold>,
    /// Holds the answer of the first order read (`get_order`) once armed (`used` set to false): the
    /// caller goes on with what Walmart showed before the pause.
    pub hold_order_read: Arc<Hold>,
    pub crash_after_ship: AtomicBool,
    /// The next quantity update fails with this kind of error, without reaching Walmart.
    pub fail_next_update: std::sync::Mutex<Option<ApiErrorKind>>,
}

impl Tap {
    pub fn new(inner: Arc<dyn Walmart>) -> Self {
        let hold_order_read = Hold::default();
        hold_order_read.used.store(true, Ordering::SeqCst);
        Self {
            inner,
            hold: Arc::new(Hold::default()),
            hold_order_read: Arc::new(hold_order_read),
            crash_after_ship: AtomicBool::new(false),
            fail_next_update: std::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl Walmart for Tap {
    async fn update_inventory(&self, sku: &Sku, quantity: u32, d: &Deadline) -> Result<(), ApiError> {
        self.hold.maybe_wait().await;
        let failure = self.fail_next_update.lock().unwrap().take();
        if let Some(kind) = failure {
            return Err(ApiError::new(Api::Walmart, kind, "failed by the test"));
        }
        self.inner.update_inventory(sku, quantity, d).await
    }
    async fn update_price(&self, sku: &Sku, price: Money, d: &Deadline) -> Result<(), ApiError> {
        self.hold.maybe_wait().await;
        self.inner.update_price(sku, price, d).await
    }
    async fn list_items(&self, q: &ItemsQuery, d: &Deadline) -> Result<ItemsPage, ApiError> {
        self.inner.list_items(q, d).await
    }
    async fn get_item(&self, sku: &Sku, d: &Deadline) -> Result<SellerItem, ApiError> {
        self.inner.get_item(sku, d).await
    }
    async fn search_catalog_by_gtin(&self, g: &Gtin, d: &Deadline) -> Result<Vec<CatalogItem>, ApiError> {
        self.inner.search_catalog_by_gtin(g, d).await
    }
    async fn submit_feed(
        &self,
        t: FeedType,
        p: &serde_json::Value,
        d: &Deadline,
    ) -> Result<FeedId, ApiError> {
        self.inner.submit_feed(t, p, d).await
    }
    async fn recent_feeds(&self, d: &Deadline) -> Result<Vec<FeedSummary>, ApiError> {
        self.inner.recent_feeds(d).await
    }
    async fn feed_status(
        &self,
        f: &FeedId,
        offset: u32,
        limit: u32,
        d: &Deadline,
    ) -> Result<FeedStatusPage, ApiError> {
        self.inner.feed_status(f, offset, limit, d).await
    }
    async fn get_inventory(&self, sku: &Sku, d: &Deadline) -> Result<u32, ApiError> {
        self.inner.get_inventory(sku, d).await
    }
    async fn list_orders(&self, q: &OrdersQuery, d: &Deadline) -> Result<OrdersPage, ApiError> {
        self.inner.list_orders(q, d).await
    }
    async fn next_orders(&self, c: &OrdersCursor, d: &Deadline) -> Result<OrdersPage, ApiError> {
        self.inner.next_orders(c, d).await
    }
    async fn get_order(&self, po: &PurchaseOrderId, d: &Deadline) -> Result<WalmartOrder, ApiError> {
        let order = self.inner.get_order(po, d).await;
        self.hold_order_read.maybe_wait().await;
        order
    }
    async fn acknowledge(&self, po: &PurchaseOrderId, d: &Deadline) -> Result<WalmartOrder, ApiError> {
        self.inner.acknowledge(po, d).await
    }
    async fn ship(
        &self,
        po: &PurchaseOrderId,
        l: &[ShipLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        let shipped = self.inner.ship(po, l, d).await?;
        if self.crash_after_ship.swap(false, Ordering::SeqCst) {
            panic!("simulated crash right after Walmart accepted the shipment");
        }
        Ok(shipped)
    }
    async fn cancel_lines(
        &self,
        po: &PurchaseOrderId,
        l: &[CancelLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.inner.cancel_lines(po, l, d).await
    }
    async fn refund_lines(
        &self,
        po: &PurchaseOrderId,
        l: &[RefundLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.inner.refund_lines(po, l, d).await
    }
    async fn list_returns(&self, q: &ReturnsQuery, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.inner.list_returns(q, d).await
    }
    async fn next_returns(&self, c: &str, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.inner.next_returns(c, d).await
    }
    async fn get_return(&self, r: &ReturnOrderId, d: &Deadline) -> Result<Option<WalmartReturn>, ApiError> {
        self.inner.get_return(r, d).await
    }
    async fn refund_return(
        &self,
        r: &ReturnOrderId,
        c: &CustomerOrderId,
        lines: &[u32],
        d: &Deadline,
    ) -> Result<(), ApiError> {
        self.inner.refund_return(r, c, lines, d).await
    }
}
