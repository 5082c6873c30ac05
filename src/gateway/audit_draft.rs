//! The facts of one request that each of its audit records repeats, and writing those records:
//! `refused` (one record), `decided` before the NAS is called (the call must not go out if it
//! fails, nor if the limit counters it spends cannot be saved) and `finished` after it.

use std::time::{Instant, SystemTime};

use serde_json::{Map, Value};

use std::sync::Arc;

use super::{CallError, Gateway};
use crate::ids::{ActionName, GrantId, JobId, MethodName};
use crate::nas::NasError;
use crate::policy::{
    AuditDecision, AuditRecord, AuditTransport, AuditWriteError, ErrorSummary, Outcome, Phase, PolicyEngine,
    PolicyNotes, RecordKind,
};

/// How an unknown name is recorded: as given when it is a plain identifier, else a marker, so a
/// value smuggled into a name never reaches the log.
pub(super) fn audit_name(name: &str) -> ActionName {
    if crate::policy::is_symbol(name) { ActionName::new(name) } else { ActionName::new("(invalid name)") }
}

/// A counters save that failed, as the call's error (logged: calls are refused until a save
/// succeeds).
fn unsaved(e: crate::state::StateError) -> CallError {
    tracing::error!(error = %e, "refusing a call: the limit counters cannot be saved");
    CallError::CountersUnavailable(e)
}

/// The facts of one request that each of its audit records repeats.
pub(super) struct AuditDraft<'a> {
    pub(super) gateway: &'a Gateway,
    // The policy snapshot the request is decided with: its hash goes in every record.
    pub(super) policy: Arc<PolicyEngine>,
    // Shadow mode's findings, written on the `decided` (or `refused`) record.
    pub(super) notes: PolicyNotes,
    pub(super) request_id: String,
    pub(super) grant: &'a GrantId,
    pub(super) transport: AuditTransport,
    pub(super) kind: RecordKind,
    pub(super) action: &'a ActionName,
    // The middleware method: the action's, or the one a raw call named.
    pub(super) method: Option<MethodName>,
    pub(super) args: &'a Map<String, Value>,
    pub(super) at: SystemTime,
    pub(super) started: Instant,
    // The `decided` record's id, once written: the `done` record names it as its parent.
    pub(super) decided: std::sync::OnceLock<String>,
    // The arguments' names and digest, made at the first record and repeated by the others.
    digest: std::sync::OnceLock<(Vec<String>, String)>,
}

impl<'a> AuditDraft<'a> {
    pub(super) fn new(
        gateway: &'a Gateway,
        grant: &'a GrantId,
        transport: AuditTransport,
        kind: RecordKind,
        action: &'a ActionName,
        args: &'a Map<String, Value>,
    ) -> AuditDraft<'a> {
        AuditDraft {
            gateway,
            policy: gateway.policy(),
            notes: PolicyNotes::default(),
            request_id: uuid::Uuid::new_v4().to_string(),
            grant,
            transport,
            kind,
            action,
            method: None,
            args,
            at: SystemTime::now(),
            started: Instant::now(),
            decided: std::sync::OnceLock::new(),
            digest: std::sync::OnceLock::new(),
        }
    }

    /// The same draft, deciding with `policy` (the snapshot the request took first).
    pub(super) fn under(mut self, policy: &Arc<PolicyEngine>) -> AuditDraft<'a> {
        self.policy = Arc::clone(policy);
        self
    }

    /// Records a refusal. It stands whether or not the record is written (a lost record is
    /// logged at error level by the log itself).
    pub(super) async fn refused(&self, rule: Option<crate::ids::RuleId>, reason: Option<String>, error: &CallError) {
        let (decision, outcome) = match error {
            CallError::Denied(_) => (Some(AuditDecision::Deny), Outcome::Denied),
            _ => (None, Outcome::Rejected),
        };
        let _ = self.write(Phase::Refused, decision, rule, reason, outcome, Some(error.summary()), None).await;
    }

    /// Records the decision to call the NAS; the call must not go out if this fails.
    pub(super) async fn decided(&self, rule: Option<crate::ids::RuleId>) -> Result<(), AuditWriteError> {
        self.write(Phase::Decided, Some(AuditDecision::Allow), rule, None, Outcome::Pending, None, None).await
    }

    /// Saves the limit counters and writes the `decided` record at once (each on its own thread)
    /// and fails closed on either: counts that are not durable are not spent, and a decision
    /// without its record is not made. On an error the request's audit is complete (a `decided`
    /// record already written is closed by a `done` record saying the call failed) and the
    /// caller refunds what it reserved; nothing may be sent.
    pub(super) async fn save_and_decide(&self, rule: Option<crate::ids::RuleId>) -> Result<(), CallError> {
        let (saved, recorded) = tokio::join!(self.policy.store().persist(), self.decided(rule.clone()));
        match (saved, recorded) {
            (Ok(()), recorded) => recorded.map_err(CallError::AuditUnavailable),
            (Err(e), Ok(())) => {
                let err = unsaved(e);
                self.failed(rule, &err).await;
                Err(err)
            }
            (Err(e), Err(_)) => {
                let err = unsaved(e);
                self.refused(None, None, &err).await;
                Err(err)
            }
        }
    }

    /// Saves the limit counters alone (before an approval is marked used); on an error the
    /// refusal is recorded and the caller refunds what it reserved.
    pub(super) async fn save(&self) -> Result<(), CallError> {
        let Err(e) = self.policy.store().persist().await else { return Ok(()) };
        let err = unsaved(e);
        self.refused(None, None, &err).await;
        Err(err)
    }

    /// Records the end of an allowed call refused before it was sent (a read it makes first
    /// found nothing, or completed it into arguments that do not fit).
    pub(super) async fn failed(&self, rule: Option<crate::ids::RuleId>, error: &CallError) {
        let summary = Some(error.summary());
        let _ = self.write(Phase::Done, Some(AuditDecision::Allow), rule, None, Outcome::Error, summary, None).await;
    }

    /// Records an allowed call's end: `Ok` carries the job id, if the call was a job.
    pub(super) async fn finished(&self, rule: Option<crate::ids::RuleId>, result: Result<Option<JobId>, &NasError>) {
        let (outcome, error, job) = match result {
            Ok(job) => (Outcome::Ok, None, job),
            Err(NasError::Cancelled { job }) => (Outcome::Cancelled, None, *job),
            Err(e @ NasError::JobFailed { id, .. }) => (Outcome::Error, Some(e.summary()), Some(*id)),
            Err(e) => (Outcome::Error, Some(e.summary()), None),
        };
        // The call has happened: a lost outcome record cannot undo it (the log says so).
        let _ = self.write(Phase::Done, Some(AuditDecision::Allow), rule, None, outcome, error, job).await;
    }

    /// Counts a decision for `/metrics`: an allowed call's `decided` record, or a refused call,
    /// resource read or job read. Listings and protocol requests are not decisions.
    fn count(&self, record: &AuditRecord) {
        use super::metrics::DecisionOutcome;
        if !matches!(record.kind, RecordKind::Call | RecordKind::Resource | RecordKind::Job) {
            return;
        }
        let outcome = match (record.phase, record.outcome, record.error.as_ref().map(|e| e.kind)) {
            (Phase::Decided, ..) => DecisionOutcome::Allow,
            (Phase::Refused, Outcome::Denied, _) => DecisionOutcome::Deny,
            (Phase::Refused, _, Some("approval_required")) => DecisionOutcome::ApprovalRequired,
            (Phase::Refused, ..) => DecisionOutcome::Rejected,
            _ => return,
        };
        // Bounded: only names this server knows become labels.
        let name = self.action.as_str();
        let known =
            self.gateway.catalog.action(name).is_some() || [super::JOB_STATUS, super::POLICY_STATUS].contains(&name);
        let action = if known { name } else { "(other)" };
        self.gateway.metrics.decision(action, outcome, record.rule.as_ref().map(|r| r.as_str()));
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write(
        &self,
        phase: Phase,
        decision: Option<AuditDecision>,
        rule: Option<crate::ids::RuleId>,
        reason: Option<String>,
        outcome: Outcome,
        error: Option<ErrorSummary>,
        job_id: Option<JobId>,
    ) -> Result<(), AuditWriteError> {
        let (arg_keys, args_sha256) = self.digest.get_or_init(|| AuditRecord::digest_args(self.args)).clone();
        let record_id = uuid::Uuid::new_v4().to_string();
        let parent_record_id = if phase == Phase::Done { self.decided.get().cloned() } else { None };
        let record = AuditRecord {
            record_id: record_id.clone(),
            parent_record_id,
            time: self.at,
            request_id: self.request_id.clone(),
            phase,
            kind: self.kind,
            transport: self.transport,
            grant: self.grant.clone(),
            policy_sha256: self.policy.sha256().to_string(),
            action: self.action.clone(),
            method: self.method.clone(),
            decision,
            rule,
            reason: reason.map(|r| crate::redact::scrub_text(&r)),
            arg_keys,
            args_sha256,
            outcome,
            error,
            job_id,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            approval: None,
            // Shadow findings belong to the decision: the `done` record does not repeat them.
            notes: if phase == Phase::Done { PolicyNotes::default() } else { self.notes.clone() },
        };
        self.count(&record);
        self.gateway.audit.record(&record).await?;
        if phase == Phase::Decided {
            let _ = self.decided.set(record_id);
        }
        Ok(())
    }
}
