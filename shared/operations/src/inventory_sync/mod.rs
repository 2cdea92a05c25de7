//! `inventory_sync`: Commerce salable quantities reach Walmart, diff-based, for live listings only.
//!
//! **Where quantities come from.** The truth is Commerce's salable quantity (MSI: the configured
//! stock; stores without MSI: the legacy stock item), after the channel's rules (safety buffer,
//! out-of-stock threshold, maximum advertised; disabled products advertise zero). MSI has no bulk
//! salable endpoint and asking every SKU every run is too many calls, so a run asks only for SKUs
//! whose salable quantity may have moved:
//! - **source changes**: every run reads all MSI source items in bulk (300 a page) and compares them
//!   with the snapshot kept in [`StockChunk`]s (128 items for the whole channel);
//! - **reservations**: orders (of any channel) change reservations, not source items; the Commerce
//!   orders updated since the last run name the SKUs they touched. Order-create and
//!   cancellation-sync also queue those SKUs at once ([`enqueue_urgent`]);
//! - **new listings**: listings that went live since the last run get their first quantity;
//! - **drift**: see reconciliation below.
//!
//! **How quantities go.** Only differences from what Walmart was last told ([`OfferState`]) are
//! sent. Up to 200 changes (Walmart refills `PUT /v3/inventory` at 200 a minute) go as single calls,
//! which Walmart applies at once; more go as one bulk inventory feed (10 an hour), with stock-outs
//! still sent as single calls first. Both are planned against the channel's call budgets in the
//! state store, which every Lambda instance shares, so steady state never meets a 429. A single
//! call's new value is written before the call (versioned), so two invocations never race one SKU.
//!
//! **Reconciliation.** Each run also reads Walmart's quantities of its share of a daily pass over
//! every followed SKU (at most 100 a run; chunk after chunk, oldest pass first) and repairs any that
//! differ from what was sent (changes made outside Commerce, lost updates).
//!
//! **Continuation.** Marks for a recheck live in the snapshot and are cleared only when handled, and
//! cursors move only after the snapshot is saved: a run stopped at its deadline leaves the rest to
//! the next one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use domain::{
    BudgetedCall, FeedEntry, FeedId, FeedKind, FeedValue, Listing, ListingIssue, ListingStatus, OfferState,
    Operation, STOCK_CHUNKS, SentVia, Sku, StockChunk, StockSource, Stream, Timestamp, stock_chunk_of,
};
use ports::StoreCall;
use ports::commerce::OrderFilter;
use ports::records::{channel_pk, listing_key, listing_status_pk, load_cursor, offer_key};
use ports::{
    ApiErrorKind, Deadline, PageRequest, Query, QueueName, Records, SortRange, StoreError, Versioned,
};
use tracing::Instrument;
use walmart_client::feeds::{InventoryEntry, inventory_feeds};

use crate::Counter;
use crate::declaration::Declaration;
use crate::feeds::{
    self, COMMERCE_CONCURRENCY, FeedChange, FeedSender, Lease, STORE_CONCURRENCY, SingleSend, Stamps,
    advance_cursor, concurrently, cursor_since, running_out,
};
use crate::messages::Received;
pub use crate::messages::{UrgentSkus, enqueue_urgent};
use crate::{Channel, OpError, RunReport};

/// The state-store methods this operation's function calls, shared steps included (its role is
/// derived from this by `infra/checks`; tests hold the code to it): offers, listings and budgets;
/// feeds written in bulk; listings and feeds queried; superseded urgent changes deleted; the run
/// lease; the configuration check.
pub const STORE_CALLS: &[StoreCall] = &[
    StoreCall::Get,
    StoreCall::Put,
    StoreCall::Delete,
    StoreCall::Query,
    StoreCall::PutMany,
    StoreCall::Claim,
    StoreCall::Release,
];

/// The queues this operation's function sends to (its send grants and queue URLs follow from this;
/// what it consumes and whether it runs on a schedule are its `DECLARATION`): none: urgent
/// changes come from others (`enqueue_urgent`).
pub const SENDS_TO: &[QueueName] = &[];

/// This function's wiring (`declaration`): the registry, the Lambda's cold start, `infra/checks`
/// and the local runner read it.
pub const DECLARATION: Declaration = Declaration {
    function: "inventory-sync",
    consumes: Some(QueueName::InventorySync),
    scheduled: true,
    function_url: None,
    sends_to: SENDS_TO,
    redrives_dead_letters: false,
    store_calls: STORE_CALLS,
};

pub const OPERATION: &str = "inventory-sync";

/// Changes of orders and listings are re-read this far behind their cursors.
const OVERLAP: Duration = Duration::from_secs(120);

/// Source items per Commerce page (the REST input limit many stores keep).
const SOURCE_PAGE: u32 = 300;

/// Orders per Commerce page (orders are big).
const ORDER_PAGE: u32 = 100;

/// Source item pages read at once.
const PAGES_IN_FLIGHT: usize = 4;

/// Most single `PUT /v3/inventory` calls one run plans: a minute of Walmart's refill, so the client
/// never waits long on its bucket. More changes than this go in a feed.
pub const MAX_SINGLES_PER_RUN: u32 = 200;

/// Most Walmart quantities one run reads for reconciliation (our share of `GET /v3/inventory`).
pub const RECONCILE_PER_RUN: u32 = 100;

/// How long a reconciliation pass over every followed SKU takes, where [`RECONCILE_PER_RUN`]
/// allows: runs read their share of it.
pub const RECONCILE_PASS: Duration = Duration::from_secs(24 * 3600);

/// Stores without MSI have no bulk stock read: each run rechecks this many snapshot chunks in turn.
const LEGACY_CHUNKS_PER_RUN: u32 = 4;

/// SKUs evaluated per step of a run, between deadline checks.
const RECHECK_BATCH: usize = 500;

mod plan;
mod reconcile;
mod scheduled;
mod send;
mod snapshot;
#[cfg(test)]
mod tests;

use reconcile::*;
use send::*;
use snapshot::*;

pub use plan::*;
pub use scheduled::*;
