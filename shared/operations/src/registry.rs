//! Which handler runs each operation on each trigger: the one table both the Lambdas
//! (`lambda-glue`) and the local runner dispatch through, so they cannot disagree.

use std::future::Future;
use std::sync::Arc;

use domain::Operation;
use ports::{BoxFuture, Deadline, QueueName, StoreCall};

use crate::{Channel, OpError, RunReport};

/// A queued message as any queue delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub message_id: String,
    pub body: String,
    /// 1 on first delivery.
    pub receive_count: u32,
}

/// Handles one message of the operation's queue.
pub type MessageHandler = fn(Arc<Channel>, Message, Deadline) -> BoxFuture<'static, Result<(), OpError>>;
/// Runs the operation on a schedule tick.
pub type ScheduleHandler = fn(Arc<Channel>, Deadline) -> BoxFuture<'static, Result<RunReport, OpError>>;

/// What an operation does with each kind of trigger; `None` for a trigger it does not have.
#[derive(Clone, Copy, Default)]
pub struct Handlers {
    /// The queue the operation consumes, with its handler.
    pub queue: Option<(QueueName, MessageHandler)>,
    pub schedule: Option<ScheduleHandler>,
}

/// Runs an operation's work once the Commerce store's set-up is known to be right, and records a
/// configuration problem the work itself ran into (see [`crate::health`]): a misconfigured store
/// stops every operation before it sends anything to Walmart.
async fn guarded<T: crate::run_log::Outcome>(
    ch: &Channel,
    operation: Operation,
    deadline: &Deadline,
    work: impl Future<Output = Result<T, OpError>>,
) -> Result<T, OpError> {
    crate::dashboard_hooks::guarded(ch, operation, async {
        let readiness = crate::health::commerce_ready(ch, operation, deadline).await?;
        let outcome = work.await;
        crate::health::work_finished(ch, operation, readiness, &outcome).await;
        outcome
    })
    .await
}

/// The handlers of an operation.
pub fn handlers(operation: Operation) -> Handlers {
    match operation {
        // Each operation's arm is filled in with its issue.
        Operation::OrderImport => Handlers {
            queue: None,
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::OrderImport,
                        &deadline,
                        crate::order_import::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::OrderCreate => Handlers {
            queue: Some((QueueName::OrderCreate, |ch, message, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::OrderCreate,
                        &deadline,
                        crate::order_create::handle_message(&ch, &message, &deadline),
                    )
                    .await
                })
            })),
            schedule: None,
        },
        Operation::ShipmentSync => Handlers {
            queue: None,
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::ShipmentSync,
                        &deadline,
                        crate::shipment_sync::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::CancellationSync => Handlers {
            queue: None,
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::CancellationSync,
                        &deadline,
                        crate::cancellation_sync::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::ReturnsSync => Handlers {
            queue: None,
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::ReturnsSync,
                        &deadline,
                        crate::returns_sync::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::CatalogImport => Handlers {
            queue: Some((QueueName::CatalogImport, |ch, message, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::CatalogImport,
                        &deadline,
                        crate::catalog_import::handle_message(&ch, &message, &deadline),
                    )
                    .await
                })
            })),
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::CatalogImport,
                        &deadline,
                        crate::catalog_import::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::ListingMatch => Handlers {
            queue: Some((QueueName::ListingMatch, |ch, message, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::ListingMatch,
                        &deadline,
                        crate::listing_match::handle_message(&ch, &message, &deadline),
                    )
                    .await
                })
            })),
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::ListingMatch,
                        &deadline,
                        crate::listing_match::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::InventorySync => Handlers {
            queue: Some((QueueName::InventorySync, |ch, message, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::InventorySync,
                        &deadline,
                        crate::inventory_sync::handle_message(&ch, &message, &deadline),
                    )
                    .await
                })
            })),
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::InventorySync,
                        &deadline,
                        crate::inventory_sync::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
        Operation::PriceSync => Handlers {
            queue: Some((QueueName::PriceSync, |ch, message, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::PriceSync,
                        &deadline,
                        crate::price_sync::handle_message(&ch, &message, &deadline),
                    )
                    .await
                })
            })),
            schedule: Some(|ch, deadline| {
                Box::pin(async move {
                    guarded(
                        &ch,
                        Operation::PriceSync,
                        &deadline,
                        crate::price_sync::run_scheduled(&ch, &deadline),
                    )
                    .await
                })
            }),
        },
    }
}

/// The state-store methods the operation's function calls, as each operation module declares them
/// (`STORE_CALLS`): what its role on the state table is derived from.
pub fn store_calls(operation: Operation) -> &'static [StoreCall] {
    match operation {
        Operation::CatalogImport => crate::catalog_import::STORE_CALLS,
        Operation::ListingMatch => crate::listing_match::STORE_CALLS,
        Operation::InventorySync => crate::inventory_sync::STORE_CALLS,
        Operation::PriceSync => crate::price_sync::STORE_CALLS,
        Operation::OrderImport => crate::order_import::STORE_CALLS,
        Operation::OrderCreate => crate::order_create::STORE_CALLS,
        Operation::ShipmentSync => crate::shipment_sync::STORE_CALLS,
        Operation::CancellationSync => crate::cancellation_sync::STORE_CALLS,
        Operation::ReturnsSync => crate::returns_sync::STORE_CALLS,
    }
}

/// The queues the operation's function sends to, as each operation module declares them
/// (`SENDS_TO`).
pub fn sends_to(operation: Operation) -> &'static [QueueName] {
    match operation {
        Operation::CatalogImport => crate::catalog_import::SENDS_TO,
        Operation::ListingMatch => crate::listing_match::SENDS_TO,
        Operation::InventorySync => crate::inventory_sync::SENDS_TO,
        Operation::PriceSync => crate::price_sync::SENDS_TO,
        Operation::OrderImport => crate::order_import::SENDS_TO,
        Operation::OrderCreate => crate::order_create::SENDS_TO,
        Operation::ShipmentSync => crate::shipment_sync::SENDS_TO,
        Operation::CancellationSync => crate::cancellation_sync::SENDS_TO,
        Operation::ReturnsSync => crate::returns_sync::SENDS_TO,
    }
}

/// The queue the operation's function consumes: the one it has a handler for.
pub fn consumes(operation: Operation) -> Option<QueueName> {
    handlers(operation).queue.map(|(queue, _)| queue)
}

/// Whether the operation runs on a schedule: it has a schedule handler.
pub fn is_scheduled(operation: Operation) -> bool {
    handlers(operation).schedule.is_some()
}

/// The queues whose URL the operation's function needs at cold start: the one it consumes (the
/// glue changes a record's visibility through it) and those it sends to.
pub fn queue_urls(operation: Operation) -> Vec<QueueName> {
    let mut queues: Vec<QueueName> = consumes(operation).into_iter().collect();
    for queue in sends_to(operation) {
        if !queues.contains(queue) {
            queues.push(*queue);
        }
    }
    queues
}
