//! Limits through the real binary: counters kept in a state directory across restarts and a
//! policy change, keyed limits, amount quotas with refunds, calls in flight, cooldowns and the
//! loop breaker.

use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use truenas_sim::{self as sim, SimConfig, SimHandle};

use crate::util::{
    Client, Session, audit_records, command, connect_stdio, is_error, nas_calls_of, policy_file, tempdir, text, truenas,
};

/// Spawns the binary with `args` and the counters in `state_dir`, as a user would by default
/// (no `--state` flag, no `TRUENAS_MCP_STATE`).
async fn connect_with_state(nas: &SimHandle, state_dir: &std::path::Path, args: &[&str]) -> Session {
    let mut cmd = command(nas);
    cmd.env_remove("TRUENAS_MCP_STATE").arg("--state-dir").arg(state_dir).args(args);
    let (transport, _stderr) = TokioChildProcess::builder(cmd).stderr(Stdio::inherit()).spawn().unwrap();
    Client::default().serve(transport).await.unwrap()
}

/// The newest counters save in the state directory `state` (the slot file holding the highest
/// save number), as JSON.
pub(crate) fn saved_counters(state: &std::path::Path) -> Value {
    use truenas_mcp::state::counters_slots::{SLOTS, Slot, decode};
    let mut newest: Option<(u64, Value)> = None;
    for name in SLOTS {
        let Ok(bytes) = std::fs::read(state.join(name)) else { continue };
        if let Ok(Slot::Saved { number, doc }) = decode(&bytes)
            && newest.as_ref().is_none_or(|(n, _)| number > *n)
        {
            newest = Some((number, serde_json::from_slice(doc).unwrap()));
        }
    }
    newest.map(|(_, doc)| doc).unwrap_or_else(|| panic!("no counters saved in {}", state.display()))
}

fn denied(result: &rmcp::model::CallToolResult) -> bool {
    is_error(result) && text(result).starts_with("[POLICY DENIED]")
}

fn vm_start_policy(max: u64, description: &str) -> Value {
    json!({"version": "1", "default": "deny", "description": description, "tools": {
        "vm_start": {"limits": [{"counter": "starts", "x-rolling": "1h", "max": max, "scope": "grant"}]},
        "vm_list": {}
    }})
}

#[tokio::test]
async fn counters_survive_a_restart_and_a_policy_change_that_keeps_the_rule() {
    let nas = sim_fast().await;
    let dir = tempdir::Dir::new("limits-restart");
    let state = dir.path().join("state");
    let policy = policy_file(&dir, "p.json", &vm_start_policy(10, "ten an hour"));
    let p = policy.to_str().unwrap();

    let session = connect_with_state(&nas, &state, &["--policy", p]).await;
    for id in 1..=6 {
        let r = truenas(&session, "vm", "vm_start", json!({"id": id})).await;
        assert!(!denied(&r), "call {id}: {}", text(&r));
    }
    session.cancel().await.unwrap();
    assert!(
        !saved_counters(&state)["counters"].as_object().unwrap().is_empty(),
        "the counters are in the state directory"
    );

    // A new process on the same state directory: 4 more pass, the 11th is denied.
    let session = connect_with_state(&nas, &state, &["--policy", p]).await;
    for id in 7..=10 {
        let r = truenas(&session, "vm", "vm_start", json!({"id": id})).await;
        assert!(!denied(&r), "call {id}: {}", text(&r));
    }
    let eleventh = truenas(&session, "vm", "vm_start", json!({"id": 11})).await;
    assert!(denied(&eleventh), "{}", text(&eleventh));
    assert!(text(&eleventh).ends_with("(rule: /tools/vm_start/limits/starts)"), "{}", text(&eleventh));
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 10, "the 11th never reached the NAS");
    session.cancel().await.unwrap();

    // A changed document (same rule id, a larger max): the count carries over.
    let changed = policy_file(&dir, "p2.json", &vm_start_policy(12, "twelve an hour"));
    let session = connect_with_state(&nas, &state, &["--policy", changed.to_str().unwrap()]).await;
    for id in 11..=12 {
        let r = truenas(&session, "vm", "vm_start", json!({"id": id})).await;
        assert!(!denied(&r), "call {id}: {}", text(&r));
    }
    let thirteenth = truenas(&session, "vm", "vm_start", json!({"id": 13})).await;
    assert!(denied(&thirteenth), "{}", text(&thirteenth));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_call_whose_counts_cannot_be_saved_is_refused_with_nothing_sent() {
    let nas = sim_fast().await;
    let dir = tempdir::Dir::new("limits-unsaved");
    let state = dir.path().join("state");
    let policy = policy_file(&dir, "p.json", &vm_start_policy(10, "ten an hour"));
    let session = connect_with_state(&nas, &state, &["--policy", policy.to_str().unwrap()]).await;
    let first = truenas(&session, "vm", "vm_start", json!({"id": 1})).await;
    assert!(!denied(&first), "{}", text(&first));
    // The state directory disappears under the server: the next reservation cannot be saved.
    std::fs::remove_dir_all(&state).unwrap();
    let second = truenas(&session, "vm", "vm_start", json!({"id": 2})).await;
    assert!(is_error(&second));
    assert!(text(&second).contains("the limit counters cannot be saved, so nothing was sent"), "{}", text(&second));
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 1, "the refused call never reached the NAS");
    session.cancel().await.unwrap();
}

/// A server with file-kept counters in `state` and an audit log at `audit`, under the policy
/// `doc`, against its own simulated NAS; the directory holding them lives as long as this.
struct Audited {
    nas: SimHandle,
    _dir: tempdir::Dir,
    state: std::path::PathBuf,
    audit: std::path::PathBuf,
    session: Session,
}

async fn audited_with_state(name: &str, doc: &Value) -> Audited {
    let nas = sim_fast().await;
    let dir = tempdir::Dir::new(name);
    let state = dir.path().join("state");
    let audit = dir.path().join("audit.jsonl");
    let policy = policy_file(&dir, "p.json", doc);
    let args = ["--policy", policy.to_str().unwrap(), "--audit", audit.to_str().unwrap()];
    let session = connect_with_state(&nas, &state, &args).await;
    Audited { nas, _dir: dir, state, audit, session }
}

/// The last request in the log at `audit` is one for `action`, and its trail says so: its
/// decision was recorded while the counters were being saved (both are awaited to the end), so
/// a `done` record naming it says the call failed, and why.
fn assert_unsaved_trail(audit: &std::path::Path, action: &str) {
    let records = audit_records(audit);
    assert_eq!(records.last().map(|r| &r["action"]), Some(&json!(action)), "the last request: {records:?}");
    let calls: Vec<&Value> = records.iter().filter(|r| r["action"] == action).collect();
    let last = calls.last().unwrap_or_else(|| panic!("no `{action}` record: {records:?}"));
    let trail: Vec<&&Value> = calls.iter().filter(|r| r["request_id"] == last["request_id"]).collect();
    let [decided, done] = trail.as_slice() else { panic!("unexpected trail: {trail:?}") };
    assert_eq!((&decided["phase"], &done["phase"]), (&json!("decided"), &json!("done")));
    assert_eq!(done["parent_record_id"], decided["record_id"]);
    assert_eq!((&done["outcome"], &done["error"]["kind"]), (&json!("error"), &json!("counters_unavailable")), "{done}");
}

#[tokio::test]
async fn counts_that_cannot_be_saved_with_a_healthy_audit_refuse_the_call_and_the_audit_says_so() {
    let Audited { nas, state, audit, session, _dir } =
        audited_with_state("limits-unsaved-audit", &vm_start_policy(10, "ten an hour")).await;
    let first = truenas(&session, "vm", "vm_start", json!({"id": 1})).await;
    assert!(!denied(&first), "{}", text(&first));
    // The counters' second save goes to the slot file not yet created: with the state
    // directory gone, it cannot be; the audit log, elsewhere, is healthy.
    std::fs::remove_dir_all(&state).unwrap();
    let second = truenas(&session, "vm", "vm_start", json!({"id": 2})).await;
    assert!(text(&second).contains("the limit counters cannot be saved, so nothing was sent"), "{}", text(&second));
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 1, "the refused call never reached the NAS");
    session.cancel().await.unwrap();

    assert_unsaved_trail(&audit, "vm_start");
    let verify = tokio::process::Command::new(crate::util::bin())
        .args(["audit", "verify", audit.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

#[tokio::test]
async fn a_job_read_whose_counts_cannot_be_saved_asks_nothing_and_the_audit_says_so() {
    let doc = json!({"version": "1", "default": "deny", "tools": {"job_status": {"x-any-job": true,
        "limits": [{"counter": "reads", "x-rolling": "1h", "max": 10, "scope": "grant"}]}}});
    let Audited { nas, state, audit, session, _dir } = audited_with_state("limits-unsaved-job", &doc).await;
    let read = || session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://jobs/7"));
    // The first read is counted, saved and asked of the NAS (whatever it answers).
    let _ = read().await;
    let asked = nas_calls_of(&nas, "core.get_jobs").len();
    assert!(asked >= 1, "the first read reached the NAS");
    std::fs::remove_dir_all(&state).unwrap();
    let second = read().await.expect_err("a read whose counts cannot be saved is refused");
    assert!(second.to_string().contains("the limit counters cannot be saved"), "{second}");
    assert_eq!(nas_calls_of(&nas, "core.get_jobs").len(), asked, "the refused read never reached the NAS");
    session.cancel().await.unwrap();

    assert_unsaved_trail(&audit, "job_status");
}

#[tokio::test]
async fn a_policy_status_read_whose_counts_cannot_be_saved_is_refused_and_the_audit_says_so() {
    let doc = json!({"version": "1", "default": "deny", "tools": {"policy_status": {
        "limits": [{"counter": "status", "x-rolling": "1h", "max": 10, "scope": "grant"}]}}});
    let Audited { nas: _nas, state, audit, session, _dir } = audited_with_state("limits-unsaved-status", &doc).await;
    let read = || session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://policy"));
    // The first read is counted, and its count saved before it is answered.
    read().await.expect("the first read is answered");
    std::fs::remove_dir_all(&state).unwrap();
    let second = read().await.expect_err("a read whose counts cannot be saved is refused");
    assert!(second.to_string().contains("the limit counters cannot be saved"), "{second}");
    session.cancel().await.unwrap();

    assert_unsaved_trail(&audit, "policy_status");
}

#[tokio::test]
async fn a_corrupt_counters_file_stops_the_start_with_a_clear_error() {
    let nas = sim_fast().await;
    let dir = tempdir::Dir::new("limits-corrupt");
    std::fs::write(dir.path().join("counters.json"), "{not json").unwrap();
    let out = command(&nas)
        .env_remove("TRUENAS_MCP_STATE")
        .arg("--state-dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("counters.json` is corrupt"), "{stderr}");
}

#[tokio::test]
async fn keyed_limits_cooldowns_and_the_loop_breaker() {
    let nas = sim_fast().await;
    let dir = tempdir::Dir::new("limits-keyed");
    let doc = json!({"version": "1", "default": "deny",
    "x-loop-breaker": {"max": 3, "x-rolling": "2m"},
    "tools": {
        "vm_restart": {"limits": [
            {"counter": "per-vm", "x-rolling": "1h", "max": 3, "scope": "grant", "x-key": "args.id"}
        ]},
        "vm_stop": {"limits": [{"counter": "cool", "x-cooldown": 300, "scope": "server", "x-key": "args.id"}]},
        "vm_get": {}
    }});
    let policy = policy_file(&dir, "p.json", &doc);
    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;

    // Keyed: three restarts of VM 1 pass, the fourth is denied (by the limit, which binds
    // longer than the loop breaker), VM 2 is unaffected.
    for _ in 0..3 {
        let r = truenas(&session, "vm", "vm_restart", json!({"id": 1})).await;
        assert!(!denied(&r), "{}", text(&r));
    }
    let fourth = truenas(&session, "vm", "vm_restart", json!({"id": 1})).await;
    assert!(denied(&fourth), "{}", text(&fourth));
    assert!(text(&fourth).contains("(rule: /tools/vm_restart/limits/per-vm)"), "{}", text(&fourth));
    assert!(text(&fourth).contains("for each `args.id`"), "{}", text(&fourth));
    let vm2 = truenas(&session, "vm", "vm_restart", json!({"id": 2})).await;
    assert!(!denied(&vm2), "{}", text(&vm2));
    assert_eq!(nas_calls_of(&nas, "vm.restart").len(), 4);

    // Cooldown: a second stop of the same VM must wait; another VM need not.
    let first = truenas(&session, "vm", "vm_stop", json!({"id": 3})).await;
    assert!(!denied(&first), "{}", text(&first));
    let again = truenas(&session, "vm", "vm_stop", json!({"id": 3})).await;
    assert!(denied(&again), "{}", text(&again));
    let t = text(&again);
    assert!(t.contains("is cooling down: one call every 300 s") && t.contains("before calling again"), "{t}");
    let other = truenas(&session, "vm", "vm_stop", json!({"id": 4})).await;
    assert!(!denied(&other), "{}", text(&other));

    // Loop breaker: the same read three times passes, the fourth is refused as a loop.
    for _ in 0..3 {
        let r = truenas(&session, "vm", "vm_get", json!({"id": 5})).await;
        assert!(!denied(&r), "{}", text(&r));
    }
    let loop_call = truenas(&session, "vm", "vm_get", json!({"id": 5})).await;
    let t = text(&loop_call);
    assert!(denied(&loop_call), "{t}");
    assert!(t.contains("you are repeating the same call: `vm_get`") && t.ends_with("(rule: /x-loop-breaker)"), "{t}");
    let changed = truenas(&session, "vm", "vm_get", json!({"id": 6})).await;
    assert!(!denied(&changed), "{}", text(&changed));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn an_amount_quota_denies_past_its_total_and_a_call_never_sent_is_refunded() {
    // The NAS is down for the first call: allowed by the policy, never sent, so refunded.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let placeholder = sim_fast().await;
    let dir = tempdir::Dir::new("limits-amount");
    const TIB: u64 = 1 << 40;
    let doc = json!({"version": "1", "default": "deny", "tools": {
        "dataset_create": {"limits": [
            {"counter": "zvol-bytes", "x-rolling": "1d", "max": 2 * TIB, "scope": "server", "x-amount": "args.volsize"}
        ]}
    }});
    let policy = policy_file(&dir, "p.json", &doc);
    let mut cmd = command(&placeholder);
    cmd.env("TRUENAS_URL", format!("http://{port}")).args(["--policy", policy.to_str().unwrap()]);
    let (transport, _stderr) = TokioChildProcess::builder(cmd).stderr(Stdio::inherit()).spawn().unwrap();
    let session = Client::default().serve(transport).await.unwrap();
    let zvol = |name: &str, size: u64| json!({"name": format!("tank/{name}"), "type": "VOLUME", "volsize": size});

    let unsent = truenas(&session, "storage", "dataset_create", zvol("a", 3 * TIB / 2)).await;
    assert!(is_error(&unsent) && !denied(&unsent), "{}", text(&unsent));

    let listener = tokio::net::TcpListener::bind(port).await.unwrap();
    let nas = sim::start(listener, SimConfig::default()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await; // past the client's reconnect backoff
    let first = truenas(&session, "storage", "dataset_create", zvol("b", 3 * TIB / 2)).await;
    assert!(!denied(&first), "the refunded 1.5 TiB left room: {}", text(&first));
    let over = truenas(&session, "storage", "dataset_create", zvol("c", TIB)).await;
    assert!(denied(&over), "{}", text(&over));
    assert!(text(&over).contains("2199023255552 of `args.volsize` in any 1d"), "{}", text(&over));
    let missing = truenas(&session, "storage", "dataset_create", json!({"name": "tank/fs"})).await;
    assert!(denied(&missing) && text(&missing).contains("`args.volsize`, which is missing"), "{}", text(&missing));
    assert_eq!(nas_calls_of(&nas, "pool.dataset.create").len(), 1);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_concurrency_cap_denies_the_call_past_it_while_the_others_are_in_flight() {
    let nas = sim_fast().await;
    nas.faults().set_slow("vm.get_instance", Duration::from_secs(3));
    let dir = tempdir::Dir::new("limits-concurrency");
    let doc = json!({"version": "1", "default": "deny", "tools": {
        "vm_get": {"limits": [{"counter": "in-flight", "x-concurrency": 2, "scope": "server"}]}
    }});
    let policy = policy_file(&dir, "p.json", &doc);
    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;
    let (a, b, c) = tokio::join!(
        truenas(&session, "vm", "vm_get", json!({"id": 1})),
        truenas(&session, "vm", "vm_get", json!({"id": 2})),
        truenas(&session, "vm", "vm_get", json!({"id": 3})),
    );
    let results = [a, b, c];
    let refused: Vec<String> = results.iter().filter(|r| denied(r)).map(text).collect();
    assert_eq!(refused.len(), 1, "{:?}", results.iter().map(text).collect::<Vec<_>>());
    assert!(refused[0].contains("2 calls already in flight"), "{}", refused[0]);
    assert!(refused[0].contains("retry when one of them finishes"), "{}", refused[0]);
    // Once they finish, their leases are released.
    nas.faults().clear();
    let after = truenas(&session, "vm", "vm_get", json!({"id": 4})).await;
    assert!(!denied(&after), "{}", text(&after));
    session.cancel().await.unwrap();
}

/// A simulated NAS with quick jobs.
async fn sim_fast() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = sim::start(listener, SimConfig::default()).await.unwrap();
    handle.faults().set_job_step(Duration::from_millis(10));
    handle
}
