//! How the functions are wired, as each declares it (`operations::declaration`, gathered in
//! `operations::registry::FUNCTIONS`): which runs on a timer, which queue each consumes and sends
//! to, which answers through a Function URL (its table actions: `permissions`). The template is checked against this; the numbers (delays, timers) are not here:
//! delays live in `domain::Operation`, timers in the template.

use ports::QueueName;
pub use sam_template::{pascal_case, queue_logical_id};

use domain::Operation;
use operations::declaration::Declaration;

/// Every function's declaration.
pub fn declarations() -> impl Iterator<Item = &'static Declaration> {
    operations::registry::FUNCTIONS.iter().copied()
}

/// The declaration of the function that runs `binary`.
pub fn declaration_of(binary: &str) -> Option<&'static Declaration> {
    operations::registry::declaration_of_function(binary)
}

/// Whether the operation runs on an EventBridge schedule (its declaration).
pub fn is_scheduled(op: Operation) -> bool {
    operations::registry::is_scheduled(op)
}

/// The queue an operation's function consumes, if any (its declaration).
pub fn consumes(op: Operation) -> Option<QueueName> {
    operations::registry::consumes(op)
}

/// The queues an operation's function sends to (its declaration).
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

/// Partition key prefixes a catalog function (catalog-import, listing-match, inventory-sync,
/// price-sync) reads and writes (`shared/ports/src/records.rs` key patterns; the status index's keys
/// start the same way): listings, offers, feeds, stock chunks, call budgets, cursors and the
/// channel's health record, the merchant's switches (pause, match mode) and the run log. No
/// orders, returns or Commerce order links: they hold buyers' orders.
pub const CATALOG_KEY_KINDS: [&str; 9] = [
    "LISTING", "OFFER", "FEED", "STOCK", "BUDGET", "CURSOR", "HEALTH", "MERCHANT", "RUN",
];

/// Partition key prefixes an order function reads and writes: orders (and their shipments and
/// cancellations, under the order's partition), Commerce order links, returns, cursors, health,
/// the merchant's switches and the run log.
pub const ORDER_KEY_KINDS: [&str; 7] = ["ORDER", "CORDER", "RETURN", "CURSOR", "HEALTH", "MERCHANT", "RUN"];

/// The idempotency claims an operation takes (`IdempotencyKey::new(name, channel, key)`, stored
/// under `IDEMPOTENCY#{name}#{channel}#{key}`).
pub fn claim_names(op: Operation) -> &'static [&'static str] {
    match op {
        Operation::CatalogImport => &[],
        // Each Walmart notification it consumes is acted on once (`walmart_events`).
        Operation::OrderImport => &["walmart-event"],
        Operation::ListingMatch => &["listing-match"],
        Operation::InventorySync => &["inventory-sync"],
        Operation::PriceSync => &["price-sync"],
        Operation::OrderCreate => &["order-create"],
        Operation::ShipmentSync => &["shipment-sync"],
        Operation::CancellationSync => &["cancel-on-walmart", "cancel-in-commerce", "walmart-event"],
        Operation::ReturnsSync => &["return-request", "refund"],
    }
}

/// Partition key prefixes only one operation uses, beside its group's: shipment-sync's shipments
/// waiting for tracking (`tracking_wait_pk`).
pub fn own_key_kinds(op: Operation) -> &'static [&'static str] {
    match op {
        Operation::ShipmentSync => &["TRACKING_WAIT"],
        _ => &[],
    }
}

/// Whether the operation works on the catalog (never on orders).
pub fn is_catalog(op: Operation) -> bool {
    matches!(
        op,
        Operation::CatalogImport | Operation::ListingMatch | Operation::InventorySync | Operation::PriceSync
    )
}

/// The `dynamodb:LeadingKeys` patterns the operation's role allows, as the template writes them in
/// `!Sub` (the channel id is the `ChannelId` parameter).
pub fn leading_key_patterns(op: Operation) -> Vec<String> {
    let kinds: &[&str] = if is_catalog(op) {
        &CATALOG_KEY_KINDS
    } else {
        &ORDER_KEY_KINDS
    };
    kinds
        .iter()
        .chain(own_key_kinds(op))
        .map(|kind| format!("CH#${{ChannelId}}#{kind}*"))
        .chain(
            claim_names(op)
                .iter()
                .map(|name| format!("IDEMPOTENCY#{name}#${{ChannelId}}#*")),
        )
        .collect()
}

/// IAM's `StringLike`: `*` matches any run of characters, `?` one character.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // matched[j]: the pattern so far matches text[..j].
    let mut matched = vec![false; t.len() + 1];
    matched[0] = true;
    for c in p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match c {
                '*' => matched[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && matched[j - 1],
                c => j > 0 && matched[j - 1] && t[j - 1] == c,
            };
        }
        matched = next;
    }
    matched[t.len()]
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

    #[test]
    fn string_like_globs() {
        assert!(glob_matches("CH#main#ORDER*", "CH#main#ORDER#1"));
        assert!(glob_matches("CH#main#*", "CH#main#ORDER#1"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("CH#?ain#LISTING*", "CH#main#LISTING"));
        assert!(!glob_matches("CH#main#LISTING*", "CH#main#ORDER#1"));
        assert!(!glob_matches("CH#main#ORDER*", "CH#main#CORDER"));
    }
}
