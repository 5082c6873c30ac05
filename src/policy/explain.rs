//! `truenas-mcp policy explain`: one call decided as the server would decide it, with every
//! rule the decision considered (the trace the real `decide` records, not a second copy of the
//! precedence). Limits start from fresh counters.

use std::fmt;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Decision, PolicyEngine, Request, Step};
use crate::catalog::{ArgsError, Catalog};
use crate::ids::GrantId;

/// Why a call cannot be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// No action of that name.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// The arguments break the action's schema: the call would be refused before the policy.
    #[error("the arguments are invalid, so the call would be refused before the policy: {0}")]
    InvalidArgs(ArgsError),
}

/// A decision and how it was reached.
#[derive(Debug, Serialize)]
pub struct Explanation {
    /// `allow`, `deny` or `approve`.
    pub decision: &'static str,
    /// The deciding rule: the one that allowed, denied or asks.
    pub rule: Option<String>,
    /// A denial's reason.
    pub reason: Option<String>,
    /// A limit's seconds until it has room again.
    pub retry_after: Option<u64>,
    /// Shadow mode: the advisory rule that would have denied the (allowed) call, and why.
    pub would_deny: Option<(String, String)>,
    /// Shadow mode: the advisory rule that would have asked a person.
    pub would_approve: Option<String>,
    /// The action, its method and risk.
    pub action: String,
    /// The middleware method decided on.
    pub method: String,
    /// The action's risk class.
    pub risk: &'static str,
    /// Who calls.
    pub grant: String,
    /// The call lacks `confirm: true` on a gated action: refused before the policy would run.
    pub unconfirmed: bool,
    /// SHA-256 of the policy file.
    pub policy_sha256: String,
    /// Every rule considered, in precedence order.
    pub steps: Vec<Step>,
}

/// Decides `action` with `args` for `grant` at `at`, recording every rule considered.
pub fn explain(
    engine: &PolicyEngine,
    catalog: &Catalog,
    action: &str,
    args: &Map<String, Value>,
    grant: &GrantId,
    at: SystemTime,
) -> Result<Explanation, ExplainError> {
    let def = catalog.action(action).ok_or_else(|| ExplainError::UnknownAction(action.to_owned()))?;
    // A hidden action is refused as absent before its arguments are read; the trace says so.
    let hidden = def.methods().any(|method| engine.is_hidden(&def.name, method));
    if !hidden {
        def.validate_args(args).map_err(ExplainError::InvalidArgs)?;
    }
    let effective = def.effective_args(args);
    let req = Request { grant, action: &def.name, method: &def.method, risk: def.risk, args: &effective };
    let (decision, steps) = engine.explain(&req, at);
    let mut out = Explanation {
        decision: "allow",
        rule: None,
        reason: None,
        retry_after: None,
        would_deny: None,
        would_approve: None,
        action: def.name.to_string(),
        method: def.method.to_string(),
        risk: def.risk.as_str(),
        grant: grant.to_string(),
        unconfirmed: !def.confirmed(args),
        policy_sha256: engine.sha256().to_owned(),
        steps,
    };
    match decision {
        Decision::Allow(permit) => {
            out.rule = permit.rule().map(ToString::to_string);
            out.would_deny = permit.would_deny().map(|d| (d.rule.to_string(), d.reason.clone()));
            out.would_approve = permit.would_approve().map(ToString::to_string);
            // Nothing is sent: the counters are this run's own, but give the slots back anyway.
            permit.rollback();
        }
        Decision::Deny(denial) => {
            out.decision = "deny";
            out.rule = Some(denial.rule.to_string());
            out.reason = Some(denial.reason);
            out.retry_after = denial.retry_after.map(super::limits::whole_seconds_up);
        }
        Decision::NeedsApproval(need) => {
            out.decision = "approve";
            out.rule = Some(need.rule.to_string());
        }
    }
    Ok(out)
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decision: {}", self.decision)?;
        if let Some(rule) = &self.rule {
            writeln!(f, "rule: {rule}")?;
        }
        if let Some(reason) = &self.reason {
            writeln!(f, "reason: {reason}")?;
        }
        if let Some(secs) = self.retry_after {
            writeln!(f, "retry after: {secs} s")?;
        }
        if let Some((rule, reason)) = &self.would_deny {
            writeln!(f, "shadow: would deny (rule: {rule}): {reason}")?;
        }
        if let Some(rule) = &self.would_approve {
            writeln!(f, "shadow: would ask for approval (rule: {rule})")?;
        }
        writeln!(f, "call: {} ({}, {}) by grant `{}`", self.action, self.method, self.risk, self.grant)?;
        if self.unconfirmed {
            writeln!(f, "note: without `confirm: true` this call is refused before the policy is asked")?;
        }
        writeln!(f, "policy: sha256:{}", self.policy_sha256)?;
        writeln!(f, "considered, in precedence order:")?;
        for s in &self.steps {
            writeln!(f, "  {:<8}  {:<15}  {}  -- {}", s.outcome, s.check, s.rule, s.why)?;
        }
        Ok(())
    }
}
