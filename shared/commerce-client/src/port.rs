//! `CommerceClient` as the channel's Commerce port.

use async_trait::async_trait;
use domain::{CommerceOrderId, CreditMemoId, PurchaseOrder, PurchaseOrderId, Sku, Timestamp};
use ports::commerce::{
    Commerce, OrderFilter, OrderLookup, OrderPlacement, PlacedOrder, ProductQuery, RefundArguments,
    ReturnRecorded, ReturnRequest, StoreSetup,
};
use ports::{Api, ApiError, ApiErrorKind, Deadline, PageRequest, SearchPage};

use crate::CommerceClient;
use crate::convert;
use crate::error::CommerceError;
use ports::commerce::model::{
    CreditMemo, ItemQuantity, Order, Product, Rma, Shipment, SourceItem, Stock, StockItem,
};

impl From<CommerceError> for ApiError {
    fn from(e: CommerceError) -> Self {
        let kind = match &e {
            CommerceError::Auth { .. } => ApiErrorKind::Auth,
            CommerceError::NotFound { .. } => ApiErrorKind::NotFound,
            CommerceError::NoRoute { .. } | CommerceError::Configuration(_) => ApiErrorKind::Configuration,
            CommerceError::Validation { .. } => ApiErrorKind::Validation,
            CommerceError::Throttled { .. } => ApiErrorKind::Throttled,
            CommerceError::Server { .. } => ApiErrorKind::Server,
            CommerceError::Timeout { .. } => ApiErrorKind::Timeout,
            CommerceError::Malformed { .. } => ApiErrorKind::Malformed,
            CommerceError::Transport { .. } => ApiErrorKind::Transport,
            // Magento's REST API does not redirect: the base URL points at something else.
            CommerceError::Redirected { .. } => ApiErrorKind::Configuration,
            CommerceError::ResponseTooLarge { .. } | CommerceError::Unrepresentable(_) => {
                ApiErrorKind::Malformed
            }
            CommerceError::DeadlineExceeded { .. } => ApiErrorKind::DeadlineExceeded,
            CommerceError::CannotCancel { .. } => ApiErrorKind::CannotCancel,
            CommerceError::Input(_) => ApiErrorKind::Input,
        };
        let retry_at = match &e {
            CommerceError::Throttled { retry_at, .. } => *retry_at,
            _ => None,
        };
        let mut error = ApiError::new(Api::Commerce, kind, e.to_string());
        error.retry_at = retry_at;
        if let CommerceError::NoRoute { route, .. } = &e {
            error.code = Some(crate::client::route_check(route));
        }
        error
    }
}

#[async_trait]
impl Commerce for CommerceClient {
    async fn store_setup(&self, needs_msi: bool, deadline: &Deadline) -> Result<StoreSetup, ApiError> {
        Ok(CommerceClient::store_setup(self, needs_msi, deadline).await?)
    }

    fn checks_passed(&self, check: &str) -> u64 {
        CommerceClient::checks_passed(self, check)
    }

    async fn products_page(
        &self,
        query: &ProductQuery,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<Product>, ApiError> {
        let search = match query {
            ProductQuery::UpdatedSince(since) => self.products_updated_since(*since),
            ProductQuery::Selected {
                selection,
                changed_since,
            } => self.products_selected(selection, *changed_since),
        };
        let products = search.page(page, deadline).await?;
        Ok(SearchPage {
            items: products.items.into_iter().map(convert::product).collect(),
            total_count: products.total_count,
        })
    }

    async fn products_by_skus(&self, skus: &[Sku], deadline: &Deadline) -> Result<Vec<Product>, ApiError> {
        let products = CommerceClient::products_by_skus(self, skus, deadline).await?;
        Ok(products.into_iter().map(convert::product).collect())
    }

    async fn configurable_children(&self, sku: &Sku, deadline: &Deadline) -> Result<Vec<Product>, ApiError> {
        let children = CommerceClient::configurable_children(self, sku, deadline).await?;
        Ok(children.into_iter().map(convert::product).collect())
    }

    async fn salable_quantity(&self, sku: &Sku, stock_id: u32, deadline: &Deadline) -> Result<f64, ApiError> {
        Ok(CommerceClient::salable_quantity(self, sku, stock_id, deadline).await?)
    }

    async fn source_items_page(
        &self,
        skus: Option<&[Sku]>,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<SourceItem>, ApiError> {
        let search = match skus {
            Some(skus) => self.source_items_for(skus),
            None => self.source_items(),
        };
        let items = search.page(page, deadline).await?;
        Ok(SearchPage {
            items: items.items.into_iter().map(convert::source_item).collect(),
            total_count: items.total_count,
        })
    }

    async fn stock_for_website(&self, website_code: &str, deadline: &Deadline) -> Result<Stock, ApiError> {
        Ok(convert::stock(
            CommerceClient::stock_for_website(self, website_code, deadline).await?,
        ))
    }

    async fn legacy_stock_item(&self, sku: &Sku, deadline: &Deadline) -> Result<StockItem, ApiError> {
        Ok(convert::stock_item(
            CommerceClient::legacy_stock_item(self, sku, deadline).await?,
        ))
    }

    async fn create_order_for(
        &self,
        po: &PurchaseOrder,
        placement: &OrderPlacement,
        deadline: &Deadline,
    ) -> Result<PlacedOrder, ApiError> {
        CommerceClient::create_order_for(self, po, placement, deadline)
            .await
            .map_err(|e| {
                // The placement's own configuration check is its payment method.
                let payment_off = matches!(e, CommerceError::Configuration(_));
                let mut error = ApiError::from(e);
                if payment_off {
                    error.code = Some(crate::client::payment_method_check(&placement.payment_method));
                }
                error
            })
    }

    async fn orders_for_purchase_order(
        &self,
        po: &PurchaseOrderId,
        lookup: &OrderLookup,
        deadline: &Deadline,
    ) -> Result<Vec<Order>, ApiError> {
        let orders = CommerceClient::orders_for_purchase_order(self, po, lookup, deadline).await?;
        Ok(convert::all(orders, convert::order).map_err(CommerceError::from)?)
    }

    fn write_settle_time(&self) -> std::time::Duration {
        self.config().request_timeout
    }

    async fn orders_page(
        &self,
        since: Timestamp,
        filter: &OrderFilter,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<Order>, ApiError> {
        let orders = self
            .orders_updated_since(since, filter)
            .page(page, deadline)
            .await?;
        Ok(convert::page(orders, convert::order).map_err(CommerceError::from)?)
    }

    async fn get_order(&self, order_id: CommerceOrderId, deadline: &Deadline) -> Result<Order, ApiError> {
        let order = CommerceClient::get_order(self, order_id, deadline).await?;
        Ok(convert::order(order).map_err(CommerceError::from)?)
    }

    async fn add_order_comment(
        &self,
        order_id: CommerceOrderId,
        comment: &str,
        deadline: &Deadline,
    ) -> Result<(), ApiError> {
        Ok(CommerceClient::add_order_comment(self, order_id, comment, deadline).await?)
    }

    async fn invoice_order(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        deadline: &Deadline,
    ) -> Result<u64, ApiError> {
        let items = convert::item_quantities(items);
        Ok(CommerceClient::invoice_order(self, order_id, &items, deadline).await?)
    }

    async fn cancel_order(&self, order_id: CommerceOrderId, deadline: &Deadline) -> Result<bool, ApiError> {
        Ok(CommerceClient::cancel_order(self, order_id, deadline).await?)
    }

    async fn shipments_page(
        &self,
        since: Timestamp,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<Shipment>, ApiError> {
        let shipments = self.shipments_updated_since(since).page(page, deadline).await?;
        Ok(convert::page(shipments, convert::shipment).map_err(CommerceError::from)?)
    }

    async fn shipments_by_ids(&self, ids: &[u64], deadline: &Deadline) -> Result<Vec<Shipment>, ApiError> {
        let shipments = CommerceClient::shipments_by_ids(self, ids, deadline).await?;
        Ok(convert::all(shipments, convert::shipment).map_err(CommerceError::from)?)
    }

    async fn returns_supported(&self, deadline: &Deadline) -> Result<bool, ApiError> {
        Ok(CommerceClient::returns_supported(self, deadline).await?)
    }

    async fn request_return(
        &self,
        request: &ReturnRequest,
        deadline: &Deadline,
    ) -> Result<ReturnRecorded, ApiError> {
        Ok(CommerceClient::request_return(self, request, deadline).await?)
    }

    async fn returns_for_order(
        &self,
        order_id: CommerceOrderId,
        deadline: &Deadline,
    ) -> Result<Vec<Rma>, ApiError> {
        let rmas = CommerceClient::returns_for_order(self, order_id)
            .collect_all(deadline)
            .await?;
        Ok(convert::all(rmas, convert::rma).map_err(CommerceError::from)?)
    }

    async fn credit_memos_page(
        &self,
        since: Timestamp,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<CreditMemo>, ApiError> {
        let memos = self
            .credit_memos_updated_since(since)
            .page(page, deadline)
            .await?;
        Ok(convert::page(memos, convert::credit_memo).map_err(CommerceError::from)?)
    }

    async fn refund_order_offline(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        arguments: RefundArguments,
        comment: Option<&str>,
        deadline: &Deadline,
    ) -> Result<CreditMemoId, ApiError> {
        let items = convert::item_quantities(items);
        Ok(
            CommerceClient::refund_order_offline(self, order_id, &items, arguments, comment, deadline)
                .await?,
        )
    }
}
