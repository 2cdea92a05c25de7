//! How the functions are wired, as the architecture decided it: which operation runs on a timer,
//! which queue each consumes and sends to, and which table actions its code uses. The template is
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

/// What every function does with the state table (`adapters-aws`' DynamoDB store): get, put (an
/// UpdateItem with a version condition), delete, query the table and the status index, and the
/// idempotency records (PutItem, DeleteItem).
pub const CORE_STATE_ACTIONS: [&str; 5] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
];

/// The table actions the operation's function is granted: the core set, plus BatchWriteItem for
/// bulk writers and ConditionCheckItem for those that write transactions (TransactWriteItems has no
/// IAM action of its own: each item needs its own action).
pub fn state_actions(op: Operation) -> Vec<&'static str> {
    let mut actions = CORE_STATE_ACTIONS.to_vec();
    match op {
        Operation::CatalogImport | Operation::InventorySync => actions.push("dynamodb:BatchWriteItem"),
        Operation::OrderCreate
        | Operation::ShipmentSync
        | Operation::CancellationSync
        | Operation::ReturnsSync => actions.push("dynamodb:ConditionCheckItem"),
        Operation::ListingMatch | Operation::PriceSync | Operation::OrderImport => {}
    }
    actions
}

/// Partition key prefixes a catalog function (catalog-import, listing-match, inventory-sync,
/// price-sync) reads and writes (`shared/ports/src/records.rs` key patterns; the status index's keys
/// start the same way): listings, offers, feeds, stock chunks, call budgets, cursors and the
/// channel's health record. No orders, returns or Commerce order links: they hold buyers' orders.
pub const CATALOG_KEY_KINDS: [&str; 7] = ["LISTING", "OFFER", "FEED", "STOCK", "BUDGET", "CURSOR", "HEALTH"];

/// Partition key prefixes an order function reads and writes: orders (and their shipments and
/// cancellations, under the order's partition), Commerce order links, returns, cursors, health.
pub const ORDER_KEY_KINDS: [&str; 5] = ["ORDER", "CORDER", "RETURN", "CURSOR", "HEALTH"];

/// The idempotency claims an operation takes (`IdempotencyKey::new(name, channel, key)`, stored
/// under `IDEMPOTENCY#{name}#{channel}#{key}`).
pub fn claim_names(op: Operation) -> &'static [&'static str] {
    match op {
        Operation::CatalogImport | Operation::OrderImport => &[],
        Operation::ListingMatch => &["listing-match"],
        Operation::InventorySync => &["inventory-sync"],
        Operation::PriceSync => &["price-sync"],
        Operation::OrderCreate => &["order-create"],
        Operation::ShipmentSync => &["shipment-sync"],
        Operation::CancellationSync => &["cancel-on-walmart", "cancel-in-commerce"],
        Operation::ReturnsSync => &["return-request", "refund"],
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
