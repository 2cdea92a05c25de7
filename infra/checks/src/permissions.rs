//! Each function's table permissions follow from the code: its operation declares the state-store
//! methods it calls (`operations::registry::store_calls`), the DynamoDB adapter declares the IAM
//! actions each method issues (`adapters_aws::dynamodb::iam_actions`), and the role must allow
//! exactly their union: a missing action fails on AWS with AccessDenied, an extra one is privilege
//! nothing uses.

use std::collections::{BTreeMap, BTreeSet};

use domain::Operation;
use ports::StoreCall;

use crate::checks::Violation;
use crate::model::Stack;

/// The table actions an operation's function needs, each with the store methods that need it.
pub fn needed_table_actions(op: Operation) -> BTreeMap<&'static str, Vec<StoreCall>> {
    let mut needed: BTreeMap<&'static str, Vec<StoreCall>> = BTreeMap::new();
    for call in operations::registry::store_calls(op) {
        for action in adapters_aws::dynamodb::iam_actions(*call) {
            needed.entry(action).or_default().push(*call);
        }
    }
    needed
}

/// Every function's role allows the table actions its operation's store calls need, and no other.
pub fn check_table_actions(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "table-actions";
    let mut out = Vec::new();
    for op in Operation::ALL {
        let Some(f) = stack.function_for_binary(op.function_name()) else {
            continue; // reported by function-crates
        };
        let granted: BTreeSet<String> = f
            .statements
            .iter()
            .filter(|s| s.effect == "Allow")
            .flat_map(|s| s.actions.iter())
            .filter(|a| a.to_ascii_lowercase().starts_with("dynamodb:"))
            .cloned()
            .collect();
        let needed = needed_table_actions(op);
        for (action, calls) in &needed {
            if !granted.iter().any(|g| g.eq_ignore_ascii_case(action)) {
                let calls: Vec<&str> = calls.iter().map(|c| c.as_str()).collect();
                out.push(Violation {
                    check: CHECK,
                    subject: f.logical_id.clone(),
                    message: format!(
                        "role lacks {action}, which {} needs for its store calls {} (AccessDenied on AWS)",
                        op.function_name(),
                        calls.join(", ")
                    ),
                });
            }
        }
        for action in &granted {
            if !needed.keys().any(|n| n.eq_ignore_ascii_case(action)) {
                out.push(Violation {
                    check: CHECK,
                    subject: f.logical_id.clone(),
                    message: format!(
                        "role allows {action}, which none of {}'s store calls needs (it declares {}): remove it",
                        op.function_name(),
                        declared(op)
                    ),
                });
            }
        }
    }
    out
}

fn declared(op: Operation) -> String {
    let calls: Vec<&str> = operations::registry::store_calls(op)
        .iter()
        .map(|c| c.as_str())
        .collect();
    calls.join(", ")
}
