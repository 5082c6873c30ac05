//! A misbehaving NAS never wedges the server: a NAS that accepts TCP and never answers, a login
//! that never answers, a connection that goes silent and a reply without a result each end in a
//! clear error within the call's timeout plus one connect deadline, and a healed NAS is used
//! again. Timeouts are shortened with `--call-timeout` / `--connect-timeout`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::*;

/// Turns a hang into a test failure instead of a stuck test run; far above every bound tested.
const HANG: Duration = Duration::from_secs(40);

fn logins(nas: &truenas_sim::SimHandle) -> usize {
    nas.recorder().calls().iter().filter(|c| c.method.starts_with("auth.")).count()
}

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, f).await.unwrap_or_else(|_| panic!("{what} hung"))
}

#[tokio::test]
async fn a_nas_that_accepts_tcp_but_never_answers_fails_concurrent_calls_together() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = std::sync::Arc::clone(&accepted);
    let acceptor = tokio::spawn(async move {
        // Holds every socket open and never reads or writes.
        while let Ok((socket, _)) = listener.accept().await {
            held.lock().unwrap().push(socket);
        }
    });
    let nas = start_sim().await;
    let mut cmd = command(&nas);
    cmd.env("TRUENAS_URL", format!("http://{addr}")).args(["--call-timeout", "1", "--connect-timeout", "1"]);
    let (transport, _) =
        rmcp::transport::TokioChildProcess::builder(cmd).stderr(std::process::Stdio::inherit()).spawn().unwrap();
    let session = rmcp::ServiceExt::serve(Client::default(), transport).await.unwrap();
    // The server's own attempt at start-up fails first (1 s) and its backoff passes; then the
    // six calls find no connection and no attempt under way.
    bounded("the start-up attempt", async {
        while accepted.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1600)).await;

    let calls = (0..6).map(|_| truenas(&session, "vm", "vm_list", json!({})));
    let results = bounded("six calls to a NAS that never answers", futures_util::future::join_all(calls)).await;
    let first = text(&results[0]);
    assert_eq!(
        first,
        format!(
            "Error: cannot connect to TrueNAS at `http://{addr}`: no answer within 1s while asking `GET /api/versions`"
        ),
        "names the NAS and what timed out"
    );
    for r in &results {
        assert!(is_error(r) && text(r) == first, "all fail together with one error: {}", text(r));
    }
    assert_eq!(accepted.lock().unwrap().len(), 2, "the six calls shared one connection attempt");
    acceptor.abort();
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_login_that_never_answers_fails_waiting_calls_together_and_a_healed_nas_is_used_again() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--call-timeout", "1", "--connect-timeout", "2"]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    assert_eq!(logins(&nas), 1);
    // The connection drops under the six reads; each read is retried once on a new
    // connection, whose login is never answered.
    nas.faults().set_silent(true);
    nas.faults().drop_connection_on("vm.query");
    let calls = (0..6).map(|_| truenas(&session, "vm", "vm_list", json!({})));
    let results = bounded("six calls behind a silent login", futures_util::future::join_all(calls)).await;
    let first = text(&results[0]);
    assert_eq!(
        first,
        format!("Error: cannot connect to TrueNAS at `{}`: no answer within 1s while logging in", nas.url()),
        "names the NAS and what timed out"
    );
    for r in &results {
        assert!(is_error(r) && text(r) == first, "all fail together with one error: {}", text(r));
    }
    assert_eq!(logins(&nas), 2, "six waiting calls shared one login attempt");

    nas.faults().set_silent(false);
    // Within the backoff after the failed attempt calls get its error at once; then the NAS is
    // tried again.
    let mut healed = truenas(&session, "vm", "vm_list", json!({})).await;
    for _ in 0..20 {
        if !is_error(&healed) {
            break;
        }
        assert_eq!(text(&healed), first, "during the backoff, the failed attempt's error");
        tokio::time::sleep(Duration::from_millis(250)).await;
        healed = bounded("a call to the healed NAS", truenas(&session, "vm", "vm_list", json!({}))).await;
    }
    assert!(!is_error(&healed), "the healed NAS is used again within seconds: {}", text(&healed));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_connection_that_goes_silent_is_closed_and_replaced_once_the_nas_recovers() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--call-timeout", "3", "--connect-timeout", "2"]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    assert_eq!(logins(&nas), 1);

    nas.faults().set_silent(true);
    let write = bounded("a write on a silent connection", truenas(&session, "vm", "vm_stop", json!({"id": 1}))).await;
    assert!(is_error(&write), "{}", text(&write));
    let t = text(&write);
    assert!(t.contains("`vm.stop`") && t.contains("the NAS may have carried it out"), "{t}");
    assert!(t.contains("lost the connection"), "the keepalive found the connection dead: {t}");

    nas.faults().set_silent(false);
    let healed = bounded("a call after recovery", truenas(&session, "vm", "vm_list", json!({}))).await;
    assert!(!is_error(&healed), "{}", text(&healed));
    assert_eq!(logins(&nas), 2, "the dead connection was replaced by a new one");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_read_that_times_out_says_so_and_a_write_says_it_may_have_run() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--call-timeout", "1", "--connect-timeout", "2"]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    nas.faults().set_slow("vm.status", Duration::from_millis(1500));
    nas.faults().set_slow("vm.start", Duration::from_millis(1500));
    let read = bounded("a slow read", truenas(&session, "vm", "vm_status", json!({"id": 1}))).await;
    assert_eq!(text(&read), "Error: TrueNAS did not answer `vm.status` within 1s");
    let write = bounded("a slow write", truenas(&session, "vm", "vm_start", json!({"id": 2}))).await;
    assert_eq!(text(&write), "Error: TrueNAS did not answer `vm.start` within 1s; the NAS may have carried it out");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_reply_with_neither_result_nor_error_is_an_error() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    nas.faults().no_result_next("vm.query");
    let r = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(is_error(&r), "not a success with null: {}", text(&r));
    assert!(text(&r).contains("reply to `vm.query` has neither `result` nor `error`"), "{}", text(&r));
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await), "the connection still works");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn integers_outside_truenas_range_are_refused_not_rounded() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    for raw in ["-9223372036854775809", "9223372036854775808", "9007199254740993.0", "1e300"] {
        let params: Value = serde_json::from_str(&format!(r#"{{"id": {raw}}}"#)).unwrap();
        let r = truenas(&session, "vm", "vm_get", params).await;
        assert!(is_error(&r), "{raw}: {}", text(&r));
        assert!(text(&r).contains("`id`"), "names the argument: {}", text(&r));
    }
    assert!(nas_calls_of(&nas, "vm.get_instance").is_empty(), "nothing was sent");
    session.cancel().await.unwrap();
}
