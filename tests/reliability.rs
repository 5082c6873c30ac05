//! Jobs, TrueNAS errors and a NAS that misbehaves: progress reaches the client, errors keep
//! TrueNAS's detail, a dropped connection fails the call cleanly and the next call works.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn a_job_reports_progress_and_returns_its_real_outcome() {
    let nas = start_sim().await;
    let (session, client) = connect_stdio(&nas, &[]).await;
    let running = json_of(&truenas(&session, "vm", "vm_status", json!({"id": 1})).await);
    assert_eq!(running["state"], "RUNNING", "seed VM 1 runs: {running}");

    let stopped = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    let progress = client.progress.lock().unwrap().clone();
    assert!(progress.len() >= 3, "progress notifications: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0].progress <= w[1].progress), "{progress:?}");
    assert_eq!(progress.last().map(|p| p.progress), Some(100.0));
    assert!(progress.iter().all(|p| p.total == Some(100.0)));

    let after = json_of(&truenas(&session, "vm", "vm_status", json!({"id": 1})).await);
    assert_eq!(after["state"], "STOPPED", "the job finished before the call returned: {after}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn truenas_errors_keep_their_errname_and_reason() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    let r = truenas(&session, "vm", "vm_get", json!({"id": 424242})).await;
    assert!(is_error(&r));
    assert!(text(&r).starts_with("Error: TrueNAS ENOENT: "), "{}", text(&r));
    assert!(text(&r).contains("424242"), "{}", text(&r));

    nas.faults().fail_next("vm.query", "EFAULT", "simulated middleware failure");
    let r = truenas(&session, "vm", "vm_list", json!({})).await;
    assert_eq!(text(&r), "Error: TrueNAS EFAULT: simulated middleware failure");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_dropped_connection_fails_the_call_cleanly_and_the_next_call_reconnects() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));

    nas.faults().drop_connection_on("vm.stop");
    let r = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("lost the connection to TrueNAS during `vm.stop`"), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 1, "a write is never retried on its own");

    let logins_before = nas.recorder().calls().iter().filter(|c| c.method.starts_with("auth.")).count();
    let again = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(!is_error(&again), "{}", text(&again));
    let logins_after = nas.recorder().calls().iter().filter(|c| c.method.starts_with("auth.")).count();
    assert_eq!(logins_after, logins_before + 1, "a new connection logged in again");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_read_interrupted_by_a_dropped_connection_is_retried_once() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    nas.faults().drop_connection_on("vm.query");
    let r = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), 3);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_wrong_api_key_is_a_clear_error_that_never_shows_the_key() {
    let nas = start_sim().await;
    let mut cmd = command(&nas);
    let key = "7-thisisnotthekeythisisnotthekeythisisnotthekeythisisnotthekey1234";
    cmd.env("TRUENAS_API_KEY", key).args(["call", "vm_list"]);
    let out = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TrueNAS refused the API key for user `truenas_admin`"), "{stderr}");
    assert!(!stderr.contains(key) && !String::from_utf8_lossy(&out.stdout).contains(key));
}

#[tokio::test]
async fn the_api_key_never_reaches_the_logs_even_at_trace_level() {
    let nas = start_sim().await;
    let out =
        command(&nas).env("RUST_LOG", "trace").args(["call", "vm_status", r#"{"id": 1}"#]).output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auth.login_ex") || stderr.lines().count() > 10, "trace logging was on: {stderr}");
    let key = truenas_sim::DEMO_API_KEY;
    assert!(!stderr.contains(key) && !String::from_utf8_lossy(&out.stdout).contains(key), "the key leaked: {stderr}");
    assert!(!stderr.contains(&key[2..20]), "not even part of it");
}

#[tokio::test]
async fn a_failed_job_is_a_tool_error_with_truenas_reason() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    let vms = json_of(&truenas(&session, "vm", "vm_list", json!({})).await);
    let stopped =
        vms.as_array().unwrap().iter().find(|v| v["status"]["state"] == "STOPPED").expect("a stopped seed VM");
    let r = truenas(&session, "vm", "vm_stop", json!({"id": stopped["id"]})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.starts_with("Error: TrueNAS job ") && t.contains("(vm.stop) FAILED: "), "{t}");
    assert!(t.contains("not active"), "TrueNAS's own reason: {t}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn many_concurrent_calls_stay_under_truenas_in_flight_cap_and_all_succeed() {
    let nas = start_sim().await;
    // The default policy with its loop breaker off: 40 identical reads are the point here.
    let dir = tempdir::Dir::new("in-flight-cap");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("policy/default.json")).unwrap()).unwrap();
    doc["x-loop-breaker"] = json!(false);
    let policy = policy_file(&dir, "p.json", &doc);
    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    // Each reply takes a while, so calls pile up; TrueNAS refuses the 21st in flight.
    nas.faults().set_latency(std::time::Duration::from_millis(150));
    let calls = (0..40).map(|_| truenas(&session, "vm", "vm_status", json!({"id": 1})));
    let results = futures_util::future::join_all(calls).await;
    for r in &results {
        assert!(!is_error(r), "{}", text(r));
    }
    assert_eq!(nas_calls_of(&nas, "vm.status").len(), 40);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn cancelling_a_call_aborts_its_truenas_job() {
    use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
    use rmcp::service::PeerRequestOptions;

    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    // Slow jobs: the first stop holds the VM's lock, the second waits behind it.
    nas.faults().set_job_step(std::time::Duration::from_millis(300));
    let stop = |id: i64| {
        let args = json!({"category": "vm", "action": "vm_stop", "params": {"id": id}});
        ClientRequest::CallToolRequest(Request::new(
            CallToolRequestParams::new("truenas").with_arguments(args.as_object().cloned().unwrap()),
        ))
    };
    let first = session.send_cancellable_request(stop(1), PeerRequestOptions::no_options()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let second = session.send_cancellable_request(stop(1), PeerRequestOptions::no_options()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    second.cancel(Some("changed my mind".into())).await.unwrap();

    let rmcp::model::ServerResult::CallToolResult(done) = first.await_response().await.unwrap() else {
        panic!("a tool result expected")
    };
    assert!(!is_error(&done), "the first stop ran to the end: {}", text(&done));
    let mut aborts = Vec::new();
    for _ in 0..50 {
        aborts = nas_calls_of(&nas, "core.job_abort");
        if !aborts.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(aborts.len(), 1, "one abort for the cancelled call");
    assert!(aborts[0][0].as_u64().is_some(), "core.job_abort(job id): {:?}", aborts[0]);
    assert_eq!(nas_calls_of(&nas, "vm.stop").len(), 2);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn without_job_events_the_client_polls_and_still_returns_the_outcome() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    nas.faults().mute_events(true);
    let stopped = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    let polls = nas_calls_of(&nas, "core.get_jobs");
    assert!(!polls.is_empty(), "the job was followed by polling core.get_jobs");
    assert!(polls.iter().all(|p| p[0][0][0] == "id"), "polls ask for the one job: {polls:?}");
    let after = json_of(&truenas(&session, "vm", "vm_status", json!({"id": 1})).await);
    assert_eq!(after["state"], "STOPPED");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn without_a_username_the_key_logs_in_with_login_with_api_key() {
    let nas = start_sim().await;
    let out = command(&nas)
        .env_remove("TRUENAS_USERNAME")
        .args(["call", "vm_status", r#"{"id": 1}"#])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let logins: Vec<String> =
        nas.recorder().calls().into_iter().map(|c| c.method).filter(|m| m.starts_with("auth.")).collect();
    assert_eq!(logins, ["auth.login_with_api_key"]);
}

#[tokio::test]
async fn a_job_outliving_the_wait_answers_with_a_handle_readable_as_a_resource() {
    use rmcp::model::{ReadResourceRequestParams, ResourceContents};

    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--job-wait", "1"]).await;
    let templates = session.list_resource_templates(None).await.unwrap();
    assert!(templates.resource_templates.iter().any(|t| t.uri_template == "truenas://jobs/{id}"));

    nas.faults().set_job_step(std::time::Duration::from_millis(600));
    let handle = json_of(&truenas(&session, "vm", "vm_stop", json!({"id": 1})).await);
    assert_eq!(handle["state"], "RUNNING", "{handle}");
    let id = handle["job_id"].as_u64().unwrap();
    assert_eq!(handle["resource"], format!("truenas://jobs/{id}"));

    async fn read(session: &Session, id: u64) -> serde_json::Value {
        let r = session.read_resource(ReadResourceRequestParams::new(format!("truenas://jobs/{id}"))).await.unwrap();
        let ResourceContents::TextResourceContents { text, .. } = &r.contents[0] else { panic!("text expected") };
        serde_json::from_str(text).unwrap()
    }
    let mut job = read(&session, id).await;
    for _ in 0..40 {
        if job["state"] == "SUCCESS" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        job = read(&session, id).await;
    }
    assert_eq!(job["state"], "SUCCESS", "{job}");
    assert_eq!(job["method"], "vm.stop");
    assert!(nas_calls_of(&nas, "core.get_jobs").iter().all(|p| p == &json!([[["id", "=", id]]])));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_job_is_named_by_its_canonical_id_only() {
    use rmcp::model::ReadResourceRequestParams;

    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--job-wait", "1"]).await;
    nas.faults().set_job_step(std::time::Duration::from_millis(600));
    let handle = json_of(&truenas(&session, "vm", "vm_stop", json!({"id": 1})).await);
    let id = handle["job_id"].as_u64().unwrap();
    let read = |uri: String| session.read_resource(ReadResourceRequestParams::new(uri));
    assert!(read(format!("truenas://jobs/{id}")).await.is_ok());
    // Other spellings of the same number name no job: one resource, one URI.
    for alias in [format!("0{id}"), format!("+{id}"), format!("{id}.0"), format!("{id}%20"), format!("00{id}")] {
        let err = read(format!("truenas://jobs/{alias}")).await.unwrap_err().to_string();
        assert!(err.contains(&format!("no resource `truenas://jobs/{alias}`")), "{alias}: {err}");
    }
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "core.get_jobs").iter().all(|p| p == &json!([[["id", "=", id]]])));
}

/// A listener that answers every request with `reply(path)` and counts the connections it got.
async fn fake_http(
    reply: impl Fn(&str) -> String + Send + Sync + 'static,
) -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (counted, reply) = (hits.clone(), std::sync::Arc::new(reply));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let _ = socket.write_all(reply(&path).as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn a_nas_that_redirects_elsewhere_is_not_followed() {
    let nas = start_sim().await;
    // The "other host": anything that reaches it was sent where the operator never pointed us.
    let (elsewhere, elsewhere_hits) =
        fake_http(|_| "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()).await;
    let (redirecting, _) = fake_http(move |path| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{elsewhere}{path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    })
    .await;
    let out = command(&nas)
        .env("TRUENAS_URL", format!("http://{redirecting}"))
        .env("TRUENAS_MCP_CONNECT_TIMEOUT", "5")
        .args(["call", "vm_list", "{}"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(elsewhere_hits.load(std::sync::atomic::Ordering::SeqCst), 0, "the redirect was followed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(truenas_sim::DEMO_API_KEY), "{stderr}");
    assert!(stderr.contains("307"), "{stderr}");

    // A NAS without JSON-RPC (REST): its REST answers redirect elsewhere, with the request body.
    let (rest_redirecting, _) = fake_http(move |path| {
        if path == "/api/versions" {
            return "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string();
        }
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{elsewhere}{path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    })
    .await;
    let dir = tempdir::Dir::new("redirect");
    let policy = policy_file(&dir, "p.json", &json!({"version": "1", "default": "allow"}));
    let out = command(&nas)
        .env("TRUENAS_URL", format!("http://{rest_redirecting}"))
        .env("TRUENAS_MCP_CONNECT_TIMEOUT", "5")
        .args(["--policy", policy.to_str().unwrap()])
        .args([
            "call",
            "user_create",
            r#"{"username": "bob", "full_name": "b", "password": "pw-in-the-body", "group_create": true}"#,
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(elsewhere_hits.load(std::sync::atomic::Ordering::SeqCst), 0, "the REST redirect was followed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("307"), "{stderr}");
}
