//! Standing and budgets read from several policies.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::ids::{ActionName, GrantId, MethodName};
use crate::policy::{Budget, Decision, Request, test_catalog};

fn engine(text: &str) -> PolicyEngine {
    PolicyEngine::load(text, test_catalog()).unwrap_or_else(|e| panic!("{e}"))
}

fn of(engine: &PolicyEngine, action: &str) -> Standing {
    let def = test_catalog().action(action).unwrap_or_else(|| panic!("no action {action}"));
    engine.standing(action, def.methods().map(|m| m.as_str()), def.risk)
}

fn allowed(approval: ApprovalStanding, checked: bool) -> Standing {
    Standing::Allowed { approval, checked }
}

fn denied_by(standing: &Standing) -> &str {
    match standing {
        Standing::Denied(d) => d.rule.as_str(),
        other => panic!("not denied outright: {other:?}"),
    }
}

#[test]
fn risk_defaults_and_default_deny_deny_outright_only_unlisted_actions() {
    let e = engine(
        r#"{"version": "1", "default": "deny",
            "x-risk-defaults": {"read": "allow", "destructive": "deny"},
            "tools": {"vm_delete": {}, "vm_start": {"deny_if": [{"path": "args.id", "op": "eq", "value": 1}]}}}"#,
    );
    assert_eq!(of(&e, "vm_list"), allowed(ApprovalStanding::Never, false));
    assert_eq!(denied_by(&of(&e, "dataset_delete")), "/x-risk-defaults/destructive");
    // Write has no risk default: the document's `default`.
    assert_eq!(denied_by(&of(&e, "vm_create")), "(default deny)");
    // Listed: allowed, and a rule on the arguments says some calls may be denied.
    assert_eq!(of(&e, "vm_delete"), allowed(ApprovalStanding::Never, false));
    assert_eq!(of(&e, "vm_start"), allowed(ApprovalStanding::Never, true));
}

#[test]
fn a_limit_of_max_zero_denies_outright_and_names_its_rule() {
    let e = engine(
        r#"{"version": "1", "default": "allow",
            "tools": {"vm_start": {"limits": [{"counter": "none", "window": "day", "max": 0, "scope": "grant"}]},
                      "vm.stop": {"limits": [{"counter": "off", "window": "day", "max": 0, "scope": "server"}]}}}"#,
    );
    assert_eq!(denied_by(&of(&e, "vm_start")), "/tools/vm_start/limits/none");
    assert_eq!(denied_by(&of(&e, "vm_stop")), "/tools/vm.stop/limits/off");
    assert_eq!(of(&e, "vm_list"), allowed(ApprovalStanding::Never, false));
    let all = engine(
        r#"{"version": "1", "default": "allow",
            "all_tools": {"limits": [{"counter": "off", "window": "minute", "max": 0, "scope": "grant", "on_deny": "paused"}]}}"#,
    );
    match of(&all, "vm_list") {
        Standing::Denied(d) => assert_eq!((d.rule.as_str(), d.reason.as_str()), ("/all_tools/limits/off", "paused")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(all.raw_standing("truenas_api_call"), Standing::Denied(_)));
}

#[test]
fn approval_is_always_sometimes_or_never() {
    let e = engine(
        r#"{"version": "1", "default": "allow",
            "x-risk-defaults": {"destructive": "approve"},
            "tools": {"vm_start": {"x-approval": "always"},
                      "vm_stop": {"x-approval": [{"path": "args.force", "op": "eq", "value": true}]}}}"#,
    );
    assert_eq!(of(&e, "vm_start"), allowed(ApprovalStanding::Always, false));
    assert_eq!(of(&e, "vm_stop"), allowed(ApprovalStanding::Sometimes, false));
    assert_eq!(of(&e, "dataset_delete"), allowed(ApprovalStanding::Always, false));
    assert_eq!(of(&e, "vm_list"), allowed(ApprovalStanding::Never, false));
    // The raw API's method is unknown: it may need approval, it is never denied outright here.
    assert_eq!(e.raw_standing("truenas_api_call"), allowed(ApprovalStanding::Sometimes, true));
}

#[test]
fn hidden_actions_stand_hidden_by_action_method_or_star() {
    let e = engine(r#"{"version": "1", "default": "allow", "hide": ["vm_start", "vm.stop", "policy_status"]}"#);
    assert_eq!(of(&e, "vm_start"), Standing::Hidden);
    assert_eq!(of(&e, "vm_stop"), Standing::Hidden);
    assert_eq!(e.standing("policy_status", ["policy_status"], crate::ids::Risk::Read), Standing::Hidden);
    let all = engine(r#"{"version": "1", "default": "allow", "hide": ["*"]}"#);
    assert_eq!(of(&all, "vm_list"), Standing::Hidden);
}

/// Every standing "denied outright" is a denial of every call, checked by deciding sample calls.
#[test]
fn denied_outright_agrees_with_the_decision() {
    let e = engine(
        r#"{"version": "1", "default": "deny",
            "x-risk-defaults": {"read": "allow", "write": "approve"},
            "all_tools": {"limits": [{"counter": "m", "window": "minute", "max": 100, "scope": "grant"}]},
            "tools": {"vm_start": {"limits": [{"counter": "z", "window": "hour", "max": 0, "scope": "grant"}]}}}"#,
    );
    let grant = GrantId::new("g");
    let now = SystemTime::now();
    for def in test_catalog().actions().filter(|a| !a.is_rest_call()) {
        let standing = of(&e, def.name.as_str());
        let args = def.example_args();
        let method = def.method.clone();
        let req = Request { grant: &grant, action: &def.name, method: &method, risk: def.risk, args: &args };
        let decision = e.authorize(&req, now);
        match (&standing, &decision) {
            (Standing::Denied(d), Decision::Deny(got)) => assert_eq!(d.rule, got.rule, "{}", def.name),
            (Standing::Denied(_), other) => panic!("{} stands denied but was decided {other:?}", def.name),
            (Standing::Allowed { approval: ApprovalStanding::Always, .. }, got) => {
                assert!(matches!(got, Decision::NeedsApproval(_)), "{}: {got:?}", def.name)
            }
            _ => {}
        }
        if let Decision::Allow(p) = decision {
            p.rollback();
        }
    }
}

#[test]
fn budgets_count_down_per_grant_and_say_when_they_reset() {
    let e = engine(
        r#"{"version": "1", "default": "allow",
            "all_tools": {"limits": [{"counter": "per-minute", "window": "minute", "max": 3, "scope": "grant"},
                                     {"counter": "shared", "window": "hour", "max": 10, "scope": "server"}]},
            "tools": {"vm_start": {"limits": [{"counter": "never", "window": "day", "max": 0, "scope": "grant"}]}}}"#,
    );
    // 20 s into a minute, 620 s into an hour.
    let hour_start = 500_000 * 3600;
    let now = UNIX_EPOCH + Duration::from_secs(hour_start + 620);
    let (a, b) = (GrantId::new("a"), GrantId::new("b"));
    let list = ActionName::new("vm_list");
    let method = MethodName::new("vm.query");
    let args = serde_json::Map::new();
    for _ in 0..2 {
        let req = Request { grant: &a, action: &list, method: &method, risk: crate::ids::Risk::Read, args: &args };
        assert!(matches!(e.authorize(&req, now), Decision::Allow(_)));
    }
    let budgets = e.budgets(&a, now);
    let find = |b: &[Budget], rule: &str| b.iter().find(|x| x.rule.as_str() == rule).cloned().unwrap();
    let minute = find(&budgets, "/all_tools/limits/per-minute");
    assert_eq!((minute.remaining, minute.resets_in), (Some(1), Some(Duration::from_secs(40))));
    assert_eq!(minute.describe, "3 per minute");
    let shared = find(&budgets, "/all_tools/limits/shared");
    assert_eq!((shared.remaining, shared.resets_in), (Some(8), Some(Duration::from_secs(2980))));
    let never = find(&budgets, "/tools/vm_start/limits/never");
    assert_eq!((never.remaining, never.resets_in), (Some(0), None));
    // Another grant has its own per-grant budget but shares the server one.
    let other = e.budgets(&b, now);
    assert_eq!(find(&other, "/all_tools/limits/per-minute").remaining, Some(3));
    assert_eq!(find(&other, "/all_tools/limits/shared").remaining, Some(8));
}

#[test]
fn x_list_denied_is_a_boolean_at_the_top_and_off_by_default() {
    assert!(!engine(r#"{"version": "1", "default": "deny"}"#).list_denied());
    assert!(engine(r#"{"version": "1", "default": "deny", "x-list-denied": true}"#).list_denied());
    let err = PolicyEngine::load(r#"{"version": "1", "default": "deny", "x-list-denied": "yes"}"#, test_catalog())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/x-list-denied: must be `true` or `false`"), "{err}");
    let err = PolicyEngine::load(
        r#"{"version": "1", "default": "deny", "tools": {"vm_start": {"x-list-denied": true}}}"#,
        test_catalog(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown extension `x-list-denied`"), "{err}");
}

#[test]
fn the_raw_api_is_denied_outright_only_when_no_method_entry_or_risk_class_could_allow_it() {
    let closed = engine(r#"{"version": "1", "default": "deny", "tools": {"vm_list": {}}}"#);
    assert_eq!(denied_by(&closed.raw_standing("truenas_api_call")), "(default deny)");
    let reads = engine(r#"{"version": "1", "default": "deny", "x-risk-defaults": {"read": "allow"}}"#);
    assert!(matches!(reads.raw_standing("truenas_api_call"), Standing::Allowed { .. }));
    let method = engine(r#"{"version": "1", "default": "deny", "tools": {"vm.query": {}}}"#);
    assert!(matches!(method.raw_standing("truenas_api_call"), Standing::Allowed { .. }));
}
