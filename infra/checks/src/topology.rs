//! How the functions are wired, as the operations declare it (`operations::registry`): which
//! operation runs on a timer, which queue each consumes and sends to (its table actions:
//! `permissions`). The template is checked against this; the numbers (delays, timers) are not here:
//! delays live in `domain::Operation`, timers in the template.

use ports::QueueName;

use domain::Operation;

/// Whether the operation runs on an EventBridge schedule (it has a schedule handler in
/// `operations::registry`).
pub fn is_scheduled(op: Operation) -> bool {
    operations::registry::is_scheduled(op)
}

/// The queue an operation's function consumes, if any (its queue handler in `operations::registry`).
pub fn consumes(op: Operation) -> Option<QueueName> {
    operations::registry::consumes(op)
}

/// The queues an operation's function sends to (its module's `SENDS_TO`).
pub fn sends_to(op: Operation) -> &'static [QueueName] {
    operations::registry::sends_to(op)
}

/// The queues whose URL the operation's function reads at cold start.
pub fn queue_urls(op: Operation) -> Vec<QueueName> {
    operations::registry::queue_urls(op)
}

/// The operation that consumes a queue (the first, should several be declared).
pub fn consumer_of(queue: QueueName) -> Option<Operation> {
    consumers_of(queue).into_iter().next()
}

/// The actions a function needs on each queue it sends to: those of the queue methods that send
/// (`adapters_aws::sqs::iam_actions`).
pub fn send_actions() -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = ports::QueueCall::SENDING
        .into_iter()
        .flat_map(|call| adapters_aws::sqs::iam_actions(call).iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The consumers of a queue: exactly one in a sound declaration.
pub fn consumers_of(queue: QueueName) -> Vec<Operation> {
    Operation::ALL
        .into_iter()
        .filter(|op| consumes(*op) == Some(queue))
        .collect()
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
    fn every_queue_has_one_consumer() {
        for queue in QueueName::ALL {
            assert_eq!(
                consumers_of(queue).len(),
                1,
                "{queue:?}: {:?}",
                consumers_of(queue)
            );
        }
        assert_eq!(queue_logical_id(QueueName::OrderCreate), "OrderCreateQueue");
        assert_eq!(pascal_case("cancellation-sync"), "CancellationSync");
    }
}
