//! Jobs belong to the grant that started them: the ids each grant started through this server
//! (the last [`MAX_JOBS_PER_GRANT`]), and reading a job (`truenas://jobs/{id}`) through the
//! policy as the pseudo-action [`JOB_STATUS`], only for its owner unless the policy says
//! `x-any-job`.

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value};

use super::audit_draft::AuditDraft;
use super::{CallError, Gateway, JOB_STATUS};
use crate::ids::{ActionName, GrantId, JobId, MethodName};
use crate::nas::{CallOutcome, NasError};
use crate::policy::{AuditTransport, Decision, Denial, RecordKind, Request};

/// Most job ids remembered per grant; past it the oldest are forgotten (and become unreadable
/// to that grant), so memory stays bounded however many jobs a client starts.
pub const MAX_JOBS_PER_GRANT: usize = 10_000;

/// The job ids one grant started, oldest first.
#[derive(Default)]
pub(super) struct OwnedJobs {
    order: VecDeque<JobId>,
    ids: HashSet<JobId>,
}

impl OwnedJobs {
    pub(super) fn add(&mut self, id: JobId) {
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

/// The job a call started, whatever became of it.
pub(super) fn started_job(result: &Result<CallOutcome, NasError>) -> Option<JobId> {
    match result {
        Ok(done) => done.job,
        Err(NasError::Cancelled { job }) => *job,
        Err(NasError::JobFailed { id, .. }) => Some(*id),
        Err(_) => None,
    }
}

impl Gateway {
    /// Reads a job's current state, through the policy as the pseudo-action [`JOB_STATUS`].
    pub async fn read_job(&self, grant: &GrantId, transport: AuditTransport, id: JobId) -> Result<Value, CallError> {
        let action = ActionName::new(JOB_STATUS);
        let method = MethodName::new("core.get_jobs");
        let mut args = Map::new();
        args.insert("id".into(), Value::from(id.0));
        let mut audit = AuditDraft::new(self, grant, transport, RecordKind::Job, &action, &args);
        audit.method = Some(method.clone());
        let at = audit.at;
        let request = Request { grant, action: &action, method: &method, risk: crate::ids::Risk::Read, args: &args };
        let permit = match audit.policy.authorize(&request, at) {
            Decision::Allow(permit) => permit,
            Decision::Deny(denial) => {
                let rule = Some(denial.rule.clone());
                let reason = Some(denial.reason.clone());
                let err = CallError::Denied(denial);
                audit.refused(rule, reason, &err).await;
                return Err(err);
            }
            // Reading a job's state is not put to a person: an approval rule on it denies.
            Decision::NeedsApproval(need) => {
                let reason = "reading a job cannot wait for an approval".to_owned();
                let denial = Denial { rule: need.rule, reason: reason.clone(), retry_after: None };
                let rule = Some(denial.rule.clone());
                let err = CallError::Denied(denial);
                audit.refused(rule, Some(reason), &err).await;
                return Err(err);
            }
        };
        // Only the caller's own jobs, unless the policy says otherwise; any other id answers as
        // a job that does not exist, and nothing is asked of the NAS.
        if !audit.policy.any_job() && !self.owns_job(grant, id) {
            permit.rollback();
            let err = CallError::NoSuchJob(id);
            audit.refused(None, None, &err).await;
            return Err(err);
        }
        let rule = permit.rule().cloned();
        audit.notes = super::shadow_notes(&permit);
        // Fail closed, as for any call: counts not saved or the decision not recorded, nothing
        // asked.
        if let Err(err) = audit.save_and_decide(rule.clone()).await {
            permit.rollback();
            return Err(err);
        }
        let in_flight = self.metrics.in_flight(false);
        let sent = std::time::Instant::now();
        let result = self.nas.job(permit, id).await;
        self.metrics.nas_latency(sent.elapsed());
        drop(in_flight);
        audit.finished(rule, result.as_ref().map(|_| Some(id))).await;
        let mut job = result.map_err(CallError::Nas)?;
        // A job's error text may echo the keys or passwords it was started with.
        let secrets = job.get("arguments").map(crate::redact::secret_values_in).unwrap_or_default();
        crate::redact::redact_with(&mut job, &secrets);
        Ok(job)
    }

    /// Whether job ids can be read at all (`truenas://jobs/{id}`): not when the policy hides
    /// [`JOB_STATUS`].
    pub fn jobs_visible(&self) -> bool {
        jobs_visible_under(&self.policy())
    }

    /// Remembers that `grant` started job `id`.
    pub(super) fn own_job(&self, grant: &GrantId, id: JobId) {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.entry(grant.clone()).or_default().add(id);
    }

    /// Whether `grant` started job `id` through this server.
    pub(super) fn owns_job(&self, grant: &GrantId, id: JobId) -> bool {
        let jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.get(grant).is_some_and(|owned| owned.ids.contains(&id))
    }
}

/// Whether `policy` lets job ids be read at all.
pub(super) fn jobs_visible_under(policy: &crate::policy::PolicyEngine) -> bool {
    !policy.is_hidden(&ActionName::new(JOB_STATUS), &MethodName::new("core.get_jobs"))
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
