//! The data protection domain: replication tasks, cloud credentials, cloud sync and cloud
//! backup tasks (`replication.*`, `cloudsync.*`, `cloud_backup.*`).
//!
//! State: this file's type and `replication` (replication tasks), `replication_checks` (what
//! replication tasks refuse), `cloud_task` (cloud sync and cloud backup tasks), `cloud_credentials`
//! (cloud credentials), `cloud_providers` (the providers table of `cloudsync.providers`).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `replication_methods`
//! (`replication.*`), `cloud_sync_methods` (`cloudsync.*`), `cloud_backup_methods`
//! (`cloud_backup.*`).
//!
//! The data protection tasks that copy data elsewhere: replication tasks, cloud credentials,
//! cloud sync tasks and cloud backup tasks, with the demo NAS's seed (a local replication of the
//! documents, an offsite one over SSH, a Backblaze B2 and a Storj credential, nightly syncs of
//! documents and photos, weekly TrueCloud backups).

pub(crate) mod cloud_backup_methods;
pub(crate) mod cloud_credentials;
pub(crate) mod cloud_providers;
pub(crate) mod cloud_sync_methods;
pub(crate) mod cloud_task;
pub(crate) mod replication;
pub(crate) mod replication_methods;

use serde_json::{Value, json};

use crate::data_protection::cloud_credentials::CloudCredentials;
use crate::data_protection::cloud_task::{CloudKind, CloudTasks};
use crate::data_protection::replication::Replications;
use crate::defaults;
use crate::storage::{Storage, date};
use truenas_api::schema::Release;

/// Replication, cloud sync and cloud backup state.
#[derive(Debug)]
pub(crate) struct DataProtection {
    pub(crate) replications: Replications,
    pub(crate) credentials: CloudCredentials,
    pub(crate) cloud_sync: CloudTasks,
    pub(crate) cloud_backup: CloudTasks,
}

impl Default for DataProtection {
    fn default() -> Self {
        DataProtection {
            replications: Replications::default(),
            credentials: CloudCredentials::default(),
            cloud_sync: CloudTasks::new(CloudKind::Sync),
            cloud_backup: CloudTasks::new(CloudKind::Backup),
        }
    }
}

/// 2025-06-14 02:00 UTC, when the seeded tasks last ran.
const LAST_NIGHT: u64 = 1_749_866_400;

/// A finished run from before the simulated boot, as `core.get_jobs` showed it.
fn past_job(id: u64, method: &str, task: i64, minutes: u64) -> Value {
    json!({
        "id": id, "message_ids": [], "method": method, "arguments": [task], "transient": false,
        "description": null, "abortable": true, "logs_path": null, "logs_excerpt": null,
        "progress": {"percent": 100, "description": "Finished", "extra": null},
        "result": null, "result_encoding_error": null, "error": null, "exception": null, "exc_info": null,
        "state": "SUCCESS", "time_started": date(LAST_NIGHT), "time_finished": date(LAST_NIGHT + minutes * 60),
        "credentials": null,
    })
}

/// A restic snapshot of `path` as `cloud_backup.list_snapshots` lists it.
pub(crate) fn restic_snapshot(path: &str, secs: u64, seq: u64) -> Value {
    let id = format!("{:016x}{:016x}{:016x}{:016x}", secs, seq, secs ^ 0x5eed, seq.wrapping_mul(0x9e37_79b9));
    json!({
        "id": id,
        "short_id": id.get(..8).unwrap_or_default(),
        "hostname": "truenas",
        "username": "root",
        "time": iso_time(secs),
        "paths": [path],
        "tags": null,
        "program_version": "restic 0.17.3",
    })
}

/// RFC 3339 time of a Unix time, as restic prints it.
fn iso_time(secs: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl DataProtection {
    /// The demo seed; every entry passes the same checks a create would.
    pub(crate) fn demo(release: Release, storage: &Storage) -> DataProtection {
        let mut dp = DataProtection::default();
        let credentials = [
            json!({"name": "Backblaze B2", "provider": {"type": "B2", "account": "0012a3b4c5d6", "key": "K001sImUlAtEdB2aPpLiCaTiOnKeY"}}),
            json!({"name": "Storj (TrueCloud)", "provider": {"type": "STORJ_IX", "access_key_id": "jx7demoaccessgrant", "secret_access_key": "jz3demosecretkey9f8e7d6c5b4a"}}),
            json!({"name": "AWS S3 (old)", "provider": {"type": "S3", "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "eu-west-1"}}),
        ];
        for credential in credentials {
            let _ = dp.credentials.create(&defaults::filled(release, "cloudsync.credentials.create", 0, credential));
        }

        let replications = [
            json!({"name": "documents-local-backup", "direction": "PUSH", "transport": "LOCAL",
                   "source_datasets": ["tank/documents"], "target_dataset": "tank/backups/documents",
                   "recursive": false, "auto": true, "retention_policy": "SOURCE",
                   "also_include_naming_schema": ["auto-%Y-%m-%d_%H-%M"],
                   "schedule": {"minute": "0", "hour": "1", "dom": "*", "month": "*", "dow": "*"}}),
            json!({"name": "media-offsite", "direction": "PUSH", "transport": "SSH", "ssh_credentials": 2,
                   "source_datasets": ["tank/media"], "target_dataset": "backup/truenas/media",
                   "recursive": true, "exclude": ["tank/media/photos"], "auto": true, "retention_policy": "CUSTOM",
                   "lifetime_value": 4, "lifetime_unit": "WEEK", "also_include_naming_schema": ["before-%Y%m%d"],
                   "schedule": {"minute": "30", "hour": "3", "dom": "*", "month": "*", "dow": "6"}}),
        ];
        for replication in replications {
            let _ = dp.replications.create(defaults::filled(release, "replication.create", 0, replication), storage);
        }
        let last = Some("tank/documents@auto-2025-06-14_00-00".to_string());
        dp.replications.finish_seeded(1, last, LAST_NIGHT + 120, past_job(38, "replication.run", 1, 2));

        let syncs = [
            json!({"description": "Documents to B2", "direction": "PUSH", "transfer_mode": "SYNC",
                   "path": "/mnt/tank/documents", "credentials": 1,
                   "attributes": {"bucket": "homelab-backup", "folder": "/documents"},
                   "schedule": {"minute": "0", "hour": "2", "dom": "*", "month": "*", "dow": "*"},
                   "transfers": 4, "exclude": ["*.tmp", "~$*"]}),
            json!({"description": "Photos to B2", "direction": "PUSH", "transfer_mode": "COPY",
                   "path": "/mnt/tank/media/photos", "credentials": 1,
                   "attributes": {"bucket": "homelab-backup", "folder": "/photos"},
                   "schedule": {"minute": "0", "hour": "4", "dom": "*", "month": "*", "dow": "0"},
                   "encryption": true, "encryption_password": "sImUlAtEd-crypt-pass", "encryption_salt": "sImUlAtEd-salt"}),
        ];
        for sync in syncs {
            let _ =
                dp.cloud_sync.create(defaults::filled(release, "cloudsync.create", 0, sync), &dp.credentials, storage);
        }
        if let Ok(task) = dp.cloud_sync.get_mut(1) {
            task.past_job = Some(past_job(39, "cloudsync.sync", 1, 7));
        }

        let backups = [
            json!({"description": "Documents to TrueCloud", "path": "/mnt/tank/documents", "credentials": 2,
                   "attributes": {"bucket": "truenas-backup", "folder": "/documents"},
                   "schedule": {"minute": "0", "hour": "5", "dom": "*", "month": "*", "dow": "0"},
                   "password": "sImUlAtEd-restic-repo-pass", "keep_last": 14}),
            json!({"description": "VM images to TrueCloud", "path": "/mnt/tank/vms", "credentials": 2,
                   "attributes": {"bucket": "truenas-backup", "folder": "/vms"}, "enabled": false,
                   "password": "sImUlAtEd-restic-vms-pass", "keep_last": 4, "transfer_setting": "PERFORMANCE"}),
        ];
        for backup in backups {
            let _ = dp.cloud_backup.create(
                defaults::filled(release, "cloud_backup.create", 0, backup),
                &dp.credentials,
                storage,
            );
        }
        if let Ok(task) = dp.cloud_backup.get_mut(1) {
            task.past_job = Some(past_job(40, "cloud_backup.sync", 1, 11));
            for week in (0..3).rev() {
                let secs = LAST_NIGHT + 3 * 3600 - week * 7 * 86_400;
                task.snapshots.push(restic_snapshot("/mnt/tank/documents", secs, 3 - week));
            }
        }
        dp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_passes_the_create_checks_on_both_releases() {
        for release in Release::ALL {
            let mut storage = Storage::default();
            crate::storage::storage_seed::seed(&mut storage);
            let dp = DataProtection::demo(release, &storage);
            assert_eq!(dp.credentials.entries().len(), 3, "{release}");
            assert_eq!(
                dp.replications.entries(&storage, &crate::system::tasks::Tasks::demo().keychain, &[]).len(),
                2,
                "{release}"
            );
            assert_eq!(dp.cloud_sync.entries(&dp.credentials, &[], Some(&storage)).len(), 2, "{release}");
            assert_eq!(dp.cloud_backup.entries(&dp.credentials, &[], None).len(), 2, "{release}");
            assert_eq!(dp.replications.get(1).map(|r| r.state["state"].clone()).ok(), Some(json!("FINISHED")));
        }
    }
}
