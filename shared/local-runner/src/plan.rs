//! When and how each function runs, read from the SAM template (`infra/template.yaml`, embedded at
//! build time) through `sam-template`'s model, so the runner's timers, timeouts, batch sizes and
//! queue settings are the deployment's and are never restated here.

use std::collections::HashMap;
use std::time::Duration;

use domain::Operation;
use ports::{QueueName, QueueSettings};
use sam_template::model::{FunctionSpec, as_u64};
use sam_template::{Stack, queue_logical_id};
use serde_json::Value;

/// The template the Lambdas deploy with.
const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

/// SQS's receive limit: an event source mapping polls at most this many messages per call.
const RECEIVE_LIMIT: usize = ports::queue::MAX_BATCH;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Template(#[from] sam_template::TemplateError),
    #[error("the SAM template has no function for {operation:?} (binary {binary})")]
    MissingFunction {
        operation: Operation,
        binary: &'static str,
    },
    #[error("the SAM template gives {logical_id} no literal Timeout")]
    MissingTimeout { logical_id: String },
    #[error(
        "the SAM template's schedule {event} of {logical_id} is not a rate(...) expression: {expression:?}"
    )]
    UnsupportedSchedule {
        logical_id: String,
        event: String,
        expression: String,
    },
    #[error("the SAM template has no queue {logical_id} for {queue:?}")]
    MissingQueue { queue: QueueName, logical_id: String },
}

/// How an operation's SQS trigger polls its queue (the event source mapping's settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueTriggerPlan {
    pub queue: QueueName,
    /// Most messages handed to one invocation.
    pub batch_size: usize,
    /// How long the mapping gathers messages before invoking with a partial batch.
    pub batching_window: Duration,
    /// Most invocations running at once (`ScalingConfig.MaximumConcurrency`; 1 when unset).
    pub max_concurrency: usize,
}

/// Everything the runner needs to run one operation as Lambda would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationPlan {
    pub operation: Operation,
    /// The function's timeout: every invocation gets it as its deadline.
    pub timeout: Duration,
    /// Periods of the function's `rate(...)` schedules (usually one).
    pub schedules: Vec<Duration>,
    pub queue_trigger: Option<QueueTriggerPlan>,
}

/// The whole deployment's timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub operations: Vec<OperationPlan>,
    /// Visibility timeout and receives before the dead-letter queue, per queue.
    pub queues: HashMap<QueueName, QueueSettings>,
}

impl Plan {
    /// The plan of the template this binary was built with.
    pub fn from_embedded_template() -> Result<Self, PlanError> {
        Self::from_stack(&sam_template::parse_stack(TEMPLATE)?)
    }

    pub fn from_stack(stack: &Stack) -> Result<Self, PlanError> {
        let mut queues = HashMap::new();
        for queue in QueueName::ALL {
            let logical_id = queue_logical_id(queue);
            let spec = stack.queue(&logical_id).ok_or_else(|| PlanError::MissingQueue {
                queue,
                logical_id: logical_id.clone(),
            })?;
            let defaults = QueueSettings::default();
            queues.insert(
                queue,
                QueueSettings {
                    visibility_timeout: spec.visibility_timeout,
                    max_receives: spec
                        .redrive
                        .as_ref()
                        .and_then(|r| r.max_receive_count)
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(defaults.max_receives),
                },
            );
        }
        let operations = Operation::ALL
            .into_iter()
            .map(|op| operation_plan(stack, op))
            .collect::<Result<_, _>>()?;
        Ok(Self { operations, queues })
    }

    pub fn operation(&self, operation: Operation) -> Option<&OperationPlan> {
        self.operations.iter().find(|p| p.operation == operation)
    }

    /// The longest function timeout: how long in-flight work may take to finish at shutdown.
    pub fn longest_timeout(&self) -> Duration {
        self.operations
            .iter()
            .map(|p| p.timeout)
            .max()
            .unwrap_or_default()
    }
}

fn operation_plan(stack: &Stack, operation: Operation) -> Result<OperationPlan, PlanError> {
    let binary = operation.function_name();
    let function = stack
        .function_for_binary(binary)
        .ok_or(PlanError::MissingFunction { operation, binary })?;
    let timeout = function.timeout.ok_or_else(|| PlanError::MissingTimeout {
        logical_id: function.logical_id.clone(),
    })?;
    let schedules = function
        .schedules
        .iter()
        .map(|s| {
            s.period.ok_or_else(|| PlanError::UnsupportedSchedule {
                logical_id: function.logical_id.clone(),
                event: s.event_name.clone(),
                expression: s.expression.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let queue_trigger = function.queue_triggers.iter().find_map(|trigger| {
        let queue = QueueName::ALL
            .into_iter()
            .find(|q| trigger.queue.as_deref() == Some(queue_logical_id(*q).as_str()))?;
        Some(QueueTriggerPlan {
            queue,
            batch_size: trigger
                .batch_size
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(RECEIVE_LIMIT)
                .max(1),
            batching_window: trigger.batching_window,
            max_concurrency: max_concurrency(stack, function, &trigger.event_name).unwrap_or(1),
        })
    });
    Ok(OperationPlan {
        operation,
        timeout,
        schedules,
        queue_trigger,
    })
}

/// `ScalingConfig.MaximumConcurrency` of the function's SQS event (the checks' model does not
/// carry it, so it is read from the event's properties).
fn max_concurrency(stack: &Stack, function: &FunctionSpec, event_name: &str) -> Option<usize> {
    let props = stack.template.effective_properties(&function.logical_id);
    let scaling: &Value = props
        .get("Events")?
        .get(event_name)?
        .get("Properties")?
        .get("ScalingConfig")?;
    as_u64(scaling.get("MaximumConcurrency"))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_template_gives_every_operation_its_timing() {
        let plan = Plan::from_embedded_template().unwrap();
        assert_eq!(plan.operations.len(), Operation::ALL.len());
        for op in Operation::ALL {
            let p = plan.operation(op).unwrap();
            assert!(p.timeout > Duration::ZERO, "{op:?}");
            // The same topology the infra checks hold the template to.
            assert_eq!(
                p.queue_trigger.as_ref().map(|t| t.queue),
                operations::registry::consumes(op),
                "{op:?}"
            );
            assert_eq!(
                !p.schedules.is_empty(),
                operations::registry::is_scheduled(op),
                "{op:?}"
            );
            if let Some(t) = &p.queue_trigger {
                assert!(t.batch_size >= 1 && t.max_concurrency >= 1, "{op:?}");
            }
        }
        assert_eq!(plan.queues.len(), QueueName::ALL.len());
        assert!(plan.longest_timeout() >= plan.operation(Operation::OrderCreate).unwrap().timeout);
    }

    #[test]
    fn the_plan_agrees_with_the_template_file_the_checks_read() {
        // The embedded copy is the file in the repository (a stale build would disagree).
        let from_file = Plan::from_stack(&sam_template::load_stack().unwrap()).unwrap();
        assert_eq!(Plan::from_embedded_template().unwrap(), from_file);
    }
}
