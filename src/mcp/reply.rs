//! The wire form of every call outcome, in one place: a result becomes pretty JSON text, and
//! each kind of failure becomes an `isError` tool result whose text an agent can act on.

use rmcp::model::{CallToolResult, ContentBlock as Content};
use serde_json::Value;

use crate::gateway::CallError;
use crate::nas::CallOutcome;

/// A successful call: the result as pretty JSON (2-space indent), as the server we replace.
pub(crate) fn success(outcome: &CallOutcome) -> CallToolResult {
    CallToolResult::success(vec![Content::text(pretty(&outcome.result))])
}

/// Plain text that is not an error (listings, reference-compatible lookups).
pub(crate) fn text(text: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![Content::text(text.into())])
}

/// A failure the agent should read.
pub(crate) fn failure(error: &CallError) -> CallToolResult {
    let text = match error {
        // Exact texts agents and tests match on.
        CallError::Denied(denial) => denial.to_string(),
        CallError::NotConfirmed { refusal } => refusal.clone(),
        // Everything else keeps the reference's `Error: <message>` shape.
        other => format!("Error: {other}"),
    };
    CallToolResult::error(vec![Content::text(text)])
}

/// An error in how the tool itself was called (bad shape of `category`/`params`).
pub(crate) fn input_error(message: impl std::fmt::Display) -> CallToolResult {
    CallToolResult::error(vec![Content::text(format!("Input validation error: {message}"))])
}

/// Pretty JSON text of a value.
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
