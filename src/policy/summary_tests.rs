//! The human summary `policy check` prints: defaults, hidden tools, rules and windows.

use serde_json::{Value, json};

use crate::policy::test_engine as engine;

fn window() -> Value {
    json!({"days": ["sat"], "hours": "02:00-06:00"})
}

#[test]
fn the_summary_names_defaults_hidden_tools_and_rules() {
    let engine = engine(json!({"version": "1", "description": "demo", "default": "deny",
        "hide": ["system_reboot"], "x-risk-defaults": {"read": "allow"},
        "all_tools": {"limits": [{"counter": "calls", "window": "minute", "max": 120, "scope": "grant"}]},
        "tools": {"vm_list": {}, "dataset_delete": {
            "require": [{"path": "args.id", "op": "regex", "value": "^tank/"}],
            "deny_if": [{"path": "args.recursive", "op": "eq", "value": true}]}}}));
    assert_eq!(
        engine.summary(),
        "policy version 1\n\
         description: demo\n\
         default: deny for tools not listed\n\
         risk defaults (x-risk-defaults): read allow\n\
         hidden: system_reboot\n\
         every tool:\n  limit `calls`: 120 per minute per grant\n\
         tools (2):\n\
         \x20 dataset_delete (action)\n\
         \x20   require `args.id` regex `\"^tank/\"`\n\
         \x20   deny if `args.recursive` eq `true`\n\
         \x20 vm_list (action)\n\
         \x20   allowed, no conditions\n"
    );
}

#[test]
fn the_summary_shows_the_windows() {
    let e = engine(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {"x-when": window()}},
        "x-risk-defaults": {"destructive": {"effect": "approve", "x-when": {"days": ["sun"]}}}}));
    let summary = e.summary();
    assert!(summary.contains("destructive approve only sun (all day, UTC)"), "{summary}");
    assert!(summary.contains("    only sat 02:00-06:00 UTC (x-when)"), "{summary}");
}
