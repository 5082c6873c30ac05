//! Scheduled and boot-time tasks and the SSH keychain: cron jobs (`cronjob.*`), rsync tasks
//! (`rsynctask.*`), init/shutdown scripts (`initshutdownscript.*`), keychain credentials
//! (`keychaincredential.*`) and kernel tunables (`tunable.*`), each a plain row store, seeded
//! with what a homelab NAS typically has.

use serde_json::{Map, Value, json};

use super::records::Records;

/// The task stores of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Tasks {
    pub(crate) cronjobs: Records,
    pub(crate) rsync: Records,
    pub(crate) initshutdown: Records,
    pub(crate) keychain: Records,
    pub(crate) tunables: Records,
}

fn row(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A sample OpenSSH public key (not a real key; the simulated NAS never uses it).
pub(crate) const SAMPLE_PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeSimulatedKeyMaterialForTheTrueNASSimulator0001 truenas-sim";

impl Tasks {
    pub(crate) fn demo() -> Tasks {
        let mut cronjobs = Records::new("Cron Job");
        cronjobs.insert(row(json!({
            "enabled": true, "stderr": false, "stdout": true,
            "schedule": {"minute": "30", "hour": "3", "dom": "*", "month": "*", "dow": "7"},
            "command": "/mnt/tank/scripts/prune-backups.sh", "description": "Prune old backup archives", "user": "root",
        })));
        let mut keychain = Records::new("Keychain Credential");
        keychain.insert(row(json!({
            "name": "backup-box key", "type": "SSH_KEY_PAIR",
            "attributes": {"private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n(simulated)\n-----END OPENSSH PRIVATE KEY-----\n", "public_key": SAMPLE_PUBLIC_KEY},
        })));
        keychain.insert(row(json!({
            "name": "backup-box", "type": "SSH_CREDENTIALS",
            "attributes": {"host": "192.168.1.60", "port": 22, "username": "backup", "private_key": 1,
                "remote_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedRemoteHostKey", "connect_timeout": 10},
        })));
        let mut rsync = Records::new("Rsync Task");
        rsync.insert(row(json!({
            "path": "/mnt/tank/photos", "user": "root", "mode": "SSH", "remotehost": "192.168.1.60",
            "remoteport": 22, "remotemodule": null, "ssh_credentials": {"id": 2, "name": "backup-box"},
            "remotepath": "/srv/backup/photos", "direction": "PUSH", "desc": "Photos to the backup box",
            "schedule": {"minute": "00", "hour": "2", "dom": "*", "month": "*", "dow": "*"},
            "recursive": true, "times": true, "compress": true, "archive": false, "delete": false, "quiet": false,
            "preserveperm": false, "preserveattr": false, "delayupdates": true, "extra": [], "enabled": true,
            "locked": false, "job": null,
        })));
        let mut initshutdown = Records::new("Init Shutdown Script");
        initshutdown.insert(row(json!({
            "type": "COMMAND", "command": "ethtool -K enp3s0 tso off", "script": "", "when": "POSTINIT",
            "enabled": true, "timeout": 10, "comment": "Work around NIC offload bug",
        })));
        let mut tunables = Records::new("Tunable");
        tunables.insert(row(json!({
            "type": "SYSCTL", "var": "vm.swappiness", "value": "10", "comment": "Prefer the ARC over swap",
            "enabled": true, "orig_value": "60",
        })));
        Tasks { cronjobs, rsync, initshutdown, keychain, tunables }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_a_row_in_every_store() {
        let t = Tasks::demo();
        for store in [&t.cronjobs, &t.rsync, &t.initshutdown, &t.tunables] {
            assert_eq!(store.entries().len(), 1);
        }
        assert_eq!(t.keychain.get(2).unwrap()["attributes"]["private_key"], 1);
    }
}
