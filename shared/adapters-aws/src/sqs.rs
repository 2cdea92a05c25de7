//! Work queues on SQS. Redrive to a dead-letter queue is the queue's own policy (set by the SAM
//! template, or by [`create_queue_with_dlq`] for tests and local AWS APIs).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};
use tokio::sync::OnceCell;

use ports::queue::{MAX_BATCH, check_message};
use ports::{
    Delivery, OutgoingMessage, QueueCall, QueueDepth, QueueError, QueueName, QueueSettings, WorkQueue,
};

/// The IAM actions each queue method below issues, on the queue it names (`dead_letters`: on the
/// queue and its dead-letter queue), so that send grants follow from the code (`infra/checks`).
/// SendMessageBatch is authorised by `sqs:SendMessage`; it has no action of its own.
pub fn iam_actions(call: QueueCall) -> &'static [&'static str] {
    match call {
        QueueCall::Send | QueueCall::SendAll => &["sqs:SendMessage"],
        QueueCall::Receive => &["sqs:ReceiveMessage"],
        QueueCall::Delete => &["sqs:DeleteMessage"],
        QueueCall::ChangeVisibility => &["sqs:ChangeMessageVisibility"],
        QueueCall::DeadLetters => &["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        QueueCall::Depth => &["sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
        // Received and deleted on the dead-letter queue, sent to the queue.
        QueueCall::Redrive => &[
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:SendMessage",
        ],
    }
}

/// SQS-backed queues, by URL.
#[derive(Debug)]
pub struct SqsQueues {
    client: Client,
    urls: BTreeMap<QueueName, String>,
    /// Dead-letter queue URLs, looked up from each queue's redrive policy on first use.
    dlq_urls: BTreeMap<QueueName, OnceCell<String>>,
}

impl SqsQueues {
    pub fn new(client: Client, urls: BTreeMap<QueueName, String>) -> Self {
        let dlq_urls = urls.keys().map(|q| (*q, OnceCell::new())).collect();
        Self {
            client,
            urls,
            dlq_urls,
        }
    }

    fn url(&self, queue: QueueName) -> Result<&str, QueueError> {
        self.urls
            .get(&queue)
            .map(String::as_str)
            .ok_or(QueueError::UnknownQueue(queue))
    }

    async fn dlq_url(&self, queue: QueueName) -> Result<&str, QueueError> {
        let url = self.url(queue)?;
        let cell = self.dlq_urls.get(&queue).ok_or(QueueError::UnknownQueue(queue))?;
        cell.get_or_try_init(|| async {
            let attrs = self
                .client
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await
                .map_err(backend)?;
            let policy = attrs
                .attributes()
                .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
                .ok_or_else(|| {
                    QueueError::Backend(format!("queue {} has no redrive policy", queue.as_str()))
                })?;
            let policy: serde_json::Value = serde_json::from_str(policy)
                .map_err(|e| QueueError::Backend(format!("bad redrive policy: {e}")))?;
            let arn = policy["deadLetterTargetArn"].as_str().unwrap_or_default();
            let name = arn.rsplit(':').next().unwrap_or_default();
            let out = self
                .client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(backend)?;
            out.queue_url
                .ok_or_else(|| QueueError::Backend(format!("dead-letter queue {name} not found")))
        })
        .await
        .map(String::as_str)
    }
}

fn backend<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> QueueError {
    let code = e.code().unwrap_or_default().to_owned();
    let message = e.message().map(str::to_owned).unwrap_or_else(|| format!("{e:?}"));
    if matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)) || code.contains("Throttl") {
        QueueError::Unavailable(format!("{code}: {message}"))
    } else if code.contains("ReceiptHandleIsInvalid") || code.contains("MessageNotInflight") {
        QueueError::StaleReceipt
    } else {
        QueueError::Backend(format!("{code}: {message}"))
    }
}

/// One approximate count of a queue's attributes (absent or unreadable counts as zero).
fn count_of(
    attributes: Option<&std::collections::HashMap<QueueAttributeName, String>>,
    name: &QueueAttributeName,
) -> u64 {
    attributes
        .and_then(|a| a.get(name))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Creates a queue and its dead-letter queue with the given settings; returns the queue URL.
pub async fn create_queue_with_dlq(
    client: &Client,
    name: &str,
    settings: QueueSettings,
) -> Result<String, QueueError> {
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(backend)?;
    let dlq_url = dlq.queue_url.unwrap_or_default();
    let dlq_attrs = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(backend)?;
    let dlq_arn = dlq_attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| QueueError::Backend("dead-letter queue has no ARN".into()))?;
    let policy =
        serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_receives });
    let queue = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            secs(settings.visibility_timeout).to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
        .send()
        .await
        .map_err(backend)?;
    queue
        .queue_url
        .ok_or_else(|| QueueError::Backend(format!("queue {name} has no URL")))
}

fn to_delivery(m: &aws_sdk_sqs::types::Message) -> Option<Delivery> {
    let receive_count = m
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    Some(Delivery {
        message_id: m.message_id()?.to_owned(),
        receipt: m.receipt_handle()?.to_owned(),
        body: m.body().unwrap_or_default().to_owned(),
        receive_count,
    })
}

#[async_trait]
impl WorkQueue for SqsQueues {
    async fn send(&self, queue: QueueName, message: OutgoingMessage) -> Result<(), QueueError> {
        check_message(&message)?;
        self.client
            .send_message()
            .queue_url(self.url(queue)?)
            .message_body(message.body)
            .delay_seconds(secs(message.delay).min(900))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn send_all(&self, queue: QueueName, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        let url = self.url(queue)?;
        for m in &messages {
            check_message(m)?;
        }
        let total = messages.len();
        let mut failed = 0;
        let mut first_error = String::new();
        for chunk in messages.chunks(MAX_BATCH) {
            let mut pending: Vec<(String, &OutgoingMessage)> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| (i.to_string(), m))
                .collect();
            // One retry for the entries SQS refused: batch failures are usually transient.
            for attempt in 0..2 {
                let entries = pending
                    .iter()
                    .map(|(id, m)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(&m.body)
                            .delay_seconds(secs(m.delay).min(900))
                            .build()
                            .map_err(|e| QueueError::Backend(e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(backend)?;
                let refused: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                if refused.is_empty() {
                    break;
                }
                if attempt == 1 {
                    failed += refused.len();
                    if first_error.is_empty() {
                        first_error = out
                            .failed()
                            .first()
                            .and_then(|f| f.message())
                            .unwrap_or("refused")
                            .to_owned();
                    }
                }
                pending.retain(|(id, _)| refused.contains(&id.as_str()));
            }
        }
        if failed > 0 {
            return Err(QueueError::PartialSend {
                failed,
                total,
                first_error,
            });
        }
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(self.url(queue)?)
            .max_number_of_messages(i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(10))
            .wait_time_seconds(secs(wait).min(20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.messages().iter().filter_map(to_delivery).collect())
    }

    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(self.url(queue)?)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        timeout: Duration,
    ) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(self.url(queue)?)
            .receipt_handle(receipt)
            .visibility_timeout(secs(timeout))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let dlq = self.dlq_url(queue).await?;
        // Peek: visibility 0 leaves the messages in the DLQ for the operator.
        let out = self
            .client
            .receive_message()
            .queue_url(dlq)
            .max_number_of_messages(i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(10))
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.messages().iter().filter_map(to_delivery).collect())
    }

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        let url = self.url(queue)?;
        let dlq = self.dlq_url(queue).await?;
        let main = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(backend)?;
        let dead = self
            .client
            .get_queue_attributes()
            .queue_url(dlq)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(backend)?;
        Ok(QueueDepth {
            waiting: count_of(
                main.attributes(),
                &QueueAttributeName::ApproximateNumberOfMessages,
            ),
            in_flight: count_of(
                main.attributes(),
                &QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            ),
            delayed: count_of(
                main.attributes(),
                &QueueAttributeName::ApproximateNumberOfMessagesDelayed,
            ),
            dead_letters: count_of(
                dead.attributes(),
                &QueueAttributeName::ApproximateNumberOfMessages,
            ),
        })
    }

    /// Receives from the dead-letter queue, sends each body to the queue, then deletes it from the
    /// dead-letter queue (a crash in between moves it twice: handlers are idempotent). A message
    /// received here is hidden for a minute, so two re-drives at once do not move it twice.
    async fn redrive(&self, queue: QueueName, max: usize) -> Result<usize, QueueError> {
        let url = self.url(queue)?.to_owned();
        let dlq = self.dlq_url(queue).await?.to_owned();
        let mut moved = 0;
        while moved < max {
            let out = self
                .client
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(i32::try_from((max - moved).clamp(1, MAX_BATCH)).unwrap_or(10))
                .visibility_timeout(60)
                .send()
                .await
                .map_err(backend)?;
            if out.messages().is_empty() {
                break;
            }
            for message in out.messages() {
                let (Some(body), Some(receipt)) = (message.body(), message.receipt_handle()) else {
                    continue;
                };
                self.client
                    .send_message()
                    .queue_url(&url)
                    .message_body(body)
                    .send()
                    .await
                    .map_err(backend)?;
                self.client
                    .delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(backend)?;
                moved += 1;
            }
        }
        Ok(moved)
    }
}
