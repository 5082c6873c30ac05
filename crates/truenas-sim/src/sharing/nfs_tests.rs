use serde_json::{Map, Value, json};

use super::*;
use crate::sharing::sharing_seed;
use crate::sharing::testing::shape_problems;
use crate::test_support::{created, reason};

fn demo() -> NfsStore {
    sharing_seed::nfs(Release::V25_10)
}

fn data(value: Value) -> Map<String, Value> {
    created("sharing.nfs.create", value)
}

#[test]
fn the_seed_exports_media_read_only_and_backups_to_one_host() {
    let s = demo();
    let entries = s.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0]["path"].clone(), entries[0]["ro"].clone()), (json!("/mnt/tank/media"), json!(true)));
    assert_eq!(entries[1]["hosts"], json!(["192.168.1.20"]));
    assert_eq!(entries[1]["security"], json!([]));
    assert_eq!(s.clients, 2);
}

#[test]
fn created_exports_are_listed_updated_and_deleted() {
    let mut s = demo();
    let id = s.create(data(json!({"path": "/mnt/tank/documents", "networks": ["10.0.0.0/24"]}))).unwrap();
    assert_eq!(id, 3);
    s.update(id, object(json!({"ro": true, "comment": "office"}))).unwrap();
    let entry = s.entry(id).unwrap();
    assert_eq!((entry["ro"].clone(), entry["comment"].clone()), (json!(true), json!("office")));
    s.delete(id).unwrap();
    assert_eq!(reason(s.entry(id)), "[ENOENT] None: SharingNFS 3 does not exist\n");
}

#[test]
fn a_path_cannot_be_exported_twice_to_the_same_client() {
    let mut s = demo();
    let err = reason(s.create(data(json!({"path": "/mnt/tank/backups", "hosts": ["192.168.1.20"]}))));
    assert_eq!(
        err,
        "[EINVAL] sharingnfs_create.hosts: ERROR - Another NFS share already exports /mnt/tank/backups for host 192.168.1.20\n"
    );
    let err = reason(s.create(data(json!({"path": "/mnt/tank/media", "networks": ["192.168.1.0/24"]}))));
    assert!(err.contains("already exports /mnt/tank/media for network 192.168.1.0/24"), "{err}");
    s.create(data(json!({"path": "/mnt/tank/backups", "hosts": ["192.168.1.21"]}))).unwrap();
}

#[test]
fn user_mapping_rules_are_enforced() {
    let mut s = demo();
    let err = reason(s.update(2, object(json!({"mapall_user": "nobody"}))));
    assert_eq!(err, "[EINVAL] sharingnfs_update.mapall_user: maproot_user disqualifies mapall_user\n");
    let err = reason(s.create(data(json!({"path": "/mnt/tank/x", "maproot_group": "wheel"}))));
    assert_eq!(err, "[EINVAL] sharingnfs_create.maproot_user: This field is required when map group is specified\n");
    let err = reason(s.create(data(json!({"path": "/srv/x"}))));
    assert_eq!(err, "[EINVAL] sharingnfs_create.path: The path must reside within a pool mount point\n");
}

#[test]
fn kerberos_flavours_need_nfsv4() {
    let mut s = demo();
    s.update_config(object(json!({"protocols": ["NFSV3"]}))).unwrap();
    let err = reason(s.create(data(json!({"path": "/mnt/tank/x", "security": ["SYS", "KRB5", "KRB5P"]}))));
    assert_eq!(
        err,
        "[EINVAL] sharingnfs_create.security: The following security flavor(s) require NFSv4 to be enabled: KRB5,KRB5P.\n"
    );
}

#[test]
fn service_settings_validate_and_report_managed_threads() {
    let mut s = demo();
    let config = s.config();
    assert_eq!((config["servers"].clone(), config["managed_nfsd"].clone()), (json!(12), json!(true)));
    s.update_config(object(json!({"servers": 4, "mountd_port": 618}))).unwrap();
    let config = s.config();
    assert_eq!((config["servers"].clone(), config["managed_nfsd"].clone()), (json!(4), json!(false)));
    let err = reason(s.update_config(object(json!({"protocols": []}))));
    assert!(err.starts_with("[EINVAL] nfs_update.protocols: Must specify at least one value"), "{err}");
    let err = reason(s.update_config(object(json!({"bindip": ["10.1.1.1"]}))));
    assert_eq!(err, "[EINVAL] nfs_update.bindip.0: Cannot use 10.1.1.1. Please provide a valid ip address.\n");
    let err = reason(s.update_config(object(json!({"protocols": ["NFSV3"], "v4_domain": "lan"}))));
    assert_eq!(err, "[EINVAL] nfs_update.v4_domain: This option does not apply to NFSv3\n");
}

#[test]
fn results_match_the_returns_schemas_of_both_releases() {
    let mut problems = Vec::new();
    for release in [Release::V25_10, Release::V26_0] {
        let s = sharing_seed::nfs(release);
        problems.extend(shape_problems(release, "sharing.nfs.query", &Value::Array(s.entries())));
        problems.extend(shape_problems(release, "sharing.nfs.get_instance", &s.entry(2).unwrap()));
        problems.extend(shape_problems(release, "nfs.config", &s.config()));
    }
    let entry = sharing_seed::nfs(Release::V26_0).entry(1).unwrap();
    assert_eq!((entry["dataset"].clone(), entry["relative_path"].clone()), (json!("tank/media"), json!("")));
    assert!(problems.is_empty(), "{problems:#?}");
}
