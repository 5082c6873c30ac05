//! The holes of issue 7 section 1 that the raw escape hatch and careless arguments opened: a
//! raw call is judged by the arguments it stands for and gated like its twin action, the policy
//! sees declared defaults, and paths are canonical before any rule reads them. Every test runs
//! the real binary against the simulated NAS and proves with its call recorder that a refused
//! call sent nothing.

use serde_json::{Value, json};

use crate::util::*;

async fn session_with(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, policy: Value) -> Session {
    let path = policy_file(dir, "p.json", &policy);
    connect_stdio(nas, &["--policy", path.to_str().unwrap()]).await.0
}

async fn raw(session: &Session, params: Value) -> rmcp::model::CallToolResult {
    truenas(session, "api", "truenas_api_call", params).await
}

#[tokio::test]
async fn a_raw_call_is_judged_by_the_arguments_it_stands_for() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawargs");
    let policy = json!({"version": "1", "default": "deny", "tools": {
        "truenas_api_call": {},
        "vm_stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]},
    }});
    let session = session_with(&nas, &dir, policy).await;

    let forced = raw(&session, json!({"method": "POST", "path": "/vm/id/1/stop", "body": r#"{"force": true}"#})).await;
    assert!(text(&forced).starts_with("[POLICY DENIED]"), "{}", text(&forced));
    assert!(text(&forced).contains("/tools/vm_stop/deny_if"), "{}", text(&forced));
    // An options object the action cannot express hides nothing: the twin's rules still read it.
    let odd = raw(
        &session,
        json!({"method": "POST", "path": "/vm/id/1/stop", "body": r#"{"force": true, "force_after_timeout": true}"#}),
    )
    .await;
    assert!(text(&odd).starts_with("[POLICY DENIED]"), "{}", text(&odd));
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());

    let clean = raw(&session, json!({"method": "POST", "path": "/vm/id/1/stop", "body": r#"{"force": false}"#})).await;
    assert!(!is_error(&clean), "{}", text(&clean));
    assert_eq!(nas_calls_of(&nas, "vm.stop"), [json!([1, {"force": false}])]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_raw_call_needs_the_confirm_gate_of_its_twin() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawgate");
    let session = session_with(&nas, &dir, json!({"version": "1", "default": "allow"})).await;

    let deleted = raw(&session, json!({"method": "DELETE", "path": "/vm/id/1"})).await;
    assert!(is_error(&deleted), "{}", text(&deleted));
    assert!(text(&deleted).contains("'confirm' must be set to true"), "{}", text(&deleted));
    // A method no action calls, whose roles are not all read roles, is destructive: gated too.
    let unclassed = raw(&session, json!({"method": "POST", "path": "/pool/ddt_prune", "body": "[]"})).await;
    assert!(is_error(&unclassed) && text(&unclassed).contains("confirm"), "{}", text(&unclassed));
    assert!(nas_calls_of(&nas, "vm.delete").is_empty() && nas_calls_of(&nas, "pool.ddt_prune").is_empty());

    let confirmed = raw(&session, json!({"method": "DELETE", "path": "/vm/id/1", "confirm": true})).await;
    assert!(!is_error(&confirmed), "{}", text(&confirmed));
    assert_eq!(nas_calls_of(&nas, "vm.delete").len(), 1);
    // A read needs no gate.
    let listed = raw(&session, json!({"method": "GET", "path": "/vm"})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_raw_call_takes_the_risk_of_its_twin_for_risk_defaults() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawrisk");
    // Reads allowed by risk, destructive calls denied by risk; the raw API itself is not listed.
    let policy = json!({"version": "1", "default": "deny",
        "x-risk-defaults": {"read": "allow", "write": "deny", "destructive": "deny"}});
    let session = session_with(&nas, &dir, policy).await;
    let deleted = raw(&session, json!({"method": "DELETE", "path": "/vm/id/1", "confirm": true})).await;
    assert!(text(&deleted).contains("destructive"), "{}", text(&deleted));
    let listed = raw(&session, json!({"method": "GET", "path": "/vm"})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    session.cancel().await.unwrap();
    assert_eq!(nas_methods(&nas), ["vm.query"]);
}

#[tokio::test]
async fn the_policy_sees_declared_defaults() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("defaults");
    let policy = json!({"version": "1", "default": "allow", "tools": {
        "reporting_get_data": {"deny_if": [{"path": "args.aggregate", "op": "eq", "value": true}]},
    }});
    let session = session_with(&nas, &dir, policy).await;
    let r = truenas(&session, "reporting", "reporting_get_data", json!({"graphs": [{"name": "cpu"}]})).await;
    assert!(text(&r).starts_with("[POLICY DENIED]"), "{}", text(&r));
    let plain =
        truenas(&session, "reporting", "reporting_get_data", json!({"graphs": [{"name": "cpu"}], "aggregate": false}))
            .await;
    assert!(!is_error(&plain), "{}", text(&plain));
    session.cancel().await.unwrap();
    assert_eq!(nas_calls_of(&nas, "reporting.get_data").len(), 1);
}

#[tokio::test]
async fn paths_are_canonical_before_a_rule_reads_them() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("canon");
    let policy = json!({"version": "1", "default": "allow", "tools": {
        "filesystem_chown": {"require": [{"path": "args.path", "op": "regex", "value": "^/mnt/tank/scratch(/|$)"}]},
    }});
    let session = session_with(&nas, &dir, policy).await;
    for path in
        ["/mnt/tank/scratch/../documents", "/mnt/tank/scratch/./x", "/mnt/tank/scratch//x", "/mnt/tank/scratch/"]
    {
        let r = truenas(&session, "filesystem", "filesystem_chown", json!({"path": path, "uid": 0})).await;
        assert!(is_error(&r) && text(&r).contains("`path`"), "{path}: {}", text(&r));
        assert!(!text(&r).contains("POLICY DENIED"), "refused before policy: {}", text(&r));
    }
    let nul =
        truenas(&session, "filesystem", "filesystem_chown", json!({"path": "/mnt/tank/scratch/a\u{0}b", "uid": 0}))
            .await;
    assert!(is_error(&nul) && text(&nul).contains("control"), "{}", text(&nul));
    let cdrom = json!({"vm": 1, "dtype": "CDROM", "attributes": {"path": "/mnt/tank/isos/../../etc/shadow"}});
    let r = truenas(&session, "vm", "vm_device_create", cdrom).await;
    assert!(is_error(&r) && text(&r).contains("`attributes` holds a path that is not canonical"), "{}", text(&r));
    for id in ["tank/../etc", "/tank/media", "tank//media", "tank/media@snap", "tank/media/"] {
        let r = truenas(&session, "storage", "dataset_get", json!({"id": id})).await;
        assert!(is_error(&r) && text(&r).contains("`id`"), "{id}: {}", text(&r));
    }
    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).is_empty(), "{:?}", nas_methods(&nas));
}

#[tokio::test]
async fn method_entries_read_the_recovered_arguments() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawmethod");
    let policy = json!({"version": "1", "default": "allow", "tools": {
        "truenas_api_call": {},
        "vm.stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]},
    }});
    let session = session_with(&nas, &dir, policy).await;
    let forced = raw(&session, json!({"method": "POST", "path": "/vm/id/1/stop", "body": r#"{"force": true}"#})).await;
    assert!(text(&forced).ends_with("(rule: /tools/vm.stop/deny_if/args.force-eq)"), "{}", text(&forced));
    // No action calls core.bulk, so a rule on its arguments cannot even load (tests/policy_load.rs);
    // the engine still denies blind if one ever reaches it (policy::scope_tests).
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "vm.stop").is_empty());
}

#[tokio::test]
async fn a_raw_call_is_validated_as_its_twin_and_paths_stay_canonical() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawvalid");
    let policy = json!({"version": "1", "default": "allow", "tools": {
        "truenas_api_call": {},
        "filesystem_chown": {"require": [{"path": "args.path", "op": "regex", "value": "^/mnt/tank/scratch(/|$)"}]},
    }});
    let session = session_with(&nas, &dir, policy).await;
    let body = r#"{"path": "/mnt/tank/scratch/../documents", "uid": 0}"#;
    let up = raw(&session, json!({"method": "POST", "path": "/filesystem/chown", "body": body, "confirm": true})).await;
    assert!(is_error(&up) && text(&up).contains("invalid arguments for `filesystem_chown`"), "{}", text(&up));
    assert!(text(&up).contains("`..`"), "{}", text(&up));
    let typed = raw(&session, json!({"method": "POST", "path": "/vm/id/1/stop", "body": r#"{"force": "yes"}"#})).await;
    assert!(text(&typed).contains("`force` must be a boolean"), "{}", text(&typed));
    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).is_empty(), "{:?}", nas_methods(&nas));
}

#[tokio::test]
async fn a_raw_call_counts_once_against_method_and_all_tools_limits() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("rawonce");
    let policy = json!({"version": "1", "default": "allow",
    "all_tools": {"limits": [{"counter": "all", "window": "day", "max": 2, "scope": "grant"}]},
    "tools": {
        "truenas_api_call": {},
        "vm.start": {"limits": [{"counter": "starts", "window": "day", "max": 1, "scope": "grant"}]},
    }});
    let session = session_with(&nas, &dir, policy).await;
    let body = r#"{"overcommit": true}"#;
    let first = raw(&session, json!({"method": "POST", "path": "/vm/id/2/start", "body": body})).await;
    assert!(!is_error(&first), "{}", text(&first));
    let second = raw(&session, json!({"method": "POST", "path": "/vm/id/2/start", "body": body})).await;
    assert!(text(&second).ends_with("(rule: /tools/vm.start/limits/starts)"), "{}", text(&second));
    let listed = raw(&session, json!({"method": "GET", "path": "/vm"})).await;
    assert!(!is_error(&listed), "the first raw call spent one of two calls, not two: {}", text(&listed));
    session.cancel().await.unwrap();
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 1);
}
