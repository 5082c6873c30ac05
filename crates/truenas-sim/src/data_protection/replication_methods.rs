//! `replication.*`: CRUD of replication tasks on `state::replication`, `replication.restore`,
//! and `replication.run`, a job that sends each source dataset with progress and leaves the task
//! FINISHED (with its last snapshot) or ERROR.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::now_secs;
use crate::data_protection::replication::{Replication, replication_not_found};
use crate::defaults;
use crate::failure::Failure;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::state::State;

pub(crate) fn register(h: &mut Handlers) {
    h.reads("replication", |ctx| entries(ctx.machine), replication_not_found);
    h.call("replication.create", |ctx| create(ctx.machine, ctx.params.value(0)));
    h.call("replication.update", update);
    h.call("replication.delete", |ctx| {
        ctx.machine.state().data_protection.replications.delete(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
    h.call("replication.restore", restore);
    h.job("replication.run", run);
}

fn entries(machine: &Machine) -> Vec<Value> {
    let jobs = machine.jobs.dicts();
    let state = machine.state();
    state.data_protection.replications.entries(&state.storage, &state.tasks.keychain, &jobs)
}

fn entry(machine: &Machine, id: i64) -> Result<Value, Failure> {
    let jobs = machine.jobs.dicts();
    let state = machine.state();
    let replications = &state.data_protection.replications;
    Ok(replications.entry(replications.get(id)?, &state.storage, &state.tasks.keychain, &jobs))
}

fn create(machine: &Machine, data: Value) -> Result<Value, Failure> {
    let data = defaults::filled(machine.config.release, "replication.create", 0, data);
    let id = {
        let mut state = machine.state();
        let State { storage, data_protection, .. } = &mut *state;
        data_protection.replications.create(data, storage)?
    };
    entry(machine, id)
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    {
        let mut state = ctx.machine.state();
        let State { storage, data_protection, .. } = &mut *state;
        data_protection.replications.update(id, data, storage)?;
    }
    entry(ctx.machine, id)
}

fn restore(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let opts = data;
    let text = |key: &str| opts.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let data =
        ctx.machine.state().data_protection.replications.restore_data(id, &text("name"), &text("target_dataset"))?;
    create(ctx.machine, Value::Object(data))
}

/// `replication.run`: refused at once for a disabled or running task; else each source dataset
/// is sent in a few progress steps.
fn run(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let now = || u64::try_from(now_secs()).unwrap_or_default();
        let task = machine.state().data_protection.replications.start_run(id, now())?;
        let outcome = replicate(&machine, &task, |percent, what| job.progress(percent, what), || job.step()).await;
        let recorded = outcome.clone().map_err(|f| f.reason());
        machine.state().data_protection.replications.finish_run(id, recorded, now());
        outcome.map(|_| Value::Null)
    })
}

/// Sends every source dataset; the newest snapshot sent is the task's `last_snapshot`.
async fn replicate<P, S, F>(
    machine: &Machine,
    task: &Replication,
    progress: P,
    step: S,
) -> Result<Option<String>, Failure>
where
    P: Fn(i64, &str),
    S: Fn() -> F,
    F: std::future::Future<Output = ()>,
{
    let sources = task.source_datasets();
    // Sources are local for a push, and for a pull on the same NAS.
    let local = task.text("direction") == "PUSH" || task.text("transport") == "LOCAL";
    let mut last = None;
    let count = i64::try_from(sources.len()).unwrap_or(1).max(1);
    for (i, source) in sources.iter().enumerate() {
        let snapshot = {
            let state = machine.state();
            if local && !state.storage.datasets.contains(source) {
                return Err(Failure::fault(format!("Dataset {source:?} does not exist")));
            }
            state.storage.snapshots.latest_of(source)
        };
        let done = i64::try_from(i).unwrap_or_default() * 100 / count;
        let what = match &snapshot {
            Some(name) => format!("Sending {name} to {}", task.text("target_dataset")),
            None => format!("No snapshots of {source} to send"),
        };
        progress(done + 10 / count, &what);
        step().await;
        progress(done + 60 / count, &what);
        step().await;
        last = snapshot.or(last);
    }
    Ok(last)
}

#[cfg(test)]
#[path = "replication_methods_tests.rs"]
mod tests;
