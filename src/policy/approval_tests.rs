//! `x-approval`, `x-risk-defaults: approve` and their place in the precedence.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};

use super::*;
use crate::ids::{ActionName, GrantId, MethodName, Risk};

fn engine(doc: Value) -> PolicyEngine {
    PolicyEngine::load(&doc.to_string(), test_catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(doc: Value) -> Vec<String> {
    match PolicyEngine::load(&doc.to_string(), test_catalog()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

fn decide(engine: &PolicyEngine, action: &str, method: &str, risk: Risk, args: Value, approved: bool) -> Decision {
    let (grant, action, method) = (GrantId::new("g"), ActionName::new(action), MethodName::new(method));
    let args = args.as_object().cloned().unwrap_or_default();
    let req = Request { grant: &grant, action: &action, method: &method, risk, args: &args };
    let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
    if approved { engine.authorize_approved(&req, ArgScope::default(), now) } else { engine.authorize(&req, now) }
}

fn need(d: Decision) -> ApprovalNeed {
    match d {
        Decision::NeedsApproval(n) => n,
        Decision::Allow(p) => panic!("expected a need for approval, got a permit for {}", p.action()),
        Decision::Deny(d) => panic!("expected a need for approval, got {d}"),
    }
}

#[test]
fn always_asks_for_every_call_and_an_approved_call_is_allowed() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-approval": "always"}}}));
    let n = need(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), false));
    assert_eq!(n.rule.as_str(), "/tools/vm_stop/x-approval");
    assert_eq!(n.ttl, Duration::from_secs(600));
    assert_eq!(n.wait, Duration::ZERO);
    assert!(matches!(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), true), Decision::Allow(_)));
    assert!(policy.uses_approval());
}

#[test]
fn predicates_ask_only_when_one_holds() {
    let policy = engine(json!({"version": "1", "default": "deny", "x-approval-ttl": 60, "tools": {"vm_stop": {
        "x-approval": [{"path": "args.force", "op": "eq", "value": true}], "x-approval-wait": 30}}}));
    let n = need(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1, "force": true}), false));
    assert_eq!(n.rule.as_str(), "/tools/vm_stop/x-approval/args.force-eq");
    assert_eq!((n.ttl, n.wait), (Duration::from_secs(60), Duration::from_secs(30)));
    assert!(matches!(
        decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1, "force": false}), false),
        Decision::Allow(_)
    ));
}

#[test]
fn a_call_the_policy_denies_is_never_put_to_a_person() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {
        "x-approval": "always", "deny_if": [{"path": "args.force", "op": "eq", "value": true}],
        "limits": [{"counter": "c", "window": "day", "max": 1, "scope": "grant"}]}}}));
    assert!(matches!(
        decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1, "force": true}), false),
        Decision::Deny(_)
    ));
    // Pending approval checks the limit without spending it.
    for _ in 0..3 {
        need(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), false));
    }
    assert!(matches!(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), true), Decision::Allow(_)));
    // The one slot is spent: asking again is denied, not put to a person.
    assert!(matches!(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), false), Decision::Deny(_)));
    assert!(matches!(decide(&policy, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), true), Decision::Deny(_)));
}

#[test]
fn risk_defaults_may_ask_for_approval() {
    let policy = PolicyEngine::builtin("approve-destructive", test_catalog()).unwrap();
    let n = need(decide(&policy, "vm_delete", "vm.delete", Risk::Destructive, json!({"id": 1}), false));
    assert_eq!(n.rule.as_str(), "/x-risk-defaults/destructive");
    assert!(matches!(decide(&policy, "vm_list", "vm.query", Risk::Read, json!({}), false), Decision::Allow(_)));
    assert!(!PolicyEngine::builtin("default", test_catalog()).unwrap().uses_approval());
}

#[test]
fn approval_keys_are_checked_at_load() {
    let found = problems(json!({"version": "1", "default": "deny", "x-approval-ttl": 0, "tools": {
        "vm_stop": {"x-approval": [{"path": "args.forse", "op": "eq", "value": true}], "x-approval-wait": "9"},
        "vm_start": {"x-approval": "sometimes"}}}));
    assert!(found.iter().any(|p| p.starts_with("/x-approval-ttl: must be a whole number")), "{found:?}");
    assert!(
        found.iter().any(|p| p.starts_with("/tools/vm_stop/x-approval/0/path:") && p.contains("forse")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.starts_with("/tools/vm_stop/x-approval-wait:")), "{found:?}");
    assert!(found.iter().any(|p| p.starts_with("/tools/vm_start/x-approval: must be")), "{found:?}");
    let found = problems(json!({"version": "1", "default": "deny", "x-risk-defaults": {"destructive": "ask"}}));
    assert!(found.iter().any(|p| p.contains("`approve`")), "{found:?}");
    let found = problems(json!({"version": "1", "default": "approve"}));
    assert!(!found.is_empty(), "the document default is allow or deny only");
}
