//! The `app`, `update`, `filesystem`, `reporting` and `audit` actions build exactly the expected
//! middleware calls: the 25.10 replacements of the reference's removed methods (`bootenv.*`,
//! `update.check_available`, `update.update` as an installer), options moved where TrueNAS
//! wants them (`boot.attach`, `filesystem.listdir`), and the reference's gates kept.

use serde_json::{Value, json};

use super::test_support::*;
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

const CATEGORIES: [&str; 5] = ["app", "update", "filesystem", "reporting", "audit"];

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
        ("app_list", json!({}), "app.query", json!([])),
        ("app_get", json!({"id": "plex"}), "app.get_instance", json!(["plex"])),
        (
            "app_create",
            json!({"app_name": "jf", "catalog_app": "jellyfin"}),
            "app.create",
            json!([{"app_name": "jf", "catalog_app": "jellyfin"}]),
        ),
        (
            "app_create",
            json!({"app_name": "jf", "catalog_app": "jellyfin", "train": "community", "version": "1.1.0", "values": {"a": 1}}),
            "app.create",
            json!([{"app_name": "jf", "catalog_app": "jellyfin", "train": "community", "version": "1.1.0", "values": {"a": 1}}]),
        ),
        ("app_update", json!({"id": "jf", "values": {"a": 2}}), "app.update", json!(["jf", {"values": {"a": 2}}])),
        ("app_delete", json!({"id": "jf", "confirm": true}), "app.delete", json!(["jf"])),
        ("app_start", json!({"id": "jf"}), "app.start", json!(["jf"])),
        ("app_stop", json!({"id": "jf"}), "app.stop", json!(["jf"])),
        ("app_redeploy", json!({"id": "jf"}), "app.redeploy", json!(["jf"])),
        ("app_upgrade", json!({"id": "plex"}), "app.upgrade", json!(["plex", {}])),
        (
            "app_upgrade",
            json!({"id": "plex", "app_version": "1.3.0", "snapshot_hostpaths": true}),
            "app.upgrade",
            json!(["plex", {"app_version": "1.3.0", "snapshot_hostpaths": true}]),
        ),
        (
            "app_rollback",
            json!({"id": "plex", "app_version": "1.2.0", "confirm": true}),
            "app.rollback",
            json!(["plex", {"app_version": "1.2.0"}]),
        ),
        (
            "app_rollback",
            json!({"id": "plex", "app_version": "1.2.0", "rollback_snapshot": false, "confirm": true}),
            "app.rollback",
            json!(["plex", {"app_version": "1.2.0", "rollback_snapshot": false}]),
        ),
        ("app_available", json!({}), "app.available", json!([])),
        ("app_categories", json!({}), "app.categories", json!([])),
        ("app_outdated_images", json!({"app_name": "x"}), "app.outdated_docker_images", json!(["x"])),
        ("app_pull_images", json!({"app_name": "x"}), "app.pull_images", json!(["x"])),
        ("docker_config", json!({}), "docker.config", json!([])),
        ("docker_config_update", json!({}), "docker.update", json!([{}])),
        (
            "docker_config_update",
            json!({"pool": "tank", "address_pools": [{"base": "10.0.0.0/8", "size": 24}]}),
            "docker.update",
            json!([{"pool": "tank", "address_pools": [{"base": "10.0.0.0/8", "size": 24}]}]),
        ),
        ("docker_status", json!({}), "docker.status", json!([])),
        ("update_check", json!({}), "update.status", json!([])),
        ("update_config", json!({}), "update.config", json!([])),
        (
            "update_config_set",
            json!({"train": "EARLY_ADOPTER"}),
            "update.update",
            json!([{"profile": "EARLY_ADOPTER"}]),
        ),
        ("update_download", json!({}), "update.download", json!([])),
        ("update_apply", json!({"confirm": true}), "update.run", json!([{"reboot": false}])),
        ("update_apply", json!({"confirm": true, "reboot": true}), "update.run", json!([{"reboot": true}])),
        ("bootenv_list", json!({}), "boot.environment.query", json!([])),
        (
            "bootenv_create",
            json!({"name": "before", "source": "25.10.5"}),
            "boot.environment.clone",
            json!([{"id": "25.10.5", "target": "before"}]),
        ),
        ("bootenv_activate", json!({"id": "before"}), "boot.environment.activate", json!([{"id": "before"}])),
        ("bootenv_delete", json!({"id": "old", "confirm": true}), "boot.environment.destroy", json!([{"id": "old"}])),
        (
            "bootenv_keep",
            json!({"id": "old", "keep": false}),
            "boot.environment.keep",
            json!([{"id": "old", "value": false}]),
        ),
        ("boot_state", json!({}), "boot.get_state", json!([])),
        ("boot_attach_disk", json!({"dev": "sdf", "confirm": true}), "boot.attach", json!(["sdf", {"expand": false}])),
        (
            "boot_attach_disk",
            json!({"dev": "sdf", "expand": true, "confirm": true}),
            "boot.attach",
            json!(["sdf", {"expand": true}]),
        ),
        ("boot_detach_disk", json!({"dev": "sdf", "confirm": true}), "boot.detach", json!(["sdf"])),
        ("boot_scrub", json!({}), "boot.scrub", json!([])),
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
        ("reporting_config", json!({}), "reporting.config", json!([])),
        ("reporting_graphs", json!({}), "reporting.graphs", json!([])),
        (
            "reporting_get_data",
            json!({"graphs": [{"name": "cpu"}]}),
            "reporting.get_data",
            json!([[{"name": "cpu"}], {"aggregate": true}]),
        ),
        (
            "reporting_get_data",
            json!({"graphs": [{"name": "disk", "identifier": "sda"}], "start": 100, "end": 200, "aggregate": false}),
            "reporting.get_data",
            json!([[{"name": "disk", "identifier": "sda"}], {"start": 100, "end": 200, "aggregate": false}]),
        ),
        ("audit_query", json!({}), "audit.query", json!([{"query-filters": [], "query-options": {}}])),
        (
            "audit_query",
            json!({"services": ["SMB"], "query_filters": [["username", "=", "bob"]], "query_options": {"limit": 5}}),
            "audit.query",
            json!([{"services": ["SMB"], "query-filters": [["username", "=", "bob"]], "query-options": {"limit": 5}}]),
        ),
        ("audit_config", json!({}), "audit.config", json!([])),
        ("audit_config_update", json!({"retention": 20}), "audit.update", json!([{"retention": 20}])),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        assert_builds(&catalog, name, Some(method), &args, &expected);
    }
    for category in CATEGORIES {
        for action in &catalog.category(category).unwrap().actions {
            assert!(cases().iter().any(|(n, ..)| *n == action.as_str()), "no case for {action}");
        }
    }
}

#[test]
fn categories_have_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names = |c: &str| -> Vec<String> {
        catalog.category(c).unwrap().actions.iter().map(|a| a.as_str().to_string()).collect()
    };
    assert_eq!(
        names("app"),
        [
            "app_list",
            "app_get",
            "app_create",
            "app_update",
            "app_delete",
            "app_start",
            "app_stop",
            "app_redeploy",
            "app_upgrade",
            "app_rollback",
            "app_available",
            "app_categories",
            "app_outdated_images",
            "app_pull_images",
            "docker_config",
            "docker_config_update",
            "docker_status"
        ]
    );
    assert_eq!(
        names("update"),
        [
            "update_check",
            "update_config",
            "update_config_set",
            "update_download",
            "update_apply",
            "bootenv_list",
            "bootenv_create",
            "bootenv_activate",
            "bootenv_delete",
            "bootenv_keep",
            "boot_state",
            "boot_attach_disk",
            "boot_detach_disk",
            "boot_scrub"
        ]
    );
    assert_eq!(
        names("filesystem"),
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
    assert_eq!(names("reporting"), ["reporting_config", "reporting_graphs", "reporting_get_data"]);
    assert_eq!(names("audit"), ["audit_query", "audit_config", "audit_config_update"]);
}

#[test]
fn gated_actions_keep_the_reference_refusal_texts() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = catalog
        .actions()
        .filter(|a| CATEGORIES.contains(&a.category.as_str()))
        .filter_map(|a| Some((a.name.as_str(), a.confirm.as_deref()?)))
        .collect();
    assert_eq!(
        gated,
        [
            ("app_delete", "App deletion aborted: 'confirm' must be set to true."),
            ("app_rollback", "App rollback aborted: 'confirm' must be set to true."),
            ("update_apply", "Update aborted: 'confirm' must be set to true."),
            ("bootenv_delete", "Deletion aborted: 'confirm' must be set to true."),
            ("boot_attach_disk", "Attach aborted: 'confirm' must be set to true."),
            ("boot_detach_disk", "Detach aborted: 'confirm' must be set to true."),
            ("filesystem_set_acl", "ACL change aborted: 'confirm' must be set to true."),
        ]
    );
    for (name, _) in &gated {
        let action = catalog.action(name).unwrap();
        assert_eq!(action.risk, Risk::Destructive, "{name}");
        assert!(!action.confirmed(&object(json!({"confirm": false}))), "{name}");
    }
    // Destructive without a reference gate: tree-wide permission and owner rewrites.
    let ungated: Vec<&str> = catalog
        .actions()
        .filter(|a| CATEGORIES.contains(&a.category.as_str()) && a.risk == Risk::Destructive && a.confirm.is_none())
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(ungated, ["filesystem_set_permissions", "filesystem_chown"]);
}

#[test]
fn job_methods_are_the_long_running_ones() {
    let catalog = builtin();
    let table = MethodTable::get(Release::V25_10);
    let jobs: Vec<&str> = catalog
        .actions()
        .filter(|a| CATEGORIES.contains(&a.category.as_str()))
        .filter(|a| table.method(a.method.as_str()).is_some_and(|m| m.job))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        jobs,
        [
            "app_create",
            "app_update",
            "app_delete",
            "app_start",
            "app_stop",
            "app_redeploy",
            "app_upgrade",
            "app_rollback",
            "app_pull_images",
            "docker_config_update",
            "update_download",
            "update_apply",
            "boot_attach_disk",
            "boot_scrub",
            "filesystem_set_permissions",
            "filesystem_set_acl",
            "filesystem_chown"
        ]
    );
}

#[test]
fn every_method_exists_on_both_releases() {
    let catalog = builtin();
    for action in catalog.actions().filter(|a| CATEGORIES.contains(&a.category.as_str())) {
        // Releases a route sends elsewhere are checked by the catalog-wide route tests.
        for release in Release::ALL.into_iter().filter(|r| !action.routed_releases().any(|routed| routed == *r)) {
            assert!(MethodTable::get(release).method(action.method.as_str()).is_some(), "{} on {release}", action.name);
        }
    }
}

#[test]
fn a_bootenv_source_is_read_when_left_out_and_listdir_bounds_are_checked() {
    let catalog = builtin();
    let create = catalog.action("bootenv_create").unwrap();
    let reads = create.lookups_for(Release::V25_10, &object(json!({"name": "x"}))).unwrap();
    assert_eq!(reads.len(), 1, "boot.environment.clone needs a source: the active one is read");
    assert!(create.lookups_for(Release::V25_10, &object(json!({"name": "x", "source": "y"}))).unwrap().is_empty());
    let listdir = catalog.action("filesystem_listdir").unwrap();
    assert!(listdir.build_params(&object(json!({"path": "/mnt", "limit": -1}))).is_err());
    let audit = catalog.action("audit_config_update").unwrap();
    assert!(audit.build_params(&object(json!({"retention": 31}))).is_err());
    assert!(audit.build_params(&object(json!({"bogus": 1}))).is_err(), "unknown keys are refused");
}
