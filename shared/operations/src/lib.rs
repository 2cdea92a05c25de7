//! Channel Manager's operations: one module per operation, named after it, each the whole story of
//! that operation over the ports. Lambdas (`functions/`) and the local runner call these and nothing
//! else does business work.
//!
//! | module              | what it does                                                          |
//! |---------------------|-----------------------------------------------------------------------|
//! | `catalog_import`    | Commerce products chosen for Walmart become listings                  |
//! | `listing_match`     | listings go to Walmart in MP_ITEM_MATCH feeds; feed results come back |
//! | `inventory_sync`    | Commerce salable quantities reach Walmart                             |
//! | `price_sync`        | Commerce prices reach Walmart                                         |
//! | `order_import`      | new Walmart orders are recorded once and queued for creation          |
//! | `order_create`      | the Commerce order for a Walmart order is created exactly once        |
//! | `shipment_sync`     | Commerce shipments send tracking to Walmart                           |
//! | `cancellation_sync` | cancellations flow both ways                                          |
//! | `returns_sync`      | Walmart returns become Commerce returns; refunds go back to Walmart   |
//! | `dashboard`         | the order and returns dashboards' records and queries                 |
//! | `health`            | a misconfigured Commerce store stops the channel and says what to fix  |
//! | `declaration`       | what the deployment wires for a function (each operation's `DECLARATION`) |
//! | `commerce_cancellation` | shared step: Walmart cancellations reflected in Commerce (cancellation-sync, order-create, walmart_events) |
//! | `walmart_shipment`  | shared step: one Commerce shipment sent to Walmart once (shipment-sync, order-create) |
//! | `messages`          | the queue messages, their queues, encoding and the one send loop      |
//! | `registry`          | each operation's declaration and handlers: the only module that imports the operations |
//! | `merchant`          | the merchant's dashboard actions and switches (match mode, pauses), audited |
//! | `run_log`           | each operation's last run and recent failures, for the overview       |
//! | `walmart_events`    | Walmart's order notifications: the receiver and its two consumers     |
//! | `push_subscription` | the channel's `ORDER_UPDATES` subscription, kept by order-import      |

pub mod cancellation_sync;
pub mod catalog_import;
mod claim;
mod commerce_cancellation;
mod counter;
pub mod dashboard;
mod dashboard_hooks;
pub mod declaration;
mod feeds;
pub mod health;
pub mod inventory_sync;
pub mod listing_match;
pub mod merchant;
pub mod messages;
pub mod order_create;
pub mod order_import;
mod order_intake;
mod order_support;
pub mod price_sync;
pub mod push_subscription;
pub mod registry;
pub mod returns_sync;
pub mod run_log;
mod scan;
pub mod shipment_sync;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod walmart_events;
mod walmart_scan;
mod walmart_shipment;
pub mod wiring;

pub use counter::Counter;

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::{ChannelSettings, IllegalTransition, Operation};
use ports::{ApiError, Clock, Commerce, QueueError, StateStore, StoreError, UpdateError, Walmart, WorkQueue};
use serde::Serialize;

/// Everything an operation needs, built once per process: by `lambda-glue` on AWS (DynamoDB, SQS)
/// and by the local runner on the embedded adapters.
#[derive(Clone)]
pub struct Channel {
    pub settings: ChannelSettings,
    pub store: Arc<dyn StateStore>,
    pub queues: Arc<dyn WorkQueue>,
    pub walmart: Arc<dyn Walmart>,
    pub commerce: Arc<dyn Commerce>,
    pub clock: Arc<dyn Clock>,
}

/// Why an operation (or one message of it) failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// A message or record that can never be processed as it is (malformed body, unknown ids).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A change the order's rules refuse (more units than the line has open, an unknown line):
    /// the input asked for it, so it fails as bad input does.
    #[error("invalid input: {0}")]
    Order(#[from] domain::OrderError),
    /// A message on a queue that is not what its operation reads: bad input.
    #[error("invalid input: {what}: {source}")]
    BadMessage {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// A stored record the channel wrote that no longer reads back (a format changed under it).
    #[error("{what} stored in a form this version cannot read: {source}")]
    Unreadable {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A value of our own could not be encoded (a message, a stored intent): a defect here, not bad
    /// input, and retrying cannot help.
    #[error("cannot encode {what}: {source}")]
    Encoding {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A feed could not be built: an entry Walmart would refuse is bad input; a feed that cannot be
    /// serialised is a defect.
    #[error("{what} feed: {source}")]
    Feed {
        what: &'static str,
        #[source]
        source: walmart_client::feeds::FeedError,
    },
    /// Another invocation holds the work right now; retry later.
    #[error("{0} is in progress elsewhere; retry later")]
    Busy(String),
}

impl OpError {
    /// Worth retrying as is (the failure was transient), as opposed to bad input that will fail again.
    pub fn is_retryable(&self) -> bool {
        match self {
            OpError::Store(e) => matches!(
                e,
                StoreError::Unavailable(_)
                    | StoreError::ConditionFailed { .. }
                    | StoreError::ClaimLost { .. }
            ),
            OpError::Queue(e) => matches!(e, QueueError::Unavailable(_) | QueueError::PartialSend { .. }),
            OpError::Api(e) => e.is_retryable(),
            OpError::Busy(_) => true,
            OpError::Illegal(_)
            | OpError::Invalid(_)
            | OpError::Order(_)
            | OpError::BadMessage { .. }
            | OpError::Unreadable { .. }
            | OpError::Encoding { .. }
            | OpError::Feed { .. } => false,
        }
    }

    /// A short name for logs, metrics and Lambda's error type.
    pub fn kind(&self) -> &'static str {
        match self {
            OpError::Store(_) => "StateStoreError",
            OpError::Queue(_) => "QueueError",
            OpError::Api(_) => "ApiError",
            OpError::Illegal(_) => "IllegalTransition",
            OpError::Invalid(_) | OpError::Order(_) | OpError::BadMessage { .. } => "InvalidInput",
            OpError::Feed {
                source: walmart_client::feeds::FeedError::Serialise(_),
                ..
            }
            | OpError::Encoding { .. } => "EncodingError",
            OpError::Feed { .. } => "InvalidInput",
            OpError::Unreadable { .. } => "UnreadableRecord",
            OpError::Busy(_) => "Busy",
        }
    }
}

impl<E: Into<OpError>> From<UpdateError<E>> for OpError {
    fn from(e: UpdateError<E>) -> Self {
        match e {
            UpdateError::Store(s) => OpError::Store(s),
            UpdateError::Rejected(r) => r.into(),
        }
    }
}

/// Run report counts: records of a Walmart page that could not be read and were skipped (the rest
/// of the page was processed), and values of Walmart enums the channel does not know.
pub const SKIPPED_WALMART_RECORDS: Counter = Counter::SkippedWalmartRecords;
pub const UNKNOWN_WALMART_VALUES: Counter = Counter::UnknownWalmartValues;
/// The count a scheduled run reports when another run of its operation holds the run lease: it did
/// nothing else.
pub const RUN_IN_PROGRESS_ELSEWHERE: Counter = Counter::RunInProgressElsewhere;

/// What a scheduled run did, returned as the Lambda's answer and logged.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    pub operation: Option<Operation>,
    /// Counts by outcome, e.g. `{"orders_imported": 3, "already_known": 10}`, named by [`Counter`].
    pub counts: BTreeMap<String, u64>,
    /// False when the run stopped at its deadline with work left (the next run continues).
    pub complete: bool,
    /// Problems that did not fail the run (one bad record among many), for the operator.
    pub problems: Vec<String>,
}

impl RunReport {
    pub fn new(operation: Operation) -> Self {
        Self {
            operation: Some(operation),
            counts: BTreeMap::new(),
            complete: true,
            problems: Vec::new(),
        }
    }

    pub fn add(&mut self, what: Counter, n: u64) {
        *self.counts.entry(what.as_str().to_owned()).or_default() += n;
    }

    pub fn count(&self, what: Counter) -> u64 {
        self.counts.get(what.as_str()).copied().unwrap_or(0)
    }

    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }
}

/// The store's time zone (`general/locale/timezone`: special price dates are its days), from the
/// store set-up the Commerce client checked and remembers.
pub(crate) async fn store_time_zone(
    ch: &Channel,
    deadline: &ports::Deadline,
) -> Result<domain::StoreTimeZone, OpError> {
    let needs_msi = matches!(ch.settings.stock, domain::StockSource::Msi { .. });
    Ok(ch.commerce.store_setup(needs_msi, deadline).await?.timezone)
}
