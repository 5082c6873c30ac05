//! `pool.snapshot.*` (the public snapshot API since 25.10; `zfs.snapshot.*` is private there) and
//! `pool.snapshottask.*`, on top of `state::storage`. On 24.10, where `zfs.snapshot.*` is the
//! public API with the same params, the same handlers answer under those names. Snapshot
//! changes are published on `pool.snapshot.query`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::defaults;
use crate::events::Change;
use crate::failure::Failure;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan, object, run_get_instance, run_query};
use crate::query;
use crate::storage::{dataset_entry, snapshot_not_found, task_not_found};
use truenas_api::schema::Release;

const COLLECTION: &str = "pool.snapshot.query";

pub(crate) fn register(h: &mut Handlers) {
    // 24.10's `zfs.snapshot.*` names are registered only where the release's table has them.
    for [query, get_one, create_one, delete_one, clone_one, rollback_one] in [
        [
            "pool.snapshot.query",
            "pool.snapshot.get_instance",
            "pool.snapshot.create",
            "pool.snapshot.delete",
            "pool.snapshot.clone",
            "pool.snapshot.rollback",
        ],
        [
            "zfs.snapshot.query",
            "zfs.snapshot.get_instance",
            "zfs.snapshot.create",
            "zfs.snapshot.delete",
            "zfs.snapshot.clone",
            "zfs.snapshot.rollback",
        ],
    ] {
        h.call(query, |ctx| {
            let state = ctx.machine.state();
            run_query(ctx, state.storage.snapshots.entries(&state.storage.datasets))
        });
        h.call(get_one, get_instance);
        h.call(create_one, create);
        h.call(delete_one, delete);
        h.call(clone_one, clone_snapshot);
        h.call(rollback_one, rollback);
    }
    h.call("pool.snapshottask.query", |ctx| run_query(ctx, ctx.machine.state().storage.tasks.entries()));
    h.call("pool.snapshottask.get_instance", |ctx| {
        run_get_instance(ctx, ctx.machine.state().storage.tasks.entries(), task_not_found)
    });
    h.call("pool.snapshottask.create", task_create);
    h.call("pool.snapshottask.delete", |ctx| {
        ctx.machine.state().storage.tasks.delete(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
    // TrueNAS 27 runs a snapshot task as a job; earlier releases answer at once.
    if h.release >= Release::V27_0 {
        h.job("pool.snapshottask.run", run_task_job);
    } else {
        h.call("pool.snapshottask.run", |ctx| run_task(ctx.machine, ctx.params.int(0)?));
    }
}

fn run_task_job(ctx: &Ctx<'_>) -> JobPlan {
    let (machine, id) = (Arc::clone(ctx.machine), ctx.params.int(0));
    JobPlan::new(move |_| async move { run_task(&machine, id?) })
}

/// `pool.snapshottask.run`: the task's snapshots, taken now.
fn run_task(machine: &Machine, id: i64) -> Result<Value, Failure> {
    let mut state = machine.state();
    let storage = &mut state.storage;
    storage.tasks.run(id, &mut storage.snapshots, &storage.datasets, &mut storage.txg)?;
    Ok(Value::Null)
}

fn get_instance(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let entry = {
        let state = ctx.machine.state();
        state.storage.snapshots.lookup(id)?.entry(&state.storage.datasets, true)
    };
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(vec![entry], &json!([]), &Value::Object(options)).map_err(|_| snapshot_not_found(id))
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let entry = {
        let mut state = ctx.machine.state();
        let storage = &mut state.storage;
        let id = storage.snapshots.create(&ctx.params.object(0), &storage.datasets, &mut storage.txg)?;
        storage.snapshots.lookup(&id)?.entry(&storage.datasets, false)
    };
    ctx.machine.events.emit(COLLECTION, Change::Added, entry["id"].clone(), Some(entry.clone()));
    Ok(entry)
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let (defer, recursive) = (ctx.params.flag(1, "defer"), ctx.params.flag(1, "recursive"));
    {
        let mut state = ctx.machine.state();
        let storage = &mut state.storage;
        storage.snapshots.delete(id, defer, recursive, &storage.datasets)?;
    }
    ctx.machine.events.emit(COLLECTION, Change::Removed, json!(id), None);
    Ok(json!(true))
}

fn clone_snapshot(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    let target = text("dataset_dst");
    let fields = {
        let mut state = ctx.machine.state();
        let storage = &mut state.storage;
        storage.snapshots.make_clone(text("snapshot"), target, &mut storage.datasets, &mut storage.txg)?;
        Some(dataset_entry::entry(&storage.space(), target))
    };
    ctx.machine.events.emit("pool.dataset.query", Change::Added, json!(target), fields);
    Ok(json!(true))
}

fn rollback(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let (recursive, clones) = (ctx.params.flag(1, "recursive"), ctx.params.flag(1, "recursive_clones"));
    {
        let mut state = ctx.machine.state();
        let storage = &mut state.storage;
        storage.snapshots.rollback(id, recursive, clones, &mut storage.datasets)?;
    }
    Ok(Value::Null)
}

fn task_create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let mut data = ctx.params.value(0);
    if let Some(map) = data.as_object_mut() {
        map.entry("schedule").or_insert_with(|| json!({}));
    }
    defaults::apply(ctx.machine.config.release, "pool.snapshottask.create", 0, &mut data);
    let mut state = ctx.machine.state();
    let storage = &mut state.storage;
    let id = storage.tasks.create(&object(data), &storage.datasets)?;
    Ok(storage.tasks.lookup(id)?.entry())
}

#[cfg(test)]
#[path = "snapshot_methods_tests.rs"]
mod tests;
