//! `x-mode: shadow` (document and entry): what would have been denied or asked, recorded on the
//! permit.

use serde_json::json;

use super::*;
use crate::ids::RuleId;

#[test]
fn a_shadow_entry_lets_a_denied_call_through_and_says_which_rule_would_have_denied() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {
        "x-mode": "shadow", "deny_if": [{"path": "args.force", "op": "eq", "value": true, "on_deny": "no force"}]}}}));
    let p = permit(call("vm_stop", "vm.stop").args(json!({"id": 1, "force": true})).decide(&policy, at(T0)));
    let would = p.would_deny().expect("the denial is recorded");
    assert_eq!(would.rule.as_str(), "/tools/vm_stop/deny_if/args.force-eq");
    assert_eq!(would.reason, "no force");
    let clean = permit(call("vm_stop", "vm.stop").args(json!({"id": 1})).decide(&policy, at(T0)));
    assert!(clean.would_deny().is_none());
}

#[test]
fn a_shadow_entry_does_not_soften_the_other_entries_or_the_default() {
    // The method entry enforces; the action entry is in shadow.
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_stop": {"x-mode": "shadow", "require": [{"path": "args.id", "op": "lt", "value": 5}]},
        "vm.stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]}}}));
    let d = denial(call("vm_stop", "vm.stop").args(json!({"id": 9, "force": true})).decide(&policy, at(T0)));
    assert_eq!(d.rule.as_str(), "/tools/vm.stop/deny_if/args.force-eq");
    let p = permit(call("vm_stop", "vm.stop").args(json!({"id": 9})).decide(&policy, at(T0)));
    assert_eq!(p.would_deny().map(|d| d.rule.as_str()), Some("/tools/vm_stop/require/args.id-lt"));
    // An action no entry names still meets `default: deny`.
    assert_eq!(
        denial(call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0))).rule.as_str(),
        "(default deny)"
    );
}

#[test]
fn a_shadow_document_lets_every_denial_through_but_never_reveals_a_hidden_tool() {
    let policy = engine(json!({"version": "1", "default": "deny", "x-mode": "shadow", "hide": ["vm_delete"]}));
    let p = permit(call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0)));
    assert_eq!(p.would_deny().map(|d| d.rule.as_str()), Some("(default deny)"));
    assert_eq!(
        denial(call("vm_delete", "vm.delete").args(json!({"id": 1})).decide(&policy, at(T0))).rule.as_str(),
        "(hidden)"
    );
}

#[test]
fn a_shadow_limit_records_would_deny_and_the_enforced_limits_still_count() {
    let policy = engine(json!({"version": "1", "default": "allow",
        "all_tools": {"limits": [{"counter": "all", "window": "hour", "max": 3, "scope": "grant"}]},
        "tools": {"vm_start": {"x-mode": "shadow",
            "limits": [{"counter": "starts", "window": "hour", "max": 1, "scope": "grant"}]}}}));
    assert!(permit(call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0))).would_deny().is_none());
    let second = permit(call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0)));
    assert_eq!(second.would_deny().map(|d| d.rule.as_str()), Some("/tools/vm_start/limits/starts"));
    permit(call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0)));
    // `all_tools` enforces: three calls counted, the fourth is denied.
    let d = denial(call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0)));
    assert_eq!(d.rule.as_str(), "/all_tools/limits/all");
}

#[test]
fn a_shadow_approval_is_recorded_and_not_asked() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_stop": {"x-mode": "shadow", "x-approval": "always"},
        "vm_start": {"x-approval": "always"}}}));
    let p = permit(call("vm_stop", "vm.stop").args(json!({"id": 1})).decide(&policy, at(T0)));
    assert_eq!(p.would_approve().map(RuleId::as_str), Some("/tools/vm_stop/x-approval"));
    assert!(matches!(
        call("vm_start", "vm.start").args(json!({"id": 1})).decide(&policy, at(T0)),
        Decision::NeedsApproval(_)
    ));
}

#[test]
fn the_shipped_shadow_rollout_example_lets_stops_through_and_says_what_it_would_do() {
    let policy = PolicyEngine::load(include_str!("../../../policy/examples/shadow-rollout.json"), test_catalog())
        .unwrap_or_else(|e| panic!("{e}"));
    let forced = permit(call("vm_stop", "vm.stop").args(json!({"id": 2, "force": true})).decide(&policy, at(T0)));
    assert_eq!(forced.would_deny().map(|d| d.rule.as_str()), Some("/tools/vm_stop/deny_if/args.force-eq"));
    let one = permit(call("vm_stop", "vm.stop").args(json!({"id": 1, "force": false})).decide(&policy, at(T0)));
    assert_eq!(one.would_approve().map(RuleId::as_str), Some("/tools/vm_stop/x-approval/args.id-eq"));
    // The enforced parts still decide.
    assert_eq!(
        denial(call("vm_delete", "vm.delete").args(json!({"id": 1})).decide(&policy, at(T0))).rule.as_str(),
        "(default deny)"
    );
}
