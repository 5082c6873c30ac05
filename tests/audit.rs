//! The audit trail end to end: every request leaves a record (lookups and unknown names too), an
//! allowed call leaves `decided` then `done` under one request id, a call whose record cannot be
//! written is refused with nothing sent, and no record carries an argument value or the API key.

use std::path::Path;
use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use truenas_sim::{self as sim, SimHandle};

use crate::util::*;

/// Spawns the binary over stdio with its stderr going to `log`.
async fn connect_logging(nas: &SimHandle, args: &[&str], log: &Path, rust_log: &str) -> Session {
    let mut cmd = command(nas);
    cmd.args(args).env("RUST_LOG", rust_log);
    let stderr = std::fs::File::create(log).unwrap();
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::from(stderr)).spawn().unwrap();
    Client::default().serve(transport).await.unwrap()
}

#[tokio::test]
async fn listings_unknown_names_and_wrong_shapes_each_leave_a_record() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-lookups");
    let audit = dir.path().join("audit.jsonl");
    let (session, _) = connect_stdio(&nas, &["--audit", audit.to_str().unwrap()]).await;
    truenas(&session, "", "", Value::Null).await;
    truenas(&session, "vm", "", Value::Null).await;
    truenas(&session, "nosuch", "", Value::Null).await;
    truenas(&session, "vm", "vm_nosuch", json!({})).await;
    truenas(&session, "storage", "vm_list", json!({})).await;
    truenas(&session, "vm", "vm_list", json!("not an object")).await;
    session.cancel().await.unwrap();

    let lines = audit_records(&audit);
    let seen: Vec<(String, String, String, String)> = lines
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or_default().to_string();
            (s("action_type"), s("phase"), s("action"), l["error"]["kind"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let expect = |kind: &str, phase: &str, action: &str, error: &str| {
        (kind.to_string(), phase.to_string(), action.to_string(), error.to_string())
    };
    assert_eq!(
        seen,
        [
            expect("lookup", "done", "list_categories", ""),
            expect("lookup", "done", "list_actions", ""),
            expect("lookup", "refused", "list_actions", "unknown_category"),
            expect("lookup", "refused", "vm_nosuch", "unknown_action"),
            expect("lookup", "refused", "vm_list", "wrong_category"),
            expect("refusal", "refused", "truenas", "bad_shape"),
        ],
        "{lines:#?}"
    );
    assert_eq!(lines[5]["error"]["args"], json!(["params"]));
    for line in &lines {
        assert_eq!(line["transport"], "stdio", "{line}");
        assert_eq!(line["request_id"].as_str().map(str::len), Some(36), "{line}");
        assert!(line["method"].is_null(), "no method was resolved: {line}");
    }
    assert!(nas_methods(&nas).is_empty(), "lookups never reach the NAS");
}

#[tokio::test]
async fn an_unknown_flat_tool_and_an_unknown_resource_leave_a_record() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-flat");
    let audit = dir.path().join("audit.jsonl");
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--audit", audit.to_str().unwrap()]).await;
    let missing = session
        .call_tool(rmcp::model::CallToolRequestParams::new("vm_nosuch").with_arguments(serde_json::Map::new()))
        .await;
    assert!(missing.is_err());
    let read = session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://nosuch")).await;
    assert!(read.is_err());
    session.cancel().await.unwrap();

    let lines = audit_records(&audit);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!((&lines[0]["action_type"], &lines[0]["action"]), (&json!("refusal"), &json!("vm_nosuch")));
    assert_eq!(lines[0]["error"]["kind"], "unknown_tool");
    assert_eq!(
        (&lines[1]["action_type"], &lines[1]["error"]["kind"]),
        (&json!("resource"), &json!("unknown_resource"))
    );
}

#[tokio::test]
async fn an_allowed_call_writes_decided_then_done_under_one_request_id() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-two");
    let audit = dir.path().join("audit.jsonl");
    let policy = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let policy_sha = format!("{:x}", Sha256::digest(std::fs::read(&policy).unwrap()));
    let (session, _) =
        connect_stdio(&nas, &["--audit", audit.to_str().unwrap(), "--policy", policy.to_str().unwrap()]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    session.cancel().await.unwrap();

    let lines = audit_records(&audit);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let phases: Vec<&str> = lines.iter().map(|l| l["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["decided", "done", "decided", "done"]);
    assert_eq!(lines[0]["request_id"], lines[1]["request_id"]);
    assert_eq!(lines[2]["request_id"], lines[3]["request_id"]);
    assert_ne!(lines[0]["request_id"], lines[2]["request_id"], "each request has its own id");
    // The `done` record names its `decided` record; every record has its own id.
    assert_eq!(lines[1]["parent_record_id"], lines[0]["record_id"]);
    assert_eq!(lines[3]["parent_record_id"], lines[2]["record_id"]);
    assert!(lines[0]["parent_record_id"].is_null() && lines[0]["record_id"] != lines[1]["record_id"]);
    assert_eq!((&lines[0]["outcome"], &lines[1]["outcome"]), (&json!("pending"), &json!("ok")));
    for line in &lines {
        assert_eq!(line["policy_sha256"], policy_sha.as_str(), "{line}");
        assert_eq!((&line["action_type"], &line["transport"]), (&json!("call"), &json!("stdio")));
        assert_eq!((&line["decision"], &line["method"]), (&json!("allow"), &json!("vm.query")));
    }
}

#[tokio::test]
async fn a_call_is_refused_with_nothing_sent_when_its_record_cannot_be_written() {
    if std::fs::OpenOptions::new().append(true).open("/dev/full").is_err() {
        return; // no /dev/full on this system: nothing to test with
    }
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &["--audit", "/dev/full"]).await;
    let result = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(is_error(&result), "{}", text(&result));
    assert!(text(&result).contains("audit log cannot be written"), "{}", text(&result));
    let listing = truenas(&session, "vm", "", Value::Null).await;
    assert!(is_error(&listing), "even a listing is refused: {}", text(&listing));
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "vm.query").is_empty(), "nothing reached the NAS: {:?}", nas_methods(&nas));
}

#[tokio::test]
async fn refused_calls_leave_argument_names_but_no_values_in_the_audit_log() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-values");
    let audit = dir.path().join("audit.jsonl");
    let policy = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) =
        connect_stdio(&nas, &["--audit", audit.to_str().unwrap(), "--policy", policy.to_str().unwrap()]).await;
    let marker = "SECRET-MARKER-4f1c";
    // Wrong type: the agent's message quotes the value, the audit must not.
    let wrong = truenas(&session, "vm", "vm_update", json!({"id": marker, "name": marker})).await;
    assert!(is_error(&wrong) && text(&wrong).contains(marker), "{}", text(&wrong));
    // Unknown argument carrying a secret value.
    truenas(&session, "vm", "vm_list", json!({"password": marker})).await;
    // A value the NAS echoes back in its error.
    nas.faults().fail_next("vm.update", "EINVAL", &format!("name {marker} is not valid"));
    truenas(&session, "vm", "vm_update", json!({"id": 1, "name": "ok_name"})).await;
    session.cancel().await.unwrap();

    let raw = std::fs::read_to_string(&audit).unwrap();
    assert!(!raw.contains(marker), "an argument value reached the audit log:\n{raw}");
    let lines = audit_records(&audit);
    assert_eq!(lines[0]["error"], json!({"kind": "invalid_args", "args": ["id"]}), "{lines:#?}");
    assert_eq!(lines[0]["arg_keys"], json!(["id", "name"]));
    assert_eq!(lines[1]["error"]["kind"], "invalid_args");
    let nas_error = lines.last().unwrap();
    assert_eq!(nas_error["phase"], "done");
    assert_eq!(nas_error["error"]["errname"], "EINVAL", "{nas_error}");
}

#[tokio::test]
async fn the_api_key_echoed_by_a_nas_error_is_scrubbed_from_reply_audit_and_log() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-key");
    let audit = dir.path().join("audit.jsonl");
    let log = dir.path().join("stderr.log");
    let session = connect_logging(&nas, &["--audit", audit.to_str().unwrap()], &log, "debug").await;
    let reason = format!("key {} refused by https://admin:hunter2pass@backup.example", sim::DEMO_API_KEY);
    nas.faults().fail_next("vm.query", "EACCES", &reason);
    let result = truenas(&session, "vm", "vm_list", json!({})).await;
    session.cancel().await.unwrap();

    let reply = text(&result);
    assert!(is_error(&result), "{reply}");
    assert!(reply.contains("<redacted>"), "the error is still shown, scrubbed: {reply}");
    let secret = sim::DEMO_API_KEY.split_once('-').unwrap().1;
    for (what, content) in [
        ("reply", reply),
        ("audit", std::fs::read_to_string(&audit).unwrap()),
        ("log", std::fs::read_to_string(&log).unwrap()),
    ] {
        assert!(!content.contains(secret), "the API key is in the {what}:\n{content}");
        assert!(!content.contains("hunter2pass"), "a URL password is in the {what}:\n{content}");
    }
}

#[tokio::test]
async fn http_requests_are_recorded_with_their_transport_and_grant_never_the_token() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-http");
    let audit = dir.path().join("audit.jsonl");
    let token = "alpha-token-0123456789";
    let (_child, url) =
        crate::http::serve_http(&nas, &["--audit", audit.to_str().unwrap(), "--http-token", token]).await;
    let session = crate::http::connect(&url, token).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    let job = session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://jobs/424242")).await;
    assert!(job.is_err(), "no such job");
    session.cancel().await.unwrap();

    let raw = std::fs::read_to_string(&audit).unwrap();
    assert!(!raw.contains(token), "the bearer token is in the audit log");
    let lines = audit_records(&audit);
    let kinds: Vec<(&str, &str)> =
        lines.iter().map(|l| (l["action_type"].as_str().unwrap(), l["phase"].as_str().unwrap())).collect();
    // A job this token did not start is refused without asking the NAS.
    assert_eq!(kinds, [("call", "decided"), ("call", "done"), ("job", "refused")], "{raw}");
    assert_eq!((&lines[2]["action"], &lines[2]["error"]["kind"]), (&json!("job_status"), &json!("no_such_job")));
    for line in &lines {
        assert_eq!((&line["transport"], &line["agent_id"]), (&json!("http"), &json!("http-token-1")), "{line}");
    }
}

#[tokio::test]
async fn the_call_subcommand_is_recorded_as_cli() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-cli");
    let audit = dir.path().join("audit.jsonl");
    let output =
        command(&nas).args(["--audit", audit.to_str().unwrap(), "call", "vm_list", "{}"]).output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = audit_records(&audit);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for line in &lines {
        assert_eq!((&line["transport"], &line["agent_id"]), (&json!("cli"), &json!("cli")), "{line}");
    }
}

#[tokio::test]
async fn resource_reads_and_out_of_scope_calls_leave_a_record() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-scope");
    let audit = dir.path().join("audit.jsonl");
    let (session, _) = connect_stdio(&nas, &["--categories", "storage", "--audit", audit.to_str().unwrap()]).await;
    let pools = session.read_resource(rmcp::model::ReadResourceRequestParams::new("truenas://storage/pools")).await;
    assert!(pools.is_ok(), "{pools:?}");
    let vm = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(is_error(&vm), "{}", text(&vm));
    session.cancel().await.unwrap();

    let lines = audit_records(&audit);
    let seen: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l["action_type"].as_str().unwrap(), l["phase"].as_str().unwrap(), l["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [("resource", "decided", "pool_list"), ("resource", "done", "pool_list"), ("refusal", "refused", "vm_list")],
        "{lines:#?}"
    );
    assert_eq!(lines[2]["error"]["kind"], "out_of_scope");
    assert!(nas_calls_of(&nas, "vm.query").is_empty());
}

#[tokio::test]
async fn every_mcp_request_leaves_a_record_and_an_unknown_method_name_is_not_recorded() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-protocol");
    let audit = dir.path().join("audit.jsonl");
    let mut child = command(&nas)
        .args(["--audit", audit.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let requests = [
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "resources/list"}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "resources/templates/list"}),
        json!({"jsonrpc": "2.0", "id": 5, "method": "prompts/list"}),
        json!({"jsonrpc": "2.0", "id": 6, "method": "completion/complete", "params": {"ref": {"type": "ref/resource",
            "uri": "truenas://jobs/{id}"}, "argument": {"name": "id", "value": "1"}}}),
        json!({"jsonrpc": "2.0", "id": 7, "method": "logging/setLevel", "params": {"level": "debug"}}),
        json!({"jsonrpc": "2.0", "id": 8, "method": "x/hunter2_secret", "params": {}}),
    ];
    for request in &requests {
        stdin.write_all(format!("{request}\n").as_bytes()).await.unwrap();
    }
    stdin.flush().await.unwrap();
    let mut answered = Vec::new();
    while answered.len() < 9 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(60), stdout.next_line()).await;
        let reply: Value = serde_json::from_str(&next.unwrap().unwrap().unwrap()).unwrap();
        answered.push(reply["id"].clone());
    }
    drop(stdin);
    let _ = child.wait().await;

    let lines = audit_records(&audit);
    let seen: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (s(&l["action"]), s(&l["error"]["kind"]))
        })
        .collect();
    for expected in [
        ("ping", ""),
        ("list_tools", ""),
        ("list_resources", ""),
        ("list_resource_templates", ""),
        ("list_prompts", "unknown_method"),
        ("complete", "unknown_method"),
        ("set_level", ""),
        ("unknown_method", "unknown_method"),
    ] {
        let expected = (expected.0.to_string(), expected.1.to_string());
        assert!(seen.contains(&expected), "{expected:?} not in {seen:?}");
    }
    let raw = std::fs::read_to_string(&audit).unwrap();
    assert!(!raw.contains("hunter2"), "{raw}");
}

#[tokio::test]
async fn a_deleted_audit_file_refuses_calls_and_a_rotated_one_is_followed() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit-gone");
    let audit = dir.path().join("audit.jsonl");
    let (session, _) = connect_stdio(&nas, &["--audit", audit.to_str().unwrap()]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    assert_eq!(audit_records(&audit).len(), 2);

    // Deleted under the server: writing on would record into a file nobody can read.
    std::fs::remove_file(&audit).unwrap();
    let refused = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(is_error(&refused) && text(&refused).contains("audit log cannot be written"), "{}", text(&refused));
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), 1, "nothing more reached the NAS");
    assert!(!audit.exists(), "the server does not quietly start a new log");

    // Rotated (moved away, a new empty file put in its place): the new file gets the records.
    std::fs::write(&audit, "").unwrap();
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    let moved = dir.path().join("audit.jsonl.1");
    std::fs::rename(&audit, &moved).unwrap();
    std::fs::write(&audit, "").unwrap();
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    session.cancel().await.unwrap();
    assert_eq!(audit_records(&moved).len(), 2);
    assert_eq!(audit_records(&audit).len(), 2);
    assert_eq!(nas_calls_of(&nas, "vm.query").len(), 3);
}
