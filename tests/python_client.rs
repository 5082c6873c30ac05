//! An independent MCP client: the Python `mcp` SDK, in a virtualenv the test makes once
//! under `target/` (pip fetches the `mcp` package on the first run).

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::process::Command;

use crate::util::*;

/// Tests sharing the virtualenv make (and install into) it one at a time.
static VENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The virtualenv's python, with `mcp` installed, and `extra` packages too (each once).
pub(crate) fn python_with(extra: &[&str]) -> PathBuf {
    let _one_at_a_time = VENV.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let python = python_client();
    for package in extra {
        let name = package.split(['<', '>', '=', '!', '~']).next().unwrap_or(package);
        let ready = repo("target/py-mcp-venv").join(format!(".{name}-installed"));
        if !ready.exists() {
            eprintln!("installing the Python package `{package}` into target/py-mcp-venv (pip, once)");
            let pip =
                std::process::Command::new(&python).args(["-m", "pip", "install", "-q", package]).status().unwrap();
            assert!(pip.success(), "pip install {package} failed (network access to PyPI is needed once)");
            std::fs::write(&ready, "").unwrap();
        }
    }
    python
}

/// `python` running the client `tests/python/<script>`, with the environment the server it spawns
/// needs against `nas`: the demo key and username, warnings only, counters in memory. The caller
/// adds the script's arguments.
pub(crate) fn python_script(python: &Path, script: &str, nas: &truenas_sim::SimHandle) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(repo(&format!("tests/python/{script}")))
        .env("TRUENAS_URL", nas.url())
        .env("TRUENAS_API_KEY", truenas_sim::DEMO_API_KEY)
        .env("TRUENAS_USERNAME", truenas_sim::DEMO_USERNAME)
        .env("RUST_LOG", "warn")
        .env("TRUENAS_MCP_STATE", "memory");
    cmd
}

/// Runs a Python client to its end: what it printed, as JSON, once it exited successfully.
pub(crate) async fn json_output(cmd: &mut Command) -> Value {
    let output = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python client failed: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn python_client() -> PathBuf {
    let venv = repo("target/py-mcp-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".mcp-installed");
    if !ready.exists() {
        let made = std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv).status().unwrap();
        assert!(made.success(), "python3 -m venv failed");
        let pip =
            std::process::Command::new(&python).args(["-m", "pip", "install", "-q", "mcp>=2.3,<3"]).status().unwrap();
        assert!(pip.success(), "pip install mcp failed");
        std::fs::write(&ready, "").unwrap();
    }
    python
}

#[tokio::test]
async fn the_python_mcp_sdk_lists_calls_sees_progress_and_denials() {
    let python = python_with(&[]);
    let nas = start_sim().await;
    let seen = json_output(python_script(&python, "client.py", &nas).arg(bin())).await;

    assert_eq!(seen["server"], "truenas-mcp");
    assert_eq!(seen["tools"], serde_json::json!(["truenas"]));
    assert!(seen["categories"]["text"].as_str().unwrap().contains("vm (16 actions)"));
    assert_eq!(seen["vm_list"]["error"], false, "{seen}");
    assert_eq!(seen["vm_stop"]["error"], false, "{seen}");
    assert!(seen["progress"].as_array().is_some_and(|p| p.len() >= 3), "{seen}");
    assert_eq!(seen["vm_delete"]["error"], true);
    assert!(seen["vm_delete"]["text"].as_str().unwrap().starts_with("[POLICY DENIED]"), "{seen}");
    assert_eq!(seen["bad_args"]["error"], true);
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    assert!(nas_calls_of(&nas, "vm.delete").is_empty() && nas_calls_of(&nas, "vm.get_instance").is_empty());
}

/// Runs `tests/python/elicit_client.py` (a Python client whose user answers `answer`) against
/// the binary with a policy where `vm_stop` needs approval.
async fn python_elicit(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, answer: &str) -> Value {
    let python = python_client();
    let policy = r#"{"version": "1", "default": "allow", "tools": {"vm_stop": {"x-approval": "always"}}}"#;
    let policy_path = dir.path().join("policy.json");
    std::fs::write(&policy_path, policy).unwrap();
    let mut cmd = python_script(&python, "elicit_client.py", nas);
    cmd.arg(bin())
        .arg(answer)
        .arg("--policy")
        .arg(&policy_path)
        .arg("--audit")
        .arg(dir.path().join("audit.jsonl"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .env_remove("TRUENAS_MCP_ELICITATION");
    json_output(&mut cmd).await
}

#[tokio::test]
async fn the_python_mcp_sdk_answers_an_approval_form_approve_and_deny() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("py-elicit-approve");
    let seen = python_elicit(&nas, &dir, "approve").await;
    assert_eq!(seen["error"], false, "{seen}");
    assert_eq!(seen["asked"].as_array().map(Vec::len), Some(1), "{seen}");
    let message = seen["asked"][0]["message"].as_str().unwrap();
    assert!(message.contains("vm_stop") && message.contains("/tools/vm_stop/x-approval"), "{message}");
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let approvals: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["action_type"] == "approval")
        .map(|r| r["approval"].clone())
        .collect();
    let events: Vec<&str> = approvals.iter().filter_map(|a| a["event"].as_str()).collect();
    assert_eq!(events, ["requested", "approved", "used"]);
    assert_eq!(approvals[1]["by"], "mcp-client:python-elicit");

    let nas = start_sim().await;
    let dir = tempdir::Dir::new("py-elicit-deny");
    let seen = python_elicit(&nas, &dir, "deny:too risky today").await;
    assert_eq!(seen["error"], true, "{seen}");
    let said = seen["text"].as_str().unwrap();
    assert!(said.starts_with("[APPROVAL DENIED] vm_stop was denied by mcp-client:python-elicit"), "{said}");
    assert!(said.ends_with(": too risky today"), "{said}");
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
}
