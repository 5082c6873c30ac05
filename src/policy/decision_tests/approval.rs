//! `x-approval`, `x-risk-defaults: approve` and their place in the precedence.

use std::time::Duration;

use serde_json::json;

use super::*;

/// A `vm_stop` call with these arguments.
fn stop(args: Value) -> Call {
    call("vm_stop", "vm.stop").args(args)
}

#[test]
fn always_asks_for_every_call_and_an_approved_call_is_allowed() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-approval": "always"}}}));
    let n = need(stop(json!({"id": 1})).decide(&policy, at(T0)));
    assert_eq!(n.rule.as_str(), "/tools/vm_stop/x-approval");
    assert_eq!(n.ttl, Duration::from_secs(600));
    assert_eq!(n.wait, Duration::ZERO);
    assert!(matches!(stop(json!({"id": 1})).decide_approved(&policy, at(T0)), Decision::Allow(_)));
    assert!(policy.uses_approval());
}

#[test]
fn predicates_ask_only_when_one_holds() {
    let policy = engine(json!({"version": "1", "default": "deny", "x-approval-ttl": 60, "tools": {"vm_stop": {
        "x-approval": [{"path": "args.force", "op": "eq", "value": true}], "x-approval-wait": 30}}}));
    let n = need(stop(json!({"id": 1, "force": true})).decide(&policy, at(T0)));
    assert_eq!(n.rule.as_str(), "/tools/vm_stop/x-approval/args.force-eq");
    assert_eq!((n.ttl, n.wait), (Duration::from_secs(60), Duration::from_secs(30)));
    assert!(matches!(stop(json!({"id": 1, "force": false})).decide(&policy, at(T0)), Decision::Allow(_)));
}

#[test]
fn a_call_the_policy_denies_is_never_put_to_a_person() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {
        "x-approval": "always", "deny_if": [{"path": "args.force", "op": "eq", "value": true}],
        "limits": [{"counter": "c", "window": "day", "max": 1, "scope": "grant"}]}}}));
    assert!(matches!(stop(json!({"id": 1, "force": true})).decide(&policy, at(T0)), Decision::Deny(_)));
    // Pending approval checks the limit without spending it.
    for _ in 0..3 {
        need(stop(json!({"id": 1})).decide(&policy, at(T0)));
    }
    assert!(matches!(stop(json!({"id": 1})).decide_approved(&policy, at(T0)), Decision::Allow(_)));
    // The one slot is spent: asking again is denied, not put to a person.
    assert!(matches!(stop(json!({"id": 1})).decide(&policy, at(T0)), Decision::Deny(_)));
    assert!(matches!(stop(json!({"id": 1})).decide_approved(&policy, at(T0)), Decision::Deny(_)));
}

#[test]
fn risk_defaults_may_ask_for_approval() {
    let policy = PolicyEngine::builtin("approve-destructive", test_catalog()).unwrap();
    let delete = call("vm_delete", "vm.delete").risk(Risk::Destructive).args(json!({"id": 1}));
    let n = need(delete.decide(&policy, at(T0)));
    assert_eq!(n.rule.as_str(), "/x-risk-defaults/destructive");
    assert!(matches!(call("vm_list", "vm.query").risk(Risk::Read).decide(&policy, at(T0)), Decision::Allow(_)));
    assert!(!PolicyEngine::builtin("default", test_catalog()).unwrap().uses_approval());
}
