//! Approval through MCP elicitation: when the client declared form elicitation, a call that
//! needs a person's approval asks the client's user (never the model) to approve or deny it.
//!
//! Two shapes, by the negotiated protocol version: up to 2025-11-25 the server sends an
//! `elicitation/create` request while the call is held; from 2026-07-28 (no server-to-client
//! requests) the call answers with an input-required result carrying the same form, and the
//! client retries the call with the answer and the approval id as `requestState`. Either way
//! the answer reaches the gateway as an [`Asked`] for the record bound to that very call, and
//! goes through the same store calls as the CLI; the approver is recorded as
//! `mcp-client:<clientInfo.name>`, the client's own word.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use rmcp::model::{
    CallToolRequestParams, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequiredResult, ProtocolVersion,
};
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};
use serde_json::{Value, json};

use crate::gateway::{Answer, Asked, Asker};
use crate::state::approvals::{ApprovalRecord, unix};

/// The key of the approval form in an input-required result (and of its answer on retry).
pub(super) const INPUT_KEY: &str = "approval";

/// Longest an elicitation request waits for the person (the record's expiry may cut it short).
const MAX_ASK: Duration = Duration::from_secs(600);

/// Longest denial reason taken from a client, in characters.
const MAX_REASON_CHARS: usize = 500;

/// Longest client name kept in the approver, in characters.
const MAX_NAME_CHARS: usize = 64;

/// How this call may ask its client's user.
pub(super) struct Elicitation {
    /// Given to the gateway.
    pub(super) asker: Asker,
    /// Set when the asker deferred to an input-required result (2026-07-28): the call's
    /// `[APPROVAL REQUIRED]` answer is then turned into that result.
    pub(super) deferred: Option<Arc<AtomicBool>>,
}

/// Whether the client declared form elicitation (a capability naming neither mode means form).
fn form_supported(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.client_capabilities().and_then(|c| c.elicitation).is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// Whether the call came over streamable HTTP without a session (a client that used
/// `server/discover` and sends each request on its own). Such a call has nowhere to receive
/// the client's answer to a server request: rmcp's sessionless path refuses JSON-RPC responses,
/// so an `elicitation/create` would hang until the approval expires.
fn sessionless_http(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.extensions
        .get::<axum::http::request::Parts>()
        .is_some_and(|parts| !parts.headers.contains_key("mcp-session-id"))
}

/// Who answered, as recorded: the client's own name for itself (it could be any string, so
/// only plain characters are kept).
fn approver(ctx: &RequestContext<RoleServer>) -> String {
    let name: String = ctx
        .client_info()
        .map(|i| i.name)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() { "mcp-client".to_owned() } else { format!("mcp-client:{name}") }
}

/// The way to ask this call's client, if it can be asked: `enabled` is the operator's switch,
/// `request` the call (for a 2026-07-28 retry carrying an answer).
pub(super) fn for_call(
    ctx: &RequestContext<RoleServer>,
    request: &CallToolRequestParams,
    enabled: bool,
) -> Option<Elicitation> {
    if !enabled || !form_supported(ctx) {
        return None;
    }
    let by = approver(ctx);
    let modern = ctx.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
    if modern {
        // The answer to an earlier round, bound to the approval id the server put in
        // `requestState`; it counts only for that record (found by this call's binding).
        let given = request.request_state.clone().zip(
            request
                .input_responses
                .as_ref()
                .and_then(|r| r.get(INPUT_KEY))
                .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok()),
        );
        let deferred = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&deferred);
        let asker: Asker = Arc::new(move |record: ApprovalRecord| {
            let asked = match &given {
                Some((id, result)) if *id == record.id => read_answer(result, &by),
                _ => {
                    flag.store(true, Ordering::SeqCst);
                    Asked::Later
                }
            };
            Box::pin(std::future::ready(asked))
        });
        return Some(Elicitation { asker, deferred: Some(deferred) });
    }
    if sessionless_http(ctx) {
        // No way to hear the answer: the call answers `[APPROVAL REQUIRED]` instead.
        return None;
    }
    let peer = ctx.peer.clone();
    let cancel = ctx.ct.clone();
    let asker: Asker = Arc::new(move |record: ApprovalRecord| {
        let peer = peer.clone();
        let by = by.clone();
        let cancel = cancel.clone();
        Box::pin(async move {
            // A call the client cancels stops asking; the record stays pending.
            tokio::select! {
                asked = ask(&peer, &record, &by) => asked,
                () = cancel.cancelled() => Asked::NoAnswer,
            }
        })
    });
    Some(Elicitation { asker, deferred: None })
}

/// Sends one `elicitation/create` and waits for the person, at most until the record expires.
async fn ask(peer: &Peer<RoleServer>, record: &ApprovalRecord, by: &str) -> Asked {
    let left = Duration::from_secs(record.expires.saturating_sub(unix(SystemTime::now())));
    let Ok(params) = form(record) else { return Asked::NoAnswer };
    match peer.create_elicitation_with_timeout(params, Some(left.min(MAX_ASK))).await {
        Ok(result) => read_answer(&result, by),
        Err(e) => {
            tracing::info!(approval = %record.id, error = %e, "no answer to the approval elicitation");
            Asked::NoAnswer
        }
    }
}

/// Reads the person's answer: approve, deny (with the reason given), or nothing. An explicit
/// decline denies; a dismissal or an answer that does not fit the form is no answer.
pub(super) fn read_answer(result: &ElicitResult, by: &str) -> Asked {
    let answered = |answer| Asked::Answered { by: by.to_owned(), answer };
    match result.action {
        ElicitationAction::Decline => answered(Answer::Deny(Some("declined in the MCP client".to_owned()))),
        ElicitationAction::Accept => {
            let content = result.content.as_ref();
            let reason = content
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str)
                .map(|r| r.trim().chars().take(MAX_REASON_CHARS).collect::<String>())
                .filter(|r| !r.is_empty());
            match content.and_then(|c| c.get("decision")).and_then(Value::as_str) {
                Some("approve") => answered(Answer::Approve),
                Some("deny") => answered(Answer::Deny(reason)),
                _ => Asked::NoAnswer,
            }
        }
        // Cancel, and any action a later protocol adds.
        _ => Asked::NoAnswer,
    }
}

/// What the person reads: the action, what exactly would be sent (secrets masked), the risk,
/// the rule, and how long the approval lives.
pub(super) fn message(record: &ApprovalRecord) -> String {
    let params = serde_json::to_string(&record.call.params).unwrap_or_else(|_| "(not shown)".to_owned());
    format!(
        "An AI agent asks to run a TrueNAS action that needs your approval.\n\
         Action: {action} (risk: {risk})\n\
         Sends: {method} {params}\n\
         Rule: {rule}\n\
         Grant: {grant}\n\
         Approval: {id} (expires in {left} s)\n\
         Approve only if you meant this to happen; deny with a reason the agent will read.",
        action = record.call.binding.action,
        risk = record.call.risk.as_str(),
        method = record.call.method,
        rule = record.call.rule,
        grant = record.call.binding.grant,
        id = record.id,
        left = record.expires.saturating_sub(unix(SystemTime::now())),
    )
}

/// The form: a required approve/deny choice and an optional reason.
fn schema() -> Result<ElicitationSchema, serde_json::Error> {
    let schema = json!({
        "type": "object",
        "properties": {
            "decision": {
                "type": "string",
                "title": "Decision",
                "description": "approve lets this one call through; deny refuses it",
                "enum": ["approve", "deny"],
            },
            "reason": {
                "type": "string",
                "title": "Reason",
                "description": "why (shown to the agent when you deny)",
                "maxLength": MAX_REASON_CHARS,
            },
        },
        "required": ["decision"],
    });
    // An object literal is an object; anything else would fail to parse (and ask nothing).
    let schema = match schema {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    ElicitationSchema::from_json_schema(schema)
}

fn form(record: &ApprovalRecord) -> Result<ElicitRequestParams, serde_json::Error> {
    Ok(ElicitRequestParams::FormElicitationParams { meta: None, message: message(record), requested_schema: schema()? })
}

/// The input-required result asking about `record` (2026-07-28): the form, and the approval id
/// as `requestState` for the retry. `None` if the form cannot be built.
pub(super) fn input_required(record: &ApprovalRecord) -> Option<InputRequiredResult> {
    let params = form(record).ok()?;
    let mut requests = BTreeMap::new();
    requests.insert(INPUT_KEY.to_owned(), InputRequest::Elicitation(ElicitRequest::new(params)));
    Some(InputRequiredResult::new(Some(requests), Some(record.id.clone())))
}

/// Whether the call's asker deferred to an input-required result.
pub(super) fn deferred(elicitation: Option<&Elicitation>) -> bool {
    elicitation.and_then(|e| e.deferred.as_ref()).is_some_and(|d| d.load(Ordering::SeqCst))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(action: ElicitationAction, content: Option<Value>) -> ElicitResult {
        let mut r = ElicitResult::new(action);
        r.content = content;
        r
    }

    #[test]
    fn only_a_clear_choice_is_an_answer() {
        let approve = read_answer(&result(ElicitationAction::Accept, Some(json!({"decision": "approve"}))), "p");
        assert!(matches!(approve, Asked::Answered { ref by, answer: Answer::Approve } if by == "p"));
        let deny = json!({"decision": "deny", "reason": format!("  {}  ", "x".repeat(900))});
        match read_answer(&result(ElicitationAction::Accept, Some(deny)), "p") {
            Asked::Answered { answer: Answer::Deny(Some(reason)), .. } => assert_eq!(reason.len(), MAX_REASON_CHARS),
            other => panic!("not a denial: {other:?}"),
        }
        let declined = read_answer(&result(ElicitationAction::Decline, None), "p");
        assert!(matches!(declined, Asked::Answered { answer: Answer::Deny(Some(_)), .. }));
        for unclear in [
            result(ElicitationAction::Cancel, None),
            result(ElicitationAction::Accept, None),
            result(ElicitationAction::Accept, Some(json!({"decision": true}))),
            result(ElicitationAction::Accept, Some(json!({"decision": "Approve"}))),
            result(ElicitationAction::Accept, Some(json!({"approve": "approve"}))),
        ] {
            assert!(matches!(read_answer(&unclear, "p"), Asked::NoAnswer), "{unclear:?}");
        }
    }

    #[test]
    fn the_form_parses_and_asks_for_a_choice() {
        let schema = serde_json::to_value(schema().unwrap()).unwrap();
        assert_eq!(schema["properties"]["decision"]["enum"], json!(["approve", "deny"]));
        assert_eq!(schema["required"], json!(["decision"]));
    }
}
