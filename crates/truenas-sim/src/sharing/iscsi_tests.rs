use serde_json::{Map, Value, json};

use super::*;
use crate::sharing::sharing_seed;
use crate::sharing::testing::shape_problems;

fn demo() -> IscsiStore {
    sharing_seed::iscsi(Release::V25_10)
}

use crate::test_support::{created as data, reason};

fn file_extent(name: &str, path: &str, size: u64) -> Map<String, Value> {
    data("iscsi.extent.create", json!({"name": name, "type": "FILE", "path": path, "filesize": size}))
}

#[test]
fn the_seed_maps_a_zvol_and_a_file_to_two_targets() {
    let s = demo();
    let targets = s.target_entries();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["groups"], json!([{"portal": 1, "initiator": 1, "authmethod": "NONE", "auth": null}]));
    assert_eq!((targets[0]["rel_tgt_id"].clone(), targets[1]["rel_tgt_id"].clone()), (json!(1), json!(2)));
    let extents = s.extent_entries();
    assert_eq!(extents[0]["path"], "zvol/tank/iscsi/esxi-datastore");
    assert_eq!(extents[0]["disk"], "zvol/tank/iscsi/esxi-datastore");
    assert_eq!((extents[1]["disk"].clone(), extents[1]["filesize"].clone()), (Value::Null, json!("0")));
    assert!(extents[0]["naa"].as_str().unwrap().starts_with("0x6589cfc000000"));
    assert_eq!(extents[0]["naa"].as_str().unwrap().len(), 34);
    let luns: Vec<(i64, i64, i64)> = s
        .targetextent_entries()
        .iter()
        .map(|m| (m["target"].as_i64().unwrap(), m["lunid"].as_i64().unwrap(), m["extent"].as_i64().unwrap()))
        .collect();
    assert_eq!(luns, [(1, 0, 1), (2, 0, 2)]);
    assert_eq!(s.portal_entry(1).unwrap()["listen"], json!([{"ip": "0.0.0.0", "port": 3260}]));
    assert_eq!(s.session_entries()[0]["target"], "iqn.2005-10.org.freenas.ctl:esxi-datastore");
}

#[test]
fn a_target_with_logged_in_initiators_is_deleted_only_with_force() {
    let mut s = demo();
    assert_eq!(reason(s.delete_target(1, false, false)), "[EFAULT] Target esxi-datastore is in use.");
    assert_eq!(reason(s.delete_targetextent(1, false)), "[EFAULT] Associated target esxi-datastore is in use.");
    assert_eq!(reason(s.delete_extent(1, false, false)), "[EFAULT] Associated target(s) esxi-datastore is in use.");
    s.delete_target(1, true, false).unwrap();
    assert!(s.session_entries().is_empty(), "its session ends");
    assert_eq!(s.targetextent_entries().len(), 1, "its LUN mapping goes");
    assert_eq!(s.extent_entries().len(), 2, "the extent stays");
    assert_eq!(reason(s.delete_target(1, true, false)), "[ENOENT] None: iSCSITarget 1 does not exist\n");
}

#[test]
fn deleting_a_target_with_its_extents_removes_them() {
    let mut s = demo();
    s.delete_target(2, false, true).unwrap();
    let names: Vec<Value> = s.extent_entries().iter().map(|e| e["name"].clone()).collect();
    assert_eq!(names, [json!("esxi-datastore")]);
}

#[test]
fn target_names_aliases_and_groups_are_checked() {
    let mut s = demo();
    let target = |v: Value| data("iscsi.target.create", v);
    let err = reason(s.create_target(target(json!({"name": "Bad_Name"}))));
    assert!(err.contains("iscsi_target_create.name: Only lowercase alphanumeric characters"), "{err}");
    let err = reason(s.create_target(target(json!({"name": "esxi-datastore"}))));
    assert_eq!(err, "[EINVAL] iscsi_target_create.name: Target with this name already exists\n");
    let err = reason(s.create_target(target(json!({"name": "t", "alias": "ESXi datastore"}))));
    assert_eq!(err, "[EINVAL] iscsi_target_create.alias: Alias already exists\n");
    let groups =
        json!([{"portal": 1}, {"portal": 1}, {"portal": 9}, {"portal": 1, "initiator": 7, "authmethod": "CHAP"}]);
    let err = reason(s.create_target(target(json!({"name": "t", "groups": groups}))));
    assert_eq!(
        err,
        "[EINVAL] iscsi_target_create.groups.1.portal: Portal 1 cannot be duplicated on a target\n\
         [EINVAL] iscsi_target_create.groups.2.portal: 9 Portal not found in database\n\
         [EINVAL] iscsi_target_create.groups.3.portal: Portal 1 cannot be duplicated on a target\n\
         [EINVAL] iscsi_target_create.groups.3.initiator: 7 Initiator not found in database\n\
         [EINVAL] iscsi_target_create.groups.3.auth: Authentication group is required for CHAP and CHAP Mutual\n"
    );
    let mutual = json!([{"portal": 1, "authmethod": "CHAP_MUTUAL", "auth": 1}]);
    let err = reason(s.create_target(target(json!({"name": "t", "groups": mutual}))));
    assert_eq!(
        err,
        "[EINVAL] iscsi_target_create.groups.0.auth: Authentication group 1 does not support CHAP Mutual\n"
    );
    let id = s
        .create_target(target(json!({"name": "t", "groups": [{"portal": 1, "authmethod": "CHAP", "auth": 1}]})))
        .unwrap();
    assert_eq!(s.target_entries()[2]["rel_tgt_id"], 3);
    s.update_target(id, object(json!({"groups": []}))).unwrap();
    assert_eq!(s.target_entries()[2]["groups"], json!([]));
}

#[test]
fn file_extents_need_a_pool_path_and_a_block_multiple() {
    let mut s = demo();
    let err = reason(s.create_extent(file_extent("a", "/mnt/tank/iscsi/a.img", 1000)));
    assert_eq!(err, "[EINVAL] iscsi_extent_create.filesize: File size (1000) must be a multiple of block size (512)\n");
    let err = reason(s.create_extent(file_extent("a", "/root/a.img", 0)));
    assert_eq!(
        err,
        "[EINVAL] iscsi_extent_create.path: The path must reside within a pool mount point\n\
         [EINVAL] iscsi_extent_create.path: The file must exist if the extent size is set to auto (0)\n"
    );
    let err = reason(s.create_extent(file_extent("backup-file", "/mnt/tank/iscsi/b.img", 512)));
    assert_eq!(err, "[EINVAL] iscsi_extent_create.name: Extent name must be unique\n");
    let id = s.create_extent(file_extent("a", "/mnt/tank/iscsi/a.img", 1 << 30)).unwrap();
    assert_eq!(s.extent_entry(id).unwrap()["filesize"], "1073741824");
    // Its file now exists, so another extent may use it at size 0 ... until it is removed.
    s.delete_extent(id, true, false).unwrap();
    let err = reason(s.create_extent(file_extent("b", "/mnt/tank/iscsi/a.img", 0)));
    assert!(err.contains("The file must exist"), "{err}");
}

#[test]
fn disk_extents_need_an_existing_zvol() {
    let mut s = demo();
    let disk = |d: &str| data("iscsi.extent.create", json!({"name": "d", "type": "DISK", "disk": d}));
    assert_eq!(
        reason(s.create_extent(disk("tank/x"))),
        "[EINVAL] iscsi_extent_create.disk: Disk name must start with \"zvol/\"\n"
    );
    assert_eq!(
        reason(s.create_extent(disk("zvol/tank/nope"))),
        "[EINVAL] iscsi_extent_create.disk: Device '/dev/zvol/tank/nope' for volume 'tank/nope' does not exist\n"
    );
    let id = s.create_extent(disk("zvol/tank/iscsi/spare-lun")).unwrap();
    assert_eq!(s.extent_entry(id).unwrap()["path"], "zvol/tank/iscsi/spare-lun");
}

#[test]
fn luns_default_to_the_lowest_free_id_and_extents_back_one_lun() {
    let mut s = demo();
    let extent = s
        .create_extent(data(
            "iscsi.extent.create",
            json!({"name": "d", "type": "DISK", "disk": "zvol/tank/iscsi/spare-lun"}),
        ))
        .unwrap();
    let id = s.create_targetextent(object(json!({"target": 1, "extent": extent}))).unwrap();
    assert_eq!(s.targetextent_entries()[2]["lunid"], 1);
    let err = reason(s.create_targetextent(object(json!({"target": 2, "extent": extent, "lunid": 0}))));
    assert_eq!(
        err,
        "[EINVAL] iscsi_targetextent_create.lunid: LUN ID is already being used for this target.\n\
         [EINVAL] iscsi_targetextent_create.extent: Extent is already in use.\n"
    );
    let err = reason(s.create_targetextent(object(json!({"target": 9, "extent": 9}))));
    assert!(err.contains("9 Target not found in database") && err.contains("9 Extent not found in database"), "{err}");
    s.delete_targetextent(id, true).unwrap();
    assert_eq!(s.targetextent_entries().len(), 2);
}

#[test]
fn portals_own_their_addresses_and_deleting_one_retags_the_rest() {
    let mut s = demo();
    let err = reason(s.create_portal(object(json!({"listen": [{"ip": "0.0.0.0"}, {"ip": "10.0.0.1"}]}))));
    assert_eq!(
        err,
        "[EINVAL] iscsiportal_create.listen: '0.0.0.0' IP is already in use.\n\
         [EINVAL] iscsiportal_create.listen: IP 10.0.0.1 not configured on this system.\n"
    );
    assert!(reason(s.create_portal(object(json!({"listen": []})))).contains("At least one listen entry is required."));
    let second = s.create_portal(object(json!({"listen": [{"ip": "192.168.1.50"}]}))).unwrap();
    assert_eq!(s.portal_entry(second).unwrap()["tag"], 2);
    s.update_target(2, object(json!({"groups": [{"portal": second}]}))).unwrap();
    s.delete_portal(1).unwrap();
    assert_eq!(s.portal_entry(second).unwrap()["tag"], 1);
    let groups: Vec<Value> = s.target_entries().iter().map(|t| t["groups"].clone()).collect();
    assert_eq!(groups[0], json!([]), "target 1's group on portal 1 is gone");
    assert_eq!(groups[1][0]["portal"], second);
}

#[test]
fn deleting_an_initiator_group_opens_its_targets_to_all() {
    let mut s = demo();
    s.delete_initiator(1).unwrap();
    assert_eq!(s.target_entries()[0]["groups"][0]["initiator"], Value::Null);
    assert_eq!(reason(s.delete_initiator(1)), "[ENOENT] None: iSCSITargetAuthorizedInitiator 1 does not exist\n");
}

#[test]
fn global_settings_check_isns_servers_and_chap_secret_lengths() {
    let mut s = demo();
    s.update_global(object(json!({"isns_servers": ["192.168.1.10", "10.0.0.2:3205", "[::1]:3205"]}))).unwrap();
    let err = reason(s.update_global(object(json!({"isns_servers": ["isns.lan"]}))));
    assert_eq!(err, "[EINVAL] iscsiglobal_update.isns_servers: Server \"isns.lan\" is not a valid IP(:PORT)? tuple.\n");
    s.update_global(object(json!({"basename": "iqn.2024-01.lan.nas"}))).unwrap();
    s.delete_target(1, false, false).unwrap();
    let auth = data("iscsi.auth.create", json!({"tag": 2, "user": "u", "secret": "short"}));
    assert_eq!(
        reason(s.create_auth(auth)),
        "[EINVAL] iscsi_auth_create.secret: Secret must be between 12 and 16 characters.\n"
    );
}

#[test]
fn results_match_the_returns_schemas_of_both_releases() {
    let mut problems = Vec::new();
    for release in [Release::V25_10, Release::V26_0] {
        let s = sharing_seed::iscsi(release);
        for (method, result) in [
            ("iscsi.global.config", s.global_config()),
            ("iscsi.global.sessions", Value::Array(s.session_entries())),
            ("iscsi.target.query", Value::Array(s.target_entries())),
            ("iscsi.extent.query", Value::Array(s.extent_entries())),
            ("iscsi.portal.query", Value::Array(s.portal_entries())),
            ("iscsi.initiator.query", Value::Array(s.initiator_entries())),
            ("iscsi.auth.query", Value::Array(s.auth_entries())),
            ("iscsi.targetextent.query", Value::Array(s.targetextent_entries())),
        ] {
            problems.extend(shape_problems(release, method, &result));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
