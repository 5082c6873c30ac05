//! The `sharing` actions build exactly the expected middleware calls: SMB flags moved into
//! `options`, and the iSCSI deletes' `force`/`remove` sent as positional booleans.

use serde_json::{Value, json};

use super::test_support::*;
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
        ("smb_share_list", json!({}), "sharing.smb.query", json!([])),
        ("smb_share_get", json!({"id": 4}), "sharing.smb.get_instance", json!([4])),
        (
            "smb_share_create",
            json!({"path": "/mnt/tank/a", "name": "a"}),
            "sharing.smb.create",
            json!([{"path": "/mnt/tank/a", "name": "a", "purpose": "DEFAULT_SHARE", "options": {"purpose": "DEFAULT_SHARE"}}]),
        ),
        (
            "smb_share_create",
            json!({"path": "/mnt/tank/a", "name": "a", "ro": true, "abe": true, "hostsallow": ["10.0.0.1"]}),
            "sharing.smb.create",
            json!([{
                "path": "/mnt/tank/a", "name": "a", "purpose": "DEFAULT_SHARE", "readonly": true,
                "access_based_share_enumeration": true,
                "options": {"purpose": "DEFAULT_SHARE", "hostsallow": ["10.0.0.1"]},
            }]),
        ),
        (
            "smb_share_create",
            json!({"path": "/mnt/tank/a", "name": "a", "purpose": "LEGACY_SHARE", "guestok": true, "auxsmbconf": "x = y"}),
            "sharing.smb.create",
            json!([{
                "path": "/mnt/tank/a", "name": "a", "purpose": "LEGACY_SHARE",
                "options": {"purpose": "LEGACY_SHARE", "guestok": true, "auxsmbconf": "x = y"},
            }]),
        ),
        ("smb_share_update", json!({"id": 2}), "sharing.smb.update", json!([2, {}])),
        (
            "smb_share_update",
            json!({"id": 2, "comment": "c", "ro": false}),
            "sharing.smb.update",
            json!([2, {"comment": "c", "readonly": false}]),
        ),
        (
            "smb_share_update",
            json!({"id": 2, "purpose": "LEGACY_SHARE", "recyclebin": true}),
            "sharing.smb.update",
            json!([2, {"purpose": "LEGACY_SHARE", "options": {"purpose": "LEGACY_SHARE", "recyclebin": true}}]),
        ),
        ("smb_share_delete", json!({"id": 3, "confirm": true}), "sharing.smb.delete", json!([3])),
        ("smb_config", json!({}), "smb.config", json!([])),
        (
            "smb_config_update",
            json!({"workgroup": "HOME", "bindip": ["192.168.1.50"]}),
            "smb.update",
            json!([{"workgroup": "HOME", "bindip": ["192.168.1.50"]}]),
        ),
        ("nfs_share_list", json!({}), "sharing.nfs.query", json!([])),
        ("nfs_share_get", json!({"id": 1}), "sharing.nfs.get_instance", json!([1])),
        (
            "nfs_share_create",
            json!({"path": "/mnt/tank/a", "networks": ["10.0.0.0/8"], "security": ["SYS"]}),
            "sharing.nfs.create",
            json!([{"path": "/mnt/tank/a", "networks": ["10.0.0.0/8"], "security": ["SYS"]}]),
        ),
        ("nfs_share_update", json!({"id": 1, "ro": true}), "sharing.nfs.update", json!([1, {"ro": true}])),
        ("nfs_share_delete", json!({"id": 1, "confirm": true}), "sharing.nfs.delete", json!([1])),
        ("nfs_config", json!({}), "nfs.config", json!([])),
        ("nfs_config_update", json!({"servers": 8}), "nfs.update", json!([{"servers": 8}])),
        ("nfs_client_count", json!({}), "nfs.client_count", json!([])),
        ("iscsi_global_config", json!({}), "iscsi.global.config", json!([])),
        ("iscsi_global_config_update", json!({"alua": false}), "iscsi.global.update", json!([{"alua": false}])),
        ("iscsi_target_list", json!({}), "iscsi.target.query", json!([])),
        (
            "iscsi_target_create",
            json!({"name": "t", "groups": [{"portal": 1}]}),
            "iscsi.target.create",
            json!([{"name": "t", "groups": [{"portal": 1}]}]),
        ),
        ("iscsi_target_update", json!({"id": 1, "alias": "x"}), "iscsi.target.update", json!([1, {"alias": "x"}])),
        ("iscsi_target_delete", json!({"id": 1, "confirm": true}), "iscsi.target.delete", json!([1, false])),
        (
            "iscsi_target_delete",
            json!({"id": 1, "force": true, "confirm": true}),
            "iscsi.target.delete",
            json!([1, true]),
        ),
        ("iscsi_extent_list", json!({}), "iscsi.extent.query", json!([])),
        (
            "iscsi_extent_create",
            json!({"name": "e", "type": "DISK", "disk": "zvol/tank/e"}),
            "iscsi.extent.create",
            json!([{"name": "e", "type": "DISK", "disk": "zvol/tank/e"}]),
        ),
        ("iscsi_extent_update", json!({"id": 1, "ro": true}), "iscsi.extent.update", json!([1, {"ro": true}])),
        ("iscsi_extent_delete", json!({"id": 1, "confirm": true}), "iscsi.extent.delete", json!([1, false, false])),
        (
            "iscsi_extent_delete",
            json!({"id": 1, "force": true, "confirm": true}),
            "iscsi.extent.delete",
            json!([1, false, true]),
        ),
        ("iscsi_portal_list", json!({}), "iscsi.portal.query", json!([])),
        (
            "iscsi_portal_create",
            json!({"listen": [{"ip": "0.0.0.0"}]}),
            "iscsi.portal.create",
            json!([{"listen": [{"ip": "0.0.0.0"}]}]),
        ),
        ("iscsi_portal_update", json!({"id": 1, "comment": "c"}), "iscsi.portal.update", json!([1, {"comment": "c"}])),
        ("iscsi_portal_delete", json!({"id": 1, "confirm": true}), "iscsi.portal.delete", json!([1])),
        ("iscsi_initiator_list", json!({}), "iscsi.initiator.query", json!([])),
        ("iscsi_initiator_create", json!({}), "iscsi.initiator.create", json!([{}])),
        ("iscsi_initiator_delete", json!({"id": 1, "confirm": true}), "iscsi.initiator.delete", json!([1])),
        ("iscsi_targetextent_list", json!({}), "iscsi.targetextent.query", json!([])),
        (
            "iscsi_targetextent_create",
            json!({"target": 1, "extent": 2}),
            "iscsi.targetextent.create",
            json!([{"target": 1, "extent": 2}]),
        ),
        (
            "iscsi_targetextent_delete",
            json!({"id": 4, "confirm": true}),
            "iscsi.targetextent.delete",
            json!([4, false]),
        ),
        (
            "iscsi_targetextent_delete",
            json!({"id": 4, "force": true, "confirm": true}),
            "iscsi.targetextent.delete",
            json!([4, true]),
        ),
        ("iscsi_sessions", json!({}), "iscsi.global.sessions", json!([])),
    ]
}

#[test]
fn sharing_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    let cases = cases();
    for (name, args, method, expected) in &cases {
        assert_builds(&catalog, name, Some(method), args, expected);
    }
    assert_every_action_has_a_case(&catalog, &["sharing"], |a| cases.iter().any(|(n, ..)| *n == a));
}

#[test]
fn the_sharing_category_has_the_36_reference_actions_in_order() {
    let catalog = builtin();
    let names: Vec<&str> = catalog.category("sharing").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(names.len(), 36);
    assert_eq!(names[..3], ["smb_share_list", "smb_share_get", "smb_share_create"]);
    assert_eq!(names[35], "iscsi_sessions");
}

#[test]
fn the_seven_sharing_deletes_are_gated_with_the_reference_json_text() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "sharing");
    let names: Vec<&str> = gated.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "smb_share_delete",
            "nfs_share_delete",
            "iscsi_target_delete",
            "iscsi_extent_delete",
            "iscsi_portal_delete",
            "iscsi_initiator_delete",
            "iscsi_targetextent_delete"
        ]
    );
    for (name, text) in gated {
        assert_eq!(text, "{\n  \"error\": \"Deletion not confirmed\"\n}", "{name}");
        assert_eq!(catalog.action(name).unwrap().risk, Risk::Destructive, "{name}");
    }
}

#[test]
fn a_force_object_never_reaches_an_iscsi_delete() {
    // The reference sent `{force}` where TrueNAS takes a boolean: the schema refuses it.
    let table = MethodTable::get(Release::V25_10);
    assert!(table.validate("iscsi.targetextent.delete", &json!([4, {"force": true}])).is_err());
    let catalog = builtin();
    for name in ["iscsi_target_delete", "iscsi_extent_delete", "iscsi_targetextent_delete"] {
        let action = catalog.action(name).unwrap();
        let params = action.check_and_build_params(&object(json!({"id": 1, "force": true, "confirm": true}))).unwrap();
        let items = params.as_array().unwrap();
        assert!(items.iter().skip(1).all(Value::is_boolean), "{name}: {params}");
    }
}

#[test]
fn smb_option_flags_without_a_purpose_are_refused_on_update() {
    // Options are a union discriminated by purpose: without it TrueNAS cannot place them.
    let catalog = builtin();
    let action = catalog.action("smb_share_update").unwrap();
    let params = action.check_and_build_params(&object(json!({"id": 2, "guestok": true}))).unwrap();
    assert_eq!(params, json!([2, {"options": {"guestok": true}}]));
    let table = MethodTable::get(Release::V25_10);
    assert!(table.validate("sharing.smb.update", &params).is_err());
}

#[test]
fn no_sharing_action_is_a_job_and_reads_are_read_only() {
    let catalog = builtin();
    let table = MethodTable::get(Release::V25_10);
    for action in catalog.actions().filter(|a| a.category == "sharing") {
        assert!(!table.method(action.method.as_str()).unwrap().job, "{}", action.name);
        let read = action.name.as_str().ends_with("_list")
            || action.name.as_str().ends_with("_get")
            || action.name.as_str().ends_with("_config")
            || ["nfs_client_count", "iscsi_sessions"].contains(&action.name.as_str());
        assert_eq!(action.risk == Risk::Read, read, "{}", action.name);
    }
}
