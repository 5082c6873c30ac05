//! Rolling out a policy safely, end to end through the real binary: the policy file reloads on
//! a change (written in place or renamed over) and on SIGHUP, a broken edit keeps the old policy
//! and lists its problems, an approval given under the old policy does not carry over, shadow
//! mode lets calls through while auditing what it would have done, `--shadow-policy` audits
//! disagreements, and `policy explain` shows the rules a decision considered.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolResult;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use truenas_sim::SimHandle;

use crate::util::*;

/// The audit file's records.
fn records(path: &Path) -> Vec<Value> {
    let raw = std::fs::read_to_string(path).unwrap_or_default();
    raw.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The `policy_reload` records, as (result, problems).
fn reloads(audit: &Path) -> Vec<(String, u64)> {
    records(audit)
        .iter()
        .filter(|r| r["action_type"] == "policy_reload")
        .map(|r| {
            let p = &r["policy_reload"];
            (p["result"].as_str().unwrap_or_default().to_owned(), p["problems"].as_u64().unwrap_or(u64::MAX))
        })
        .collect()
}

/// Waits (bounded) until `ready` holds; the bound only keeps a broken build from hanging.
async fn eventually(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    for _ in 0..150 {
        if ready().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting: {what}");
}

/// Replaces the file the way editors and `mv` do: a new file renamed over the old one.
fn rename_over(path: &Path, doc: &Value) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A served binary: the session, its process id, and the files it writes.
struct Served {
    session: Session,
    pid: u32,
    policy: PathBuf,
    audit: PathBuf,
    log: PathBuf,
}

async fn serve(nas: &SimHandle, dir: &tempdir::Dir, policy: &Value, extra: &[&str]) -> Served {
    let path = policy_file(dir, "policy.json", policy);
    let audit = dir.path().join("audit.jsonl");
    let log = dir.path().join("stderr.log");
    let mut cmd = command(nas);
    cmd.args(["--policy", path.to_str().unwrap(), "--audit", audit.to_str().unwrap()]).args(extra);
    let stderr = std::fs::File::create(&log).unwrap();
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::from(stderr)).spawn().unwrap();
    let pid = transport.id().unwrap();
    let session = Client::default().serve(transport).await.unwrap();
    Served { session, pid, policy: path, audit, log }
}

fn denied(result: &CallToolResult) -> bool {
    is_error(result) && text(result).starts_with("[POLICY DENIED]")
}

/// Allows `vm_status`, except for VM 1 when `deny_one` is set.
fn status_policy(deny_one: bool) -> Value {
    let entry = if deny_one {
        json!({"deny_if": [{"path": "args.id", "op": "eq", "value": 1, "on_deny": "VM 1 is off limits"}]})
    } else {
        json!({})
    };
    json!({"version": "1", "default": "deny", "tools": {"vm_status": entry}})
}

async fn status(session: &Session) -> CallToolResult {
    truenas(session, "vm", "vm_status", json!({"id": 1})).await
}

#[tokio::test]
async fn an_edited_policy_file_decides_the_next_calls_whether_written_in_place_or_renamed_over() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("reload-edit");
    let s = serve(&nas, &dir, &status_policy(false), &[]).await;
    assert!(!is_error(&status(&s.session).await));
    let first_hash = records(&s.audit).last().unwrap()["policy_sha256"].clone();

    // Renamed over (an editor's save): the next calls are denied.
    rename_over(&s.policy, &status_policy(true));
    eventually("the renamed-over policy is in force", async || denied(&status(&s.session).await)).await;
    let t = text(&status(&s.session).await);
    assert!(t.contains("VM 1 is off limits") && t.contains("(rule: /tools/vm_status/deny_if/args.id-eq)"), "{t}");

    // Written in place: allowed again.
    std::fs::write(&s.policy, serde_json::to_string(&status_policy(false)).unwrap()).unwrap();
    eventually("the rewritten policy is in force", async || !is_error(&status(&s.session).await)).await;
    s.session.cancel().await.unwrap();

    assert_eq!(reloads(&s.audit), [("applied".to_owned(), 0), ("applied".to_owned(), 0)]);
    let all = records(&s.audit);
    let reload = all.iter().find(|r| r["action_type"] == "policy_reload").unwrap();
    assert_eq!(reload["policy_reload"]["previous_sha256"], first_hash);
    assert_eq!(reload["policy_reload"]["file_sha256"], reload["policy_sha256"], "{reload}");
    assert_eq!(reload["transport"], "server");
    // Every call is recorded under the policy that decided it.
    let denied_call = all.iter().find(|r| r["decision"] == "deny").unwrap();
    assert_eq!(denied_call["policy_sha256"], reload["policy_sha256"]);
    // No document content in the reload records.
    for r in all.iter().filter(|r| r["action_type"] == "policy_reload") {
        assert!(!r.to_string().contains("off limits"), "{r}");
    }
}

#[tokio::test]
async fn sighup_rereads_the_policy_file_and_the_server_keeps_serving() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("reload-hup");
    let s = serve(&nas, &dir, &status_policy(false), &[]).await;
    assert!(!is_error(&status(&s.session).await));
    let hup = std::process::Command::new("kill").args(["-HUP", &s.pid.to_string()]).status().unwrap();
    assert!(hup.success());
    // Only the signal path re-reads an unchanged file (polling sees no change), and says so.
    eventually("the SIGHUP reload is audited", async || !reloads(&s.audit).is_empty()).await;
    assert_eq!(reloads(&s.audit), [("unchanged".to_owned(), 0)]);
    // SIGHUP did not end the server, and the policy is the same.
    assert!(!is_error(&status(&s.session).await));
    s.session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_broken_edit_keeps_the_old_policy_and_the_log_lists_every_problem() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("reload-broken");
    let s = serve(&nas, &dir, &status_policy(true), &[]).await;
    assert!(denied(&status(&s.session).await));
    rename_over(
        &s.policy,
        &json!({"version": "1", "default": "allow", "tools": {"vm_statuss": {}, "vm_status": {"onDeny": "x"}}}),
    );
    eventually("the rejected reload is audited", async || !reloads(&s.audit).is_empty()).await;
    assert_eq!(reloads(&s.audit), [("rejected".to_owned(), 2)]);
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("/tools/vm_statuss: unknown action `vm_statuss`"), "{log}");
    assert!(log.contains("/tools/vm_status/onDeny: unknown key `onDeny`"), "{log}");
    assert!(log.contains("the policy in force stays"), "{log}");
    // The old policy still decides: `default: allow` of the broken file never took effect.
    assert!(denied(&status(&s.session).await));
    let other = truenas(&s.session, "vm", "vm_list", json!({})).await;
    assert!(denied(&other), "{}", text(&other));
    s.session.cancel().await.unwrap();
}

#[tokio::test]
async fn counters_survive_a_reload() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("reload-counters");
    let limited = |description: &str| {
        json!({"version": "1", "default": "deny", "description": description, "tools": {"vm_status": {
            "limits": [{"counter": "reads", "window": "hour", "max": 2, "scope": "grant"}]}}})
    };
    let s = serve(&nas, &dir, &limited("before"), &[]).await;
    assert!(!is_error(&status(&s.session).await));
    assert!(!is_error(&status(&s.session).await));
    rename_over(&s.policy, &limited("after"));
    eventually("the reload is audited", async || !reloads(&s.audit).is_empty()).await;
    let third = status(&s.session).await;
    assert!(denied(&third) && text(&third).contains("/tools/vm_status/limits/reads"), "{}", text(&third));
    s.session.cancel().await.unwrap();
}

#[tokio::test]
async fn an_approval_given_under_the_old_policy_is_not_used_after_a_reload() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("reload-approval");
    let state = dir.path().join("state");
    let asks = json!({"version": "1", "default": "deny", "tools": {"vm_stop": {"x-approval": "always"}}});
    let s = serve(&nas, &dir, &asks, &["--state-dir", state.to_str().unwrap()]).await;
    let first = truenas(&s.session, "vm", "vm_stop", json!({"id": 1})).await;
    let t = text(&first);
    let id = t.split("needs approval ").nth(1).and_then(|r| r.split(' ').next()).unwrap().to_owned();
    let out = tokio::process::Command::new(bin())
        .args(["approvals", "approve", &id, "--state-dir", state.to_str().unwrap()])
        .env_remove("TRUENAS_MCP_CONTROL")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The new policy also asks: the approval was bound to the old one, so a new one is asked.
    let asks_again = json!({"version": "1", "default": "deny", "x-approval-ttl": 60,
        "tools": {"vm_stop": {"x-approval": "always"}}});
    rename_over(&s.policy, &asks_again);
    eventually("the reload is audited", async || reloads(&s.audit).len() == 1).await;
    let again = truenas(&s.session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(text(&again).starts_with("[APPROVAL REQUIRED]"), "{}", text(&again));
    assert!(!text(&again).contains(&id), "the old approval is not found: {}", text(&again));

    // Back to a policy that denies the call: the approved record is worthless.
    rename_over(&s.policy, &json!({"version": "1", "default": "deny", "tools": {"vm_status": {}}}));
    eventually("the second reload is audited", async || reloads(&s.audit).len() == 2).await;
    let denied_now = truenas(&s.session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(denied(&denied_now), "{}", text(&denied_now));
    assert!(nas_calls_of(&nas, "vm.stop").is_empty(), "nothing was sent under either policy");
    s.session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_shadow_entry_lets_a_denied_call_through_and_audits_would_deny() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("shadow-entry");
    let policy = json!({"version": "1", "default": "deny", "hide": ["vm_delete"], "tools": {"vm_stop": {
        "x-mode": "shadow",
        "deny_if": [{"path": "args.id", "op": "eq", "value": 1, "on_deny": "VM 1 stays up"}],
        "x-approval": "always"}}});
    let s = serve(&nas, &dir, &policy, &[]).await;
    let stopped = truenas(&s.session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    let other = truenas(&s.session, "vm", "vm_stop", json!({"id": 2})).await;
    assert!(!text(&other).contains("[APPROVAL REQUIRED]"), "approval is recorded, not asked: {}", text(&other));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 2, "both calls were sent");
    // Shadow never reveals a hidden tool.
    let hidden = truenas(&s.session, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await;
    assert!(text(&hidden).contains("Unknown action") && text(&hidden).contains("vm_delete"), "{}", text(&hidden));
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
    s.session.cancel().await.unwrap();

    let decided: Vec<Value> =
        records(&s.audit).into_iter().filter(|r| r["phase"] == "decided" && r["action"] == "vm_stop").collect();
    assert_eq!(decided.len(), 2);
    assert_eq!(
        decided[0]["would_deny"],
        json!({"rule": "/tools/vm_stop/deny_if/args.id-eq", "reason": "VM 1 stays up"})
    );
    assert_eq!(decided[1]["would_deny"], Value::Null);
    assert_eq!(decided[1]["would_approve"], json!({"rule": "/tools/vm_stop/x-approval"}));
}

#[tokio::test]
async fn a_shadow_policy_never_changes_an_outcome_and_every_disagreement_is_audited() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("shadow-policy");
    let shadow = policy_file(
        &dir,
        "shadow.json",
        &json!({"version": "1", "default": "deny", "tools": {"vm_list": {}, "vm_status": {"deny_if": [
            {"path": "args.id", "op": "eq", "value": 1}]}}}),
    );
    let active = json!({"version": "1", "default": "deny", "tools": {"vm_status": {}}});
    let s = serve(&nas, &dir, &active, &["--shadow-policy", shadow.to_str().unwrap()]).await;
    assert!(!is_error(&status(&s.session).await), "the shadow's denial changes nothing");
    let listed = truenas(&s.session, "vm", "vm_list", json!({})).await;
    assert!(denied(&listed), "the shadow's allowance changes nothing: {}", text(&listed));
    let agreed = truenas(&s.session, "vm", "vm_status", json!({"id": 2})).await;
    assert!(!is_error(&agreed));
    s.session.cancel().await.unwrap();

    let all = records(&s.audit);
    let disagreements: Vec<(&str, &Value)> = all
        .iter()
        .filter(|r| r["action_type"] == "call" && r["phase"] != "done")
        .map(|r| (r["action"].as_str().unwrap(), &r["shadow_disagreement"]))
        .collect();
    assert_eq!(
        disagreements,
        [
            (
                "vm_status",
                &json!({"active": "allow", "shadow": "deny", "shadow_rule": "/tools/vm_status/deny_if/args.id-eq"})
            ),
            ("vm_list", &json!({"active": "deny", "shadow": "allow", "shadow_rule": "/tools/vm_list"})),
            ("vm_status", &Value::Null),
        ]
    );
}

/// Runs `truenas-mcp policy explain ARGS`: (exit code, stdout, stderr).
fn explain(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(bin()).args(["policy", "explain"]).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn policy_explain_shows_the_decision_and_every_rule_considered() {
    let dir = tempdir::Dir::new("explain");
    let file = policy_file(
        &dir,
        "p.json",
        &json!({"version": "1", "default": "deny", "hide": ["vm_delete"], "tools": {
            "vm_stop": {"require": [{"path": "args.id", "op": "lt", "value": 5}],
                        "deny_if": [{"path": "args.force", "op": "eq", "value": true}],
                        "limits": [{"counter": "stops", "window": "hour", "max": 2, "scope": "grant"}]},
            "vm_start": {"limits": [{"counter": "none", "window": "day", "max": 0, "scope": "server"}]}}}),
    );
    let file = file.to_str().unwrap();

    let (code, out, err) = explain(&[file, "vm_stop", r#"{"id": 1}"#]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("decision: allow\nrule: /tools/vm_stop\n"), "{out}");
    for line in [
        "passes    hide             (hidden)  -- not hidden",
        "found     entry            /tools/vm_stop  -- listed by action `vm_stop`",
        "absent    entry            /tools/vm.stop  -- no entry for method `vm.stop`",
        "passes    require          /tools/vm_stop/require/args.id-lt  -- `args.id` lt `5`: holds",
        "passes    deny_if          /tools/vm_stop/deny_if/args.force-eq  -- `args.force` eq `true`: does not hold",
        "counted   limit            /tools/vm_stop/limits/stops  -- 2 left of 2 per hour",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }

    let (code, out, _) = explain(&[file, "vm_stop", r#"{"id": 1, "force": true}"#, "--json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["rule"], "/tools/vm_stop/deny_if/args.force-eq");
    let last = v["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "denies");
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["check"] != "limit"), "no limit after a denial: {v}");

    let (code, out, _) = explain(&[file, "vm_delete", r#"{"id": 1}"#, "--grant", "ops"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("decision: deny\nrule: (hidden)\nreason: action `vm_delete` is hidden by this policy"),
        "{out}"
    );
    assert!(out.contains("by grant `ops`"), "{out}");

    let (code, out, _) = explain(&[file, "vm_start", r#"{"id": 1}"#, "--at", "2026-01-03T04:00:00Z"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("decision: deny\nrule: /tools/vm_start/limits/none\n"), "{out}");
    assert!(out.contains("denies    limit            /tools/vm_start/limits/none"), "{out}");

    // Bad file, action, arguments or time: exit code 2.
    let broken = policy_file(&dir, "broken.json", &json!({"version": "1", "default": "maybe"}));
    assert_eq!(explain(&[broken.to_str().unwrap(), "vm_stop", "{}"]).0, 2);
    assert_eq!(explain(&[file, "vm_nosuch", "{}"]).0, 2);
    assert_eq!(explain(&[file, "vm_stop", r#"{"id": "x"}"#]).0, 2);
    assert_eq!(explain(&[file, "vm_stop", "[1]"]).0, 2);
    assert_eq!(explain(&[file, "vm_stop", r#"{"id": 1}"#, "--at", "yesterday"]).0, 2);
}

#[tokio::test]
async fn a_call_held_for_approval_across_a_reload_is_refused_even_once_approved() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("reload-held");
    let state = dir.path().join("state");
    let held_policy = |ttl: u64| {
        json!({"version": "1", "default": "deny", "x-approval-wait": 60, "x-approval-ttl": ttl,
            "tools": {"vm_stop": {"x-approval": "always"}}})
    };
    let s = serve(&nas, &dir, &held_policy(600), &["--state-dir", state.to_str().unwrap()]).await;
    let approvals = |args: Vec<String>| {
        let state = state.clone();
        async move { approvals_cli(&state, &args).await.1 }
    };
    let held = truenas(&s.session, "vm", "vm_stop", json!({"id": 1}));
    let meanwhile = async {
        let mut id = String::new();
        eventually("the held call's approval is pending", async || {
            let list = approvals(vec!["list".into()]).await;
            match list.lines().find(|l| l.contains("pending")) {
                Some(line) => {
                    id = line.split_whitespace().next().unwrap().to_owned();
                    true
                }
                None => false,
            }
        })
        .await;
        rename_over(&s.policy, &held_policy(60));
        eventually("the reload is audited", async || reloads(&s.audit).len() == 1).await;
        let answer = approvals(vec!["approve".into(), id]).await;
        assert!(answer.starts_with("approved"), "{answer}");
    };
    let (result, ()) = tokio::join!(held, meanwhile);
    let t = text(&result);
    assert!(denied(&result) && t.contains("(rule: (policy reloaded))"), "{t}");
    assert!(nas_calls_of(&nas, "vm.stop").is_empty(), "nothing was sent");
    s.session.cancel().await.unwrap();
}
