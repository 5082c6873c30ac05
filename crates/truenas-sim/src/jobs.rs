//! The job engine: what a `@job` method becomes in the middleware. A job is created WAITING,
//! waits for its lock, runs with progress, and ends SUCCESS, FAILED or ABORTED; every change is
//! published on `core.get_jobs` with the full job dict. Generic: a domain hands over a body
//! future and gets the job id back.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::events::{Change, EventBus};
use super::failure::{Failure, errno};
use super::faults::Faults;

/// The collection job events are published on.
pub(crate) const JOBS_COLLECTION: &str = "core.get_jobs";

/// Finished jobs kept for `core.get_jobs`; older ones are forgotten first.
const KEEP_FINISHED: usize = 1000;

/// The work of a job, started once the job holds its lock.
pub(crate) type JobFuture = Pin<Box<dyn Future<Output = Result<Value, Failure>> + Send>>;

/// What the caller knows about a job before it runs.
#[derive(Debug, Clone)]
pub(crate) struct JobSpec {
    pub(crate) method: String,
    /// The params array as called (the middleware strips secrets; the simulated methods take none).
    pub(crate) arguments: Value,
    pub(crate) description: Option<String>,
    /// Whether `core.job_abort` can stop the job once it runs. A WAITING job aborts either way.
    pub(crate) abortable: bool,
    /// Jobs sharing a lock run one after the other.
    pub(crate) lock: Option<String>,
    pub(crate) credentials: Value,
    /// JSON-RPC ids of calls waiting on the job (new-style jobs).
    pub(crate) message_ids: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Success,
    Failed,
    Aborted,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Waiting => "WAITING",
            State::Running => "RUNNING",
            State::Success => "SUCCESS",
            State::Failed => "FAILED",
            State::Aborted => "ABORTED",
        }
    }

    fn finished(self) -> bool {
        matches!(self, State::Success | State::Failed | State::Aborted)
    }
}

/// How a finished job ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Success(Value),
    Failed(Failure),
    Aborted,
}

struct JobRecord {
    spec: JobSpec,
    state: State,
    percent: i64,
    description: String,
    extra: Value,
    result: Value,
    failure: Option<Failure>,
    time_started: u128,
    time_finished: Option<u128>,
    abort: CancellationToken,
    done: watch::Sender<bool>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    jobs: BTreeMap<u64, JobRecord>,
    locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

/// Creates, runs and tracks jobs; clones share the same table.
#[derive(Clone)]
pub(crate) struct JobEngine {
    inner: Arc<Inner>,
}

struct Inner {
    table: Mutex<Table>,
    events: EventBus,
    faults: Faults,
    shutdown: CancellationToken,
}

/// Handed to a job body: its id, progress reporting and pacing.
pub(crate) struct JobCtx {
    id: u64,
    engine: JobEngine,
}

impl JobCtx {
    /// Reports progress; publishes a change when it differs from the last report.
    pub(crate) fn progress(&self, percent: i64, description: &str) {
        self.engine.set_progress(self.id, percent, description);
    }

    /// Waits one simulated progress step (`Faults::set_job_step`).
    pub(crate) async fn step(&self) {
        tokio::time::sleep(self.engine.inner.faults.job_step()).await;
    }

    /// Reports each `(percent, text)` in turn, waiting one step after each.
    pub(crate) async fn steps<S: AsRef<str> + Sync>(&self, list: &[(i64, S)]) {
        for (percent, text) in list {
            self.progress(*percent, text.as_ref());
            self.step().await;
        }
    }
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

impl JobEngine {
    pub(crate) fn new(events: EventBus, faults: Faults, shutdown: CancellationToken) -> JobEngine {
        let table = Table { next_id: 1, ..Table::default() };
        JobEngine { inner: Arc::new(Inner { table: Mutex::new(table), events, faults, shutdown }) }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every update finishes before the guard drops, so a poisoned table is still consistent.
        self.inner.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates a job (WAITING, published as `added`) and starts it in the background.
    pub(crate) fn submit<F>(&self, spec: JobSpec, body: F) -> u64
    where
        F: FnOnce(JobCtx) -> JobFuture + Send + 'static,
    {
        let abort = CancellationToken::new();
        let abortable = spec.abortable;
        let (id, lock) = {
            let mut table = self.lock();
            let id = table.next_id;
            table.next_id += 1;
            let lock = spec.lock.as_ref().map(|name| Arc::clone(table.locks.entry(name.clone()).or_default()));
            let record = JobRecord {
                spec,
                state: State::Waiting,
                percent: 0,
                description: String::new(),
                extra: Value::Null,
                result: Value::Null,
                failure: None,
                time_started: now_ms(),
                time_finished: None,
                abort: abort.clone(),
                done: watch::channel(false).0,
            };
            self.publish(Change::Added, id, &record);
            table.jobs.insert(id, record);
            prune(&mut table);
            (id, lock)
        };
        let engine = self.clone();
        tokio::spawn(async move {
            let shutdown = engine.inner.shutdown.clone();
            let _held = match lock {
                Some(lock) => tokio::select! {
                    guard = lock.lock_owned() => Some(guard),
                    () = abort.cancelled() => return engine.finish(id, Outcome::Aborted),
                    () = shutdown.cancelled() => return,
                },
                None => None,
            };
            if abort.is_cancelled() {
                return engine.finish(id, Outcome::Aborted);
            }
            engine.set_running(id);
            let work = body(JobCtx { id, engine: engine.clone() });
            let outcome = tokio::select! {
                result = work => match result {
                    Ok(value) => Outcome::Success(value),
                    Err(failure) => Outcome::Failed(failure),
                },
                () = abort.cancelled(), if abortable => Outcome::Aborted,
                () = shutdown.cancelled() => return,
            };
            engine.finish(id, outcome);
        });
        id
    }

    /// `core.job_abort`: a WAITING job or a running abortable job ends ABORTED; a running job
    /// that is not abortable ignores the request, as a synchronous middleware job does.
    pub(crate) fn abort(&self, id: u64) -> Result<(), Failure> {
        let table = self.lock();
        let record =
            table.jobs.get(&id).ok_or_else(|| Failure::call(errno::ENOENT, format!("Job {id} does not exist")))?;
        if !record.state.finished() {
            record.abort.cancel();
        }
        Ok(())
    }

    /// Every job dict, oldest first.
    pub(crate) fn dicts(&self) -> Vec<Value> {
        self.lock().jobs.iter().map(|(id, r)| encode(*id, r)).collect()
    }

    /// Waits until job `id` ends; `None` for an unknown job or a server shutting down.
    pub(crate) async fn wait(&self, id: u64) -> Option<Outcome> {
        let mut done = self.lock().jobs.get(&id)?.done.subscribe();
        tokio::select! {
            result = done.wait_for(|finished| *finished) => result.ok()?,
            () = self.inner.shutdown.cancelled() => return None,
        };
        let table = self.lock();
        let record = table.jobs.get(&id)?;
        Some(match (record.state, &record.failure) {
            (State::Failed, Some(failure)) => Outcome::Failed(failure.clone()),
            (State::Aborted, _) => Outcome::Aborted,
            _ => Outcome::Success(record.result.clone()),
        })
    }

    fn set_running(&self, id: u64) {
        let mut table = self.lock();
        if let Some(record) = table.jobs.get_mut(&id) {
            record.state = State::Running;
            self.publish(Change::Changed, id, record);
        }
    }

    fn set_progress(&self, id: u64, percent: i64, description: &str) {
        let mut table = self.lock();
        let Some(record) = table.jobs.get_mut(&id) else { return };
        if record.state.finished() || (record.percent == percent && record.description == description) {
            return;
        }
        record.percent = percent;
        record.description = description.to_string();
        self.publish(Change::Changed, id, record);
    }

    fn finish(&self, id: u64, outcome: Outcome) {
        let mut table = self.lock();
        let Some(record) = table.jobs.get_mut(&id) else { return };
        match outcome {
            Outcome::Success(value) => {
                record.state = State::Success;
                record.result = value;
                record.percent = 100;
            }
            Outcome::Failed(failure) => {
                record.state = State::Failed;
                record.failure = Some(failure);
            }
            Outcome::Aborted => record.state = State::Aborted,
        }
        record.time_finished = Some(now_ms());
        self.publish(Change::Changed, id, record);
        record.done.send_replace(true);
        tracing::debug!(job = id, method = %record.spec.method, state = record.state.name(), "simulated job finished");
    }

    fn publish(&self, change: Change, id: u64, record: &JobRecord) {
        self.inner.events.emit(JOBS_COLLECTION, change, id, Some(encode(id, record)));
    }
}

/// Forgets the oldest finished jobs beyond `KEEP_FINISHED`.
fn prune(table: &mut Table) {
    let finished: Vec<u64> = table.jobs.iter().filter(|(_, r)| r.state.finished()).map(|(id, _)| *id).collect();
    let excess = finished.len().saturating_sub(KEEP_FINISHED);
    for id in finished.into_iter().take(excess) {
        table.jobs.remove(&id);
    }
}

/// The job dict as `core.get_jobs` and job events carry it.
fn encode(id: u64, r: &JobRecord) -> Value {
    let date = |ms: u128| json!({"$date": ms as u64});
    json!({
        "id": id,
        "message_ids": r.spec.message_ids,
        "method": r.spec.method,
        "arguments": r.spec.arguments,
        "transient": false,
        "description": r.spec.description,
        "abortable": r.spec.abortable,
        "logs_path": null,
        "logs_excerpt": null,
        "progress": {"percent": r.percent, "description": r.description, "extra": r.extra},
        "result": if r.state == State::Success { r.result.clone() } else { Value::Null },
        "result_encoding_error": null,
        "error": r.failure.as_ref().map(Failure::reason),
        "exception": r.failure.as_ref().map(Failure::exception_text),
        "exc_info": r.failure.as_ref().map(Failure::exc_info),
        "state": r.state.name(),
        "time_started": date(r.time_started),
        "time_finished": r.time_finished.map(date),
        "credentials": r.spec.credentials,
    })
}

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod tests;
