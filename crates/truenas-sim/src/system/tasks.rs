//! Scheduled and boot-time tasks and the SSH keychain: cron jobs (`cronjob.*`), rsync tasks
//! (`rsynctask.*`), init/shutdown scripts (`initshutdownscript.*`), keychain credentials
//! (`keychaincredential.*`) and kernel tunables (`tunable.*`), each a plain row store, seeded
//! with what a homelab NAS typically has.
//!
//! Rsync rows keep their SSH credential as an id, as TrueNAS's table keeps a foreign key; their
//! entries embed the whole credential ([`Tasks::rsync_entries`]). The keychain's own rules
//! live in `keychain.rs`.

use serde_json::{Map, Value, json};

use crate::json::object;

use crate::records::Records;
use crate::storage::fs::FileSystem;
use crate::system::keychain::derive_public_key;
use truenas_api::schema::Release;

/// The task stores of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Tasks {
    pub(crate) cronjobs: Records,
    pub(crate) rsync: Records,
    pub(crate) initshutdown: Records,
    pub(crate) keychain: Records,
    pub(crate) tunables: Records,
}

/// The seeded key pair's private half (simulated; never a usable key).
const SAMPLE_PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\n\
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
SimulatedPrivateKeyMaterialOfTheTrueNASSimulatorNotARealKey0001\n\
-----END OPENSSH PRIVATE KEY-----\n";

/// The host key `keychaincredential.remote_ssh_host_key_scan` finds on the backup box.
const BACKUP_BOX_HOST_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedRemoteHostKeyOfBackupBox";

impl Tasks {
    pub(crate) fn demo() -> Tasks {
        let mut cronjobs = Records::new("CronJob");
        cronjobs.insert(object(json!({
            "enabled": true, "stderr": false, "stdout": true,
            "schedule": {"minute": "30", "hour": "3", "dom": "*", "month": "*", "dow": "7"},
            "command": "/mnt/tank/scripts/prune-backups.sh", "description": "Prune old backup archives", "user": "root",
        })));
        cronjobs.insert(object(json!({
            "enabled": false, "stderr": false, "stdout": true,
            "schedule": {"minute": "00", "hour": "6", "dom": "1", "month": "*", "dow": "*"},
            "command": "du -sh /mnt/tank/home/alice", "description": "Monthly home usage report", "user": "alice",
        })));
        let mut keychain = Records::new("KeychainCredential");
        keychain.insert(object(json!({
            "name": "backup-box key", "type": "SSH_KEY_PAIR",
            "attributes": {"private_key": SAMPLE_PRIVATE_KEY,
                "public_key": format!("{} root@truenas\n", derive_public_key(SAMPLE_PRIVATE_KEY))},
        })));
        keychain.insert(object(json!({
            "name": "backup-box", "type": "SSH_CREDENTIALS",
            "attributes": {"host": "192.168.1.60", "port": 22, "username": "backup", "private_key": 1,
                "remote_host_key": BACKUP_BOX_HOST_KEY, "connect_timeout": 10},
        })));
        keychain.insert(object(json!({
            "name": "old laptop key", "type": "SSH_KEY_PAIR",
            "attributes": {"private_key": null,
                "public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQSimulatedOldLaptopPublicKey alice@laptop"},
        })));
        let mut rsync = Records::new("RsyncTask");
        rsync.insert(object(json!({
            "path": "/mnt/tank/media/photos", "user": "root", "mode": "SSH", "remotehost": "192.168.1.60",
            "remoteport": 22, "remotemodule": null, "ssh_credentials": 2,
            "remotepath": "/srv/backup/photos", "direction": "PUSH", "desc": "Photos to the backup box",
            "schedule": {"minute": "00", "hour": "2", "dom": "*", "month": "*", "dow": "*"},
            "recursive": true, "times": true, "compress": true, "archive": false, "delete": false, "quiet": false,
            "preserveperm": false, "preserveattr": false, "delayupdates": true, "extra": [], "enabled": true,
            "locked": false, "job": null,
        })));
        rsync.insert(object(json!({
            "path": "/mnt/offsite/weekly", "user": "root", "mode": "MODULE", "remotehost": "192.168.1.61",
            "remoteport": null, "remotemodule": "documents", "ssh_credentials": null,
            "remotepath": "", "direction": "PULL", "desc": "Pull documents from the old NAS",
            "schedule": {"minute": "15", "hour": "4", "dom": "*", "month": "*", "dow": "6"},
            "recursive": true, "times": true, "compress": true, "archive": true, "delete": false, "quiet": false,
            "preserveperm": true, "preserveattr": false, "delayupdates": true, "extra": ["--bwlimit=20M"],
            "enabled": false, "locked": false, "job": null,
        })));
        let mut initshutdown = Records::new("InitShutdownScript");
        initshutdown.insert(object(json!({
            "type": "COMMAND", "command": "ethtool -K enp3s0 tso off", "script": "", "when": "POSTINIT",
            "enabled": true, "timeout": 10, "comment": "Work around NIC offload bug",
        })));
        initshutdown.insert(object(json!({
            "type": "COMMAND", "command": "logger 'NAS going down'", "script": "", "when": "SHUTDOWN",
            "enabled": true, "timeout": 5, "comment": "Note shutdowns in the system log",
        })));
        let mut tunables = Records::new("Tunable");
        tunables.insert(object(json!({
            "type": "SYSCTL", "var": "vm.swappiness", "value": "10", "comment": "Prefer the ARC over swap",
            "enabled": true, "orig_value": "60",
        })));
        Tasks { cronjobs, rsync, initshutdown, keychain, tunables }
    }

    /// The keychain credential an rsync row's `ssh_credentials` id names, as its entry embeds
    /// it (`null` for none, or for a credential since deleted).
    fn embedded_credential(&self, reference: Option<&Value>) -> Value {
        reference.and_then(Value::as_i64).and_then(|id| self.keychain.get(id).ok()).unwrap_or(Value::Null)
    }

    /// `rsynctask.query` entries: the credential embedded, and on 26.0 the dataset holding the
    /// path and the path below its mountpoint (`null` outside the pools).
    pub(crate) fn rsync_entries(&self, fs: &FileSystem, release: Release) -> Vec<Value> {
        let mut entries = self.rsync.entries();
        for entry in &mut entries {
            let Value::Object(map) = entry else { continue };
            let credential = self.embedded_credential(map.get("ssh_credentials"));
            map.insert("ssh_credentials".into(), credential);
            if release >= Release::V26_0 {
                let path = map.get("path").and_then(Value::as_str).unwrap_or_default();
                let (dataset, relative) = dataset_split(fs, path);
                // The two fields follow `path`, as TrueNAS lists them.
                let mut ordered = Map::new();
                for (key, value) in std::mem::take(map) {
                    let after_path = key == "path";
                    ordered.insert(key, value);
                    if after_path {
                        ordered.insert("dataset".into(), dataset.clone());
                        ordered.insert("relative_path".into(), relative.clone());
                    }
                }
                *map = ordered;
            }
        }
        entries
    }
}

/// The dataset holding `path` and the path below its mountpoint; both `null` outside the pools.
pub(crate) fn dataset_split(fs: &FileSystem, path: &str) -> (Value, Value) {
    let (mountpoint, _, _) = fs.dataset_of(path);
    let Some(dataset) = mountpoint.strip_prefix("/mnt/") else { return (Value::Null, Value::Null) };
    let normalized = crate::storage::fs::normalize(path);
    let relative = normalized.strip_prefix(&mountpoint).unwrap_or_default().trim_start_matches('/');
    (json!(dataset), json!(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_rows_in_every_store() {
        let t = Tasks::demo();
        for store in [&t.cronjobs, &t.rsync, &t.initshutdown] {
            assert_eq!(store.entries().len(), 2);
        }
        assert_eq!(t.tunables.entries().len(), 1);
        assert_eq!(t.keychain.get(2).unwrap()["attributes"]["private_key"], 1);
    }

    #[test]
    fn rsync_entries_embed_the_credential_and_on_26_place_the_path_in_its_dataset() {
        let t = Tasks::demo();
        let fs = crate::storage::fs_seed::demo();
        let old = t.rsync_entries(&fs, Release::V25_10);
        assert_eq!(old[0]["ssh_credentials"]["name"], "backup-box");
        assert_eq!(old[0]["ssh_credentials"]["type"], "SSH_CREDENTIALS");
        assert_eq!(old[1]["ssh_credentials"], Value::Null);
        assert!(old[0].get("dataset").is_none());
        let new = t.rsync_entries(&fs, Release::V26_0);
        assert_eq!((&new[0]["dataset"], &new[0]["relative_path"]), (&json!("tank/media/photos"), &json!("")));
        let keys: Vec<&String> = new[0].as_object().unwrap().keys().take(4).collect();
        assert_eq!(keys, ["id", "path", "dataset", "relative_path"]);
    }

    #[test]
    fn paths_split_into_dataset_and_relative_path() {
        let fs = crate::storage::fs_seed::demo();
        assert_eq!(dataset_split(&fs, "/mnt/tank/media/movies/"), (json!("tank/media"), json!("movies")));
        assert_eq!(dataset_split(&fs, "/root"), (Value::Null, Value::Null));
    }
}
