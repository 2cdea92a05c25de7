//! The plan (pure): which quantity changes go as single updates and which in a feed.

use super::*;

/// A quantity Walmart should be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityChange {
    pub sku: Sku,
    pub quantity: u32,
    /// What Walmart was last told, if anything.
    pub previous: Option<u32>,
    /// When Commerce's salable quantity was read.
    pub read_at: Timestamp,
}

impl QuantityChange {
    /// Lower goes first: stock-outs (overselling is the costly mistake), then drops, then first
    /// quantities, then rises.
    pub(super) fn urgency(&self) -> u8 {
        match self.previous {
            _ if self.quantity == 0 => 0,
            Some(previous) if self.quantity < previous => 1,
            None => 2,
            Some(_) => 3,
        }
    }

    pub(super) fn is_stock_out(&self) -> bool {
        self.quantity == 0
    }
}

/// How one run sends its changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryPlan {
    /// `PUT /v3/inventory`, most urgent first.
    pub singles: Vec<QuantityChange>,
    /// One bulk feed (several files only past Walmart's size limits), most urgent first.
    pub feed: Vec<QuantityChange>,
    /// Left for a later run: no budget now.
    pub deferred: Vec<QuantityChange>,
}

/// Few changes go as single calls; many go in a feed, with stock-outs still as single calls; with
/// no feed allowed, the most urgent go as single calls and the rest wait.
pub fn plan(mut changes: Vec<QuantityChange>, singles_available: u32, feed_allowed: bool) -> InventoryPlan {
    changes.sort_by(|a, b| a.urgency().cmp(&b.urgency()).then_with(|| a.sku.cmp(&b.sku)));
    let singles_available = singles_available as usize;
    let mut out = InventoryPlan::default();
    if changes.len() <= singles_available {
        out.singles = changes;
    } else if feed_allowed {
        for change in changes {
            if change.is_stock_out() && out.singles.len() < singles_available {
                out.singles.push(change);
            } else {
                out.feed.push(change);
            }
        }
    } else {
        out.deferred = changes.split_off(singles_available);
        out.singles = changes;
    }
    out
}

/// The quantity Walmart should show for a listing with this salable quantity.
pub fn advertised(ch: &Channel, listing: &Listing, salable: f64) -> u32 {
    ch.settings
        .inventory
        .advertised_for_product(listing.product.enabled, salable)
}
