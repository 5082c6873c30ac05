//! The one path every call takes, whatever the transport (MCP tool, resource read, the `call`
//! subcommand): resolve the action, validate its arguments, check the confirm gate, build the
//! middleware params, ask the policy, call the NAS, write one audit record, and mask secrets in
//! the result.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::catalog::{ActionDef, ArgsError, Catalog, MappingError, RawReading};
use crate::ids::{ActionName, GrantId, JobId, MethodName};
use crate::nas::{CallOptions, CallOutcome, NasClient, NasError, ProgressSink};
use crate::policy::{
    ArgScope, AuditDecision, AuditLog, AuditRecord, Decision, Denial, MethodRules, Outcome, Permit, PolicyEngine,
    Request,
};
use crate::schema::Release;

/// Why a call produced no result. Each variant has one wire form, chosen in `mcp::reply`.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No action of that name.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// The arguments break the action's schema; nothing was sent.
    #[error("{error}")]
    InvalidArgs {
        /// The action called.
        action: ActionName,
        /// Every problem found.
        error: ArgsError,
    },
    /// A gated action without `confirm: true`; nothing was sent.
    #[error("{refusal}")]
    NotConfirmed {
        /// The action's refusal text.
        refusal: String,
    },
    /// The policy said no; nothing was sent.
    #[error("{0}")]
    Denied(Denial),
    /// The arguments could not be turned into middleware params; nothing was sent.
    #[error("{0}")]
    Mapping(MappingError),
    /// The NAS call failed.
    #[error("{0}")]
    Nas(NasError),
}

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
}

/// The guarded path to the NAS.
pub struct Gateway {
    catalog: Arc<Catalog>,
    policy: Arc<PolicyEngine>,
    nas: NasClient,
    audit: AuditLog,
    // How long a call waits for its job before answering with a handle to it.
    job_budget: Duration,
}

/// The policy's name for reading a job's state (`truenas://jobs/{id}`): not an action of the
/// tool set, but decided, limited and audited like one (method `core.get_jobs`, risk read).
pub const JOB_STATUS: &str = "job_status";

/// The release whose methods an action names in its `method` (routes cover the others).
const DEFAULT_RELEASE: Release = Release::V25_10;

/// How long a call waits for its job by default: under the 60 s request timeout many MCP
/// clients apply.
pub const DEFAULT_JOB_BUDGET: Duration = Duration::from_secs(50);

impl Gateway {
    /// Puts the pieces together.
    pub fn new(catalog: Arc<Catalog>, policy: Arc<PolicyEngine>, nas: NasClient, audit: AuditLog) -> Gateway {
        Gateway { catalog, policy, nas, audit, job_budget: DEFAULT_JOB_BUDGET }
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
        !action.methods().any(|method| self.policy.is_hidden(&action.name, method))
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

    /// Runs one call through every check, then the NAS; always writes one audit record.
    pub async fn execute(&self, call: Invocation<'_>) -> Result<CallOutcome, CallError> {
        let started = Instant::now();
        let at = SystemTime::now();
        let Some(action) = self.catalog.action(call.action) else {
            return Err(CallError::UnknownAction(call.action.to_string()));
        };
        // What the policy and the audit digest see: the arguments the params are built from.
        let args = action.effective_args(&call.args);
        let mut audit = AuditDraft {
            gateway: self,
            grant: call.grant,
            action: &action.name,
            method: action.method.clone(),
            args: &args,
            at,
            started,
        };

        if let Err(error) = action.validate_args(&call.args) {
            let err = CallError::InvalidArgs { action: action.name.clone(), error };
            audit.refused(None, &err);
            return Err(err);
        }
        if !action.confirmed(&call.args) {
            let err = CallError::NotConfirmed { refusal: action.confirm.clone().unwrap_or_default() };
            audit.refused(None, &err);
            return Err(err);
        }
        let release = self.release().await;
        let (method, params) = match action.resolve_for(release, &args) {
            Ok(resolved) => resolved,
            Err(e) => {
                let err = CallError::Mapping(e);
                audit.refused(None, &err);
                return Err(err);
            }
        };
        audit.method = method.clone();
        // A raw call stands for its method's twin actions: their arguments, risk and gate.
        let raw = action.is_rest_call().then(|| self.catalog.read_raw(release, &method, &params));
        if let Some(error) = raw.as_ref().and_then(RawReading::invalid) {
            let err = CallError::InvalidArgs { action: error.action.clone(), error };
            audit.refused(None, &err);
            return Err(err);
        }
        let risk = raw.as_ref().map_or(action.risk, |r| r.risk);
        let request = Request { grant: call.grant, action: &action.name, method: &method, risk, args: &args };
        let (permit, laundering_checks) = match self.authorize(&request, raw.as_ref(), at) {
            Ok(permits) => permits,
            Err(denial) => {
                let rule = Some(denial.rule.clone());
                let err = CallError::Denied(denial);
                audit.refused(rule, &err);
                return Err(err);
            }
        };
        // The twins' confirm gate, after the policy so that a denied call learns nothing more.
        // HOOK(approval): a raw call standing for an action that needs approval needs the same
        // approval here, asked with the twin's name and recovered arguments (`raw.twins`).
        if let Some(refusal) = raw.as_ref().and_then(|r| r.refusal(&args)) {
            permit.rollback();
            laundering_checks.into_iter().for_each(Permit::rollback);
            let err = CallError::NotConfirmed { refusal };
            audit.refused(None, &err);
            return Err(err);
        }
        let rule = permit.rule().cloned();
        let options = CallOptions {
            read_only: risk == crate::ids::Risk::Read,
            progress: call.progress,
            cancel: call.cancel,
            job_budget: Some(self.job_budget),
        };
        let result = self.nas.call(permit, params, options).await;
        match &result {
            Err(e) if e.nothing_sent() => laundering_checks.into_iter().for_each(Permit::rollback),
            _ => drop(laundering_checks),
        }
        audit.finished(rule, result.as_ref().map(|done| done.job));
        let mut done = result.map_err(CallError::Nas)?;
        crate::redact::redact(&mut done.result);
        Ok(done)
    }
}

impl Gateway {
    /// Reads a job's current state, through the policy as the pseudo-action [`JOB_STATUS`].
    pub async fn read_job(&self, grant: &GrantId, id: JobId) -> Result<Value, CallError> {
        let (started, at) = (Instant::now(), SystemTime::now());
        let action = ActionName::new(JOB_STATUS);
        let method = MethodName::new("core.get_jobs");
        let mut args = Map::new();
        args.insert("id".into(), Value::from(id.0));
        let audit =
            AuditDraft { gateway: self, grant, action: &action, method: method.clone(), args: &args, at, started };
        let request = Request { grant, action: &action, method: &method, risk: crate::ids::Risk::Read, args: &args };
        let permit = match self.policy.authorize(&request, at) {
            Decision::Allow(permit) => permit,
            Decision::Deny(denial) => {
                let rule = Some(denial.rule.clone());
                let err = CallError::Denied(denial);
                audit.refused(rule, &err);
                return Err(err);
            }
        };
        let rule = permit.rule().cloned();
        let result = self.nas.job(permit, id).await;
        audit.finished(rule, result.as_ref().map(|_| Some(id)));
        let mut job = result.map_err(CallError::Nas)?;
        crate::redact::redact(&mut job);
        Ok(job)
    }

    /// Asks the policy about the call. A raw call (its method named by its arguments) must
    /// also pass the rules of every twin action it stands for, as if that action had been
    /// called with the arguments recovered from the params (an argument that cannot be told
    /// fails any rule that reads it), so the escape hatch cannot launder an operation the
    /// policy denies. The method's own entry is checked with each twin's arguments, or, when
    /// no action calls the method, blind (any predicate denies).
    fn authorize(
        &self,
        request: &Request<'_>,
        raw: Option<&RawReading<'_>>,
        at: SystemTime,
    ) -> Result<(Permit, Vec<Permit>), Denial> {
        let method_rules = match raw {
            None => MethodRules::Check,
            Some(r) if r.twins.is_empty() => MethodRules::Opaque,
            Some(_) => MethodRules::PerTwin,
        };
        let permit = match self.policy.authorize_scoped(request, ArgScope { unknown: None, method_rules }, at) {
            Decision::Allow(permit) => permit,
            Decision::Deny(denial) => return Err(denial),
        };
        let Some(raw) = raw else { return Ok((permit, Vec::new())) };
        let mut checks = Vec::new();
        for (twin, recovered) in &raw.twins {
            let as_twin = Request { action: &twin.name, risk: twin.risk, args: &recovered.known, ..*request };
            let scope = ArgScope { unknown: Some(&recovered.unknown), method_rules: MethodRules::Twin };
            match self.policy.authorize_scoped(&as_twin, scope, at) {
                Decision::Allow(p) => checks.push(p),
                Decision::Deny(denial) => {
                    permit.rollback();
                    checks.into_iter().for_each(Permit::rollback);
                    return Err(denial);
                }
            }
        }
        Ok((permit, checks))
    }
}

/// The facts of one call that every audit record repeats.
struct AuditDraft<'a> {
    gateway: &'a Gateway,
    grant: &'a GrantId,
    action: &'a ActionName,
    // The middleware method: the action's, or the one a raw call named.
    method: MethodName,
    args: &'a Map<String, Value>,
    at: SystemTime,
    started: Instant,
}

impl AuditDraft<'_> {
    fn refused(&self, rule: Option<crate::ids::RuleId>, error: &CallError) {
        self.write(AuditDecision::Deny, rule, Some(error.to_string()), Outcome::Denied, None, None);
    }

    /// Records an allowed call's end: `Ok` carries the job id, if the call was a job.
    fn finished(&self, rule: Option<crate::ids::RuleId>, result: Result<Option<JobId>, &NasError>) {
        let (outcome, error, job) = match result {
            Ok(job) => (Outcome::Ok, None, job),
            Err(NasError::Cancelled { job }) => (Outcome::Cancelled, None, *job),
            Err(e @ NasError::JobFailed { id, .. }) => (Outcome::Error, Some(e.to_string()), Some(*id)),
            Err(e) => (Outcome::Error, Some(e.to_string()), None),
        };
        self.write(AuditDecision::Allow, rule, None, outcome, error, job);
    }

    fn write(
        &self,
        decision: AuditDecision,
        rule: Option<crate::ids::RuleId>,
        reason: Option<String>,
        outcome: Outcome,
        error: Option<String>,
        job_id: Option<JobId>,
    ) {
        let (arg_keys, args_sha256) = AuditRecord::digest_args(self.args);
        let method = self.method.clone();
        self.gateway.audit.record(&AuditRecord {
            time: self.at,
            grant: self.grant.clone(),
            action: self.action.clone(),
            method,
            decision,
            rule,
            reason,
            arg_keys,
            args_sha256,
            outcome,
            error,
            job_id,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }
}
