//! Several server processes sharing one Redis (`--state redis://...`), end to end through the
//! real binary: limits hold exactly across processes under concurrent load (the simulated NAS
//! receives exactly what was allowed), a Redis that dies mid-run denies every call and sends
//! nothing, and an approval asked for in one process is answered through another process's
//! control socket and used once across all of them.

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use crate::redis_server::RedisServer;
use crate::util::*;

/// A policy allowing `vm_status` at most `max` times an hour across every process (rolling).
fn status_limit(max: u64) -> Value {
    json!({"version": "1", "default": "deny", "tools": {
        "vm_status": {"limits": [{"counter": "status", "x-rolling": "1h", "max": max, "scope": "server"}]},
        "vm_stop": {"x-approval": "always"},
    }})
}

/// One server process over stdio, its own state directory (and control socket), counters and
/// approvals in `redis`.
async fn serve(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, name: &str, redis: &str) -> Session {
    let policy = policy_file(dir, "p.json", &status_limit(37));
    let state = dir.path().join(name);
    let args = ["--policy", policy.to_str().unwrap(), "--state-dir", state.to_str().unwrap(), "--state", redis];
    connect_stdio(nas, &args).await.0
}

fn denied_by_limit(r: &CallToolResult) -> bool {
    is_error(r) && text(r).contains("(rule: /tools/vm_status/limits/status)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_admit_exactly_max_of_500_concurrent_calls() {
    let redis = RedisServer::start();
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("redis3");
    let mut sessions = Vec::new();
    for name in ["one", "two", "three"] {
        sessions.push(serve(&nas, &dir, name, &redis.url()).await);
    }
    let calls = (0..500).map(|i| {
        let session = &sessions[i % 3];
        async move { truenas(session, "vm", "vm_status", json!({"id": 1})).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let allowed = results.iter().filter(|r| !is_error(r)).count();
    let limited = results.iter().filter(|r| denied_by_limit(r)).count();
    let other: Vec<String> = results.iter().filter(|r| is_error(r) && !denied_by_limit(r)).map(text).collect();
    assert!(other.is_empty(), "only the limit denies: {other:?}");
    assert_eq!((allowed, limited), (37, 463));
    assert_eq!(nas_calls_of(&nas, "vm.status").len(), 37, "the NAS received exactly what was allowed");
    // Every process now refuses: one count for all (counts of their own would have let
    // 3 x 37 through above).
    for session in &sessions {
        let again = truenas(session, "vm", "vm_status", json!({"id": 1})).await;
        assert!(denied_by_limit(&again), "{}", text(&again));
    }
    for session in sessions {
        session.cancel().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_are_denied_and_nothing_sent_once_redis_is_gone() {
    let mut redis = RedisServer::start();
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("redisdown");
    let one = serve(&nas, &dir, "one", &redis.url()).await;
    let two = serve(&nas, &dir, "two", &redis.url()).await;
    for session in [&one, &two] {
        let r = truenas(session, "vm", "vm_status", json!({"id": 1})).await;
        assert!(!is_error(&r), "{}", text(&r));
    }
    // Redis dies while 30 calls are under way (slow NAS replies keep them in flight): whatever
    // each call was told, the NAS received exactly the calls that were allowed.
    nas.faults().set_latency(std::time::Duration::from_millis(30));
    let calls = (0..30).map(|i| truenas([&one, &two][i % 2], "vm", "vm_status", json!({"id": 1})));
    let (results, ()) = tokio::join!(futures_util::future::join_all(calls), async {
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        redis.kill();
    });
    nas.faults().set_latency(std::time::Duration::ZERO);
    let allowed = results.iter().filter(|r| !is_error(r)).count();
    for r in results.iter().filter(|r| is_error(r)) {
        assert!(text(r).contains("unavailable") || denied_by_limit(r), "{}", text(r));
    }
    assert_eq!(nas_calls_of(&nas, "vm.status").len(), 2 + allowed, "only allowed calls were sent");
    // With Redis gone, every call is denied and nothing is sent.
    for session in [&one, &two, &one] {
        let r = truenas(session, "vm", "vm_status", json!({"id": 1})).await;
        let t = text(&r);
        assert!(is_error(&r), "{t}");
        assert!(t.contains("redis at `redis://127.0.0.1:") && t.contains("unavailable"), "{t}");
    }
    assert_eq!(nas_calls_of(&nas, "vm.status").len(), 2 + allowed, "nothing sent while Redis is down");
    // Redis back (empty): calls go through again, without a restart.
    redis.restart();
    let r = truenas(&one, "vm", "vm_status", json!({"id": 1})).await;
    assert!(!is_error(&r), "{}", text(&r));
    one.cancel().await.unwrap();
    two.cancel().await.unwrap();
}

/// Runs `truenas-mcp approvals ARGS` against the control socket of the process whose state
/// directory is `dir/name`: (exit code, stdout, stderr).
async fn approvals(dir: &tempdir::Dir, name: &str, args: &[&str]) -> (i32, String, String) {
    approvals_cli(&dir.path().join(name), args).await
}

fn approval_id(r: &CallToolResult) -> String {
    let t = text(r);
    let prefix = "[APPROVAL REQUIRED] vm_stop needs approval ";
    assert!(is_error(r) && t.starts_with(prefix), "{t}");
    t[prefix.len()..].split(' ').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_asked_in_one_process_is_approved_through_another_and_used_once() {
    let redis = RedisServer::start();
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("redisapprove");
    let one = serve(&nas, &dir, "one", &redis.url()).await;
    let two = serve(&nas, &dir, "two", &redis.url()).await;
    let three = serve(&nas, &dir, "three", &redis.url()).await;

    let id = approval_id(&truenas(&one, "vm", "vm_stop", json!({"id": 1})).await);
    // The same call in another process finds the same pending approval.
    assert_eq!(approval_id(&truenas(&two, "vm", "vm_stop", json!({"id": 1})).await), id);
    // Process two's control socket lists and answers it.
    let (code, out, err) = approvals(&dir, "two", &["list"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with(&id) && l.contains("pending")), "{out}");
    let (code, out, err) = approvals(&dir, "two", &["approve", &id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("approved {id}")), "{out}");
    // Process three says it is approved; answering again anywhere is refused.
    let (code, _, err) = approvals(&dir, "three", &["approve", &id]).await;
    assert_eq!(code, 1);
    assert!(err.contains("is approved, not pending"), "{err}");
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());

    // All three retry at once: exactly one goes through.
    let (a, b, c) = tokio::join!(
        truenas(&one, "vm", "vm_stop", json!({"id": 1})),
        truenas(&two, "vm", "vm_stop", json!({"id": 1})),
        truenas(&three, "vm", "vm_stop", json!({"id": 1})),
    );
    let through = [&a, &b, &c].into_iter().filter(|r| !is_error(r)).count();
    assert_eq!(through, 1, "{} / {} / {}", text(&a), text(&b), text(&c));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1);
    // The others lost the race: refused, offered a new approval at most, never the used one.
    for r in [&a, &b, &c].into_iter().filter(|r| is_error(r)) {
        let t = text(r);
        assert!(!t.contains(&format!("approval {id}")) || t.contains("not approved"), "{t}");
    }
    let (_, shown, _) = approvals(&dir, "one", &["show", &id]).await;
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap()["status"], "used");
    for session in [one, two, three] {
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_redis_password_is_never_printed_and_a_wrong_one_denies() {
    let redis = RedisServer::start_with(Some("right-redis-password"));
    let nas = start_sim().await;
    let wrong = redis.url().replace("right-redis-password", "wrong-redis-password");
    let out = command(&nas)
        .args(["call", "vm_status", r#"{"id": 1}"#, "--state", &wrong])
        .env("RUST_LOG", "debug")
        .output()
        .await
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("unavailable"), "{all}");
    assert!(!all.contains("redis-password"), "{all}");
    assert!(nas_calls_of(&nas, "vm.status").is_empty());
    let right = command(&nas)
        .args(["call", "vm_status", r#"{"id": 1}"#])
        .env("TRUENAS_MCP_STATE", redis.url())
        .env("RUST_LOG", "debug")
        .output()
        .await
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&right.stdout), String::from_utf8_lossy(&right.stderr));
    assert!(right.status.success(), "{all}");
    assert!(!all.contains("redis-password"), "{all}");
    assert_eq!(nas_calls_of(&nas, "vm.status").len(), 1);
    let help = command(&nas).arg("--help").env("TRUENAS_MCP_STATE", redis.url()).output().await.unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--state") && !help.contains("redis-password"), "{help}");
}
