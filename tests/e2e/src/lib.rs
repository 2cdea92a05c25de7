//! The end-to-end harness: a channel whose state lives in DynamoDB and whose queues are SQS queues on
//! a moto server, talking to both sandboxes over HTTP, and helpers that invoke a function's handler
//! (`lambda_glue::dispatch`) exactly as Lambda would: with a schedule tick, or with an SQS batch
//! read from the real queue, deleting what succeeded as the event source mapping does.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adapters_aws::{DynamoDbStore, SqsQueues, create_queue_with_dlq, create_table};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use domain::{ChannelSettings, Operation};
use lambda_glue::{Invocation, Runtime, dispatch};
use lambda_runtime::{Context, LambdaEvent};
use operations::Channel;
use operations::testkit::{Sandboxes, queue_settings};
use ports::{Clock, QueueName, WorkQueue};
use serde_json::Value;
use test_support::{moto_sdk_config, unique_name};

/// A channel on moto (a fresh table and fresh queues) and the sandboxes.
pub struct World {
    pub sandboxes: Sandboxes,
    pub channel: Arc<Channel>,
    pub queues: Arc<SqsQueues>,
    pub table: String,
    pub queue_urls: BTreeMap<QueueName, String>,
}

impl World {
    pub async fn start(settings: ChannelSettings, clock: Arc<dyn Clock>) -> Self {
        let sandboxes = Sandboxes::start_default(clock.clone())
            .await
            .expect("sandboxes start");
        Self::with_sandboxes(sandboxes, settings, clock).await
    }

    pub async fn with_sandboxes(
        sandboxes: Sandboxes,
        settings: ChannelSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let sdk = moto_sdk_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let table = unique_name("cm-e2e");
        create_table(&dynamodb, &table).await.expect("create table");
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let settings_by_queue = queue_settings();
        let mut queue_urls = BTreeMap::new();
        for q in QueueName::ALL {
            let url = create_queue_with_dlq(&sqs, &unique_name(q.as_str()), settings_by_queue[&q])
                .await
                .expect("create queue");
            queue_urls.insert(q, url);
        }
        let queues = Arc::new(SqsQueues::new(sqs, queue_urls.clone()));
        let store = Arc::new(DynamoDbStore::new(dynamodb, table.clone()));
        let channel = Arc::new(sandboxes.channel(settings, store, queues.clone(), clock));
        Self {
            sandboxes,
            channel,
            queues,
            table,
            queue_urls,
        }
    }

    /// The Lambda runtime of `operation` on this world's channel.
    pub fn runtime(&self, operation: Operation) -> Runtime {
        Runtime {
            operation,
            channel: self.channel.clone(),
        }
    }

    /// Invokes `operation` as its schedule would; returns the function's answer.
    pub async fn tick(&self, operation: Operation) -> Result<Value, lambda_glue::InvocationError> {
        dispatch(
            &self.runtime(operation),
            LambdaEvent::new(Invocation::Schedule(Value::Null), context()),
        )
        .await
    }

    /// Invokes `operation` with an SQS batch of these bodies (message ids `m0`, `m1`, ...).
    pub async fn deliver(
        &self,
        operation: Operation,
        bodies: &[&str],
    ) -> Result<Value, lambda_glue::InvocationError> {
        let messages = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| sqs_message(&format!("m{i}"), b, 1))
            .collect::<Vec<_>>();
        let mut event = SqsEvent::default();
        event.records = messages;
        dispatch(
            &self.runtime(operation),
            LambdaEvent::new(Invocation::Queue(event), context()),
        )
        .await
    }

    /// Plays the event source mapping of `operation`'s queue until it is empty: receives batches from
    /// SQS, invokes the function, deletes the records that did not fail. Returns how many messages
    /// were handled successfully and how many failed.
    pub async fn drain(&self, operation: Operation) -> (usize, usize) {
        let (queue, _) = operations::registry::handlers(operation)
            .queue
            .expect("operation has a queue");
        let (mut ok, mut failed) = (0, 0);
        loop {
            let batch = self
                .queues
                .receive(queue, 10, Duration::ZERO)
                .await
                .expect("receive");
            if batch.is_empty() {
                return (ok, failed);
            }
            let mut event = SqsEvent::default();
            event.records = batch
                .iter()
                .map(|d| sqs_message(&d.message_id, &d.body, d.receive_count))
                .collect();
            let answer = dispatch(
                &self.runtime(operation),
                LambdaEvent::new(Invocation::Queue(event), context()),
            )
            .await
            .expect("batch dispatched");
            let failures: Vec<String> = answer["batchItemFailures"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for d in &batch {
                if failures.contains(&d.message_id) {
                    failed += 1;
                    // Failed records come back after the visibility timeout; make them visible now
                    // so a test can watch retries without waiting.
                    let _ = self
                        .queues
                        .change_visibility(queue, &d.receipt, Duration::ZERO)
                        .await;
                } else {
                    ok += 1;
                    self.queues.delete(queue, &d.receipt).await.expect("delete");
                }
            }
            if failed > 0 && ok == 0 {
                return (ok, failed);
            }
        }
    }
}

fn sqs_message(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.body = Some(body.to_owned());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

/// An invocation context with five minutes left.
pub fn context() -> Context {
    let mut c = Context::default();
    c.request_id = "e2e".into();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    c.deadline = now + 300_000;
    c
}
