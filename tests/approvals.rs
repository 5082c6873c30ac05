//! Approvals end to end: a call that needs a person's approval is refused with
//! `[APPROVAL REQUIRED]` and an id, a person answers with `truenas-mcp approvals` over the
//! control socket, and the agent's repeated call goes through once. Every approval that must
//! not count (expired, used, other arguments, other grant, other policy) sends nothing, as the
//! simulated NAS's call recorder shows.

use std::path::Path;
use std::time::Duration;

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use crate::http::{connect, serve_http};
use crate::util::*;

/// A policy where `vm_stop` always needs approval and `vm_status` is allowed.
fn stop_needs_approval(extra: Value) -> Value {
    let mut doc = json!({"version": "1", "default": "deny", "tools": {
        "vm_status": {},
        "vm_stop": {"x-approval": "always"},
    }});
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    doc
}

async fn serve(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, policy: &Value) -> Session {
    let path = policy_file(dir, "p.json", policy);
    let state = dir.path().join("state");
    let audit = dir.path().join("audit.jsonl");
    let args = [
        "--policy",
        path.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ];
    connect_stdio(nas, &args).await.0
}

/// Runs `truenas-mcp approvals ARGS --state-dir DIR/state`: (exit code, stdout, stderr).
async fn approvals(dir: &tempdir::Dir, args: &[&str]) -> (i32, String, String) {
    approvals_cli(&dir.path().join("state"), args).await
}

/// The approval id of an `[APPROVAL REQUIRED]` answer, checked against its `_meta`.
fn required_id(result: &CallToolResult, action: &str) -> String {
    let t = text(result);
    assert!(is_error(result), "{t}");
    let prefix = format!("[APPROVAL REQUIRED] {action} needs approval ");
    assert!(t.starts_with(&prefix), "{t}");
    let id = t[prefix.len()..].split(' ').next().unwrap().to_owned();
    assert!(t.ends_with(&format!("ask a person to approve it with: truenas-mcp approvals approve {id}")), "{t}");
    let meta = result.meta.as_ref().expect("_meta carries the approval");
    assert_eq!(meta.0.get("io.truenas-mcp/approval"), Some(&json!({"id": id, "status": "pending"})));
    assert_eq!(id.len(), 32, "{id}");
    id
}

fn audit_events(dir: &tempdir::Dir) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|r| {
            let a = r.get("approval")?;
            Some((a["event"].as_str()?.to_owned(), a["id"].as_str()?.to_owned()))
        })
        .collect()
}

fn current_user() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:")).unwrap().split_whitespace().next().unwrap();
    truenas_mcp::state::control::user_name(uid.parse().unwrap())
}

#[tokio::test]
async fn a_person_approves_through_the_cli_and_the_repeated_call_goes_through_once() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("approve");
    let session = serve(&nas, &dir, &stop_needs_approval(json!({}))).await;

    let first = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    let id = required_id(&first, "vm_stop");
    assert!(text(&first).contains("(rule: /tools/vm_stop/x-approval)"), "{}", text(&first));
    let again = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert_eq!(required_id(&again, "vm_stop"), id, "a repeated call finds the same pending approval");
    // `confirm: true` written by the agent is not an approval.
    let confirmed = truenas(&session, "vm", "vm_stop", json!({"id": 1, "confirm": true})).await;
    assert!(is_error(&confirmed), "{}", text(&confirmed));
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());

    let (code, out, err) = approvals(&dir, &["list"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with(&id) && l.contains("pending") && l.contains("vm_stop")), "{out}");
    let (code, shown, err) = approvals(&dir, &["show", &id]).await;
    assert_eq!(code, 0, "{err}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["method"], "vm.stop");
    assert_eq!(shown["params"], json!([1, {"force": false}]), "what would be sent: {shown}");
    assert_eq!(shown["rule"], "/tools/vm_stop/x-approval");
    assert_eq!(shown["grant"], "stdio");
    assert_eq!(shown["expires"].as_u64().unwrap() - shown["created"].as_u64().unwrap(), 600);

    let (code, out, err) = approvals(&dir, &["approve", &id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("approved {id}")), "{out}");
    let (code, _, err) = approvals(&dir, &["approve", &id]).await;
    assert_eq!(code, 1);
    assert!(err.contains("is approved, not pending"), "{err}");

    let done = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&done), "{}", text(&done));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    // Single use: the same call again needs a new approval, and nothing more is sent.
    let reused = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert_ne!(required_id(&reused, "vm_stop"), id);
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);

    let (_, shown, _) = approvals(&dir, &["show", &id]).await;
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["status"], "used");
    assert_eq!(shown["by"], current_user());
    let events = audit_events(&dir);
    let of_id: Vec<&str> = events.iter().filter(|(_, i)| *i == id).map(|(e, _)| e.as_str()).collect();
    assert_eq!(of_id, ["requested", "approved", "used"]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn other_arguments_need_their_own_approval() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("approveargs");
    let session = serve(&nas, &dir, &stop_needs_approval(json!({}))).await;
    let id = required_id(&truenas(&session, "vm", "vm_stop", json!({"id": 1})).await, "vm_stop");
    approvals(&dir, &["approve", &id]).await;
    let forced = truenas(&session, "vm", "vm_stop", json!({"id": 1, "force": true})).await;
    assert_ne!(required_id(&forced, "vm_stop"), id);
    let other_vm = truenas(&session, "vm", "vm_stop", json!({"id": 2})).await;
    assert_ne!(required_id(&other_vm, "vm_stop"), id);
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_denial_reaches_the_agent_with_its_reason() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("deny");
    let session = serve(&nas, &dir, &stop_needs_approval(json!({}))).await;
    let id = required_id(&truenas(&session, "vm", "vm_stop", json!({"id": 1})).await, "vm_stop");
    let (code, _, err) = approvals(&dir, &["deny", &id, "--reason", "the backup is still running"]).await;
    assert_eq!(code, 0, "{err}");
    let denied = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(is_error(&denied));
    let user = current_user();
    assert_eq!(
        text(&denied),
        format!("[APPROVAL DENIED] vm_stop was denied by {user} (approval {id}): the backup is still running")
    );
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
    let (code, _, err) = approvals(&dir, &["approve", &id]).await;
    assert_eq!(code, 1);
    assert!(err.contains("is denied, not pending"), "{err}");
    let (code, _, err) = approvals(&dir, &["approve", "0123456789abcdef0123456789abcdef"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("no approval `0123456789abcdef0123456789abcdef`"), "{err}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn an_expired_approval_is_not_used() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("expire");
    let session = serve(&nas, &dir, &stop_needs_approval(json!({"x-approval-ttl": 1}))).await;
    let id = required_id(&truenas(&session, "vm", "vm_stop", json!({"id": 1})).await, "vm_stop");
    let (code, _, err) = approvals(&dir, &["approve", &id]).await;
    assert_eq!(code, 0, "{err}");
    // Past its expiry (whole seconds): the approval no longer counts.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let late = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert_ne!(required_id(&late, "vm_stop"), id);
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
    let (_, shown, _) = approvals(&dir, &["show", &id]).await;
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap()["status"], "expired");
    assert!(audit_events(&dir).contains(&("expired".to_owned(), id)));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_restart_keeps_pending_approvals_and_used_ones_and_a_changed_policy_needs_a_new_one() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("restart");
    let policy = stop_needs_approval(json!({}));
    let session = serve(&nas, &dir, &policy).await;
    let waiting = required_id(&truenas(&session, "vm", "vm_stop", json!({"id": 1})).await, "vm_stop");
    // VMs 1 and 3 of the simulated NAS are running.
    let used = required_id(&truenas(&session, "vm", "vm_stop", json!({"id": 3})).await, "vm_stop");
    approvals(&dir, &["approve", &used]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_stop", json!({"id": 3})).await));
    session.cancel().await.unwrap();
    let (code, _, err) = approvals(&dir, &["list"]).await;
    assert_eq!(code, 1, "no server is running");
    assert!(err.contains("no truenas-mcp server is running"), "{err}");

    let session = serve(&nas, &dir, &policy).await;
    let (_, out, _) = approvals(&dir, &["list"]).await;
    assert!(out.lines().any(|l| l.starts_with(&waiting) && l.contains("pending")), "{out}");
    assert!(out.lines().any(|l| l.starts_with(&used) && l.contains("used")), "{out}");
    let again = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert_eq!(required_id(&again, "vm_stop"), waiting, "the pending approval survived");
    let reused = truenas(&session, "vm", "vm_stop", json!({"id": 3})).await;
    assert_ne!(required_id(&reused, "vm_stop"), used, "the used approval stays used");
    approvals(&dir, &["approve", &waiting]).await;
    session.cancel().await.unwrap();

    // The same approval under a changed policy is not the same approval.
    let mut changed = policy.clone();
    changed["description"] = json!("edited");
    let session = serve(&nas, &dir, &changed).await;
    let after = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert_ne!(required_id(&after, "vm_stop"), waiting);
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1, "only the one approved call was sent");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn another_grant_cannot_use_an_approval() {
    const ALPHA: &str = "alpha-token-0123456789";
    const BETA: &str = "beta-token-0123456789";
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("grants");
    let path = policy_file(&dir, "p.json", &stop_needs_approval(json!({})));
    let state = dir.path().join("state");
    let args = [
        "--policy",
        path.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--http-token",
        ALPHA,
        "--http-token",
        BETA,
    ];
    let (_child, url) = serve_http(&nas, &args).await;
    let alpha = connect(&url, ALPHA).await;
    let beta = connect(&url, BETA).await;
    let id = required_id(&truenas(&alpha, "vm", "vm_stop", json!({"id": 1})).await, "vm_stop");
    let (code, _, err) = approvals(&dir, &["approve", &id]).await;
    assert_eq!(code, 0, "{err}");
    let other = truenas(&beta, "vm", "vm_stop", json!({"id": 1})).await;
    assert_ne!(required_id(&other, "vm_stop"), id);
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
    assert!(!is_error(&truenas(&alpha, "vm", "vm_stop", json!({"id": 1})).await));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    alpha.cancel().await.unwrap();
    beta.cancel().await.unwrap();
}

#[tokio::test]
async fn the_control_socket_is_private_and_a_second_server_cannot_take_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("socket");
    let policy = stop_needs_approval(json!({}));
    let session = serve(&nas, &dir, &policy).await;
    let socket = dir.path().join("state/control.sock");
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.path().join("state")).unwrap().permissions().mode() & 0o777, 0o700);
    let path = policy_file(&dir, "p.json", &policy);
    let out = command(&nas)
        .args(["--policy", path.to_str().unwrap(), "--state-dir", dir.path().join("state").to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another truenas-mcp server is using the control socket"));
    assert!(Path::new(&socket).exists(), "the first server keeps its socket");
    let (code, _, err) = approvals(&dir, &["list"]).await;
    assert_eq!(code, 0, "{err}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_raw_call_standing_for_an_action_that_needs_approval_needs_the_same() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawapprove");
    let policy = json!({"version": "1", "default": "deny", "tools": {
        "truenas_api_call": {},
        "vm_stop": {"x-approval": [{"path": "args.force", "op": "eq", "value": true}]},
    }});
    let session = serve(&nas, &dir, &policy).await;
    let raw = |vm: u64, body: &'static str| {
        let path = format!("/vm/id/{vm}/stop");
        truenas(&session, "api", "truenas_api_call", json!({"method": "POST", "path": path, "body": body}))
    };
    let forced = raw(1, r#"{"force": true}"#).await;
    let id = required_id(&forced, "truenas_api_call");
    assert!(text(&forced).contains("(rule: /tools/vm_stop/x-approval/args.force-eq)"), "{}", text(&forced));
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
    approvals(&dir, &["approve", &id]).await;
    let approved = raw(1, r#"{"force": true}"#).await;
    assert!(!is_error(&approved), "{}", text(&approved));
    assert_eq!(nas_calls_of(&nas, "vm.stop"), [json!([1, {"force": true}])]);
    // Not forced (VM 3 is running too): no approval asked.
    let plain = raw(3, r#"{"force": false}"#).await;
    assert!(!is_error(&plain), "{}", text(&plain));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn the_model_cannot_reach_approvals_through_any_tool_or_resource() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("noreach");
    let session = serve(&nas, &dir, &json!({"version": "1", "default": "allow"})).await;
    let tools = session.list_all_tools().await.unwrap();
    let resources = session.list_all_resources().await.unwrap();
    let templates = session.list_all_resource_templates().await.unwrap();
    let surface = format!("{tools:?} {resources:?} {templates:?}").to_lowercase();
    assert!(!surface.contains("approv"), "no tool or resource names approvals");
    // The raw escape hatch reaches TrueNAS methods only; the control socket is not one.
    let raw = truenas(
        &session,
        "api",
        "truenas_api_call",
        json!({"method": "POST", "path": "/approvals/approve", "body": "{}"}),
    )
    .await;
    assert!(is_error(&raw), "{}", text(&raw));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn with_a_wait_the_call_is_held_until_a_person_answers() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("wait");
    let session = serve(&nas, &dir, &stop_needs_approval(json!({"x-approval-wait": 60}))).await;
    let held = tokio::spawn({
        let peer = session.peer().clone();
        async move {
            let args = json!({"category": "vm", "action": "vm_stop", "params": {"id": 1}});
            let params =
                rmcp::model::CallToolRequestParams::new("truenas").with_arguments(args.as_object().unwrap().clone());
            peer.call_tool(params).await.unwrap()
        }
    });
    let id = loop {
        let (_, out, _) = approvals(&dir, &["list"]).await;
        if let Some(line) = out.lines().find(|l| l.contains("pending")) {
            break line.split_whitespace().next().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
    let (code, _, err) = approvals(&dir, &["approve", &id]).await;
    assert_eq!(code, 0, "{err}");
    let done = held.await.unwrap();
    assert!(!is_error(&done), "{}", text(&done));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    session.cancel().await.unwrap();
}
