//! The template is held to the topology each function declares (`operations::declaration`: the
//! queue it consumes, whether it runs on a schedule, its Function URL, the queues it sends to): a
//! copy of the real template with a queue missing, a queue too many, a wrong schedule or an
//! undeclared Function URL fails with a message naming the function and its declaration.

use serde_json::{Value, json};

use infra_checks::{Stack, Template, Violation, check_all, function_crates, load_stack, workspace_root};

fn violations_after(change: impl FnOnce(&mut Value)) -> Vec<Violation> {
    let mut document = load_stack()
        .unwrap_or_else(|e| panic!("cannot load infra/template.yaml: {e}"))
        .template
        .document;
    change(&mut document);
    let crates = function_crates(&workspace_root()).expect("cannot list functions/");
    check_all(&Stack::from_template(Template { document }), &crates)
}

fn messages(violations: &[Violation], check: &str, subject: &str) -> Vec<String> {
    violations
        .iter()
        .filter(|v| v.check == check && v.subject == subject)
        .map(|v| v.message.clone())
        .collect()
}

fn statements<'a>(document: &'a mut Value, role: &str) -> &'a mut Vec<Value> {
    document
        .pointer_mut(&format!(
            "/Resources/{role}/Properties/Policies/0/PolicyDocument/Statement"
        ))
        .and_then(Value::as_array_mut)
        .unwrap_or_else(|| panic!("{role} has no inline statements"))
}

fn events<'a>(document: &'a mut Value, function: &str) -> &'a mut serde_json::Map<String, Value> {
    document
        .pointer_mut(&format!("/Resources/{function}/Properties/Events"))
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{function} has no events"))
}

#[test]
fn a_missing_queue_is_caught() {
    // order-create consumes its queue; order-import sends to it.
    let v = violations_after(|d| {
        events(d, "OrderCreateFunction").remove("Queue");
        statements(d, "OrderImportRole").retain(|s| s.get("Sid") != Some(&json!("SendToQueues")));
    });
    assert_eq!(
        messages(&v, "queue-wiring", "OrderCreateFunction"),
        vec!["consumes [], but the declaration of order-create says `consumes: Some(\"OrderCreateQueue\")`"],
        "{v:#?}"
    );
    assert_eq!(
        messages(&v, "queue-wiring", "OrderImportFunction"),
        vec!["may send to {}, but the declaration of order-import says `sends_to: {\"OrderCreateQueue\"}`"],
        "{v:#?}"
    );
}

#[test]
fn an_extra_queue_is_caught() {
    // price-sync sends to no queue, and reads no other queue's URL.
    let v = violations_after(|d| {
        statements(d, "PriceSyncRole").push(json!({
            "Sid": "SendToQueues",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["InventorySyncQueue", "Arn"]}
        }));
        d.pointer_mut("/Resources/PriceSyncFunction/Properties/Environment/Variables")
            .and_then(Value::as_object_mut)
            .expect("PriceSyncFunction's variables")
            .insert(
                "INVENTORY_SYNC_QUEUE_URL".to_owned(),
                json!({"Ref": "InventorySyncQueue"}),
            );
    });
    assert_eq!(
        messages(&v, "queue-wiring", "PriceSyncFunction"),
        vec![
            "may send to {\"InventorySyncQueue\"}, but the declaration of price-sync says `sends_to: {}`",
            "has INVENTORY_SYNC_QUEUE_URL but neither sends to nor consumes inventory-sync",
        ],
        "{v:#?}"
    );
}

#[test]
fn a_wrong_schedule_is_caught() {
    let v = violations_after(|d| {
        // shipment-sync runs on a schedule; order-create only from its queue.
        let schedule = events(d, "ShipmentSyncFunction")
            .remove("Schedule")
            .expect("shipment-sync's schedule");
        events(d, "OrderCreateFunction").insert("Schedule".to_owned(), schedule);
    });
    assert_eq!(
        messages(&v, "schedules", "ShipmentSyncFunction"),
        vec!["has no schedule, but the declaration of shipment-sync says `scheduled: true`"],
        "{v:#?}"
    );
    let order_create = messages(&v, "schedules", "OrderCreateFunction");
    assert!(
        order_create
            .iter()
            .any(|m| m == "has a schedule, but the declaration of order-create says `scheduled: false`"),
        "{v:#?}"
    );
}

#[test]
fn an_undeclared_function_url_is_caught() {
    // No function declares a Function URL today.
    let v = violations_after(|d| {
        d.pointer_mut("/Resources/OrderImportFunction/Properties")
            .and_then(Value::as_object_mut)
            .expect("OrderImportFunction's properties")
            .insert("FunctionUrlConfig".to_owned(), json!({"AuthType": "NONE"}));
    });
    assert_eq!(
        messages(&v, "function-urls", "OrderImportFunction"),
        vec![
            "has a Function URL (AuthType NONE), but the declaration of order-import says `function_url: None`"
        ],
        "{v:#?}"
    );
}
