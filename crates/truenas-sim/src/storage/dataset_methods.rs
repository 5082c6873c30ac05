//! `pool.dataset.*`: datasets and zvols on top of `state::storage` (CRUD, quotas, promotion,
//! and the encryption jobs `lock`, `unlock`, `encryption_summary`). `filesystem.setperm`, which is
//! how TrueNAS 24.10 and later set a dataset's permissions, lives with the file tree and keeps the
//! dataset's recorded permissions in step.
//! Changes are published on `pool.dataset.query`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::query;
use crate::storage::{dataset_crypto, dataset_entry, dataset_not_found, dataset_perm};

const COLLECTION: &str = "pool.dataset.query";

pub(crate) fn register(h: &mut Handlers) {
    h.call("pool.dataset.query", query_datasets);
    h.call("pool.dataset.get_instance", get_instance);
    h.call("pool.dataset.create", create);
    h.call("pool.dataset.update", update);
    h.call("pool.dataset.delete", delete);
    h.call("pool.dataset.promote", promote);
    h.call("pool.dataset.get_quota", |ctx| {
        let rows =
            dataset_perm::get_quota(&ctx.machine.state().storage.space(), ctx.params.str(0)?, ctx.params.str(1)?)?;
        query::run(rows, &ctx.params.value(2), &ctx.params.value(3))
    });
    h.call("pool.dataset.set_quota", |ctx| {
        let quotas = ctx.params.get(1).and_then(Value::as_array).cloned().unwrap_or_default();
        dataset_perm::set_quota(&mut ctx.machine.state().storage.datasets, ctx.params.str(0)?, &quotas)?;
        Ok(Value::Null)
    });
    h.job("pool.dataset.encryption_summary", encryption_summary);
    h.job("pool.dataset.lock", lock);
    h.job("pool.dataset.unlock", unlock);
}

/// Publishes the current entry of dataset `name`.
fn publish_dataset(machine: &Machine, change: Change, name: &str) {
    machine
        .events
        .emit_entry(COLLECTION, change, name, || Some(dataset_entry::entry(&machine.state().storage.space(), name)));
}

/// `extra.flat` (default `true`): every dataset, or only each pool's root with its tree.
fn query_datasets(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let options = ctx.params.value(1);
    let flat = options.pointer("/extra/flat").and_then(Value::as_bool).unwrap_or(true);
    let rows = dataset_entry::entries(&ctx.machine.state().storage.space(), flat);
    query::run(rows, &ctx.params.value(0), &options)
}

fn get_instance(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let name = ctx.params.str(0)?;
    let entry = {
        let state = ctx.machine.state();
        state.storage.datasets.lookup(name)?;
        dataset_entry::entry(&state.storage.space(), name)
    };
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(vec![entry], &json!([]), &Value::Object(options)).map_err(|_| dataset_not_found(name))
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let name = ctx.machine.state().storage.create_dataset(ctx.params.object(0))?;
    publish_dataset(ctx.machine, Change::Added, &name);
    Ok(dataset_entry::entry(&ctx.machine.state().storage.space(), &name))
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let name = ctx.params.str(0)?;
    ctx.machine.state().storage.update_dataset(name, ctx.params.object(1))?;
    publish_dataset(ctx.machine, Change::Changed, name);
    Ok(dataset_entry::entry(&ctx.machine.state().storage.space(), name))
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let name = ctx.params.str(0)?;
    ctx.machine.state().storage.delete_dataset(name, ctx.params.flag(1, "recursive"))?;
    publish_dataset(ctx.machine, Change::Removed, name);
    Ok(json!(true))
}

fn promote(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let name = ctx.params.str(0)?;
    {
        let mut state = ctx.machine.state();
        let storage = &mut state.storage;
        storage.snapshots.promote(name, &mut storage.datasets)?;
    }
    publish_dataset(ctx.machine, Change::Changed, name);
    Ok(Value::Null)
}

/// A job that runs `work` on the storage after one progress step.
fn storage_job(
    ctx: &Ctx<'_>,
    what: &'static str,
    work: impl FnOnce(&Machine) -> Result<Value, Failure> + Send + 'static,
) -> JobPlan {
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.progress(10, what);
        job.step().await;
        let result = work(&machine)?;
        job.progress(100, "Done");
        Ok(result)
    })
}

fn encryption_summary(ctx: &Ctx<'_>) -> JobPlan {
    let name = ctx.params.str(0).unwrap_or_default().to_string();
    let options = ctx.params.object(1);
    storage_job(ctx, "Retrieving encryption summary", move |machine| {
        dataset_crypto::encryption_summary(&machine.state().storage.datasets, &name, &options)
    })
}

fn lock(ctx: &Ctx<'_>) -> JobPlan {
    let name = ctx.params.str(0).unwrap_or_default().to_string();
    let lock = format!("dataset_lock_{name}");
    storage_job(ctx, "Unmounting datasets", move |machine| {
        dataset_crypto::lock(&mut machine.state().storage.datasets, &name)?;
        publish_dataset(machine, Change::Changed, &name);
        Ok(json!(true))
    })
    .lock(lock)
}

fn unlock(ctx: &Ctx<'_>) -> JobPlan {
    let name = ctx.params.str(0).unwrap_or_default().to_string();
    let options = ctx.params.object(1);
    let lock = format!("dataset_unlock_{name}");
    storage_job(ctx, "Unlocking datasets", move |machine| {
        let result = dataset_crypto::unlock(&mut machine.state().storage.datasets, &name, &options)?;
        publish_dataset(machine, Change::Changed, &name);
        Ok(result)
    })
    .lock(lock)
}
