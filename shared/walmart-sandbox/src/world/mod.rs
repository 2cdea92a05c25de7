//! The sandbox's Walmart: catalog, seller items, inventory, prices, feeds, orders, returns, tokens,
//! and the log of what the seller sent. Plain data behind one mutex; no I/O, no waiting.
//!
//! Time comes from the caller (the sandbox clock). Feeds progress lazily: every request first calls
//! [`World::advance`], which processes the feeds whose processing time has passed, in order.

mod feeds;
mod items;
mod orders;
mod returns;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use domain::{Money, Timestamp};
use serde_json::Value;

pub use feeds::*;
pub use items::*;
pub use orders::*;
pub use returns::*;

use crate::limits::RateLimits;
use crate::model::*;
use crate::settings::SandboxSettings;

/// Walmart-style data error codes the sandbox gives feed items.
pub mod codes {
    /// A required attribute is missing (e.g. `price`).
    pub const MISSING_ATTRIBUTE: &str = "ERR_EXT_DATA_0801001";
    /// The product identifier is not a valid GTIN/UPC/EAN (length, digits or check digit).
    pub const INVALID_PRODUCT_ID: &str = "ERR_EXT_DATA_0801002";
    /// No Walmart catalog item has the identifier.
    pub const NO_CATALOG_MATCH: &str = "ERR_EXT_DATA_0101001";
    /// The SKU is not a seller item (inventory and price feeds).
    pub const UNKNOWN_SKU: &str = "ERR_EXT_DATA_0100001";
    /// An attribute has an invalid value (negative quantity, bad currency).
    pub const INVALID_VALUE: &str = "ERR_EXT_DATA_0801003";
    /// The feed file is not a valid feed of its type.
    pub const INVALID_FEED_FILE: &str = "ERR_EXT_DATA_0000001";
}

#[derive(Default)]
pub struct World {
    pub settings: SandboxSettings,
    pub tokens: HashMap<String, Timestamp>,
    pub limits: RateLimits,
    pub stats: BTreeMap<String, EndpointCounters>,
    pub catalog: HashMap<String, CatalogEntry>,
    pub items: BTreeMap<String, SellerItem>,
    pub items_by_gtin: HashMap<String, String>,
    pub inventory: HashMap<String, u32>,
    pub prices: HashMap<String, Money>,
    pub inventory_updates: Vec<ValueUpdate<u32>>,
    pub price_updates: Vec<ValueUpdate<Money>>,
    pub feeds: HashMap<String, Feed>,
    pub feed_order: Vec<String>,
    /// Feeds not yet processed, by the time they become PROCESSED.
    pending_feeds: BTreeMap<(Timestamp, u64), String>,
    pub orders: HashMap<String, Order>,
    /// Purchase orders by (order date, arrival): date-range queries without a full scan.
    pub orders_by_date: BTreeMap<(Timestamp, u64), String>,
    pub returns: HashMap<String, ReturnOrder>,
    pub returns_by_date: BTreeMap<(Timestamp, u64), String>,
    pub received: Received,
    /// Values put into records as they are rendered (`POST /_sandbox/overrides`).
    pub overrides: Vec<RecordOverride>,
    /// Notification subscriptions and deliveries (`webhooks/`).
    pub webhooks: crate::webhooks::Hub,
    next_seq: u64,
}

impl World {
    pub fn new(settings: SandboxSettings) -> Self {
        Self {
            settings,
            next_seq: 1,
            ..Self::default()
        }
    }

    fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    // ------------------------------------------------------------ overrides

    /// Applies the overrides of `record` to its rendering.
    pub fn overridden(&self, record: &OverriddenRecord, mut rendered: Value) -> Value {
        for o in self.overrides.iter().filter(|o| &o.record == record) {
            if o.pointer.is_empty() {
                rendered = o.value.clone();
                continue;
            }
            if let Some(slot) = rendered.pointer_mut(&o.pointer) {
                *slot = o.value.clone();
                continue;
            }
            // A member the rendering leaves out: added to its parent object.
            let Some((parent, name)) = o.pointer.rsplit_once('/') else {
                continue;
            };
            let name = name.replace("~1", "/").replace("~0", "~");
            if let Some(Value::Object(members)) = rendered.pointer_mut(parent) {
                members.insert(name, o.value.clone());
            }
        }
        rendered
    }

    /// [`Self::overridden`] for a feed status: the feed's own overrides, then each item detail's.
    pub fn overridden_feed(&self, feed_id: &str, rendered: Value) -> Value {
        let mut rendered = self.overridden(
            &OverriddenRecord::Feed {
                feed_id: feed_id.to_owned(),
            },
            rendered,
        );
        if let Some(Value::Array(items)) = rendered.pointer_mut("/itemDetails/itemIngestionStatus") {
            for item in items.iter_mut() {
                let Some(index) = item.get("index").and_then(Value::as_u64) else {
                    continue;
                };
                let record = OverriddenRecord::FeedItem {
                    feed_id: feed_id.to_owned(),
                    index: usize::try_from(index).unwrap_or(usize::MAX),
                };
                *item = self.overridden(&record, item.take());
            }
        }
        rendered
    }

    // ------------------------------------------------------------ tokens

    pub fn issue_token(&mut self, now: Timestamp) -> (String, u64) {
        let token = format!("sandbox-{}", uuid::Uuid::new_v4().simple());
        let ttl = self.settings.token_ttl_secs;
        self.tokens
            .insert(token.clone(), now.plus(Duration::from_secs(ttl)));
        // Expired tokens are forgotten here so the map stays small over long runs.
        self.tokens.retain(|_, expires| *expires > now);
        (token, ttl)
    }

    pub fn token_valid(&self, token: &str, now: Timestamp) -> bool {
        self.tokens.get(token).is_some_and(|expires| *expires > now)
    }

    pub fn expire_tokens(&mut self) -> usize {
        let n = self.tokens.len();
        self.tokens.clear();
        n
    }

    // ------------------------------------------------------------ control views

    pub fn summary(&self, now: Timestamp) -> StateSummary {
        StateSummary {
            now: Some(now),
            catalog_items: self.catalog.len(),
            seller_items: self.items.len(),
            inventory_skus: self.inventory.len(),
            priced_skus: self.prices.len(),
            feeds: self.feeds.len(),
            feeds_pending: self.pending_feed_count(),
            orders: self.orders.len(),
            returns: self.returns.len(),
            live_tokens: self.tokens.values().filter(|t| **t > now).count(),
        }
    }
}
