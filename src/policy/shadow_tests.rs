//! `x-mode: shadow` (document and entry) and the decision trace `policy explain` prints.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};

use super::*;
use crate::ids::{ActionName, GrantId, MethodName, Risk};

fn engine(doc: Value) -> PolicyEngine {
    PolicyEngine::load(&doc.to_string(), test_catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn decide(engine: &PolicyEngine, action: &str, method: &str, args: Value) -> Decision {
    let (grant, action, method) = (GrantId::new("g"), ActionName::new(action), MethodName::new(method));
    let args = args.as_object().cloned().unwrap_or_default();
    let req = Request { grant: &grant, action: &action, method: &method, risk: Risk::Write, args: &args };
    engine.authorize(&req, UNIX_EPOCH + Duration::from_secs(1_704_067_200))
}

fn permit(d: Decision) -> Permit {
    match d {
        Decision::Allow(p) => p,
        Decision::Deny(d) => panic!("expected a permit, got {d}"),
        Decision::NeedsApproval(n) => panic!("expected a permit, got a need for approval ({})", n.rule),
    }
}

fn denial(d: Decision) -> Denial {
    match d {
        Decision::Deny(d) => d,
        Decision::Allow(p) => panic!("expected a denial, got a permit for {}", p.action()),
        Decision::NeedsApproval(n) => panic!("expected a denial, got a need for approval ({})", n.rule),
    }
}

#[test]
fn a_shadow_entry_lets_a_denied_call_through_and_says_which_rule_would_have_denied() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {
        "x-mode": "shadow", "deny_if": [{"path": "args.force", "op": "eq", "value": true, "on_deny": "no force"}]}}}));
    let p = permit(decide(&policy, "vm_stop", "vm.stop", json!({"id": 1, "force": true})));
    let would = p.would_deny().expect("the denial is recorded");
    assert_eq!(would.rule.as_str(), "/tools/vm_stop/deny_if/args.force-eq");
    assert_eq!(would.reason, "no force");
    let clean = permit(decide(&policy, "vm_stop", "vm.stop", json!({"id": 1})));
    assert!(clean.would_deny().is_none());
}

#[test]
fn a_shadow_entry_does_not_soften_the_other_entries_or_the_default() {
    // The method entry enforces; the action entry is in shadow.
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_stop": {"x-mode": "shadow", "require": [{"path": "args.id", "op": "lt", "value": 5}]},
        "vm.stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]}}}));
    let d = denial(decide(&policy, "vm_stop", "vm.stop", json!({"id": 9, "force": true})));
    assert_eq!(d.rule.as_str(), "/tools/vm.stop/deny_if/args.force-eq");
    let p = permit(decide(&policy, "vm_stop", "vm.stop", json!({"id": 9})));
    assert_eq!(p.would_deny().map(|d| d.rule.as_str()), Some("/tools/vm_stop/require/args.id-lt"));
    // An action no entry names still meets `default: deny`.
    assert_eq!(denial(decide(&policy, "vm_start", "vm.start", json!({"id": 1}))).rule.as_str(), "(default deny)");
}

#[test]
fn a_shadow_document_lets_every_denial_through_but_never_reveals_a_hidden_tool() {
    let policy = engine(json!({"version": "1", "default": "deny", "x-mode": "shadow", "hide": ["vm_delete"]}));
    let p = permit(decide(&policy, "vm_start", "vm.start", json!({"id": 1})));
    assert_eq!(p.would_deny().map(|d| d.rule.as_str()), Some("(default deny)"));
    assert_eq!(denial(decide(&policy, "vm_delete", "vm.delete", json!({"id": 1}))).rule.as_str(), "(hidden)");
}

#[test]
fn a_shadow_limit_records_would_deny_and_the_enforced_limits_still_count() {
    let policy = engine(json!({"version": "1", "default": "allow",
        "all_tools": {"limits": [{"counter": "all", "window": "hour", "max": 3, "scope": "grant"}]},
        "tools": {"vm_start": {"x-mode": "shadow",
            "limits": [{"counter": "starts", "window": "hour", "max": 1, "scope": "grant"}]}}}));
    assert!(permit(decide(&policy, "vm_start", "vm.start", json!({"id": 1}))).would_deny().is_none());
    let second = permit(decide(&policy, "vm_start", "vm.start", json!({"id": 1})));
    assert_eq!(second.would_deny().map(|d| d.rule.as_str()), Some("/tools/vm_start/limits/starts"));
    permit(decide(&policy, "vm_start", "vm.start", json!({"id": 1})));
    // `all_tools` enforces: three calls counted, the fourth is denied.
    let d = denial(decide(&policy, "vm_start", "vm.start", json!({"id": 1})));
    assert_eq!(d.rule.as_str(), "/all_tools/limits/all");
}

#[test]
fn a_shadow_approval_is_recorded_and_not_asked() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_stop": {"x-mode": "shadow", "x-approval": "always"},
        "vm_start": {"x-approval": "always"}}}));
    let p = permit(decide(&policy, "vm_stop", "vm.stop", json!({"id": 1})));
    assert_eq!(p.would_approve().map(RuleId::as_str), Some("/tools/vm_stop/x-approval"));
    assert!(matches!(decide(&policy, "vm_start", "vm.start", json!({"id": 1})), Decision::NeedsApproval(_)));
}

#[test]
fn x_mode_takes_only_its_two_words() {
    let err = PolicyEngine::load(
        &json!({"version": "1", "default": "deny", "x-mode": "dry-run", "tools": {"vm_stop": {"x-mode": true}}})
            .to_string(),
        test_catalog(),
    )
    .err()
    .map(|e| e.problems().iter().map(ToString::to_string).collect::<Vec<_>>());
    assert_eq!(
        err,
        Some(vec![
            "/tools/vm_stop/x-mode: must be `enforce` or `shadow`, found `true`".to_owned(),
            "/x-mode: must be `enforce` or `shadow`, found `\"dry-run\"`".to_owned(),
        ])
    );
}

#[test]
fn explain_traces_the_rules_in_precedence_order() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {
        "require": [{"path": "args.id", "op": "lt", "value": 5}],
        "deny_if": [{"path": "args.force", "op": "eq", "value": true}],
        "limits": [{"counter": "stops", "window": "hour", "max": 2, "scope": "grant"}]}}}));
    let (grant, action, method) = (GrantId::new("g"), ActionName::new("vm_stop"), MethodName::new("vm.stop"));
    let args = json!({"id": 1, "force": true}).as_object().cloned().unwrap_or_default();
    let req = Request { grant: &grant, action: &action, method: &method, risk: Risk::Write, args: &args };
    let (decision, steps) = policy.explain(&req, UNIX_EPOCH + Duration::from_secs(1_704_067_200));
    assert_eq!(denial(decision).rule.as_str(), "/tools/vm_stop/deny_if/args.force-eq");
    let seen: Vec<(&str, &str, &str)> = steps.iter().map(|s| (s.rule.as_str(), s.check, s.outcome)).collect();
    assert_eq!(
        seen,
        vec![
            ("(hidden)", "hide", "passes"),
            ("/tools/vm_stop", "entry", "found"),
            ("/tools/vm.stop", "entry", "absent"),
            ("/tools/vm_stop/require/args.id-lt", "require", "passes"),
            ("/tools/vm_stop/deny_if/args.force-eq", "deny_if", "denies"),
        ]
    );
    let args = json!({"id": 1}).as_object().cloned().unwrap_or_default();
    let req = Request { args: &args, ..req };
    let (decision, steps) = policy.explain(&req, UNIX_EPOCH + Duration::from_secs(1_704_067_200));
    assert!(matches!(decision, Decision::Allow(_)));
    let limit = steps.iter().find(|s| s.check == "limit").expect("the limit is shown");
    assert_eq!((limit.rule.as_str(), limit.why.as_str()), ("/tools/vm_stop/limits/stops", "2 left of 2 per hour"));
}

#[test]
fn the_shipped_shadow_rollout_example_lets_stops_through_and_says_what_it_would_do() {
    let policy = PolicyEngine::load(include_str!("../../policy/examples/shadow-rollout.json"), test_catalog())
        .unwrap_or_else(|e| panic!("{e}"));
    let forced = permit(decide(&policy, "vm_stop", "vm.stop", json!({"id": 2, "force": true})));
    assert_eq!(forced.would_deny().map(|d| d.rule.as_str()), Some("/tools/vm_stop/deny_if/args.force-eq"));
    let one = permit(decide(&policy, "vm_stop", "vm.stop", json!({"id": 1, "force": false})));
    assert_eq!(one.would_approve().map(RuleId::as_str), Some("/tools/vm_stop/x-approval/args.id-eq"));
    // The enforced parts still decide.
    assert_eq!(denial(decide(&policy, "vm_delete", "vm.delete", json!({"id": 1}))).rule.as_str(), "(default deny)");
}
