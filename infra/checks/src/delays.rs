//! Each operation's worst case on our side, computed from the template's timers, held to the
//! delay in `domain::Operation` (Adobe's documented delay, or our own target for returns).
//!
//! A path is the chain of stages a change goes through before the operation is done:
//! - a schedule stage waits at most one period (plus any flexible window) for the next tick, then
//!   runs at most the function's timeout;
//! - a queue hop waits at most the event source mapping's batching window, then runs at most the
//!   consumer's timeout;
//! - a queue hop with one retry adds the visibility timeout: the first attempt fails, the message
//!   reappears after the visibility timeout and the retry runs at most one more timeout.
//!
//! Time spent inside Walmart (feed processing) or Commerce is not ours and not counted.

use std::time::Duration;

use domain::Operation;
use ports::QueueName;

use crate::model::Stack;
use crate::topology::{consumer_of, queue_logical_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The operation's own schedule tick and run.
    Schedule,
    /// Through a queue to its consumer.
    QueueHop(QueueName),
    /// Through a queue, where one failed attempt and its retry must still fit.
    QueueHopWithRetry(QueueName),
}

/// The paths an operation's work can take; its worst case is the slowest.
pub fn paths(op: Operation) -> Vec<Vec<Stage>> {
    use Stage::*;
    match op {
        // The scheduled run finds the products and fans pages out to its own queue.
        Operation::CatalogImport => vec![vec![Schedule, QueueHop(QueueName::CatalogImport)]],
        // Queued products go out in a match feed; the schedule polls the feed's results.
        Operation::ListingMatch => vec![vec![QueueHop(QueueName::ListingMatch), Schedule]],
        // The schedule's diff sync, or an urgent change through the queue.
        Operation::InventorySync => vec![vec![Schedule], vec![QueueHop(QueueName::InventorySync)]],
        Operation::PriceSync => vec![vec![Schedule], vec![QueueHop(QueueName::PriceSync)]],
        Operation::OrderImport
        | Operation::ShipmentSync
        | Operation::CancellationSync
        | Operation::ReturnsSync => vec![vec![Schedule]],
        // Counted from the order reaching Channel Manager (order-import enqueues it as it records
        // it). Creating a Commerce order is the step most likely to fail transiently, and nothing
        // else would pick it up, so one retry must fit too.
        Operation::OrderCreate => vec![vec![QueueHopWithRetry(QueueName::OrderCreate)]],
    }
}

#[derive(Debug, Clone)]
pub struct StageTiming {
    pub description: String,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct PathTiming {
    pub stages: Vec<StageTiming>,
    pub total: Duration,
}

#[derive(Debug, Clone)]
pub struct OperationTiming {
    pub operation: Operation,
    pub paths: Vec<PathTiming>,
    /// `Operation::target_delay`.
    pub bound: Duration,
    /// Whether the bound is Adobe's documented delay (else our own target).
    pub documented: bool,
}

impl OperationTiming {
    pub fn worst_case(&self) -> Duration {
        self.paths.iter().map(|p| p.total).max().unwrap_or_default()
    }

    pub fn within_bound(&self) -> bool {
        self.worst_case() <= self.bound
    }
}

/// Why a stage could not be timed from the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimingGap {
    pub operation: Operation,
    pub problem: String,
}

/// Times every operation; the gaps say what the template lacks for a stage.
pub fn timings(stack: &Stack) -> (Vec<OperationTiming>, Vec<TimingGap>) {
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    for op in Operation::ALL {
        let mut path_timings = Vec::new();
        for path in paths(op) {
            let mut stages = Vec::new();
            for stage in path {
                match stage_timing(stack, op, stage) {
                    Ok(timing) => stages.push(timing),
                    Err(problem) => gaps.push(TimingGap {
                        operation: op,
                        problem,
                    }),
                }
            }
            let total = stages.iter().map(|s| s.duration).sum();
            path_timings.push(PathTiming { stages, total });
        }
        out.push(OperationTiming {
            operation: op,
            paths: path_timings,
            bound: op.target_delay(),
            documented: op.documented_delay().is_some(),
        });
    }
    (out, gaps)
}

fn function_timeout(stack: &Stack, op: Operation) -> Result<Duration, String> {
    let name = op.function_name();
    let function = stack
        .function_for_binary(name)
        .ok_or_else(|| format!("no function resource builds the binary {name}"))?;
    function.timeout.ok_or_else(|| {
        format!(
            "{} has no literal Timeout (the checks need a number, not a parameter)",
            function.logical_id
        )
    })
}

fn stage_timing(stack: &Stack, op: Operation, stage: Stage) -> Result<StageTiming, String> {
    match stage {
        Stage::Schedule => {
            let timeout = function_timeout(stack, op)?;
            let function = stack
                .function_for_binary(op.function_name())
                .ok_or_else(|| format!("no function for {}", op.function_name()))?;
            // With several schedules any tick runs the operation: the most frequent one bounds the wait.
            let schedule = function
                .schedules
                .iter()
                .filter_map(|s| s.period.map(|p| (p + s.flexible_window, s)))
                .min_by_key(|(wait, _)| *wait);
            let Some((wait, schedule)) = schedule else {
                return Err(format!(
                    "{} has no schedule with a rate(...) expression",
                    function.logical_id
                ));
            };
            Ok(StageTiming {
                description: format!(
                    "{} {} + timeout {}",
                    function.logical_id,
                    schedule.expression,
                    secs(timeout)
                ),
                duration: wait + timeout,
            })
        }
        Stage::QueueHop(queue) | Stage::QueueHopWithRetry(queue) => {
            let logical_id = queue_logical_id(queue);
            let consumer = consumer_of(queue)
                .ok_or_else(|| format!("no operation consumes the {} queue", queue.as_str()))?;
            let timeout = function_timeout(stack, consumer)?;
            let (function, trigger) = stack
                .consumer_of(&logical_id)
                .ok_or_else(|| format!("no function has an SQS trigger on {logical_id}"))?;
            let mut duration = trigger.batching_window + timeout;
            let mut description = format!(
                "{logical_id} window {} + {} timeout {}",
                secs(trigger.batching_window),
                function.logical_id,
                secs(timeout)
            );
            if matches!(stage, Stage::QueueHopWithRetry(_)) {
                let visibility = stack
                    .queue(&logical_id)
                    .ok_or_else(|| format!("no queue resource {logical_id}"))?
                    .visibility_timeout;
                duration += visibility;
                description.push_str(&format!(" + one retry after visibility {}", secs(visibility)));
            }
            Ok(StageTiming {
                description,
                duration,
            })
        }
    }
}

pub fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

/// The timings as a Markdown table (for the README; a test keeps the README's copy current).
pub fn markdown_table(timings: &[OperationTiming]) -> String {
    let mut out = String::from("| operation | path (worst case) | worst case | bound |\n|---|---|---|---|\n");
    for t in timings {
        let slowest = t.paths.iter().max_by_key(|p| p.total);
        let path = slowest
            .map(|p| {
                p.stages
                    .iter()
                    .map(|s| s.description.clone())
                    .collect::<Vec<_>>()
                    .join(", then ")
            })
            .unwrap_or_default();
        let bound_kind = if t.documented { "documented" } else { "our target" };
        out.push_str(&format!(
            "| {} | {} | {} | {} ({bound_kind}) |\n",
            t.operation.function_name(),
            path,
            secs(t.worst_case()),
            secs(t.bound),
        ));
    }
    out
}
