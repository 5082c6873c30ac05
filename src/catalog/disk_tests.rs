//! The `disk` actions (`tools/disk.toml`) build exactly the expected middleware calls,
//! name the right methods, and keep the reference's gates and texts.

use serde_json::{Value, json};

use super::test_support::*;
use crate::schema::Release;

/// (action, arguments, expected positional params).
fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        ("disk_list", json!({}), json!([[], {"extra": {"pools": true}}])),
        (
            "disk_get",
            json!({"id": "sda"}),
            json!([[["OR", [[["identifier", "=", "sda"]], [["name", "=", "sda"]]]]], {"get": true, "extra": {"pools": true}}]),
        ),
        ("disk_update", json!({"id": "{serial}X", "hddstandby": "60"}), json!(["{serial}X", {"hddstandby": "60"}])),
        ("disk_wipe", json!({"dev_name": "sde", "mode": "QUICK", "confirm": true}), json!(["sde", "QUICK", true])),
        (
            "disk_wipe",
            json!({"dev_name": "sde", "mode": "FULL", "synccache": false, "confirm": true}),
            json!(["sde", "FULL", false]),
        ),
        ("disk_temperatures", json!({"names": []}), json!([[]])),
        ("disk_smart_test_list", json!({}), json!([])),
        ("disk_wipe", json!({"id": "sde", "mode": "QUICK", "confirm": true}), json!(["sde", "QUICK", true])),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    let cases = cases();
    for (name, args, expected) in &cases {
        assert_builds(&catalog, name, None, args, expected);
    }
    // An action that cannot run where its method is missing (SMART) has no call to build.
    for action in actions_of(&catalog, "disk").filter(|a| a.unavailable.is_none()) {
        assert!(cases.iter().any(|(n, _, _)| *n == action.name.as_str()), "no case for {}", action.name);
    }
    let smart = catalog.action("disk_smart_test_run").unwrap();
    let args = object(json!({"disks": ["sda"], "type": "SHORT"}));
    let err = smart.check_and_resolve_for(Release::V25_10, &args).unwrap_err().to_string();
    assert!(err.contains("smart.test.manual_test") && err.contains("TrueNAS removed its SMART API"), "{err}");
}

#[test]
fn the_category_holds_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<String> = catalog.category("disk").unwrap().actions.iter().map(|a| a.as_str().to_string()).collect();
    assert_eq!(names.len(), 7);
}

#[test]
fn methods_that_are_not_obvious() {
    let catalog = builtin();
    let method = |a: &str| catalog.action(a).map(|d| d.method.as_str().to_string()).unwrap_or_default();
    for (action, expected) in [
        ("disk_get", "disk.query"),
        ("disk_smart_test_list", "alert.list"),
        ("disk_smart_test_run", "smart.test.manual_test"),
    ] {
        assert_eq!(method(action), expected, "{action}");
    }
    let jobs = jobs_of(&catalog, "disk");
    assert_eq!(jobs, ["disk_wipe"]);
}

#[test]
fn the_gated_actions_keep_the_reference_refusals_and_are_destructive() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "disk");
    assert_eq!(gated, [("disk_wipe", "Wipe aborted: 'confirm' must be set to true.")]);
    let destructive: Vec<&str> = destructive_of(&catalog, "disk");
    assert_eq!(destructive, ["disk_wipe"]);
    let removed = catalog.action("disk_update").unwrap();
    let err = removed.check_and_build_params(&object(json!({"id": "x", "togglesmart": true}))).unwrap_err();
    assert!(err.to_string().contains("togglesmart"), "arguments 25.10 lacks are refused by name: {err}");
}
