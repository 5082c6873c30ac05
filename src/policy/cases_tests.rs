use super::*;
use crate::policy::test_catalog;

const POLICY: &str = r#"{"version": "1", "default": "deny",
    "x-risk-defaults": {"read": "allow", "destructive": {"effect": "approve", "x-when": {"days": ["sat"], "hours": "02:00-06:00"}}},
    "tools": {"vm_start": {"limits": [{"counter": "starts", "window": "minute", "max": 2, "scope": "grant"}]}}}"#;

fn run(cases: &str) -> Vec<(String, bool, String)> {
    run_cases(POLICY, test_catalog(), cases, false)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|o| (o.name, o.passed, o.got))
        .collect()
}

fn error(cases: &str, json: bool) -> String {
    run_cases(POLICY, test_catalog(), cases, json).map(|_| ()).unwrap_err().to_string()
}

#[test]
fn matching_cases_pass_with_a_fixed_clock_and_fresh_counters_per_case() {
    let out = run(r#"
        at = "2026-01-03T03:00:00Z"
        [[cases]]
        name = "reads are allowed"
        action = "vm_list"
        expect = "allow"
        rule = "/x-risk-defaults/read"
        [[cases]]
        name = "two starts fit"
        action = "vm_start"
        args = { id = 1 }
        repeat = 2
        expect = "allow"
        [[cases]]
        name = "the third start is over the limit"
        action = "vm_start"
        args = { id = 1 }
        repeat = 3
        expect = "deny"
        rule = "/tools/vm_start/limits/starts"
        [[cases]]
        name = "another grant has its own counter, and this case starts from zero"
        action = "vm_start"
        args = { id = 1 }
        grant = "other"
        expect = "allow"
        [[cases]]
        name = "deletes inside the window need approval"
        action = "vm_delete"
        args = { id = 1, confirm = true }
        expect = "approve"
        rule = "/x-risk-defaults/destructive"
        [[cases]]
        name = "outside it they are denied"
        action = "vm_delete"
        args = { id = 1, confirm = true }
        at = "2026-01-03T07:00:00Z"
        expect = "deny"
        rule = "/x-risk-defaults/destructive/x-when"
        [[cases]]
        name = "writes fall to the default"
        action = "vm_stop"
        args = { id = 1 }
        expect = "deny"
        rule = "(default deny)"
    "#);
    assert!(out.iter().all(|(_, passed, _)| *passed), "{out:#?}");
}

#[test]
fn a_mismatch_shows_what_was_expected_and_what_came_with_its_rule_and_reason() {
    let out = run_cases(
        POLICY,
        test_catalog(),
        r#"{"at": "2026-01-03T07:00:00Z", "cases": [
            {"name": "wrong effect", "action": "vm_delete", "args": {"id": 1, "confirm": true}, "expect": "approve"},
            {"name": "wrong rule", "action": "vm_list", "expect": "allow", "rule": "/tools/vm_list"}]}"#,
        true,
    )
    .unwrap();
    assert_eq!(out[0].expected, "approve");
    assert!(!out[0].passed);
    assert!(
        out[0].got.starts_with("deny (rule /x-risk-defaults/destructive/x-when): `vm_delete` (a destructive action) is only allowed sat 02:00-06:00 UTC"),
        "{}",
        out[0].got
    );
    assert!(out[0].got.ends_with("retry after 586800 s"), "{}", out[0].got);
    assert_eq!((out[1].passed, out[1].expected.as_str()), (false, "allow (rule /tools/vm_list)"));
    assert_eq!(out[1].got, "allow (rule /x-risk-defaults/read)");
}

#[test]
fn bad_files_and_cases_are_errors_not_mismatches() {
    assert!(error("cases = 3", false).starts_with("the case file is not valid TOML"));
    assert!(
        error(r#"{"cases": [{"name": "x", "action": "vm_list", "expect": "maybe"}]}"#, true)
            .contains("unknown variant `maybe`")
    );
    assert!(
        error(r#"{"cases": [{"name": "x", "action": "vm_list", "expect": "allow", "argz": {}}]}"#, true)
            .contains("unknown field `argz`")
    );
    assert_eq!(error(r#"{"cases": []}"#, true), "the case file is not valid JSON: no cases");
    assert_eq!(
        error(r#"{"cases": [{"name": "x", "action": "vm_lsit", "expect": "allow"}]}"#, true),
        "case `x`: unknown action `vm_lsit`; did you mean `vm_list`?"
    );
    let refused =
        error(r#"{"cases": [{"name": "x", "action": "vm_start", "args": {"id": "one"}, "expect": "allow"}]}"#, true);
    assert!(refused.starts_with("case `x`: the arguments are refused before any policy"), "{refused}");
    let repeat = error(r#"{"cases": [{"name": "x", "action": "vm_list", "repeat": 0, "expect": "allow"}]}"#, true);
    assert_eq!(repeat, "case `x`: `repeat` must be 1 or more");
    assert!(
        error(r#"{"at": "saturday", "cases": [{"name": "x", "action": "vm_list", "expect": "allow"}]}"#, true)
            .contains("`at` of the file")
    );
    let bad_policy = run_cases("{}", test_catalog(), "", false).map(|_| ()).unwrap_err();
    assert!(matches!(bad_policy, CasesError::Policy(_)), "{bad_policy}");
}

#[test]
fn job_status_is_a_read_pseudo_action() {
    let out = run(r#"
        [[cases]]
        name = "jobs"
        action = "job_status"
        expect = "allow"
        rule = "/x-risk-defaults/read"
    "#);
    assert!(out[0].1, "{out:?}");
}
