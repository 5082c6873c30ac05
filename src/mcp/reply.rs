//! The wire form of every outcome, in one place: a result becomes pretty JSON text; each kind
//! of failure of a tool call becomes an `isError` tool result whose text an agent can act on;
//! and every JSON-RPC error this server answers with (a resource read, an unknown tool or
//! method, a line on stdin that is no request) is made here, with rmcp's own error codes only.
//!
//! A refusal by the policy or by a person reads the same everywhere: the tool result's text,
//! and its machine-readable form under [`DENIAL_META`] (a tool result's `_meta`, a JSON-RPC
//! error's `data`). As a JSON-RPC error it is `INVALID_REQUEST`, never `INTERNAL_ERROR`, so a
//! client can tell "not allowed" from "broken".

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolResult, ContentBlock as Content, ErrorCode};
use serde_json::Value;

use crate::gateway::CallError;
use crate::nas::CallOutcome;

/// Past this many characters a result is cut: the agent's context is the scarce resource, and a
/// query can always be narrowed with filters, `limit` and `offset`.
pub(crate) const MAX_RESULT_CHARS: usize = 60_000;

/// A successful call: the result as pretty JSON (2-space indent), as the server we replace.
/// A result too large is cut, and a second text says so.
pub(crate) fn success(outcome: CallOutcome) -> CallToolResult {
    success_with(outcome, |_, _| None)
}

/// [`success`], with the `structuredContent` that `structured` gives when told whether the
/// text holds the whole result; it is handed the outcome once the text is made, so that the
/// result can move into the structured content instead of being copied.
pub(crate) fn success_with(
    outcome: CallOutcome,
    structured: impl FnOnce(bool, CallOutcome) -> Option<Value>,
) -> CallToolResult {
    let (text, note) = bounded(&outcome.result, MAX_RESULT_CHARS);
    let whole = note.is_none();
    let mut content = vec![Content::text(text)];
    content.extend(note.map(Content::text));
    let mut result = CallToolResult::success(content);
    result.structured_content = structured(whole, outcome);
    result
}

/// The result's text within `max` characters: a list keeps its first items (still valid
/// JSON), anything else its first characters; with a note saying what was left out.
fn bounded(value: &Value, max: usize) -> (String, Option<String>) {
    let full = pretty(value);
    if full.len() <= max {
        return (full, None);
    }
    if let Value::Array(items) = value {
        // Each item costs its own pretty text plus the list's indentation and separators.
        let mut size = 2;
        let kept = items
            .iter()
            .take_while(|item| {
                let text = pretty(item);
                size += text.len() + 4 + 2 * text.lines().count();
                size <= max
            })
            .count();
        let note = format!(
            "[truncated: {kept} of {} items shown; narrow the query with filters, limit and offset]",
            items.len()
        );
        return (pretty(&Value::Array(items[..kept].to_vec())), Some(note));
    }
    let cut = (0..=max).rev().find(|i| full.is_char_boundary(*i)).unwrap_or(0);
    let note = format!("[truncated: the first {cut} of {} characters shown]", full.len());
    (full[..cut].to_string(), Some(note))
}

/// Plain text that is not an error (listings, reference-compatible lookups).
pub(crate) fn text(text: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![Content::text(text.into())])
}

/// A lookup that found nothing (unknown category or action, action under another category):
/// the reference's text, as an error.
pub(crate) fn lookup_error(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![Content::text(text.into())])
}

/// A failure the agent should read, scrubbed of known secrets and of `secrets`, the secret
/// argument values of the call (a NAS error may echo them back).
pub(crate) fn failure(error: &CallError, secrets: &[String]) -> CallToolResult {
    let text = failure_text(error);
    // A NAS error may echo the API key or a credentialed URL back: scrub before the agent sees it.
    let result = CallToolResult::error(vec![Content::text(crate::redact::scrub_text_with(&text, secrets))]);
    let mut meta = serde_json::Map::new();
    if let Some(denial) = denial_meta(error, secrets) {
        meta.insert(DENIAL_META.into(), denial);
    }
    // The id in `_meta` too, for clients that act on it (`io.truenas-mcp/approval`).
    if let CallError::ApprovalRequired { id, .. } | CallError::ApprovalDenied { id, .. } = error {
        let status = if matches!(error, CallError::ApprovalRequired { .. }) { "pending" } else { "denied" };
        meta.insert(APPROVAL_META.into(), serde_json::json!({"id": id, "status": status}));
    }
    if meta.is_empty() { result } else { result.with_meta(Some(rmcp::model::MetaObject(meta))) }
}

/// The text of a failed call, unscrubbed.
fn failure_text(error: &CallError) -> String {
    match error {
        // Exact texts agents and tests match on.
        CallError::Denied(denial) => denial.to_string(),
        CallError::NotConfirmed { refusal } => refusal.clone(),
        CallError::ApprovalRequired { .. } | CallError::ApprovalDenied { .. } => error.to_string(),
        // Everything else keeps the reference's `Error: <message>` shape.
        other => format!("Error: {other}"),
    }
}

/// A failed resource read (or job read) as a JSON-RPC error. A refusal by the policy or a
/// person is `INVALID_REQUEST` with the tool call's text and its denial in `data`, under the
/// same key as a tool result's `_meta`; anything else is an internal error.
pub(crate) fn resource_error(error: &CallError) -> McpError {
    match denial_meta(error, &[]) {
        Some(denial) => {
            let text = crate::redact::scrub_text(&failure_text(error));
            McpError::invalid_request(text, Some(serde_json::json!({ DENIAL_META: denial })))
        }
        None => McpError::internal_error(crate::redact::scrub_text(&error.to_string()), None),
    }
}

/// A resource this client cannot read: absent, or hidden (which answers exactly alike).
pub(crate) fn resource_not_found(uri: &str) -> McpError {
    McpError::resource_not_found(format!("no resource `{}`", crate::redact::scrub_text(uri)), None)
}

/// A tool this client cannot call: absent, or hidden (which answers exactly alike).
pub(crate) fn tool_not_found(name: &str) -> McpError {
    McpError::invalid_params(format!("tool `{name}` not found"), None)
}

/// A request method of MCP's that this server does not offer (prompts, completion, logging).
pub(crate) fn unsupported<M: rmcp::model::ConstString>() -> McpError {
    McpError::method_not_found::<M>()
}

/// A request method this server does not offer, named by the client.
pub(crate) fn method_not_found(method: String) -> McpError {
    McpError::new(ErrorCode::METHOD_NOT_FOUND, method, None)
}

/// A protocol request refused because its audit record cannot be written.
pub(crate) fn audit_unavailable(error: crate::policy::AuditWriteError) -> McpError {
    McpError::internal_error(CallError::AuditUnavailable(error).to_string(), None)
}

/// A JSON-RPC error reply written by the transport itself (a line that is no request).
pub(crate) fn jsonrpc_error(id: Value, code: ErrorCode, message: &str) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The `_meta` key of an approval's id and status in a refused call's result.
pub(crate) const APPROVAL_META: &str = "io.truenas-mcp/approval";

/// The `_meta` key of a refusal's machine-readable form: `{rule, reason, retry_after,
/// approval_id}`, the last two `null` when they do not apply.
pub(crate) const DENIAL_META: &str = "truenas-mcp/denial";

/// The rule id a person's denial of an approval carries (no policy rule denied the call).
pub(crate) const APPROVAL_DENIED_RULE: &str = "(approval denied)";

/// The machine-readable form of a refusal by the policy or by a person, for `_meta`: the
/// same rule and reason the text shows (policy words, never an argument value), scrubbed alike.
pub(crate) fn denial_meta(error: &CallError, secrets: &[String]) -> Option<Value> {
    let (rule, reason, retry_after, approval_id) = match error {
        CallError::Denied(denial) => (
            denial.rule.to_string(),
            denial.reason.clone(),
            denial.retry_after.map(crate::policy::whole_seconds_up),
            None,
        ),
        CallError::ApprovalRequired { id, rule, .. } => {
            (rule.clone(), "a person must approve this call first".to_owned(), None, Some(id.clone()))
        }
        CallError::ApprovalDenied { id, by, .. } => {
            (APPROVAL_DENIED_RULE.to_owned(), format!("denied by {by}"), None, Some(id.clone()))
        }
        _ => return None,
    };
    Some(serde_json::json!({
        "rule": rule,
        "reason": crate::redact::scrub_text_with(&reason, secrets),
        "retry_after": retry_after,
        "approval_id": approval_id,
    }))
}

/// An error in how the tool itself was called (bad shape of `category`/`params`).
pub(crate) fn input_error(message: impl std::fmt::Display) -> CallToolResult {
    CallToolResult::error(vec![Content::text(format!("Input validation error: {message}"))])
}

/// Pretty JSON text of a value.
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_by_the_policy_or_a_person_carry_their_denial_in_meta_and_nothing_else_does() {
        use crate::ids::RuleId;
        use crate::policy::Denial;
        let limited = CallError::Denied(Denial {
            rule: RuleId::new("/tools/vm_start/limits/starts"),
            reason: "limit `starts` reached; password hunter2".into(),
            retry_after: Some(std::time::Duration::from_millis(29_500)),
        });
        let result = failure(&limited, &["hunter2".to_string()]);
        let meta = result.meta.as_ref().map(|m| m.0.clone()).unwrap_or_default();
        assert_eq!(
            meta[DENIAL_META],
            json!({"rule": "/tools/vm_start/limits/starts", "reason": "limit `starts` reached; password <redacted>",
                   "retry_after": 30, "approval_id": null})
        );
        let asked = CallError::ApprovalRequired { action: "vm_delete".into(), id: "a1".into(), rule: "/x".into() };
        let meta = failure(&asked, &[]).meta.map(|m| m.0).unwrap_or_default();
        assert_eq!(meta[DENIAL_META]["approval_id"], "a1");
        assert_eq!(meta[DENIAL_META]["rule"], "/x");
        assert_eq!(meta[APPROVAL_META], json!({"id": "a1", "status": "pending"}));
        let denied =
            CallError::ApprovalDenied { action: "vm_delete".into(), id: "a2".into(), by: "ops".into(), reason: None };
        let meta = failure(&denied, &[]).meta.map(|m| m.0).unwrap_or_default();
        assert_eq!(meta[DENIAL_META]["rule"], APPROVAL_DENIED_RULE);
        assert_eq!(meta[APPROVAL_META]["status"], "denied");
        let other = CallError::UnknownAction("nope".into());
        assert!(failure(&other, &[]).meta.is_none());
    }

    #[test]
    fn a_refused_resource_read_is_invalid_request_with_its_denial_and_a_broken_one_internal() {
        use crate::ids::RuleId;
        use crate::policy::Denial;
        let denied = CallError::Denied(Denial { rule: RuleId::new("/r"), reason: "no".into(), retry_after: None });
        let error = resource_error(&denied);
        assert_eq!(error.code, ErrorCode::INVALID_REQUEST);
        assert_eq!(
            error.message,
            failure(&denied, &[]).content[0].as_text().map(|t| t.text.clone()).unwrap_or_default()
        );
        assert_eq!(error.data.map(|d| d[DENIAL_META]["rule"].clone()), Some(json!("/r")));
        let asked = CallError::ApprovalRequired { action: "vm_list".into(), id: "a1".into(), rule: "/x".into() };
        assert_eq!(resource_error(&asked).code, ErrorCode::INVALID_REQUEST);
        let broken = resource_error(&CallError::UnknownAction("nope".into()));
        assert_eq!((broken.code, broken.data), (ErrorCode::INTERNAL_ERROR, None));
    }

    #[test]
    fn small_results_are_whole() {
        let (text, note) = bounded(&json!([{"id": 1}]), 1000);
        assert_eq!(note, None);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!([{"id": 1}]));
    }

    #[test]
    fn long_lists_keep_their_first_items_as_valid_json_and_say_so() {
        let items: Vec<Value> = (0..500).map(|i| json!({"id": i, "name": format!("dataset-{i}")})).collect();
        let (text, note) = bounded(&Value::Array(items), 4_000);
        assert!(text.len() <= 4_000, "{}", text.len());
        let kept: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert!(kept.len() > 10 && kept.len() < 500);
        assert_eq!(kept[0]["id"], 0);
        assert_eq!(
            note.unwrap(),
            format!("[truncated: {} of 500 items shown; narrow the query with filters, limit and offset]", kept.len())
        );
    }

    #[test]
    fn other_large_values_are_cut_on_a_character_boundary() {
        let (text, note) = bounded(&json!({"log": "é".repeat(5_000)}), 1_001);
        assert!(text.len() <= 1_001);
        assert!(note.unwrap().starts_with("[truncated: the first "));
    }
}
