//! The client against the simulated NAS and against a socket that never answers: the
//! connection lock is never held across network I/O, waiting callers share one attempt and
//! its error, oversized and result-less replies are errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::ids::{ActionName, MethodName};
use truenas_sim::{self as sim, SimConfig, SimHandle};

/// Turns a hang into a failure; far above every bound tested.
const HANG: Duration = Duration::from_secs(30);

fn permit(method: &str) -> Permit {
    Permit::for_tests(ActionName::new("test"), MethodName::new(method))
}

fn config(url: &str) -> NasConfig {
    let endpoint = Endpoint::parse(url).unwrap();
    NasConfig::new(endpoint, ApiKey::new(sim::DEMO_API_KEY), Some(sim::DEMO_USERNAME.into()), &TlsTrust::PublicRoots)
        .with_call_timeout(Duration::from_secs(1))
        .with_connect_timeout(Duration::from_secs(1))
}

async fn sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::start(listener, SimConfig::default()).await.unwrap()
}

/// A listener that accepts connections, holds them and never says a word.
async fn mute_listener() -> (String, Arc<Mutex<Vec<tokio::net::TcpStream>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let sockets = Arc::clone(&held);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            sockets.lock().unwrap().push(socket);
        }
    });
    (url, held)
}

async fn read(client: &NasClient, method: &str) -> Result<CallOutcome, NasError> {
    let options = CallOptions { read_only: true, ..CallOptions::default() };
    tokio::time::timeout(HANG, client.call(permit(method), json!([]), options)).await.expect("the call hung")
}

#[tokio::test]
async fn the_connection_state_answers_while_an_attempt_hangs() {
    let (url, _held) = mute_listener().await;
    let client = NasClient::new(config(&url).with_connect_timeout(Duration::from_secs(5)));
    let connecting = tokio::spawn({
        let client = client.clone();
        async move { client.connect().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Before, the state lock was held across the whole connect: this waited for it.
    let release = tokio::time::timeout(Duration::from_secs(2), client.release()).await;
    assert_eq!(release.ok(), Some(None), "not connected, and said so at once");
    connecting.abort();
}

#[tokio::test]
async fn waiting_callers_share_one_attempt_and_its_error() {
    let (url, held) = mute_listener().await;
    let client = NasClient::new(config(&url));
    let calls = (0..6).map(|_| client.connect());
    let results = tokio::time::timeout(HANG, futures_util::future::join_all(calls)).await.expect("hung");
    let errors: Vec<String> = results.into_iter().map(|r| r.unwrap_err().to_string()).collect();
    let expected =
        format!("cannot connect to TrueNAS at `{url}`: no answer within 1s while asking `GET /api/versions`");
    assert!(errors.iter().all(|e| *e == expected), "{errors:?}");
    assert_eq!(held.lock().unwrap().len(), 1, "one attempt for six callers");
    // Within the backoff, a caller gets that error at once and nothing is attempted.
    let again = client.connect().await.unwrap_err();
    assert_eq!(again.to_string(), expected);
    assert!(again.nothing_sent());
    assert_eq!(held.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reply_over_the_size_limit_says_so_and_the_next_call_reconnects() {
    let nas = sim().await;
    let client = NasClient::new(config(&nas.url()).with_max_reply_bytes(2048));
    client.connect().await.unwrap();
    let err = read(&client, "vm.query").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "a reply from TrueNAS exceeds 2048 bytes; the connection was closed during `vm.query` and the NAS may have carried it out"
    );
    assert_eq!(nas.recorder().calls().iter().filter(|c| c.method == "vm.query").count(), 1, "not retried");
    let small = read(&client, "system.version").await.unwrap();
    assert!(small.result.is_string(), "a new connection serves the next call: {small:?}");
}

#[tokio::test]
async fn a_reply_without_result_or_error_is_a_protocol_error() {
    let nas = sim().await;
    let client = NasClient::new(config(&nas.url()));
    client.connect().await.unwrap();
    nas.faults().no_result_next("system.version");
    let err = read(&client, "system.version").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected reply from TrueNAS: the reply to `system.version` has neither `result` nor `error`"
    );
    assert!(read(&client, "system.version").await.is_ok());
}

#[tokio::test]
async fn a_silent_nas_is_found_by_the_keepalive_and_pending_calls_fail_as_lost() {
    let nas = sim().await;
    let client = NasClient::new(config(&nas.url()).with_call_timeout(Duration::from_secs(3)));
    client.connect().await.unwrap();
    nas.faults().set_silent(true);
    let write = tokio::time::timeout(HANG, client.call(permit("system.version"), json!([]), CallOptions::default()))
        .await
        .expect("hung")
        .unwrap_err();
    assert_eq!(
        write.to_string(),
        "lost the connection to TrueNAS during `system.version`; the NAS may have carried it out"
    );
    nas.faults().set_silent(false);
    assert!(read(&client, "system.version").await.is_ok(), "the next call connects anew");
}

#[tokio::test]
async fn without_a_username_a_release_lacking_the_key_only_login_names_the_setting() {
    use super::rpc::{Connection, Limits};
    use super::session::login;
    use crate::schema::Release;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nas = sim::start(listener, SimConfig { release: Release::V27_0, ..SimConfig::default() }).await.unwrap();
    let url = format!("{}/api/current", nas.url().replacen("http://", "ws://", 1));
    let limits = Limits { max_in_flight: 4, max_reply_bytes: 1 << 20 };
    let (conn, _events) = Connection::open(&url, None, limits).await.unwrap();
    let key = ApiKey::new(sim::DEMO_API_KEY);
    // The release not yet known (no probe): the NAS's "Method does not exist" becomes the reason.
    let err = login(&conn, &key, None, None, HANG).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "TrueNAS has no login by API key alone: set `TRUENAS_USERNAME` to the user that owns the key"
    );
    assert_eq!(serde_json::to_string(&err.summary()).unwrap(), r#"{"kind":"username_required"}"#);
    // Known from the probe: refused before anything is sent.
    nas.recorder().clear();
    let err = login(&conn, &key, None, Some(Release::V27_0), HANG).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "TrueNAS 27.0 has no login by API key alone: set `TRUENAS_USERNAME` to the user that owns the key"
    );
    assert!(nas.recorder().calls().is_empty(), "{:?}", nas.recorder().calls());
    // With the username, the same key logs in.
    login(&conn, &key, Some(sim::DEMO_USERNAME), Some(Release::V27_0), HANG).await.unwrap();
    let methods: Vec<String> = nas.recorder().calls().into_iter().map(|c| c.method).collect();
    assert_eq!(methods, ["auth.login_ex"]);
}
