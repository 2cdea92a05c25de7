//! What a function was invoked with: an SQS batch, or a schedule tick. Functions with both triggers
//! take either through one handler.

use aws_lambda_events::event::sqs::SqsEvent;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum Invocation {
    /// An SQS event source mapping delivered a batch.
    Queue(SqsEvent),
    /// An EventBridge schedule fired; its input is logged, not interpreted.
    Schedule(Value),
}

impl<'de> Deserialize<'de> for Invocation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.get("Records").is_some() {
            serde_json::from_value(value)
                .map(Invocation::Queue)
                .map_err(serde::de::Error::custom)
        } else {
            Ok(Invocation::Schedule(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_queue_batches_from_schedule_ticks() {
        let sqs = r#"{"Records":[{"messageId":"1","body":"{}","eventSource":"aws:sqs"}]}"#;
        assert!(matches!(serde_json::from_str(sqs).unwrap(), Invocation::Queue(e) if e.records.len() == 1));
        let tick = r#"{"source":"aws.scheduler","detail-type":"Scheduled Event"}"#;
        assert!(matches!(
            serde_json::from_str(tick).unwrap(),
            Invocation::Schedule(_)
        ));
        assert!(serde_json::from_str::<Invocation>(r#"{"Records":"nope"}"#).is_err());
    }
}
