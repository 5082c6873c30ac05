use serde_json::{Map, Value, json};

use crate::catalog::{ActionDef, ArgProblem, Catalog};

fn action(name: &str) -> ActionDef {
    let catalog = Catalog::builtin().unwrap();
    catalog.action(name).unwrap().clone()
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn messages(action: &ActionDef, v: Value) -> Vec<String> {
    match action.validate_args(&args(v)) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn arguments_validated_for_one_action_are_validated_again_when_another_maps_them() {
    let (get, create) = (action("vm_get"), action("vm_create"));
    let given = args(json!({"id": 3}));
    let valid = get.validate_args(&given).unwrap();
    assert_eq!(get.build_params(&valid).unwrap(), json!([3]));
    // `vm_create` takes no `id` and needs a `name`: refused, never mapped unchecked.
    let err = create.build_params(&valid).unwrap_err().to_string();
    assert!(err.contains("`id`") && err.contains("`name`"), "{err}");
}

#[test]
fn a_string_id_is_a_type_error_naming_the_argument() {
    assert_eq!(messages(&action("vm_get"), json!({"id": "3"})), ["`id` must be an integer, got string \"3\""]);
}

#[test]
fn wrong_types_are_refused_for_every_kind() {
    let create = action("vm_create");
    let got =
        messages(&create, json!({"name": 7, "memory": 2048, "autostart": "yes", "vcpus": 1.5, "description": null}));
    assert_eq!(
        got,
        [
            "`name` must be a string, got number 7",
            "`description` must be a string, got null",
            "`vcpus` must be an integer, got number 1.5",
            "`autostart` must be a boolean, got string \"yes\"",
        ]
    );
    let device = action("vm_device_create");
    assert_eq!(
        messages(&device, json!({"vm": 1, "dtype": "NIC", "attributes": ["x"]})),
        ["`attributes` must be an object, got an array"]
    );
}

#[test]
fn unknown_keys_are_refused_listing_the_accepted_ones() {
    assert_eq!(
        messages(&action("vm_start"), json!({"id": 1, "zz": true})),
        ["unknown argument `zz`; accepted: `id`, `overcommit`"]
    );
    assert_eq!(
        messages(&action("vm_list"), json!({"limit": 5})),
        ["unknown argument `limit`; this action takes no arguments"]
    );
}

#[test]
fn missing_required_arguments_are_refused() {
    assert_eq!(
        messages(&action("vm_create"), json!({})),
        ["missing required argument `name`", "missing required argument `memory`"]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = action("vm_update").validate_args(&args(json!({"memory": "2G", "bogus": 1, "time": "utc"}))).unwrap_err();
    assert_eq!(err.problems.len(), 4, "{err}");
    assert!(matches!(&err.problems[0], ArgProblem::Unknown { name, .. } if name == "bogus"));
    assert!(err.to_string().starts_with("invalid arguments for `vm_update`: unknown argument `bogus`"), "{err}");
    assert!(err.to_string().contains("missing required argument `id`"), "{err}");
}

#[test]
fn enums_are_enforced_with_the_truenas_spelling() {
    let create = action("vm_create");
    assert_eq!(
        messages(&create, json!({"name": "a", "memory": 64, "cpu_mode": "HOST_MODEL"})),
        ["`cpu_mode` must be one of \"CUSTOM\", \"HOST-MODEL\", \"HOST-PASSTHROUGH\", got \"HOST_MODEL\""]
    );
    assert!(messages(&create, json!({"name": "a", "memory": 64, "cpu_mode": "HOST-MODEL"})).is_empty());
    assert_eq!(
        messages(&action("vm_display_uri"), json!({"id": 1, "protocol": "https"})),
        ["`protocol` must be one of \"HTTP\", \"HTTPS\", got \"https\""]
    );
}

#[test]
fn bounds_are_enforced() {
    let create = action("vm_create");
    assert_eq!(
        messages(&create, json!({"name": "a", "memory": 10, "shutdown_timeout": 301, "cores": 0})),
        [
            "`cores` must be at least 1, got 0",
            "`memory` must be at least 20, got 10",
            "`shutdown_timeout` must be at most 300, got 301"
        ]
    );
    assert!(messages(&create, json!({"name": "a", "memory": 20, "shutdown_timeout": 300})).is_empty());
}

#[test]
fn confirm_must_be_a_real_boolean() {
    let delete = action("vm_delete");
    assert_eq!(
        messages(&delete, json!({"id": 1, "confirm": "false"})),
        ["`confirm` must be a boolean, got string \"false\""]
    );
    assert_eq!(messages(&delete, json!({"id": 1, "confirm": 1})), ["`confirm` must be a boolean, got number 1"]);
    assert_eq!(messages(&delete, json!({"id": 1})), ["missing required argument `confirm`"]);
    assert!(messages(&delete, json!({"id": 1, "confirm": false})).is_empty(), "false is valid, just not confirmed");
}

#[test]
fn only_confirm_true_confirms_a_gated_action() {
    let delete = action("vm_delete");
    assert!(delete.confirmed(&args(json!({"id": 1, "confirm": true}))));
    for refused in [json!({"id": 1, "confirm": false}), json!({"id": 1, "confirm": "true"}), json!({"id": 1})] {
        assert!(!delete.confirmed(&args(refused.clone())), "{refused}");
    }
    assert!(action("vm_start").confirmed(&args(json!({"id": 1}))), "ungated actions need no confirm");
}

#[test]
fn integral_floats_are_accepted_as_integers_and_sent_as_integers() {
    let get = action("vm_get");
    assert!(messages(&get, json!({"id": 3.0})).is_empty());
    assert_eq!(get.check_and_build_params(&args(json!({"id": 3.0}))).unwrap(), json!([3]));
    assert_eq!(get.check_and_build_params(&args(json!({"id": 3.0}))).unwrap().to_string(), "[3]");
    assert_eq!(messages(&get, json!({"id": 3.25})), ["`id` must be an integer, got number 3.25"]);
    assert_eq!(
        messages(&get, json!({"id": 1e300})),
        [
            "`id` is not an integer TrueNAS can take exactly (integers must fit in 64 bits; floats are exact only below 2^53), got number 1e+300"
        ]
    );
}

#[test]
fn integers_truenas_cannot_take_exactly_are_refused_at_any_depth() {
    let get = action("vm_get");
    for raw in ["-9223372036854775809", "9223372036854775808", "9007199254740992.0"] {
        let v: Value = serde_json::from_str(&format!(r#"{{"id": {raw}}}"#)).unwrap();
        let got = messages(&get, v.clone());
        assert_eq!(got.len(), 1, "{raw}: {got:?}");
        assert!(got[0].starts_with("`id` is not an integer TrueNAS can take exactly"), "{raw}: {got:?}");
        assert!(get.check_and_build_params(&args(v)).is_err(), "{raw} is never rounded into params");
    }
    assert!(messages(&get, json!({"id": 9007199254740991.0})).is_empty(), "below 2^53 a float is exact");
    let create = action("vm_device_create");
    let nested: Value =
        serde_json::from_str(r#"{"vm": 1, "dtype": "RAW", "attributes": {"a": [1, -9223372036854775809]}}"#).unwrap();
    let got = messages(&create, nested);
    assert!(got.iter().any(|m| m.starts_with("`attributes.a[1]` is not an integer")), "{got:?}");
}

#[test]
fn build_params_refuses_invalid_arguments() {
    let err = action("vm_get").check_and_build_params(&args(json!({"id": "3"}))).unwrap_err();
    assert_eq!(err.to_string(), "invalid arguments for `vm_get`: `id` must be an integer, got string \"3\"");
}

#[test]
fn long_strings_are_cut_in_messages() {
    let long = "x".repeat(500);
    let got = messages(&action("vm_get"), json!({ "id": long }));
    assert_eq!(got, [format!("`id` must be an integer, got string \"{}\"...", "x".repeat(60))]);
}
