//! The checks: each returns the violations it finds, with the resource and what is wrong, so a
//! failing test names every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use domain::{ChannelSettings, Operation};
use ports::QueueName;

use crate::delays::{secs, timings};
use crate::eval::{Bindings, Evaluator};
use crate::model::{FunctionSpec, QUEUE_TYPE, Stack, referenced_id};
use crate::topology::{
    COMMON_ENVIRONMENT, CONSUMER_QUEUE_ACTIONS, declaration_of, declarations, glob_matches, is_catalog,
    leading_key_patterns, queue_logical_id, send_actions,
};

/// AWS's advice for SQS event sources: visibility timeout at least six times the function timeout.
pub const VISIBILITY_FACTOR: u32 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub check: &'static str,
    pub subject: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.check, self.subject, self.message)
    }
}

fn violation(check: &'static str, subject: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation {
        check,
        subject: subject.into(),
        message: message.into(),
    }
}

/// Every check. `function_crates` are the crate directories under `functions/`.
pub fn check_all(stack: &Stack, function_crates: &[String]) -> Vec<Violation> {
    let mut out = Vec::new();
    out.extend(check_function_crates(stack, function_crates));
    out.extend(check_runtime(stack));
    out.extend(check_delays(stack));
    out.extend(check_schedules(stack));
    out.extend(check_queues(stack));
    out.extend(check_queue_wiring(stack));
    out.extend(check_function_urls(stack));
    out.extend(check_no_wildcards(stack));
    out.extend(check_state_access(stack));
    out.extend(crate::permissions::check_table_actions(stack));
    out.extend(check_environment(stack));
    out.extend(check_table(stack));
    out.extend(check_alarms(stack));
    out.extend(crate::dashboard::check_dashboard(stack));
    out.extend(crate::receiver::check_other_functions(stack));
    out
}

/// Every crate in `functions/` has a function resource, every function resource builds a crate,
/// and both agree with `domain::Operation::ALL`.
pub fn check_function_crates(stack: &Stack, function_crates: &[String]) -> Vec<Violation> {
    const CHECK: &str = "function-crates";
    let mut out = Vec::new();
    let crates: BTreeSet<&str> = function_crates.iter().map(String::as_str).collect();
    let mut built: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in &stack.functions {
        match f.binary.as_deref() {
            None => out.push(violation(
                CHECK,
                &f.logical_id,
                "names no binary (Metadata.BuildProperties.Binary or CodeUri target/lambda/<name>/)",
            )),
            Some(binary) => {
                built.entry(binary).or_default().push(&f.logical_id);
                if !crates.contains(binary) {
                    out.push(violation(
                        CHECK,
                        &f.logical_id,
                        format!("builds `{binary}`, but functions/{binary} does not exist"),
                    ));
                }
            }
        }
    }
    for (binary, ids) in &built {
        if ids.len() > 1 {
            out.push(violation(
                CHECK,
                *binary,
                format!("built by several resources: {}", ids.join(", ")),
            ));
        }
    }
    for krate in &crates {
        if !built.contains_key(krate) {
            out.push(violation(
                CHECK,
                format!("functions/{krate}"),
                "has no AWS::Serverless::Function resource",
            ));
        }
    }
    for declaration in declarations() {
        if !crates.contains(declaration.function) {
            out.push(violation(
                CHECK,
                declaration.function,
                "is declared (operations::registry::FUNCTIONS) but functions/ has no such crate",
            ));
        }
    }
    for binary in built.keys() {
        if declaration_of(binary).is_none() {
            out.push(violation(
                CHECK,
                *binary,
                "has no declaration in operations::registry::FUNCTIONS (its triggers and queues)",
            ));
        }
    }
    out
}

/// provided.al2023 on arm64, literal timeout and memory, JSON logs into a log group with retention.
pub fn check_runtime(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "runtime";
    let mut out = Vec::new();
    for f in &stack.functions {
        let id = &f.logical_id;
        if f.runtime.as_deref() != Some("provided.al2023") {
            out.push(violation(
                CHECK,
                id,
                format!("runtime {:?}, want provided.al2023", f.runtime),
            ));
        }
        if f.architectures != ["arm64"] {
            out.push(violation(
                CHECK,
                id,
                format!("architectures {:?}, want [arm64]", f.architectures),
            ));
        }
        if f.timeout.is_none() {
            out.push(violation(CHECK, id, "needs a literal Timeout"));
        }
        if f.memory_mb.is_none() {
            out.push(violation(
                CHECK,
                id,
                "needs a literal MemorySize (chosen per function)",
            ));
        }
        let logging = f.logging_config.as_ref();
        if logging.and_then(|l| l.get("LogFormat")).and_then(Value::as_str) != Some("JSON") {
            out.push(violation(CHECK, id, "LoggingConfig.LogFormat must be JSON"));
        }
        match logging.and_then(|l| l.get("LogGroup")).and_then(referenced_id) {
            None => out.push(violation(
                CHECK,
                id,
                "LoggingConfig.LogGroup must name a log group of the template (for its retention)",
            )),
            Some(group) => {
                let retention = stack
                    .template
                    .resource(&group)
                    .and_then(|g| g.pointer("/Properties/RetentionInDays"));
                if retention.is_none() {
                    out.push(violation(CHECK, &group, "log group without RetentionInDays"));
                }
            }
        }
    }
    out
}

/// Each operation's worst case (see `delays`) within its delay.
pub fn check_delays(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "delays";
    let (timings, gaps) = timings(stack);
    let mut out: Vec<Violation> = gaps
        .into_iter()
        .map(|g| violation(CHECK, g.operation.function_name(), g.problem))
        .collect();
    for t in timings {
        for path in &t.paths {
            if path.total > t.bound {
                let stages: Vec<String> = path
                    .stages
                    .iter()
                    .map(|s| format!("{} = {}", s.description, secs(s.duration)))
                    .collect();
                out.push(violation(
                    CHECK,
                    t.operation.function_name(),
                    format!(
                        "worst case {} exceeds the delay of {}: {}",
                        secs(path.total),
                        secs(t.bound),
                        stages.join(", then ")
                    ),
                ));
            }
        }
    }
    out
}

/// Scheduled operations (and only those) have a ScheduleV2 timer with a retry policy, a dead-letter
/// queue and an input naming the operation.
pub fn check_schedules(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "schedules";
    let mut out = Vec::new();
    for declaration in declarations() {
        let Some(f) = stack.function_for_binary(declaration.function) else {
            continue; // reported by function-crates
        };
        let id = &f.logical_id;
        if declaration.scheduled && f.schedules.is_empty() {
            out.push(violation(
                CHECK,
                id,
                format!(
                    "has no schedule, but the declaration of {} says `scheduled: true`",
                    declaration.function
                ),
            ));
        }
        if !declaration.scheduled && !f.schedules.is_empty() {
            out.push(violation(
                CHECK,
                id,
                format!(
                    "has a schedule, but the declaration of {} says `scheduled: false`",
                    declaration.function
                ),
            ));
        }
        for s in &f.schedules {
            let subject = format!("{id} {}", s.event_name);
            if !s.event_name.ends_with("(ScheduleV2)") {
                out.push(violation(
                    CHECK,
                    &subject,
                    "use ScheduleV2 (EventBridge Scheduler)",
                ));
            }
            if s.period.is_none() {
                out.push(violation(
                    CHECK,
                    &subject,
                    format!(
                        "{:?} is not rate(...): its period cannot be checked",
                        s.expression
                    ),
                ));
            }
            if s.retry_policy.is_none() {
                out.push(violation(CHECK, &subject, "has no RetryPolicy"));
            }
            if s.dead_letter.is_none() {
                out.push(violation(CHECK, &subject, "has no DeadLetterConfig"));
            }
            let named = s
                .input
                .as_deref()
                .and_then(|i| serde_json::from_str::<Value>(i).ok())
                .and_then(|v| {
                    v.pointer("/detail/operation")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            if named.as_deref() != Some(declaration.function) {
                out.push(violation(
                    CHECK,
                    &subject,
                    format!(
                        "Input must be a JSON event whose detail.operation is {:?}, found {:?}",
                        declaration.function, s.input
                    ),
                ));
            }
        }
    }
    out
}

/// Every queue trigger reports batch item failures and reads a queue with a dead-letter queue
/// (maxReceiveCount > 1) and a visibility timeout of at least 6 x the function timeout. And a
/// holder killed mid-work keeps its idempotency claim at most its timeout plus the time Commerce may
/// still apply a write it gave up on (`ports::commerce::REQUEST_TIMEOUT`): the message's remaining
/// receives (visibility timeout x (maxReceiveCount - 1)) must outlast that, so a message whose work
/// is then done anyway never reaches the dead-letter queue.
pub fn check_queues(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "queues";
    let mut out = Vec::new();
    for f in &stack.functions {
        for t in &f.queue_triggers {
            let subject = format!("{} {}", f.logical_id, t.event_name);
            if !t.response_types.iter().any(|r| r == "ReportBatchItemFailures") {
                out.push(violation(
                    CHECK,
                    &subject,
                    "lacks FunctionResponseTypes: [ReportBatchItemFailures]",
                ));
            }
            if t.batch_size.is_none() {
                out.push(violation(CHECK, &subject, "needs a literal BatchSize"));
            }
            if t.batch_size.is_some_and(|b| b > 10) && t.batching_window.is_zero() {
                out.push(violation(
                    CHECK,
                    &subject,
                    "a BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1",
                ));
            }
            let Some(queue_id) = &t.queue else {
                out.push(violation(
                    CHECK,
                    &subject,
                    "Queue must be !GetAtt <queue of this template>.Arn",
                ));
                continue;
            };
            let Some(queue) = stack.queue(queue_id) else {
                out.push(violation(
                    CHECK,
                    &subject,
                    format!("{queue_id} is not a queue of this template"),
                ));
                continue;
            };
            match &queue.redrive {
                None => out.push(violation(
                    CHECK,
                    queue_id,
                    "has no RedrivePolicy (dead-letter queue)",
                )),
                Some(redrive) => {
                    match &redrive.dead_letter_queue {
                        Some(dlq) if stack.queue(dlq).is_some() => {}
                        other => out.push(violation(
                            CHECK,
                            queue_id,
                            format!("dead-letter target {other:?} is not a queue of this template"),
                        )),
                    }
                    if redrive.max_receive_count.is_none_or(|n| n <= 1) {
                        out.push(violation(
                            CHECK,
                            queue_id,
                            format!(
                                "maxReceiveCount {:?} must be more than 1 (one failure must not dead-letter)",
                                redrive.max_receive_count
                            ),
                        ));
                    }
                }
            }
            if let (Some(timeout), Some(receives)) = (
                f.timeout,
                queue.redrive.as_ref().and_then(|r| r.max_receive_count),
            ) && receives > 1
            {
                let longest_claim = timeout + ports::commerce::REQUEST_TIMEOUT;
                let further = u32::try_from(receives - 1).unwrap_or(u32::MAX);
                let retries_span = queue.visibility_timeout.saturating_mul(further);
                if retries_span <= longest_claim {
                    out.push(violation(
                        CHECK,
                        queue_id,
                        format!(
                            "visibility timeout {} x {} further receives ends before a killed {} holder's claim ({} timeout + {} for Commerce to settle) runs out",
                            secs(queue.visibility_timeout),
                            further,
                            f.logical_id,
                            secs(timeout),
                            secs(ports::commerce::REQUEST_TIMEOUT)
                        ),
                    ));
                }
            }
            if let Some(timeout) = f.timeout
                && queue.visibility_timeout < timeout * VISIBILITY_FACTOR
            {
                out.push(violation(
                    CHECK,
                    queue_id,
                    format!(
                        "visibility timeout {} is under {VISIBILITY_FACTOR} x {}'s timeout {}",
                        secs(queue.visibility_timeout),
                        f.logical_id,
                        secs(timeout)
                    ),
                ));
            }
        }
    }
    out
}

/// Queues, triggers, send grants and queue URL variables agree with the topology: every channel
/// queue exists, is consumed by its operation only, each function may send exactly to the queues it
/// sends to, and has the URLs of the queues it sends to or consumes.
pub fn check_queue_wiring(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "queue-wiring";
    let mut out = Vec::new();
    for queue in QueueName::ALL {
        let id = queue_logical_id(queue);
        if stack.queue(&id).is_none() {
            out.push(violation(
                CHECK,
                &id,
                format!("the {} queue is missing", queue.as_str()),
            ));
        }
    }
    for declaration in declarations() {
        // The dashboard reads every queue's depth and re-drives every dead-letter queue into its
        // source: its queue privileges are held to that by `crate::dashboard`'s own check.
        if declaration.function == operations::merchant::DECLARATION.function {
            continue;
        }
        let Some(f) = stack.function_for_binary(declaration.function) else {
            continue;
        };
        let fid = &f.logical_id;
        let name = declaration.function;
        let consumed: Vec<Option<String>> = f.queue_triggers.iter().map(|t| t.queue.clone()).collect();
        let expected_consumed = declaration.consumes.map(queue_logical_id);
        if consumed
            != expected_consumed
                .clone()
                .map(Some)
                .into_iter()
                .collect::<Vec<_>>()
        {
            out.push(violation(
                CHECK,
                fid,
                format!(
                    "consumes {consumed:?}, but the declaration of {name} says `consumes: {expected_consumed:?}`"
                ),
            ));
        }

        let expected_sends: BTreeSet<String> = declaration
            .sends_to
            .iter()
            .map(|q| queue_logical_id(*q))
            .collect();
        for action in send_actions() {
            let granted_sends: BTreeSet<String> = grants(f, action);
            if granted_sends != expected_sends {
                out.push(violation(
                    CHECK,
                    fid,
                    format!(
                        "may send to {granted_sends:?}, but the declaration of {name} says `sends_to: {expected_sends:?}`"
                    ),
                ));
            }
        }
        let expected_consume: BTreeSet<String> = expected_consumed.into_iter().collect();
        for action in CONSUMER_QUEUE_ACTIONS {
            let granted = grants(f, action);
            if granted != expected_consume {
                out.push(violation(
                    CHECK,
                    fid,
                    format!("{action} on {granted:?}, but consumes {expected_consume:?}"),
                ));
            }
        }

        for queue in QueueName::ALL {
            let var = queue.url_env_var();
            let uses = declaration.queue_urls().contains(&queue);
            match (f.environment.get(var), uses) {
                (None, true) => out.push(violation(
                    CHECK,
                    fid,
                    format!("uses the {} queue but has no {var}", queue.as_str()),
                )),
                (Some(_), false) => out.push(violation(
                    CHECK,
                    fid,
                    format!("has {var} but neither sends to nor consumes {}", queue.as_str()),
                )),
                (Some(value), true) => {
                    if referenced_id(value).as_deref() != Some(queue_logical_id(queue).as_str())
                        || value.get("Ref").is_none()
                    {
                        out.push(violation(
                            CHECK,
                            fid,
                            format!("{var} must be !Ref {} (the queue URL)", queue_logical_id(queue)),
                        ));
                    }
                }
                (None, false) => {}
            }
        }
    }
    out
}

/// A function has a Function URL exactly when its declaration says so, with the declared auth type.
pub fn check_function_urls(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "function-urls";
    let mut out = Vec::new();
    for declaration in declarations() {
        let Some(f) = stack.function_for_binary(declaration.function) else {
            continue;
        };
        let declared = declaration.function_url.map(|auth| auth.as_str());
        let found = f
            .function_url
            .as_ref()
            .map(|url| url.auth_type.as_deref().unwrap_or("(none)"));
        let name = declaration.function;
        let problem = match (found, declared) {
            (Some(found), Some(declared)) if found != declared => Some(format!(
                "has a Function URL with AuthType {found}, but the declaration of {name} says {declared}"
            )),
            (Some(found), None) => Some(format!(
                "has a Function URL (AuthType {found}), but the declaration of {name} says `function_url: None`"
            )),
            (None, Some(declared)) => Some(format!(
                "has no Function URL, but the declaration of {name} says one with AuthType {declared}"
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            out.push(violation(CHECK, &f.logical_id, problem));
        }
    }
    out
}

/// Logical ids of the resources the function is allowed `action` on.
fn grants(f: &FunctionSpec, action: &str) -> BTreeSet<String> {
    f.statements
        .iter()
        .filter(|s| s.allows(action))
        .flat_map(|s| s.resource_ids())
        .collect()
}

/// No wildcard actions, no `Resource: "*"`, no `NotAction`, no policies the checks cannot read, and
/// an explicit role (SAM's generated role carries AWS managed policies with `Resource: "*"`).
pub fn check_no_wildcards(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "least-privilege";
    let mut out = Vec::new();
    for f in &stack.functions {
        let id = &f.logical_id;
        if f.role.is_none() {
            out.push(violation(
                CHECK,
                id,
                if f.external_role {
                    "Role must be !GetAtt <role of this template>.Arn so its policies can be checked"
                } else {
                    "needs an explicit Role: SAM's generated role attaches managed policies with Resource \"*\""
                },
            ));
        }
        for p in &f.opaque_policies {
            out.push(violation(
                CHECK,
                id,
                format!("{p} cannot be checked: use inline statements"),
            ));
        }
        for s in &f.statements {
            let sid = s.sid.clone().unwrap_or_else(|| "(no Sid)".to_owned());
            if s.not_actions {
                out.push(violation(CHECK, format!("{id} {sid}"), "uses NotAction"));
            }
            for action in &s.actions {
                if action.contains('*') {
                    out.push(violation(
                        CHECK,
                        format!("{id} {sid}"),
                        format!("wildcard action {action:?}"),
                    ));
                }
            }
            for resource in &s.resources {
                if resource.as_str() == Some("*") {
                    out.push(violation(CHECK, format!("{id} {sid}"), "Resource \"*\""));
                }
            }
        }
    }
    out
}

/// Each function's table actions are on the state table and its status index only (which actions:
/// [`crate::permissions`]); and read access to the credentials secret.
pub fn check_state_access(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "state-access";
    let mut out = Vec::new();
    let Some(table) = state_table_id(stack) else {
        return vec![violation(
            CHECK,
            "TABLE_NAME",
            "no function's TABLE_NAME is !Ref <table of this template>",
        )];
    };
    for op in Operation::ALL {
        let Some(f) = stack.function_for_binary(op.function_name()) else {
            continue;
        };
        let id = &f.logical_id;
        // Which table actions: `permissions::check_table_actions`.
        for s in f
            .statements
            .iter()
            .filter(|s| s.actions.iter().any(|a| a.starts_with("dynamodb:")))
        {
            for resource in &s.resources {
                let ok = match referenced_id(resource) {
                    Some(r) if r == table => {
                        // The table's ARN itself, or its status index.
                        resource.get("Fn::GetAtt").is_some()
                            || resource
                                .get("Fn::Sub")
                                .and_then(Value::as_str)
                                .is_some_and(|t| t == format!("${{{table}.Arn}}/index/status-index"))
                    }
                    _ => false,
                };
                if !ok {
                    out.push(violation(
                        CHECK,
                        id,
                        format!("table actions on {resource}: only the table and its status-index"),
                    ));
                }
            }
        }
        // Least privilege by key: every table statement is limited to the operation's own key
        // prefixes, and a catalog function's never reach orders or returns.
        let want: BTreeSet<String> = leading_key_patterns(op).into_iter().collect();
        for s in f.statements.iter().filter(|s| {
            s.actions
                .iter()
                .any(|a| a.to_ascii_lowercase().starts_with("dynamodb:"))
        }) {
            let patterns = leading_keys(s);
            let subject = format!("{id} {}", s.sid.as_deref().unwrap_or("(statement)"));
            let Some(found) = patterns else {
                out.push(violation(
                    CHECK,
                    &subject,
                    "table actions without a ForAllValues:StringLike dynamodb:LeadingKeys condition: \
                     the role could read every item, buyers' orders included",
                ));
                continue;
            };
            if found != want {
                out.push(violation(
                    CHECK,
                    &subject,
                    format!("dynamodb:LeadingKeys {found:?}, its operation uses {want:?}"),
                ));
            }
            if is_catalog(op) {
                // Sample keys of buyers' orders: no catalog pattern may match one.
                for pattern in &found {
                    let pattern = pattern.replace("${ChannelId}", "main");
                    if let Some(key) = ORDER_SAMPLE_KEYS.iter().find(|k| glob_matches(&pattern, k)) {
                        out.push(violation(
                            CHECK,
                            &subject,
                            format!("a catalog function may not reach {key} (pattern {pattern})"),
                        ));
                    }
                }
            }
        }
        let secret_reads = f
            .statements
            .iter()
            .filter(|s| s.allows("secretsmanager:GetSecretValue"))
            .count();
        if secret_reads != 1 {
            out.push(violation(
                CHECK,
                id,
                "needs exactly one statement allowing secretsmanager:GetSecretValue",
            ));
        }
        for s in f
            .statements
            .iter()
            .filter(|s| s.allows("secretsmanager:GetSecretValue"))
        {
            if s.resources.len() != 1 || s.resources.first() != f.environment.get("SECRET_ARN") {
                out.push(violation(
                    CHECK,
                    id,
                    "secretsmanager:GetSecretValue must be on the SECRET_ARN secret only",
                ));
            }
        }
    }
    out
}

/// Partition keys of records that hold buyers' orders (channel `main`).
const ORDER_SAMPLE_KEYS: [&str; 5] = [
    "CH#main#ORDER#1796000000001",
    "CH#main#ORDER#pending",
    "CH#main#CORDER",
    "CH#main#RETURN",
    "IDEMPOTENCY#order-create#main#1796000000001",
];

/// The patterns of a statement's `ForAllValues:StringLike` `dynamodb:LeadingKeys` condition, as
/// written (plain strings or `!Sub` templates); `None` without one.
pub(crate) fn leading_keys(statement: &crate::model::Statement) -> Option<BTreeSet<String>> {
    let values = statement
        .condition
        .as_ref()?
        .get("ForAllValues:StringLike")?
        .get("dynamodb:LeadingKeys")?;
    let list = match values {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    list.iter()
        .map(|v| match v {
            Value::String(s) => Some(s.clone()),
            other => other.get("Fn::Sub").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

fn state_table_id(stack: &Stack) -> Option<String> {
    stack
        .functions
        .iter()
        .find_map(|f| f.environment.get("TABLE_NAME").and_then(referenced_id))
        .filter(|id| {
            stack
                .template
                .resource(id)
                .and_then(|r| r.get("Type"))
                .and_then(Value::as_str)
                == Some("AWS::DynamoDB::Table")
        })
}

/// The environment every function reads, settings that parse with their defaults, and no
/// credentials anywhere but the secret.
pub fn check_environment(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "environment";
    let mut out = Vec::new();
    for f in &stack.functions {
        let id = &f.logical_id;
        for var in COMMON_ENVIRONMENT {
            if !f.environment.contains_key(var) {
                out.push(violation(CHECK, id, format!("lacks {var}")));
            }
        }
        for name in f.environment.keys() {
            let upper = name.to_ascii_uppercase();
            let credential_like = [
                "SECRET",
                "PASSWORD",
                "TOKEN",
                "CLIENT_ID",
                "CONSUMER_KEY",
                "API_KEY",
            ]
            .iter()
            .any(|w| upper.contains(w));
            if credential_like && name != "SECRET_ARN" {
                out.push(violation(
                    CHECK,
                    id,
                    format!("{name} looks like a credential: credentials belong in the secret"),
                ));
            }
        }
        if let Some(secret) = f.environment.get("SECRET_ARN") {
            let names_secret = secret_candidates(secret).iter().all(|candidate| {
                stack
                    .template
                    .resource(candidate)
                    .and_then(|r| r.get("Type"))
                    .and_then(Value::as_str)
                    == Some("AWS::SecretsManager::Secret")
                    || stack.template.parameter(candidate).is_some()
            });
            if !names_secret {
                out.push(violation(
                    CHECK,
                    id,
                    "SECRET_ARN must reference the secret (or a secret ARN parameter)",
                ));
            }
        }
    }
    if let Some(params) = stack
        .template
        .document
        .get("Parameters")
        .and_then(Value::as_object)
    {
        for (name, spec) in params {
            let lower = name.to_ascii_lowercase();
            let credential_like = [
                "password",
                "clientsecret",
                "consumersecret",
                "token",
                "clientid",
                "consumerkey",
            ]
            .iter()
            .any(|w| lower.contains(w));
            if credential_like {
                out.push(violation(
                    CHECK,
                    name,
                    "credentials must not be parameters: put them in the Secrets Manager secret",
                ));
            }
            if lower.contains("secret") && !lower.ends_with("arn") && spec.get("Default").is_some() {
                out.push(violation(
                    CHECK,
                    name,
                    "a secret-looking parameter with a default",
                ));
            }
        }
    }
    out.extend(check_channel_settings(stack));
    out
}

/// Logical ids `SECRET_ARN` may evaluate to (through `Fn::If`).
fn secret_candidates(value: &Value) -> Vec<String> {
    if let Some(branches) = value.get("Fn::If").and_then(Value::as_array) {
        return branches.iter().skip(1).flat_map(secret_candidates).collect();
    }
    referenced_id(value).into_iter().collect()
}

/// With the parameters' defaults (and with extra fields), every function's CHANNEL_SETTINGS is
/// valid `domain::ChannelSettings` whose id is the ChannelId parameter.
pub fn check_channel_settings(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "channel-settings";
    let mut out = Vec::new();
    let cases: [&[(&str, &str)]; 2] = [
        &[],
        &[
            ("ChannelId", "us-store-2"),
            (
                "ChannelSettingsFields",
                r#""store_code":"us","pricing":{"adjustment_percent":5}"#,
            ),
        ],
    ];
    for overrides in cases {
        let bindings = Bindings::with_defaults(&stack.template, overrides);
        let evaluator = Evaluator::new(&stack.template, &bindings);
        let channel_id = bindings.parameters.get("ChannelId").cloned().unwrap_or_default();
        for f in &stack.functions {
            let Some(expr) = f.environment.get("CHANNEL_SETTINGS") else {
                continue; // reported by the environment check
            };
            let subject = format!("{} with {overrides:?}", f.logical_id);
            let text = match evaluator.string(expr) {
                Ok(text) => text,
                Err(e) => {
                    out.push(violation(
                        CHECK,
                        subject,
                        format!("CHANNEL_SETTINGS does not evaluate: {e}"),
                    ));
                    continue;
                }
            };
            match serde_json::from_str::<ChannelSettings>(&text) {
                Err(e) => out.push(violation(
                    CHECK,
                    subject,
                    format!("CHANNEL_SETTINGS {text} does not parse: {e}"),
                )),
                Ok(settings) => {
                    if let Err(problems) = settings.validate() {
                        out.push(violation(
                            CHECK,
                            &subject,
                            format!("CHANNEL_SETTINGS invalid: {problems:?}"),
                        ));
                    }
                    if settings.id.as_str() != channel_id {
                        out.push(violation(
                            CHECK,
                            subject,
                            format!(
                                "CHANNEL_SETTINGS id {} is not the ChannelId {channel_id}",
                                settings.id.as_str()
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The state table as `shared/ports/src/records.rs` and `adapters-aws` use it.
pub fn check_table(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "table";
    let Some(id) = state_table_id(stack) else {
        return vec![violation(
            CHECK,
            "TABLE_NAME",
            "does not reference a DynamoDB table of this template",
        )];
    };
    let mut out = Vec::new();
    let Some(props) = stack.template.resource(&id).and_then(|r| r.get("Properties")) else {
        return vec![violation(CHECK, &id, "has no Properties")];
    };
    let expect = |pointer: &str, want: Value, out: &mut Vec<Violation>| {
        if props.pointer(pointer) != Some(&want) {
            out.push(violation(
                CHECK,
                &id,
                format!("{pointer} is {:?}, want {want}", props.pointer(pointer)),
            ));
        }
    };
    let attrs: BTreeMap<String, String> = props
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                a.get("AttributeName")?.as_str()?.to_owned(),
                a.get("AttributeType")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    for name in ["pk", "sk", "gsi1pk", "gsi1sk"] {
        if attrs.get(name).map(String::as_str) != Some("S") {
            out.push(violation(
                CHECK,
                &id,
                format!("attribute {name} must be defined as S"),
            ));
        }
    }
    expect(
        "/KeySchema",
        serde_json::json!([{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]),
        &mut out,
    );
    let index = props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .and_then(|gsis| {
            gsis.iter()
                .find(|g| g.get("IndexName").and_then(Value::as_str) == Some("status-index"))
        });
    match index {
        None => out.push(violation(CHECK, &id, "no GSI named status-index")),
        Some(gsi) => {
            if gsi.get("KeySchema")
                != Some(
                    &serde_json::json!([{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]),
                )
            {
                out.push(violation(
                    CHECK,
                    &id,
                    "status-index must be keyed gsi1pk (HASH) / gsi1sk (RANGE)",
                ));
            }
            // Only what the store reads back: projecting ALL would copy every attribute of every
            // indexed item, whatever is added to the table later.
            let projected: Option<Vec<&str>> = gsi
                .pointer("/Projection/NonKeyAttributes")
                .and_then(Value::as_array)
                .and_then(|list| list.iter().map(Value::as_str).collect());
            let wanted = ports::state::STATUS_INDEX_ATTRIBUTES;
            if gsi.pointer("/Projection/ProjectionType").and_then(Value::as_str) != Some("INCLUDE")
                || projected.is_none_or(|p| p.len() != wanted.len() || !wanted.iter().all(|w| p.contains(w)))
            {
                out.push(violation(
                    CHECK,
                    &id,
                    format!(
                        "status-index must project INCLUDE {wanted:?} (what the store reads from an \
                         index query), not ALL or more"
                    ),
                ));
            }
        }
    }
    expect("/BillingMode", Value::from("PAY_PER_REQUEST"), &mut out);
    expect(
        "/TimeToLiveSpecification",
        serde_json::json!({"AttributeName": "expires_at", "Enabled": true}),
        &mut out,
    );
    expect(
        "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        Value::Bool(true),
        &mut out,
    );
    match props.get("DeletionProtectionEnabled") {
        Some(v) if v.get("Fn::If").is_some() || v.get("Ref").is_some() => {}
        other => out.push(violation(
            CHECK,
            &id,
            format!("DeletionProtectionEnabled must come from a parameter, found {other:?}"),
        )),
    }
    out
}

/// Alarms on every dead-letter queue, on every function's errors and throttles, and on orders stuck
/// before creation, all sent to the alarm topic parameter.
pub fn check_alarms(stack: &Stack) -> Vec<Violation> {
    const CHECK: &str = "alarms";
    let mut out = Vec::new();
    let alarms: Vec<(&str, &Value)> = stack
        .template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .filter_map(|(id, r)| Some((id, r.get("Properties")?)))
        .collect();
    let watching = |namespace: &str, metric: &str, dimension: &str, target: &dyn Fn(&Value) -> bool| {
        alarms.iter().any(|(_, p)| {
            p.get("Namespace").and_then(Value::as_str) == Some(namespace)
                && p.get("MetricName").and_then(Value::as_str) == Some(metric)
                && p.get("Dimensions").and_then(Value::as_array).is_some_and(|dims| {
                    dims.iter().any(|d| {
                        d.get("Name").and_then(Value::as_str) == Some(dimension)
                            && d.get("Value").is_some_and(target)
                    })
                })
        })
    };

    // Dead-letter queues: redrive targets and schedule dead-letter targets.
    let mut dead_letter_queues: BTreeSet<String> = stack
        .queues
        .values()
        .filter_map(|q| q.redrive.as_ref()?.dead_letter_queue.clone())
        .collect();
    for f in &stack.functions {
        for s in &f.schedules {
            if let Some(dlq) = s
                .dead_letter
                .as_ref()
                .and_then(|d| d.get("Arn"))
                .and_then(referenced_id)
            {
                dead_letter_queues.insert(dlq);
            }
        }
    }
    for dlq in &dead_letter_queues {
        let is_queue = stack
            .template
            .resource(dlq)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            == Some(QUEUE_TYPE);
        if is_queue
            && !watching(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                &|v| referenced_id(v).as_deref() == Some(dlq.as_str()),
            )
        {
            out.push(violation(
                CHECK,
                dlq,
                "dead-letter queue without an alarm on its messages",
            ));
        }
    }
    for f in &stack.functions {
        for metric in ["Errors", "Throttles"] {
            if !watching("AWS/Lambda", metric, "FunctionName", &|v| {
                referenced_id(v).as_deref() == Some(f.logical_id.as_str())
            }) {
                out.push(violation(CHECK, &f.logical_id, format!("no alarm on {metric}")));
            }
        }
    }
    if !watching("ChannelManager", "OrdersPendingCreation", "Channel", &|v| {
        v.get("Ref").and_then(Value::as_str) == Some("ChannelId")
    }) {
        out.push(violation(
            CHECK,
            "OrdersPendingCreation",
            "no \"orders stuck\" alarm on ChannelManager/OrdersPendingCreation by Channel",
        ));
    }
    for (id, p) in &alarms {
        let actions = p.get("AlarmActions").map(Value::to_string).unwrap_or_default();
        if !actions.contains("AlarmTopicArn") {
            out.push(violation(
                CHECK,
                *id,
                "AlarmActions must notify the AlarmTopicArn parameter",
            ));
        }
    }
    out
}
