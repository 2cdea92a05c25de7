//! Each role's table actions follow from the store calls its operation declares: a copy of the real
//! template with an action taken away, or one added, fails `infra/checks` saying which and why.

use serde_json::Value;

use infra_checks::{Stack, Template, Violation, check_all, function_crates, load_stack, workspace_root};

/// The violations of the real template after changing the action list of `role`'s table statement.
fn violations_with_table_actions(role: &str, change: impl FnOnce(&mut Vec<Value>)) -> Vec<Violation> {
    let mut document = load_stack()
        .unwrap_or_else(|e| panic!("cannot load infra/template.yaml: {e}"))
        .template
        .document;
    let statements = document
        .pointer_mut(&format!(
            "/Resources/{role}/Properties/Policies/0/PolicyDocument/Statement"
        ))
        .and_then(Value::as_array_mut)
        .unwrap_or_else(|| panic!("{role} has no inline statements"));
    let actions = statements
        .iter_mut()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some("State"))
        .and_then(|s| s.get_mut("Action"))
        .and_then(Value::as_array_mut)
        .unwrap_or_else(|| panic!("{role} has no State statement with an action list"));
    change(actions);
    let crates = function_crates(&workspace_root()).expect("cannot list functions/");
    check_all(&Stack::from_template(Template { document }), &crates)
}

fn table_action_messages(violations: &[Violation], subject: &str) -> Vec<String> {
    violations
        .iter()
        .filter(|v| v.check == "table-actions" && v.subject == subject)
        .map(|v| v.message.clone())
        .collect()
}

#[test]
fn an_action_an_operation_uses_removed_from_its_role_is_caught() {
    // listing-match records its feeds with put_many: a BatchWriteItem.
    let violations = violations_with_table_actions("ListingMatchRole", |actions| {
        actions.retain(|a| a.as_str() != Some("dynamodb:BatchWriteItem"));
    });
    assert_eq!(
        table_action_messages(&violations, "ListingMatchFunction"),
        vec![
            "role lacks dynamodb:BatchWriteItem, which listing-match needs for its store calls put_many \
             (AccessDenied on AWS)"
                .to_owned()
        ],
        "{violations:#?}"
    );

    // order-create's claims are PutItem (claim, complete).
    let violations = violations_with_table_actions("OrderCreateRole", |actions| {
        actions.retain(|a| a.as_str() != Some("dynamodb:PutItem"));
    });
    assert_eq!(
        table_action_messages(&violations, "OrderCreateFunction"),
        vec![
            "role lacks dynamodb:PutItem, which order-create needs for its store calls claim, complete \
             (AccessDenied on AWS)"
                .to_owned()
        ],
        "{violations:#?}"
    );
}

#[test]
fn an_action_no_store_call_needs_is_caught() {
    let violations = violations_with_table_actions("ReturnsSyncRole", |actions| {
        actions.push(Value::from("dynamodb:ConditionCheckItem"));
    });
    let messages = table_action_messages(&violations, "ReturnsSyncFunction");
    assert_eq!(messages.len(), 1, "{violations:#?}");
    assert!(
        messages[0].starts_with(
            "role allows dynamodb:ConditionCheckItem, which none of returns-sync's store calls needs"
        ),
        "{messages:?}"
    );
}

#[test]
fn every_function_is_granted_exactly_what_its_store_calls_need() {
    let violations = violations_with_table_actions("CatalogImportRole", |_| {});
    let table: Vec<&Violation> = violations.iter().filter(|v| v.check == "table-actions").collect();
    assert!(table.is_empty(), "{table:#?}");
}
