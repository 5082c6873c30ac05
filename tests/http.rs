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
pub(crate) async fn serve_http(nas: &truenas_mcp::sim::SimHandle, args: &[&str]) -> (tokio::process::Child, String) {
    let mut cmd = command(nas);
    cmd.args(["--http", "127.0.0.1:0"]).args(args).stderr(Stdio::piped()).stdout(Stdio::null());
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
    let (_child, url) = serve_http(
        &nas,
        &["--policy", policy.to_str().unwrap(), "--http-token", "alpha-token", "--http-token", "beta-token"],
    )
    .await;

    let http = reqwest::Client::new();
    let body = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let accept = "application/json, text/event-stream";
    let none = http.post(&url).header("accept", accept).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = http.post(&url).bearer_auth("gamma").header("accept", accept).json(&body).send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    let alpha = connect(&url, "alpha-token").await;
    let beta = connect(&url, "beta-token").await;
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
