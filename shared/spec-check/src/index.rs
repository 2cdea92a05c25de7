//! Finding the operation an exchange called, and turning its problems into violations.

use sandbox_kit::Exchange;

use crate::operation::{Dialect, Operation, split_path};
use crate::{Report, Violation};

/// All operations of one API.
#[derive(Debug)]
pub(crate) struct OperationIndex {
    operations: Vec<Operation>,
    dialect: Dialect,
}

/// The outcome of checking one exchange.
pub(crate) struct Evaluation {
    /// `(METHOD, template)` of the operation it was matched to.
    pub operation: Option<(String, String)>,
    pub problems: Vec<String>,
}

impl OperationIndex {
    pub(crate) fn new(operations: Vec<Operation>, dialect: Dialect) -> Self {
        Self { operations, dialect }
    }

    pub(crate) fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.iter()
    }

    /// Compiles every body schema now; returns `(compiled, failures)`, each failure naming its operation.
    pub(crate) fn precompile(&self) -> (usize, Vec<String>) {
        let mut compiled = 0;
        let mut failures = Vec::new();
        for operation in &self.operations {
            for (what, schema) in operation.schemas() {
                match schema.compiled() {
                    Ok(_) => compiled += 1,
                    Err(error) => failures.push(format!(
                        "{} {} ({}) {what}: {error}",
                        operation.method, operation.template, operation.source
                    )),
                }
            }
        }
        (compiled, failures)
    }

    /// Checks `exchange`, whose path relative to the spec's base is `api_path`.
    pub(crate) fn evaluate(&self, exchange: &Exchange, api_path: &str) -> Evaluation {
        let segments = split_path(api_path);
        let method = exchange.method.to_ascii_uppercase();
        let on_path: Vec<&Operation> = self
            .operations
            .iter()
            .filter(|op| op.matches_path(&segments))
            .collect();
        if on_path.is_empty() {
            return Evaluation {
                operation: None,
                problems: vec![format!(
                    "undocumented path {api_path}: no operation in the spec matches it"
                )],
            };
        }
        let with_method: Vec<&Operation> = on_path.iter().copied().filter(|op| op.method == method).collect();
        let Some(best) = with_method.iter().map(|op| op.specificity()).max() else {
            let mut documented: Vec<String> = on_path
                .iter()
                .map(|op| format!("{} {}", op.method, op.template))
                .collect();
            documented.sort();
            documented.dedup();
            return Evaluation {
                operation: None,
                problems: vec![format!(
                    "method {method} is not documented for this path (documented: {})",
                    documented.join("; ")
                )],
            };
        };
        // Several operations can share a template (Walmart's POST /v3/feeds appears in four files): the
        // exchange is fine if it satisfies any of them; otherwise report the closest one.
        let mut closest: Option<(&Operation, Vec<String>)> = None;
        for operation in with_method.into_iter().filter(|op| op.specificity() == best) {
            let problems = operation.problems(exchange, &segments, self.dialect);
            let better = closest
                .as_ref()
                .is_none_or(|(_, fewest)| problems.len() < fewest.len());
            if better {
                let done = problems.is_empty();
                closest = Some((operation, problems));
                if done {
                    break;
                }
            }
        }
        match closest {
            Some((operation, mut problems)) => {
                if !problems.is_empty()
                    && self
                        .operations
                        .iter()
                        .filter(|op| same_operation(op, operation))
                        .count()
                        > 1
                {
                    for problem in &mut problems {
                        problem.push_str(&format!(" [closest variant: {}]", operation.source));
                    }
                }
                Evaluation {
                    operation: Some((operation.method.clone(), operation.template.clone())),
                    problems,
                }
            }
            None => Evaluation {
                operation: None,
                problems: Vec::new(),
            },
        }
    }
}

fn same_operation(left: &Operation, right: &Operation) -> bool {
    left.method == right.method && left.template == right.template
}

pub(crate) fn violations_for(exchange: &Exchange, problems: Vec<String>) -> Vec<Violation> {
    problems
        .into_iter()
        .map(|what| Violation {
            seq: exchange.seq,
            method: exchange.method.clone(),
            path: exchange.path.clone(),
            what,
        })
        .collect()
}

/// Checks every exchange that no fault touched with `evaluate`, gathering coverage.
pub(crate) fn build_report(exchanges: &[Exchange], evaluate: impl Fn(&Exchange) -> Evaluation) -> Report {
    let mut report = Report::default();
    for exchange in exchanges {
        if exchange.fault_injected {
            report.skipped_faulted += 1;
            continue;
        }
        report.checked += 1;
        let evaluation = evaluate(exchange);
        match evaluation.operation {
            Some(operation) => {
                report.covered.insert(operation);
            }
            None => report
                .unmatched
                .push(format!("{} {}", exchange.method, exchange.path)),
        }
        report
            .violations
            .extend(violations_for(exchange, evaluation.problems));
    }
    report
}
