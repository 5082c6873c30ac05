use serde_json::{Value, json};

use crate::policy::{PolicyEngine, test_catalog};

/// The warnings of a document that loads, as `pointer: message` lines.
fn warnings(doc: Value) -> Vec<String> {
    match PolicyEngine::load(&doc.to_string(), test_catalog()) {
        Ok(engine) => engine.warnings().iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{e}"),
    }
}

fn allow_with(tools: Value) -> Value {
    json!({"version": "1", "default": "allow", "tools": tools})
}

#[test]
fn predicates_that_compare_with_the_wrong_type_never_hold() {
    let found = warnings(allow_with(json!({
        "vm_start": {"deny_if": [{"path": "args.id", "op": "eq", "value": "7"}]},
        "vm_stop": {"require": [{"path": "args.force", "op": "neq", "value": 0}]},
        "vm_get": {"require": [{"path": "args.id", "op": "eq", "value": 7}]},
    })));
    assert_eq!(
        found,
        [
            "/tools/vm_start/deny_if/0: `args.id` of `vm_start` is an integer, so it never equals `\"7\"` (not an integer): this predicate never holds",
            "/tools/vm_stop/require/0: `args.force` of `vm_stop` is a boolean, so it never equals `0` (not a boolean): this predicate always holds",
        ]
    );
}

#[test]
fn in_values_outside_the_declared_enum_are_reported() {
    let found = warnings(allow_with(json!({
        "vm_create": {"require": [{"path": "args.bootloader", "op": "in", "value": ["UEFI", "BIOS"]}]},
        "dataset_create": {"deny_if": [{"path": "args.type", "op": "in", "value": ["volume", 3]}]},
        "truenas_api_call": {"require": [{"path": "args.method", "op": "not_in", "value": ["GET"]}]},
    })));
    assert_eq!(
        found,
        [
            "/tools/dataset_create/deny_if/0: `args.type` of `dataset_create` is a string; it can never be `\"volume\"` (the argument takes only `\"FILESYSTEM\"`, `\"VOLUME\"`), `3` (not a string), so this predicate never holds",
            "/tools/vm_create/require/0: `args.bootloader` of `vm_create` is a string; it can never be `\"BIOS\"` (the argument takes only `\"UEFI\"`, `\"UEFI_CSM\"`), so those values never match",
        ]
    );
}

#[test]
fn comparisons_and_regexes_on_the_wrong_type_always_deny() {
    let found = warnings(allow_with(json!({
        "vm_create": {"deny_if": [
            {"path": "args.name", "op": "gt", "value": 3},
            {"path": "args.memory", "op": "regex", "value": "^1"},
            {"path": "args.autostart", "op": "contains", "value": "x"},
            {"path": "args.memory", "op": "lte", "value": 3}
        ]},
    })));
    assert_eq!(
        found,
        [
            "/tools/vm_create/deny_if/0: `args.name` of `vm_create` is a string, but `gt` needs a number: every call that passes it is denied",
            "/tools/vm_create/deny_if/1: `args.memory` of `vm_create` is an integer, but `regex` needs a string: every call that passes it is denied",
            "/tools/vm_create/deny_if/2: `args.autostart` of `vm_create` is a boolean, but `contains` needs a string or an array: every call that passes it is denied",
        ]
    );
}

#[test]
fn entries_for_hidden_tools_and_zero_limits_are_reported() {
    let found = warnings(json!({"version": "1", "default": "allow", "hide": ["vm.delete", "system_reboot"],
    "all_tools": {"limits": [{"counter": "none", "window": "minute", "max": 0, "scope": "server"}]},
    "tools": {
        "vm_delete": {}, "system_reboot": {}, "vm.delete": {},
        "vm_start": {"limits": [{"counter": "never", "window": "hour", "max": 0, "scope": "grant"}]}
    }}));
    assert_eq!(
        found,
        [
            "/all_tools/limits/0/max: limit `none` has `max: 0`, so it denies every call of every tool",
            "/tools/system_reboot: `system_reboot` is hidden by `/hide/1` (`system_reboot`), so this entry never applies",
            "/tools/vm.delete: `vm.delete` is hidden by `/hide/0` (`vm.delete`), so this entry never applies",
            "/tools/vm_delete: `vm_delete` is hidden by `/hide/0` (`vm.delete`), so this entry never applies",
            "/tools/vm_start/limits/0/max: limit `never` has `max: 0`, so this entry denies every call of `vm_start`; to forbid the tool, hide it or leave it out",
        ]
    );
}

#[test]
fn entries_that_open_what_the_defaults_deny_are_reported_with_the_risk() {
    let found = warnings(json!({"version": "1", "default": "deny",
        "x-risk-defaults": {"read": "allow", "write": "allow", "destructive": "deny"},
        "tools": {"vm_delete": {}, "vm_start": {}, "pool.export": {}}}));
    assert_eq!(
        found,
        [
            "/tools/pool.export: `pool_export` is destructive and the default denies destructive actions (`/x-risk-defaults/destructive`); this entry for method `pool.export` allows it",
            "/tools/vm_delete: `vm_delete` is destructive and the default denies destructive actions (`/x-risk-defaults/destructive`); this entry allows it",
        ]
    );
    let found = warnings(json!({"version": "1", "default": "deny", "tools": {"vm_list": {}, "vm_stop": {}}}));
    assert_eq!(
        found,
        ["/tools/vm_stop: `vm_stop` is write and the default (`default: deny`) denies it; this entry allows it"]
    );
}

#[test]
fn shipped_policies_draw_only_the_warnings_they_mean() {
    for name in ["default", "readonly", "seed-vm-start", "approve-destructive"] {
        let engine = PolicyEngine::builtin(name, test_catalog()).unwrap();
        let expected: &[&str] = if name == "seed-vm-start" {
            &["/tools/vm_start: `vm_start` is write and the default (`default: deny`) denies it; this entry allows it"]
        } else {
            &[]
        };
        let found: Vec<String> = engine.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(found, expected, "{name}");
    }
}

#[test]
fn x_any_job_is_read_only_from_the_job_status_entry() {
    let load = |doc: Value| PolicyEngine::load(&doc.to_string(), test_catalog()).unwrap();
    assert!(load(json!({"version": "1", "default": "deny", "tools": {"job_status": {"x-any-job": true}}})).any_job());
    assert!(!load(json!({"version": "1", "default": "deny", "tools": {"job_status": {"x-any-job": false}}})).any_job());
    assert!(!load(json!({"version": "1", "default": "deny", "tools": {"job_status": {}}})).any_job());
    assert!(!load(json!({"version": "1", "default": "allow"})).any_job());
}

#[test]
fn an_entry_that_denies_every_call_opens_nothing() {
    // `deny_if exists` on a required argument turns the tool off with a message: no warning.
    let off = json!({"version": "1", "default": "deny", "x-risk-defaults": {"destructive": "deny"}, "tools": {
        "vm_delete": {"deny_if": [{"path": "args.id", "op": "exists"}], "on_deny": "never"},
    }});
    assert_eq!(warnings(off), Vec::<String>::new());
    // On an optional argument without a default it does not deny every call: the entry still
    // opens the action.
    let optional = json!({"version": "1", "default": "deny", "tools": {
        "vm_update": {"deny_if": [{"path": "args.name", "op": "exists"}]},
    }});
    assert_eq!(warnings(optional).len(), 1);
}
