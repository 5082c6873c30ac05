//! `x-when` in decisions: where maintenance windows sit in the precedence, with a fixed clock.

use std::time::Duration;

use serde_json::json;

use super::*;

/// 2026-01-03T00:00:00Z, a Saturday.
const SAT: u64 = 1_767_398_400;
const H: u64 = 3_600;

/// The `vm_delete` call every test here decides.
fn vm_delete() -> Call {
    call("vm_delete", "vm.delete").risk(Risk::Destructive).args(json!({"id": 1}))
}

fn delete(engine: &PolicyEngine, now: u64) -> Decision {
    vm_delete().decide(engine, at(now))
}

fn outcome(d: &Decision) -> (String, Option<String>, Option<Duration>) {
    match d {
        Decision::Allow(p) => ("allow".into(), p.rule().map(|r| r.as_str().to_owned()), None),
        Decision::Deny(d) => ("deny".into(), Some(d.rule.as_str().to_owned()), d.retry_after),
        Decision::NeedsApproval(n) => ("approve".into(), Some(n.rule.as_str().to_owned()), None),
    }
}

fn denied(rule: &str, wait: u64) -> (String, Option<String>, Option<Duration>) {
    ("deny".into(), Some(rule.into()), Some(Duration::from_secs(wait)))
}

const SAT_NIGHT: &str = r#"{"days": ["sat"], "hours": "02:00-06:00"}"#;

fn window() -> Value {
    serde_json::from_str(SAT_NIGHT).unwrap()
}

#[test]
fn a_tool_entry_allows_only_inside_its_window_and_says_when_the_next_opens() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {"x-when": window()}}}));
    assert_eq!(outcome(&delete(&e, SAT + 3 * H)), ("allow".into(), Some("/tools/vm_delete".into()), None));
    let d = delete(&e, SAT + 6 * H);
    assert_eq!(outcome(&d), denied("/tools/vm_delete/x-when", 7 * 24 * H - 4 * H));
    let Decision::Deny(d) = d else { unreachable!() };
    assert_eq!(d.reason, "`vm_delete` is only allowed sat 02:00-06:00 UTC (maintenance window); retry after 590400 s");
    assert_eq!(outcome(&delete(&e, SAT + H + 1_800)), denied("/tools/vm_delete/x-when", 1_800));
}

#[test]
fn the_entry_on_deny_replaces_the_message_and_keeps_the_wait() {
    let e = engine(json!({"version": "1", "default": "deny",
        "tools": {"vm_delete": {"x-when": window(), "on_deny": "deletes wait for the weekend"}}}));
    let Decision::Deny(d) = delete(&e, SAT + H) else { panic!("expected a denial") };
    assert_eq!(d.reason, "deletes wait for the weekend; retry after 3600 s");
}

#[test]
fn predicates_deny_before_the_window_so_no_pointless_retry_is_suggested() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {
        "x-when": window(), "deny_if": [{"path": "args.id", "op": "eq", "value": 1}]}}}));
    let d = delete(&e, SAT + H);
    assert_eq!(outcome(&d), ("deny".into(), Some("/tools/vm_delete/deny_if/args.id-eq".into()), None));
}

#[test]
fn a_call_outside_its_window_spends_no_limit_and_is_never_put_to_a_person() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {
        "x-when": window(), "x-approval": "always",
        "limits": [{"counter": "one", "window": "day", "max": 1, "scope": "grant"}]}}}));
    for _ in 0..3 {
        assert_eq!(outcome(&delete(&e, SAT + H)).0, "deny");
    }
    assert_eq!(outcome(&delete(&e, SAT + 3 * H)), ("approve".into(), Some("/tools/vm_delete/x-approval".into()), None));
    let late = vm_delete().decide_approved(&e, at(SAT + 7 * H));
    assert_eq!(outcome(&late).1.as_deref(), Some("/tools/vm_delete/x-when"), "an approval does not open a window");
    let approved = vm_delete().decide_approved(&e, at(SAT + 4 * H));
    assert_eq!(outcome(&approved).0, "allow", "the limit was untouched by the calls outside the window");
}

#[test]
fn a_method_entry_window_holds_whichever_action_reaches_the_method() {
    let e = engine(json!({"version": "1", "default": "allow", "tools": {"vm.delete": {"x-when": window()}}}));
    assert_eq!(outcome(&delete(&e, SAT + H)), denied("/tools/vm.delete/x-when", H));
    assert_eq!(outcome(&delete(&e, SAT + 2 * H)).0, "allow");
}

#[test]
fn a_risk_default_object_allows_its_class_only_inside_its_windows() {
    let e = engine(json!({"version": "1", "default": "deny", "x-risk-defaults": {
        "read": "allow",
        "destructive": {"effect": "allow", "x-when": [window(), {"days": ["sun"]}]},
        "write": {"effect": "approve", "x-when": {"hours": "09:00-17:00"}}}}));
    assert_eq!(outcome(&delete(&e, SAT + 3 * H)), ("allow".into(), Some("/x-risk-defaults/destructive".into()), None));
    assert_eq!(outcome(&delete(&e, SAT + 12 * H)), denied("/x-risk-defaults/destructive/x-when", 12 * H));
    assert_eq!(outcome(&delete(&e, SAT + 30 * H)).0, "allow", "sunday, all day");
    let Decision::Deny(d) = delete(&e, SAT) else { panic!("expected a denial") };
    assert_eq!(
        d.reason,
        "`vm_delete` (a destructive action) is only allowed sat 02:00-06:00 UTC or sun (all day, UTC) \
         (maintenance window); retry after 7200 s"
    );
    let stop = |now| call("vm_stop", "vm.stop").args(json!({"id": 1})).decide(&e, at(now));
    assert_eq!(outcome(&stop(SAT + 10 * H)).0, "approve");
    assert_eq!(outcome(&stop(SAT + 18 * H)), denied("/x-risk-defaults/write/x-when", 15 * H));
    let list = call("vm_list", "vm.query").risk(Risk::Read).decide(&e, at(SAT));
    assert_eq!(outcome(&list).0, "allow", "the string form keeps working");
}

#[test]
fn listed_tools_are_not_held_to_a_risk_default_window() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {}},
        "x-risk-defaults": {"destructive": {"effect": "allow", "x-when": window()}}}));
    assert_eq!(outcome(&delete(&e, SAT + 12 * H)).0, "allow");
}
