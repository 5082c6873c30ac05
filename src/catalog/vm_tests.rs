//! The `vm` actions (`tools/vm.toml`) build exactly the expected middleware calls, name the
//! right methods, and keep the reference's gate on `vm_delete`.

use serde_json::{Value, json};

use super::test_support::*;
use crate::schema::{MethodTable, Release};

/// (action, arguments, expected positional params).
fn vm_cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        ("vm_list", json!({}), json!([])),
        ("vm_get", json!({"id": 3}), json!([3])),
        (
            "vm_create",
            json!({"name": "web", "memory": 512.0, "vcpus": 2, "cpu_mode": "HOST-MODEL"}),
            json!([{"name": "web", "vcpus": 2, "memory": 512, "cpu_mode": "HOST-MODEL"}]),
        ),
        (
            "vm_update",
            json!({"id": 3, "memory": 1024, "autostart": false}),
            json!([3, {"memory": 1024, "autostart": false}]),
        ),
        ("vm_update", json!({"id": 3}), json!([3, {}])),
        ("vm_delete", json!({"id": 3, "confirm": true}), json!([3, {"zvols": false, "force": false}])),
        ("vm_delete", json!({"id": 3, "confirm": false, "zvols": true}), json!([3, {"zvols": true, "force": false}])),
        ("vm_start", json!({"id": 3}), json!([3, {"overcommit": false}])),
        ("vm_start", json!({"id": 3, "overcommit": true}), json!([3, {"overcommit": true}])),
        ("vm_stop", json!({"id": 3, "force": true}), json!([3, {"force": true}])),
        ("vm_restart", json!({"id": 3}), json!([3])),
        ("vm_status", json!({"id": 3}), json!([3])),
        ("vm_clone", json!({"id": 3, "name": "copy"}), json!([3, "copy"])),
        ("vm_clone", json!({"id": 3}), json!([3])),
        ("vm_device_list", json!({}), json!([[]])),
        ("vm_device_list", json!({"vm_id": 3}), json!([[["vm", "=", 3]]])),
        (
            "vm_device_create",
            json!({"vm": 3, "dtype": "CDROM", "attributes": {"path": "/mnt/tank/iso/d.iso"}}),
            json!([{"attributes": {"path": "/mnt/tank/iso/d.iso", "dtype": "CDROM"}, "vm": 3}]),
        ),
        (
            "vm_device_create",
            json!({"vm": 3, "dtype": "NIC", "order": 1002, "attributes": {"dtype": "DISK", "type": "VIRTIO"}}),
            json!([{"attributes": {"dtype": "NIC", "type": "VIRTIO"}, "vm": 3, "order": 1002}]),
        ),
        ("vm_device_update", json!({"id": 5, "order": 7}), json!([5, {"order": 7}])),
        (
            "vm_device_update",
            json!({"id": 5, "dtype": "DISK", "attributes": {"path": "/dev/zvol/tank/d"}, "vm": 2}),
            json!([5, {"attributes": {"path": "/dev/zvol/tank/d", "dtype": "DISK"}, "vm": 2}]),
        ),
        (
            "vm_device_delete",
            json!({"id": 5, "zvol": true}),
            json!([5, {"zvol": true, "raw_file": false, "force": false}]),
        ),
        ("vm_available_memory", json!({}), json!([])),
        ("vm_display_uri", json!({"id": 3}), json!([3, "", {}])),
        (
            "vm_display_uri",
            json!({"id": 3, "protocol": "HTTPS", "host": "nas"}),
            json!([3, "nas", {"protocol": "HTTPS"}]),
        ),
    ]
}

#[test]
fn vm_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds(&catalog, "vm", &vm_cases());
}

#[test]
fn vm_actions_call_the_right_methods() {
    let catalog = builtin();
    let method = |a: &str| catalog.action(a).map(|d| d.method.as_str().to_string()).unwrap_or_default();
    for (action, expected) in [
        ("vm_list", "vm.query"),
        ("vm_get", "vm.get_instance"),
        ("vm_create", "vm.create"),
        ("vm_update", "vm.update"),
        ("vm_delete", "vm.delete"),
        ("vm_start", "vm.start"),
        ("vm_stop", "vm.stop"),
        ("vm_restart", "vm.restart"),
        ("vm_status", "vm.status"),
        ("vm_clone", "vm.clone"),
        ("vm_device_list", "vm.device.query"),
        ("vm_device_create", "vm.device.create"),
        ("vm_device_update", "vm.device.update"),
        ("vm_device_delete", "vm.device.delete"),
        ("vm_available_memory", "vm.get_available_memory"),
        ("vm_display_uri", "vm.get_display_web_uri"),
    ] {
        assert_eq!(method(action), expected, "{action}");
    }
    // Job-ness comes from the method table, not from the catalog.
    let table = MethodTable::get(Release::V25_10);
    let jobs: Vec<&str> = catalog
        .actions()
        .filter(|a| a.category == "vm" && table.method(a.method.as_str()).is_some_and(|m| m.job))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(jobs, ["vm_stop", "vm_restart"]);
}

#[test]
fn only_vm_delete_is_gated_in_vm_and_its_refusal_is_the_reference_text() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "vm");
    assert_eq!(gated, [("vm_delete", "VM deletion aborted: 'confirm' must be set to true.")]);
    let delete = catalog.action("vm_delete").unwrap();
    let params = delete.check_and_build_params(&object(json!({"id": 1, "confirm": true}))).unwrap();
    assert!(!params.to_string().contains("confirm"), "confirm is never forwarded: {params}");
}
