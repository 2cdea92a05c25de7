//! How the functions are wired, as the architecture decided it: which operation runs on a timer,
//! which queue each consumes and sends to (its table actions: `permissions`). The template is
//! checked against this; the numbers (delays, timers) are not here: delays live in
//! `domain::Operation`, timers in the template.

use ports::QueueName;

use domain::Operation;

/// Operations that run on an EventBridge schedule.
pub fn is_scheduled(op: Operation) -> bool {
    match op {
        Operation::CatalogImport
        | Operation::ListingMatch
        | Operation::InventorySync
        | Operation::PriceSync
        | Operation::OrderImport
        | Operation::ShipmentSync
        | Operation::CancellationSync
        | Operation::ReturnsSync => true,
        // Fed by order-import through its queue only.
        Operation::OrderCreate => false,
    }
}

/// The queue an operation's function consumes, if any.
pub fn consumes(op: Operation) -> Option<QueueName> {
    match op {
        Operation::CatalogImport => Some(QueueName::CatalogImport),
        Operation::ListingMatch => Some(QueueName::ListingMatch),
        Operation::InventorySync => Some(QueueName::InventorySync),
        Operation::PriceSync => Some(QueueName::PriceSync),
        Operation::OrderCreate => Some(QueueName::OrderCreate),
        Operation::OrderImport
        | Operation::ShipmentSync
        | Operation::CancellationSync
        | Operation::ReturnsSync => None,
    }
}

/// The queues an operation's function sends to.
pub fn sends_to(op: Operation) -> &'static [QueueName] {
    match op {
        // A long import fans its pages out to itself, and hands new listings to matching.
        Operation::CatalogImport => &[QueueName::CatalogImport, QueueName::ListingMatch],
        Operation::ListingMatch => &[QueueName::ListingMatch],
        Operation::OrderImport => &[QueueName::OrderCreate],
        // A created order changes stock (urgent inventory update); a request whose claim another
        // invocation holds is sent again, delayed, instead of failing.
        Operation::OrderCreate => &[QueueName::InventorySync, QueueName::OrderCreate],
        // A cancelled line changes stock: urgent inventory update.
        Operation::CancellationSync => &[QueueName::InventorySync],
        Operation::InventorySync
        | Operation::PriceSync
        | Operation::ShipmentSync
        | Operation::ReturnsSync => &[],
    }
}

/// The queues whose URL the operation's function reads at cold start: those it sends to and the one
/// it consumes (the SQS glue uses the URL to change a record's visibility).
pub fn queue_urls(op: Operation) -> Vec<QueueName> {
    let mut queues: Vec<QueueName> = consumes(op).into_iter().collect();
    for queue in sends_to(op) {
        if !queues.contains(queue) {
            queues.push(*queue);
        }
    }
    queues
}

/// The consumer of a queue.
pub fn consumer_of(queue: QueueName) -> Operation {
    match queue {
        QueueName::CatalogImport => Operation::CatalogImport,
        QueueName::ListingMatch => Operation::ListingMatch,
        QueueName::InventorySync => Operation::InventorySync,
        QueueName::PriceSync => Operation::PriceSync,
        QueueName::OrderCreate => Operation::OrderCreate,
    }
}

/// The environment every function reads at cold start (besides the queue URLs it sends to).
pub const COMMON_ENVIRONMENT: [&str; 5] = [
    "TABLE_NAME",
    "CHANNEL_SETTINGS",
    "SECRET_ARN",
    "WALMART_BASE_URL",
    "COMMERCE_BASE_URL",
];

/// The actions Lambda's event source mapping needs on a consumed queue.
pub const CONSUMER_QUEUE_ACTIONS: [&str; 4] = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
];

/// `catalog-import` -> `CatalogImport`.
pub fn pascal_case(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The template's logical id for a queue (`CatalogImportQueue`).
pub fn queue_logical_id(queue: QueueName) -> String {
    format!("{}Queue", pascal_case(queue.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_has_one_consumer_that_agrees() {
        for queue in QueueName::ALL {
            let op = consumer_of(queue);
            assert_eq!(consumes(op), Some(queue));
        }
        assert_eq!(queue_logical_id(QueueName::OrderCreate), "OrderCreateQueue");
        assert_eq!(pascal_case("cancellation-sync"), "CancellationSync");
    }
}
