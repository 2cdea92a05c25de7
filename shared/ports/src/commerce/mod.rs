//! The Commerce port: what the channel asks of an Adobe Commerce / Magento store, in the channel's
//! terms (`model`: typed ids, whole unit counts, money, enums for Magento's codes).
//!
//! `commerce-client` implements it over REST; operations see only `&dyn Commerce`.

pub mod model;

use async_trait::async_trait;

use domain::{
    CommerceOrderId, CommerceOrderLink, CreditMemoId, CustomerMapping, IncrementId, LineNumber, MethodCode,
    Money, OrderSettings, ProductSelection, PurchaseOrder, PurchaseOrderId, RmaId, Sku, StoreTimeZone,
    Timestamp,
};

use crate::api::{ApiError, PageRequest, SearchPage};
use crate::retry::Deadline;
use model::{CreditMemo, ItemQuantity, Order, Product, Rma, Shipment, SourceItem, Stock, StockItem};

/// How orders are placed in Commerce: who for, how shipped, how paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPlacement {
    pub customer: CustomerMapping,
    /// Commerce `carrier_method`, e.g. `flatrate_flatrate` (carrier code, `_`, method code).
    pub carrier_method: String,
    /// An offline payment method code; `purchaseorder` lets the order be found again by PO number.
    pub payment_method: String,
}

impl OrderPlacement {
    /// The placement a channel's settings give for a Walmart shipping method.
    pub fn from_settings(settings: &OrderSettings, method: &MethodCode) -> Self {
        Self {
            customer: settings.customer.clone(),
            carrier_method: settings
                .shipping_methods
                .get(method)
                .cloned()
                .unwrap_or_else(|| settings.default_shipping_method.clone()),
            payment_method: settings.payment_method.clone(),
        }
    }
}

/// One Walmart line as placed in Commerce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedLine {
    pub line: LineNumber,
    pub sku: Sku,
    pub quantity: u32,
    pub walmart_unit_price: Money,
    /// What Commerce charged per unit (the catalog price), when the order shows the SKU.
    pub commerce_unit_price: Option<Money>,
    pub order_item_id: Option<u64>,
}

impl PlacedLine {
    pub fn price_differs(&self) -> bool {
        self.commerce_unit_price
            .is_some_and(|p| p != self.walmart_unit_price)
    }
}

/// The Commerce order placed (or found again) for a purchase order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub order_id: CommerceOrderId,
    pub increment_id: IncrementId,
    pub lines: Vec<PlacedLine>,
    /// True when the order already existed (a previous attempt placed it).
    pub recovered: bool,
    /// Commerce's items, shipping and tax totals (Magento adds its own shipping and tax).
    pub commerce_totals: Option<domain::OrderTotals>,
}

impl PlacedOrder {
    pub fn link(&self) -> CommerceOrderLink {
        CommerceOrderLink {
            order_id: self.order_id,
            increment_id: self.increment_id.clone(),
        }
    }

    pub fn price_differences(&self) -> impl Iterator<Item = &PlacedLine> {
        self.lines.iter().filter(|l| l.price_differs())
    }
}

/// What narrows the search for an order placed for a purchase order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLookup {
    /// Guest orders: the email the order was placed with.
    pub customer_email: Option<String>,
    /// Customer orders: the customer they were placed for.
    pub customer_id: Option<u64>,
    /// Orders created before this are not candidates.
    pub created_after: Timestamp,
}

impl OrderLookup {
    /// Margin before the Walmart order date, for clocks that disagree.
    const CLOCK_MARGIN: std::time::Duration = std::time::Duration::from_secs(3600);

    /// The lookup for an order placed by [`CommerceClient::create_order_for`] with `placement`.
    pub fn for_purchase_order(po: &PurchaseOrder, placement: &OrderPlacement) -> Self {
        let created_after = po.order_date.minus(Self::CLOCK_MARGIN);
        match placement.customer {
            CustomerMapping::Guest => Self {
                customer_email: po.ship_to.email.clone(),
                customer_id: None,
                created_after,
            },
            CustomerMapping::Customer { customer_id } => Self {
                customer_email: None,
                customer_id: Some(customer_id),
                created_after,
            },
        }
    }
}

/// Filters for [`CommerceClient::orders_updated_since`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Any of these states (`new`, `processing`, `complete`, `canceled`, `closed`, ...).
    pub states: Vec<String>,
    /// Any of these statuses (`pending`, `processing`, ...).
    pub statuses: Vec<String>,
}

/// One returned order item, with the store's RMA attribute option values (the RMA module's
/// `reason`, `condition` and `resolution` are EAV options whose ids differ per store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnItem {
    pub order_item_id: u64,
    pub qty: u64,
    pub reason: String,
    pub condition: String,
    pub resolution: String,
}

/// A return to open in Commerce for a Walmart return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRequest {
    pub order_id: CommerceOrderId,
    pub items: Vec<ReturnItem>,
    /// Shown to the merchant: the Walmart return order id and reason.
    pub comment: String,
}

/// Where a return request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnRecorded {
    /// An RMA (Adobe Commerce).
    Rma(RmaId),
    /// An order comment (Magento Open Source).
    OrderComment,
}

impl ReturnRecorded {
    pub fn rma(&self) -> Option<RmaId> {
        match self {
            ReturnRecorded::Rma(id) => Some(*id),
            ReturnRecorded::OrderComment => None,
        }
    }
}

/// Amounts of an offline refund beyond the items (`sales-data-creditmemo-creation-arguments-interface`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RefundArguments {
    pub shipping_amount: Option<f64>,
    pub adjustment_positive: Option<f64>,
    pub adjustment_negative: Option<f64>,
}

/// What the channel needs to know of the store view it works in, read once per process: its
/// configuration, checked as the channel needs it (the store code exists; Multi-Source Inventory is
/// installed when the channel reads MSI stock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSetup {
    pub store_code: String,
    /// `general/locale/timezone`: dates without a time (`special_from_date`) are days in this zone.
    pub timezone: StoreTimeZone,
}

/// Which products a catalog read returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductQuery {
    /// Every product changed at or after the time.
    UpdatedSince(Timestamp),
    /// The channel's selection (SKU list, category or attribute), optionally only those changed
    /// at or after the time.
    Selected {
        selection: ProductSelection,
        changed_since: Option<Timestamp>,
    },
}

/// The Commerce client's default wait for one answer. Also the time Commerce is taken to need, at
/// most, to finish a request the client gave up on ([`Commerce::write_settle_time`]); infra-checks
/// holds the queues' visibility and receives to it.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[async_trait]
pub trait Commerce: Send + Sync {
    /// The store view's set-up, checked once and then remembered: an unknown store code or, when
    /// `needs_msi`, a store without Multi-Source Inventory is an [`ApiErrorKind::Configuration`]
    /// error that says what to fix (checked again on the next call, so a fix is picked up).
    ///
    /// [`ApiErrorKind::Configuration`]: crate::ApiErrorKind::Configuration
    async fn store_setup(&self, needs_msi: bool, deadline: &Deadline) -> Result<StoreSetup, ApiError>;

    /// How many times, in this process, the configuration check named `check` passed: the `code` of
    /// a Commerce [`ApiErrorKind::Configuration`] error names the check it failed (a route that
    /// answered "Request does not match any route.", a payment method the cart did not offer), and
    /// a recorded problem is cleared only once its check passed again. Implementations that do
    /// not count prove nothing (0).
    ///
    /// [`ApiErrorKind::Configuration`]: crate::ApiErrorKind::Configuration
    fn checks_passed(&self, _check: &str) -> u64 {
        0
    }

    /// One page of products, oldest change first.
    async fn products_page(
        &self,
        query: &ProductQuery,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<Product>, ApiError>;

    /// The products with these SKUs (unknown SKUs are absent).
    async fn products_by_skus(&self, skus: &[Sku], deadline: &Deadline) -> Result<Vec<Product>, ApiError>;

    /// The simple children of a configurable product.
    async fn configurable_children(&self, sku: &Sku, deadline: &Deadline) -> Result<Vec<Product>, ApiError>;

    /// MSI salable quantity of a SKU in a stock (negative when reservations exceed stock).
    async fn salable_quantity(&self, sku: &Sku, stock_id: u32, deadline: &Deadline) -> Result<f64, ApiError>;

    /// One page of MSI source items, of the given SKUs or of all.
    async fn source_items_page(
        &self,
        skus: Option<&[Sku]>,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<SourceItem>, ApiError>;

    /// The stock a website sells from.
    async fn stock_for_website(&self, website_code: &str, deadline: &Deadline) -> Result<Stock, ApiError>;

    /// Legacy (non-MSI) stock of a SKU.
    async fn legacy_stock_item(&self, sku: &Sku, deadline: &Deadline) -> Result<StockItem, ApiError>;

    /// Places the Commerce order for a Walmart purchase order (cart flow: reservations, totals).
    async fn create_order_for(
        &self,
        po: &PurchaseOrder,
        placement: &OrderPlacement,
        deadline: &Deadline,
    ) -> Result<PlacedOrder, ApiError>;

    /// Every order placed for a purchase order, oldest first (more than one only if a duplicate
    /// slipped through).
    async fn orders_for_purchase_order(
        &self,
        po: &PurchaseOrderId,
        lookup: &OrderLookup,
        deadline: &Deadline,
    ) -> Result<Vec<Order>, ApiError>;

    /// How long after the client gave up on a write (timeout, lost answer) Commerce may still
    /// apply it: a request Commerce is still working on is taken to finish within the client's
    /// own request timeout. An order placement can land that late.
    fn write_settle_time(&self) -> std::time::Duration;

    /// One page of orders changed at or after `since`, oldest change first.
    async fn orders_page(
        &self,
        since: Timestamp,
        filter: &OrderFilter,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<Order>, ApiError>;

    async fn get_order(&self, order_id: CommerceOrderId, deadline: &Deadline) -> Result<Order, ApiError>;

    async fn add_order_comment(
        &self,
        order_id: CommerceOrderId,
        comment: &str,
        deadline: &Deadline,
    ) -> Result<(), ApiError>;

    /// Invoices the given items (all, when empty); returns the invoice id.
    async fn invoice_order(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        deadline: &Deadline,
    ) -> Result<u64, ApiError>;

    /// Cancels the order's open quantities; `false` when Magento cannot.
    async fn cancel_order(&self, order_id: CommerceOrderId, deadline: &Deadline) -> Result<bool, ApiError>;

    /// One page of shipments changed at or after `since`, with items and tracks.
    async fn shipments_page(
        &self,
        since: Timestamp,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<Shipment>, ApiError>;

    /// The shipments with these entity ids, with items and tracks (unknown ids are absent): a track
    /// added later does not move a shipment's `updated_at`, so waiting shipments are read by id.
    async fn shipments_by_ids(&self, ids: &[u64], deadline: &Deadline) -> Result<Vec<Shipment>, ApiError>;

    /// Whether the store has Adobe Commerce's RMA module.
    async fn returns_supported(&self, deadline: &Deadline) -> Result<bool, ApiError>;

    /// Records a Walmart return: an RMA, or an order comment without the RMA module.
    async fn request_return(
        &self,
        request: &ReturnRequest,
        deadline: &Deadline,
    ) -> Result<ReturnRecorded, ApiError>;

    /// RMAs of one order.
    async fn returns_for_order(
        &self,
        order_id: CommerceOrderId,
        deadline: &Deadline,
    ) -> Result<Vec<Rma>, ApiError>;

    /// One page of credit memos changed at or after `since`.
    async fn credit_memos_page(
        &self,
        since: Timestamp,
        page: PageRequest,
        deadline: &Deadline,
    ) -> Result<SearchPage<CreditMemo>, ApiError>;

    /// An offline refund (credit memo); returns its id.
    async fn refund_order_offline(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        arguments: RefundArguments,
        comment: Option<&str>,
        deadline: &Deadline,
    ) -> Result<CreditMemoId, ApiError>;
}
