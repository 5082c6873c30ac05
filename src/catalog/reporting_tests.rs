//! The `reporting` actions (`tools/reporting.toml`) build exactly the expected middleware calls
//! and keep the reference's gates.

use serde_json::{Value, json};

use super::test_support::*;

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
        ("reporting_config", json!({}), "reporting.config", json!([])),
        ("reporting_graphs", json!({}), "reporting.graphs", json!([])),
        (
            "reporting_get_data",
            json!({"graphs": [{"name": "cpu"}]}),
            "reporting.get_data",
            json!([[{"name": "cpu"}], {"aggregate": true}]),
        ),
        (
            "reporting_get_data",
            json!({"graphs": [{"name": "disk", "identifier": "sda"}], "start": 100, "end": 200, "aggregate": false}),
            "reporting.get_data",
            json!([[{"name": "disk", "identifier": "sda"}], {"start": 100, "end": 200, "aggregate": false}]),
        ),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        assert_builds(&catalog, name, Some(method), &args, &expected);
    }
    assert_every_action_has_a_case(&catalog, &["reporting"], |name| cases().iter().any(|(n, ..)| *n == name));
}

#[test]
fn the_category_has_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<&str> = catalog.category("reporting").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(names, ["reporting_config", "reporting_graphs", "reporting_get_data"]);
}

#[test]
fn gated_actions_keep_the_reference_refusal_texts() {
    let catalog = builtin();
    let gated = gates_of(&catalog, "reporting");
    assert!(gated.is_empty(), "{gated:?}");
}

#[test]
fn job_methods_are_the_long_running_ones() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "reporting");
    assert!(jobs.is_empty(), "{jobs:?}");
}

#[test]
fn every_method_exists_on_every_release_it_is_not_routed_away_from() {
    assert_methods_exist_where_not_routed(&builtin(), "reporting");
}
