//! AWS adapters: the state store on DynamoDB and the work queues on SQS, through the real AWS SDK.
//!
//! Both are tested with the shared conformance suite against moto, a real AWS API server on
//! loopback, so the SDK calls, conditions and error mappings run for real.

pub mod dynamodb;
pub mod sdk;
pub mod sqs;

pub use dynamodb::{DynamoDbStore, STATUS_INDEX, create_table};
pub use sqs::{SqsQueues, create_queue_with_dlq};
