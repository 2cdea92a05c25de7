//! Which handler runs each operation on each trigger: the one table both the Lambdas
//! (`lambda-glue`) and the local runner dispatch through, so they cannot disagree.

use std::future::Future;
use std::sync::Arc;

use domain::Operation;
use ports::{BoxFuture, Deadline, QueueName, StoreCall};

use crate::declaration::Declaration;
use crate::{Channel, OpError, RunReport};

pub use crate::messages::Message;

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

/// A message handler of the operation `$op`: decodes the delivery into the message its queue
/// carries, then hands it to `$module::handle_message` (or `$module::$handler`; in [`guarded`]).
macro_rules! on_message {
    ($op:expr, $module:ident) => {
        on_message!($op, $module::handle_message)
    };
    ($op:expr, $module:ident :: $handler:ident) => {{
        let handler: MessageHandler = |ch, message, deadline| {
            Box::pin(async move {
                guarded(&ch, $op, &deadline, async {
                    let message = message.decode()?;
                    crate::$module::$handler(&ch, &message, &deadline).await
                })
                .await
            })
        };
        Some(handler)
    }};
}

/// The schedule handler of the operation `$op`: `$module::run_scheduled` (in [`guarded`]).
macro_rules! on_schedule {
    ($op:expr, $module:ident) => {{
        let handler: ScheduleHandler = |ch, deadline| {
            Box::pin(async move {
                guarded(&ch, $op, &deadline, crate::$module::run_scheduled(&ch, &deadline)).await
            })
        };
        Some(handler)
    }};
}

/// Each operation's module, with the handlers it has; which of them run is its declaration's.
fn module_handlers(operation: Operation) -> (Option<MessageHandler>, Option<ScheduleHandler>) {
    use Operation as Op;
    match operation {
        Op::CatalogImport => (
            on_message!(Op::CatalogImport, catalog_import),
            on_schedule!(Op::CatalogImport, catalog_import),
        ),
        Op::ListingMatch => (
            on_message!(Op::ListingMatch, listing_match),
            on_schedule!(Op::ListingMatch, listing_match),
        ),
        Op::InventorySync => (
            on_message!(Op::InventorySync, inventory_sync),
            on_schedule!(Op::InventorySync, inventory_sync),
        ),
        Op::PriceSync => (
            on_message!(Op::PriceSync, price_sync),
            on_schedule!(Op::PriceSync, price_sync),
        ),
        Op::OrderImport => (
            on_message!(Op::OrderImport, walmart_events::handle_order_event),
            on_schedule!(Op::OrderImport, order_import),
        ),
        Op::OrderCreate => (on_message!(Op::OrderCreate, order_create), None),
        Op::ShipmentSync => (None, on_schedule!(Op::ShipmentSync, shipment_sync)),
        Op::CancellationSync => (
            on_message!(Op::CancellationSync, walmart_events::handle_cancel_event),
            on_schedule!(Op::CancellationSync, cancellation_sync),
        ),
        Op::ReturnsSync => (None, on_schedule!(Op::ReturnsSync, returns_sync)),
    }
}

/// The handlers of an operation: those its declaration wires.
pub fn handlers(operation: Operation) -> Handlers {
    let declaration = declaration(operation);
    let (on_message, on_schedule) = module_handlers(operation);
    Handlers {
        queue: declaration.consumes.zip(on_message),
        schedule: on_schedule.filter(|_| declaration.scheduled),
    }
}

/// Every function's declaration: Adobe's operations, then the functions that are not one.
pub const FUNCTIONS: &[&Declaration] = &[
    &crate::catalog_import::DECLARATION,
    &crate::listing_match::DECLARATION,
    &crate::inventory_sync::DECLARATION,
    &crate::price_sync::DECLARATION,
    &crate::order_import::DECLARATION,
    &crate::order_create::DECLARATION,
    &crate::shipment_sync::DECLARATION,
    &crate::cancellation_sync::DECLARATION,
    &crate::returns_sync::DECLARATION,
    &crate::merchant::DECLARATION,
    &crate::walmart_events::DECLARATION,
];

/// The declaration of an operation's function.
pub fn declaration(operation: Operation) -> &'static Declaration {
    match operation {
        Operation::CatalogImport => &crate::catalog_import::DECLARATION,
        Operation::ListingMatch => &crate::listing_match::DECLARATION,
        Operation::InventorySync => &crate::inventory_sync::DECLARATION,
        Operation::PriceSync => &crate::price_sync::DECLARATION,
        Operation::OrderImport => &crate::order_import::DECLARATION,
        Operation::OrderCreate => &crate::order_create::DECLARATION,
        Operation::ShipmentSync => &crate::shipment_sync::DECLARATION,
        Operation::CancellationSync => &crate::cancellation_sync::DECLARATION,
        Operation::ReturnsSync => &crate::returns_sync::DECLARATION,
    }
}

/// The declaration of the function built from `functions/<name>`.
pub fn declaration_of_function(name: &str) -> Option<&'static Declaration> {
    FUNCTIONS.iter().copied().find(|d| d.function == name)
}

/// The state-store methods the operation's function calls (its declaration's): what its role on
/// the state table is derived from.
pub fn store_calls(operation: Operation) -> &'static [StoreCall] {
    declaration(operation).store_calls
}

/// The queues the operation's function sends to (its declaration's).
pub fn sends_to(operation: Operation) -> &'static [QueueName] {
    declaration(operation).sends_to
}

/// The queue the operation's function consumes (its declaration's).
pub fn consumes(operation: Operation) -> Option<QueueName> {
    declaration(operation).consumes
}

/// Whether the operation runs on a schedule (its declaration's).
pub fn is_scheduled(operation: Operation) -> bool {
    declaration(operation).scheduled
}

/// The queues whose URL the operation's function needs at cold start.
pub fn queue_urls(operation: Operation) -> Vec<QueueName> {
    declaration(operation).queue_urls()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A declaration names its operation's function, and has a handler for each trigger it
    /// declares and a trigger for each handler its module has.
    #[test]
    fn declarations_match_the_modules_handlers() {
        for operation in Operation::ALL {
            let declaration = declaration(operation);
            assert_eq!(declaration.function, operation.function_name());
            assert_eq!(declaration_of_function(declaration.function), Some(declaration));
            let (on_message, on_schedule) = module_handlers(operation);
            assert_eq!(
                declaration.consumes.is_some(),
                on_message.is_some(),
                "{operation:?}"
            );
            assert_eq!(declaration.scheduled, on_schedule.is_some(), "{operation:?}");
            assert_eq!(declaration.function_url, None, "{operation:?}");
        }
        // Every operation's function, and the dashboard: the one function that is not an operation.
        assert_eq!(FUNCTIONS.len(), Operation::ALL.len() + 2);
        assert_eq!(
            declaration_of_function("dashboard").and_then(|d| d.function_url),
            Some(crate::declaration::UrlAuth::None)
        );
    }
}
