//! Secrets stay secret, walked over the whole catalog: every action is called through the real
//! binary with its secret arguments marked, every read action is called again (what the first
//! pass stored must come back masked), every job is read as a resource, and every action is called
//! once more with the NAS answering an error that echoes the API key, a credentialed URL and the
//! marked values. No marker, no API key and no URL password may appear in any result, error,
//! audit line or log line (the binary logs at `RUST_LOG=debug`).

use std::path::Path;
use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::model::ReadResourceRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Map, Value, json};
use truenas_mcp::catalog::Catalog;
use truenas_mcp::ids::Risk;
use truenas_mcp::schema::Release;
use truenas_sim::{self as sim, SimHandle};

use crate::every_action::NOT_WITH_EVERY_ARG;
use crate::util::*;

const URL_PASSWORD: &str = "UrlPw9Hunter2";

/// Spawns the binary over stdio with its stderr going to `log`, logging at DEBUG.
async fn connect_debug_logging(nas: &SimHandle, args: &[&str], log: &Path) -> Session {
    let mut cmd = command(nas);
    cmd.args(args).env("RUST_LOG", "debug");
    let stderr = std::fs::File::create(log).unwrap();
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::from(stderr)).spawn().unwrap();
    Client::default().serve(transport).await.unwrap()
}

/// A marker standing in for `value`: same length (at least 8) and, for hex, still hex, so that
/// validation accepts it where it accepted the example.
fn marker_for(value: &str, action: usize, n: usize) -> String {
    let hex = !value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit());
    let (base, pad) = if hex { (format!("5ec{action:03x}{n:x}"), "cafe") } else { (format!("Mk{action:03}S{n}"), "x") };
    let mut marker = base;
    while marker.len() < value.len().max(8) {
        marker.push_str(pad);
    }
    marker.truncate(value.len().max(8).max(if hex { 0 } else { 7 }));
    marker
}

/// The example arguments with every secret value replaced by a marker; the markers used.
fn marked(args: &Map<String, Value>, action: usize) -> (Map<String, Value>, Vec<String>) {
    let mut text = serde_json::to_string(args).unwrap();
    let mut markers = Vec::new();
    for (n, secret) in truenas_mcp::redact::secret_values(args).iter().enumerate() {
        let quoted = serde_json::to_string(secret).unwrap();
        if !text.contains(&quoted) {
            continue; // a number: left as it is
        }
        let marker = marker_for(secret, action, n);
        text = text.replace(&quoted, &serde_json::to_string(&marker).unwrap());
        markers.push(marker);
    }
    (serde_json::from_str(&text).unwrap(), markers)
}

#[tokio::test]
async fn no_marked_secret_api_key_or_url_password_leaks_from_any_action() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("secrets");
    let (audit, log) = (dir.path().join("audit.jsonl"), dir.path().join("stderr.log"));
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let flags = ["--tool-mode", "flat", "--policy", open.to_str().unwrap(), "--audit", audit.to_str().unwrap()];
    let session = connect_debug_logging(&nas, &flags, &log).await;
    let catalog = Catalog::builtin().unwrap();

    let mut outputs: Vec<String> = Vec::new();
    let mut markers: Vec<String> = Vec::new();
    let mut calls: Vec<(String, Map<String, Value>)> = Vec::new();
    // 1. Every action, its secret arguments marked.
    for (i, action) in catalog.actions().enumerate() {
        let mut args = action.example_args();
        for (name, arg) in NOT_WITH_EVERY_ARG {
            if action.name.as_str() == *name {
                args.remove(*arg);
            }
        }
        let (args, used) = marked(&args, i);
        markers.extend(used);
        let result = flat(&session, action.name.as_str(), Value::Object(args.clone())).await;
        outputs.push(format!("{} (marked): {}", action.name, serde_json::to_string(&result).unwrap()));
        calls.push((action.name.to_string(), args));
    }
    // 2. Every read again: what the first pass stored comes back masked, by field name alone.
    for action in catalog.actions().filter(|a| a.risk == Risk::Read) {
        let result = flat(&session, action.name.as_str(), Value::Object(action.example_args())).await;
        outputs.push(format!("{} (read back): {}", action.name, serde_json::to_string(&result).unwrap()));
    }
    // 3. Every job, read as a resource (job arguments hold unlock keys, passwords, app env).
    let (mut misses, mut jobs_read) = (0, 0);
    for id in 1.. {
        let uri = format!("truenas://jobs/{id}");
        match session.read_resource(ReadResourceRequestParams::new(uri.clone())).await {
            Ok(read) => {
                (misses, jobs_read) = (0, jobs_read + 1);
                outputs.push(format!("{uri}: {}", serde_json::to_string(&read).unwrap()));
            }
            Err(e) => {
                outputs.push(format!("{uri}: {e}"));
                misses += 1;
                if misses == 5 {
                    break;
                }
            }
        }
    }
    // 4. Every action once more, the NAS failing it with an error that echoes the API key, a
    // credentialed URL and the call's marked values.
    for (name, args) in &calls {
        let Some(action) = catalog.action(name) else { continue };
        let echoed: Vec<String> =
            markers.iter().filter(|m| serde_json::to_string(args).unwrap().contains(*m)).cloned().collect();
        if let Ok((method, _)) = action.check_and_resolve_for(Release::V25_10, args) {
            let reason = format!(
                "[EINVAL] {} rejected with key {} from https://admin:{URL_PASSWORD}@backup.example/x",
                echoed.join(" "),
                sim::DEMO_API_KEY
            );
            nas.faults().fail_next(method.as_str(), "EINVAL", &reason);
        }
        let result = flat(&session, name, Value::Object(args.clone())).await;
        outputs.push(format!("{name} (NAS error): {}", text(&result)));
        nas.faults().clear();
        nas.faults().set_job_step(std::time::Duration::from_millis(20));
    }
    session.cancel().await.unwrap();

    assert!(jobs_read >= 10, "the walk read the jobs it started: {jobs_read}");
    assert!(markers.len() >= 15, "the walk marked secrets of many actions: {markers:?}");
    let key_secret = sim::DEMO_API_KEY.split_once('-').unwrap().1.to_string();
    let forbidden: Vec<&str> = markers.iter().map(String::as_str).chain([key_secret.as_str(), URL_PASSWORD]).collect();
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    let log_text = std::fs::read_to_string(&log).unwrap();
    let mut leaks = Vec::new();
    for secret in &forbidden {
        leaks.extend(outputs.iter().filter(|o| o.contains(secret)).map(|o| format!("result/error `{secret}`: {o}")));
        if audit_text.contains(secret) {
            leaks.push(format!("audit: `{secret}`"));
        }
        leaks.extend(log_text.lines().filter(|l| l.contains(secret)).map(|l| format!("log `{secret}`: {l}")));
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
    assert!(outputs.iter().any(|o| o.contains("<redacted>")), "secrets were met and masked");
}

#[tokio::test]
async fn a_dataset_unlock_key_is_masked_in_the_job_it_started() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("unlock-key");
    let audit = dir.path().join("audit.jsonl");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) =
        connect_stdio(&nas, &["--policy", open.to_str().unwrap(), "--audit", audit.to_str().unwrap()]).await;
    let key = "5eccafe0".repeat(8);
    let options = json!({"datasets": [{"name": "tank/secure", "key": key}]});
    let unlock =
        truenas(&session, "storage", "dataset_unlock", json!({"id": "tank/secure", "unlock_options": options})).await;
    assert!(!text(&unlock).contains(&key), "{}", text(&unlock));
    let sent = nas_calls_of(&nas, "pool.dataset.unlock");
    assert!(sent.iter().any(|p| p.to_string().contains(&key)), "the key itself reached the NAS: {sent:?}");

    let raw = std::fs::read_to_string(&audit).unwrap();
    let job = raw
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find_map(|l| l["job_id"].as_u64())
        .unwrap_or_else(|| panic!("the unlock ran as a job: {raw}"));
    let uri = format!("truenas://jobs/{job}");
    let read = session.read_resource(ReadResourceRequestParams::new(uri)).await.unwrap();
    let shown = serde_json::to_string(&read).unwrap();
    session.cancel().await.unwrap();
    assert!(shown.contains("pool.dataset.unlock") && shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains(&key), "the job's arguments show the key: {shown}");
    assert!(!raw.contains(&key), "the audit log holds the key");
}

#[tokio::test]
async fn a_password_in_the_nas_url_is_never_echoed() {
    let nas = start_sim().await;
    for url in ["https://admin:UrlPw9Hunter2@nas.example", "ftp://admin:UrlPw9Hunter2@nas.example"] {
        let output = command(&nas).env("TRUENAS_URL", url).output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("TRUENAS_URL"), "the error still names the setting: {stderr}");
        assert!(!stderr.contains(URL_PASSWORD), "the URL's password is echoed: {stderr}");
    }
}
