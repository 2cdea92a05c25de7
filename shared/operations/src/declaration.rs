//! What the deployment wires for a function, declared once beside its code: the queue it consumes,
//! whether it runs on a schedule, whether it answers HTTP through a Function URL, the queues it
//! sends to and the state-store methods it calls. Each operation module has its `DECLARATION`;
//! [`crate::registry`] gathers them, and everything else reads them from there: the Lambdas' cold
//! start (queue URLs), `infra/checks` (the template's triggers, grants and environment are held to
//! them) and the local runner (what to poll and tick).

use ports::{QueueName, StoreCall};

/// Who may call a function's URL (the template's `FunctionUrlConfig.AuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlAuth {
    /// Signed requests only (SigV4): a dashboard behind IAM or CloudFront's origin access.
    AwsIam,
    /// Anyone: the function checks the caller itself (a webhook verifying its sender's signature).
    None,
}

impl UrlAuth {
    /// As the template writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlAuth::AwsIam => "AWS_IAM",
            UrlAuth::None => "NONE",
        }
    }
}

/// One function's wiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declaration {
    /// Its crate under `functions/` and binary (for an operation, `Operation::function_name`), and
    /// the `detail.operation` of its schedule's input.
    pub function: &'static str,
    /// The queue it consumes (its message handler in the registry).
    pub consumes: Option<QueueName>,
    /// Runs on an EventBridge schedule (its schedule handler in the registry).
    pub scheduled: bool,
    /// Answers HTTP through a Function URL.
    pub function_url: Option<UrlAuth>,
    /// The queues it sends to (send grants and queue URLs follow).
    pub sends_to: &'static [QueueName],
    /// Tends every queue (the merchant's dashboard): reads each queue's and its dead-letter queue's
    /// depth and re-drives the dead letters into the queue, so it receives and deletes on every
    /// dead-letter queue (never on a work queue: it takes no operation's work), sends to every
    /// queue and needs every queue's URL.
    pub redrives_dead_letters: bool,
    /// The state-store methods it calls, shared steps included (its table actions follow).
    pub store_calls: &'static [StoreCall],
}

impl Declaration {
    /// The queues whose URL the function needs at cold start: the one it consumes (the glue
    /// changes a record's visibility through it), those it sends to, and every queue when it
    /// re-drives dead letters.
    pub fn queue_urls(&self) -> Vec<QueueName> {
        if self.redrives_dead_letters {
            return QueueName::ALL.to_vec();
        }
        let mut queues: Vec<QueueName> = self.consumes.into_iter().collect();
        for queue in self.sends_to {
            if !queues.contains(queue) {
                queues.push(*queue);
            }
        }
        queues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Functions that are not one of Adobe's operations are declared the same way: a dashboard
    /// behind a signed Function URL, and a webhook receiver that queues what it is told.
    #[test]
    fn http_functions_are_declared_like_operations() {
        let dashboard = Declaration {
            function: "dashboard",
            consumes: None,
            scheduled: false,
            function_url: Some(UrlAuth::AwsIam),
            sends_to: &[],
            redrives_dead_letters: true,
            store_calls: &[StoreCall::Get, StoreCall::Query],
        };
        let receiver = Declaration {
            function: "walmart-events",
            consumes: None,
            scheduled: false,
            function_url: Some(UrlAuth::None),
            sends_to: &[QueueName::InventorySync],
            redrives_dead_letters: false,
            store_calls: &[],
        };
        assert_eq!(dashboard.queue_urls(), QueueName::ALL.to_vec());
        assert_eq!(receiver.queue_urls(), vec![QueueName::InventorySync]);
        assert_eq!(receiver.function_url.map(UrlAuth::as_str), Some("NONE"));
    }
}
