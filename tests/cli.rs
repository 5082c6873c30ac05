//! The binary's own interface: subcommands, exit codes and refusals to start.

use std::process::Output;

use serde_json::{Value, json};

use crate::util::*;

async fn run(cmd: &mut tokio::process::Command) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = cmd.output().await.unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

#[tokio::test]
async fn a_malformed_policy_refuses_to_start_and_names_the_problem() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("badpolicy");
    let bad = policy_file(
        &dir,
        "bad.json",
        &json!({"version": "1", "default": "deny", "tools": {"vm_start": {"limits": [{"counter": "c", "window": "fortnight", "max": 1, "scope": "grant"}]}}, "extra": true}),
    );
    let (code, stdout, stderr) = run(command(&nas).args(["--policy", bad.to_str().unwrap()])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "nothing on the MCP channel: {stdout}");
    assert!(stderr.contains("/extra"), "{stderr}");
    assert!(stderr.contains("/tools/vm_start/limits/0/window"), "{stderr}");
    assert!(nas.recorder().calls().is_empty(), "nothing was sent to the NAS");

    let (code, out, _) = run(command(&nas).args(["policy", "check", bad.to_str().unwrap()])).await;
    assert_eq!(code, Some(1), "{out}");
    let good = repo("policy/seed-vm-start.json");
    let (code, out, err) = run(command(&nas).args(["policy", "check", good.to_str().unwrap()])).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("vm_start"), "{out}");
}

#[tokio::test]
async fn missing_configuration_is_one_line_naming_the_variable_with_exit_code_2() {
    let nas = start_sim().await;
    let (code, _, stderr) = run(command(&nas).env_remove("TRUENAS_URL")).await;
    assert_eq!(code, Some(2));
    assert!(stderr.trim().starts_with("error: TRUENAS_URL"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let (code, _, stderr) = run(command(&nas).env("TRUENAS_URL", "http://192.0.2.10")).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("clear text"), "{stderr}");
    assert!(!stderr.contains(truenas_sim::DEMO_API_KEY));

    let (code, _, stderr) = run(command(&nas).args(["--http", "0.0.0.0:0"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--http-token"), "{stderr}");
}

#[tokio::test]
async fn call_runs_one_action_through_the_policy_against_the_demo_nas() {
    let nas = start_sim().await;
    let (code, stdout, stderr) = run(command(&nas).args(["--demo", "call", "vm_list"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let vms: Value = serde_json::from_str(&stdout).unwrap();
    assert!(vms.as_array().is_some_and(|v| v.len() >= 3), "{stdout}");
    assert!(nas.recorder().calls().is_empty(), "--demo used its own in-process NAS");

    let (code, _, stderr) =
        run(command(&nas).args(["--demo", "call", "vm_delete", r#"{"id": 1, "confirm": true}"#])).await;
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("[POLICY DENIED]"), "{stderr}");

    let (code, stdout, _) = run(command(&nas).args(["tools", "--category", "vm"])).await;
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().filter(|l| l.trim_start().starts_with("vm_")).count(), 16, "{stdout}");

    let (code, stdout, _) = run(command(&nas).args(["policy", "schema"])).await;
    assert_eq!(code, Some(0));
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("policy/policy.schema.json")).unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), committed);
}

#[tokio::test]
async fn short_or_repeated_bearer_tokens_refuse_to_start_without_echoing_them() {
    // A server that wrongly starts would serve until killed: give up instead of hanging.
    async fn run(cmd: &mut tokio::process::Command) -> (Option<i32>, String, String) {
        let ran = tokio::time::timeout(std::time::Duration::from_secs(60), crate::cli::run(cmd)).await;
        ran.expect("the server refused to start")
    }
    let nas = start_sim().await;
    let short = "tiny-token-15ch";
    assert_eq!(short.len(), 15);
    let (code, stdout, stderr) = run(command(&nas).args(["--http", "127.0.0.1:0", "--http-token", short])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--http-token") && stderr.contains("16"), "{stderr}");
    assert!(!stderr.contains(short), "the token is never echoed: {stderr}");

    let long = "a-long-enough-token-0123";
    let (code, _, stderr) = run(command(&nas)
        .args(["--http", "127.0.0.1:0"])
        .env("TRUENAS_MCP_HTTP_TOKENS", format!("{long},other-long-token-0123,{long}")))
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TRUENAS_MCP_HTTP_TOKENS") && stderr.contains("twice"), "{stderr}");
    assert!(!stderr.contains(long), "the token is never echoed: {stderr}");
}

#[tokio::test]
async fn call_says_that_a_call_needing_approval_cannot_be_approved_out_of_band() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("call-approval");
    let policy = policy_file(
        &dir,
        "approve.json",
        &json!({"version": "1", "default": "allow", "tools": {"vm_stop": {"x-approval": "always"}}}),
    );
    let state = dir.path().join("state");
    let audit = dir.path().join("audit.jsonl");
    let (code, stdout, stderr) = run(command(&nas).args([
        "--policy",
        policy.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
        "call",
        "vm_stop",
        r#"{"id": 1}"#,
    ]))
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.starts_with("[APPROVAL REQUIRED] vm_stop needs approval "), "{stderr}");
    assert!(stderr.contains("a one-shot `truenas-mcp call` cannot be approved out of band"), "{stderr}");
    assert!(stderr.contains("through a running server"), "{stderr}");
    assert!(nas_calls_of(&nas, "vm.stop").is_empty(), "nothing was sent");
    assert!(!state.join("approvals.json").exists(), "a one-shot call keeps no approval on disk");
    // A denial or an ordinary failure says nothing about approval.
    let (code, _, stderr) =
        run(command(&nas).args(["--policy", policy.to_str().unwrap(), "call", "vm_stop", r#"{"id": "x"}"#])).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("out of band"), "{stderr}");
}
