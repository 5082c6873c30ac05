//! The policy question for one call: [`Gateway::authorize`] asks the active policy about the
//! call and, for a raw call, about every twin action it stands for (so the escape hatch cannot
//! launder an operation the policy denies); the shadow policy (`--shadow-policy`) is asked the
//! same question beside it and only ever noted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde_json::Map;

use super::raw::is_job_method;
use super::{Gateway, JOB_STATUS};
use crate::catalog::RawReading;
use crate::ids::{ActionName, RuleId};
use crate::policy::{
    ApprovalNeed, ArgScope, Decision, Denial, MethodRules, Permit, PolicyEngine, PolicyHolder, Request,
    ShadowDisagreement,
};

/// A second policy evaluated beside the active one (`--shadow-policy`), with its own counters.
pub(super) struct ShadowPolicy {
    pub(super) holder: Arc<PolicyHolder>,
    // How many calls it has decided otherwise than the active policy, for the log.
    pub(super) disagreements: AtomicU64,
}

impl Gateway {
    /// Asks the policy about the call. A raw call (its method named by its arguments) must
    /// also pass the rules of every twin action it stands for, as if that action had been
    /// called with the arguments recovered from the params (an argument that cannot be told
    /// fails any rule that reads it), so the escape hatch cannot launder an operation the
    /// policy denies. The method's own entry is checked with each twin's arguments, or, when
    /// no action calls the method, blind (any predicate denies).
    pub(super) fn authorize(
        &self,
        policy: &PolicyEngine,
        request: &Request<'_>,
        raw: Option<&RawReading<'_>>,
        at: SystemTime,
        approved: bool,
    ) -> Result<Authorized, Denial> {
        let decide = |req: &Request<'_>, scope: ArgScope<'_>| {
            if approved { policy.authorize_approved(req, scope, at) } else { policy.authorize_scoped(req, scope, at) }
        };
        let method_rules = match raw {
            None => MethodRules::Check,
            Some(r) if r.twins.is_empty() => MethodRules::Opaque,
            Some(_) => MethodRules::PerTwin,
        };
        // A need for approval (the call's own, or any twin's) is kept while the rest is
        // checked: a call some rule denies is never put to a person.
        let mut need: Option<ApprovalNeed> = None;
        let permit = match decide(request, ArgScope { unknown: None, method_rules }) {
            Decision::Allow(permit) => Some(permit),
            Decision::Deny(denial) => return Err(denial),
            Decision::NeedsApproval(n) => {
                need = Some(n);
                None
            }
        };
        let mut checks = Vec::new();
        let give_back = |permit: Option<Permit>, checks: Vec<Permit>| {
            permit.into_iter().for_each(Permit::rollback);
            checks.into_iter().for_each(Permit::rollback);
        };
        if let Some(raw) = raw {
            // A raw job method is also a read of `job_status`, of a job it cannot tell.
            let job_status = ActionName::new(JOB_STATUS);
            let job_id: std::collections::BTreeSet<String> = ["id".to_string()].into();
            let no_args = Map::new();
            let job_read = is_job_method(request.method).then(|| {
                let as_job = Request { action: &job_status, risk: crate::ids::Risk::Read, args: &no_args, ..*request };
                (as_job, ArgScope { unknown: Some(&job_id), method_rules: MethodRules::Twin })
            });
            let as_twins = raw.twins.iter().map(|(twin, recovered)| {
                let as_twin = Request { action: &twin.name, risk: twin.risk, args: &recovered.known, ..*request };
                (as_twin, ArgScope { unknown: Some(&recovered.unknown), method_rules: MethodRules::Twin })
            });
            for (as_twin, scope) in job_read.into_iter().chain(as_twins) {
                match decide(&as_twin, scope) {
                    Decision::Allow(p) => checks.push(p),
                    Decision::Deny(denial) => {
                        give_back(permit, checks);
                        return Err(denial);
                    }
                    Decision::NeedsApproval(n) => {
                        need.get_or_insert(n);
                    }
                }
            }
        }
        match (permit, need) {
            (Some(permit), None) => Ok(Authorized::Allowed(Box::new(permit), checks)),
            (permit, Some(need)) => {
                // Nothing is spent while approval is pending.
                give_back(permit, checks);
                Ok(Authorized::NeedsApproval(need))
            }
            (None, None) => unreachable_denial(),
        }
    }
}

impl Gateway {
    /// Decides the call with the shadow policy too, if there is one: `Some` when it decides
    /// otherwise than the active policy did (`active`). Its permits are dropped at once (its
    /// own counters keep the call, as they would have had it been in force).
    pub(super) fn shadow_disagreement(
        &self,
        active: &Result<Authorized, Denial>,
        request: &Request<'_>,
        raw: Option<&RawReading<'_>>,
        at: SystemTime,
    ) -> Option<ShadowDisagreement> {
        let shadow = self.shadow.as_ref()?;
        let engine = shadow.holder.current();
        let (shadow_said, shadow_rule) = match self.authorize(&engine, request, raw, at, false) {
            Ok(Authorized::Allowed(permit, _)) => ("allow", permit.rule().cloned()),
            Ok(Authorized::NeedsApproval(need)) => ("approve", Some(need.rule)),
            Err(denial) => ("deny", Some(denial.rule)),
        };
        let active_said = match active {
            Ok(Authorized::Allowed(..)) => "allow",
            Ok(Authorized::NeedsApproval(_)) => "approve",
            Err(_) => "deny",
        };
        if active_said == shadow_said {
            return None;
        }
        let count = shadow.disagreements.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(
            action = %request.action,
            active = active_said,
            shadow = shadow_said,
            shadow_rule = shadow_rule.as_ref().map_or("-", |r| r.as_str()),
            disagreements = count,
            "shadow policy disagrees"
        );
        Some(ShadowDisagreement { active: active_said, shadow: shadow_said, shadow_rule })
    }
}

/// What the policy said about a call and its twins.
pub(super) enum Authorized {
    /// Allowed: the call's permit and its twins' (limit slots to keep or refund).
    Allowed(Box<Permit>, Vec<Permit>),
    /// Allowed once a person approves it; nothing reserved.
    NeedsApproval(ApprovalNeed),
}

/// A decision with neither permit nor need cannot happen; it denies if it ever does.
fn unreachable_denial() -> Result<Authorized, Denial> {
    Err(Denial { rule: RuleId::new("(internal)"), reason: "the policy gave no decision".into(), retry_after: None })
}
