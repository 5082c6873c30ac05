//! The approval step of the gateway: a call the policy allows only with a person's approval
//! finds (or asks for) its approval record, waits for an answer if the policy says so, and
//! goes through only once an approved record bound to this very call is used. Answers from a
//! person (the control socket, the client's elicitation; the web page later) come in through
//! [`Gateway::answer_approval`], which audits each one before it takes effect.
//!
//! An [`Asker`] (supplied by the MCP layer when the client declared elicitation) is asked once
//! per call about a pending record bound to that call; whatever it answers still goes through
//! `answer_approval`, and anything but an answer leaves the record pending (fail closed).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::{AuditDraft, CallError, Gateway, Invocation};
use crate::ids::{JobId, MethodName, Risk};
use crate::nas::JobProgress;
use crate::policy::{
    ApprovalEvent, ApprovalEventKind, ApprovalNeed, AuditRecord, AuditTransport, AuditWriteError, Outcome, Phase,
    RecordKind,
};
use crate::state::approvals::{
    ApprovalCall, ApprovalError, ApprovalRecord, ApprovalRequest, ApprovalStore, Binding, Lookup,
};
use crate::state::control::{ControlHandler, ControlRequest};

/// How often a held call tells the client it is still waiting.
const WAIT_TICK: Duration = Duration::from_secs(5);

/// A person's answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Let the call through (once).
    Approve,
    /// Refuse it, with an optional reason the agent reads.
    Deny(Option<String>),
}

/// What asking the client's user about a pending approval gave.
#[derive(Debug, Clone)]
pub enum Asked {
    /// A person answered through the client; `by` names the channel (`mcp-client:<name>`).
    Answered {
        /// Who answered, as recorded.
        by: String,
        /// The answer.
        answer: Answer,
    },
    /// Ask in the result instead (the input-required round trip): answer
    /// `[APPROVAL REQUIRED]` at once, without waiting.
    Later,
    /// No answer (dismissed, timed out, unreadable, or the client failed): the record stays
    /// pending for an out-of-band answer, and nothing is sent.
    NoAnswer,
}

/// Asks the person behind the client about a pending approval bound to the current call.
pub type Asker = Arc<dyn Fn(ApprovalRecord) -> Pin<Box<dyn Future<Output = Asked> + Send>> + Send + Sync>;

impl Gateway {
    /// The approvals this gateway keeps.
    pub fn approvals(&self) -> &Arc<ApprovalStore> {
        &self.approvals
    }

    /// Finds the approval for this call, asking for one if there is none: `Ok(id)` of an
    /// approved record (not yet used), or the refusal the agent reads (approval required, or
    /// denied). Asks through `asker` (once) when the record is pending, then waits up to the
    /// policy's `x-approval-wait` for an answer, with progress.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn approval_for(
        &self,
        audit: &AuditDraft<'_>,
        need: &ApprovalNeed,
        method: &MethodName,
        params: &Value,
        risk: Risk,
        call: &Invocation<'_>,
        mut asker: Option<Asker>,
    ) -> Result<String, CallError> {
        let secrets = crate::redact::secret_values(&call.args);
        let (progress, cancel) = (call.progress.as_ref(), &call.cancel);
        let (arg_keys, args_sha256) = AuditRecord::digest_args(audit.args);
        let mut shown = params.clone();
        crate::redact::redact_with(&mut shown, &secrets);
        let request = ApprovalRequest {
            call: ApprovalCall {
                binding: Binding {
                    grant: audit.grant.clone(),
                    action: audit.action.clone(),
                    args_sha256,
                    policy_sha256: audit.policy.sha256().to_owned(),
                },
                arg_keys,
                method: method.clone(),
                params: shown,
                risk,
                rule: need.rule.clone(),
            },
            ttl: need.ttl,
        };
        let deadline = tokio::time::Instant::now() + need.wait;
        let mut changes = self.approvals.subscribe();
        loop {
            let asked = request.clone();
            let (found, expired) = self
                .on_store(move |store| store.lookup_or_request(&asked, SystemTime::now()))
                .await
                .map_err(CallError::ApprovalState)?;
            self.audit_expired(&expired).await;
            let record = match found {
                Lookup::Approved(record) => return Ok(record.id),
                Lookup::Denied(record) => {
                    return Err(CallError::ApprovalDenied {
                        action: record.call.binding.action.to_string(),
                        id: record.id,
                        by: record.by.unwrap_or_default(),
                        reason: record.reason,
                    });
                }
                Lookup::Pending { record, created } => {
                    if created {
                        audit
                            .approval_event(&record.id, ApprovalEventKind::Requested, None)
                            .await
                            .map_err(CallError::AuditUnavailable)?;
                    }
                    record
                }
            };
            if let Some(ask) = asker.take() {
                match ask(record.clone()).await {
                    Asked::Answered { by, answer } => {
                        // Recorded like any answer; if it cannot be, the record stays pending.
                        if let Err(e) = self.answer_approval(&record.id, &by, answer).await {
                            tracing::warn!(approval = %record.id, error = %e, "the client's answer was not taken");
                        }
                        continue;
                    }
                    Asked::Later => {
                        return Err(CallError::ApprovalRequired {
                            action: record.call.binding.action.to_string(),
                            id: record.id,
                            rule: record.call.rule.to_string(),
                        });
                    }
                    Asked::NoAnswer => {}
                }
            }
            let now = tokio::time::Instant::now();
            // Out of time, or the client gave up: the approval stays pending for a repeat.
            if now >= deadline || cancel.is_cancelled() {
                return Err(CallError::ApprovalRequired {
                    action: record.call.binding.action.to_string(),
                    id: record.id,
                    rule: record.call.rule.to_string(),
                });
            }
            if let Some(progress) = progress {
                progress(JobProgress {
                    job: JobId(0),
                    percent: 0.0,
                    description: format!(
                        "waiting for approval {} (ask a person to run: truenas-mcp approvals approve {})",
                        record.id, record.id
                    ),
                });
            }
            // Shared approvals (Redis) change under other processes too: look again sooner.
            let every = self.approvals.recheck_every().map_or(WAIT_TICK, |d| d.min(WAIT_TICK));
            let tick = deadline.min(now + every);
            // A change, the next tick or a cancel: either way look again.
            tokio::select! {
                _ = tokio::time::timeout_at(tick, changes.changed()) => {}
                () = cancel.cancelled() => {}
            }
        }
    }

    /// Uses an approved record just before the call goes out: marked used and saved, and the
    /// `used` record written; if either fails the call must not go out.
    pub(super) async fn use_approval(&self, audit: &AuditDraft<'_>, id: &str) -> Result<(), CallError> {
        let owned = id.to_owned();
        self.on_store(move |store| store.consume(&owned, SystemTime::now())).await.map_err(CallError::ApprovalState)?;
        audit.approval_event(id, ApprovalEventKind::Used, None).await.map_err(CallError::AuditUnavailable)
    }

    /// A person answers a pending approval. The answer is audited first (an answer that cannot
    /// be recorded does not take effect), then saved.
    pub async fn answer_approval(&self, id: &str, by: &str, answer: Answer) -> Result<ApprovalRecord, String> {
        let now = SystemTime::now();
        self.expire_due().await?;
        let record = self.approvals.get(id).ok_or_else(|| ApprovalError::Unknown(id.to_owned()).to_string())?;
        if record.status != crate::state::approvals::Status::Pending {
            return Err(ApprovalError::NotPending { id: id.to_owned(), status: record.status }.to_string());
        }
        let kind = match answer {
            Answer::Approve => ApprovalEventKind::Approved,
            Answer::Deny(_) => ApprovalEventKind::Denied,
        };
        self.audit_approval(&record, kind, Some(by.to_owned()))
            .await
            .map_err(|_| "refused: the audit log cannot be written, so the answer was not recorded".to_owned())?;
        let (id, by) = (id.to_owned(), by.to_owned());
        let result = self
            .on_store(move |store| match answer {
                Answer::Approve => store.approve(&id, &by, now),
                Answer::Deny(reason) => store.deny(&id, &by, reason.as_deref(), now),
            })
            .await;
        result.map_err(|e| e.to_string())
    }

    /// Runs a store operation (which may write and sync a file) on the blocking pool, so a
    /// slow disk does not stall a runtime worker.
    async fn on_store<T: Send + 'static>(
        &self,
        op: impl FnOnce(&ApprovalStore) -> Result<T, ApprovalError> + Send + 'static,
    ) -> Result<T, ApprovalError> {
        let store = Arc::clone(&self.approvals);
        match tokio::task::spawn_blocking(move || op(&store)).await {
            Ok(result) => result,
            Err(e) => Err(ApprovalError::State(crate::state::StateError::Write {
                path: "approvals.json".into(),
                source: std::io::Error::other(e.to_string()),
            })),
        }
    }

    /// Marks due approvals expired (and audits it).
    async fn expire_due(&self) -> Result<(), String> {
        let expired = self.on_store(|store| store.expire(SystemTime::now())).await.map_err(|e| e.to_string())?;
        self.audit_expired(&expired).await;
        Ok(())
    }

    async fn audit_expired(&self, expired: &[ApprovalRecord]) {
        for record in expired {
            // Expiry takes effect whether or not it is recorded; a lost record is logged.
            let _ = self.audit_approval(record, ApprovalEventKind::Expired, None).await;
        }
    }

    /// An approval event outside a call (an answer, an expiry), from the record itself.
    async fn audit_approval(
        &self,
        record: &ApprovalRecord,
        event: ApprovalEventKind,
        by: Option<String>,
    ) -> Result<(), AuditWriteError> {
        let outcome = if event == ApprovalEventKind::Denied { Outcome::Denied } else { Outcome::Ok };
        let rec = AuditRecord {
            record_id: uuid::Uuid::new_v4().to_string(),
            parent_record_id: None,
            time: SystemTime::now(),
            request_id: uuid::Uuid::new_v4().to_string(),
            phase: Phase::Done,
            kind: RecordKind::Approval,
            transport: AuditTransport::Control,
            grant: record.call.binding.grant.clone(),
            policy_sha256: record.call.binding.policy_sha256.clone(),
            action: record.call.binding.action.clone(),
            method: Some(record.call.method.clone()),
            decision: None,
            rule: Some(record.call.rule.clone()),
            reason: None,
            arg_keys: record.call.arg_keys.clone(),
            args_sha256: record.call.binding.args_sha256.clone(),
            outcome,
            error: None,
            job_id: None,
            duration_ms: 0,
            approval: Some(ApprovalEvent { id: record.id.clone(), event, by }),
            notes: Default::default(),
        };
        self.audit.record(&rec).await
    }
}

impl AuditDraft<'_> {
    /// An approval event during a call, sharing the call's request id.
    async fn approval_event(
        &self,
        id: &str,
        event: ApprovalEventKind,
        by: Option<String>,
    ) -> Result<(), AuditWriteError> {
        let (arg_keys, args_sha256) = AuditRecord::digest_args(self.args);
        let rec = AuditRecord {
            record_id: uuid::Uuid::new_v4().to_string(),
            // An event of the call: it hangs off the call's decision, when one was recorded.
            parent_record_id: self.decided.get().cloned(),
            time: SystemTime::now(),
            request_id: self.request_id.clone(),
            phase: Phase::Done,
            kind: RecordKind::Approval,
            transport: self.transport,
            grant: self.grant.clone(),
            policy_sha256: self.policy.sha256().to_string(),
            action: self.action.clone(),
            method: self.method.clone(),
            decision: None,
            rule: None,
            reason: None,
            arg_keys,
            args_sha256,
            outcome: Outcome::Ok,
            error: None,
            job_id: None,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            approval: Some(ApprovalEvent { id: id.to_owned(), event, by }),
            notes: Default::default(),
        };
        self.gateway.audit.record(&rec).await
    }
}

/// What an approval looks like on the control socket.
fn shown(record: &ApprovalRecord) -> Value {
    json!(record)
}

impl ControlHandler for Gateway {
    async fn handle(&self, request: ControlRequest, user: &str) -> Result<Value, String> {
        match request {
            ControlRequest::List => {
                self.expire_due().await?;
                Ok(Value::Array(self.approvals.list().iter().map(shown).collect()))
            }
            ControlRequest::Show { id } => {
                self.expire_due().await?;
                self.approvals.get(&id).map(|r| shown(&r)).ok_or_else(|| format!("no approval `{id}`"))
            }
            ControlRequest::Approve { id } => self.answer_approval(&id, user, Answer::Approve).await.map(|r| shown(&r)),
            ControlRequest::Deny { id, reason } => {
                self.answer_approval(&id, user, Answer::Deny(reason)).await.map(|r| shown(&r))
            }
        }
    }
}
