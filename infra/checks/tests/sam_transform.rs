//! The SAM transform (what `sam deploy` submits to CloudFormation) accepts the template, and what it
//! generates keeps the promises: no role gains a managed policy or a wildcard, every queue mapping
//! reports batch item failures, every schedule keeps its retry policy, dead-letter queue and input.
//!
//! Runs `infra/scripts/sam_transform.py` with the test venv's Python (`SAM_TRANSLATOR_PYTHON`, else
//! `<workspace>/.venv/bin/python3`, else `python3`), which needs the `aws-sam-translator` package.
//! Ignored by a plain `cargo test`: `tests/run.sh` (which the test command runs) installs the
//! package and runs it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use infra_checks::{template_path, workspace_root};

fn python() -> PathBuf {
    if let Ok(path) = std::env::var("SAM_TRANSLATOR_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn transformed(parameters: Value) -> Value {
    let script = workspace_root().join("infra/scripts/sam_transform.py");
    let output = Command::new(python())
        .arg(&script)
        .arg(template_path())
        .arg(parameters.to_string())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} with {}: {e}", script.display(), python().display()));
    assert!(
        output.status.success(),
        "the SAM transform failed (exit {:?}):\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the transform prints JSON")
}

fn of_type<'a>(template: &'a Value, resource_type: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == resource_type)
        .collect()
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn check_generated_stack(template: &Value) {
    for (id, role) in of_type(template, "AWS::IAM::Role") {
        let props = &role["Properties"];
        assert!(
            props.get("ManagedPolicyArns").is_none(),
            "{id} gained managed policies: {}",
            props["ManagedPolicyArns"]
        );
        for policy in as_list(&props["Policies"]) {
            for statement in as_list(&policy["PolicyDocument"]["Statement"]) {
                for action in as_list(&statement["Action"]) {
                    let action = action.as_str().unwrap_or_default();
                    assert!(!action.contains('*'), "{id}: wildcard action {action}");
                }
                for resource in as_list(&statement["Resource"]) {
                    assert_ne!(resource, json!("*"), "{id}: Resource \"*\" in {statement}");
                }
            }
        }
    }

    let functions = of_type(template, "AWS::Lambda::Function");
    // One per declared function: the operations, the dashboard and the walmart-events receiver.
    assert_eq!(
        functions.len(),
        operations::registry::FUNCTIONS.len(),
        "one Lambda function per function crate"
    );
    for (id, function) in &functions {
        let props = &function["Properties"];
        assert_eq!(props["Runtime"], "provided.al2023", "{id}");
        assert_eq!(props["Architectures"], json!(["arm64"]), "{id}");
        assert_eq!(props["LoggingConfig"]["LogFormat"], "JSON", "{id}");
        assert!(
            props["LoggingConfig"]["LogGroup"].get("Ref").is_some(),
            "{id}: its own log group"
        );
        assert!(props["Role"].get("Fn::GetAtt").is_some(), "{id}: its own role");
    }

    let mappings = of_type(template, "AWS::Lambda::EventSourceMapping");
    assert_eq!(
        mappings.len(),
        ports::QueueName::ALL.len(),
        "one mapping per queue"
    );
    for (id, mapping) in &mappings {
        assert_eq!(
            mapping["Properties"]["FunctionResponseTypes"],
            json!(["ReportBatchItemFailures"]),
            "{id}"
        );
        let queue = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
            .as_str()
            .expect("queue");
        assert!(
            template["Resources"][queue]["Properties"]["RedrivePolicy"].is_object(),
            "{id} reads {queue}, which has no dead-letter queue"
        );
    }

    let schedules = of_type(template, "AWS::Scheduler::Schedule");
    assert_eq!(
        schedules.len(),
        8,
        "every function but order-create runs on a schedule"
    );
    for (id, schedule) in &schedules {
        let props = &schedule["Properties"];
        assert_eq!(props["FlexibleTimeWindow"], json!({"Mode": "OFF"}), "{id}");
        // A fixed schedule name would collide between two stacks in one account.
        assert!(props.get("Name").is_none(), "{id} has a fixed name");
        assert!(props["Target"]["RetryPolicy"].is_object(), "{id}");
        assert!(props["Target"]["DeadLetterConfig"]["Arn"].is_object(), "{id}");
        assert!(props["Target"]["Input"].is_string(), "{id}");
    }

    // Scheduled runs are not retried by Lambda (the next tick is the retry).
    for (id, config) in of_type(template, "AWS::Lambda::EventInvokeConfig") {
        assert_eq!(config["Properties"]["MaximumRetryAttempts"], 0, "{id}");
    }
}

#[test]
fn the_sam_transform_keeps_the_promises_with_default_parameters() {
    check_generated_stack(&transformed(
        json!({"CommerceBaseUrl": "https://shop.example.com"}),
    ));
}

#[test]
fn the_sam_transform_keeps_the_promises_with_every_option_set() {
    let template = transformed(json!({
        "CommerceBaseUrl": "https://shop.example.com",
        "ChannelId": "us-2",
        "ChannelSettingsFields": "\"store_code\":\"us\"",
        "WalmartEnvironment": "sandbox",
        "SchedulesEnabled": "true",
        "ExistingSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:cm-AbCdEf",
        "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
        "TableDeletionProtection": "false",
    }));
    check_generated_stack(&template);
}
