//! `cloud_backup.*`: TrueCloud backup tasks (restic), sharing the cloud task machinery of
//! `cloud_sync`: CRUD, the abortable `cloud_backup.sync` job (each run adds a restic snapshot and
//! prunes to `keep_last`), `abort` and `list_snapshots`.

use serde_json::Value;

use crate::data_protection::cloud_sync_methods::{abort, create_task, delete_task, entries, sync_plan, update_task};
use crate::data_protection::cloud_task::CloudKind;
use crate::methods::{Handlers, run_get_instance, run_query};

const KIND: CloudKind = CloudKind::Backup;

pub(crate) fn register(h: &mut Handlers) {
    h.call("cloud_backup.query", |ctx| run_query(ctx, entries(ctx.machine, KIND)));
    h.call("cloud_backup.get_instance", |ctx| {
        run_get_instance(ctx, entries(ctx.machine, KIND), |id| KIND.not_found(id))
    });
    h.call("cloud_backup.create", |ctx| create_task(ctx.machine, KIND, ctx.params.value(0)));
    h.call("cloud_backup.update", |ctx| update_task(ctx, KIND));
    h.call("cloud_backup.delete", |ctx| delete_task(ctx, KIND));
    h.job("cloud_backup.sync", |ctx| sync_plan(ctx, KIND));
    h.call("cloud_backup.abort", |ctx| abort(ctx, KIND));
    h.call("cloud_backup.list_snapshots", |ctx| {
        let state = ctx.machine.state();
        let task = state.data_protection.cloud_backup.get(ctx.params.int(0)?)?;
        Ok(Value::Array(task.snapshots.clone()))
    });
}
