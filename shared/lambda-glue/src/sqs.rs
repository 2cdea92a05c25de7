//! SQS-triggered functions: each record runs in its own task and span, and failures come back as
//! partial batch failures (`ReportBatchItemFailures`), so one bad or panicking record fails alone
//! and the rest of the batch is done.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::Instrument;

/// Why a record failed. The message is logged; the record is retried by SQS and, after the queue's
/// maximum receives, lands in the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("message has no body")]
    MissingBody,
    #[error("message body is not a valid {expected}: {reason}")]
    Malformed { expected: &'static str, reason: String },
    #[error("{0}")]
    Failed(String),
}

/// A record as the handler sees it.
#[derive(Debug, Clone)]
pub struct Record {
    pub message_id: String,
    pub body: String,
    /// 1 on first delivery (SQS's ApproximateReceiveCount).
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Without a message id a failure cannot be reported for one record alone; failing the whole
    /// batch is the only way not to lose it.
    #[error("record {index} has no messageId; failing the whole batch so nothing is lost")]
    MissingMessageId { index: usize },
}

fn to_record(msg: &SqsMessage) -> Result<Record, RecordError> {
    let body = msg.body.clone().ok_or(RecordError::MissingBody)?;
    let receive_count = msg
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    Ok(Record {
        message_id: msg.message_id.clone().unwrap_or_default(),
        body,
        receive_count,
    })
}

/// Runs `handle` on every record concurrently and reports the failures.
pub async fn process_batch<F, Fut>(event: SqsEvent, handle: F) -> Result<SqsBatchResponse, BatchError>
where
    F: Fn(Record) -> Fut,
    Fut: Future<Output = Result<(), RecordError>> + Send + 'static,
{
    let mut tasks = Vec::with_capacity(event.records.len());
    for (index, msg) in event.records.iter().enumerate() {
        let Some(message_id) = msg.message_id.clone().filter(|id| !id.is_empty()) else {
            return Err(BatchError::MissingMessageId { index });
        };
        let span = tracing::info_span!("record", message_id = %message_id);
        let task = match to_record(msg) {
            Ok(record) => tokio::spawn(handle(record).instrument(span.clone())),
            Err(e) => tokio::spawn(std::future::ready(Err(e))),
        };
        tasks.push((message_id, span, task));
    }
    let mut failures = Vec::new();
    for (message_id, span, task) in tasks {
        let outcome = match task.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            // A panicking record is a failure like any other, never a silent success.
            Err(join) => Some(format!("record handler panicked: {join}")),
        };
        if let Some(error) = outcome {
            span.in_scope(|| tracing::warn!(%error, "record failed; SQS will retry it"));
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    Ok(response)
}

/// Parses a JSON message body into `T`, with an error that says what was expected.
pub fn parse_body<T: serde::de::DeserializeOwned>(
    record: &Record,
    expected: &'static str,
) -> Result<T, RecordError> {
    serde_json::from_str(&record.body).map_err(|e| RecordError::Malformed {
        expected,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: Option<&str>, body: Option<&str>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = id.map(str::to_owned);
        m.body = body.map(str::to_owned);
        m
    }

    fn event(messages: Vec<SqsMessage>) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = messages;
        e
    }

    #[tokio::test]
    async fn bad_and_panicking_records_fail_alone() {
        let e = event(vec![
            message(Some("ok"), Some(r#"{"n":1}"#)),
            message(Some("malformed"), Some("not json")),
            message(Some("empty"), None),
            message(Some("panics"), Some(r#"{"n":13}"#)),
            message(Some("fails"), Some(r#"{"n":7}"#)),
        ]);
        let response = process_batch(e, |record| async move {
            let v: serde_json::Value = parse_body(&record, "JSON object")?;
            match v["n"].as_i64() {
                Some(13) => panic!("boom"),
                Some(7) => Err(RecordError::Failed("seven".into())),
                _ => Ok(()),
            }
        })
        .await
        .unwrap();
        let mut failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        failed.sort();
        assert_eq!(failed, ["empty", "fails", "malformed", "panics"]);
    }

    #[tokio::test]
    async fn a_record_without_id_fails_the_batch() {
        let e = event(vec![message(Some("a"), Some("{}")), message(None, Some("{}"))]);
        let err = process_batch(e, |_| async { Ok(()) }).await.unwrap_err();
        assert!(matches!(err, BatchError::MissingMessageId { index: 1 }));
    }

    #[tokio::test]
    async fn receive_count_is_passed_on() {
        let mut m = message(Some("a"), Some("{}"));
        m.attributes.insert("ApproximateReceiveCount".into(), "3".into());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        process_batch(event(vec![m]), move |r| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(r.receive_count);
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(rx.recv().await, Some(3));
    }
}
