//! `policy test` and `policy init` through the real binary: every shipped policy passes its
//! case file, a mismatch exits 1 with a diff, a bad file exits 2, and every preset writes a
//! policy that `policy check` accepts and that behaves as its name says.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::*;

async fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } =
        tokio::process::Command::new(bin()).args(args).env("RUST_LOG", "warn").output().await.unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// Every policy document under `policy/` (the schema aside).
fn shipped_policies() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [repo("policy"), repo("policy/examples")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if name.ends_with(".json") && name != "policy.schema.json" {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn cases_of(policy: &Path) -> PathBuf {
    policy.with_extension("cases.toml")
}

#[tokio::test]
async fn every_shipped_policy_passes_its_case_file() {
    let policies = shipped_policies();
    assert!(policies.len() >= 6, "{policies:?}");
    for policy in policies {
        let cases = cases_of(&policy);
        assert!(cases.exists(), "{} has no case file {}", policy.display(), cases.display());
        let (code, out, err) = run(&["policy", "test", policy.to_str().unwrap(), cases.to_str().unwrap()]).await;
        assert_eq!(code, Some(0), "{}:\n{out}{err}", policy.display());
        assert!(out.trim_end().ends_with(" failed") && out.contains(", 0 failed"), "{out}");
    }
}

#[tokio::test]
async fn a_mismatch_exits_1_with_expected_and_got_and_the_rule() {
    let dir = tempdir::Dir::new("policy-test-mismatch");
    let cases = dir.path().join("wrong.toml");
    std::fs::write(
        &cases,
        r#"
at = "2026-01-03T03:00:00Z"
[[cases]]
name = "reads"
action = "vm_list"
expect = "allow"
[[cases]]
name = "deletes are allowed (they are not)"
action = "vm_delete"
args = { id = 1, confirm = true }
expect = "allow"
"#,
    )
    .unwrap();
    let policy = repo("policy/default.json");
    let (code, out, _) = run(&["policy", "test", policy.to_str().unwrap(), cases.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ok    reads\n"), "{out}");
    assert!(out.contains("FAIL  deletes are allowed (they are not)\n"), "{out}");
    assert!(out.contains("        expected: allow\n"), "{out}");
    assert!(
        out.contains("        got:      deny (rule /x-risk-defaults/destructive): action `vm_delete` is not allowed"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("2 case(s), 1 passed, 1 failed"), "{out}");
}

#[tokio::test]
async fn a_bad_case_file_or_policy_exits_2() {
    let dir = tempdir::Dir::new("policy-test-bad");
    let policy = repo("policy/default.json");
    let json = dir.path().join("bad.json");
    std::fs::write(&json, r#"{"cases": [{"name": "x", "action": "vm_list", "expect": "allow", "grnat": "a"}]}"#)
        .unwrap();
    let (code, _, err) = run(&["policy", "test", policy.to_str().unwrap(), json.to_str().unwrap()]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not valid JSON") && err.contains("unknown field `grnat`"), "{err}");

    let refused = dir.path().join("refused.toml");
    std::fs::write(&refused, "[[cases]]\nname = \"dotdot\"\naction = \"snapshot_create\"\nargs = { dataset = \"tank/a/../b\", name = \"s\" }\nexpect = \"allow\"\n").unwrap();
    let (code, _, err) = run(&["policy", "test", policy.to_str().unwrap(), refused.to_str().unwrap()]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("case `dotdot`: the arguments are refused before any policy"), "{err}");

    let bad_policy = dir.path().join("p.json");
    std::fs::write(
        &bad_policy,
        r#"{"version": "1", "default": "deny", "tools": {"vm_start": {"x-when": {"days": ["someday"]}}}}"#,
    )
    .unwrap();
    let cases = repo("policy/default.cases.toml");
    let (code, _, err) = run(&["policy", "test", bad_policy.to_str().unwrap(), cases.to_str().unwrap()]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/tools/vm_start/x-when/days/0: unknown day"), "{err}");
}

/// Cases every preset must pass, by preset, for a policy over all categories or over `vm`.
fn preset_cases(preset: &str, scoped: bool) -> String {
    let (start, delete) = match preset {
        "readonly" => ("deny", "deny"),
        "operator" => ("allow", "approve"),
        _ => ("allow", "allow"),
    };
    let outside = if scoped { "deny" } else { "allow" };
    format!(
        r#"
at = "2026-01-03T03:00:00Z"
[[cases]]
name = "reads in the category"
action = "vm_list"
expect = "allow"
[[cases]]
name = "reversible changes"
action = "vm_start"
args = {{ id = 1 }}
expect = "{start}"
[[cases]]
name = "destructive actions"
action = "vm_delete"
args = {{ id = 1, confirm = true }}
expect = "{delete}"
[[cases]]
name = "reads outside the categories"
action = "pool_list"
expect = "{outside}"
"#
    )
}

#[tokio::test]
async fn every_preset_writes_a_policy_that_checks_and_behaves_as_named() {
    let dir = tempdir::Dir::new("policy-init");
    for preset in ["readonly", "operator", "admin"] {
        for categories in [None, Some("vm"), Some("vm,storage")] {
            let file = dir.path().join(format!("{preset}-{}.json", categories.unwrap_or("all")));
            let mut args = vec!["policy", "init", "--preset", preset, "--out", file.to_str().unwrap()];
            if let Some(c) = categories {
                args.extend(["--categories", c]);
            }
            let (code, _, err) = run(&args).await;
            assert_eq!(code, Some(0), "{err}");
            let (code, out, err) = run(&["policy", "check", file.to_str().unwrap()]).await;
            assert_eq!(code, Some(0), "{preset} {categories:?}: {err}");
            assert!(out.contains(": valid"), "{out}");

            let cases = dir.path().join(format!("{preset}-{}.cases.toml", categories.unwrap_or("all")));
            // `vm,storage` lets `pool_list` in; only `vm` alone keeps it out.
            std::fs::write(&cases, preset_cases(preset, categories == Some("vm"))).unwrap();
            let (code, out, err) = run(&["policy", "test", file.to_str().unwrap(), cases.to_str().unwrap()]).await;
            assert_eq!(code, Some(0), "{preset} {categories:?}:\n{out}{err}");
        }
    }
    // Printed to stdout without --out; an existing file is never overwritten.
    let (code, out, _) = run(&["policy", "init", "--preset", "operator"]).await;
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["tools"]["vm_delete"]["x-approval"], "always");
    assert!(doc["$comment"].as_str().unwrap().contains("--preset operator"));
    let existing = dir.path().join("readonly-all.json");
    let before = std::fs::read_to_string(&existing).unwrap();
    let (code, _, err) = run(&["policy", "init", "--preset", "admin", "--out", existing.to_str().unwrap()]).await;
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), before);
    let (code, _, err) = run(&["policy", "init", "--preset", "admin", "--categories", "vms"]).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown category `vms`"), "{err}");
}
