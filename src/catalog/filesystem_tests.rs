//! The `filesystem` actions (`tools/filesystem.toml`) build exactly the expected middleware
//! calls, with `filesystem.listdir`'s options where TrueNAS wants them, and keep the reference's
//! gates.

use serde_json::{Value, json};

use super::test_support::*;
use crate::ids::Risk;

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
        ("filesystem_stat", json!({"path": "/mnt/tank"}), "filesystem.stat", json!(["/mnt/tank"])),
        (
            "filesystem_listdir",
            json!({"path": "/mnt/tank"}),
            "filesystem.listdir",
            json!(["/mnt/tank", [], {"limit": 100, "offset": 0}]),
        ),
        (
            "filesystem_listdir",
            json!({"path": "/mnt/tank", "limit": 10.0, "offset": 20}),
            "filesystem.listdir",
            json!(["/mnt/tank", [], {"limit": 10, "offset": 20}]),
        ),
        (
            "filesystem_mkdir",
            json!({"path": "/mnt/tank/a"}),
            "filesystem.mkdir",
            json!([{"path": "/mnt/tank/a", "options": {"mode": "755"}}]),
        ),
        (
            "filesystem_set_permissions",
            json!({"path": "/mnt/tank/a", "mode": "770"}),
            "filesystem.setperm",
            json!([{"path": "/mnt/tank/a", "mode": "770", "options": {"recursive": false, "traverse": false, "stripacl": false}}]),
        ),
        (
            "filesystem_set_permissions",
            json!({"path": "/mnt/tank/a", "uid": 0, "gid": 568, "recursive": true, "stripacl": true}),
            "filesystem.setperm",
            json!([{"path": "/mnt/tank/a", "uid": 0, "gid": 568, "options": {"recursive": true, "traverse": false, "stripacl": true}}]),
        ),
        ("filesystem_get_acl", json!({"path": "/mnt/tank"}), "filesystem.getacl", json!(["/mnt/tank", false])),
        (
            "filesystem_get_acl",
            json!({"path": "/mnt/tank", "simplified": true}),
            "filesystem.getacl",
            json!(["/mnt/tank", true]),
        ),
        (
            "filesystem_set_acl",
            json!({"confirm": true, "path": "/mnt/tank/a", "dacl": [], "acltype": "POSIX1E", "options": {"recursive": true}}),
            "filesystem.setacl",
            json!([{"path": "/mnt/tank/a", "dacl": [], "acltype": "POSIX1E", "options": {"recursive": true}}]),
        ),
        (
            "filesystem_chown",
            json!({"path": "/mnt/tank/a", "uid": 3000}),
            "filesystem.chown",
            json!([{"path": "/mnt/tank/a", "uid": 3000, "options": {"recursive": false, "traverse": false}}]),
        ),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        assert_builds(&catalog, name, Some(method), &args, &expected);
    }
    assert_every_action_has_a_case(&catalog, &["filesystem"], |name| cases().iter().any(|(n, ..)| *n == name));
}

#[test]
fn the_category_has_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<&str> = catalog.category("filesystem").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "filesystem_stat",
            "filesystem_listdir",
            "filesystem_mkdir",
            "filesystem_set_permissions",
            "filesystem_get_acl",
            "filesystem_set_acl",
            "filesystem_chown"
        ]
    );
}

#[test]
fn gated_actions_keep_the_reference_refusal_texts() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "filesystem");
    assert_eq!(gated, [("filesystem_set_acl", "ACL change aborted: 'confirm' must be set to true.")]);
    for (name, _) in &gated {
        let action = catalog.action(name).unwrap();
        assert_eq!(action.risk, Risk::Destructive, "{name}");
        assert!(!action.confirmed(&object(json!({"confirm": false}))), "{name}");
    }
    // Destructive without a reference gate.
    let ungated: Vec<&str> = actions_of(&catalog, "filesystem")
        .filter(|a| a.risk == Risk::Destructive && a.confirm.is_none())
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(ungated, ["filesystem_set_permissions", "filesystem_chown"]);
}

#[test]
fn job_methods_are_the_long_running_ones() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "filesystem");
    assert_eq!(jobs, ["filesystem_set_permissions", "filesystem_set_acl", "filesystem_chown"]);
}

#[test]
fn every_method_exists_on_every_release_it_is_not_routed_away_from() {
    assert_methods_exist_where_not_routed(&builtin(), "filesystem");
}

#[test]
fn listdir_bounds_are_checked() {
    let catalog = builtin();
    let listdir = catalog.action("filesystem_listdir").unwrap();
    assert!(listdir.check_and_build_params(&object(json!({"path": "/mnt", "limit": -1}))).is_err());
}
