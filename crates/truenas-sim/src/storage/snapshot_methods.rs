//! `pool.snapshot.*` (the public snapshot API since 25.10; `zfs.snapshot.*` is private there) and
//! `pool.snapshottask.*`, on top of `state::storage`. On 24.10, where `zfs.snapshot.*` is the
//! public API with the same params, the same handlers answer under those names. Snapshot
//! changes are published on `pool.snapshot.query`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::defaults;
use crate::events::Change;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, JobPlan, object, run_get_instance, run_query};
use crate::query;
use crate::storage::{snapshot_not_found, task_not_found};
use truenas_api::schema::Release;

const COLLECTION: &str = "pool.snapshot.query";

pub(crate) fn register(h: &mut Handlers) {
    h.call("pool.snapshot.query", |ctx| run_query(ctx, ctx.machine.state().storage.snapshot_entries()));
    h.call("pool.snapshot.get_instance", get_instance);
    h.call("pool.snapshot.create", create);
    h.call("pool.snapshot.delete", delete);
    h.call("pool.snapshot.clone", clone_snapshot);
    h.call("pool.snapshot.rollback", rollback);
    // 24.10's names; registered only where the release's table has them.
    h.call("zfs.snapshot.query", |ctx| run_query(ctx, ctx.machine.state().storage.snapshot_entries()));
    h.call("zfs.snapshot.get_instance", get_instance);
    h.call("zfs.snapshot.create", create);
    h.call("zfs.snapshot.delete", delete);
    h.call("zfs.snapshot.clone", clone_snapshot);
    h.call("zfs.snapshot.rollback", rollback);
    h.call("pool.snapshottask.query", |ctx| run_query(ctx, ctx.machine.state().storage.task_entries()));
    h.call("pool.snapshottask.get_instance", |ctx| {
        run_get_instance(ctx, ctx.machine.state().storage.task_entries(), task_not_found)
    });
    h.call("pool.snapshottask.create", task_create);
    h.call("pool.snapshottask.delete", |ctx| {
        ctx.machine.state().storage.delete_task(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
    // TrueNAS 27 runs a snapshot task as a job; earlier releases answer at once.
    if h.release >= Release::V27_0 {
        h.job("pool.snapshottask.run", run_task_job);
    } else {
        h.call("pool.snapshottask.run", |ctx| {
            ctx.machine.state().storage.run_task(ctx.params.int(0)?)?;
            Ok(Value::Null)
        });
    }
}

fn run_task_job(ctx: &Ctx<'_>) -> JobPlan {
    let (machine, id) = (Arc::clone(ctx.machine), ctx.params.int(0));
    JobPlan::new(move |_| async move {
        machine.state().storage.run_task(id?)?;
        Ok(Value::Null)
    })
}

fn get_instance(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let entry = {
        let state = ctx.machine.state();
        let snap = state.storage.snapshot(id)?;
        state.storage.snapshot_entry(snap, true)
    };
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(vec![entry], &json!([]), &Value::Object(options)).map_err(|_| snapshot_not_found(id))
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let entry = {
        let mut state = ctx.machine.state();
        let id = state.storage.create_snapshot(&ctx.params.object(0))?;
        let snap = state.storage.snapshot(&id)?;
        state.storage.snapshot_entry(snap, false)
    };
    ctx.machine.events.emit(COLLECTION, Change::Added, entry["id"].clone(), Some(entry.clone()));
    Ok(entry)
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let (defer, recursive) = (ctx.params.flag(1, "defer"), ctx.params.flag(1, "recursive"));
    ctx.machine.state().storage.delete_snapshot(id, defer, recursive)?;
    ctx.machine.events.emit(COLLECTION, Change::Removed, json!(id), None);
    Ok(json!(true))
}

fn clone_snapshot(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    let target = text("dataset_dst");
    ctx.machine.state().storage.clone_snapshot(text("snapshot"), target)?;
    let fields = Some(ctx.machine.state().storage.dataset_entry(target));
    ctx.machine.events.emit("pool.dataset.query", Change::Added, json!(target), fields);
    Ok(json!(true))
}

fn rollback(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let (recursive, clones) = (ctx.params.flag(1, "recursive"), ctx.params.flag(1, "recursive_clones"));
    ctx.machine.state().storage.rollback_snapshot(id, recursive, clones)?;
    Ok(Value::Null)
}

fn task_create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let mut data = ctx.params.value(0);
    if let Some(map) = data.as_object_mut() {
        map.entry("schedule").or_insert_with(|| json!({}));
    }
    defaults::apply(ctx.machine.config.release, "pool.snapshottask.create", 0, &mut data);
    let mut state = ctx.machine.state();
    let id = state.storage.create_task(&object(data))?;
    Ok(state.storage.task(id)?.entry())
}

#[cfg(test)]
#[path = "snapshot_methods_tests.rs"]
mod tests;
