//! What the raw escape hatch (`truenas_api_call`) may never do, whatever the policy says: reach
//! a hidden method (it answers as a path that does not exist), or call the middleware's own
//! methods that run other methods or act on the shared NAS session.

use serde_json::{Map, Value};

use super::audit_draft::AuditDraft;
use super::visible_under;
use super::{CallError, Gateway, HIDDEN_RULE};
use crate::catalog::MappingError;
use crate::ids::{ActionName, MethodName, RuleId};
use crate::policy::{Denial, PolicyEngine};
use truenas_api::rest::RestError;

/// The rule id of a raw call refused whatever the policy says (see [`Gateway::raw_refusal`]).
const RAW_RULE: &str = "(raw api)";

/// The middleware's own methods (`core.*` but `core.ping` and the job methods, `auth.*`): they
/// run other methods (`core.bulk`, `core.download`), open a debugger (`core.debug`) or change
/// the server's own shared NAS session (its login, event subscriptions, options). A raw call of
/// one would run a method no rule judged, or act for every grant at once. No policy opens them
/// to the raw API.
pub(super) fn is_session_or_meta_method(method: &MethodName) -> bool {
    let m = method.as_str();
    (m.starts_with("core.") && m != "core.ping" && !is_job_method(method)) || m.starts_with("auth.")
}

/// Methods that read or act on any job on the NAS, whoever started it.
pub(super) fn is_job_method(method: &MethodName) -> bool {
    method.as_str() == "core.get_jobs" || method.as_str().starts_with("core.job_")
}

impl Gateway {
    /// Whether a raw call of `method` would touch something the policy hides: the method
    /// itself, an action that calls it, or (a job method) `job_status`.
    pub(super) fn raw_hidden(&self, policy: &PolicyEngine, method: &MethodName) -> bool {
        let raw = ActionName::new("truenas_api_call");
        policy.is_hidden(&raw, method)
            || (is_job_method(method) && !super::jobs::jobs_visible_under(policy))
            || self
                .catalog
                .actions()
                .any(|a| !a.is_rest_call() && a.methods().any(|m| m == method) && !visible_under(policy, a))
    }

    /// Answers a raw call of a hidden method exactly as a path that names no method; the audit
    /// record still says why.
    pub(super) async fn raw_absent(&self, audit: &AuditDraft<'_>, args: &Map<String, Value>) -> CallError {
        let text = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default();
        let rule = RuleId::new(HIDDEN_RULE);
        let reason = "a raw call of a method the policy hides".to_string();
        let hidden = CallError::Denied(Denial { rule: rule.clone(), reason: reason.clone(), retry_after: None });
        audit.refused(Some(rule), Some(reason), &hidden).await;
        CallError::Mapping(MappingError::Rest(RestError::NoMethod {
            verb: text("method").to_ascii_uppercase(),
            path: text("path").to_string(),
        }))
    }

    /// The refusal of a raw call that no policy rule may open: a method that runs others or
    /// changes the shared session, or a job method while jobs are served to their owners only.
    pub(super) fn raw_refusal(&self, policy: &PolicyEngine, method: &MethodName) -> Option<Denial> {
        let reason = if is_session_or_meta_method(method) {
            format!(
                "`{method}` runs other methods or changes the server's own TrueNAS session: it cannot be called raw"
            )
        } else if is_job_method(method) && !policy.any_job() {
            format!(
                "`{method}` reaches every job on the NAS; jobs are served only to the grant that started them \
                 (`truenas://jobs/{{id}}`) unless `tools.job_status` sets `x-any-job`"
            )
        } else {
            return None;
        };
        Some(Denial { rule: RuleId::new(RAW_RULE), reason, retry_after: None })
    }
}
