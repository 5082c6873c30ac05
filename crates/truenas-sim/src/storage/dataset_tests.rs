use serde_json::{Map, Value, json};

use super::*;
use crate::json::object;
use crate::storage::storage_seed::{SECURE_PASSPHRASE, seeded};

fn create(s: &mut Storage, data: Value) -> Result<String, String> {
    s.create_dataset(object(data)).map_err(|f| f.reason())
}

const GIB: u64 = 1 << 30;

#[test]
fn entries_show_values_sources_space_and_children() {
    let s = seeded();
    let docs = s.dataset_entry("tank/documents");
    assert_eq!(docs["type"], "FILESYSTEM");
    assert_eq!(docs["pool"], "tank");
    assert_eq!(docs["mountpoint"], "/mnt/tank/documents");
    assert_eq!(
        docs["compression"],
        json!({"parsed": "lz4", "rawvalue": "lz4", "value": "LZ4", "source": "INHERITED", "source_info": "tank"})
    );
    assert_eq!(docs["acltype"]["value"], "NFSV4");
    assert_eq!(docs["acltype"]["source"], "LOCAL");
    assert_eq!(docs["casesensitivity"]["source"], "NONE");
    assert_eq!(docs["atime"]["parsed"], false);
    assert_eq!(docs["quota"]["value"], Value::Null);
    assert_eq!(docs["comments"]["value"], "Family documents and scans");
    assert_eq!(docs["recordsize"]["value"], "128K");
    let used = docs["used"]["parsed"].as_u64().unwrap();
    let snapshots = docs["usedbysnapshots"]["parsed"].as_u64().unwrap();
    assert!(snapshots > 700 << 20, "{snapshots}");
    assert_eq!(used, 180 * GIB + snapshots);
    assert_eq!(docs["encrypted"], false);
    assert_eq!(docs["key_format"]["value"], Value::Null);
    let backups = s.dataset_entry("tank/backups");
    let available = backups["available"]["parsed"].as_u64().unwrap();
    assert_eq!(available, 2048 * GIB - 1126 * GIB, "the 2 TiB quota bounds what is left");
    let zvol = s.dataset_entry("tank/vms/windows11-disk0");
    assert_eq!(zvol["type"], "VOLUME");
    assert_eq!(zvol["mountpoint"], Value::Null);
    assert!(zvol.get("atime").is_none() && zvol.get("volsize").is_some());
    assert_eq!(zvol["usedbyrefreservation"]["parsed"], json!(38 * GIB));
    let media = s.dataset_entry("tank/media");
    assert_eq!(media["children"][0]["name"], "tank/media/photos");
    let flat: Vec<String> = s.dataset_entries(true).iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(flat.first().map(String::as_str), Some("tank"));
    assert!(
        flat.iter().position(|n| n == "tank/media").unwrap() + 1
            == flat.iter().position(|n| n == "tank/media/photos").unwrap()
    );
    assert_eq!(s.dataset_entries(false).len(), 2, "one tree per pool");
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
    s.lock_dataset("tank/secure").unwrap();
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
    let entry = s.dataset_entry("tank/family");
    assert_eq!(entry["casesensitivity"]["value"], "INSENSITIVE");
    assert_eq!(entry["aclmode"]["value"], "RESTRICTED");
    assert_eq!(entry["atime"]["value"], "ON");
    create(&mut s, json!({"name": "tank/vms/new-disk0", "type": "VOLUME", "volsize": 20 * GIB})).unwrap();
    let zvol = s.dataset_entry("tank/vms/new-disk0");
    assert_eq!(zvol["refreservation"]["parsed"], json!(20 * GIB));
    assert_eq!(zvol["volblocksize"]["value"], "16K");
    create(&mut s, json!({"name": "tank/deep/er/path", "create_ancestors": true})).unwrap();
    assert!(s.datasets.contains_key("tank/deep/er"));
    let encrypted = json!({"name": "tank/vault", "encryption": true, "inherit_encryption": false,
                           "encryption_options": {"passphrase": "long enough phrase"}});
    create(&mut s, encrypted).unwrap();
    let entry = s.dataset_entry("tank/vault");
    assert_eq!(entry["encryption_root"], "tank/vault");
    assert_eq!(entry["key_format"]["value"], "PASSPHRASE");
    assert_eq!(entry["encryption_algorithm"]["value"], "AES-256-GCM");
}

#[test]
fn update_sets_inherits_and_guards_sizes() {
    let mut s = seeded();
    s.update_dataset("tank/media", object(json!({"compression": "INHERIT", "quota": 4u64 << 40, "atime": "ON"})))
        .unwrap();
    let media = s.dataset_entry("tank/media");
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
    assert_eq!(s.dataset_entry("tank/documents")["acltype"]["source"], "INHERITED");
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
    assert!(!s.snapshots.keys().any(|k| k.starts_with("tank/documents@")));
    assert!(!s.tasks.values().any(|t| t.dataset == "tank/documents"), "its snapshot task goes with it");
    assert_eq!(s.delete_dataset("tank/documents", true).unwrap_err(), dataset_not_found("tank/documents"));
    s.delete_dataset("tank/scratch", false).unwrap();
}

#[test]
fn only_passphrase_roots_lock_and_unlock_needs_the_passphrase() {
    let mut s = seeded();
    assert_eq!(s.lock_dataset("tank/media").unwrap_err().reason(), "[EFAULT] tank/media is not encrypted");
    s.lock_dataset("tank/secure").unwrap();
    assert_eq!(s.dataset_entry("tank/secure")["locked"], true);
    assert_eq!(s.dataset_entry("tank/secure")["mountpoint"], Value::Null);
    assert!(s.lock_dataset("tank/secure").unwrap_err().reason().contains("already locked"));
    let summary = s.encryption_summary("tank/secure", &Map::new()).unwrap();
    assert_eq!(summary[0]["unlock_error"], "Key not provided");
    let wrong = object(json!({"datasets": [{"name": "tank/secure", "passphrase": "nope nope"}]}));
    assert_eq!(
        s.unlock_dataset("tank/secure", &wrong).unwrap(),
        json!({"unlocked": [], "failed": {"tank/secure": {"error": "Invalid Key", "skipped": []}}})
    );
    let right = object(json!({"datasets": [{"name": "tank/secure", "passphrase": SECURE_PASSPHRASE}]}));
    assert_eq!(s.encryption_summary("tank/secure", &right).unwrap()[0]["valid_key"], true);
    assert_eq!(s.unlock_dataset("tank/secure", &right).unwrap()["unlocked"], json!(["tank/secure"]));
    assert!(s.unlock_dataset("tank/secure", &right).unwrap_err().reason().contains("is not locked"));
    create(
        &mut s,
        json!({"name": "tank/keyed", "encryption": true, "inherit_encryption": false,
                          "encryption_options": {"generate_key": true}}),
    )
    .unwrap();
    let err = s.lock_dataset("tank/keyed").unwrap_err().reason();
    assert!(err.contains("Only datasets which are encrypted with passphrase can be locked"), "{err}");
}

#[test]
fn setperm_works_on_dataset_paths_and_respects_acls() {
    let mut s = seeded();
    let set = |s: &mut Storage, data: Value| s.setperm(&object(data)).map_err(|f| f.reason());
    assert!(set(&mut s, json!({"path": "tank/backups"})).unwrap_err().contains("Must be an absolute path"));
    assert!(set(&mut s, json!({"path": "/etc"})).unwrap_err().contains("not beneath the directory /mnt"));
    assert!(set(&mut s, json!({"path": "/mnt/tank"})).unwrap_err().contains("is a ZFS pool mountpoint"));
    assert_eq!(set(&mut s, json!({"path": "/mnt/nowhere/x"})), Err("[ENOENT] Path /mnt/nowhere/x not found".into()));
    let err = set(&mut s, json!({"path": "/mnt/tank/documents", "mode": "770"})).unwrap_err();
    assert!(err.contains("Non-trivial ACL present on [/mnt/tank/documents]"), "{err}");
    assert!(
        set(&mut s, json!({"path": "/mnt/tank/isos", "user": "mallory"}))
            .unwrap_err()
            .contains("mallory: user does not exist")
    );
    set(
        &mut s,
        json!({"path": "/mnt/tank/documents", "mode": "770", "user": "truenas_admin", "options": {"stripacl": true}}),
    )
    .unwrap();
    let perms = &s.datasets["tank/documents"].perms;
    assert_eq!((perms.mode.as_str(), perms.uid, perms.nontrivial_acl), ("770", 950, false));
    set(&mut s, json!({"path": "/mnt/tank/media", "gid": 568, "options": {"recursive": true, "traverse": true}}))
        .unwrap();
    assert_eq!(s.datasets["tank/media/photos"].perms.gid, 568);
}

#[test]
fn quotas_are_listed_by_kind_and_set_in_batches() {
    let mut s = seeded();
    let users = s.get_quota("tank/documents", "USER").unwrap();
    assert_eq!(users[0]["name"], "truenas_admin");
    assert_eq!(users[0]["quota"], json!(100 * GIB));
    let quotas = [
        json!({"quota_type": "USER", "id": "root", "quota_value": 10 * GIB}),
        json!({"quota_type": "USER", "id": "950", "quota_value": 0}),
        json!({"quota_type": "DATASET", "id": "QUOTA", "quota_value": 500 * GIB}),
    ];
    s.set_quota("tank/documents", &quotas).unwrap();
    let users = s.get_quota("tank/documents", "USER").unwrap();
    let ids: Vec<i64> = users.iter().map(|q| q["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [950, 0], "a quota with data stays listed; root's is new");
    assert_eq!(users[0]["quota"], 0);
    assert_eq!(s.get_quota("tank/documents", "DATASET").unwrap()[0]["quota"], json!(500 * GIB));
    let bad = [
        json!({"quota_type": "DATASET", "id": "SIZE", "quota_value": 1}),
        json!({"quota_type": "GROUP", "id": "wheelz", "quota_value": 1}),
    ];
    let err = s.set_quota("tank/documents", &bad).unwrap_err().reason();
    assert!(err.contains("quotas.0.id") && err.contains("group wheelz does not exist"), "{err}");
    assert_eq!(s.get_quota("tank/documents", "PROJECT").unwrap(), Vec::<Value>::new());
}
