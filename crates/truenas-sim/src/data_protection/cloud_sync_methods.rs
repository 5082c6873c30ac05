//! `cloudsync.*` and `cloudsync.credentials.*`: cloud credentials, cloud sync tasks, the
//! `cloudsync.sync` job (rclone-like progress, abortable), `abort`, `restore`, and browsing the
//! simulated clouds (`providers`, `list_buckets`, `list_directory`). The clouds are fake: every
//! bucket provider has the same three buckets with a few folders and files.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::data_protection::cloud_credentials::{credential_not_found, verify};
use crate::data_protection::cloud_providers::providers;
use crate::data_protection::cloud_task::{CloudKind, is_active, last_job};
use crate::defaults;
use crate::failure::Failure;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::state::State;
use truenas_api::schema::Release;

/// The buckets every simulated bucket provider holds.
const BUCKETS: [&str; 3] = ["homelab-backup", "truenas-backup", "archive"];
/// When the simulated remote files were last changed.
const MOD_TIME: &str = "2025-06-14T02:07:31.000000000Z";

pub(crate) fn register(h: &mut Handlers) {
    h.reads(
        "cloudsync.credentials",
        |ctx| ctx.machine.state().data_protection.credentials.entries(),
        credential_not_found,
    );
    h.call("cloudsync.credentials.create", create_credential);
    h.call("cloudsync.credentials.update", update_credential);
    h.call("cloudsync.credentials.delete", delete_credential);
    h.call("cloudsync.credentials.verify", |ctx| Ok(verify(&ctx.params.object(0))));

    tasks(h, "cloudsync", CloudKind::Sync);
    h.call("cloudsync.restore", restore);
    h.call("cloudsync.providers", |_| Ok(providers()));
    h.call("cloudsync.list_buckets", list_buckets);
    h.call("cloudsync.list_directory", list_directory);
}

/// The methods both task kinds answer under `namespace`: CRUD, `sync` (a job) and `abort`.
pub(crate) fn tasks(h: &mut Handlers, namespace: &str, kind: CloudKind) {
    h.reads(namespace, move |ctx| entries(ctx.machine, kind), move |id| kind.not_found(id));
    h.call(&format!("{namespace}.create"), move |ctx| create_task(ctx.machine, kind, ctx.params.value(0)));
    h.call(&format!("{namespace}.update"), move |ctx| update_task(ctx, kind));
    h.call(&format!("{namespace}.delete"), move |ctx| delete_task(ctx, kind));
    h.job(&format!("{namespace}.sync"), move |ctx| sync_plan(ctx, kind));
    h.call(&format!("{namespace}.abort"), move |ctx| abort(ctx, kind));
}

fn store(state: &State, kind: CloudKind) -> &crate::data_protection::cloud_task::CloudTasks {
    match kind {
        CloudKind::Sync => &state.data_protection.cloud_sync,
        CloudKind::Backup => &state.data_protection.cloud_backup,
    }
}

/// Every task of `kind` as `query` shows it.
pub(crate) fn entries(machine: &Machine, kind: CloudKind) -> Vec<Value> {
    let jobs = machine.jobs.dicts();
    let state = machine.state();
    store(&state, kind).entries(&state.data_protection.credentials, &jobs, datasets(machine, &state))
}

/// TrueNAS 26.0 resolves a task's path to its dataset in every entry.
fn datasets<'a>(machine: &Machine, state: &'a State) -> Option<&'a crate::storage::Storage> {
    (machine.config.release >= Release::V26_0).then_some(&state.storage)
}

fn entry(machine: &Machine, kind: CloudKind, id: i64) -> Result<Value, Failure> {
    let jobs = machine.jobs.dicts();
    let state = machine.state();
    let tasks = store(&state, kind);
    Ok(tasks.entry(tasks.get(id)?, &state.data_protection.credentials, &jobs, datasets(machine, &state)))
}

pub(crate) fn create_task(machine: &Machine, kind: CloudKind, data: Value) -> Result<Value, Failure> {
    let method = if kind == CloudKind::Sync { "cloudsync.create" } else { "cloud_backup.create" };
    let data = defaults::filled(machine.config.release, method, 0, data);
    let id = {
        let mut state = machine.state();
        let State { storage, data_protection, .. } = &mut *state;
        let tasks =
            if kind == CloudKind::Sync { &mut data_protection.cloud_sync } else { &mut data_protection.cloud_backup };
        tasks.create(data, &data_protection.credentials, storage)?
    };
    entry(machine, kind, id)
}

pub(crate) fn update_task(ctx: &Ctx<'_>, kind: CloudKind) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    {
        let mut state = ctx.machine.state();
        let State { storage, data_protection, .. } = &mut *state;
        let tasks =
            if kind == CloudKind::Sync { &mut data_protection.cloud_sync } else { &mut data_protection.cloud_backup };
        tasks.update(id, ctx.params.object(1), &data_protection.credentials, storage)?;
    }
    entry(ctx.machine, kind, id)
}

pub(crate) fn delete_task(ctx: &Ctx<'_>, kind: CloudKind) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let mut state = ctx.machine.state();
    let dp = &mut state.data_protection;
    let tasks = if kind == CloudKind::Sync { &mut dp.cloud_sync } else { &mut dp.cloud_backup };
    tasks.delete(id)?;
    Ok(json!(true))
}

/// `abort`: stops the task's waiting or running job; `false` when it has none.
pub(crate) fn abort(ctx: &Ctx<'_>, kind: CloudKind) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    store(&ctx.machine.state(), kind).get(id)?;
    let jobs = ctx.machine.jobs.dicts();
    let Some(job) = last_job(&jobs, kind.sync_method(), id).filter(|j| is_active(j)) else {
        return Ok(json!(false));
    };
    ctx.machine.jobs.abort(job["id"].as_u64().unwrap_or_default())?;
    Ok(json!(true))
}

/// The sync job of a task of `kind`: one run per task at a time, abortable, with progress.
pub(crate) fn sync_plan(ctx: &Ctx<'_>, kind: CloudKind) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let machine = Arc::clone(ctx.machine);
    let lock = match kind {
        CloudKind::Sync => format!("cloud_sync:{id}"),
        CloudKind::Backup => format!("cloud_backup:{id}"),
    };
    JobPlan::new(move |job| async move {
        let (path, remote) = {
            let state = machine.state();
            let task = store(&state, kind).get(id)?;
            let attributes = task.fields.get("attributes").cloned().unwrap_or_default();
            let bucket = attributes.get("bucket").and_then(Value::as_str).unwrap_or_default();
            let folder = attributes.get("folder").and_then(Value::as_str).unwrap_or_default();
            (task.text("path").to_string(), format!("{bucket}{folder}"))
        };
        job.progress(0, &format!("Locking local path {path:?}"));
        job.step().await;
        job.progress(0, "Starting");
        for percent in [15, 40, 65, 90] {
            let gib = f64::from(percent) * 0.042;
            job.progress(
                i64::from(percent),
                &format!("Transferred: {gib:.3} GiB / 4.200 GiB, {percent}%, to {remote}"),
            );
            job.step().await;
        }
        if kind == CloudKind::Backup {
            let secs = u64::try_from(crate::clock::now_secs()).unwrap_or_default();
            let mut state = machine.state();
            let tasks = &mut state.data_protection.cloud_backup;
            let seq = tasks.get(id).map(|t| t.snapshots.len() as u64).unwrap_or_default() + 1;
            let snapshot = crate::data_protection::restic_snapshot(&path, secs, seq);
            tasks.add_snapshot(id, snapshot)?;
        }
        Ok(Value::Null)
    })
    .lock(lock)
    .abortable()
}

fn restore(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let data = ctx.machine.state().data_protection.cloud_sync.restore_data(id, &data)?;
    create_task(ctx.machine, CloudKind::Sync, Value::Object(data))
}

fn create_credential(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("cloudsync.credentials.create", 0);
    let mut state = ctx.machine.state();
    let credentials = &mut state.data_protection.credentials;
    let id = credentials.create(&data)?;
    Ok(credentials.get(id)?.entry())
}

fn update_credential(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let data = ctx.with_defaults("cloudsync.credentials.update", 1);
    let mut state = ctx.machine.state();
    let credentials = &mut state.data_protection.credentials;
    credentials.update(id, &data)?;
    Ok(credentials.get(id)?.entry())
}

/// Refused while a cloud sync or cloud backup task uses the credential.
fn delete_credential(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let mut state = ctx.machine.state();
    let dp = &mut state.data_protection;
    dp.credentials.get(id)?;
    if let Some(task) = dp.cloud_sync.user_of(id) {
        return Err(Failure::fault(format!("This credential is used by cloud sync task {task}")));
    }
    if let Some(task) = dp.cloud_backup.user_of(id) {
        return Err(Failure::fault(format!("This credential is used by cloud backup task {task}")));
    }
    dp.credentials.delete(id)?;
    Ok(json!(true))
}

/// An rclone `lsjson` item.
fn item(path: &str, name: &str, size: i64, dir: bool) -> Value {
    let mime = if dir { "inode/directory" } else { "application/octet-stream" };
    json!({"Path": path, "Name": name, "Size": size, "MimeType": mime, "ModTime": MOD_TIME, "IsDir": dir})
}

fn list_buckets(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let state = ctx.machine.state();
    let credential = state.data_protection.credentials.get(id)?;
    if !credential.has_buckets() {
        return Err(Failure::fault(format!("{} provider does not support buckets", credential.kind())));
    }
    let buckets = BUCKETS.iter().map(|b| {
        let mut bucket = item(b, b, -1, true);
        bucket["IsBucket"] = json!(true);
        bucket
    });
    Ok(Value::Array(buckets.collect()))
}

/// Lists a folder of the simulated remote: the top holds one folder per backed-up dataset, each
/// folder a few files.
fn list_directory(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let request = ctx.params.object(0);
    let id = request.get("credentials").and_then(Value::as_i64).unwrap_or_default();
    let attributes = request.get("attributes").cloned().unwrap_or_default();
    let state = ctx.machine.state();
    let credential = state.data_protection.credentials.get(id)?;
    let bucket = attributes.get("bucket").and_then(Value::as_str).unwrap_or_default();
    if credential.has_buckets() && !BUCKETS.contains(&bucket) {
        return Err(Failure::fault("directory not found"));
    }
    let folder = attributes.get("folder").and_then(Value::as_str).unwrap_or_default().trim_matches('/');
    let items: Vec<Value> = if folder.is_empty() {
        ["documents", "media", "photos", "vms"].iter().map(|d| item(d, d, -1, true)).collect()
    } else {
        [("notes.md", 18_432), ("taxes-2024.pdf", 2_841_003), ("holiday.jpg", 4_120_774)]
            .iter()
            .map(|(name, size)| item(name, name, *size, false))
            .collect()
    };
    Ok(Value::Array(items))
}

#[cfg(test)]
#[path = "cloud_sync_methods_tests.rs"]
mod tests;
