//! The `app` actions (`tools/app.toml`: apps and Docker) build exactly the expected middleware
//! calls and keep the reference's gates.

use serde_json::{Value, json};

use super::test_support::*;

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
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        assert_builds(&catalog, name, Some(method), &args, &expected);
    }
    assert_every_action_has_a_case(&catalog, &["app"], |name| cases().iter().any(|(n, ..)| *n == name));
}

#[test]
fn the_category_has_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<&str> = catalog.category("app").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(
        names,
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
}

#[test]
fn gated_actions_keep_the_reference_refusal_texts() {
    let catalog = builtin();
    let gated = gates_of(&catalog, "app");
    assert_eq!(
        gated,
        [
            ("app_delete", "App deletion aborted: 'confirm' must be set to true."),
            ("app_rollback", "App rollback aborted: 'confirm' must be set to true.")
        ]
    );
}

#[test]
fn job_methods_are_the_long_running_ones() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "app");
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
            "docker_config_update"
        ]
    );
}

#[test]
fn every_method_exists_on_every_release_it_is_not_routed_away_from() {
    assert_methods_exist_where_not_routed(&builtin(), "app");
}
