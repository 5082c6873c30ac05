//! The agent knows where it stands: denials carry `truenas-mcp/denial` in `_meta` (both tool
//! modes, the raw API, approvals, resource reads), `policy_status` (flat tool, `policy`
//! category, `truenas://policy`), listings that mirror enforcement, and `/metrics`.

use rmcp::model::{CallToolResult, ReadResourceRequestParams};
use serde_json::{Value, json};

use crate::http::{connect, serve_http};
use crate::util::*;

const META: &str = "truenas-mcp/denial";

/// The `truenas-mcp/denial` object of a result's `_meta`.
fn denial(result: &CallToolResult) -> Value {
    assert!(is_error(result), "expected a refusal, got: {}", text(result));
    let meta = result.meta.as_ref().unwrap_or_else(|| panic!("no _meta on: {}", text(result)));
    meta.0.get(META).cloned().unwrap_or_else(|| panic!("no {META} in {:?}", meta.0))
}

async fn stdio_with(nas: &truenas_sim::SimHandle, dir: &tempdir::Dir, policy: Value, args: &[&str]) -> Session {
    let path = policy_file(dir, &format!("p{}.json", uuid_like()), &policy);
    let mut all = vec!["--policy", path.to_str().unwrap()];
    all.extend_from_slice(args);
    connect_stdio(nas, &all).await.0
}

/// A file name part unique within one test.
fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn denials_carry_rule_reason_and_retry_after_in_meta_in_both_modes_and_the_raw_api() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("meta");
    let policy = json!({
        "version": "1", "default": "deny",
        "tools": {
            "vm_list": {"limits": [{"counter": "lists", "window": "hour", "max": 1, "scope": "grant"}]},
            "vm_stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}], "on_deny": "no forced stops"},
            "truenas_api_call": {}
        }
    });
    for mode in ["hierarchical", "flat"] {
        let session = stdio_with(&nas, &dir, policy.clone(), &["--tool-mode", mode]).await;
        let call = |action: &'static str, params: Value| {
            let session = &session;
            async move {
                if mode == "flat" {
                    flat(session, action, params).await
                } else {
                    let category = if action == "truenas_api_call" { "api" } else { "vm" };
                    truenas(session, category, action, params).await
                }
            }
        };
        assert!(!is_error(&call("vm_list", json!({})).await));
        let limited = call("vm_list", json!({})).await;
        let meta = denial(&limited);
        assert_eq!(meta["rule"], "/tools/vm_list/limits/lists", "{mode}");
        let retry = meta["retry_after"].as_u64().unwrap_or_else(|| panic!("{meta}"));
        assert!((1..=3600).contains(&retry), "{meta}");
        assert!(text(&limited).contains(&format!("retry after {retry} s")), "{}: {meta}", text(&limited));
        assert_eq!(meta["approval_id"], Value::Null);

        let forced = call("vm_stop", json!({"id": 1, "force": true})).await;
        assert_eq!(
            denial(&forced),
            json!({"rule": "/tools/vm_stop/deny_if/args.force-eq", "reason": "no forced stops", "retry_after": null, "approval_id": null})
        );
        let unlisted = call("vm_start", json!({"id": 1})).await;
        assert_eq!(denial(&unlisted)["rule"], "(default deny)", "{mode}");
        // The raw API standing for vm_start (default deny) is denied with the same form.
        let raw = call("truenas_api_call", json!({"method": "POST", "path": "/vm/id/1/start"})).await;
        assert_eq!(denial(&raw)["rule"], "(default deny)", "{mode}: {}", text(&raw));
        // A refusal that is not the policy's carries no denial.
        let bad = call("vm_stop", json!({"id": "one"})).await;
        assert!(is_error(&bad) && bad.meta.as_ref().is_none_or(|m| !m.0.contains_key(META)), "{:?}", bad.meta);
        session.cancel().await.unwrap();
    }
    assert!(nas_calls_of(&nas, "vm.start").is_empty() && nas_calls_of(&nas, "vm.stop").is_empty());
}

#[tokio::test]
async fn an_approval_required_result_names_its_approval_in_both_meta_keys() {
    let nas = start_sim().await;
    let state = tempdir::Dir::new("meta-approval");
    let policy = repo("policy/approve-destructive.json");
    let (session, _) =
        connect_stdio(&nas, &["--policy", policy.to_str().unwrap(), "--state-dir", state.path().to_str().unwrap()])
            .await;
    let r = truenas(&session, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await;
    let meta = denial(&r);
    let id = meta["approval_id"].as_str().unwrap_or_else(|| panic!("{meta}")).to_string();
    assert!(text(&r).contains(&format!("needs approval {id} ")), "{}", text(&r));
    assert_eq!(meta["rule"], "/x-risk-defaults/destructive");
    assert_eq!(meta["retry_after"], Value::Null);
    let approval = &r.meta.as_ref().unwrap().0["io.truenas-mcp/approval"];
    assert_eq!(approval, &json!({"id": id, "status": "pending"}));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_denied_resource_read_carries_the_denial_in_the_error_data() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("meta-resource");
    let policy = json!({"version": "1", "default": "allow", "tools": {
        "vm_list": {"limits": [{"counter": "none", "window": "day", "max": 0, "scope": "grant", "on_deny": "not today"}]}}});
    let session = stdio_with(&nas, &dir, policy, &[]).await;
    let err = session.read_resource(ReadResourceRequestParams::new("truenas://vms")).await.unwrap_err();
    let rmcp::ServiceError::McpError(data) = err else { panic!("{err:?}") };
    assert_eq!(
        data.data.as_ref().map(|d| d[META].clone()),
        Some(
            json!({"rule": "/tools/vm_list/limits/none", "reason": "not today", "retry_after": null, "approval_id": null})
        )
    );
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_resource_read_the_policy_denies_answers_as_the_tool_call_does_not_as_an_internal_error() {
    use rmcp::model::ErrorCode;
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("resource-denied");
    // `vm_list` is denied (default deny), not hidden: `truenas://vms` is still listed and read.
    let policy = json!({"version": "1", "default": "deny", "tools": {"vm_stop": {}}});
    let session = stdio_with(&nas, &dir, policy, &[]).await;
    let tool = truenas(&session, "vm", "vm_list", json!({})).await;
    let err = session.read_resource(ReadResourceRequestParams::new("truenas://vms")).await.unwrap_err();
    let rmcp::ServiceError::McpError(error) = err else { panic!("{err:?}") };
    assert_ne!(error.code, ErrorCode::INTERNAL_ERROR, "a denial is not an internal error: {error:?}");
    assert_eq!(error.code, ErrorCode::INVALID_REQUEST, "{error:?}");
    assert_eq!(error.message, text(&tool));
    assert_eq!(error.data.as_ref().map(|d| d[META].clone()), Some(denial(&tool)));
    assert!(nas_calls_of(&nas, "vm.query").is_empty());
    session.cancel().await.unwrap();
}

/// The names of the flat tools listed.
async fn flat_names(session: &Session) -> Vec<String> {
    session.list_all_tools().await.unwrap().into_iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn flat_listings_leave_out_what_the_policy_denies_outright_unless_it_says_x_list_denied() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("listing");
    // Default deny with a few entries: only those (and policy_status, allowed by its entry) are listed.
    let narrow = json!({"version": "1", "default": "deny",
        "tools": {"vm_list": {}, "vm_start": {"deny_if": [{"path": "args.id", "op": "eq", "value": 2}]},
                  "vm_stop": {"limits": [{"counter": "off", "window": "day", "max": 0, "scope": "grant"}]},
                  "policy_status": {}}});
    let session = stdio_with(&nas, &dir, narrow.clone(), &["--tool-mode", "flat"]).await;
    let mut names = flat_names(&session).await;
    names.sort();
    assert_eq!(names, ["policy_status", "vm_list", "vm_start"]);
    // Not listed, but called: the denial as before, never "unknown tool".
    let stop = flat(&session, "vm_stop", json!({"id": 1})).await;
    assert_eq!(denial(&stop)["rule"], "/tools/vm_stop/limits/off");
    let delete = flat(&session, "vm_delete", json!({"id": 1, "confirm": true})).await;
    assert_eq!(denial(&delete)["rule"], "(default deny)");
    session.cancel().await.unwrap();

    // The same document with `x-list-denied` lists everything that is not hidden.
    let mut listing = narrow;
    listing["x-list-denied"] = json!(true);
    listing["hide"] = json!(["vm_delete"]);
    let session = stdio_with(&nas, &dir, listing, &["--tool-mode", "flat"]).await;
    let names = flat_names(&session).await;
    for listed in ["vm_stop", "vm_create", "dataset_delete", "policy_status"] {
        assert!(names.contains(&listed.to_string()), "{listed} in {names:?}");
    }
    assert!(!names.contains(&"vm_delete".to_string()), "hidden stays absent");
    session.cancel().await.unwrap();

    // Risk defaults: destructive denied, the rest allowed; the raw API is listed (its method
    // decides), policy_status falls under read.
    let risky = json!({"version": "1", "default": "allow", "x-risk-defaults": {"destructive": "deny"}});
    let session = stdio_with(&nas, &dir, risky, &["--tool-mode", "flat"]).await;
    let names = flat_names(&session).await;
    let catalog = truenas_mcp::catalog::Catalog::builtin().unwrap();
    for action in catalog.actions() {
        let destructive = action.risk == truenas_mcp::ids::Risk::Destructive && !action.is_rest_call();
        assert_eq!(names.contains(&action.name.to_string()), !destructive, "{}", action.name);
    }
    assert!(names.contains(&"policy_status".to_string()));
    session.cancel().await.unwrap();

    // A limit of max 0 over every tool: nothing is listed, not even policy_status.
    let closed = json!({"version": "1", "default": "allow",
        "all_tools": {"limits": [{"counter": "closed", "window": "minute", "max": 0, "scope": "server"}]}});
    let session = stdio_with(&nas, &dir, closed, &["--tool-mode", "flat"]).await;
    assert_eq!(flat_names(&session).await, Vec::<String>::new());
    let status = flat(&session, "policy_status", json!({})).await;
    assert_eq!(denial(&status)["rule"], "/all_tools/limits/closed");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn hierarchical_listings_mark_what_needs_approval_and_what_is_denied() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("marks");
    let policy = json!({"version": "1", "default": "allow",
        "x-risk-defaults": {"destructive": "approve"},
        "hide": ["vm_clone"],
        "tools": {"vm_start": {"x-approval": [{"path": "args.id", "op": "eq", "value": 1}]},
                  "vm_stop": {"limits": [{"counter": "off", "window": "day", "max": 0, "scope": "grant"}]}}});
    let session = stdio_with(&nas, &dir, policy, &[]).await;
    let vm = text(&truenas(&session, "vm", "", Value::Null).await);
    let line = |name: &str| {
        vm.lines()
            .find(|l| l.starts_with(&format!("  {name} — ")))
            .unwrap_or_else(|| panic!("{name} in {vm}"))
            .to_string()
    };
    assert!(line("vm_delete").ends_with(" [needs approval]"), "{vm}");
    assert!(line("vm_start").ends_with(" [may need approval]"), "{vm}");
    assert!(line("vm_stop").ends_with(" [denied by policy: rule /tools/vm_stop/limits/off]"), "{vm}");
    assert!(!line("vm_list").contains(" ["), "{vm}");
    assert!(!vm.contains("vm_clone"), "hidden stays absent: {vm}");
    // The policy category is listed with the others, and holds policy_status.
    let categories = text(&truenas(&session, "", "", Value::Null).await);
    assert!(categories.contains("\n  policy (1 actions) — "), "{categories}");
    let policy = text(&truenas(&session, "policy", "", Value::Null).await);
    assert!(policy.contains("\n  policy_status — "), "{policy}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn policy_status_says_what_the_grant_may_do_and_what_its_limits_have_left() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("status");
    let policy = json!({"version": "1", "default": "deny",
        "x-risk-defaults": {"read": "allow", "write": "allow", "destructive": "approve"},
        "hide": ["vm_clone", "vm.delete"],
        "all_tools": {"limits": [{"counter": "per-hour", "window": "hour", "max": 50, "scope": "grant"}]},
        "tools": {"vm_status": {"limits": [{"counter": "starts", "window": "day", "max": 3, "scope": "grant"}]},
                  "vm_delete": {"limits": [{"counter": "secret-deletes", "window": "day", "max": 1, "scope": "grant"}]},
                  "vm_stop": {"limits": [{"counter": "off", "window": "day", "max": 0, "scope": "grant"}]}}});
    let session = stdio_with(&nas, &dir, policy.clone(), &[]).await;
    let started = truenas(&session, "vm", "vm_status", json!({"id": 1})).await;
    assert!(!is_error(&started), "{}", text(&started));
    let status = json_of(&truenas(&session, "policy", "policy_status", Value::Null).await);
    assert_eq!(status["by_risk"], json!({"destructive": "approve", "read": "allow", "write": "allow"}), "{status}");
    let exceptions = status["exceptions"].as_array().unwrap();
    let stop = exceptions.iter().find(|e| e["action"] == "vm_stop").unwrap_or_else(|| panic!("{status}"));
    assert_eq!(stop["standing"], "deny");
    assert_eq!(stop["rule"], "/tools/vm_stop/limits/off");
    assert!(status["needs_approval"].as_array().unwrap().contains(&json!("dataset_delete")), "{status}");
    let budget =
        |status: &Value, rule: &str| status["budgets"].as_array().unwrap().iter().find(|b| b["rule"] == rule).cloned();
    let starts = budget(&status, "/tools/vm_status/limits/starts").unwrap_or_else(|| panic!("{status}"));
    assert_eq!(starts["remaining"], 2, "{status}");
    assert_eq!(starts["limit"], "3 per day");
    assert!(starts["resets_in"].as_u64().is_some_and(|s| s <= 86_400), "{status}");
    // Two calls so far (vm_status and this one) counted by the hourly limit: policy_status is a read.
    assert_eq!(budget(&status, "/all_tools/limits/per-hour").unwrap()["remaining"], 48, "{status}");
    // Hidden tools are absent: no listing, no budget naming them.
    let text_of_status = status.to_string();
    for hidden in ["vm_clone", "vm_delete", "secret-deletes", "vm.delete"] {
        assert!(!text_of_status.contains(hidden), "{hidden} in {status}");
    }
    // The resource answers the same (one more read counted).
    let read = session.read_resource(ReadResourceRequestParams::new("truenas://policy")).await.unwrap();
    let rmcp::model::ResourceContents::TextResourceContents { text: body, .. } = &read.contents[0] else { panic!() };
    let from_resource: Value = serde_json::from_str(body).unwrap();
    assert_eq!(budget(&from_resource, "/all_tools/limits/per-hour").unwrap()["remaining"], 47);
    let resources = session.list_all_resources().await.unwrap();
    assert!(resources.iter().any(|r| r.uri == "truenas://policy"));
    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).iter().all(|m| m == "vm.status"), "{:?}", nas_methods(&nas));

    // As a flat tool too.
    let session = stdio_with(&nas, &dir, policy, &["--tool-mode", "flat"]).await;
    let status = json_of(&flat(&session, "policy_status", json!({})).await);
    assert!(status["budgets"].is_array(), "{status}");
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn a_policy_can_hide_or_deny_policy_status() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("status-hidden");
    let hidden = json!({"version": "1", "default": "allow", "hide": ["policy_status"]});
    let session = stdio_with(&nas, &dir, hidden.clone(), &["--tool-mode", "flat"]).await;
    assert!(!flat_names(&session).await.contains(&"policy_status".to_string()));
    let called = session
        .call_tool(rmcp::model::CallToolRequestParams::new("policy_status").with_arguments(serde_json::Map::new()))
        .await;
    assert!(called.is_err(), "a hidden tool is an unknown tool: {called:?}");
    assert!(!session.list_all_resources().await.unwrap().iter().any(|r| r.uri == "truenas://policy"));
    assert!(session.read_resource(ReadResourceRequestParams::new("truenas://policy")).await.is_err());
    session.cancel().await.unwrap();
    let session = stdio_with(&nas, &dir, hidden, &[]).await;
    let categories = text(&truenas(&session, "", "", Value::Null).await);
    assert!(!categories.contains("\n  policy ("), "{categories}");
    // Answered as for any unknown name: the category is not there, so neither is the action.
    let r = truenas(&session, "policy", "policy_status", Value::Null).await;
    let unknown = truenas(&session, "policy", "no_such_action", Value::Null).await;
    assert!(is_error(&r), "{}", text(&r));
    assert_eq!(text(&r).replace("policy_status", "no_such_action"), text(&unknown));
    let listing = truenas(&session, "policy", "", Value::Null).await;
    assert!(is_error(&listing) && text(&listing).starts_with("Unknown category \"policy\""), "{}", text(&listing));
    session.cancel().await.unwrap();

    // Not listed under `tools` with default deny: denied like any action, with its denial.
    let denied = json!({"version": "1", "default": "deny", "tools": {"vm_list": {}}});
    let session = stdio_with(&nas, &dir, denied, &[]).await;
    let r = truenas(&session, "policy", "policy_status", Value::Null).await;
    assert_eq!(denial(&r)["rule"], "(default deny)", "{}", text(&r));
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn policy_status_is_audited_like_a_read_and_fails_closed_without_an_audit_log() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("status-audit");
    let audit = dir.path().join("audit.jsonl");
    let (session, _) = connect_stdio(&nas, &["--audit", audit.to_str().unwrap()]).await;
    assert!(!is_error(&truenas(&session, "policy", "policy_status", Value::Null).await));
    session.read_resource(ReadResourceRequestParams::new("truenas://policy")).await.unwrap();
    session.cancel().await.unwrap();
    let raw = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<Value> = raw.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ours: Vec<(&str, &str, &str)> = lines
        .iter()
        .filter(|l| l["action"] == "policy_status")
        .map(|l| (l["action_type"].as_str().unwrap(), l["phase"].as_str().unwrap(), l["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ours,
        [
            ("call", "decided", "allow"),
            ("call", "done", "allow"),
            ("resource", "decided", "allow"),
            ("resource", "done", "allow")
        ],
        "{raw}"
    );

    if std::fs::OpenOptions::new().append(true).open("/dev/full").is_err() {
        return; // no /dev/full on this system
    }
    let (session, _) = connect_stdio(&nas, &["--audit", "/dev/full"]).await;
    let r = truenas(&session, "policy", "policy_status", Value::Null).await;
    assert!(is_error(&r) && text(&r).contains("audit log cannot be written"), "{}", text(&r));
    session.cancel().await.unwrap();
}

/// One sample of a metric family in an exposition text, by its name and labels as written.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_open_only_with_the_admin_token_and_count_decisions() {
    const AGENT: &str = "agent-token-0123456789";
    const ADMIN: &str = "admin-token-0123456789";
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("metrics");
    let state = tempdir::Dir::new("metrics-state");
    let policy = policy_file(
        &dir,
        "p.json",
        &json!({"version": "1", "default": "allow", "x-risk-defaults": {"destructive": "approve"},
                "tools": {"vm_status": {"limits": [{"counter": "starts\"x", "window": "hour", "max": 1, "scope": "grant"}]}}}),
    );
    let args = [
        "--policy",
        policy.to_str().unwrap(),
        "--state-dir",
        state.path().to_str().unwrap(),
        "--http-token",
        AGENT,
        "--admin-token",
        ADMIN,
    ];
    let (_child, url) = serve_http(&nas, &args).await;
    let metrics = url.replace("/mcp", "/metrics");
    let http = reqwest::Client::new();
    assert_eq!(http.get(&metrics).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&metrics).bearer_auth(AGENT).send().await.unwrap().status(), 401);

    let session = connect(&url, AGENT).await;
    assert!(!is_error(&truenas(&session, "vm", "vm_list", json!({})).await));
    let started = truenas(&session, "vm", "vm_status", json!({"id": 1})).await;
    assert!(!is_error(&started), "{}", text(&started));
    assert!(is_error(&truenas(&session, "vm", "vm_status", json!({"id": 1})).await));
    assert!(is_error(&truenas(&session, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await));
    assert!(is_error(&truenas(&session, "vm", "nope_action", json!({})).await));

    let r = http.get(&metrics).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let body = r.text().await.unwrap();
    // Every line is a comment or `name{labels} value` with a number.
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    let got = |series: &str| sample(&body, series).unwrap_or_else(|| panic!("no {series} in:\n{body}"));
    assert_eq!(got(r#"truenas_mcp_decisions_total{action="vm_list",outcome="allow"}"#), 1.0);
    assert_eq!(got(r#"truenas_mcp_decisions_total{action="vm_status",outcome="allow"}"#), 1.0);
    assert_eq!(got(r#"truenas_mcp_decisions_total{action="vm_status",outcome="deny"}"#), 1.0);
    assert_eq!(got(r#"truenas_mcp_decisions_total{action="vm_delete",outcome="approval_required"}"#), 1.0);
    assert_eq!(got(r#"truenas_mcp_denials_total{rule="/tools/vm_status/limits/starts\"x"}"#), 1.0);
    assert_eq!(got("truenas_mcp_nas_call_duration_seconds_count"), 2.0);
    assert_eq!(got(r#"truenas_mcp_nas_call_duration_seconds_bucket{le="+Inf"}"#), 2.0);
    assert_eq!(got("truenas_mcp_approvals_pending"), 1.0);
    assert_eq!(got("truenas_mcp_jobs_in_flight"), 0.0);
    assert!(!body.contains("nope_action"), "a name the client made up is no label: {body}");
    assert!(!body.contains(AGENT) && !body.contains(ADMIN));
    // Checked by Prometheus's own tool when it is installed.
    if let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    session.cancel().await.unwrap();
}
