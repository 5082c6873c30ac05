//! The policy layer as an agent meets it: the seed PolicyLayer document, default deny, hide,
//! require/deny_if, the default policy, and the audit trail.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::util::*;

/// Waits out the last seconds of a UTC minute so a per-minute window cannot roll over mid-test.
async fn start_of_a_fresh_minute_window() {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() % 60.0;
    if secs > 50.0 {
        tokio::time::sleep(Duration::from_secs_f64(60.0 - secs + 0.2)).await;
    }
}

#[tokio::test]
async fn seed_policy_allows_ten_vm_starts_a_minute_and_denies_the_eleventh_without_sending_it() {
    let nas = start_sim().await;
    let seed = repo("policy/seed-vm-start.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&seed).unwrap()).unwrap();
    assert_eq!(
        doc,
        json!({"version":"1","default":"deny","tools":{"vm_start":{"limits":[{"counter":"vm_start_rate","window":"minute","max":10,"scope":"grant"}]}}}),
        "the shipped seed document is the PolicyLayer one, unchanged"
    );
    start_of_a_fresh_minute_window().await;
    let (session, _) = connect_stdio(&nas, &["--policy", seed.to_str().unwrap()]).await;

    for i in 0..10 {
        let r = truenas(&session, "vm", "vm_start", json!({"id": 1, "overcommit": true})).await;
        assert!(!text(&r).contains("[POLICY DENIED]"), "call {i} was denied: {}", text(&r));
    }
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 10);

    let eleventh = truenas(&session, "vm", "vm_start", json!({"id": 1})).await;
    assert!(is_error(&eleventh));
    let t = text(&eleventh);
    assert!(t.starts_with("[POLICY DENIED] "), "{t}");
    assert!(t.ends_with("(rule: /tools/vm_start/limits/vm_start_rate)"), "{t}");
    assert!(t.contains("retry after"), "{t}");
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 10, "the denied call never reached the NAS");

    // Every other action is denied by default, and nothing is sent for it.
    let list = truenas(&session, "vm", "vm_list", json!({})).await;
    assert!(is_error(&list));
    assert!(
        text(&list).starts_with("[POLICY DENIED]") && text(&list).ends_with("(rule: (default deny))"),
        "{}",
        text(&list)
    );
    assert!(nas_calls_of(&nas, "vm.query").is_empty());
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn hidden_actions_are_not_listed_and_are_denied() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("hide");
    let policy = policy_file(&dir, "p.json", &json!({"version":"1","default":"allow","hide":["vm_delete","vm.clone"]}));
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--policy", policy.to_str().unwrap()]).await;

    let names: Vec<String> = session.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert!(!names.contains(&"vm_delete".to_string()), "{names:?}");
    assert!(!names.contains(&"vm_clone".to_string()), "hidden by its method: {names:?}");
    assert!(names.contains(&"vm_list".to_string()));
    session.cancel().await.unwrap();

    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;
    let listing = text(&truenas(&session, "vm", "", Value::Null).await);
    assert!(listing.contains("14 available actions") && !listing.contains("vm_delete"), "{listing}");
    // Hidden answers exactly as absent: same text (the name aside), same `isError`, whatever the
    // arguments, and under whatever category.
    for (category, params) in [("vm", json!({"id": 1, "confirm": true})), ("vm", json!({})), ("system", json!({}))] {
        let hidden = truenas(&session, category, "vm_delete", params.clone()).await;
        let absent = truenas(&session, category, "vm_vanish", params).await;
        let as_absent = serde_json::to_string(&hidden).unwrap().replace("vm_delete", "vm_vanish");
        assert_eq!(as_absent, serde_json::to_string(&absent).unwrap());
        assert!(is_error(&hidden));
    }
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn hidden_tools_resources_and_calls_answer_as_absent_ones() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("hide2");
    let policy = policy_file(&dir, "p.json", &json!({"version":"1","default":"allow","hide":["vm_delete","vm_list"]}));
    let policy = policy.to_str().unwrap();

    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--policy", policy]).await;
    let call = |name: &str| {
        let args = json!({"id": 1, "confirm": true}).as_object().cloned().unwrap();
        session.call_tool(rmcp::model::CallToolRequestParams::new(name.to_string()).with_arguments(args))
    };
    let hidden = call("vm_delete").await.unwrap_err().to_string();
    let absent = call("vm_vanish").await.unwrap_err().to_string();
    assert_eq!(hidden.replace("vm_delete", "vm_vanish"), absent);

    // `truenas://vms` reads through the hidden `vm_list`.
    let read = |uri: &str| session.read_resource(rmcp::model::ReadResourceRequestParams::new(uri));
    let hidden = read("truenas://vms").await.unwrap_err().to_string();
    let absent = read("truenas://vanished").await.unwrap_err().to_string();
    assert_eq!(hidden.replace("truenas://vms", "truenas://vanished"), absent);
    session.cancel().await.unwrap();

    let out = |action: &str| {
        let mut cmd = command(&nas);
        cmd.args(["--policy", policy, "call", action, r#"{"id": 1, "confirm": true}"#]);
        async move { cmd.output().await.unwrap() }
    };
    let (hidden, absent) = (out("vm_delete").await, out("vm_vanish").await);
    assert_eq!(hidden.status.code(), absent.status.code());
    let hidden_err = String::from_utf8_lossy(&hidden.stderr).replace("vm_delete", "vm_vanish");
    assert_eq!(hidden_err, String::from_utf8_lossy(&absent.stderr));
    assert!(nas_calls_of(&nas, "vm.delete").is_empty() && nas_calls_of(&nas, "vm.query").is_empty());
}

#[tokio::test]
async fn require_and_deny_if_decide_on_the_arguments() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rules");
    let policy = policy_file(
        &dir,
        "p.json",
        &json!({"version":"1","default":"deny","tools":{
            "vm_stop": {"require": [{"path": "args.id", "op": "in", "value": [1, 3]}],
                        "deny_if": [{"path": "args.force", "op": "eq", "value": true, "on_deny": "no forced stops"}]}
        }}),
    );
    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;

    let other_vm = truenas(&session, "vm", "vm_stop", json!({"id": 2})).await;
    assert!(text(&other_vm).ends_with("(rule: /tools/vm_stop/require/args.id-in)"), "{}", text(&other_vm));
    let forced = truenas(&session, "vm", "vm_stop", json!({"id": 1, "force": true})).await;
    assert_eq!(text(&forced), "[POLICY DENIED] no forced stops (rule: /tools/vm_stop/deny_if/args.force-eq)");
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());

    let allowed = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&allowed), "{}", text(&allowed));
    assert_eq!(nas_calls_of(&nas, "vm.stop"), [json!([1, {"force": false}])]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn default_policy_allows_reads_and_denies_destructive_actions() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    let delete = truenas(&session, "vm", "vm_delete", json!({"id": 2, "confirm": true})).await;
    assert!(is_error(&delete) && text(&delete).starts_with("[POLICY DENIED]"), "{}", text(&delete));
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn every_call_allowed_or_denied_leaves_one_final_audit_line_without_argument_values() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("audit");
    let audit = dir.path().join("audit.jsonl");
    let (session, _) = connect_stdio(&nas, &["--audit", audit.to_str().unwrap()]).await;
    let secret_name = "do-not-log-this-name";
    truenas(&session, "vm", "vm_list", json!({})).await;
    truenas(&session, "vm", "vm_delete", json!({"id": 2, "confirm": true})).await;
    truenas(&session, "vm", "vm_update", json!({"id": 2, "name": secret_name})).await;
    session.cancel().await.unwrap();

    let raw = std::fs::read_to_string(&audit).unwrap();
    assert!(!raw.contains(secret_name), "argument values never reach the audit log");
    // Allowed calls also write a `decided` line before the NAS is called (tests/audit.rs).
    let lines: Vec<Value> =
        raw.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|l| l["phase"] != "decided").collect();
    assert_eq!(lines.len(), 3, "{raw}");
    assert_eq!(lines[0]["action"], "vm_list");
    assert_eq!(lines[0]["method"], "vm.query");
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["agent_id"], "stdio");
    assert_eq!(lines[1]["decision"], "deny");
    assert!(lines[1]["rule"].is_string());
    assert_eq!(lines[2]["arg_keys"], json!(["id", "name"]));
    assert_eq!(lines[2]["args_sha256"].as_str().map(str::len), Some(64));
    for line in &lines {
        assert!(line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
        assert!(line["duration_ms"].is_u64(), "{line}");
    }
}
