//! Ports: the traits at Channel Manager's edges, and the small pieces all adapters share.
//!
//! Operations depend only on these traits; adapters (DynamoDB, SQS, embedded, the Walmart and
//! Commerce HTTP clients) implement them, and one conformance suite (`conformance`) runs against
//! every state store and work queue adapter.

pub mod api;
pub mod calls;
pub mod clock;
pub mod commerce;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod counting;
pub mod http;
pub mod queue;
pub mod records;
pub mod redact;
pub mod retry;
pub mod state;
pub mod walmart;
pub mod webhooks;

pub use api::{Api, ApiError, ApiErrorKind, PageRequest, SearchPage, bounded_message};
pub use calls::{QueueCall, RecordingStore, StoreCall};
pub use clock::{BoxFuture, Clock, ManualClock, ScaledClock, SystemClock};
pub use commerce::Commerce;
pub use counting::{CountingStore, StoreCounts};
pub use queue::{Delivery, OutgoingMessage, QueueDepth, QueueError, QueueName, QueueSettings, WorkQueue};
pub use records::{Record, Records, UpdateError, Versioned};
pub use retry::{Backoff, Deadline};
pub use state::{
    Claim, ClaimTerms, ClaimToken, Expect, IdempotencyKey, IndexKey, Item, Key, Page, PageToken, Query,
    QueryTarget, SortRange, StateStore, StoreError, Stored, Version, Write, query_all,
};
pub use walmart::Walmart;
