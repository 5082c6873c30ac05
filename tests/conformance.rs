//! The MCP conformance suite (`@modelcontextprotocol/conformance`, npm) runs its server
//! scenarios against the real binary over streamable HTTP on the demo NAS. The scenarios that
//! need the reference test server's fixtures (tools such as `test_simple_text`, `test://`
//! resources, prompts, completions, resource subscriptions), which this server deliberately does
//! not have, are listed in `tests/conformance/expected-failures.yaml`; the suite fails on any
//! other failure and on a listed scenario that passes (the list must stay exact).
//!
//! The suite is installed under `target/conformance` with npm on the first run (Node.js and
//! network access to the npm registry once). Version 0.1.13 is pinned: 0.1.14 and later import
//! `fs.globSync`, which needs Node 22, and Debian's Node is 20.

use std::path::PathBuf;

use crate::util::*;

const PACKAGE: &str = "@modelcontextprotocol/conformance@0.1.13";

/// The suite's command, installed under `target/conformance` when missing.
fn conformance() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = repo("target/conformance");
    let command = dir.join("node_modules/.bin/conformance");
    let ready = dir.join(".0.1.13-installed");
    if !ready.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        eprintln!("installing {PACKAGE} into target/conformance (npm, once)");
        let npm = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(PACKAGE)
            .status()
            .unwrap_or_else(|e| panic!("cannot run npm ({e}): the conformance test needs Node.js and npm"));
        assert!(npm.success(), "npm install {PACKAGE} failed (network access to the npm registry is needed once)");
        std::fs::write(&ready, "").unwrap();
    }
    command
}

#[tokio::test]
async fn the_mcp_conformance_suite_passes_every_server_scenario_but_the_fixture_ones() {
    let suite = conformance();
    let nas = start_sim().await;
    let (mut server, url) = crate::http::serve_http(&nas, &[]).await;
    let output = tokio::process::Command::new(&suite)
        .args(["server", "--url", &url, "--expected-failures"])
        .arg(repo("tests/conformance/expected-failures.yaml"))
        .output()
        .await
        .unwrap();
    let _ = server.kill().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stdout.split("=== SUMMARY ===").nth(1).unwrap_or(&stdout);
    assert!(output.status.success(), "the conformance suite failed:\n{summary}\n{stderr}");
    assert!(summary.contains("✓ logging-set-level"), "{summary}");
    assert!(summary.contains("Baseline check passed"), "{summary}");
}
