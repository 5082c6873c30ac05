//! Tests of `dataset_perm.rs`: `filesystem.setperm` on dataset paths and quotas.

use serde_json::{Value, json};

use crate::json::object;
use crate::storage::Storage;
use crate::storage::dataset_perm;
use crate::storage::storage_seed::seeded;

const GIB: u64 = 1 << 30;

#[test]
fn setperm_works_on_dataset_paths_and_respects_acls() {
    let mut s = seeded();
    let set =
        |s: &mut Storage, data: Value| dataset_perm::setperm(&mut s.datasets, &object(data)).map_err(|f| f.reason());
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
    let perms = &s.datasets.get("tank/documents").unwrap().perms;
    assert_eq!((perms.mode.as_str(), perms.uid, perms.nontrivial_acl), ("770", 950, false));
    set(&mut s, json!({"path": "/mnt/tank/media", "gid": 568, "options": {"recursive": true, "traverse": true}}))
        .unwrap();
    assert_eq!(s.datasets.get("tank/media/photos").unwrap().perms.gid, 568);
}

#[test]
fn quotas_are_listed_by_kind_and_set_in_batches() {
    let mut s = seeded();
    let users = dataset_perm::get_quota(&s.space(), "tank/documents", "USER").unwrap();
    assert_eq!(users[0]["name"], "truenas_admin");
    assert_eq!(users[0]["quota"], json!(100 * GIB));
    let quotas = [
        json!({"quota_type": "USER", "id": "root", "quota_value": 10 * GIB}),
        json!({"quota_type": "USER", "id": "950", "quota_value": 0}),
        json!({"quota_type": "DATASET", "id": "QUOTA", "quota_value": 500 * GIB}),
    ];
    dataset_perm::set_quota(&mut s.datasets, "tank/documents", &quotas).unwrap();
    let users = dataset_perm::get_quota(&s.space(), "tank/documents", "USER").unwrap();
    let ids: Vec<i64> = users.iter().map(|q| q["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [950, 0], "a quota with data stays listed; root's is new");
    assert_eq!(users[0]["quota"], 0);
    assert_eq!(dataset_perm::get_quota(&s.space(), "tank/documents", "DATASET").unwrap()[0]["quota"], json!(500 * GIB));
    let bad = [
        json!({"quota_type": "DATASET", "id": "SIZE", "quota_value": 1}),
        json!({"quota_type": "GROUP", "id": "wheelz", "quota_value": 1}),
    ];
    let err = dataset_perm::set_quota(&mut s.datasets, "tank/documents", &bad).unwrap_err().reason();
    assert!(err.contains("quotas.0.id") && err.contains("group wheelz does not exist"), "{err}");
    assert_eq!(dataset_perm::get_quota(&s.space(), "tank/documents", "PROJECT").unwrap(), Vec::<Value>::new());
}
