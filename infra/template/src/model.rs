//! The parts of the template the checks reason about, read into typed form: functions with their
//! timers, triggers, environment and permissions, and queues with their redrive policies.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::eval::single_key;
use crate::template::Template;

pub const FUNCTION_TYPE: &str = "AWS::Serverless::Function";
pub const QUEUE_TYPE: &str = "AWS::SQS::Queue";
pub const ROLE_TYPE: &str = "AWS::IAM::Role";

/// SQS's default visibility timeout, when a queue does not set one.
const DEFAULT_VISIBILITY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Stack {
    pub template: Template,
    pub functions: Vec<FunctionSpec>,
    pub queues: BTreeMap<String, QueueSpec>,
}

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The cargo binary the function runs (`Metadata.BuildProperties.Binary`, or the
    /// `target/lambda/<name>/` of a prebuilt `CodeUri`).
    pub binary: Option<String>,
    pub timeout: Option<Duration>,
    pub memory_mb: Option<u64>,
    /// Logical id of the execution role when `Role` is `!GetAtt <Role>.Arn`.
    pub role: Option<String>,
    /// `Role` is set but not to a role of this template.
    pub external_role: bool,
    pub schedules: Vec<ScheduleSpec>,
    pub queue_triggers: Vec<QueueTrigger>,
    /// The function's URL (`FunctionUrlConfig`), if it has one.
    pub function_url: Option<FunctionUrl>,
    /// Other event sources (API, S3, ...): the checks only count them.
    pub other_events: Vec<String>,
    /// Environment variables, Globals merged in.
    pub environment: Map<String, Value>,
    pub logging_config: Option<Value>,
    pub runtime: Option<String>,
    pub architectures: Vec<String>,
    /// Statements from the execution role's inline policies and the function's inline `Policies`.
    pub statements: Vec<Statement>,
    /// Policies the checks cannot read statement by statement: managed policy ARNs, SAM policy
    /// templates, named AWS managed policies.
    pub opaque_policies: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub event_name: String,
    pub expression: String,
    /// `rate(...)` expressions only; `None` for cron or anything unparsable.
    pub period: Option<Duration>,
    /// The flexible time window's maximum, zero when the window is off.
    pub flexible_window: Duration,
    pub input: Option<String>,
    pub retry_policy: Option<Value>,
    pub dead_letter: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct QueueTrigger {
    pub event_name: String,
    /// Logical id of the queue when `Queue` is `!GetAtt <Queue>.Arn`.
    pub queue: Option<String>,
    pub batch_size: Option<u64>,
    pub batching_window: Duration,
    pub response_types: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FunctionUrl {
    /// `AWS_IAM` or `NONE`, as written.
    pub auth_type: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub logical_id: String,
    pub visibility_timeout: Duration,
    pub redrive: Option<Redrive>,
}

#[derive(Debug, Clone)]
pub struct Redrive {
    /// Logical id of the dead-letter queue when the target is `!GetAtt <Queue>.Arn`.
    pub dead_letter_queue: Option<String>,
    pub max_receive_count: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: String,
    pub actions: Vec<String>,
    pub not_actions: bool,
    pub resources: Vec<Value>,
    /// The statement's `Condition` block, as written.
    pub condition: Option<Value>,
}

impl Statement {
    pub fn allows(&self, action: &str) -> bool {
        self.effect == "Allow"
            && !self.not_actions
            && self.actions.iter().any(|a| a.eq_ignore_ascii_case(action))
    }

    /// Logical ids of the resources named through `!GetAtt X.Arn`, `!Ref X` or `${X.Arn}` in `!Sub`.
    pub fn resource_ids(&self) -> Vec<String> {
        self.resources.iter().filter_map(referenced_id).collect()
    }
}

impl Stack {
    pub fn from_template(template: Template) -> Self {
        let functions = template
            .resources_of_type(FUNCTION_TYPE)
            .map(|(id, _)| read_function(&template, id))
            .collect();
        let queues = template
            .resources_of_type(QUEUE_TYPE)
            .map(|(id, r)| (id.to_owned(), read_queue(id, r)))
            .collect();
        Self {
            template,
            functions,
            queues,
        }
    }

    pub fn function_for_binary(&self, binary: &str) -> Option<&FunctionSpec> {
        self.functions
            .iter()
            .find(|f| f.binary.as_deref() == Some(binary))
    }

    pub fn queue(&self, logical_id: &str) -> Option<&QueueSpec> {
        self.queues.get(logical_id)
    }

    /// The function whose SQS trigger consumes the queue.
    pub fn consumer_of(&self, queue: &str) -> Option<(&FunctionSpec, &QueueTrigger)> {
        self.functions.iter().find_map(|f| {
            f.queue_triggers
                .iter()
                .find(|t| t.queue.as_deref() == Some(queue))
                .map(|t| (f, t))
        })
    }
}

/// Logical id behind `!GetAtt X.Attr`, `!Ref X` or a `!Sub` that starts with `${X.Attr}`.
pub fn referenced_id(value: &Value) -> Option<String> {
    let (function, args) = single_key(value)?;
    match function {
        "Ref" => args.as_str().map(str::to_owned),
        "Fn::GetAtt" => args
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_owned),
        "Fn::Sub" => {
            let text = args.as_str()?;
            let inner = text.strip_prefix("${")?;
            let end = inner.find(['.', '}'])?;
            Some(inner[..end].to_owned())
        }
        _ => None,
    }
}

/// A number written as a YAML number or a numeric string.
pub fn as_u64(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `rate(5 minutes)` as a duration.
pub fn rate_period(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: u64 = count.parse().ok()?;
    let unit_secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(count * unit_secs))
}

fn read_function(template: &Template, logical_id: &str) -> FunctionSpec {
    let resource = template.resource(logical_id).cloned().unwrap_or(Value::Null);
    let props = template.effective_properties(logical_id);
    let binary = resource
        .pointer("/Metadata/BuildProperties/Binary")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| prebuilt_binary(props.get("CodeUri")));

    let (role, external_role) = match props.get("Role") {
        None => (None, false),
        Some(role) => match referenced_id(role) {
            Some(id) if template.resource(&id).is_some() => (Some(id), false),
            _ => (None, true),
        },
    };

    let mut schedules = Vec::new();
    let mut queue_triggers = Vec::new();
    let mut other_events = Vec::new();
    if let Some(events) = props.get("Events").and_then(Value::as_object) {
        for (name, event) in events {
            let kind = event.get("Type").and_then(Value::as_str).unwrap_or_default();
            let ep = event.get("Properties").cloned().unwrap_or(Value::Null);
            match kind {
                "ScheduleV2" | "Schedule" => schedules.push(read_schedule(name, kind, &ep)),
                "SQS" => queue_triggers.push(QueueTrigger {
                    event_name: name.clone(),
                    queue: ep.get("Queue").and_then(referenced_id),
                    batch_size: as_u64(ep.get("BatchSize")),
                    batching_window: Duration::from_secs(
                        as_u64(ep.get("MaximumBatchingWindowInSeconds")).unwrap_or(0),
                    ),
                    response_types: ep
                        .get("FunctionResponseTypes")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                        .unwrap_or_default(),
                }),
                other => other_events.push(format!("{name} ({other})")),
            }
        }
    }

    let mut statements = Vec::new();
    let mut opaque_policies = Vec::new();
    if let Some(role_id) = &role
        && let Some(role_props) = template.resource(role_id).and_then(|r| r.get("Properties"))
    {
        for policy in role_props
            .get("Policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            statements.extend(read_statements(policy.get("PolicyDocument")));
        }
        for arn in role_props
            .get("ManagedPolicyArns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            opaque_policies.push(format!("managed policy {arn}"));
        }
    }
    match props.get("Policies") {
        None => {}
        Some(Value::String(name)) => opaque_policies.push(format!("managed policy {name}")),
        Some(Value::Object(doc)) if doc.contains_key("Statement") => {
            statements.extend(read_statements(props.get("Policies")));
        }
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::Object(doc) if doc.contains_key("Statement") => {
                        statements.extend(read_statements(Some(item)));
                    }
                    other => opaque_policies.push(format!("policy {other}")),
                }
            }
        }
        Some(other) => opaque_policies.push(format!("policy {other}")),
    }

    FunctionSpec {
        logical_id: logical_id.to_owned(),
        binary,
        timeout: as_u64(props.get("Timeout")).map(Duration::from_secs),
        memory_mb: as_u64(props.get("MemorySize")),
        role,
        external_role,
        schedules,
        queue_triggers,
        function_url: props.get("FunctionUrlConfig").map(|config| FunctionUrl {
            auth_type: config.get("AuthType").and_then(Value::as_str).map(str::to_owned),
        }),
        other_events,
        environment: props
            .pointer("/Environment/Variables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        logging_config: props.get("LoggingConfig").cloned(),
        runtime: props.get("Runtime").and_then(Value::as_str).map(str::to_owned),
        architectures: props
            .get("Architectures")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        statements,
        opaque_policies,
    }
}

/// `../target/lambda/<name>/` names the binary of a prebuilt function.
fn prebuilt_binary(code_uri: Option<&Value>) -> Option<String> {
    let uri = code_uri?.as_str()?;
    let rest = uri.split("target/lambda/").nth(1)?;
    let name = rest.trim_end_matches('/').split('/').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

fn read_schedule(name: &str, kind: &str, props: &Value) -> ScheduleSpec {
    let expression = props
        .get("ScheduleExpression")
        .or_else(|| props.get("Schedule"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let flexible_window = match props.get("FlexibleTimeWindow") {
        Some(window) if window.get("Mode").and_then(Value::as_str) == Some("FLEXIBLE") => {
            Duration::from_secs(60 * as_u64(window.get("MaximumWindowInMinutes")).unwrap_or(0))
        }
        _ => Duration::ZERO,
    };
    ScheduleSpec {
        event_name: format!("{name} ({kind})"),
        period: rate_period(&expression),
        expression,
        flexible_window,
        input: props.get("Input").and_then(Value::as_str).map(str::to_owned),
        retry_policy: props.get("RetryPolicy").cloned(),
        dead_letter: props.get("DeadLetterConfig").cloned(),
    }
}

fn read_queue(logical_id: &str, resource: &Value) -> QueueSpec {
    let props = resource.get("Properties").cloned().unwrap_or(Value::Null);
    let redrive = props.get("RedrivePolicy").map(|policy| Redrive {
        dead_letter_queue: policy.get("deadLetterTargetArn").and_then(referenced_id),
        max_receive_count: as_u64(policy.get("maxReceiveCount")),
    });
    QueueSpec {
        logical_id: logical_id.to_owned(),
        visibility_timeout: as_u64(props.get("VisibilityTimeout"))
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_VISIBILITY),
        redrive,
    }
}

fn one_or_many(value: Option<&Value>) -> Vec<Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
    }
}

fn read_statements(document: Option<&Value>) -> Vec<Statement> {
    one_or_many(document.and_then(|d| d.get("Statement")))
        .into_iter()
        .map(|s| {
            let not_actions = s.get("NotAction").is_some();
            let actions = one_or_many(s.get("Action").or_else(|| s.get("NotAction")))
                .into_iter()
                .map(|a| match a {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
            let resources = one_or_many(s.get("Resource").or_else(|| s.get("NotResource")));
            Statement {
                sid: s.get("Sid").and_then(Value::as_str).map(str::to_owned),
                effect: s
                    .get("Effect")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                actions,
                not_actions,
                resources,
                condition: s.get("Condition").cloned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_cron_does_not() {
        assert_eq!(rate_period("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(rate_period("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(rate_period("rate(2 hours)"), Some(Duration::from_secs(7200)));
        assert_eq!(rate_period("cron(0/5 * * * ? *)"), None);
        assert_eq!(rate_period("rate(five minutes)"), None);
    }

    #[test]
    fn prebuilt_code_uri_names_its_binary() {
        let uri = Value::String("../target/lambda/order-import/".into());
        assert_eq!(prebuilt_binary(Some(&uri)).as_deref(), Some("order-import"));
        assert_eq!(prebuilt_binary(Some(&Value::String("..".into()))), None);
    }
}
