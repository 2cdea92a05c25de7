//! The stock snapshot inventory-sync diffs against. MSI source items carry no `updated_at` and
//! reservations have no REST endpoint, so changes cannot be searched for: each run reads every
//! source item in bulk and compares it with the last snapshot, kept here in a fixed number of
//! chunks (one state-store item each) rather than one item per SKU.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ChannelId, Sku, Timestamp};

/// Chunks per channel. 128 chunks keep 100,000 SKUs at about 30 KB a chunk and a million under the
/// store's item limit.
pub const STOCK_CHUNKS: u32 = 128;

/// The chunk a SKU lives in (FNV-1a of its bytes: stable across processes and releases).
pub fn stock_chunk_of(sku: &Sku) -> u32 {
    let hash = sku.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % STOCK_CHUNKS
}

/// What is known of one live listing's Commerce stock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StockEntry {
    /// Σ of the SKU's MSI source quantities when last read; `None` before the first read.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<f64>,
    /// The salable quantity must be asked again: the sources changed, an order touched the SKU's
    /// reservations, the listing just went live, or Walmart's quantity drifted.
    #[serde(rename = "r", default, skip_serializing_if = "std::ops::Not::not")]
    pub recheck: bool,
}

/// One chunk of a channel's stock snapshot: the live listings whose SKU hashes to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockChunk {
    pub channel: ChannelId,
    pub chunk: u32,
    pub entries: BTreeMap<Sku, StockEntry>,
    /// When reconciliation with Walmart's quantities last finished a pass over this chunk.
    #[serde(default)]
    pub reconciled_at: Option<Timestamp>,
    /// Where the unfinished reconciliation pass over this chunk resumes (after this SKU).
    #[serde(default)]
    pub reconcile_after: Option<Sku>,
}

/// Quantities closer than this are equal (MSI quantities are decimals).
const SAME_QUANTITY: f64 = 1e-6;

impl StockChunk {
    pub fn new(channel: ChannelId, chunk: u32) -> Self {
        Self {
            channel,
            chunk,
            entries: BTreeMap::new(),
            reconciled_at: None,
            reconcile_after: None,
        }
    }

    /// Starts following a SKU (its listing went live); returns whether it was new. A SKU followed
    /// already is left as it is (streams are re-read with an overlap).
    pub fn track(&mut self, sku: Sku) -> bool {
        if self.entries.contains_key(&sku) {
            return false;
        }
        self.entries.insert(
            sku,
            StockEntry {
                sources: None,
                recheck: true,
            },
        );
        true
    }

    pub fn untrack(&mut self, sku: &Sku) -> bool {
        self.entries.remove(sku).is_some()
    }

    pub fn is_tracked(&self, sku: &Sku) -> bool {
        self.entries.contains_key(sku)
    }

    /// The sources of a tracked SKU were read; a difference marks it for a recheck. Returns whether
    /// anything changed.
    pub fn observe_sources(&mut self, sku: &Sku, quantity: f64) -> bool {
        let Some(entry) = self.entries.get_mut(sku) else {
            return false;
        };
        if entry
            .sources
            .is_some_and(|seen| (seen - quantity).abs() < SAME_QUANTITY)
        {
            return false;
        }
        entry.sources = Some(quantity);
        entry.recheck = true;
        true
    }

    /// Marks a tracked SKU for a recheck; returns whether it was tracked and not marked yet.
    pub fn mark_recheck(&mut self, sku: &Sku) -> bool {
        match self.entries.get_mut(sku) {
            Some(entry) if !entry.recheck => {
                entry.recheck = true;
                true
            }
            _ => false,
        }
    }

    /// The salable quantity of a SKU was read and handled.
    pub fn rechecked(&mut self, sku: &Sku) -> bool {
        match self.entries.get_mut(sku) {
            Some(entry) if entry.recheck => {
                entry.recheck = false;
                true
            }
            _ => false,
        }
    }

    pub fn rechecks(&self) -> impl Iterator<Item = &Sku> {
        self.entries.iter().filter(|(_, e)| e.recheck).map(|(sku, _)| sku)
    }

    /// The next SKUs of the running reconciliation pass, at most `max`. Returns them and whether
    /// they finish the pass.
    pub fn reconciliation_slice(&self, max: usize) -> (Vec<Sku>, bool) {
        let rest = match &self.reconcile_after {
            Some(after) => self
                .entries
                .range::<Sku, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
            None => self.entries.range::<Sku, _>(..),
        };
        let mut slice: Vec<Sku> = rest.map(|(sku, _)| sku.clone()).take(max + 1).collect();
        let finishes = slice.len() <= max;
        slice.truncate(max);
        (slice, finishes)
    }

    /// Records reconciliation progress after `slice` (from [`Self::reconciliation_slice`]).
    pub fn reconciled(&mut self, slice: &[Sku], finished: bool, now: Timestamp) {
        if finished {
            self.reconcile_after = None;
            self.reconciled_at = Some(now);
        } else if let Some(last) = slice.last() {
            self.reconcile_after = Some(last.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::new(s).unwrap()
    }

    #[test]
    fn chunks_are_stable_and_spread() {
        assert_eq!(stock_chunk_of(&sku("MUG-1")), stock_chunk_of(&sku("MUG-1")));
        let used: std::collections::BTreeSet<u32> = (0..2_000)
            .map(|n| stock_chunk_of(&sku(&format!("SKU-{n:05}"))))
            .collect();
        assert!(used.len() > 120, "{}", used.len());
        assert!(used.iter().all(|c| *c < STOCK_CHUNKS));
    }

    #[test]
    fn source_changes_mark_rechecks_until_handled() {
        let mut chunk = StockChunk::new(ChannelId::new("main").unwrap(), 3);
        assert!(
            !chunk.observe_sources(&sku("A"), 5.0),
            "untracked SKUs are ignored"
        );
        assert!(chunk.track(sku("A")));
        assert!(chunk.observe_sources(&sku("A"), 5.0), "first read");
        assert!(chunk.rechecked(&sku("A")));
        assert!(!chunk.track(sku("A")), "seen again in an overlap");
        assert_eq!(chunk.rechecks().count(), 0);
        assert!(chunk.mark_recheck(&sku("A")));
        assert!(chunk.rechecked(&sku("A")));
        assert!(!chunk.observe_sources(&sku("A"), 5.0));
        assert_eq!(chunk.rechecks().count(), 0);
        assert!(chunk.observe_sources(&sku("A"), 4.0));
        assert_eq!(chunk.rechecks().collect::<Vec<_>>(), vec![&sku("A")]);
        assert!(!chunk.mark_recheck(&sku("A")), "already marked");
        assert!(chunk.rechecked(&sku("A")));
        assert!(chunk.mark_recheck(&sku("A")));
        let json = serde_json::to_string(&chunk.entries).unwrap();
        assert_eq!(json, r#"{"A":{"s":4.0,"r":true}}"#);
        assert!(chunk.untrack(&sku("A")));
    }

    #[test]
    fn reconciliation_walks_the_chunk_in_slices() {
        let mut chunk = StockChunk::new(ChannelId::new("main").unwrap(), 0);
        for s in ["A", "B", "C", "D", "E"] {
            chunk.track(sku(s));
        }
        let now = Timestamp::from_millis(9);
        let (slice, done) = chunk.reconciliation_slice(2);
        assert_eq!((slice.len(), done), (2, false));
        chunk.reconciled(&slice, done, now);
        let (slice, done) = chunk.reconciliation_slice(3);
        assert_eq!(slice, vec![sku("C"), sku("D"), sku("E")]);
        assert!(done);
        chunk.reconciled(&slice, done, now);
        assert_eq!(chunk.reconciled_at, Some(now));
        assert_eq!(
            chunk.reconciliation_slice(10).0.len(),
            5,
            "the next pass starts over"
        );
    }
}
