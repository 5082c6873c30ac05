//! Tests of `Storage` (mod.rs): `pool.dataset.create`, `update`, `delete` and `pool.export`.

use serde_json::{Map, Value, json};

use super::*;
use crate::json::object;
use crate::storage::snapshot_task::SnapshotTask;
use crate::storage::storage_seed::seeded;
use crate::storage::{dataset_crypto, dataset_entry};

const GIB: u64 = 1 << 30;

/// `pool.dataset.create` with `data`, its failure as the reason TrueNAS gives.
pub(crate) fn create(s: &mut Storage, data: Value) -> Result<String, String> {
    s.create_dataset(object(data)).map_err(|f| f.reason())
}

#[test]
fn create_refuses_what_the_middleware_refuses() {
    let mut s = seeded();
    assert_eq!(
        create(&mut s, json!({"name": "tank"})),
        Err("[EINVAL] pool_dataset_create.name: You need a full name, e.g. pool/newdataset\n".into())
    );
    assert!(create(&mut s, json!({"name": "tank/bad@name"})).unwrap_err().contains("Invalid dataset name"));
    assert!(
        create(&mut s, json!({"name": "tank/a/b"})).unwrap_err().contains("Parent dataset (tank/a) does not exist.")
    );
    assert!(create(&mut s, json!({"name": "nopool/a"})).unwrap_err().contains("zpool (nopool) does not exist."));
    assert!(create(&mut s, json!({"name": "tank/media"})).unwrap_err().contains("Path /mnt/tank/media already exists"));
    let err = create(&mut s, json!({"name": "tank/vms/windows11-disk0/x"})).unwrap_err();
    assert!(err.contains("tank/vms/windows11-disk0: parent may not be a ZFS volume"), "{err}");
    let err = create(&mut s, json!({"name": "tank/p", "acltype": "POSIX", "aclmode": "RESTRICTED"})).unwrap_err();
    assert!(err.contains("pool_dataset_create.aclmode: Must be set to DISCARD when acltype is POSIX or OFF"), "{err}");
    let err = create(&mut s, json!({"name": "tank/p", "recordsize": "3K"})).unwrap_err();
    assert!(err.contains("'3K' is an invalid recordsize."), "{err}");
    let err = create(&mut s, json!({"name": "tank/z", "type": "VOLUME", "volsize": 100_000u64})).unwrap_err();
    assert!(err.contains("Volume size should be a multiple of volume block size"), "{err}");
    let err = create(&mut s, json!({"name": "tank/z", "type": "VOLUME", "volsize": 16u64 << 40})).unwrap_err();
    assert!(err.contains("more than 80% of your available space"), "{err}");
    let err = create(&mut s, json!({"name": "tank/e", "encryption": true})).unwrap_err();
    assert!(err.contains("inherit_encryption: Must be disabled when encryption is enabled."), "{err}");
    assert!(err.contains("encryption_options.key: Please provide a key"), "{err}");
    let err = create(&mut s, json!({"name": "tank/secure/plain", "inherit_encryption": false})).unwrap_err();
    assert!(err.contains("Cannot create an unencrypted dataset within an encrypted dataset (tank/secure)."), "{err}");
    dataset_crypto::lock(&mut s.datasets, "tank/secure").unwrap();
    let err = create(&mut s, json!({"name": "tank/secure/x"})).unwrap_err();
    assert!(err.contains("tank/secure must be unlocked to create tank/secure/x."), "{err}");
}

#[test]
fn created_datasets_take_share_presets_and_zvols_are_thick() {
    let mut s = seeded();
    assert_eq!(
        create(&mut s, json!({"name": "tank/family", "share_type": "SMB", "atime": "ON"})),
        Ok("tank/family".into())
    );
    let entry = dataset_entry::entry(&s.space(), "tank/family");
    assert_eq!(entry["casesensitivity"]["value"], "INSENSITIVE");
    assert_eq!(entry["aclmode"]["value"], "RESTRICTED");
    assert_eq!(entry["atime"]["value"], "ON");
    create(&mut s, json!({"name": "tank/vms/new-disk0", "type": "VOLUME", "volsize": 20 * GIB})).unwrap();
    let zvol = dataset_entry::entry(&s.space(), "tank/vms/new-disk0");
    assert_eq!(zvol["refreservation"]["parsed"], json!(20 * GIB));
    assert_eq!(zvol["volblocksize"]["value"], "16K");
    create(&mut s, json!({"name": "tank/deep/er/path", "create_ancestors": true})).unwrap();
    assert!(s.datasets.contains("tank/deep/er"));
    let encrypted = json!({"name": "tank/vault", "encryption": true, "inherit_encryption": false,
                           "encryption_options": {"passphrase": "long enough phrase"}});
    create(&mut s, encrypted).unwrap();
    let entry = dataset_entry::entry(&s.space(), "tank/vault");
    assert_eq!(entry["encryption_root"], "tank/vault");
    assert_eq!(entry["key_format"]["value"], "PASSPHRASE");
    assert_eq!(entry["encryption_algorithm"]["value"], "AES-256-GCM");
}

#[test]
fn update_sets_inherits_and_guards_sizes() {
    let mut s = seeded();
    s.update_dataset("tank/media", object(json!({"compression": "INHERIT", "quota": 4u64 << 40, "atime": "ON"})))
        .unwrap();
    let media = dataset_entry::entry(&s.space(), "tank/media");
    assert_eq!(media["compression"]["source"], "INHERITED");
    assert_eq!(media["quota"]["value"], "4T");
    assert_eq!(media["atime"]["source"], "LOCAL");
    let err = s.update_dataset("tank/media", object(json!({"quota": 2u64 << 30}))).unwrap_err().reason();
    assert!(err.contains("size is less than current used or reserved space"), "{err}");
    let err = s.update_dataset("tank/vms/haos-disk0", object(json!({"volsize": 16 * GIB}))).unwrap_err().reason();
    assert!(err.contains("You cannot shrink a zvol from GUI"), "{err}");
    let err = s.update_dataset("tank/media", object(json!({"volsize": GIB}))).unwrap_err().reason();
    assert!(err.contains("pool_dataset_update.volsize: This field is not valid for FILESYSTEM"), "{err}");
    let err = s.update_dataset("tank/nope", Map::new()).unwrap_err().reason();
    assert_eq!(err, "[ENOENT] id: tank/nope does not exist\n");
    let err = s.update_dataset("tank/documents", object(json!({"acltype": "POSIX"}))).unwrap_err().reason();
    assert!(err.contains("Must be set to DISCARD when acltype is POSIX or OFF"), "the local RESTRICTED stays: {err}");
    s.update_dataset("tank/documents", object(json!({"acltype": "POSIX", "aclmode": "DISCARD"}))).unwrap();
    s.update_dataset("tank/documents", object(json!({"acltype": "INHERIT", "aclmode": "INHERIT"}))).unwrap();
    assert_eq!(dataset_entry::entry(&s.space(), "tank/documents")["acltype"]["source"], "INHERITED");
}

#[test]
fn delete_needs_recursive_for_children_and_refuses_dependent_clones_and_pools() {
    let mut s = seeded();
    let err = s.delete_dataset("tank", true).unwrap_err().reason();
    assert!(err.contains("operation does not apply to pools"), "{err}");
    let err = s.delete_dataset("tank/media", false).unwrap_err();
    assert_eq!(
        err.reason(),
        "[ENOTEMPTY] Failed to delete dataset: cannot destroy 'tank/media': filesystem has children"
    );
    let err = s.delete_dataset("tank/vms/ubuntu_server-disk0", true).unwrap_err().reason();
    assert!(err.contains("filesystem has dependent clones"), "{err}");
    assert!(err.contains("tank/vms/ubuntu_server-disk0-clone"), "{err}");
    s.delete_dataset("tank/documents", true).unwrap();
    assert!(!s.snapshots.ids().any(|k| k.starts_with("tank/documents@")));
    assert!(!s.tasks.iter().any(|t| t.dataset == "tank/documents"), "its snapshot task goes with it");
    assert_eq!(s.delete_dataset("tank/documents", true).unwrap_err(), dataset_not_found("tank/documents"));
    s.delete_dataset("tank/scratch", false).unwrap();
}

#[test]
fn export_removes_the_pool_and_its_datasets_and_frees_its_disks() {
    let mut s = seeded();
    s.tasks.insert(task_on("offsite/documents", 9));
    assert_eq!(s.export_pool(2, false, false).unwrap(), "offsite");
    assert!(s.pools.lookup(2).is_err());
    assert!(!s.datasets.names().any(|n| n.starts_with("offsite")));
    assert!(!s.snapshots.ids().any(|n| n.starts_with("offsite")));
    assert!(!s.tasks.lookup(9).unwrap().enabled, "without cascade a task on the pool is only disabled");
    assert!(s.pools.unused_disks().iter().any(|d| d.name == "sdi"));
    s.export_pool(1, true, true).unwrap();
    assert!(s.tasks.iter().all(|t| t.dataset.starts_with("offsite")), "cascade deletes the tasks");
}

/// An enabled daily task on `dataset`.
fn task_on(dataset: &str, id: i64) -> SnapshotTask {
    SnapshotTask {
        id,
        dataset: dataset.into(),
        recursive: false,
        lifetime_value: 1,
        lifetime_unit: "DAY".into(),
        enabled: true,
        exclude: Vec::new(),
        naming_schema: "auto-%Y-%m-%d_%H-%M".into(),
        allow_empty: true,
        schedule: Map::new(),
        last_run: None,
    }
}
