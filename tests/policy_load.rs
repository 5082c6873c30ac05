//! Policies that a careless author could get subtly wrong refuse to load: the server does not
//! start (exit code 2, every problem on stderr, nothing sent to the NAS), and `policy check`
//! names the problems (exit code 1) or prints its warnings (exit code 0).

use std::process::Output;

use serde_json::json;

use crate::util::*;

async fn run(cmd: &mut tokio::process::Command) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = cmd.output().await.unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// Starts the server with the policy text and checks it refuses to start naming `expected`;
/// `policy check` refuses it too.
async fn refuses(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, name: &str, text: &str, expected: &[&str]) {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let (code, stdout, stderr) = run(command(nas).args(["--policy", path.to_str().unwrap()])).await;
    assert_eq!(code, Some(2), "{name}: {stderr}");
    assert!(stdout.is_empty(), "{name}: nothing on the MCP channel: {stdout}");
    for needle in expected {
        assert!(stderr.contains(needle), "{name}: `{needle}` not in {stderr}");
    }
    let (code, _, stderr) = run(command(nas).args(["policy", "check", path.to_str().unwrap()])).await;
    assert_eq!(code, Some(1), "{name}: {stderr}");
    assert!(stderr.contains(expected[0]), "{name}: {stderr}");
}

#[tokio::test]
async fn a_policy_a_careless_author_got_wrong_refuses_to_start() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("careless");
    let doc = |tools: serde_json::Value| json!({"version": "1", "default": "deny", "tools": tools}).to_string();

    let typo = doc(json!({"vm_strat": {}}));
    refuses(&nas, &dir, "typo.json", &typo, &["/tools/vm_strat: unknown action `vm_strat`; did you mean `vm_start`?"])
        .await;

    let duplicate = r#"{"version": "1", "default": "deny", "tools": {
        "vm_stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]},
        "vm_stop": {}}}"#;
    refuses(&nas, &dir, "duplicate.json", duplicate, &["/tools/vm_stop: duplicate key `vm_stop`"]).await;

    let extension = doc(json!({"vm_stop": {"x-approvals": "always"}}));
    refuses(
        &nas,
        &dir,
        "extension.json",
        &extension,
        &[
            "/tools/vm_stop/x-approvals: unknown extension `x-approvals`",
            "`x-risk-defaults`",
            "`x-any-job`",
            "`x-approval`",
        ],
    )
    .await;

    let argument = doc(json!({"vm_stop": {"deny_if": [{"path": "args.forse", "op": "eq", "value": true}]}}));
    refuses(
        &nas,
        &dir,
        "argument.json",
        &argument,
        &["/tools/vm_stop/deny_if/0/path: `vm_stop` has no argument `forse`; did you mean `args.force`?"],
    )
    .await;

    let hide = json!({"version": "1", "default": "allow", "hide": ["truenas"]}).to_string();
    refuses(&nas, &dir, "hide.json", &hide, &["/hide/0: `truenas` is the name of the MCP tool itself"]).await;

    let padding = " ".repeat(truenas_mcp::policy::MAX_BYTES);
    let oversized = format!(r#"{{"version": "1", "default": "deny"}}{padding}"#);
    let size = oversized.len().to_string();
    refuses(&nas, &dir, "oversized.json", &oversized, &["the limit is 1048576 bytes (1 MiB)", &size]).await;

    assert!(nas.recorder().calls().is_empty(), "nothing was sent to the NAS");
}

#[tokio::test]
async fn policy_check_prints_warnings_and_still_succeeds() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("warnings");
    let path = policy_file(
        &dir,
        "warn.json",
        &json!({"version": "1", "default": "deny", "hide": ["system_reboot"],
        "x-risk-defaults": {"read": "allow", "write": "allow", "destructive": "deny"},
        "tools": {
            "vm_delete": {},
            "system_reboot": {},
            "vm_start": {"deny_if": [{"path": "args.id", "op": "eq", "value": "7"}]}
        }}),
    );
    let (code, stdout, stderr) = run(command(&nas).args(["policy", "check", path.to_str().unwrap()])).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("valid, with 3 warning(s)"), "{stdout}");
    for expected in [
        "warning: /tools/system_reboot: `system_reboot` is hidden by `/hide/0` (`system_reboot`), so this entry never applies",
        "warning: /tools/vm_delete: `vm_delete` is destructive and the default denies destructive actions (`/x-risk-defaults/destructive`); this entry allows it",
        "warning: /tools/vm_start/deny_if/0: `args.id` of `vm_start` is an integer, so it never equals `\"7\"`",
    ] {
        assert!(stdout.contains(expected), "`{expected}` not in {stdout}");
    }
    assert!(stdout.contains("tools (3):"), "the summary follows the warnings: {stdout}");

    // The same policy serves: warnings never stop a start.
    let (session, _) = connect_stdio(&nas, &["--policy", path.to_str().unwrap()]).await;
    let started = truenas(&session, "vm", "vm_start", json!({"id": 1})).await;
    assert!(!text(&started).contains("POLICY DENIED"), "{}", text(&started));
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 1, "the call reached the NAS");
    session.cancel().await.unwrap();
}
