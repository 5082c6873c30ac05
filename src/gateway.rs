//! The one path every call takes, whatever the transport (MCP tool, resource read, the `call`
//! subcommand): resolve the action, validate its arguments, check the confirm gate, build the
//! middleware params, ask the policy, call the NAS, write one audit record, and mask secrets in
//! the result.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::catalog::{ActionDef, ArgsError, Catalog, MappingError};
use crate::ids::{ActionName, GrantId, JobId, MethodName, RuleId};
use crate::nas::{CallOptions, CallOutcome, NasClient, NasError, ProgressSink};
use crate::policy::{AuditDecision, AuditLog, AuditRecord, Decision, Denial, Outcome, Permit, PolicyEngine, Request};
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
    /// No job of that id that this caller may read: it does not exist, or another grant (or
    /// another client of the NAS) started it. Both answer alike.
    #[error("no job `{0}`")]
    NoSuchJob(JobId),
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
    // The jobs each grant started through this server: the only ones it may read.
    jobs: Mutex<HashMap<GrantId, OwnedJobs>>,
}

/// Most job ids remembered per grant; past it the oldest are forgotten (and become unreadable
/// to that grant), so memory stays bounded however many jobs a client starts.
pub const MAX_JOBS_PER_GRANT: usize = 10_000;

/// The job ids one grant started, oldest first.
#[derive(Default)]
struct OwnedJobs {
    order: VecDeque<JobId>,
    ids: HashSet<JobId>,
}

impl OwnedJobs {
    fn add(&mut self, id: JobId) {
        if !self.ids.insert(id) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > MAX_JOBS_PER_GRANT {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }
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
        Gateway { catalog, policy, nas, audit, job_budget: DEFAULT_JOB_BUDGET, jobs: Mutex::default() }
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
        let mut audit = AuditDraft {
            gateway: self,
            grant: call.grant,
            action: &action.name,
            method: action.method.clone(),
            args: &call.args,
            at,
            started,
        };
        // Hidden answers exactly as absent, before anything else (argument checks included)
        // could tell that the action exists. The operator's audit still says why.
        if !self.is_visible(action) {
            let err = CallError::UnknownAction(call.action.to_string());
            audit.write(
                AuditDecision::Deny,
                Some(RuleId::new(HIDDEN_RULE)),
                Some(err.to_string()),
                Outcome::Denied,
                None,
                None,
            );
            return Err(err);
        }

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
        let (method, params) = match action.resolve_for(release, &call.args) {
            Ok(resolved) => resolved,
            Err(e) => {
                let err = CallError::Mapping(e);
                audit.refused(None, &err);
                return Err(err);
            }
        };
        audit.method = method.clone();
        let request =
            Request { grant: call.grant, action: &action.name, method: &method, risk: action.risk, args: &call.args };
        let (permit, laundering_checks) = match self.authorize(&request, action, at) {
            Ok(permits) => permits,
            Err(denial) => {
                let rule = Some(denial.rule.clone());
                let err = CallError::Denied(denial);
                audit.refused(rule, &err);
                return Err(err);
            }
        };
        let rule = permit.rule().cloned();
        let options = CallOptions {
            read_only: action.risk == crate::ids::Risk::Read,
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
        if let Some(job) = started_job(&result) {
            self.own_job(call.grant, job);
        }
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
        // Only the caller's own jobs, unless the policy says otherwise; any other id answers as
        // a job that does not exist, and nothing is asked of the NAS.
        if !self.policy.any_job() && !self.owns_job(grant, id) {
            permit.rollback();
            let err = CallError::NoSuchJob(id);
            audit.refused(None, &err);
            return Err(err);
        }
        let rule = permit.rule().cloned();
        let result = self.nas.job(permit, id).await;
        audit.finished(rule, result.as_ref().map(|_| Some(id)));
        let mut job = result.map_err(CallError::Nas)?;
        crate::redact::redact(&mut job);
        Ok(job)
    }

    /// Whether job ids can be read at all (`truenas://jobs/{id}`): not when the policy hides
    /// [`JOB_STATUS`].
    pub fn jobs_visible(&self) -> bool {
        !self.policy.is_hidden(&ActionName::new(JOB_STATUS), &MethodName::new("core.get_jobs"))
    }

    /// Remembers that `grant` started job `id`.
    fn own_job(&self, grant: &GrantId, id: JobId) {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.entry(grant.clone()).or_default().add(id);
    }

    /// Whether `grant` started job `id` through this server.
    fn owns_job(&self, grant: &GrantId, id: JobId) -> bool {
        let jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.get(grant).is_some_and(|owned| owned.ids.contains(&id))
    }

    /// Asks the policy about the call. A raw call (its method named by its arguments) must
    /// also pass the rules of every action that calls the same method, as if that action had
    /// been called, so the escape hatch cannot launder an operation the policy denies.
    fn authorize(
        &self,
        request: &Request<'_>,
        action: &ActionDef,
        at: SystemTime,
    ) -> Result<(Permit, Vec<Permit>), Denial> {
        let permit = match self.policy.authorize(request, at) {
            Decision::Allow(permit) => permit,
            Decision::Deny(denial) => return Err(denial),
        };
        if !action.is_rest_call() {
            return Ok((permit, Vec::new()));
        }
        let mut checks = Vec::new();
        let calls_it = |a: &&ActionDef| !a.is_rest_call() && a.methods().any(|m| m == request.method);
        for twin in self.catalog.actions().filter(calls_it) {
            let as_twin = Request { action: &twin.name, risk: twin.risk, ..*request };
            match self.policy.authorize(&as_twin, at) {
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

/// The rule id audit records carry for a call of a hidden action (the policy's own).
const HIDDEN_RULE: &str = "(hidden)";

/// The job a call started, whatever became of it.
fn started_job(result: &Result<CallOutcome, NasError>) -> Option<JobId> {
    match result {
        Ok(done) => done.job,
        Err(NasError::Cancelled { job }) => *job,
        Err(NasError::JobFailed { id, .. }) => Some(*id),
        Err(_) => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_remembers_its_latest_jobs_only() {
        let mut owned = OwnedJobs::default();
        for id in 0..(MAX_JOBS_PER_GRANT as u64 + 5) {
            owned.add(JobId(id));
        }
        owned.add(JobId(7));
        assert_eq!(owned.order.len(), MAX_JOBS_PER_GRANT);
        assert_eq!(owned.ids.len(), MAX_JOBS_PER_GRANT);
        assert!(!owned.ids.contains(&JobId(4)), "the oldest are forgotten");
        assert!(owned.ids.contains(&JobId(5)) && owned.ids.contains(&JobId(MAX_JOBS_PER_GRANT as u64 + 4)));
    }
}
