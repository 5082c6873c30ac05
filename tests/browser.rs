//! The approvals page in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! driven over WebDriver by tests/python/browser.py with selenium): an agent's call waits for
//! approval, a person logs in and clicks Approve, the agent's retry goes through once.
//! Chromium is installed with apt-get when missing; `TRUENAS_MCP_SKIP_BROWSER=1` skips the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::python_client::python_with;
use crate::util::*;

/// The first of `names` found on `PATH` (or in /usr/bin, /usr/lib/chromium).
fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")]);
    names.iter().flat_map(|n| dirs.iter().map(move |d| d.join(n))).find(|p| p.is_file())
}

/// Runs apt-get (through `sudo -n` when not root); true if it succeeded.
pub(crate) fn apt_get(args: &[&str]) -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "apt-get"]);
        sudo
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    cmd.status().is_ok_and(|s| s.success())
}

/// Chromium and its WebDriver, installed with apt-get if missing; a clear failure otherwise.
fn chromium() -> (PathBuf, PathBuf) {
    let browser = || find(&["chromium", "chromium-browser"]);
    let driver = || find(&["chromedriver"]);
    if browser().is_none() || driver().is_none() {
        eprintln!("browser test: chromium or chromedriver missing; installing `chromium chromium-driver` with apt-get");
        let installed =
            apt_get(&["update", "-qq"]) && apt_get(&["install", "-y", "-qq", "chromium", "chromium-driver"]);
        assert!(
            installed,
            "cannot install chromium and chromium-driver with apt-get (needs root or passwordless sudo); \
             install them by hand, or set TRUENAS_MCP_SKIP_BROWSER=1 to skip the browser test"
        );
    }
    match (browser(), driver()) {
        (Some(b), Some(d)) => (b, d),
        _ => panic!("chromium or chromedriver still missing after apt-get; set TRUENAS_MCP_SKIP_BROWSER=1 to skip"),
    }
}

#[tokio::test]
async fn a_person_approves_in_headless_chromium_and_the_agents_retry_goes_through_once() {
    if std::env::var("TRUENAS_MCP_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("browser test skipped: TRUENAS_MCP_SKIP_BROWSER=1");
        return;
    }
    let (browser, driver) = chromium();
    let python = python_with(&["selenium>=4.11,<5"]);
    let nas = start_sim().await;
    let state = tempdir::Dir::new("browser");
    let shots = repo("target");
    let run = tokio::process::Command::new(&python)
        .arg(repo("tests/python/browser.py"))
        .arg(bin())
        .arg(repo("policy/approve-destructive.json"))
        .arg(state.path())
        .arg(&shots)
        .env("TRUENAS_URL", nas.url())
        .env("TRUENAS_API_KEY", truenas_sim::DEMO_API_KEY)
        .env("TRUENAS_USERNAME", truenas_sim::DEMO_USERNAME)
        .env_remove("TRUENAS_MCP_HTTP_TOKENS")
        .env_remove("TRUENAS_MCP_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .env("CHROMIUM", &browser)
        .env("CHROMEDRIVER", &driver)
        // Selenium must not try to download a driver: the system's is given.
        .env("SE_OFFLINE", "true")
        .kill_on_drop(true)
        .output();
    let output =
        tokio::time::timeout(std::time::Duration::from_secs(120), run).await.expect("the browser test hung").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser script failed: {stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = seen["id"].as_str().unwrap();

    assert!(seen["first"]["text"].as_str().unwrap().starts_with("[APPROVAL REQUIRED] vm_delete"), "{seen}");
    // The agent's token does not open the page.
    assert!(seen["agent_login"].as_str().unwrap().contains("agent's token"), "{seen}");
    assert_eq!(seen["agent_login_has_pending"], false);
    // The page shows exactly what would be sent; the session cookie is out of scripts' reach.
    let card = seen["card"].as_str().unwrap();
    for shown in ["vm.delete", "destructive", "/x-risk-defaults/destructive", "http-token-1", "\"zvols\": false"] {
        assert!(card.contains(shown), "{shown} missing: {card}");
    }
    assert_eq!(seen["cookie_http_only"], true);
    assert_eq!(seen["cookie_visible_to_script"], "");
    assert!(seen["flash"].as_str().unwrap().starts_with(&format!("Approved {id}")), "{seen}");
    assert!(seen["recent"].as_str().unwrap().contains("web-admin@127.0.0.1"), "{seen}");
    // The retry went through, once; the next identical call needs a new approval.
    assert_eq!(seen["retry"]["error"], false, "{seen}");
    assert!(seen["again"]["text"].as_str().unwrap().starts_with("[APPROVAL REQUIRED]"), "{seen}");
    assert!(!seen["again"]["text"].as_str().unwrap().contains(id), "{seen}");
    assert!(seen["recent_after"].as_str().unwrap().contains("used"), "{seen}");
    assert_eq!(nas_calls_of(&nas, "vm.delete").len(), 1);
    assert!(Path::new(&shots.join("approvals-pending.png")).is_file());
    eprintln!("browser test: screenshots in {}", shots.display());
}
