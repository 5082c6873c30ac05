//! The raw escape hatch `truenas_api_call`: kept for compatibility, but it resolves to a
//! middleware method and is checked by the policy on that method and by the rules of every
//! action calling it, so it cannot launder anything.

use serde_json::{Value, json};

use crate::util::*;

async fn session_with(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, policy: Value) -> Session {
    let path = policy_file(dir, "p.json", &policy);
    connect_stdio(nas, &["--policy", path.to_str().unwrap()]).await.0
}

async fn raw(session: &Session, method: &str, path: &str, body: Option<&str>) -> rmcp::model::CallToolResult {
    let mut params = json!({"method": method, "path": path});
    if let Some(body) = body {
        params["body"] = json!(body);
    }
    truenas(session, "api", "truenas_api_call", params).await
}

#[tokio::test]
async fn the_default_policy_denies_the_raw_api() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    let r = raw(&session, "GET", "/vm", None).await;
    assert!(is_error(&r) && text(&r).starts_with("[POLICY DENIED]"), "{}", text(&r));
    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).is_empty());
}

#[tokio::test]
async fn an_allowed_raw_call_still_needs_the_rules_of_the_action_it_stands_for() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("raw");
    // The raw API is allowed, vm_list is not (default deny): GET /vm would launder vm_list.
    let session =
        session_with(&nas, &dir, json!({"version": "1", "default": "deny", "tools": {"truenas_api_call": {}}})).await;
    let r = raw(&session, "GET", "/vm", None).await;
    assert!(text(&r).starts_with("[POLICY DENIED]") && text(&r).ends_with("(rule: (default deny))"), "{}", text(&r));
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "vm.query").is_empty());

    let session = session_with(
        &nas,
        &dir,
        json!({"version": "1", "default": "deny", "tools": {"truenas_api_call": {}, "vm_list": {}}}),
    )
    .await;
    let listed = json_of(&raw(&session, "GET", "/vm?limit=2", None).await);
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(nas_calls_of(&nas, "vm.query"), [json!([[], {"limit": 2}])]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_hidden_method_and_a_spent_limit_hold_for_the_raw_api_too() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("raw2");
    let session = session_with(
        &nas,
        &dir,
        json!({"version": "1", "default": "allow", "hide": ["vm.delete"],
               "tools": {"vm_start": {"limits": [{"counter": "starts", "window": "day", "max": 1, "scope": "grant"}]}}}),
    )
    .await;
    // A hidden method answers exactly as a path no method answers: byte for byte.
    let deleted = raw(&session, "DELETE", "/vm/id/2", None).await;
    let absent = raw(&session, "DELETE", "/vmx/id/2", None).await;
    assert!(is_error(&deleted) && is_error(&absent));
    assert_eq!(text(&deleted), text(&absent).replace("/vmx/", "/vm/"));
    assert_eq!(text(&deleted), "Error: no TrueNAS method answers `DELETE /vm/id/2`");

    let first = truenas(&session, "vm", "vm_start", json!({"id": 2, "overcommit": true})).await;
    assert!(!text(&first).contains("POLICY DENIED"), "{}", text(&first));
    let second = raw(&session, "POST", "/vm/id/2/start", Some(r#"{"overcommit": true}"#)).await;
    assert!(text(&second).ends_with("(rule: /tools/vm_start/limits/starts)"), "{}", text(&second));
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 1);
}

#[tokio::test]
async fn raw_paths_cannot_traverse_and_bad_bodies_are_errors() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("raw3");
    let session = session_with(&nas, &dir, json!({"version": "1", "default": "allow"})).await;
    for path in ["/vm/id/1/../../pool/dataset", "/vm/..%2Fpool", "/vm/id/1/start/../delete"] {
        let r = raw(&session, "POST", path, None).await;
        assert!(is_error(&r) && text(&r).contains("not allowed"), "{path}: {}", text(&r));
    }
    let bad_body = raw(&session, "POST", "/vm/id/1/start", Some("{not json")).await;
    assert!(is_error(&bad_body) && text(&bad_body).contains("Failed to parse body as JSON"), "{}", text(&bad_body));
    let patch = raw(&session, "PATCH", "/vm", None).await;
    assert!(is_error(&patch), "{}", text(&patch));
    let started = raw(&session, "POST", "/vm/id/2/start", Some(r#"{"overcommit": true}"#)).await;
    assert!(!is_error(&started), "{}", text(&started));
    session.cancel().await.unwrap();
    assert_eq!(nas_methods(&nas), ["vm.start"]);
    assert_eq!(nas_calls_of(&nas, "vm.start"), [json!([2, {"overcommit": true}])]);
}

#[tokio::test]
async fn a_method_of_a_hidden_action_is_absent_for_the_raw_api_whatever_the_shape() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("raw-hidden");
    let session = session_with(&nas, &dir, json!({"version": "1", "default": "allow", "hide": ["vm_delete"]})).await;
    // Each shape of a call to `vm.delete` (a hidden action's method), even a malformed one that
    // the twin's argument check or the body reader would refuse, reads like an unknown path.
    for (verb, path, body) in [
        ("DELETE", "/vm/id/2", None),
        ("DELETE", "/api/v2.0/vm/id/2/", Some(r#"{"zvols": true}"#)),
        ("POST", "/vm/id/2/delete", None),
        ("POST", "/vm/delete", None),
        ("POST", "/vm/delete", Some(r#"{"nosuch": 1}"#)),
        ("POST", "/vm/delete", Some(r#""text""#)),
    ] {
        let r = raw(&session, verb, path, body).await;
        let expected = format!("Error: no TrueNAS method answers `{} {path}`", verb.to_ascii_uppercase());
        assert!(is_error(&r), "{verb} {path}: {}", text(&r));
        assert_eq!(text(&r), expected, "{verb} {path}");
        assert!(!text(&r).contains("vm_delete") && !text(&r).contains("vm.delete"));
    }
    session.cancel().await.unwrap();
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
}

#[tokio::test]
async fn a_raw_job_read_needs_x_any_job_like_a_read_of_another_grants_job() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("raw-jobs");
    // Allowing everything does not open jobs this grant did not start: `core.get_jobs` (and
    // the other job methods) read or touch every job on the NAS, its arguments included.
    let session = session_with(&nas, &dir, json!({"version": "1", "default": "allow"})).await;
    for (verb, path) in
        [("GET", "/core/get_jobs"), ("POST", "/core/get_jobs"), ("POST", "/core/job_abort"), ("POST", "/core/job_wait")]
    {
        let mut params = json!({"method": verb, "path": path, "confirm": true});
        if verb == "POST" && path != "/core/get_jobs" {
            params["body"] = json!("[1]");
        }
        let r = truenas(&session, "api", "truenas_api_call", params).await;
        assert!(is_error(&r) && text(&r).starts_with("[POLICY DENIED]"), "{path}: {}", text(&r));
        assert!(text(&r).contains("x-any-job"), "{path}: {}", text(&r));
    }
    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).iter().all(|m| !m.starts_with("core.get_jobs") && !m.starts_with("core.job")));

    // Hidden `job_status`: the raw read is absent too.
    let session = session_with(&nas, &dir, json!({"version": "1", "default": "allow", "hide": ["job_status"]})).await;
    let r = raw(&session, "GET", "/core/get_jobs", None).await;
    assert_eq!(text(&r), "Error: no TrueNAS method answers `GET /core/get_jobs`");
    session.cancel().await.unwrap();

    // With `x-any-job`, the operator opened every job: the raw read goes through.
    let session = session_with(
        &nas,
        &dir,
        json!({"version": "1", "default": "allow", "tools": {"job_status": {"x-any-job": true}}}),
    )
    .await;
    let params = json!({"method": "GET", "path": "/core/get_jobs", "confirm": true});
    let r = truenas(&session, "api", "truenas_api_call", params).await;
    assert!(!is_error(&r), "{}", text(&r));
    session.cancel().await.unwrap();
    assert_eq!(nas_calls_of(&nas, "core.get_jobs").len(), 1);

    // The raw read is a read of `job_status`: its rules hold (the job id it reads is unknown,
    // so a rule on it denies).
    let session = session_with(
        &nas,
        &dir,
        json!({"version": "1", "default": "allow", "tools": {"job_status": {"x-any-job": true,
            "deny_if": [{"path": "args.id", "op": "eq", "value": 7}]}}}),
    )
    .await;
    let params = json!({"method": "GET", "path": "/core/get_jobs", "confirm": true});
    let r = truenas(&session, "api", "truenas_api_call", params).await;
    assert!(text(&r).starts_with("[POLICY DENIED]") && text(&r).contains("/tools/job_status/deny_if"), "{}", text(&r));
    session.cancel().await.unwrap();
    assert_eq!(nas_calls_of(&nas, "core.get_jobs").len(), 1);
}

#[tokio::test]
async fn methods_that_run_other_methods_or_touch_the_shared_session_are_never_raw() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("raw-meta");
    // A careless policy: everything allowed but a hidden delete and a denied forced stop.
    let policy = json!({"version": "1", "default": "allow", "hide": ["vm_delete"],
        "tools": {"vm_stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]}}});
    let session = session_with(&nas, &dir, policy).await;
    for (path, body) in [
        ("/core/bulk", r#"["vm.delete", [[2]]]"#),
        ("/core/bulk", r#"["vm.stop", [[1, {"force": true}]]]"#),
        ("/core/download", r#"["vm.stop", [1, {"force": true}], "x"]"#),
        ("/core/unsubscribe", r#"["core.get_jobs"]"#),
        ("/core/debug", r#"[{}]"#),
        ("/auth/logout", "[]"),
        ("/auth/login", r#"["root", "pw"]"#),
    ] {
        let params = json!({"method": "POST", "path": path, "body": body, "confirm": true});
        let r = truenas(&session, "api", "truenas_api_call", params).await;
        assert!(is_error(&r) && text(&r).starts_with("[POLICY DENIED]"), "{path}: {}", text(&r));
        assert!(text(&r).ends_with("(rule: (raw api))"), "{path}: {}", text(&r));
    }
    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).is_empty(), "{:?}", nas_methods(&nas));
}
