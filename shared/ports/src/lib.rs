//! Ports: the traits at Channel Manager's edges, and the small pieces all adapters share.
//!
//! Operations depend only on these traits; adapters (DynamoDB, SQS, embedded, the Walmart and
//! Commerce HTTP clients) implement them, and one conformance suite runs against each adapter.

pub mod clock;
pub mod retry;

pub use clock::{BoxFuture, Clock, ManualClock, ScaledClock, SystemClock};
pub use retry::{Backoff, Deadline};
