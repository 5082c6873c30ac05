//! Streamable HTTP: bearer tokens (each its own grant), 401 for strangers, and the same
//! policy and tools as stdio.

use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::util::*;

/// Starts the binary with `--http 127.0.0.1:0` and returns it with its MCP URL.
pub(crate) async fn serve_http(nas: &truenas_sim::SimHandle, args: &[&str]) -> (tokio::process::Child, String) {
    serve_http_at(nas, "127.0.0.1:0", args).await
}

/// Starts the binary with `--http ADDR` and returns it with its MCP URL.
async fn serve_http_at(nas: &truenas_sim::SimHandle, addr: &str, args: &[&str]) -> (tokio::process::Child, String) {
    let mut cmd = command(nas);
    cmd.args(["--http", addr]).args(args);
    serve_http_command(cmd).await
}

/// Starts `cmd` (the binary with its `--http` address and the rest) and returns it with its MCP
/// URL.
pub(crate) async fn serve_http_command(mut cmd: tokio::process::Command) -> (tokio::process::Child, String) {
    cmd.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("the server printed its address");
        if let Some(url) = line.split("serving MCP at ").nth(1) {
            break url.trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// Two bearer tokens of the accepted length.
const ALPHA: &str = "alpha-token-0123456789";
const BETA: &str = "beta-token-0123456789";

const ACCEPT: &str = "application/json, text/event-stream";

fn initialize_body() -> serde_json::Value {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})
}

/// Opens a session with raw HTTP: `initialize`, then `notifications/initialized`. Returns the
/// session id, or the refusal's status and body.
async fn open_session(url: &str, token: &str) -> Result<String, (u16, String)> {
    let http = reqwest::Client::new();
    let r = http.post(url).bearer_auth(token).header("accept", ACCEPT).json(&initialize_body()).send().await.unwrap();
    let status = r.status().as_u16();
    let id = r.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_string());
    let body = r.text().await.unwrap();
    let Some(id) = id.filter(|_| status == 200) else { return Err((status, body)) };
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let r = session_request(&http, reqwest::Method::POST, url, token, &id).json(&note).send().await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    Ok(id)
}

fn session_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    session: &str,
) -> reqwest::RequestBuilder {
    http.request(method, url)
        .bearer_auth(token)
        .header("accept", ACCEPT)
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
}

pub(crate) async fn connect(url: &str, token: &str) -> Session {
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(token.to_string());
    Client::default().serve(StreamableHttpClientTransport::from_config(config)).await.unwrap()
}

#[tokio::test]
async fn each_bearer_token_is_its_own_grant_and_strangers_get_401() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("http");
    let policy = policy_file(
        &dir,
        "p.json",
        &json!({"version":"1","default":"deny","tools":{"vm_status":{"limits":[{"counter":"status","window":"day","max":2,"scope":"grant"}]}}}),
    );
    let (_child, url) =
        serve_http(&nas, &["--policy", policy.to_str().unwrap(), "--http-token", ALPHA, "--http-token", BETA]).await;

    let http = reqwest::Client::new();
    let body = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let accept = "application/json, text/event-stream";
    let none = http.post(&url).header("accept", accept).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = http
        .post(&url)
        .bearer_auth("gamma-token-0123456789")
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let alpha = connect(&url, ALPHA).await;
    let beta = connect(&url, BETA).await;
    for _ in 0..2 {
        assert!(!is_error(&truenas(&alpha, "vm", "vm_status", json!({"id": 1})).await));
    }
    let third = truenas(&alpha, "vm", "vm_status", json!({"id": 1})).await;
    assert!(text(&third).starts_with("[POLICY DENIED]"), "{}", text(&third));
    let other = truenas(&beta, "vm", "vm_status", json!({"id": 1})).await;
    assert!(!is_error(&other), "beta has its own budget: {}", text(&other));
    assert_eq!(nas_calls_of(&nas, "vm.status").len(), 3);
    alpha.cancel().await.unwrap();
    beta.cancel().await.unwrap();
}

#[tokio::test]
async fn foreign_origins_and_host_names_are_refused_on_loopback() {
    let nas = start_sim().await;
    let (_child, url) = serve_http(&nas, &[]).await;
    let body = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let r = reqwest::Client::new()
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // DNS rebinding: a loopback server answers only to loopback host names.
    let r = reqwest::Client::new()
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("host", "rebound.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let session = connect(&url, "").await;
    let listed = json_of(&truenas(&session, "vm", "vm_list", json!({})).await);
    assert!(listed.as_array().is_some_and(|v| !v.is_empty()));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_session_answers_only_to_the_token_that_opened_it() {
    let nas = start_sim().await;
    let (_child, url) = serve_http(&nas, &["--http-token", ALPHA, "--http-token", BETA]).await;
    let http = reqwest::Client::new();
    let session = open_session(&url, ALPHA).await.unwrap();
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list"});

    let stolen = session_request(&http, reqwest::Method::POST, &url, BETA, &session).json(&list).send().await.unwrap();
    assert_eq!(stolen.status(), 404, "a call with another token");
    let unknown = session_request(&http, reqwest::Method::POST, &url, BETA, "no-such-session").json(&list).send().await;
    let (status, body) = (stolen.status(), stolen.text().await.unwrap());
    let unknown = unknown.unwrap();
    assert_eq!((unknown.status(), unknown.text().await.unwrap()), (status, body), "as for an unknown session");
    let stream = session_request(&http, reqwest::Method::GET, &url, BETA, &session).send().await.unwrap();
    assert_eq!(stream.status(), 404, "a GET stream with another token");
    let deleted = session_request(&http, reqwest::Method::DELETE, &url, BETA, &session).send().await.unwrap();
    assert_eq!(deleted.status(), 404, "a DELETE with another token");

    // The owner's session is untouched.
    let own = session_request(&http, reqwest::Method::POST, &url, ALPHA, &session).json(&list).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("\"truenas\""));
    let closed = session_request(&http, reqwest::Method::DELETE, &url, ALPHA, &session).send().await.unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
}

#[tokio::test]
async fn sessions_per_token_are_capped_and_closing_one_frees_a_slot() {
    let nas = start_sim().await;
    let (_child, url) =
        serve_http(&nas, &["--http-token", ALPHA, "--http-token", BETA, "--http-max-sessions", "2"]).await;
    let first = open_session(&url, ALPHA).await.unwrap();
    let _second = open_session(&url, ALPHA).await.unwrap();
    let (status, body) = open_session(&url, ALPHA).await.unwrap_err();
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("2 open sessions"), "{body}");
    let _other = open_session(&url, BETA).await.expect("each token has its own cap");

    let http = reqwest::Client::new();
    let closed = session_request(&http, reqwest::Method::DELETE, &url, ALPHA, &first).send().await.unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    open_session(&url, ALPHA).await.expect("a closed session frees its slot");
}

#[tokio::test]
async fn any_loopback_address_is_served() {
    let nas = start_sim().await;
    let (_child, url) = serve_http_at(&nas, "127.0.0.2:0", &[]).await;
    assert!(url.starts_with("http://127.0.0.2:"), "{url}");
    let session = connect(&url, "").await;
    let listed = json_of(&truenas(&session, "vm", "vm_list", json!({})).await);
    assert!(listed.as_array().is_some_and(|v| !v.is_empty()));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_job_is_read_only_by_the_token_that_started_it() {
    use rmcp::model::ReadResourceRequestParams;

    let nas = start_sim().await;
    let (_child, url) = serve_http(&nas, &["--http-token", ALPHA, "--http-token", BETA, "--job-wait", "0"]).await;
    let alpha = connect(&url, ALPHA).await;
    let beta = connect(&url, BETA).await;
    let handle = json_of(&truenas(&alpha, "vm", "vm_stop", json!({"id": 1})).await);
    let id = handle["job_id"].as_u64().unwrap();

    let own = alpha.read_resource(ReadResourceRequestParams::new(format!("truenas://jobs/{id}"))).await;
    assert!(own.is_ok(), "the job's own token reads it: {own:?}");
    let foreign = beta.read_resource(ReadResourceRequestParams::new(format!("truenas://jobs/{id}"))).await.unwrap_err();
    let absent = beta.read_resource(ReadResourceRequestParams::new("truenas://jobs/999999")).await.unwrap_err();
    let as_absent = |e: String, id: u64| e.replace(&format!("truenas://jobs/{id}`"), "truenas://jobs/999999`");
    assert_eq!(as_absent(foreign.to_string(), id), absent.to_string());

    // A job started on the NAS by another client is not readable either.
    let (other, _) = connect_stdio(&nas, &["--job-wait", "0"]).await;
    let theirs = json_of(&truenas(&other, "vm", "vm_stop", json!({"id": 3})).await)["job_id"].as_u64().unwrap();
    other.cancel().await.unwrap();
    let asked = |nas: &truenas_sim::SimHandle| {
        nas_calls_of(nas, "core.get_jobs").into_iter().filter(|p| p == &json!([[["id", "=", theirs]]])).count()
    };
    let before = asked(&nas);
    let foreign = alpha.read_resource(ReadResourceRequestParams::new(format!("truenas://jobs/{theirs}"))).await;
    assert_eq!(as_absent(foreign.unwrap_err().to_string(), theirs), absent.to_string());
    assert_eq!(asked(&nas), before, "nothing was asked of the NAS for a job that is not the caller's");
    alpha.cancel().await.unwrap();
    beta.cancel().await.unwrap();
}
