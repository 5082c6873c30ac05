//! The one path every call takes, whatever the transport (MCP tool, resource read, the `call`
//! subcommand): resolve the action, validate its arguments, check the confirm gate, build the
//! middleware params, ask the policy, call the NAS, audit it, and mask secrets in the result.
//!
//! Auditing fails closed: an allowed call's `decided` record is written before the NAS is called,
//! and if it cannot be written the call is refused with nothing sent. Refusals and other requests
//! that never reach the NAS write one record; errors are recorded without values
//! ([`CallError::summary`]).
//!
//! A call the policy allows only with a person's approval takes the approval step
//! (`approval.rs`): it goes out only once an approved record bound to it is used.
//!
//! Files: this one (the call path), `authorize` (the policy question for a call and its raw
//! twins, and the shadow policy's answer to it), `approval` (approval records,
//! answers, elicitation hook), `audit_draft` (the records of one request), `jobs` (jobs belong
//! to their grant; `truenas://jobs/{id}`), `raw` (what the raw API may never reach), `status`
//! (where the caller stands: standings for listings, `policy_status`), `metrics` (what
//! `/metrics` reports), `error` (`CallError`, what a call that fails says, and its audit summary).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::catalog::{ActionDef, Catalog, MappingError, RawReading};
use crate::ids::{GrantId, MethodName, RuleId};
use crate::nas::{CallOptions, CallOutcome, NasClient, ProgressSink};
use crate::policy::{
    AuditLog, AuditTransport, AuditWriteError, Denial, ErrorSummary, Outcome, Permit, Phase, PolicyEngine,
    PolicyHolder, PolicyNotes, RecordKind, Request, WouldApprove, WouldDeny,
};
use crate::schema::Release;
use crate::state::approvals::{ApprovalError, ApprovalStore};
use truenas_api::rest::RestError;

mod approval;
mod audit_draft;
mod authorize;
mod error;
mod jobs;
mod metrics;
mod raw;
mod status;

use audit_draft::{AuditDraft, audit_name};
use authorize::{Authorized, ShadowPolicy};
use jobs::{OwnedJobs, started_job};

pub use approval::{Answer, Asked, Asker};
pub use error::CallError;
pub use jobs::MAX_JOBS_PER_GRANT;

/// One call as a transport hands it over.
pub struct Invocation<'a> {
    /// Who is calling.
    pub grant: &'a GrantId,
    /// The action name.
    pub action: &'a str,
    /// The arguments, as the agent sent them.
    pub args: Map<String, Value>,
    /// Receives job progress, if the caller wants it.
    pub progress: Option<ProgressSink>,
    /// Cancels the call (aborts a running job).
    pub cancel: CancellationToken,
    /// How the call came in, for the audit log.
    pub transport: AuditTransport,
    /// What the call is (a tool call or a resource read), for the audit log.
    pub kind: RecordKind,
}

/// A request that the MCP layer answers itself (a listing, a lookup failure, a refusal of the
/// call's shape, an unknown resource): audited like a call, with no NAS involved.
pub struct Event<'a> {
    /// Who asked.
    pub grant: &'a GrantId,
    /// How the request came in.
    pub transport: AuditTransport,
    /// What it was.
    pub kind: RecordKind,
    /// The action asked about (or a word for what was asked, like `list_categories`).
    pub action: &'a str,
    /// The arguments given, digested (never recorded as values).
    pub args: &'a Map<String, Value>,
    /// What went wrong, if anything did.
    pub error: Option<ErrorSummary>,
}

/// The guarded path to the NAS.
pub struct Gateway {
    catalog: Arc<Catalog>,
    // The policy in force; a reload swaps it, and each call decides with one snapshot.
    policy: Arc<PolicyHolder>,
    // `--shadow-policy`: decided beside the active policy, never changing an outcome.
    shadow: Option<ShadowPolicy>,
    nas: NasClient,
    audit: AuditLog,
    // How long a call waits for its job before answering with a handle to it.
    job_budget: Duration,
    // The jobs each grant started through this server: the only ones it may read.
    jobs: Mutex<HashMap<GrantId, OwnedJobs>>,
    // Pending and answered approvals: the only authority for a call that needs one.
    approvals: Arc<ApprovalStore>,
    // What `/metrics` reports.
    metrics: metrics::Metrics,
}

/// The policy's name for reading a job's state (`truenas://jobs/{id}`): not an action of the
/// tool set, but decided, limited and audited like one (method `core.get_jobs`, risk read).
pub const JOB_STATUS: &str = "job_status";

/// The policy's name for asking where the caller stands (`policy_status`, `truenas://policy`):
/// answered by this server from its policy, never by the NAS, but decided and audited like a
/// read. Its method in audit records is its own name.
pub const POLICY_STATUS: &str = "policy_status";

/// The release whose methods an action names in its `method` (routes cover the others): calls
/// are routed for it, and flat tools list its output schemas, while no NAS was ever reached.
pub const DEFAULT_RELEASE: Release = Release::V25_10;

/// How long a call waits for its job by default: under the 60 s request timeout many MCP
/// clients apply.
pub const DEFAULT_JOB_BUDGET: Duration = Duration::from_secs(50);

impl Gateway {
    /// Puts the pieces together.
    pub fn new(catalog: Arc<Catalog>, policy: Arc<PolicyEngine>, nas: NasClient, audit: AuditLog) -> Gateway {
        Gateway {
            catalog,
            policy: Arc::new(PolicyHolder::new(policy)),
            shadow: None,
            nas,
            audit,
            job_budget: DEFAULT_JOB_BUDGET,
            jobs: Mutex::default(),
            approvals: ApprovalStore::in_memory(),
            metrics: metrics::Metrics::default(),
        }
    }

    /// The metrics in the Prometheus text format (0.0.4), for `/metrics`.
    pub fn metrics_text(&self) -> String {
        let now = crate::state::approvals::unix(SystemTime::now());
        let pending = self
            .approvals
            .list()
            .iter()
            .filter(|r| r.status == crate::state::approvals::Status::Pending && r.expires >= now)
            .count();
        self.metrics.render(pending)
    }

    /// Keeps approvals in `store` (persistent, shared with the control socket) instead of in
    /// memory.
    pub fn with_approvals(mut self, store: Arc<ApprovalStore>) -> Gateway {
        self.approvals = store;
        self
    }

    /// The policy in force now (a snapshot: a reload does not change it).
    pub fn policy(&self) -> Arc<PolicyEngine> {
        self.policy.current()
    }

    /// Where the policy in force is held, for reloading it.
    pub fn policy_holder(&self) -> &Arc<PolicyHolder> {
        &self.policy
    }

    /// Evaluates `shadow` beside the active policy on every call (`--shadow-policy`): it never
    /// changes an outcome, and each disagreement is audited and counted in the log.
    pub fn with_shadow_policy(mut self, shadow: Arc<PolicyEngine>) -> Gateway {
        let holder = Arc::new(PolicyHolder::new(shadow));
        self.shadow = Some(ShadowPolicy { holder, disagreements: AtomicU64::new(0) });
        self
    }

    /// Where the shadow policy is held, if there is one, for reloading it.
    pub fn shadow_holder(&self) -> Option<&Arc<PolicyHolder>> {
        self.shadow.as_ref().map(|s| &s.holder)
    }

    /// The audit log.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// Changes how long a call waits for its job before answering with a handle.
    pub fn with_job_budget(mut self, budget: Duration) -> Gateway {
        self.job_budget = budget;
        self
    }

    /// The tool set.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The NAS client.
    pub fn nas(&self) -> &NasClient {
        &self.nas
    }

    /// Whether the policy lets agents see the action at all: hiding any method it may call
    /// (on any release) hides it.
    pub fn is_visible(&self, action: &ActionDef) -> bool {
        visible_under(&self.policy(), action)
    }

    /// The release calls are routed for: the connected NAS's, connecting first if need be.
    /// When the NAS cannot be reached the current releases' methods are used; the call then
    /// fails at the NAS as before (or is denied first, without ever reaching it).
    async fn release(&self) -> Release {
        if let Some(release) = self.nas.release().await {
            return release;
        }
        match self.nas.connect().await {
            Ok(_) => self.nas.release().await.unwrap_or(DEFAULT_RELEASE),
            Err(e) => {
                tracing::debug!(error = %e, "routing for the current releases: TrueNAS is not reachable");
                DEFAULT_RELEASE
            }
        }
    }

    /// Writes the audit record of a request the MCP layer answers itself. An error means the
    /// record is lost (already logged at error level); the caller refuses the request.
    pub async fn audit_event(&self, event: Event<'_>) -> Result<(), AuditWriteError> {
        let action = audit_name(event.action);
        let draft = AuditDraft::new(self, event.grant, event.transport, event.kind, &action, event.args);
        let (phase, outcome) = match event.error {
            None => (Phase::Done, Outcome::Ok),
            Some(_) => (Phase::Refused, Outcome::Rejected),
        };
        draft.write(phase, None, None, None, outcome, event.error, None).await
    }

    /// Runs one call through every check, then the NAS. A refused call writes one audit record;
    /// an allowed one writes `decided` before the NAS is called (refusing the call if that
    /// fails) and `done` after.
    pub async fn execute(&self, call: Invocation<'_>) -> Result<CallOutcome, CallError> {
        self.execute_asking(call, None).await
    }

    /// [`Gateway::execute`], with a way to ask a person (the client's elicitation) when the call
    /// needs an approval; the answer goes through [`Gateway::answer_approval`] like any other.
    pub async fn execute_asking(&self, call: Invocation<'_>, asker: Option<Asker>) -> Result<CallOutcome, CallError> {
        // One snapshot of the policy decides, audits and binds the whole call.
        let policy = self.policy();
        let Some(action) = self.catalog.action(call.action) else {
            let name = audit_name(call.action);
            let audit = AuditDraft::new(self, call.grant, call.transport, call.kind, &name, &call.args).under(&policy);
            let err = CallError::UnknownAction(call.action.to_string());
            audit.refused(None, None, &err).await;
            return Err(err);
        };
        // Hidden answers exactly as absent, before anything else (argument checks included)
        // could tell that the action exists. The operator's audit still says why.
        if !visible_under(&policy, action) {
            let audit =
                AuditDraft::new(self, call.grant, call.transport, call.kind, &action.name, &call.args).under(&policy);
            let rule = RuleId::new(HIDDEN_RULE);
            let reason = format!("action `{}` is hidden by this policy", action.name);
            let hidden = CallError::Denied(Denial { rule: rule.clone(), reason: reason.clone(), retry_after: None });
            audit.refused(Some(rule), Some(reason), &hidden).await;
            return Err(CallError::UnknownAction(call.action.to_string()));
        }
        // What the policy and the audit digest see: the arguments the params are built from.
        let args = action.effective_args(&call.args);
        let mut audit =
            AuditDraft::new(self, call.grant, call.transport, call.kind, &action.name, &args).under(&policy);
        audit.method = Some(action.method.clone());
        let at = audit.at;

        // Validated once: the mapping below takes what the validator returns.
        let valid = match action.validate_args(&call.args) {
            Ok(valid) => valid,
            Err(error) => {
                let err = CallError::InvalidArgs { action: action.name.clone(), error };
                audit.refused(None, None, &err).await;
                return Err(err);
            }
        };
        if !action.confirmed(&call.args) {
            let err = CallError::NotConfirmed { refusal: action.confirm.clone().unwrap_or_default() };
            audit.refused(None, None, &err).await;
            return Err(err);
        }
        let release = self.release().await;
        let (method, params) = match action.resolve_for(release, &valid) {
            Ok(resolved) => resolved,
            // A body error names its method: a hidden one must read like an unknown path.
            Err(MappingError::Rest(RestError::Body { method, .. }))
                if action.is_rest_call() && self.raw_hidden(&policy, &MethodName::new(method.as_str())) =>
            {
                audit.method = Some(MethodName::new(method.as_str()));
                return Err(self.raw_absent(&audit, &args).await);
            }
            Err(e) => {
                let err = CallError::Mapping(e);
                audit.refused(None, None, &err).await;
                return Err(err);
            }
        };
        audit.method = Some(method.clone());
        if action.is_rest_call() {
            // Hidden answers as absent for the raw API too, before any check could tell more.
            if self.raw_hidden(&policy, &method) {
                return Err(self.raw_absent(&audit, &args).await);
            }
            if let Some(denial) = self.raw_refusal(&policy, &method) {
                let (rule, reason) = (Some(denial.rule.clone()), Some(denial.reason.clone()));
                let err = CallError::Denied(denial);
                audit.refused(rule, reason, &err).await;
                return Err(err);
            }
        }
        // A raw call stands for its method's twin actions: their arguments, risk and gate.
        let raw = action.is_rest_call().then(|| self.catalog.read_raw(release, &method, &params));
        if let Some(error) = raw.as_ref().and_then(RawReading::invalid) {
            let err = CallError::InvalidArgs { action: error.action.clone(), error };
            audit.refused(None, None, &err).await;
            return Err(err);
        }
        let risk = raw.as_ref().map_or(action.risk, |r| r.risk);
        let request = Request { grant: call.grant, action: &action.name, method: &method, risk, args: &args };
        let refuse = |denial: Denial| {
            let rule = Some(denial.rule.clone());
            let reason = Some(denial.reason.clone());
            (rule, reason, CallError::Denied(denial))
        };
        let active = self.authorize(&policy, &request, raw.as_ref(), at, false);
        audit.notes.shadow_disagreement = self.shadow_disagreement(&active, &request, raw.as_ref(), at);
        let (mut permit, mut laundering_checks, need) = match active {
            Ok(Authorized::Allowed(permit, checks)) => (Some(*permit), checks, None),
            Ok(Authorized::NeedsApproval(need)) => (None, Vec::new(), Some(need)),
            Err(denial) => {
                let (rule, reason, err) = refuse(denial);
                audit.refused(rule, reason, &err).await;
                return Err(err);
            }
        };
        // The twins' confirm gate, after the policy so that a denied call learns nothing more,
        // and before approval so that a person is never asked about a call that would be refused.
        if let Some(refusal) = raw.as_ref().and_then(|r| r.refusal(&args)) {
            refund(permit, laundering_checks);
            let err = CallError::NotConfirmed { refusal };
            audit.refused(None, None, &err).await;
            return Err(err);
        }
        // Approval (a raw call standing for an action that needs one needs the same): find or
        // ask for the record bound to this call; only an approved one lets it through, and the
        // policy is asked again (limits spent meanwhile still deny).
        // A client that declared elicitation is asked through `asker` before the call answers
        // `[APPROVAL REQUIRED]`; its answer goes through `answer_approval`.
        let mut approval = None;
        if let Some(need) = need {
            let id = match self.approval_for(&audit, &need, &method, &params, risk, &call, asker).await {
                Ok(id) => id,
                Err(err) => {
                    let rule = Some(need.rule.clone());
                    audit.refused(rule, None, &err).await;
                    return Err(err);
                }
            };
            // The approval is bound to this call's policy; if another was put in force while
            // the call waited, the approval no longer speaks for the policy that now decides.
            if self.policy().sha256() != policy.sha256() {
                let denial = Denial { rule: RuleId::new(RELOADED_RULE), reason: RELOADED.into(), retry_after: None };
                let (rule, reason, err) = refuse(denial);
                audit.refused(rule, reason, &err).await;
                return Err(err);
            }
            match self.authorize(&policy, &request, raw.as_ref(), SystemTime::now(), true) {
                Ok(Authorized::Allowed(p, checks)) => {
                    permit = Some(*p);
                    laundering_checks = checks;
                }
                Ok(Authorized::NeedsApproval(_)) => {
                    let err = CallError::ApprovalState(ApprovalError::Unknown(id));
                    audit.refused(None, None, &err).await;
                    return Err(err);
                }
                Err(denial) => {
                    let (rule, reason, err) = refuse(denial);
                    audit.refused(rule, reason, &err).await;
                    return Err(err);
                }
            }
            approval = Some(id);
        }
        let Some(permit) = permit else {
            // INVARIANT: every branch above either set the permit or returned.
            let err = CallError::ApprovalState(ApprovalError::Unknown("(none)".into()));
            audit.refused(None, None, &err).await;
            return Err(err);
        };
        let rule = permit.rule().cloned();
        // Shadow mode: what an advisory rule would have done, on the `decided` record.
        let shadow = std::iter::once(&permit).chain(&laundering_checks).map(shadow_notes);
        for found in shadow {
            audit.notes.would_deny = audit.notes.would_deny.take().or(found.would_deny);
            audit.notes.would_approve = audit.notes.would_approve.take().or(found.would_approve);
        }
        // Fail closed, twice: counts not durable, or a decision not recorded, and nothing is
        // sent. Without an approval to use, the two writes are awaited together.
        let settled = match &approval {
            None => audit.save_and_decide(rule.clone()).await,
            // In turn: the counts saved, then the approval marked used (single use: saved and
            // recorded before anything is sent), then the decision recorded.
            Some(id) => match audit.save().await {
                Err(err) => Err(err),
                Ok(()) => match self.use_approval(&audit, id).await {
                    Err(err) => {
                        audit.refused(None, None, &err).await;
                        Err(err)
                    }
                    Ok(()) => audit.decided(rule.clone()).await.map_err(CallError::AuditUnavailable),
                },
            },
        };
        if let Err(err) = settled {
            refund(Some(permit), laundering_checks);
            return Err(err);
        }
        // Reads the call makes first (`[[action.lookup]]`): after the decision and its record,
        // under the call's permit, so a denied call reads nothing and the audit holds one call.
        let params = if action.has_lookups() {
            match self.looked_up(action, release, &args, &permit).await {
                Ok(params) => params,
                Err(err) => {
                    refund(Some(permit), laundering_checks);
                    audit.failed(rule, &err).await;
                    return Err(err);
                }
            }
        } else {
            params
        };
        let options = CallOptions {
            read_only: risk == crate::ids::Risk::Read,
            progress: call.progress,
            cancel: call.cancel,
            job_budget: Some(self.job_budget),
        };
        let job = crate::schema::MethodTable::get(release).is_job(method.as_str()).unwrap_or(false);
        let in_flight = self.metrics.in_flight(job);
        let sent = std::time::Instant::now();
        let result = self.nas.call(permit, params, options).await;
        self.metrics.nas_latency(sent.elapsed());
        drop(in_flight);
        match &result {
            Err(e) if e.nothing_sent() => laundering_checks.into_iter().for_each(Permit::rollback),
            _ => drop(laundering_checks),
        }
        audit.finished(rule, result.as_ref().map(|done| done.job)).await;
        if let Some(job) = started_job(&result) {
            self.own_job(call.grant, job);
        }
        let mut done = result.map_err(CallError::Nas)?;
        crate::redact::redact_with(&mut done.result, &crate::redact::secret_values(&call.args));
        if let Some(note) = &action.result_note {
            let result = std::mem::take(&mut done.result);
            done.result = serde_json::json!({ "note": note, "result": result });
        }
        Ok(done)
    }

    /// Makes the reads an allowed call needs first and builds its params from the arguments
    /// they complete; the filled arguments are checked like the agent's own.
    async fn looked_up(
        &self,
        action: &ActionDef,
        release: Release,
        args: &Map<String, Value>,
        permit: &Permit,
    ) -> Result<Value, CallError> {
        let mut filled = args.clone();
        for read in action.lookups_for(release, args).map_err(CallError::Mapping)? {
            let result = self.nas.read_for(permit, &read.method, read.params.clone()).await.map_err(CallError::Nas)?;
            action.apply_lookup(&read, &result, &mut filled).map_err(CallError::Mapping)?;
        }
        let (_, params) = action.check_and_resolve_for(release, &filled).map_err(CallError::Mapping)?;
        Ok(params)
    }
}

/// Gives back what a call reserved (its permit's limit counts and its laundering checks') when
/// it stops before anything is sent: the one way a stopped call refunds.
fn refund(permit: Option<Permit>, laundering_checks: Vec<Permit>) {
    permit.into_iter().chain(laundering_checks).for_each(Permit::rollback);
}

/// What an advisory (`x-mode: shadow`) rule would have done to an allowed call.
pub(super) fn shadow_notes(permit: &Permit) -> PolicyNotes {
    PolicyNotes {
        would_deny: permit
            .would_deny()
            .map(|d| WouldDeny { rule: d.rule.clone(), reason: crate::redact::scrub_text(&d.reason) }),
        would_approve: permit.would_approve().map(|rule| WouldApprove { rule: rule.clone() }),
        ..PolicyNotes::default()
    }
}

/// Whether `policy` lets agents see the action at all: hiding any method it may call (on any
/// release) hides it.
pub(super) fn visible_under(policy: &PolicyEngine, action: &ActionDef) -> bool {
    !action.methods().any(|method| policy.is_hidden(&action.name, method))
}

/// The rule id of a call refused because the policy was reloaded while it waited for approval.
const RELOADED_RULE: &str = "(policy reloaded)";
const RELOADED: &str = "the policy was reloaded while this call waited for approval; call again to have it decided under the policy now in force";

/// The rule id audit records carry for a call of a hidden action (the policy's own).
pub(super) const HIDDEN_RULE: &str = "(hidden)";
