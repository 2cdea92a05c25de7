//! The dashboard function (`functions/dashboard`, the merchant's page): not an operation, so the
//! operations' checks skip it; these hold its resource to what its code does.
//!
//! - its table actions are exactly those its declared store calls issue (`dashboard::STORE_CALLS`
//!   through `adapters_aws::dynamodb::iam_actions`), on the channel's own keys only, never the
//!   operations' idempotency records;
//! - it reads exactly two secrets: the channel's credentials (`SECRET_ARN`; importing orders again
//!   reads Walmart) and its own login secret (`DASHBOARD_LOGIN_ARN`), which no other function reads;
//! - it sends only to the work queues (retries, resyncs, re-driven dead letters), receives and
//!   deletes only from their dead-letter queues (re-drive: it never takes the operations' work), and
//!   reads the depth of both;
//! - it has every work queue's URL, a Function URL (AuthType NONE: the page signs people in), and
//!   an output with that URL.

use std::collections::BTreeSet;

use ports::QueueName;
use serde_json::Value;

use crate::checks::{Violation, leading_keys};
use crate::model::{FunctionSpec, Stack};
use crate::topology::queue_logical_id;

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

fn granted(f: &FunctionSpec, action: &str) -> BTreeSet<String> {
    f.statements
        .iter()
        .filter(|s| s.allows(action))
        .flat_map(|s| s.resource_ids())
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

    // The queues.
    let queues: BTreeSet<String> = QueueName::ALL.into_iter().map(queue_logical_id).collect();
    let dead_letters: BTreeSet<String> = queues
        .iter()
        .filter_map(|q| stack.queue(q)?.redrive.as_ref()?.dead_letter_queue.clone())
        .collect();
    let both: BTreeSet<String> = queues.union(&dead_letters).cloned().collect();
    for (action, want) in [
        ("sqs:SendMessage", &queues),
        ("sqs:ReceiveMessage", &dead_letters),
        ("sqs:DeleteMessage", &dead_letters),
        ("sqs:GetQueueAttributes", &both),
        ("sqs:GetQueueUrl", &both),
        ("sqs:ChangeMessageVisibility", &BTreeSet::new()),
    ] {
        let got = granted(f, action);
        if &got != want {
            out.push(violation(id, format!("{action} on {got:?}, want {want:?}")));
        }
    }
    for queue in QueueName::ALL {
        if f.environment
            .get(queue.url_env_var())
            .and_then(|v| v.get("Ref"))
            .and_then(Value::as_str)
            != Some(queue_logical_id(queue).as_str())
        {
            out.push(violation(
                id,
                format!("{} must be !Ref {}", queue.url_env_var(), queue_logical_id(queue)),
            ));
        }
    }
    if !f.queue_triggers.is_empty() || !f.schedules.is_empty() {
        out.push(violation(id, "is triggered by its Function URL only"));
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
