//! Decisions on partly known arguments: a raw call read as its twin actions.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;
use crate::policy::MethodRules;

/// Decides a `vm.stop` call under `scope`: `Ok` for a permit, the denial otherwise.
fn decide(engine: &PolicyEngine, action: &str, args: Value, scope: ArgScope<'_>) -> Result<(), Denial> {
    match call(action, "vm.stop").args(args).decide_scoped(engine, scope, at(T0)) {
        Decision::Allow(_) => Ok(()),
        Decision::Deny(d) => Err(d),
        Decision::NeedsApproval(n) => panic!("unexpected need for approval by {}", n.rule),
    }
}

fn unknown(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn a_predicate_on_an_unknown_argument_denies_where_an_absent_one_would_pass() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}], "on_deny": "no forced stops"},
    }}));
    assert_eq!(decide(&policy, "vm_stop", json!({"id": 1}), ArgScope::default()), Ok(()));
    let force = unknown(&["force"]);
    let scope = ArgScope { unknown: Some(&force), method_rules: MethodRules::Check };
    let denial = decide(&policy, "vm_stop", json!({"id": 1}), scope).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/tools/vm_stop/deny_if/args.force-eq");
    assert!(denial.reason.contains("`args.force` cannot be told from the raw call"), "{}", denial.reason);
    // An unknown argument no rule reads changes nothing.
    let id = unknown(&["id"]);
    assert_eq!(decide(&policy, "vm_stop", json!({}), ArgScope { unknown: Some(&id), ..ArgScope::default() }), Ok(()));
}

#[test]
fn a_require_on_an_unknown_argument_denies_too() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_stop": {"require": [{"path": "args.id", "op": "in", "value": [1, 2]}]},
    }}));
    let id = unknown(&["id"]);
    let scope = ArgScope { unknown: Some(&id), method_rules: MethodRules::Check };
    assert!(decide(&policy, "vm_stop", json!({}), scope).is_err());
}

#[test]
fn a_method_entry_is_skipped_per_twin_and_denies_blind() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "truenas_api_call": {},
        "vm.stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]},
    }}));
    let raw = |rules| ArgScope { unknown: None, method_rules: rules };
    // Checked against the raw call's own arguments, `force` is absent: it would pass.
    assert_eq!(decide(&policy, "truenas_api_call", json!({"method": "POST"}), raw(MethodRules::Check)), Ok(()));
    assert_eq!(decide(&policy, "truenas_api_call", json!({"method": "POST"}), raw(MethodRules::PerTwin)), Ok(()));
    let blind = decide(&policy, "truenas_api_call", json!({"method": "POST"}), raw(MethodRules::Opaque));
    assert_eq!(blind.unwrap_err().rule.as_str(), "/tools/vm.stop/deny_if/args.force-eq");
}
