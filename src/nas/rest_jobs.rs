//! Waiting for a job over REST, where there are no events: poll `GET /core/get_jobs?id=N`
//! (quickly at first, then every couple of seconds), forward progress, and turn cancellation
//! into `POST /core/job_abort`.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::error::NasError;
use super::jobs::{ABORT_GRACE, JobProgress, JobSnapshot, POLL_EVERY, WaitFor, Waited, finish};
use super::rest::RestClient;
use crate::ids::JobId;
use truenas_api::rest::{HttpCall, Verb};

/// The first poll comes this soon; each next one waits twice as long, up to `POLL_EVERY`.
const FIRST_POLL: Duration = Duration::from_millis(50);

impl RestClient {
    /// Waits for the job to finish and returns its result.
    pub(crate) async fn wait(&self, job: WaitFor<'_>) -> Result<Waited, NasError> {
        let WaitFor { id, method, budget, progress, cancel, .. } = job;
        let deadline = Instant::now().checked_add(budget);
        let mut delay = FIRST_POLL;
        let mut last_percent = None;
        let mut seen = None;
        loop {
            if let Some(snapshot) = self.poll(id).await? {
                if let (Some(sink), Some(percent)) = (&progress, snapshot.percent)
                    && last_percent != Some(percent)
                {
                    last_percent = Some(percent);
                    sink(JobProgress { job: id, percent, description: snapshot.description.clone() });
                }
                if snapshot.is_final() {
                    return finish(id, method, snapshot).map(Waited::Finished);
                }
                seen = Some(snapshot);
            }
            let until_deadline = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if until_deadline.is_some_and(|d| d.is_zero()) {
                return Ok(Waited::StillRunning(seen));
            }
            let pause = until_deadline.map_or(delay, |d| d.min(delay));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = cancel.cancelled() => return Err(self.abort(id).await),
            }
            delay = (delay * 2).min(POLL_EVERY);
        }
    }

    /// The job's current state; `None` while TrueNAS does not list it.
    async fn poll(&self, id: JobId) -> Result<Option<JobSnapshot>, NasError> {
        let request = HttpCall {
            verb: Verb::Get,
            path: "/core/get_jobs".into(),
            query: vec![("id".into(), id.0.to_string())],
            body: None,
        };
        let jobs = self.send("core.get_jobs", &request).await?;
        Ok(jobs.as_array().and_then(|jobs| jobs.first()).and_then(JobSnapshot::from_fields))
    }

    /// Asks TrueNAS to abort the job and waits a little for it to end.
    async fn abort(&self, id: JobId) -> NasError {
        let request =
            HttpCall { verb: Verb::Post, path: "/core/job_abort".into(), query: Vec::new(), body: Some(json!(id.0)) };
        if let Err(e) = self.send("core.job_abort", &request).await {
            tracing::warn!(job = id.0, error = %e, "core.job_abort failed");
        }
        let ended = tokio::time::timeout(ABORT_GRACE, async {
            loop {
                match self.poll(id).await {
                    Ok(Some(s)) if s.is_final() => return,
                    Err(_) => return,
                    _ => tokio::time::sleep(FIRST_POLL * 4).await,
                }
            }
        });
        let _ = ended.await;
        NasError::Cancelled { job: Some(id) }
    }
}
