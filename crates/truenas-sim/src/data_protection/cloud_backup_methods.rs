//! `cloud_backup.*`: TrueCloud backup tasks (restic), sharing the cloud task machinery of
//! `cloud_sync`: CRUD, the abortable `cloud_backup.sync` job (each run adds a restic snapshot and
//! prunes to `keep_last`), `abort` and `list_snapshots`.

use serde_json::Value;

use crate::data_protection::cloud_sync_methods::tasks;
use crate::data_protection::cloud_task::CloudKind;
use crate::methods::Handlers;

const KIND: CloudKind = CloudKind::Backup;

pub(crate) fn register(h: &mut Handlers) {
    tasks(h, "cloud_backup", KIND);
    h.call("cloud_backup.list_snapshots", |ctx| {
        let state = ctx.machine.state();
        let task = state.data_protection.cloud_backup.get(ctx.params.int(0)?)?;
        Ok(Value::Array(task.snapshots.clone()))
    });
}

#[cfg(test)]
#[path = "cloud_backup_methods_tests.rs"]
mod tests;
