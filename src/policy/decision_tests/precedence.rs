//! Precedence: hide, entries by action and by method, `require` and `deny_if`, the document
//! default and `x-risk-defaults`, limits, the shipped policies, and the trace of it all that
//! `policy explain` prints.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::ids::RuleId;

const SEED: &str = include_str!("../../../policy/seed-vm-start.json");

#[test]
fn seed_document_allows_ten_vm_starts_a_minute_per_grant() {
    let engine = PolicyEngine::load(SEED, test_catalog()).unwrap();
    let start = call("vm_start", "vm.start").args(json!({"id": 1}));
    for i in 0..10 {
        let p = permit(start.decide(&engine, at(T0 + i)));
        assert_eq!(p.rule().map(RuleId::as_str), Some("/tools/vm_start"));
    }
    let d = denial(start.decide(&engine, at(T0 + 45)));
    assert_eq!(d.rule.as_str(), "/tools/vm_start/limits/vm_start_rate");
    assert_eq!(d.retry_after, Some(Duration::from_secs(15)));
    assert_eq!(
        d.to_string(),
        "[POLICY DENIED] limit `vm_start_rate` reached: 10 per minute; retry after 15 s \
         (rule: /tools/vm_start/limits/vm_start_rate)"
    );
    permit(start.grant("g2").decide(&engine, at(T0 + 45)));
    permit(call("vm_start", "vm.start").decide(&engine, at(T0 + 60)));
}

#[test]
fn seed_document_denies_every_other_action() {
    let engine = PolicyEngine::load(SEED, test_catalog()).unwrap();
    for (action, method, risk) in [
        ("vm_list", "vm.query", Risk::Read),
        ("vm_stop", "vm.stop", Risk::Write),
        ("vm_delete", "vm.delete", Risk::Destructive),
    ] {
        let d = denial(call(action, method).risk(risk).decide(&engine, at(T0)));
        assert_eq!(d.rule.as_str(), "(default deny)");
        assert_eq!(
            d.to_string(),
            format!("[POLICY DENIED] action `{action}` is not allowed by this policy (rule: (default deny))")
        );
        assert_eq!(d.retry_after, None);
    }
}

#[test]
fn require_must_hold_and_a_missing_argument_fails_it() {
    let engine = engine(json!({"version": "1", "default": "deny", "tools": {"dataset_delete": {
        "require": [{"path": "args.id", "op": "regex", "value": "^tank/agents/"}]}}}));
    let delete = |args| call("dataset_delete", "pool.dataset.delete").args(args);
    permit(delete(json!({"id": "tank/agents/x"})).decide(&engine, at(T0)));
    let d = denial(delete(json!({"id": "tank/home"})).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/tools/dataset_delete/require/args.id-regex");
    assert_eq!(d.reason, "`args.id` must match `^tank/agents/`");
    let d = denial(delete(json!({})).decide(&engine, at(T0)));
    assert_eq!(d.reason, "`args.id` must match `^tank/agents/`, but it is missing");
}

#[test]
fn deny_if_denies_when_any_holds_and_ignores_missing_arguments() {
    let engine = engine(json!({"version": "1", "default": "deny", "tools": {"vm_create": {
    "on_deny": "keep VMs small",
    "deny_if": [
        {"path": "args.autostart", "op": "eq", "value": true},
        {"path": "args.memory", "op": "gt", "value": 100, "on_deny": "too big"}
    ]}}}));
    let create = |args| call("vm_create", "vm.create").args(args);
    permit(create(json!({})).decide(&engine, at(T0)));
    permit(create(json!({"autostart": false, "memory": 100})).decide(&engine, at(T0)));
    let d = denial(create(json!({"autostart": true})).decide(&engine, at(T0)));
    assert_eq!((d.rule.as_str(), d.reason.as_str()), ("/tools/vm_create/deny_if/args.autostart-eq", "keep VMs small"));
    let d = denial(create(json!({"memory": 101})).decide(&engine, at(T0)));
    assert_eq!((d.rule.as_str(), d.reason.as_str()), ("/tools/vm_create/deny_if/args.memory-gt", "too big"));
}

#[test]
fn a_type_mismatch_denies_in_require_and_in_deny_if() {
    let engine = engine(json!({"version": "1", "default": "allow", "tools": {
        "vm_create": {"deny_if": [{"path": "args.memory", "op": "gt", "value": 100}]},
        "dataset_create": {"require": [{"path": "args.name", "op": "regex", "value": "^x"}]}}}));
    let d = denial(call("vm_create", "vm.create").args(json!({"memory": "lots"})).decide(&engine, at(T0)));
    assert_eq!(d.reason, "`args.memory` is a string, but `gt` needs a number");
    let d = denial(call("dataset_create", "pool.dataset.create").args(json!({"name": 7})).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/tools/dataset_create/require/args.name-regex");
}

#[test]
fn hide_denies_by_action_by_method_and_everything_with_a_star() {
    let engine = engine(json!({"version": "1", "default": "allow", "hide": ["system_reboot", "vm.delete"],
        "tools": {"vm_delete": {}}}));
    let (reboot, delete) = (call("system_reboot", "system.reboot"), call("vm_delete", "vm.delete"));
    assert!(engine.is_hidden(&reboot.action, &reboot.method));
    assert!(engine.is_hidden(&delete.action, &delete.method), "a listed action is hidden through its method");
    let d = denial(delete.decide(&engine, at(T0)));
    assert_eq!((d.rule.as_str(), d.reason.as_str()), ("(hidden)", "method `vm.delete` is hidden by this policy"));
    assert_eq!(denial(reboot.decide(&engine, at(T0))).reason, "action `system_reboot` is hidden by this policy");
    permit(call("vm_list", "vm.query").decide(&engine, at(T0)));

    let all = engine_star();
    let list = call("vm_list", "vm.query");
    assert!(all.is_hidden(&list.action, &list.method));
    assert_eq!(denial(list.decide(&all, at(T0))).rule.as_str(), "(hidden)");
}

fn engine_star() -> PolicyEngine {
    engine(json!({"version": "1", "default": "allow", "hide": ["*"], "tools": {"vm_list": {}}}))
}

#[test]
fn default_allow_permits_unlisted_actions_without_a_rule() {
    let engine = engine(json!({"version": "1", "default": "allow"}));
    let p = permit(call("vm_delete", "vm.delete").decide(&engine, at(T0)));
    assert_eq!((p.action().as_str(), p.method().as_str(), p.rule()), ("vm_delete", "vm.delete", None));
}

#[test]
fn risk_defaults_override_default_for_unlisted_actions_only() {
    let engine = engine(json!({"version": "1", "default": "deny",
        "x-risk-defaults": {"read": "allow", "destructive": "deny"},
        "tools": {"vm_delete": {}}}));
    let p = permit(call("vm_list", "vm.query").risk(Risk::Read).decide(&engine, at(T0)));
    assert_eq!(p.rule().map(RuleId::as_str), Some("/x-risk-defaults/read"));
    let d = denial(call("pool_export", "pool.export").risk(Risk::Destructive).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/x-risk-defaults/destructive");
    assert_eq!(
        d.reason,
        "action `pool_export` is not allowed by this policy (`destructive` actions are denied by default)"
    );
    assert_eq!(
        denial(call("vm_start", "vm.start").risk(Risk::Write).decide(&engine, at(T0))).rule.as_str(),
        "(default deny)"
    );
    permit(call("vm_delete", "vm.delete").risk(Risk::Destructive).decide(&engine, at(T0)));
}

#[test]
fn a_method_entry_applies_whichever_action_reaches_the_method() {
    let engine = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_delete": {},
        "truenas_api_call": {},
        "vm.delete": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]}}}));
    permit(call("vm_delete", "vm.delete").args(json!({"force": false})).decide(&engine, at(T0)));
    let d = denial(call("truenas_api_call", "vm.delete").args(json!({"force": true})).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/tools/vm.delete/deny_if/args.force-eq");
    let p = permit(call("other_tool", "vm.delete").decide(&engine, at(T0)));
    assert_eq!(p.rule().map(RuleId::as_str), Some("/tools/vm.delete"), "a method entry alone allows");
}

#[test]
fn action_and_method_entries_must_both_pass_and_both_count_limits() {
    let engine = engine(json!({"version": "1", "default": "deny", "tools": {
        "vm_delete": {"require": [{"path": "args.id", "op": "gt", "value": 0}]},
        "vm.delete": {"limits": [{"counter": "deletes", "window": "hour", "max": 1, "scope": "server"}]}}}));
    let delete = call("vm_delete", "vm.delete");
    assert_eq!(denial(delete.decide(&engine, at(T0))).rule.as_str(), "/tools/vm_delete/require/args.id-gt");
    let ok = delete.args(json!({"id": 3}));
    assert_eq!(permit(ok.decide(&engine, at(T0))).rule().map(RuleId::as_str), Some("/tools/vm_delete"));
    assert_eq!(denial(ok.grant("g2").decide(&engine, at(T0 + 60))).rule.as_str(), "/tools/vm.delete/limits/deletes");
}

#[test]
fn all_tools_limits_count_only_allowed_calls() {
    let engine = engine(json!({"version": "1", "default": "allow", "hide": ["system_reboot"],
        "all_tools": {"limits": [{"counter": "calls", "window": "minute", "max": 2, "scope": "grant"}]},
        "tools": {"vm_start": {"require": [{"path": "args.overcommit", "op": "eq", "value": false}]}}}));
    for _ in 0..5 {
        denial(call("system_reboot", "system.reboot").decide(&engine, at(T0)));
        denial(call("vm_start", "vm.start").decide(&engine, at(T0)));
    }
    permit(call("vm_list", "vm.query").decide(&engine, at(T0)));
    permit(call("vm_start", "vm.start").args(json!({"overcommit": false})).decide(&engine, at(T0)));
    let d = denial(call("vm_get", "vm.get_instance").decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/all_tools/limits/calls");
}

#[test]
fn permit_rollback_refunds_the_slot_through_the_engine() {
    let engine = PolicyEngine::load(SEED, test_catalog()).unwrap();
    let start = call("vm_start", "vm.start");
    for _ in 0..10 {
        permit(start.decide(&engine, at(T0))).rollback();
    }
    for _ in 0..10 {
        drop(permit(start.decide(&engine, at(T0))));
    }
    denial(start.decide(&engine, at(T0)));
}

#[test]
fn shipped_default_policy_allows_reads_and_writes_and_denies_destructive() {
    let engine = PolicyEngine::builtin("default", test_catalog()).unwrap();
    permit(call("vm_list", "vm.query").risk(Risk::Read).decide(&engine, at(T0)));
    permit(call("vm_start", "vm.start").risk(Risk::Write).decide(&engine, at(T0)));
    let d = denial(call("vm_delete", "vm.delete").risk(Risk::Destructive).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/x-risk-defaults/destructive");
    // Ten identical calls pass; the eleventh is the loop breaker's.
    for _ in 1..10 {
        permit(call("vm_list", "vm.query").risk(Risk::Read).decide(&engine, at(T0)));
    }
    let d = denial(call("vm_list", "vm.query").risk(Risk::Read).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/x-loop-breaker");
    // Different calls count only against the per-minute limit.
    for i in 11..120 {
        permit(call("vm_get", "vm.get_instance").args(json!({"id": i})).risk(Risk::Read).decide(&engine, at(T0)));
    }
    let d = denial(call("vm_get", "vm.get_instance").args(json!({"id": 0})).risk(Risk::Read).decide(&engine, at(T0)));
    assert_eq!(d.rule.as_str(), "/all_tools/limits/calls-per-minute");

    let readonly = PolicyEngine::builtin("readonly", test_catalog()).unwrap();
    permit(call("vm_list", "vm.query").risk(Risk::Read).decide(&readonly, at(T0)));
    denial(call("vm_start", "vm.start").risk(Risk::Write).decide(&readonly, at(T0)));
}

#[test]
fn explain_traces_the_rules_in_precedence_order() {
    let policy = engine(json!({"version": "1", "default": "deny", "tools": {"vm_stop": {
        "require": [{"path": "args.id", "op": "lt", "value": 5}],
        "deny_if": [{"path": "args.force", "op": "eq", "value": true}],
        "limits": [{"counter": "stops", "window": "hour", "max": 2, "scope": "grant"}]}}}));
    let forced = call("vm_stop", "vm.stop").args(json!({"id": 1, "force": true}));
    let (decision, steps) = policy.explain(&forced.request(), at(T0));
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
    let plain = call("vm_stop", "vm.stop").args(json!({"id": 1}));
    let (decision, steps) = policy.explain(&plain.request(), at(T0));
    assert!(matches!(decision, Decision::Allow(_)));
    let limit = steps.iter().find(|s| s.check == "limit").expect("the limit is shown");
    assert_eq!((limit.rule.as_str(), limit.why.as_str()), ("/tools/vm_stop/limits/stops", "2 left of 2 per hour"));
}
