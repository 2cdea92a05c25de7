//! What a sandbox saw: one [`Exchange`] per request/response pair, kept by a bounded [`Recorder`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// How many exchanges a [`Recorder`] keeps by default; older ones are dropped first.
pub const DEFAULT_RECORDER_CAPACITY: usize = 200_000;

/// One HTTP request/response pair as a sandbox saw it. Serialised as JSON with these field names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Order of arrival (assigned when the request arrives, not when it completes).
    pub seq: u64,
    /// Upper-case method, e.g. `"GET"`.
    pub method: String,
    /// Raw path as received, percent-encoding kept, no query.
    pub path: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Lower-cased names; repeated headers joined with `", "`.
    pub request_headers: BTreeMap<String, String>,
    pub request_content_type: Option<String>,
    /// JSON request body; for multipart/form-data, the part named "file" parsed as JSON (feeds);
    /// `None` if empty.
    pub request_body: Option<serde_json::Value>,
    /// Request body that was not JSON (raw text, truncated to 64 KiB), e.g. form-urlencoded token requests.
    pub request_text: Option<String>,
    pub status: u16,
    pub response_headers: BTreeMap<String, String>,
    /// `None` if empty or not JSON.
    pub response_body: Option<serde_json::Value>,
    /// True when a fault injection produced or altered this response: fidelity checks skip it.
    pub fault_injected: bool,
}

impl Exchange {
    /// The first value of a query parameter, if present.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A request header by case-insensitive name.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Keeps the most recent exchanges of one sandbox. Cheap to clone: clones share the same log.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderLog>>,
}

struct RecorderLog {
    capacity: usize,
    next_seq: u64,
    exchanges: VecDeque<Exchange>,
}

impl Recorder {
    /// A recorder keeping the last [`DEFAULT_RECORDER_CAPACITY`] exchanges.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_RECORDER_CAPACITY)
    }

    /// A recorder keeping the last `capacity` exchanges (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(RecorderLog {
                capacity: capacity.max(1),
                next_seq: 1,
                exchanges: VecDeque::new(),
            })),
        }
    }

    /// All kept exchanges, ordered by `seq` (arrival order).
    pub fn snapshot(&self) -> Vec<Exchange> {
        let mut exchanges: Vec<Exchange> = self.lock().exchanges.iter().cloned().collect();
        // Exchanges are stored as they complete; a slow request can finish after a later one.
        exchanges.sort_by_key(|exchange| exchange.seq);
        exchanges
    }

    /// Forgets every kept exchange. Sequence numbers keep counting up, so a `seq` is never reused.
    pub fn clear(&self) {
        self.lock().exchanges.clear();
    }

    /// How many exchanges are kept right now.
    pub fn count(&self) -> usize {
        self.lock().exchanges.len()
    }

    /// Reserves the next sequence number for a request that just arrived.
    pub(crate) fn next_seq(&self) -> u64 {
        let mut log = self.lock();
        let seq = log.next_seq;
        log.next_seq += 1;
        seq
    }

    /// Stores a completed exchange, dropping the oldest one when full.
    pub fn record(&self, exchange: Exchange) {
        let mut log = self.lock();
        log.next_seq = log.next_seq.max(exchange.seq.saturating_add(1));
        while log.exchanges.len() >= log.capacity {
            log.exchanges.pop_front();
        }
        log.exchanges.push_back(exchange);
    }

    fn lock(&self) -> MutexGuard<'_, RecorderLog> {
        // A panic while holding the lock cannot leave the log half-updated in a harmful way: keep going.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("count", &self.count()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_most_recent_exchanges() {
        let recorder = Recorder::with_capacity(3);
        for _ in 0..5 {
            let seq = recorder.next_seq();
            recorder.record(Exchange {
                seq,
                ..Exchange::default()
            });
        }
        let seqs: Vec<u64> = recorder.snapshot().iter().map(|exchange| exchange.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        recorder.clear();
        assert_eq!(recorder.count(), 0);
        assert_eq!(
            recorder.next_seq(),
            6,
            "sequence numbers are never reused after clear"
        );
    }

    #[test]
    fn snapshot_is_in_arrival_order_even_when_completion_order_differs() {
        let recorder = Recorder::new();
        let first = recorder.next_seq();
        let second = recorder.next_seq();
        recorder.record(Exchange {
            seq: second,
            ..Exchange::default()
        });
        recorder.record(Exchange {
            seq: first,
            ..Exchange::default()
        });
        let seqs: Vec<u64> = recorder.snapshot().iter().map(|exchange| exchange.seq).collect();
        assert_eq!(seqs, vec![first, second]);
    }
}
