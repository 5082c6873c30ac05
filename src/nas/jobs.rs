//! Job tracking: the latest state of each job we care about, fed by `core.get_jobs`
//! subscription events, and a wait that reports progress, polls as a fallback, and turns MCP
//! cancellation into `core.job_abort`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::error::NasError;
use super::rpc::{Connection, Notification};
use crate::ids::JobId;

/// Progress of a running job, as TrueNAS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobProgress {
    /// The job.
    pub job: JobId,
    /// 0..=100.
    pub percent: f64,
    /// TrueNAS's description of the current step.
    pub description: String,
}

/// Receives progress while a job runs.
pub type ProgressSink = Arc<dyn Fn(JobProgress) + Send + Sync>;

/// One job to wait for, and how.
pub(crate) struct WaitFor<'a> {
    pub(crate) id: JobId,
    pub(crate) method: &'a str,
    /// Timeout of each call made while waiting (polls, abort).
    pub(crate) call_timeout: Duration,
    /// How long to wait before answering "still running".
    pub(crate) budget: Duration,
    pub(crate) progress: Option<ProgressSink>,
    pub(crate) cancel: &'a CancellationToken,
}

/// How a wait ended without error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Waited {
    /// The job succeeded with this result.
    Finished(Value),
    /// The wait budget ran out; the job goes on (last state seen, if any).
    StillRunning(Option<JobSnapshot>),
}

/// A job's state as last seen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobSnapshot {
    pub(crate) state: String,
    pub(crate) method: String,
    pub(crate) percent: Option<f64>,
    pub(crate) description: String,
    pub(crate) result: Value,
    pub(crate) error: Option<String>,
}

impl JobSnapshot {
    pub(crate) fn from_fields(fields: &Value) -> Option<JobSnapshot> {
        let progress = fields.get("progress");
        Some(JobSnapshot {
            state: fields.get("state")?.as_str()?.to_string(),
            method: fields.get("method").and_then(Value::as_str).unwrap_or_default().to_string(),
            percent: progress.and_then(|p| p.get("percent")).and_then(Value::as_f64),
            description: progress
                .and_then(|p| p.get("description"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            result: fields.get("result").cloned().unwrap_or(Value::Null),
            error: fields.get("error").and_then(Value::as_str).map(str::to_string),
        })
    }

    pub(crate) fn is_final(&self) -> bool {
        matches!(self.state.as_str(), "SUCCESS" | "FAILED" | "ABORTED")
    }
}

type Watchers = Arc<Mutex<HashMap<JobId, watch::Sender<Option<JobSnapshot>>>>>;

/// Latest known state per job, kept current from subscription events.
#[derive(Clone, Default)]
pub(crate) struct JobTracker {
    jobs: Watchers,
}

/// How often to ask TrueNAS directly when no event arrives (subscription lost or silent).
pub(crate) const POLL_EVERY: Duration = Duration::from_secs(2);
/// How long to wait for the ABORTED state after asking a job to abort.
pub(crate) const ABORT_GRACE: Duration = Duration::from_secs(5);

impl JobTracker {
    /// Consumes notifications from a connection until it closes.
    pub(crate) fn follow(&self, mut events: mpsc::UnboundedReceiver<Notification>) {
        let jobs = Arc::clone(&self.jobs);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if event.method != "collection_update" {
                    continue;
                }
                let p = &event.params;
                if p.get("collection").and_then(Value::as_str) != Some("core.get_jobs") {
                    continue;
                }
                let (Some(id), Some(fields)) = (p.get("id").and_then(Value::as_u64), p.get("fields")) else {
                    continue;
                };
                if let Some(snapshot) = JobSnapshot::from_fields(fields) {
                    entry(&jobs, JobId(id)).send_replace(Some(snapshot));
                    prune(&jobs);
                }
            }
        });
    }

    /// Waits for the job to finish and returns its result.
    pub(crate) async fn wait(&self, conn: &Connection, job: WaitFor<'_>) -> Result<Waited, NasError> {
        let WaitFor { id, method, call_timeout, budget, progress, cancel } = job;
        let mut updates = entry(&self.jobs, id).subscribe();
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.tick().await;
        let deadline = tokio::time::sleep(budget);
        tokio::pin!(deadline);
        let mut last_percent = None;
        let outcome = loop {
            let seen = updates.borrow_and_update().clone();
            if let Some(snapshot) = seen {
                if let (Some(sink), Some(percent)) = (&progress, snapshot.percent)
                    && last_percent != Some(percent)
                {
                    last_percent = Some(percent);
                    sink(JobProgress { job: id, percent, description: snapshot.description.clone() });
                }
                if snapshot.is_final() {
                    break finish(id, method, snapshot).map(Waited::Finished);
                }
            }
            tokio::select! {
                changed = updates.changed() => if changed.is_err() { break Err(lost(method)) },
                _ = conn.closed() => break Err(lost(method)),
                _ = &mut deadline => break Ok(Waited::StillRunning(updates.borrow().clone())),
                _ = poll.tick() => {
                    if conn.is_closed() { break Err(lost(method)) }
                    match poll_job(conn, id, call_timeout).await {
                        Ok(Some(snapshot)) => { entry(&self.jobs, id).send_replace(Some(snapshot)); }
                        Ok(None) => {}
                        Err(e) => break Err(e),
                    }
                }
                _ = cancel.cancelled() => {
                    break Err(self.abort(conn, id, call_timeout, &mut updates).await);
                }
            }
        };
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        outcome
    }

    async fn abort(
        &self,
        conn: &Connection,
        id: JobId,
        call_timeout: Duration,
        updates: &mut watch::Receiver<Option<JobSnapshot>>,
    ) -> NasError {
        if let Err(e) = conn.call("core.job_abort", &json!([id.0]), call_timeout).await {
            tracing::warn!(job = id.0, error = %e, "core.job_abort failed");
        }
        let aborted = tokio::time::timeout(ABORT_GRACE, async {
            loop {
                if updates.borrow_and_update().as_ref().is_some_and(JobSnapshot::is_final) {
                    return;
                }
                if updates.changed().await.is_err() {
                    return;
                }
            }
        });
        let _ = aborted.await;
        NasError::Cancelled { job: Some(id) }
    }
}

fn entry(jobs: &Watchers, id: JobId) -> watch::Sender<Option<JobSnapshot>> {
    let mut jobs = jobs.lock().unwrap_or_else(|p| p.into_inner());
    jobs.entry(id).or_insert_with(|| watch::channel(None).0).clone()
}

/// Jobs nobody waits for are remembered (their events can arrive before the caller starts
/// waiting) but not forever.
const REMEMBER_AT_MOST: usize = 256;

fn prune(jobs: &Watchers) {
    let mut jobs = jobs.lock().unwrap_or_else(|p| p.into_inner());
    if jobs.len() > REMEMBER_AT_MOST {
        jobs.retain(|_, tx| tx.receiver_count() > 0 || !tx.borrow().as_ref().is_some_and(JobSnapshot::is_final));
    }
}

fn lost(method: &str) -> NasError {
    NasError::ConnectionLost { method: method.to_string(), sent: true }
}

async fn poll_job(conn: &Connection, id: JobId, timeout: Duration) -> Result<Option<JobSnapshot>, NasError> {
    let reply = conn.call("core.get_jobs", &json!([[["id", "=", id.0]]]), timeout).await?;
    Ok(reply.as_array().and_then(|jobs| jobs.first()).and_then(JobSnapshot::from_fields))
}

pub(crate) fn finish(id: JobId, method: &str, snapshot: JobSnapshot) -> Result<Value, NasError> {
    match snapshot.state.as_str() {
        "SUCCESS" => Ok(snapshot.result),
        state => Err(NasError::JobFailed {
            id,
            method: if snapshot.method.is_empty() { method.to_string() } else { snapshot.method },
            state: state.to_string(),
            reason: snapshot.error.unwrap_or_else(|| "no reason given".to_string()),
        }),
    }
}
