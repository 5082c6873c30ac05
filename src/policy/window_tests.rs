//! `x-when` in decisions: where maintenance windows sit in the precedence, with a fixed clock.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::*;

/// 2026-01-03T00:00:00Z, a Saturday.
const SAT: u64 = 1_767_398_400;
const H: u64 = 3_600;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn engine(doc: Value) -> PolicyEngine {
    PolicyEngine::load(&doc.to_string(), test_catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn decide(engine: &PolicyEngine, action: &str, method: &str, risk: Risk, args: Value, now: u64) -> Decision {
    let (grant, action, method) = (GrantId::new("g"), ActionName::new(action), MethodName::new(method));
    let args = args.as_object().cloned().unwrap_or_default();
    let req = Request { grant: &grant, action: &action, method: &method, risk, args: &args };
    engine.authorize(&req, at(now))
}

fn delete(engine: &PolicyEngine, now: u64) -> Decision {
    decide(engine, "vm_delete", "vm.delete", Risk::Destructive, json!({"id": 1}), now)
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
    let approved = {
        let (grant, action, method) = (GrantId::new("g"), ActionName::new("vm_delete"), MethodName::new("vm.delete"));
        let args = json!({"id": 1}).as_object().cloned().unwrap();
        let req = Request { grant: &grant, action: &action, method: &method, risk: Risk::Destructive, args: &args };
        let late = e.authorize_approved(&req, ArgScope::default(), at(SAT + 7 * H));
        assert_eq!(outcome(&late).1.as_deref(), Some("/tools/vm_delete/x-when"), "an approval does not open a window");
        e.authorize_approved(&req, ArgScope::default(), at(SAT + 4 * H))
    };
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
    let stop = |now| decide(&e, "vm_stop", "vm.stop", Risk::Write, json!({"id": 1}), now);
    assert_eq!(outcome(&stop(SAT + 10 * H)).0, "approve");
    assert_eq!(outcome(&stop(SAT + 18 * H)), denied("/x-risk-defaults/write/x-when", 15 * H));
    let list = decide(&e, "vm_list", "vm.query", Risk::Read, json!({}), SAT);
    assert_eq!(outcome(&list).0, "allow", "the string form keeps working");
}

#[test]
fn listed_tools_are_not_held_to_a_risk_default_window() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {}},
        "x-risk-defaults": {"destructive": {"effect": "allow", "x-when": window()}}}));
    assert_eq!(outcome(&delete(&e, SAT + 12 * H)).0, "allow");
}

#[test]
fn bad_windows_are_load_errors_with_their_paths() {
    let err = PolicyEngine::load(
        &json!({"version": "1", "default": "deny",
            "tools": {"vm_delete": {"x-when": {"days": ["caturday"], "hours": "25:00-26:00"}},
                      "vm_stop": {"require": [{"path": "args.id", "op": "gt", "value": 0, "x-when": {}}]}},
            "x-risk-defaults": {"destructive": {"x-when": [], "effects": "allow"}, "write": {"effect": "sometimes"}}})
        .to_string(),
        test_catalog(),
    )
    .unwrap_err();
    let found: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 7, "{found:#?}");
    for (pointer, says) in [
        ("/tools/vm_delete/x-when/days/0", "unknown day `\"caturday\"`"),
        ("/tools/vm_delete/x-when/hours", "must be `HH:MM-HH:MM`"),
        ("/tools/vm_stop/require/0/x-when", "unknown extension `x-when`"),
        (
            "/x-risk-defaults/destructive/effects",
            "unknown key `effects`; expected `effect`, `x-when`; did you mean `effect`?",
        ),
        ("/x-risk-defaults/destructive/effect", "missing required key `effect`"),
        ("/x-risk-defaults/destructive/x-when", "needs at least one window"),
        ("/x-risk-defaults/write/effect", "must be `allow`, `deny` or `approve`"),
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(&format!("{pointer}: ")) && f.contains(says)),
            "{pointer}: {found:#?}"
        );
    }
}

#[test]
fn the_summary_shows_the_windows() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {"x-when": window()}},
        "x-risk-defaults": {"destructive": {"effect": "approve", "x-when": {"days": ["sun"]}}}}));
    let summary = e.summary();
    assert!(summary.contains("destructive approve only sun (all day, UTC)"), "{summary}");
    assert!(summary.contains("    only sat 02:00-06:00 UTC (x-when)"), "{summary}");
}

#[test]
fn the_schema_accepts_windows_new_ops_and_comments_and_refuses_bad_windows() {
    let validator = jsonschema::validator_for(&PolicyEngine::json_schema()).unwrap();
    let mut good: Vec<Value> =
        vec![serde_json::from_str(include_str!("../../policy/examples/maintenance.json")).unwrap()];
    for preset in [super::Preset::Readonly, super::Preset::Operator, super::Preset::Admin] {
        let text = super::starting_policy(test_catalog(), preset, &["vm".to_owned()]).unwrap();
        good.push(serde_json::from_str(&text).unwrap());
    }
    for doc in &good {
        assert!(validator.is_valid(doc), "{doc}");
        assert!(PolicyEngine::load(&doc.to_string(), test_catalog()).is_ok(), "{doc}");
    }
    for bad in [
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-when": {"days": ["caturday"]}}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-when": {"hours": "2-6"}}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-when": {"day": ["sat"]}}}}),
        json!({"version": "1", "default": "deny", "x-risk-defaults": {"write": {"effect": "allow", "when": {}}}}),
        json!({"version": "1", "default": "deny", "x-risk-defaults": {"write": {"x-when": {}}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"$comment": 3}}}),
        json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"require": [{"path": "args.id", "op": "ends_with", "value": "x"}]}}}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
        assert!(PolicyEngine::load(&bad.to_string(), test_catalog()).is_err(), "{bad}");
    }
}
