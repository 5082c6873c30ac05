//! The `alert` actions (`tools/alert.toml`) (and the alert services) build exactly the expected middleware calls,
//! name the right methods, and keep the reference's gates and texts.

use serde_json::{Value, json};

use super::test_support::*;

/// (action, arguments, expected positional params).
fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        ("alert_list", json!({}), json!([])),
        ("alert_dismiss", json!({"uuid": "u1"}), json!(["u1"])),
        ("alert_restore", json!({"uuid": "u1"}), json!(["u1"])),
        ("alert_categories", json!({}), json!([])),
        ("alert_policies", json!({}), json!([])),
        ("alertservice_list", json!({}), json!([])),
        (
            "alertservice_create",
            json!({"name": "m", "type": "Mail", "attributes": {"email": "a@b.c"}, "level": "WARNING"}),
            json!([{"name": "m", "attributes": {"email": "a@b.c", "type": "Mail"}, "level": "WARNING"}]),
        ),
        (
            "alertservice_update",
            json!({"id": 2, "name": "m", "type": "Mail", "attributes": {}, "level": "INFO", "enabled": false}),
            json!([2, {"name": "m", "attributes": {"type": "Mail"}, "enabled": false, "level": "INFO"}]),
        ),
        ("alertservice_delete", json!({"id": 2}), json!([2])),
        (
            "alertservice_test",
            json!({"name": "s", "type": "Slack", "attributes": {"url": "https://x"}, "level": "INFO"}),
            json!([{"name": "s", "attributes": {"url": "https://x", "type": "Slack"}, "level": "INFO"}]),
        ),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds(&catalog, "alert", &cases());
}

#[test]
fn the_category_holds_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<String> =
        catalog.category("alert").unwrap().actions.iter().map(|a| a.as_str().to_string()).collect();
    assert_eq!(names.len(), 10);
}

#[test]
fn methods_that_are_not_obvious() {
    let catalog = builtin();
    let method = |a: &str| catalog.action(a).map(|d| d.method.as_str().to_string()).unwrap_or_default();
    for (action, expected) in
        [("alert_categories", "alert.list_categories"), ("alertservice_list", "alertservice.query")]
    {
        assert_eq!(method(action), expected, "{action}");
    }
    let jobs = jobs_of(&catalog, "alert");
    assert!(jobs.is_empty(), "{jobs:?}");
}

#[test]
fn the_gated_actions_keep_the_reference_refusals_and_are_destructive() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "alert");
    assert!(gated.is_empty(), "{gated:?}");
    let destructive: Vec<&str> = destructive_of(&catalog, "alert");
    assert!(destructive.is_empty(), "{destructive:?}");
}
