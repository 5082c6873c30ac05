//! The raw escape hatch `truenas_api_call`: kept for compatibility, but it resolves to a
//! middleware method and is checked by the policy on that method and by the rules of every
//! action calling it, so it cannot launder anything.

use serde_json::{Value, json};

use crate::util::*;

async fn session_with(nas: &truenas_mcp::sim::SimHandle, dir: &tempdir::Dir, policy: Value) -> Session {
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
    let deleted = raw(&session, "DELETE", "/vm/id/2", None).await;
    assert!(text(&deleted).ends_with("(rule: (hidden))"), "{}", text(&deleted));

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
