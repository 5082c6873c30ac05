//! `pool.*`: pools on top of `state::storage`. `pool.create`, `update`, `scrub`, `export` and
//! `replace` are jobs with the middleware's locks and progress texts; every change is also
//! published on the `pool.query` collection.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::jobs::JobCtx;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan, run_get_instance, run_query};
use crate::storage::zfs::pool_name;
use crate::storage::{ScanState, pool_entry, pool_not_found};

pub(crate) fn register(h: &mut Handlers) {
    h.call("pool.query", |ctx| run_query(ctx, entries(ctx.machine)));
    h.call("pool.get_instance", |ctx| run_get_instance(ctx, entries(ctx.machine), pool_not_found));
    h.job("pool.create", create);
    h.job("pool.update", update);
    h.job("pool.scrub", scrub);
    h.job("pool.export", export);
    h.job("pool.replace", replace);
    h.call("pool.attachments", attachments);
    h.call("pool.get_disks", |ctx| {
        let id = ctx.params.get(0).and_then(Value::as_i64);
        Ok(json!(ctx.machine.state().storage.pools.disks_of(id)?))
    });
}

fn entries(machine: &Machine) -> Vec<Value> {
    pool_entry::entries(&machine.state().storage.space(), machine.config.release)
}

/// The current `pool.query` entry of pool `id`.
fn pool_entry(machine: &Machine, id: i64) -> Result<Value, Failure> {
    let state = machine.state();
    let pool = state.storage.pools.lookup(id)?;
    Ok(pool_entry::entry(&state.storage.space(), pool, machine.config.release))
}

fn publish_pool(machine: &Machine, change: Change, id: i64) {
    let fields = pool_entry(machine, id).ok();
    machine.events.emit("pool.query", change, json!(id), fields);
}

/// `pool.create`: formats the disks, creates the pool and answers its entry.
fn create(ctx: &Ctx<'_>) -> JobPlan {
    let data = ctx.with_defaults("pool.create", 0);
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        machine.state().storage.pools.check_create(&data)?;
        job.steps(&[(0, "Formatting disks"), (30, "Formatting disks"), (90, "Creating ZFS Pool")]).await;
        job.progress(95, "Setting pool options");
        let id = {
            let mut state = machine.state();
            let storage = &mut state.storage;
            storage.pools.create(&data, &mut storage.datasets, &mut storage.txg)?
        };
        publish_pool(&machine, Change::Added, id);
        pool_entry(&machine, id)
    })
    .lock("pool_createupdate")
}

/// `pool.update`: autotrim, and new vdevs or spares after formatting their disks.
fn update(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let data = ctx.params.object(1);
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        machine.state().storage.pools.check_update(id, &data)?;
        if data.contains_key("topology") {
            job.steps(&[(0, "Formatting disks"), (30, "Formatting disks"), (90, "Extending ZFS Pool")]).await;
        }
        machine.state().storage.pools.update(id, &data)?;
        publish_pool(&machine, Change::Changed, id);
        pool_entry(&machine, id)
    })
    .lock("pool_createupdate")
}

/// `pool.scrub`: START waits for the scrub to finish (or to be paused or cancelled by another
/// call), reporting its percentage; STOP and PAUSE act at once.
fn scrub(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let action = ctx.params.opt_str(1).unwrap_or("START").to_string();
    let name = ctx.machine.state().storage.pools.lookup(id).map(|p| p.name.clone()).unwrap_or_else(|_| id.to_string());
    let description = if action == "START" {
        format!("Scrub of pool '{name}'")
    } else {
        let verb = action.chars().take(1).collect::<String>() + &action[1..].to_lowercase();
        format!("{verb} scrubbing pool '{name}'")
    };
    let lock = format!("{name}-{action}");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        match action.as_str() {
            "STOP" => machine.state().storage.pools.scrub_halt(id, true)?,
            "PAUSE" => machine.state().storage.pools.scrub_halt(id, false)?,
            _ => {
                machine.state().storage.pools.scrub_start(id)?;
                publish_pool(&machine, Change::Changed, id);
                run_scrub(&machine, &job, id).await;
            }
        }
        publish_pool(&machine, Change::Changed, id);
        Ok(Value::Null)
    })
    .described(description)
    .lock(lock)
}

async fn run_scrub(machine: &Machine, job: &JobCtx, id: i64) {
    for percent in [12.5, 25.0, 37.5, 50.0, 62.5, 75.0, 87.5, 100.0] {
        job.step().await;
        let Some(scan) = machine.state().storage.pools.scrub_advance(id, percent) else { return };
        if scan.pause.is_some() {
            job.progress(100, "Scrub paused");
            return;
        }
        match scan.state {
            ScanState::Canceled => return,
            ScanState::Finished => {
                job.progress(100, "Scrub finished");
                return;
            }
            ScanState::Scanning => job.progress(scan.percentage as i64, "Scrubbing"),
        }
    }
}

/// `pool.export`: detaches (or with `destroy` wipes) the pool; its disks are free afterwards.
fn export(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let cascade = ctx.params.flag(1, "cascade");
    let destroy = ctx.params.flag(1, "destroy");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        machine.state().storage.pools.lookup(id)?;
        let attachments = if cascade { "Deleting pool attachments" } else { "Disabling pool attachments" };
        let last = if destroy { "Destroying pool" } else { "Exporting pool" };
        job.steps(&[(5, "Retrieving pool attachments"), (10, attachments), (40, last)]).await;
        machine.state().storage.export_pool(id, cascade, destroy)?;
        machine.events.emit("pool.query", Change::Removed, json!(id), None);
        job.progress(100, "Pool exported");
        Ok(Value::Null)
    })
    .lock("pool_export")
}

/// `pool.replace`: formats the new disk and resilvers onto it.
fn replace(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let options = ctx.params.object(1);
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let text = |key: &str| options.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        machine.state().storage.pools.lookup(id)?;
        job.steps(&[(0, "Formatting disks")]).await;
        machine.state().storage.pools.replace_disk(id, &text("label"), &text("disk"))?;
        job.steps(&[(30, "Replacing disk")]).await;
        if options.get("preserve_settings").and_then(Value::as_bool).unwrap_or(true) {
            job.steps(&[(98, "Copying old disk settings to new")]).await;
        }
        publish_pool(&machine, Change::Changed, id);
        Ok(json!(true))
    })
    .lock("pool_replace")
}

/// `pool.attachments`: what depends on the pool: VMs whose disks live on it, and periodic
/// snapshot tasks of its datasets. (Shares and apps join when their domains do.)
fn attachments(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let state = ctx.machine.state();
    let name = state.storage.pools.lookup(id)?.name.clone();
    let zvols = format!("/dev/zvol/{name}/");
    let files = format!("/mnt/{name}/");
    let on_pool = |device: &Value| {
        device["attributes"]["path"].as_str().is_some_and(|p| p.starts_with(&zvols) || p.starts_with(&files))
    };
    let vms: Vec<Value> = state
        .vm
        .entries()
        .into_iter()
        .filter(|vm| vm["devices"].as_array().is_some_and(|devices| devices.iter().any(on_pool)))
        .map(|vm| vm["name"].clone())
        .collect();
    let tasks: Vec<Value> = state
        .storage
        .tasks
        .entries()
        .into_iter()
        .filter(|t| t["dataset"].as_str().is_some_and(|d| pool_name(d) == name))
        .map(|t| t["dataset"].clone())
        .collect();
    let mut out = Vec::new();
    for (kind, items) in [("Snapshot Task", tasks), ("VM", vms)] {
        if !items.is_empty() {
            out.push(json!({"type": kind, "service": null, "attachments": items}));
        }
    }
    Ok(Value::Array(out))
}
