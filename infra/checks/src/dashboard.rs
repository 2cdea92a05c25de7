//! The dashboard function (`functions/dashboard`, the merchant's page): what the operations' checks
//! do not hold it to.
//!
//! - its table actions are exactly those its declared store calls issue (`dashboard::STORE_CALLS`
//!   through `adapters_aws::dynamodb::iam_actions`), on the channel's own keys only, never the
//!   operations' idempotency records;
//! - it reads exactly two secrets: the channel's credentials (`SECRET_ARN`; importing orders again
//!   reads Walmart) and its own login secret (`DASHBOARD_LOGIN_ARN`), which no other function reads;
//! - a Function URL (AuthType NONE: the page signs people in) and an output with that URL.
//!
//! Its queues are held to its declaration by the queue-wiring check like every function's: it
//! declares `redrives_dead_letters` (`operations::merchant::DECLARATION`), so it sends to every
//! work queue, receives and deletes only on their dead-letter queues (it never takes the
//! operations' work), reads the depth of both and has every queue's URL.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::checks::{Violation, leading_keys};
use crate::model::Stack;

/// The binary the template builds for the dashboard.
pub const BINARY: &str = "dashboard";
/// The login secret's variable.
pub const LOGIN_ARN_VAR: &str = "DASHBOARD_LOGIN_ARN";
/// The keys the dashboard may touch: everything of its channel.
pub const LEADING_KEYS: &str = "CH#${ChannelId}#*";

const CHECK: &str = "dashboard";

fn violation(subject: &str, message: impl Into<String>) -> Violation {
    Violation {
        check: CHECK,
        subject: subject.to_owned(),
        message: message.into(),
    }
}

/// The table actions the dashboard's store calls issue.
pub fn needed_table_actions() -> BTreeSet<&'static str> {
    dashboard::STORE_CALLS
        .iter()
        .flat_map(|call| adapters_aws::dynamodb::iam_actions(*call).iter().copied())
        .collect()
}

pub fn check_dashboard(stack: &Stack) -> Vec<Violation> {
    let Some(f) = stack.function_for_binary(BINARY) else {
        return vec![violation(
            BINARY,
            "no AWS::Serverless::Function builds the dashboard",
        )];
    };
    let id = f.logical_id.as_str();
    let mut out = Vec::new();

    // The table.
    let granted_table: BTreeSet<String> = f
        .statements
        .iter()
        .filter(|s| s.effect == "Allow")
        .flat_map(|s| s.actions.iter())
        .filter(|a| a.to_ascii_lowercase().starts_with("dynamodb:"))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let needed: BTreeSet<String> = needed_table_actions()
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    if granted_table != needed {
        out.push(violation(
            id,
            format!("table actions {granted_table:?}, but dashboard::STORE_CALLS need exactly {needed:?}"),
        ));
    }
    for s in f.statements.iter().filter(|s| {
        s.actions
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("dynamodb:"))
    }) {
        let want: BTreeSet<String> = [LEADING_KEYS.to_owned()].into();
        if leading_keys(s).as_ref() != Some(&want) {
            out.push(violation(
                id,
                format!(
                    "table statement {:?} must be limited to dynamodb:LeadingKeys {want:?}",
                    s.sid
                ),
            ));
        }
    }

    // The secrets.
    let secret_resources: Vec<&Value> = f
        .statements
        .iter()
        .filter(|s| s.allows("secretsmanager:GetSecretValue"))
        .flat_map(|s| s.resources.iter())
        .collect();
    let expected: Vec<Option<&Value>> =
        vec![f.environment.get("SECRET_ARN"), f.environment.get(LOGIN_ARN_VAR)];
    if expected.iter().any(Option::is_none) {
        out.push(violation(id, format!("needs SECRET_ARN and {LOGIN_ARN_VAR}")));
    }
    let mut wanted: Vec<&Value> = expected.into_iter().flatten().collect();
    let mut found = secret_resources.clone();
    wanted.sort_by_key(|v| v.to_string());
    found.sort_by_key(|v| v.to_string());
    if wanted != found {
        out.push(violation(
            id,
            format!("may read secrets {found:?}; it reads exactly SECRET_ARN and {LOGIN_ARN_VAR}"),
        ));
    }
    if let Some(login) = f.environment.get(LOGIN_ARN_VAR) {
        for other in stack.functions.iter().filter(|o| o.logical_id != id) {
            if other
                .statements
                .iter()
                .filter(|s| s.allows("secretsmanager:GetSecretValue"))
                .any(|s| s.resources.contains(login))
            {
                out.push(violation(
                    &other.logical_id,
                    "may read the dashboard's login secret",
                ));
            }
        }
    }

    // The URL.
    let resource = stack.template.resource(id);
    let auth = resource
        .and_then(|r| r.pointer("/Properties/FunctionUrlConfig/AuthType"))
        .and_then(Value::as_str);
    if auth != Some("NONE") {
        out.push(violation(
            id,
            format!("needs FunctionUrlConfig with AuthType NONE (the page signs people in), found {auth:?}"),
        ));
    }
    let url_output = stack
        .template
        .document
        .get("Outputs")
        .and_then(Value::as_object)
        .is_some_and(|outputs| {
            outputs.values().any(|o| {
                o.pointer("/Value/Fn::GetAtt")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.first().and_then(Value::as_str) == Some(&format!("{id}Url")))
                    || o.pointer("/Value/Fn::GetAtt").and_then(Value::as_str)
                        == Some(&format!("{id}Url.FunctionUrl"))
            })
        });
    if !url_output {
        out.push(violation(
            id,
            format!("no output gives its URL (!GetAtt {id}Url.FunctionUrl)"),
        ));
    }
    out
}
