//! Typed REST client of Adobe Commerce / Magento 2 (`/rest/<store_code>/V1/...`) for Channel Manager.
//!
//! * Authentication as an Integration: OAuth 1.0a request signing with HMAC-SHA256 by default
//!   ([`oauth`]), or the access token as `Bearer` on stores that allow it ([`CommerceAuth`]).
//! * `searchCriteria` ([`search`]): filter groups (AND) of filters (OR), condition types, sort orders,
//!   `pageSize` (300 by default, the common input-limit cap) and `currentPage`. Paged searches
//!   ([`Paged`]) stop by `total_count`, because Magento answers a page past the end with the last page.
//! * Errors ([`CommerceError`]): Magento's `{"message", "parameters"}` bodies rendered with `%1` or
//!   `%name` substituted; kinds auth, not found, validation, server, timeout, malformed, transport,
//!   deadline exceeded, cannot cancel. Only 5xx (and 429), timeouts and dropped connections are
//!   retried, with [`ports::Backoff`] and never past the caller's [`ports::Deadline`]; waits go through
//!   the [`ports::Clock`].
//!
//! # Entry points
//! [`CommerceClient::new`] with a [`CommerceConfig`]; then, by area:
//! * catalog: [`CommerceClient::products_updated_since`], [`CommerceClient::products_by_skus`],
//!   [`CommerceClient::products_in_category`], [`CommerceClient::products_with_attribute`],
//!   [`CommerceClient::products_selected`], [`CommerceClient::product`],
//!   [`CommerceClient::configurable_children`]; [`convert`] turns Magento's payloads ([`wire`])
//!   into the port's terms (`ports::commerce::model`), refusing what those cannot represent;
//! * stock: [`CommerceClient::salable_quantity`], [`CommerceClient::are_products_salable`],
//!   [`CommerceClient::source_items`], [`CommerceClient::stock_for_website`],
//!   [`CommerceClient::legacy_stock_item`];
//! * orders ([`orders`] explains the cart flow, guest checkout and exactly-once lookup):
//!   [`CommerceClient::create_order_for`], [`CommerceClient::find_order_for_purchase_order`],
//!   [`CommerceClient::orders_updated_since`], [`CommerceClient::get_order`],
//!   [`CommerceClient::add_order_comment`], [`CommerceClient::invoice_order`],
//!   [`CommerceClient::cancel_order`];
//! * fulfilment ([`fulfilment`] explains the Open Source fallback for returns):
//!   [`CommerceClient::shipments_updated_since`], [`CommerceClient::shipments_by_ids`],
//!   [`CommerceClient::returns_supported`],
//!   [`CommerceClient::request_return`], [`CommerceClient::create_return`],
//!   [`CommerceClient::returns_for_order`], [`CommerceClient::credit_memos_updated_since`],
//!   [`CommerceClient::refund_order_offline`].
//!
//! # Routes used, and what each was checked against
//! Every route below is exercised against the sandbox by `tests/schema.rs`, which validates each
//! recorded request (method, path, query parameters, body) and response (status, body) against
//! Adobe's published admin REST schema, `commerce-webapi/admin-schema-2.4.9.yaml` (Swagger 2.0,
//! read at run time from the reference directory), by the operation named here:
//!
//! | Route | Schema operation |
//! |---|---|
//! | `GET /V1/products` | `GetV1Products` |
//! | `GET /V1/products/{sku}` | `GetV1ProductsSku` |
//! | `GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}` | `GetV1InventoryGetproductsalablequantitySkuStockId` |
//! | `GET /V1/inventory/are-products-salable` | `GetV1InventoryAreproductssalable` |
//! | `GET /V1/inventory/source-items` | `GetV1InventorySourceitems` |
//! | `GET /V1/inventory/stock-resolver/{type}/{code}` | `GetV1InventoryStockresolverTypeCode` |
//! | `GET /V1/inventory/stocks/{stockId}` | `GetV1InventoryStocksStockId` |
//! | `GET /V1/inventory/export-stock-salable-qty/{salesChannelType}/{salesChannelCode}` | `GetV1InventoryExportstocksalableqtySalesChannelTypeSalesChannelCode` |
//! | `GET /V1/stockItems/{productSku}` | `GetV1StockItemsProductSku` |
//! | `POST /V1/guest-carts` | `PostV1Guestcarts` |
//! | `POST /V1/guest-carts/{cartId}/items` | `PostV1GuestcartsCartIdItems` |
//! | `POST /V1/guest-carts/{cartId}/shipping-information` | `PostV1GuestcartsCartIdShippinginformation` |
//! | `PUT /V1/guest-carts/{cartId}/order` | `PutV1GuestcartsCartIdOrder` |
//! | `POST /V1/customers/{customerId}/carts` | `PostV1CustomersCustomerIdCarts` |
//! | `GET /V1/carts/{cartId}/items` | `GetV1CartsCartIdItems` |
//! | `DELETE /V1/carts/{cartId}/items/{itemId}` | `DeleteV1CartsCartIdItemsItemId` |
//! | `POST /V1/carts/{quoteId}/items` | `PostV1CartsQuoteIdItems` |
//! | `POST /V1/carts/{cartId}/shipping-information` | `PostV1CartsCartIdShippinginformation` |
//! | `PUT /V1/carts/{cartId}/order` | `PutV1CartsCartIdOrder` |
//! | `GET /V1/orders` | `GetV1Orders` |
//! | `GET /V1/orders/{id}` | `GetV1OrdersId` |
//! | `POST /V1/orders/{id}/comments` | `PostV1OrdersIdComments` |
//! | `POST /V1/order/{orderId}/invoice` | `PostV1OrderOrderIdInvoice` |
//! | `POST /V1/orders/{id}/cancel` | `PostV1OrdersIdCancel` |
//! | `GET /V1/shipments` | `GetV1Shipments` |
//! | `GET /V1/returns` | `GetV1Returns` |
//! | `POST /V1/returns` | `PostV1Returns` |
//! | `GET /V1/creditmemos` | `GetV1Creditmemos` |
//! | `POST /V1/order/{orderId}/refund` | `PostV1OrderOrderIdRefund` |
//!
//! Behaviour the schema does not describe (the last-page quirk, guest checkout, reservations,
//! error bodies) follows `../shared/reference/README.md` and Magento's source, and is reproduced by
//! `commerce-sandbox`.
//!
//! Not used, on purpose: `GET /V1/configurable-products/{sku}/children` (partial children: no
//! `extension_attributes`, custom attributes only when "used in product listing"; the children are
//! read by search from the parent's `configurable_product_links`), `POST /V1/orders` and `PUT /V1/orders/create` (no reservations, no totals)
//! and `POST /V1/carts/` (an anonymous admin cart is not placed as a guest checkout).

pub mod address;
mod client;
pub mod config;
pub mod convert;
pub mod error;
pub mod fulfilment;
pub mod oauth;
pub mod orders;
mod port;
pub mod products;
pub mod search;
pub mod setup;
mod stock;
pub mod wire;

pub use client::{CommerceClient, Paged};

/// Every route the client calls: `(method, path template as Adobe's schema writes it, schema
/// operationId)`. `tests/schema.rs` asserts that each is exercised and valid.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/V1/products", "GetV1Products"),
    ("GET", "/V1/products/{sku}", "GetV1ProductsSku"),
    (
        "GET",
        "/V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
        "GetV1InventoryGetproductsalablequantitySkuStockId",
    ),
    (
        "GET",
        "/V1/inventory/are-products-salable",
        "GetV1InventoryAreproductssalable",
    ),
    ("GET", "/V1/inventory/source-items", "GetV1InventorySourceitems"),
    (
        "GET",
        "/V1/inventory/stock-resolver/{type}/{code}",
        "GetV1InventoryStockresolverTypeCode",
    ),
    ("GET", "/V1/stockItems/{productSku}", "GetV1StockItemsProductSku"),
    ("POST", "/V1/guest-carts", "PostV1Guestcarts"),
    (
        "POST",
        "/V1/guest-carts/{cartId}/items",
        "PostV1GuestcartsCartIdItems",
    ),
    (
        "POST",
        "/V1/guest-carts/{cartId}/shipping-information",
        "PostV1GuestcartsCartIdShippinginformation",
    ),
    (
        "PUT",
        "/V1/guest-carts/{cartId}/order",
        "PutV1GuestcartsCartIdOrder",
    ),
    (
        "POST",
        "/V1/customers/{customerId}/carts",
        "PostV1CustomersCustomerIdCarts",
    ),
    ("GET", "/V1/carts/{cartId}/items", "GetV1CartsCartIdItems"),
    (
        "DELETE",
        "/V1/carts/{cartId}/items/{itemId}",
        "DeleteV1CartsCartIdItemsItemId",
    ),
    ("POST", "/V1/carts/{quoteId}/items", "PostV1CartsQuoteIdItems"),
    (
        "POST",
        "/V1/carts/{cartId}/shipping-information",
        "PostV1CartsCartIdShippinginformation",
    ),
    ("PUT", "/V1/carts/{cartId}/order", "PutV1CartsCartIdOrder"),
    ("GET", "/V1/orders", "GetV1Orders"),
    ("GET", "/V1/orders/{id}", "GetV1OrdersId"),
    ("POST", "/V1/orders/{id}/comments", "PostV1OrdersIdComments"),
    ("POST", "/V1/order/{orderId}/invoice", "PostV1OrderOrderIdInvoice"),
    ("POST", "/V1/orders/{id}/cancel", "PostV1OrdersIdCancel"),
    ("GET", "/V1/shipments", "GetV1Shipments"),
    ("GET", "/V1/returns", "GetV1Returns"),
    ("POST", "/V1/returns", "PostV1Returns"),
    ("GET", "/V1/creditmemos", "GetV1Creditmemos"),
    ("POST", "/V1/order/{orderId}/refund", "PostV1OrderOrderIdRefund"),
];
pub use config::{CommerceAuth, CommerceConfig, DEFAULT_PAGE_SIZE};
pub use error::{CommerceError, render_error_body, render_message};
pub use fulfilment::{RefundArguments, ReturnItem, ReturnRecorded, ReturnRequest};
pub use orders::{OrderFilter, OrderLookup, OrderPlacement, PURCHASE_ORDER_METHOD, PlacedLine, PlacedOrder};
pub use search::{Condition, Direction, Filter, PageCursor, SearchCriteria, SortOrder};
