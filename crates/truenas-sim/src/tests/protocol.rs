//! The wire protocol: authentication, envelopes, error shapes, concurrency, faults, HTTP.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{Client, sim};
use crate::{DEMO_API_KEY, DEMO_USERNAME};

#[tokio::test]
async fn login_with_api_key_accepts_the_key_and_refuses_others() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    assert_eq!(c.call("auth.login_with_api_key", json!(["1-wrong"])).await, json!(false));
    let err = c.error("vm.query", json!([])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["data"]["error"], 207);
    assert_eq!(err["data"]["errname"], "ENOTAUTHENTICATED");
    assert_eq!(err["data"]["reason"], "[ENOTAUTHENTICATED] Not authenticated");
    assert_eq!(c.call("auth.login_with_api_key", json!([DEMO_API_KEY])).await, json!(true));
    assert_eq!(c.call("vm.query", json!([[], {"count": true}])).await, json!(3));
}

#[tokio::test]
async fn login_ex_needs_the_key_and_its_owner() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    for (user, key) in [("root", DEMO_API_KEY), (DEMO_USERNAME, "1-nope")] {
        let r =
            c.call("auth.login_ex", json!([{"mechanism": "API_KEY_PLAIN", "username": user, "api_key": key}])).await;
        assert_eq!(r, json!({"response_type": "AUTH_ERR"}));
    }
    assert_eq!(c.error("system.info", json!([])).await["data"]["error"], 207);
    let ok = c
        .call(
            "auth.login_ex",
            json!([{"mechanism": "API_KEY_PLAIN", "username": DEMO_USERNAME, "api_key": DEMO_API_KEY}]),
        )
        .await;
    assert_eq!(ok["response_type"], "SUCCESS");
    assert_eq!(ok["authenticator"], "LEVEL_1");
    assert_eq!(ok["user_info"]["pw_name"], DEMO_USERNAME);
    assert_eq!(c.call("auth.me", json!([])).await["pw_name"], DEMO_USERNAME);
    assert_eq!(c.call("system.version", json!([])).await, "TrueNAS-25.10.5");
}

#[tokio::test]
async fn only_login_helpers_work_before_login() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    assert_eq!(c.call("core.ping", json!([])).await, "pong");
    let options = c.call("core.set_options", json!([{"py_exceptions": true}])).await;
    assert_eq!(options, json!({"legacy_jobs": true, "private_methods": false, "py_exceptions": true}));
    assert!(c.call("auth.mechanism_choices", json!([])).await.as_array().unwrap().contains(&json!("API_KEY_PLAIN")));
    for method in ["system.info", "system.version", "vm.query", "core.get_jobs", "auth.me"] {
        assert_eq!(c.error(method, json!([])).await["data"]["errname"], "ENOTAUTHENTICATED", "{method}");
    }
}

#[tokio::test]
async fn unknown_and_unimplemented_methods() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let err = c.error("vm.teleport", json!([])).await;
    assert_eq!(err, json!({"code": -32601, "message": "Method does not exist"}));
    let err = c.error("kmip.config", json!([])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["data"]["errname"], "ENOTSUP");
    assert!(err["data"]["reason"].as_str().unwrap().contains("kmip.config"));
}

#[tokio::test]
async fn params_are_validated_against_the_release_schema() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let err = c.error("vm.start", json!(["1", {"overcommit": "yes"}])).await;
    assert_eq!(err["code"], -32602);
    assert_eq!(err["message"], "Invalid params");
    assert_eq!(err["data"]["error"], 22);
    assert_eq!(err["data"]["errname"], "EINVAL");
    assert_eq!(err["data"]["trace"], Value::Null);
    let extra = err["data"]["extra"].as_array().unwrap();
    assert_eq!(extra.len(), 2, "{extra:?}");
    assert!(extra.iter().all(|e| e[2] == 22 && e[0].as_str().unwrap().starts_with("vm_start")));
    assert!(extra.iter().any(|e| e[0] == "vm_start.overcommit"));
    let err = c.error("vm.create", json!([{"name": "nomemory"}])).await;
    assert_eq!(err["code"], -32602);
    assert!(c.error("vm.status", json!([1, 2])).await["code"] == -32602, "extra positional params are refused");
}

#[tokio::test]
async fn malformed_messages_get_protocol_errors() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    c.send_text("{not json").await;
    let reply = c.recv().await;
    assert_eq!(reply["id"], Value::Null);
    assert_eq!(reply["error"]["code"], -32700);
    c.send(json!({"jsonrpc": "2.0", "id": 5, "method": "core.ping", "params": {"a": 1}})).await;
    let reply = c.recv().await;
    assert_eq!(reply["id"], 5);
    assert_eq!(reply["error"], json!({"code": -32600, "message": "'params' member must be of type array"}));
    c.send(json!({"jsonrpc": "2.0", "id": "x"})).await;
    assert_eq!(c.recv().await["error"]["message"], "Missing 'method' member");
    // A message without an id runs but gets no reply: the next frame answers the next request.
    c.send(json!({"jsonrpc": "2.0", "method": "auth.login_with_api_key", "params": [DEMO_API_KEY]})).await;
    c.send(json!({"jsonrpc": "2.0", "id": "after", "method": "vm.query", "params": [[], {"count": true}]})).await;
    assert_eq!(c.recv().await, json!({"jsonrpc": "2.0", "result": 3, "id": "after"}));
}

#[tokio::test]
async fn the_recorder_sees_every_call_in_order() {
    let sim = sim().await;
    let mut a = Client::connect(&sim).await;
    let mut b = Client::connect(&sim).await;
    a.call("core.ping", json!([])).await;
    b.error("no.such.method", json!([1, 2])).await;
    a.error("vm.query", json!([])).await;
    a.send(json!({"jsonrpc": "2.0", "id": 9, "method": "core.ping", "params": "bad"})).await;
    a.recv().await;
    let calls = sim.recorder().calls();
    let seen: Vec<(u64, &str, &Value)> = calls.iter().map(|c| (c.connection, c.method.as_str(), &c.params)).collect();
    assert_eq!(
        seen,
        [
            (1, "core.ping", &json!([])),
            (2, "no.such.method", &json!([1, 2])),
            (1, "vm.query", &json!([])),
            (1, "core.ping", &json!("bad"))
        ]
    );
    sim.recorder().clear();
    assert!(sim.recorder().calls().is_empty());
}

#[tokio::test]
async fn drop_connection_on_closes_the_socket_without_a_reply() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    sim.faults().drop_connection_on("vm.query");
    c.send(json!({"jsonrpc": "2.0", "id": 1, "method": "vm.query", "params": []})).await;
    assert!(c.frame().await.is_none(), "the socket closes without a reply");
    assert_eq!(sim.recorder().calls().last().unwrap().method, "vm.query");
    // One-shot: a new connection works.
    let mut again = Client::logged_in(&sim).await;
    assert_eq!(again.call("vm.query", json!([[], {"count": true}])).await, 3);
}

#[tokio::test]
async fn fail_next_fails_one_call() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    sim.faults().fail_next("vm.query", "EBUSY", "Rate Limit Exceeded");
    let err = c.error("vm.query", json!([])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["message"], "Method call error");
    assert_eq!(err["data"]["error"], 16);
    assert_eq!(err["data"]["errname"], "EBUSY");
    assert_eq!(err["data"]["reason"], "[EBUSY] Rate Limit Exceeded");
    assert_eq!(c.call("vm.query", json!([[], {"count": true}])).await, 3);
}

#[tokio::test]
async fn more_than_twenty_calls_in_flight_are_refused() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    sim.faults().set_latency(Duration::from_millis(300));
    for id in 1..=25 {
        c.send(json!({"jsonrpc": "2.0", "id": id, "method": "core.ping", "params": []})).await;
    }
    let mut refused = Vec::new();
    let mut answered = 0;
    for _ in 0..25 {
        let reply = c.recv().await;
        match reply.get("error") {
            Some(e) => {
                assert_eq!(e["code"], -32000);
                assert_eq!(e["message"], "Maximum number of concurrent calls (20) has exceeded");
                refused.push(reply["id"].as_u64().unwrap());
            }
            None => answered += 1,
        }
    }
    refused.sort_unstable();
    assert_eq!(refused, [21, 22, 23, 24, 25]);
    assert_eq!(answered, 20);
    // Once they are done, calls go through again.
    sim.faults().set_latency(Duration::ZERO);
    assert_eq!(c.call("core.ping", json!([])).await, "pong");
}

#[tokio::test]
async fn latency_delays_replies() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    sim.faults().set_latency(Duration::from_millis(150));
    let started = std::time::Instant::now();
    c.call("core.ping", json!([])).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn binary_frames_close_the_socket() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    c.ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    match c.frame().await {
        Some(Err(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Unsupported),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn large_messages_before_login_close_the_socket() {
    let sim = sim().await;
    let mut c = Client::connect(&sim).await;
    let big = "x".repeat(9000);
    c.send(json!({"jsonrpc": "2.0", "id": 1, "method": "core.ping", "params": [big]})).await;
    match c.frame().await {
        Some(Err(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Size),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn versioned_endpoints_speak_the_same_protocol() {
    let sim = sim().await;
    let mut c = Client::connect_path(&sim, "/api/v25.10.5").await;
    assert_eq!(c.call("core.ping", json!([])).await, "pong");
    let url = format!("ws://{}/api/v9.9.9", sim.local_addr());
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test]
async fn http_versions_calls_and_faults() {
    let sim = sim().await;
    let versions: Vec<String> =
        reqwest::get(format!("{}/api/versions", sim.url())).await.unwrap().json().await.unwrap();
    assert!(versions.contains(&"v25.10.0".to_string()));
    assert_eq!(versions.last().map(String::as_str), Some("v25.10.5"));

    let http = reqwest::Client::new();
    let status = http
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&json!({"fail_next": {"method": "core.ping", "errname": "EIO", "reason": "disk on fire"}}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    let bad = http.post(format!("{}/_sim/faults", sim.url())).json(&json!({"nope": 1})).send().await.unwrap();
    assert!(bad.status().is_client_error());

    let mut c = Client::connect(&sim).await;
    assert_eq!(c.error("core.ping", json!([])).await["data"]["reason"], "[EIO] disk on fire");
    let calls: Value = reqwest::get(format!("{}/_sim/calls", sim.url())).await.unwrap().json().await.unwrap();
    assert_eq!(calls, json!([{"connection": 1, "method": "core.ping", "params": []}]));
}

#[tokio::test]
async fn dropping_the_handle_closes_connections() {
    let sim = sim().await;
    let addr = sim.local_addr();
    let mut c = Client::connect(&sim).await;
    drop(sim);
    assert!(matches!(c.frame().await, None | Some(Err(Message::Close(_)))), "the socket closes with the server");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio_tungstenite::connect_async(format!("ws://{addr}/api/current")).await.is_err());
}

#[tokio::test]
async fn shutdown_waits_for_the_listener() {
    let sim = sim().await;
    let addr = sim.local_addr();
    sim.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_26_0_nas_presents_its_release() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = crate::SimConfig { release: truenas_api::schema::Release::V26_0, ..Default::default() };
    let sim = crate::start(listener, config).await.unwrap();
    let versions: Vec<String> =
        reqwest::get(format!("{}/api/versions", sim.url())).await.unwrap().json().await.unwrap();
    assert_eq!(versions.last().map(String::as_str), Some("v26.0.0"));
    let mut c = Client::connect_path(&sim, "/api/v26.0.0").await;
    assert_eq!(c.call("auth.login_with_api_key", json!([DEMO_API_KEY])).await, true);
    assert_eq!(c.call("system.version", json!([])).await, "TrueNAS-26.0.0");
    assert_eq!(c.call("vm.query", json!([[], {"count": true}])).await, 3);
}
