//! The `audit` actions (`tools/audit.toml`) build exactly the expected middleware calls and keep
//! the reference's gates.

use serde_json::{Value, json};

use super::test_support::*;

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
        ("audit_query", json!({}), "audit.query", json!([{"query-filters": [], "query-options": {}}])),
        (
            "audit_query",
            json!({"services": ["SMB"], "query_filters": [["username", "=", "bob"]], "query_options": {"limit": 5}}),
            "audit.query",
            json!([{"services": ["SMB"], "query-filters": [["username", "=", "bob"]], "query-options": {"limit": 5}}]),
        ),
        ("audit_config", json!({}), "audit.config", json!([])),
        ("audit_config_update", json!({"retention": 20}), "audit.update", json!([{"retention": 20}])),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        assert_builds(&catalog, name, Some(method), &args, &expected);
    }
    assert_every_action_has_a_case(&catalog, &["audit"], |name| cases().iter().any(|(n, ..)| *n == name));
}

#[test]
fn the_category_has_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<&str> = catalog.category("audit").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(names, ["audit_query", "audit_config", "audit_config_update"]);
}

#[test]
fn gated_actions_keep_the_reference_refusal_texts() {
    let catalog = builtin();
    let gated = gates_of(&catalog, "audit");
    assert!(gated.is_empty(), "{gated:?}");
}

#[test]
fn job_methods_are_the_long_running_ones() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "audit");
    assert!(jobs.is_empty(), "{jobs:?}");
}

#[test]
fn every_method_exists_on_every_release_it_is_not_routed_away_from() {
    assert_methods_exist_where_not_routed(&builtin(), "audit");
}

#[test]
fn the_retention_is_bounded_and_unknown_keys_are_refused() {
    let catalog = builtin();
    let audit = catalog.action("audit_config_update").unwrap();
    assert!(audit.check_and_build_params(&object(json!({"retention": 31}))).is_err());
    assert!(audit.check_and_build_params(&object(json!({"bogus": 1}))).is_err(), "unknown keys are refused");
}
