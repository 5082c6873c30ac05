//! The `update` actions (`tools/update.toml`: updates, boot environments, the boot pool) build
//! exactly the expected middleware calls: the 25.10 replacements of the reference's removed
//! methods (`bootenv.*`, `update.check_available`, `update.update` as an installer), and
//! `boot.attach`'s options where TrueNAS wants them; the reference's gates are kept.

use serde_json::{Value, json};

use super::test_support::*;
use crate::schema::Release;

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    vec![
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
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        assert_builds(&catalog, name, Some(method), &args, &expected);
    }
    assert_every_action_has_a_case(&catalog, &["update"], |name| cases().iter().any(|(n, ..)| *n == name));
}

#[test]
fn the_category_has_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<&str> = catalog.category("update").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(
        names,
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
}

#[test]
fn gated_actions_keep_the_reference_refusal_texts() {
    let catalog = builtin();
    let gated = gates_of(&catalog, "update");
    assert_eq!(
        gated,
        [
            ("update_apply", "Update aborted: 'confirm' must be set to true."),
            ("bootenv_delete", "Deletion aborted: 'confirm' must be set to true."),
            ("boot_attach_disk", "Attach aborted: 'confirm' must be set to true."),
            ("boot_detach_disk", "Detach aborted: 'confirm' must be set to true.")
        ]
    );
}

#[test]
fn job_methods_are_the_long_running_ones() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "update");
    assert_eq!(jobs, ["update_download", "update_apply", "boot_attach_disk", "boot_scrub"]);
}

#[test]
fn every_method_exists_on_every_release_it_is_not_routed_away_from() {
    assert_methods_exist_where_not_routed(&builtin(), "update");
}

#[test]
fn a_bootenv_source_is_read_when_left_out() {
    let catalog = builtin();
    let create = catalog.action("bootenv_create").unwrap();
    let reads = create.lookups_for(Release::V25_10, &object(json!({"name": "x"}))).unwrap();
    assert_eq!(reads.len(), 1, "boot.environment.clone needs a source: the active one is read");
    assert!(create.lookups_for(Release::V25_10, &object(json!({"name": "x", "source": "y"}))).unwrap().is_empty());
}
