//! The REST fallback end to end: the real binary against a simulated NAS without JSON-RPC
//! (REST `/api/v2.0` only) chooses REST at connect time, and every action, job, error and
//! dropped connection behaves as over JSON-RPC.

use serde_json::{Value, json};
use truenas_mcp::nas::same_over_rest;
use truenas_mcp::schema::Release;

use crate::every_action::run_every_action;
use crate::util::*;

#[tokio::test]
async fn every_action_over_rest_sends_the_nas_what_json_rpc_sends() {
    let (rpc_nas, rest_nas) = tokio::join!(start_sim(), start_rest_only_sim());
    let identity = |m: &str, p: &Value| (m.to_string(), p.clone());
    let (rpc, rest) = tokio::join!(
        run_every_action(&rpc_nas, Release::V25_10, &identity),
        run_every_action(&rest_nas, Release::V25_10, &same_over_rest),
    );
    assert!(
        rest.failures.is_empty(),
        "{} actions failed over REST:\n{}",
        rest.failures.len(),
        rest.failures.join("\n")
    );
    assert!(rpc.failures.is_empty(), "{}", rpc.failures.join("\n"));
    let mut differences = Vec::new();
    for ((action, over_rpc), (_, over_rest)) in rpc.calls.iter().zip(&rest.calls) {
        let expected: Vec<(String, Value)> = over_rpc.iter().map(|(m, p)| same_over_rest(m, p)).collect();
        if &expected != over_rest {
            differences.push(format!("{action}:\n  JSON-RPC {expected:?}\n  REST     {over_rest:?}"));
        }
    }
    assert_eq!(rpc.calls.len(), rest.calls.len());
    assert!(differences.is_empty(), "{} actions differ:\n{}", differences.len(), differences.join("\n"));
    assert!(nas_calls_of(&rest_nas, "auth.login_ex").is_empty(), "REST sends the key with each request, no login");
}

#[tokio::test]
async fn every_action_reaches_a_24_10_nas_over_rest_or_says_it_does_not_exist_there() {
    every_action_on_a_rest_only_release(Release::V24_10).await;
}

#[tokio::test]
async fn every_action_reaches_a_24_04_nas_over_rest_and_apps_say_they_need_24_10() {
    let run = every_action_on_a_rest_only_release(Release::V24_04).await;
    let apps: Vec<&(String, Vec<(String, Value)>)> =
        run.calls.iter().filter(|(action, _)| action.starts_with("app_") || action.starts_with("docker_")).collect();
    assert_eq!(apps.len(), 17);
    assert!(apps.iter().all(|(_, calls)| calls.is_empty()), "no app call reaches a 24.04 NAS: {apps:?}");
}

/// Every action against a REST-only sim of `release`: each reaches its routed method with
/// params that release's table accepts, or says it does not exist there; the routed legacy
/// names are used and the 25.10 names are not.
async fn every_action_on_a_rest_only_release(release: Release) -> crate::every_action::EveryAction {
    let nas = start_sim_release(release).await;
    let run = run_every_action(&nas, release, &same_over_rest).await;
    assert!(
        run.failures.is_empty(),
        "{} actions failed on {release}:\n{}",
        run.failures.len(),
        run.failures.join("\n")
    );
    let methods: Vec<&String> = run.calls.iter().flat_map(|(_, calls)| calls.iter().map(|(m, _)| m)).collect();
    for routed in ["service.start", "zfs.snapshot.create", "bootenv.query", "update.check_available"] {
        assert!(methods.iter().any(|m| *m == routed), "routed to `{routed}` on {release}");
    }
    for renamed in ["service.control", "pool.snapshot.create", "boot.environment.query", "update.status"] {
        assert!(!methods.iter().any(|m| *m == renamed), "`{renamed}` is not sent to {release}");
    }
    run
}

#[tokio::test]
async fn a_wrong_api_key_over_rest_is_the_same_clear_error_without_the_key() {
    let nas = start_rest_only_sim().await;
    let key = "7-thisisnotthekeythisisnotthekeythisisnotthekeythisisnotthekey1234";
    let out = command(&nas).env("TRUENAS_API_KEY", key).args(["call", "vm_list"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TrueNAS refused the API key for user `truenas_admin`"), "{stderr}");
    assert!(!stderr.contains(key) && !String::from_utf8_lossy(&out.stdout).contains(key));
    assert!(nas.recorder().calls().is_empty(), "nothing ran with a wrong key");
}

#[tokio::test]
async fn over_rest_the_key_never_reaches_the_logs_even_at_trace_level() {
    let nas = start_rest_only_sim().await;
    let out =
        command(&nas).env("RUST_LOG", "trace").args(["call", "vm_status", r#"{"id": 1}"#]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("over REST"), "the REST transport was chosen: {stderr}");
    let key = truenas_sim::DEMO_API_KEY;
    assert!(!stderr.contains(&key[2..20]) && !String::from_utf8_lossy(&out.stdout).contains(&key[2..20]));
    assert_eq!(nas_calls_of(&nas, "vm.status"), [json!([1])]);
}

#[tokio::test]
async fn a_job_over_rest_is_polled_with_progress_to_its_real_outcome() {
    let nas = start_rest_only_sim().await;
    let (session, client) = connect_stdio(&nas, &[]).await;
    let stopped = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    let progress = client.progress.lock().unwrap().clone();
    assert!(progress.len() >= 2, "progress notifications: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0].progress <= w[1].progress), "{progress:?}");
    assert_eq!(progress.last().map(|p| p.progress), Some(100.0));
    let polls = nas_calls_of(&nas, "core.get_jobs");
    assert!(!polls.is_empty() && polls.iter().all(|p| p[0][0][0] == "id"), "polls ask for the one job: {polls:?}");
    let after = json_of(&truenas(&session, "vm", "vm_status", json!({"id": 1})).await);
    assert_eq!(after["state"], "STOPPED");

    // A failed job is TrueNAS's reason, as over JSON-RPC.
    let again = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(is_error(&again) && text(&again).contains("(vm.stop) FAILED: "), "{}", text(&again));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn truenas_errors_over_rest_keep_their_errname_and_reason() {
    let nas = start_rest_only_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    let r = truenas(&session, "vm", "vm_get", json!({"id": 424242})).await;
    assert!(text(&r).starts_with("Error: TrueNAS ENOENT: ") && text(&r).contains("424242"), "{}", text(&r));
    nas.faults().fail_next("vm.query", "EFAULT", "simulated middleware failure");
    let r = truenas(&session, "vm", "vm_list", json!({})).await;
    assert_eq!(text(&r), "Error: TrueNAS EFAULT: simulated middleware failure");
    let r = truenas(&session, "vm", "vm_create", json!({"name": "x y", "memory": 512})).await;
    assert!(text(&r).starts_with("Error: TrueNAS rejected the arguments: "), "field detail kept: {}", text(&r));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_nas_dropping_mid_call_over_rest_fails_a_write_and_retries_a_read_once() {
    let nas = start_rest_only_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));

    nas.faults().drop_connection_on("vm.stop");
    let r = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(text(&r).contains("lost the connection to TrueNAS during `vm.stop`; the NAS may"), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1, "a write is never retried on its own");

    nas.recorder().clear();
    nas.faults().drop_connection_on("vm.query");
    let r = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), 2, "the read was sent again once");
    session.cancel().await.unwrap();
}
