//! Typed client of the Walmart Marketplace (US) v3 API: the only way the channel talks to Walmart.
//!
//! ```text
//! config      WalmartConfig: base URL (production, Walmart's sandbox, our local sandbox), credentials
//! client      WalmartClient: token cache, headers, rate limits, retries, response classification
//! api/        the operations, in domain terms:
//!   items       list_items (cursor paging), get_item, search_catalog_by_gtin
//!   feeds       submit_feed / submit, feed_status (per-item results, offset paging)
//!   inventory   get_inventory, update_inventory, update_price
//!   orders      list_orders / next_orders (all or released), get_order, acknowledge, ship,
//!               cancel_lines, refund_lines
//!   returns     list_returns / next_returns, refund_return
//! feeds       payload builders (MP_ITEM_MATCH v4, inventory 1.4, MP_INVENTORY 1.5, price 1.7) and
//!             splitting into files within Walmart's limits
//! rate_limit  per-endpoint token buckets (Walmart's published limits), counters
//! error       WalmartError kinds, parsing of every documented error body form
//! wire        Walmart's JSON shapes; convert: wire → domain
//! ```
//!
//! Pages are read record by record (`wire::Records`): an order, item, feed item detail or return
//! Walmart sent badly is skipped and reported on the page (`skipped`, with its place, id and the
//! call's correlation id), never failing the rest. A value of a Walmart enum the client does not
//! know (a line status, an ingestion or feed status, a carrier) is kept as `Other` and logged with
//! the correlation id, so only the record it concerns goes to Error.
//!
//! Every request carries `WM_SEC.ACCESS_TOKEN`, `WM_SVC.NAME`, `WM_QOS.CORRELATION_ID` (a fresh
//! UUID per call, kept across its retries and logged), `Accept: application/json` and, as the spec
//! declares and Walmart's samples do, `Authorization: Basic`. The token (`POST /v3/token`, client
//! credentials) is cached and refreshed a minute before expiry by the injected clock, and once on a
//! 401. 429s, 5xx and timeouts are retried with jittered backoff (`ports::Backoff`), never past the
//! caller's `ports::Deadline`; validation errors never are. Tokens, secrets and buyer data are never
//! logged: logs carry the endpoint, correlation id and business key (SKU, purchase order, feed id).

pub mod api;
#[cfg(test)]
mod body_properties;
mod client;
pub mod config;
pub mod convert;
pub mod encoding;
pub mod endpoint;
pub mod error;
pub mod feeds;
mod port;
pub mod rate_limit;
pub mod wire;

pub use api::items::{ItemsPage, ItemsQuery};
pub use api::orders::{
    CancelLine, CancellationReason, OrderSource, OrdersCursor, OrdersPage, OrdersQuery, RefundLine,
    RefundReason, ShipLine,
};
pub use api::returns::{ReturnsPage, ReturnsQuery};
pub use client::WalmartClient;
pub use config::{ClientSecret, PRODUCTION_URL, WALMART_SANDBOX_URL, WalmartConfig};
pub use convert::{
    CatalogItem, FeedItemResult, FeedStatusPage, IngestionStatus, LineState, LineStatusQuantity, SellerItem,
    WalmartOrder, WalmartReturn,
};
pub use endpoint::{Endpoint, FeedType};
pub use error::{ErrorDetail, WalmartError};
pub use rate_limit::{ClientStats, EndpointStats};
