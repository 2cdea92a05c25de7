//! The real template passes every check, and each check catches the mistake it exists for (each
//! negative test breaks one thing in a copy of the real template).

use std::time::Duration;

use serde_json::{Value, json};

use domain::Operation;
use infra_checks::delays::{markdown_table, secs, timings};
use infra_checks::{Stack, Template, Violation, check_all, function_crates, load_stack, workspace_root};

fn stack() -> Stack {
    load_stack().unwrap_or_else(|e| panic!("cannot load infra/template.yaml: {e}"))
}

fn crates() -> Vec<String> {
    function_crates(&workspace_root()).expect("cannot list functions/")
}

/// The violations of the real template after `change`.
fn violations_after(change: impl FnOnce(&mut Value)) -> Vec<Violation> {
    let mut document = stack().template.document;
    change(&mut document);
    check_all(&Stack::from_template(Template { document }), &crates())
}

fn assert_caught(violations: &[Violation], check: &str, subject: &str, fragment: &str) {
    assert!(
        violations
            .iter()
            .any(|v| v.check == check && v.subject.contains(subject) && v.message.contains(fragment)),
        "expected a [{check}] violation on {subject} mentioning {fragment:?}; got:\n{}",
        render(violations)
    );
}

/// The message for an operation over its delay, with the delay from the domain (never restated here).
fn delay_exceeded(op: Operation) -> String {
    format!("exceeds the delay of {}", secs(op.target_delay()))
}

fn render(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("  {v}\n")).collect()
}

fn resource<'a>(document: &'a mut Value, id: &str) -> &'a mut Value {
    document
        .pointer_mut(&format!("/Resources/{id}"))
        .unwrap_or_else(|| panic!("no resource {id}"))
}

#[test]
fn the_template_passes_every_check() {
    let stack = stack();
    let violations = check_all(&stack, &crates());
    let (timings, _) = timings(&stack);
    println!("{}", markdown_table(&timings));
    assert!(
        violations.is_empty(),
        "infra/template.yaml:\n{}",
        render(&violations)
    );
}

#[test]
fn every_function_crate_and_every_operation_is_deployed() {
    let stack = stack();
    let crates = crates();
    // One per declared function: the operations, the dashboard (infra_checks::dashboard) and the
    // walmart-events receiver (infra_checks::receiver).
    assert_eq!(
        crates.len(),
        operations::registry::FUNCTIONS.len(),
        "functions/: {crates:?}"
    );
    assert!(
        stack
            .function_for_binary(infra_checks::dashboard::BINARY)
            .is_some()
    );
    for op in Operation::ALL {
        let f = stack
            .function_for_binary(op.function_name())
            .unwrap_or_else(|| panic!("no resource for {}", op.function_name()));
        assert!(f.timeout.is_some() && f.memory_mb.is_some(), "{}", f.logical_id);
    }
}

#[test]
fn every_operation_is_timed_against_its_own_delay_from_the_domain() {
    let (timings, gaps) = timings(&stack());
    assert!(gaps.is_empty(), "{gaps:?}");
    assert_eq!(timings.len(), Operation::ALL.len());
    for (t, op) in timings.iter().zip(Operation::ALL) {
        assert_eq!(t.operation, op);
        assert_eq!(t.bound, op.target_delay());
        assert_eq!(t.documented, op.documented_delay().is_some());
        assert!(t.worst_case() > Duration::ZERO && t.within_bound(), "{t:?}");
    }
}

#[test]
fn order_create_counts_its_queue_hop_and_one_retry() {
    let (timings, _) = timings(&stack());
    let t = timings
        .iter()
        .find(|t| t.operation == Operation::OrderCreate)
        .expect("order-create timed");
    let stack = stack();
    let f = stack.function_for_binary("order-create").expect("function");
    let queue = stack.queue("OrderCreateQueue").expect("queue");
    let window = f.queue_triggers[0].batching_window;
    assert_eq!(
        t.worst_case(),
        window + queue.visibility_timeout + f.timeout.expect("timeout")
    );
}

#[test]
fn a_schedule_too_slow_for_its_delay_is_caught() {
    let v = violations_after(|d| {
        resource(d, "OrderImportFunction")["Properties"]["Events"]["Schedule"]["Properties"]["ScheduleExpression"] =
            json!("rate(30 minutes)");
    });
    assert_caught(
        &v,
        "delays",
        "order-import",
        &delay_exceeded(Operation::OrderImport),
    );
}

#[test]
fn a_timeout_too_long_for_its_delay_is_caught() {
    let v = violations_after(|d| {
        resource(d, "ShipmentSyncFunction")["Properties"]["Timeout"] = json!(200);
    });
    assert_caught(
        &v,
        "delays",
        "shipment-sync",
        &delay_exceeded(Operation::ShipmentSync),
    );
}

#[test]
fn a_flexible_time_window_counts_against_the_delay() {
    let v = violations_after(|d| {
        resource(d, "CancellationSyncFunction")["Properties"]["Events"]["Schedule"]["Properties"]["FlexibleTimeWindow"] =
            json!({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5});
    });
    assert_caught(&v, "delays", "cancellation-sync", "exceeds the delay");
}

#[test]
fn a_queue_hop_on_the_path_counts_against_the_delay() {
    // catalog-import's fan-out: schedule + timeout + window + timeout.
    let v = violations_after(|d| {
        resource(d, "CatalogImportFunction")["Properties"]["Events"]["Queue"]["Properties"]["MaximumBatchingWindowInSeconds"] =
            json!(120);
    });
    assert_caught(&v, "delays", "catalog-import", "CatalogImportQueue window 120 s");
}

#[test]
fn a_retry_that_no_longer_fits_is_caught() {
    let v = violations_after(|d| {
        resource(d, "OrderCreateFunction")["Properties"]["Timeout"] = json!(60);
        resource(d, "OrderCreateQueue")["Properties"]["VisibilityTimeout"] = json!(360);
    });
    assert_caught(&v, "delays", "order-create", "one retry after visibility 360 s");
}

#[test]
fn a_visibility_timeout_under_six_timeouts_is_caught() {
    let v = violations_after(|d| {
        resource(d, "InventorySyncQueue")["Properties"]["VisibilityTimeout"] = json!(300);
    });
    assert_caught(&v, "queues", "InventorySyncQueue", "under 6 x");
}

#[test]
fn a_queue_trigger_without_batch_item_failures_is_caught() {
    let v = violations_after(|d| {
        let props = &mut resource(d, "OrderCreateFunction")["Properties"]["Events"]["Queue"]["Properties"];
        props
            .as_object_mut()
            .expect("map")
            .remove("FunctionResponseTypes");
    });
    assert_caught(&v, "queues", "OrderCreateFunction", "ReportBatchItemFailures");
}

#[test]
fn a_consumed_queue_without_a_dead_letter_queue_is_caught() {
    let v = violations_after(|d| {
        resource(d, "PriceSyncQueue")["Properties"]
            .as_object_mut()
            .expect("map")
            .remove("RedrivePolicy");
    });
    assert_caught(&v, "queues", "PriceSyncQueue", "no RedrivePolicy");
}

#[test]
fn a_dead_letter_after_one_receive_is_caught() {
    let v = violations_after(|d| {
        resource(d, "ListingMatchQueue")["Properties"]["RedrivePolicy"]["maxReceiveCount"] = json!(1);
    });
    assert_caught(&v, "queues", "ListingMatchQueue", "more than 1");
}

#[test]
fn receives_that_end_before_a_killed_holders_claim_are_caught() {
    // A 5 s function killed mid-placement holds its claim 5 s + Commerce's 30 s settle time; one
    // more receive after a 30 s visibility timeout comes too early.
    let v = violations_after(|d| {
        resource(d, "OrderCreateFunction")["Properties"]["Timeout"] = json!(5);
        let queue = &mut resource(d, "OrderCreateQueue")["Properties"];
        queue["VisibilityTimeout"] = json!(30);
        queue["RedrivePolicy"]["maxReceiveCount"] = json!(2);
    });
    assert_caught(&v, "queues", "OrderCreateQueue", "holder's claim");
}

#[test]
fn wildcard_actions_and_resources_are_caught() {
    let v = violations_after(|d| {
        let statements =
            resource(d, "ReturnsSyncRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                .as_array_mut()
                .expect("statements");
        statements.push(json!({"Sid": "Lazy", "Effect": "Allow", "Action": "dynamodb:*", "Resource": {"Fn::GetAtt": ["StateTable", "Arn"]}}));
        statements.push(
            json!({"Sid": "Everything", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
        );
    });
    assert_caught(
        &v,
        "least-privilege",
        "ReturnsSyncFunction Lazy",
        "wildcard action \"dynamodb:*\"",
    );
    assert_caught(
        &v,
        "least-privilege",
        "ReturnsSyncFunction Everything",
        "Resource \"*\"",
    );
    assert_caught(
        &v,
        "table-actions",
        "ReturnsSyncFunction",
        "role allows dynamodb:*",
    );
}

#[test]
fn a_function_without_its_own_role_or_with_policy_templates_is_caught() {
    let v = violations_after(|d| {
        let props = resource(d, "PriceSyncFunction")["Properties"]
            .as_object_mut()
            .expect("map");
        props.remove("Role");
        props.insert(
            "Policies".into(),
            json!([{"DynamoDBCrudPolicy": {"TableName": {"Ref": "StateTable"}}}]),
        );
    });
    assert_caught(&v, "least-privilege", "PriceSyncFunction", "explicit Role");
    assert_caught(&v, "least-privilege", "PriceSyncFunction", "DynamoDBCrudPolicy");
}

#[test]
fn a_send_grant_the_topology_does_not_have_is_caught() {
    let v = violations_after(|d| {
        resource(d, "OrderImportRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["PriceSyncQueue", "Arn"]}}));
    });
    assert_caught(&v, "queue-wiring", "OrderImportFunction", "may send to");
}

#[test]
fn a_missing_queue_url_is_caught() {
    let v = violations_after(|d| {
        resource(d, "OrderImportFunction")["Properties"]["Environment"]["Variables"]
            .as_object_mut()
            .expect("map")
            .remove("ORDER_CREATE_QUEUE_URL");
    });
    assert_caught(
        &v,
        "queue-wiring",
        "OrderImportFunction",
        "has no ORDER_CREATE_QUEUE_URL",
    );
}

#[test]
fn a_crate_without_a_resource_and_a_resource_without_a_crate_are_caught() {
    let mut document = stack().template.document;
    let resources = document["Resources"].as_object_mut().expect("resources");
    resources.remove("ReturnsSyncFunction");
    let mut ghost = resources["PriceSyncFunction"].clone();
    ghost["Metadata"]["BuildProperties"]["Binary"] = json!("ghost-sync");
    resources.insert("GhostSyncFunction".into(), ghost);
    let v = check_all(&Stack::from_template(Template { document }), &crates());
    assert_caught(
        &v,
        "function-crates",
        "functions/returns-sync",
        "no AWS::Serverless::Function",
    );
    assert_caught(
        &v,
        "function-crates",
        "GhostSyncFunction",
        "functions/ghost-sync does not exist",
    );

    let mut with_extra_crate = crates();
    with_extra_crate.push("refund-sync".into());
    let v = check_all(&stack(), &with_extra_crate);
    assert_caught(
        &v,
        "function-crates",
        "functions/refund-sync",
        "no AWS::Serverless::Function",
    );
}

#[test]
fn a_scheduled_operation_without_its_timer_or_its_dead_letter_queue_is_caught() {
    let v = violations_after(|d| {
        let events = resource(d, "ShipmentSyncFunction")["Properties"]["Events"]
            .as_object_mut()
            .expect("events");
        events.remove("Schedule");
    });
    assert_caught(&v, "schedules", "ShipmentSyncFunction", "has no schedule");
    let v = violations_after(|d| {
        resource(d, "ReturnsSyncFunction")["Properties"]["Events"]["Schedule"]["Properties"]
            .as_object_mut()
            .expect("map")
            .remove("DeadLetterConfig");
    });
    assert_caught(&v, "schedules", "ReturnsSyncFunction", "no DeadLetterConfig");
}

#[test]
fn credentials_outside_the_secret_are_caught() {
    let v = violations_after(|d| {
        d["Parameters"]["WalmartClientSecret"] = json!({"Type": "String", "Default": "changeme"});
        d["Globals"]["Function"]["Environment"]["Variables"]["WALMART_CLIENT_SECRET"] =
            json!({"Ref": "WalmartClientSecret"});
    });
    assert_caught(&v, "environment", "WalmartClientSecret", "must not be parameters");
    assert_caught(
        &v,
        "environment",
        "OrderCreateFunction",
        "WALMART_CLIENT_SECRET looks like a credential",
    );
}

#[test]
fn settings_that_do_not_parse_are_caught() {
    let v = violations_after(|d| {
        d["Globals"]["Function"]["Environment"]["Variables"]["CHANNEL_SETTINGS"] =
            json!({"Fn::Sub": "{\"channel\":\"${ChannelId}\"}"});
    });
    assert_caught(&v, "channel-settings", "CatalogImportFunction", "does not parse");
}

#[test]
fn a_table_unlike_the_store_is_caught() {
    let v = violations_after(|d| {
        let props = &mut resource(d, "StateTable")["Properties"];
        props["TimeToLiveSpecification"]["AttributeName"] = json!("ttl");
        props["GlobalSecondaryIndexes"][0]["Projection"]["ProjectionType"] = json!("KEYS_ONLY");
        props["DeletionProtectionEnabled"] = json!(false);
    });
    assert_caught(&v, "table", "StateTable", "TimeToLiveSpecification");
    assert_caught(&v, "table", "StateTable", "must project INCLUDE");
    assert_caught(&v, "table", "StateTable", "from a parameter");
}

#[test]
fn an_index_projecting_all_or_more_is_caught() {
    let all = violations_after(|d| {
        let props = &mut resource(d, "StateTable")["Properties"];
        props["GlobalSecondaryIndexes"][0]["Projection"] = json!({"ProjectionType": "ALL"});
    });
    assert_caught(&all, "table", "StateTable", "not ALL or more");
    let more = violations_after(|d| {
        let props = &mut resource(d, "StateTable")["Properties"];
        props["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] =
            json!(["body", "version", "expires_at", "data"]);
    });
    assert_caught(&more, "table", "StateTable", "not ALL or more");
}

/// The role's `State` statement of `role`.
fn state_statement<'a>(document: &'a mut Value, role: &str) -> &'a mut Value {
    resource(document, role)["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .expect("statements")
        .iter_mut()
        .find(|s| s["Sid"] == "State")
        .unwrap_or_else(|| panic!("{role} has no State statement"))
}

#[test]
fn a_role_without_a_key_condition_is_caught() {
    let v = violations_after(|d| {
        state_statement(d, "PriceSyncRole")
            .as_object_mut()
            .expect("statement")
            .remove("Condition");
    });
    assert_caught(
        &v,
        "state-access",
        "PriceSyncFunction",
        "without a ForAllValues:StringLike",
    );
    // Conditioned, but on a key prefix its operation does not use.
    let v = violations_after(|d| {
        let condition = &mut state_statement(d, "OrderCreateRole")["Condition"];
        condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_array_mut()
            .expect("patterns")
            .push(json!({"Fn::Sub": "CH#${ChannelId}#LISTING*"}));
    });
    assert_caught(&v, "state-access", "OrderCreateFunction", "dynamodb:LeadingKeys");
}

#[test]
fn a_catalog_role_that_can_read_orders_is_caught() {
    let v = violations_after(|d| {
        let condition = &mut state_statement(d, "CatalogImportRole")["Condition"];
        condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] =
            json!([{"Fn::Sub": "CH#${ChannelId}#*"}]);
    });
    assert_caught(
        &v,
        "state-access",
        "CatalogImportFunction",
        "dynamodb:LeadingKeys",
    );
    let v = violations_after(|d| {
        let condition = &mut state_statement(d, "InventorySyncRole")["Condition"];
        condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_array_mut()
            .expect("patterns")
            .push(json!({"Fn::Sub": "CH#${ChannelId}#ORDER*"}));
    });
    assert_caught(&v, "state-access", "InventorySyncFunction", "may not reach");
}

#[test]
fn missing_alarms_are_caught() {
    let v = violations_after(|d| {
        let resources = d["Resources"].as_object_mut().expect("resources");
        resources.remove("OrderCreateDeadLetterAlarm");
        resources.remove("OrdersStuckAlarm");
        resources.remove("OrderImportThrottlesAlarm");
    });
    assert_caught(&v, "alarms", "OrderCreateDeadLetterQueue", "without an alarm");
    assert_caught(&v, "alarms", "OrdersPendingCreation", "orders stuck");
    assert_caught(&v, "alarms", "OrderImportFunction", "no alarm on Throttles");
}

#[test]
fn the_readme_shows_the_current_delay_table() {
    let path = workspace_root().join("infra/README.md");
    let readme = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (timings, _) = timings(&stack());
    let table = markdown_table(&timings);
    assert!(
        readme.contains(&table),
        "infra/README.md's delay table is out of date; replace it with:\n{table}"
    );
}

#[test]
fn the_dashboards_privileges_beyond_its_code_are_caught() {
    let statements = |document: &mut Value| -> Vec<Value> {
        resource(document, "DashboardRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .cloned()
            .unwrap()
    };
    let set = |document: &mut Value, list: Vec<Value>| {
        resource(document, "DashboardRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] =
            Value::Array(list);
    };
    // Reaching the operations' idempotency records.
    let v = violations_after(|d| {
        let mut list = statements(d);
        let state = list.iter_mut().find(|s| s["Sid"] == "State").unwrap();
        state["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Fn::Sub": "IDEMPOTENCY#*"}));
        set(d, list);
    });
    assert_caught(&v, "dashboard", "DashboardFunction", "LeadingKeys");
    // Deleting items, which none of its store calls does.
    let v = violations_after(|d| {
        let mut list = statements(d);
        let state = list.iter_mut().find(|s| s["Sid"] == "State").unwrap();
        state["Action"]
            .as_array_mut()
            .unwrap()
            .push(json!("dynamodb:DeleteItem"));
        set(d, list);
    });
    assert_caught(&v, "dashboard", "DashboardFunction", "STORE_CALLS");
    // Taking the operations' work from their queues.
    let v = violations_after(|d| {
        let mut list = statements(d);
        let redrive = list
            .iter_mut()
            .find(|s| s["Sid"] == "RedriveDeadLetters")
            .unwrap();
        redrive["Resource"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Fn::GetAtt": ["OrderCreateQueue", "Arn"]}));
        set(d, list);
    });
    assert_caught(&v, "dashboard", "DashboardFunction", "sqs:ReceiveMessage");
    // Another function reading the login secret.
    let v = violations_after(|d| {
        let role = resource(d, "OrderImportRole");
        role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Sid": "Login", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "DashboardLoginSecret"}}));
    });
    assert_caught(&v, "dashboard", "OrderImportFunction", "login secret");
    // No URL.
    let v = violations_after(|d| {
        resource(d, "DashboardFunction")["Properties"]
            .as_object_mut()
            .unwrap()
            .remove("FunctionUrlConfig");
    });
    assert_caught(&v, "dashboard", "DashboardFunction", "FunctionUrlConfig");
}

/// The walmart-events receiver is held to its declaration: a public Function URL, the URLs of the
/// queues it sends to, and no state table.
#[test]
fn the_receiver_is_held_to_its_declaration() {
    let v = violations_after(|d| {
        let props = &mut resource(d, "WalmartEventsFunction")["Properties"];
        props["FunctionUrlConfig"]["AuthType"] = json!("AWS_IAM");
        props["Environment"]["Variables"]
            .as_object_mut()
            .expect("variables")
            .remove("WALMART_CANCEL_EVENTS_QUEUE_URL");
        resource(d, "WalmartEventsRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(json!({
                "Effect": "Allow", "Action": "dynamodb:GetItem",
                "Resource": {"Fn::GetAtt": ["StateTable", "Arn"]}
            }));
    });
    assert_caught(&v, "function-urls", "WalmartEventsFunction", "says NONE");
    assert_caught(
        &v,
        "queue-wiring",
        "WalmartEventsFunction",
        "WALMART_CANCEL_EVENTS_QUEUE_URL",
    );
    assert_caught(&v, "other-functions", "WalmartEventsFunction", "dynamodb:getitem");
}
