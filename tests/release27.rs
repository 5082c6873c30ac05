//! TrueNAS 27 and later through the real binary: the key logs in with its username (27 has no
//! `auth.login_with_api_key`), a missing `TRUENAS_USERNAME` is named at once instead of
//! retried, `sim --release 27.0` serves 27, and a NAS newer than every table is served with the
//! newest one and one warning.

use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use truenas_mcp::schema::Release;
use truenas_sim::{self as sim, SimConfig, SimHandle};

use crate::util::*;

/// Turns a hang into a failure; far above anything these tests wait for.
const HANG: Duration = Duration::from_secs(60);

/// The text the server logs when the NAS is newer than every method table.
const NEWER: &str = "newer than every release this server knows";

async fn start_sim_with(config: SimConfig) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::start(listener, config).await.unwrap()
}

fn logins(nas: &SimHandle) -> Vec<String> {
    nas.recorder().calls().into_iter().map(|c| c.method).filter(|m| m.starts_with("auth.login")).collect()
}

#[tokio::test]
async fn a_27_nas_logs_the_key_in_with_its_username() {
    let nas = start_sim_release(Release::V27_0).await;
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat"]).await;
    let result = flat(&session, "system_version", json!({})).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert!(text(&result).contains("TrueNAS-27.0.0"), "{}", text(&result));
    assert_eq!(logins(&nas), ["auth.login_ex"]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn without_a_username_a_27_nas_is_refused_at_once_naming_truenas_username() {
    let nas = start_sim_release(Release::V27_0).await;
    let mut cmd = command(&nas);
    cmd.env_remove("TRUENAS_USERNAME").args(["--tool-mode", "flat"]);
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::inherit()).spawn().unwrap();
    let session = Client::default().serve(transport).await.unwrap();
    // The first call and the next both fail with the reason (no timeouts, no hang).
    for attempt in 0..2 {
        let result = tokio::time::timeout(HANG, flat(&session, "vm_list", json!({}))).await.expect("no hang");
        assert!(is_error(&result), "attempt {attempt}: {}", text(&result));
        let reply = text(&result);
        assert!(reply.contains("`TRUENAS_USERNAME`") && reply.contains("27.0"), "attempt {attempt}: {reply}");
        assert!(!reply.contains("Method does not exist") && !reply.contains("within"), "attempt {attempt}: {reply}");
    }
    // The release was known from `GET /api/versions`: the key was never sent to a login
    // method 27 does not have, nor anything else.
    assert!(logins(&nas).is_empty(), "{:?}", logins(&nas));
    assert!(nas_methods(&nas).is_empty(), "{:?}", nas_methods(&nas));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_nas_newer_than_every_table_is_served_with_the_newest_and_one_warning() {
    let config =
        SimConfig { release: Release::V27_0, reported_version: Some("TrueNAS-28.0.0".into()), ..SimConfig::default() };
    let nas = start_sim_with(config).await;
    let mut cmd = command(&nas);
    cmd.args(["--tool-mode", "flat"]);
    let (transport, stderr) = TokioChildProcess::builder(cmd).stderr(Stdio::piped()).spawn().unwrap();
    let session = Client::default().serve(transport).await.unwrap();
    let version = flat(&session, "system_version", json!({})).await;
    assert!(text(&version).contains("TrueNAS-28.0.0"), "{}", text(&version));
    for action in ["vm_list", "pool_list", "snapshot_task_list", "system_info"] {
        let result = flat(&session, action, json!({})).await;
        assert!(!is_error(&result), "{action}: {}", text(&result));
    }
    // 27's table: the login is `auth.login_ex`, and the snapshot task run waits for its job.
    assert_eq!(logins(&nas), ["auth.login_ex"]);
    session.cancel().await.unwrap();
    let mut log = String::new();
    let mut stderr = stderr.expect("stderr is piped");
    tokio::time::timeout(HANG, stderr.read_to_string(&mut log)).await.expect("the server exits").unwrap();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains(NEWER)).collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("WARN") && warnings[0].contains("TrueNAS-28.0.0"), "{}", warnings[0]);
    assert!(warnings[0].contains("27.0"), "{}", warnings[0]);
}

#[tokio::test]
async fn a_27_nas_of_its_own_version_gets_no_warning() {
    let nas = start_sim_release(Release::V27_0).await;
    let (code, stdout, stderr) = call_once(&nas.url(), "system_version").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("TrueNAS-27.0.0"), "{stdout}");
    assert!(!stderr.contains(NEWER), "{stderr}");
}

/// `truenas-mcp call ACTION` against `url` with the demo key and username: (exit, stdout, stderr).
async fn call_once(url: &str, action: &str) -> (Option<i32>, String, String) {
    let mut cmd = tokio::process::Command::new(bin());
    for var in ["TRUENAS_HOST", "TRUENAS_API_KEY_FILE", "TRUENAS_MCP_POLICY", "TRUENAS_MCP_DEMO", "TRUENAS_MCP_HTTP"] {
        cmd.env_remove(var);
    }
    cmd.env("TRUENAS_URL", url)
        .env("TRUENAS_API_KEY", sim::DEMO_API_KEY)
        .env("TRUENAS_USERNAME", sim::DEMO_USERNAME)
        .env("TRUENAS_MCP_STATE", "memory")
        .env("RUST_LOG", "warn")
        .args(["call", action])
        .kill_on_drop(true);
    let out = tokio::time::timeout(HANG, cmd.output()).await.expect("no hang").unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn sim_release_27_serves_27_and_reports_the_version_it_is_told() {
    let mut sim = tokio::process::Command::new(bin())
        .args(["sim", "--release", "27.0", "--report-version", "TrueNAS-28.0.0", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(HANG, lines.next_line()).await.expect("the sim starts").unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let versions: Vec<String> = reqwest::get(format!("{url}/api/versions")).await.unwrap().json().await.unwrap();
    assert_eq!(versions.last().map(String::as_str), Some("v27.0.0"), "{versions:?}");

    let (code, stdout, stderr) = call_once(&url, "system_version").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("TrueNAS-28.0.0"), "{stdout}");
    assert_eq!(stderr.lines().filter(|l| l.contains(NEWER)).count(), 1, "{stderr}");
    let (code, stdout, stderr) = call_once(&url, "snapshot_task_list").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(serde_json::from_str::<Value>(&stdout).is_ok(), "{stdout}");
    sim.kill().await.unwrap();
}
