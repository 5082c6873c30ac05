//! Where the agent stands, on the MCP surface: the `policy_status` flat tool, the `policy`
//! category of the `truenas` tool, the `truenas://policy` resource, and the marks listings put
//! on actions the policy denies outright or puts to a person. Answers come from the gateway
//! ([`Gateway::policy_status`](crate::gateway::Gateway::policy_status)); a hidden
//! `policy_status` is absent from all of them.

use std::sync::Arc;

use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use super::hierarchical::Lookup;
use super::{RequestContext, RoleServer, TrueNasServer, reply};
use crate::catalog::ActionDef;
use crate::gateway::{CallError, POLICY_STATUS};
use crate::policy::{ApprovalStanding, RecordKind, Standing};

/// The `truenas` tool's category holding `policy_status`.
pub(super) const CATEGORY: &str = "policy";
/// Its description in the category listing.
const CATEGORY_DESCRIPTION: &str =
    "What this session may do, which actions wait for a person's sign-off, and the limits left";
/// What `policy_status` does, for listings and the flat tool.
const DESCRIPTION: &str = "What this session's policy lets you do: per risk class the usual answer, the actions \
     that differ (denied outright, or waiting for a person's sign-off), and what is left of each limit with when \
     it resets. Read it before planning, and after a denial.";
/// The resource with the same answer.
pub(super) const RESOURCE_URI: &str = "truenas://policy";
/// Its name in resource listings.
pub(super) const RESOURCE_NAME: &str = "policy";
/// Its description in resource listings.
pub(super) const RESOURCE_DESCRIPTION: &str =
    "What this session may do, which actions wait for a person's sign-off, and the limits left (as `policy_status`)";

/// The mark a listing puts after an action, from its standing.
pub(super) fn mark(standing: &Standing) -> Option<String> {
    match standing {
        Standing::Denied(d) => Some(format!("[denied by policy: rule {}]", d.rule)),
        Standing::Allowed { approval: ApprovalStanding::Always, .. } => Some("[needs approval]".into()),
        Standing::Allowed { approval: ApprovalStanding::Sometimes, .. } => Some("[may need approval]".into()),
        Standing::Hidden | Standing::Allowed { approval: ApprovalStanding::Never, .. } => None,
    }
}

/// The flat tool.
pub(super) fn flat_tool() -> Tool {
    let schema = json!({"type": "object", "properties": {}, "additionalProperties": false});
    let schema: JsonObject = match schema {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    let annotations = ToolAnnotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    Tool::new(POLICY_STATUS, DESCRIPTION, Arc::new(schema)).with_annotations(annotations)
}

impl TrueNasServer {
    /// Whether `policy_status` exists for the caller (not hidden).
    pub(super) fn policy_status_offered(&self) -> bool {
        self.gateway.policy_status_standing() != Standing::Hidden
    }

    /// The server's own categories for the `truenas` tool: `policy`, unless hidden.
    pub(super) fn extra_categories(&self) -> Vec<(&'static str, &'static str, usize)> {
        if self.policy_status_offered() { vec![(CATEGORY, CATEGORY_DESCRIPTION, 1)] } else { Vec::new() }
    }

    /// Whether the flat listing shows `policy_status`.
    pub(super) fn policy_status_listed(&self) -> bool {
        self.gateway.listed(&self.gateway.policy_status_standing())
    }

    /// Asks the gateway, with this session's categories as what the answer covers.
    pub(super) async fn policy_status(
        &self,
        ctx: &RequestContext<RoleServer>,
        kind: RecordKind,
    ) -> Result<Value, CallError> {
        let grant = self.grant(ctx);
        let shown = |a: &ActionDef| self.in_scope(a);
        self.gateway.policy_status(&grant, Self::transport(ctx), kind, &shown).await
    }

    /// `policy_status` called as a tool (flat, or `truenas` with category `policy`).
    pub(super) async fn policy_status_call(&self, ctx: &RequestContext<RoleServer>) -> CallToolResult {
        match self.policy_status(ctx, RecordKind::Call).await {
            Ok(status) => reply::text(reply::pretty(&status)),
            Err(e) => reply::failure(&e, &[]),
        }
    }

    /// A `truenas` call in the `policy` category: its listing, `policy_status`, or an unknown
    /// action. `None` when the call is not for that category (or `policy_status` is hidden).
    pub(super) async fn policy_category(
        &self,
        ctx: &RequestContext<RoleServer>,
        args: Option<&JsonObject>,
    ) -> Option<CallToolResult> {
        let args = args?;
        if args.get("category").and_then(Value::as_str) != Some(CATEGORY) || !self.policy_status_offered() {
            return None;
        }
        let action = match args.get("action") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            // The shape errors are the generic path's.
            Some(_) => return None,
        };
        let (result, lookup) = match action {
            "" => {
                let mark = mark(&self.gateway.policy_status_standing()).map(|m| format!(" {m}")).unwrap_or_default();
                let text = format!(
                    "Category: {CATEGORY} — {CATEGORY_DESCRIPTION}\n\n1 available actions:\n\n  {POLICY_STATUS} — {DESCRIPTION}{mark}"
                );
                (reply::text(text), Lookup::ok("list_actions"))
            }
            POLICY_STATUS => return Some(self.policy_status_call(ctx).await),
            other => {
                let message =
                    format!("Unknown action \"{other}\" in category \"{CATEGORY}\". Available: {POLICY_STATUS}");
                let body = serde_json::to_string_pretty(&json!({"error": message})).unwrap_or(message);
                (reply::lookup_error(body), Lookup::failed(other, "unknown_action"))
            }
        };
        Some(self.answered(ctx, lookup, args, result).await)
    }
}
