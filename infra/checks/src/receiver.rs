//! The functions that are neither one of Adobe's operations nor the dashboard: today
//! `walmart-events`, the receiver of Walmart's notifications behind a public Function URL. Their
//! triggers, Function URL, queue grants and queue URLs are held to their declarations by the
//! general checks (`checks`); this holds what those leave to the operations' checks: the table
//! actions are exactly those the declared store calls issue (none for the receiver: it only
//! queues), and the credentials secret is read through one statement, on `SECRET_ARN` only.

use std::collections::BTreeSet;

use domain::Operation;
use operations::declaration::Declaration;

use crate::checks::Violation;
use crate::model::Stack;
use crate::topology::declarations;

fn violation(subject: &str, message: impl Into<String>) -> Violation {
    Violation {
        check: "other-functions",
        subject: subject.to_owned(),
        message: message.into(),
    }
}

/// The declared functions that are not an operation's and not the dashboard's.
pub fn other_functions() -> impl Iterator<Item = &'static Declaration> {
    declarations().filter(|d| {
        d.function != operations::merchant::DECLARATION.function
            && !Operation::ALL.iter().any(|op| op.function_name() == d.function)
    })
}

/// The table actions a declaration's store calls issue.
pub fn needed_table_actions(declaration: &Declaration) -> BTreeSet<&'static str> {
    declaration
        .store_calls
        .iter()
        .flat_map(|call| adapters_aws::dynamodb::iam_actions(*call).iter().copied())
        .collect()
}

/// Every check of the other functions.
pub fn check_other_functions(stack: &Stack) -> Vec<Violation> {
    let mut out = Vec::new();
    for declaration in other_functions() {
        let Some(f) = stack.function_for_binary(declaration.function) else {
            continue; // reported by function-crates
        };
        let id = f.logical_id.as_str();
        let granted: BTreeSet<String> = f
            .statements
            .iter()
            .filter(|s| s.effect == "Allow")
            .flat_map(|s| s.actions.iter())
            .filter(|a| a.to_ascii_lowercase().starts_with("dynamodb:"))
            .map(|a| a.to_ascii_lowercase())
            .collect();
        let needed: BTreeSet<String> = needed_table_actions(declaration)
            .into_iter()
            .map(str::to_ascii_lowercase)
            .collect();
        if granted != needed {
            out.push(violation(
                id,
                format!(
                    "table actions {granted:?}, but the store calls {} declares need exactly {needed:?}",
                    declaration.function
                ),
            ));
        }
        let secret_reads: Vec<_> = f
            .statements
            .iter()
            .filter(|s| s.allows("secretsmanager:GetSecretValue"))
            .collect();
        let on_secret_arn = secret_reads
            .iter()
            .all(|s| s.resources.len() == 1 && s.resources.first() == f.environment.get("SECRET_ARN"));
        if secret_reads.len() != 1 || !on_secret_arn {
            out.push(violation(
                id,
                "needs exactly one statement allowing secretsmanager:GetSecretValue, on the SECRET_ARN secret only",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receiver_is_the_other_function_and_needs_no_table() {
        let others: Vec<&str> = other_functions().map(|d| d.function).collect();
        assert_eq!(others, ["walmart-events"]);
        assert!(needed_table_actions(&operations::walmart_events::DECLARATION).is_empty());
    }
}
