//! Loading the extensions of a decision: `x-approval` and its ttl and wait, `x-when` windows
//! and `x-mode`, every mistake reported with its path.

use serde_json::json;

use crate::policy::load_problems as problems;
use crate::policy::{PolicyEngine, test_catalog};

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
