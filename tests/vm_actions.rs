//! The whole VM category end to end: every action reaches the NAS as the right method with
//! params TrueNAS's schema accepts; bad arguments never leave the server.

use serde_json::{Value, json};

use crate::util::*;

#[tokio::test]
async fn all_sixteen_vm_actions_reach_the_nas_with_schema_valid_params() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("vm");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(&nas, &["--policy", open.to_str().unwrap()]).await;
    let ok = |r: rmcp::model::CallToolResult, what: &str| -> Value {
        assert!(!is_error(&r), "{what}: {}", text(&r));
        serde_json::from_str(&text(&r)).unwrap()
    };

    let vms = ok(truenas(&session, "vm", "vm_list", json!({})).await, "vm_list");
    let first = vms[0]["id"].as_i64().unwrap();
    ok(truenas(&session, "vm", "vm_get", json!({"id": first})).await, "vm_get");
    let created = ok(
        truenas(&session, "vm", "vm_create", json!({"name": "e2evm", "memory": 512, "vcpus": 1})).await,
        "vm_create",
    );
    let id = created["id"].as_i64().unwrap();
    ok(
        truenas(&session, "vm", "vm_update", json!({"id": id, "description": "made by a test", "cores": 2})).await,
        "vm_update",
    );
    ok(truenas(&session, "vm", "vm_status", json!({"id": id})).await, "vm_status");
    ok(truenas(&session, "vm", "vm_start", json!({"id": id})).await, "vm_start");
    ok(truenas(&session, "vm", "vm_restart", json!({"id": id})).await, "vm_restart");
    ok(truenas(&session, "vm", "vm_stop", json!({"id": id, "force": true})).await, "vm_stop");
    ok(truenas(&session, "vm", "vm_clone", json!({"id": id, "name": "e2evmclone"})).await, "vm_clone");
    let device = ok(
        truenas(
            &session,
            "vm",
            "vm_device_create",
            json!({"vm": id, "dtype": "CDROM", "attributes": {"path": "/mnt/tank/iso/debian.iso"}}),
        )
        .await,
        "vm_device_create",
    );
    let dev = device["id"].as_i64().unwrap();
    let devices = ok(truenas(&session, "vm", "vm_device_list", json!({"vm_id": id})).await, "vm_device_list");
    assert!(devices.as_array().unwrap().iter().all(|d| d["vm"] == json!(id)), "{devices}");
    ok(truenas(&session, "vm", "vm_device_update", json!({"id": dev, "order": 1005})).await, "vm_device_update");
    ok(truenas(&session, "vm", "vm_device_delete", json!({"id": dev})).await, "vm_device_delete");
    ok(truenas(&session, "vm", "vm_available_memory", json!({})).await, "vm_available_memory");
    let uri = truenas(&session, "vm", "vm_display_uri", json!({"id": first, "protocol": "HTTPS"})).await;
    assert!(!text(&uri).contains("rejected the arguments"), "{}", text(&uri));
    ok(truenas(&session, "vm", "vm_delete", json!({"id": id, "confirm": true, "zvols": false})).await, "vm_delete");
    session.cancel().await.unwrap();

    let methods = nas_methods(&nas);
    assert_eq!(
        methods,
        [
            "vm.query",
            "vm.get_instance",
            "vm.create",
            "vm.update",
            "vm.status",
            "vm.start",
            "vm.restart",
            "vm.stop",
            "vm.clone",
            "vm.device.create",
            "vm.device.query",
            "vm.device.update",
            "vm.device.delete",
            "vm.get_available_memory",
            "vm.get_display_web_uri",
            "vm.delete",
        ]
    );
    // The reference server wrapped the clone name in an object; TrueNAS takes it positionally.
    assert_eq!(nas_calls_of(&nas, "vm.clone"), [json!([id, "e2evmclone"])]);
    assert_eq!(nas_calls_of(&nas, "vm.device.query"), [json!([[["vm", "=", id]]])]);
    assert_eq!(nas_calls_of(&nas, "vm.delete"), [json!([id, {"zvols": false, "force": false}])]);
    let created_on_nas = &nas_calls_of(&nas, "vm.device.create")[0];
    assert_eq!(created_on_nas[0]["attributes"]["dtype"], "CDROM", "dtype travels inside attributes: {created_on_nas}");
}

#[tokio::test]
async fn bad_arguments_are_refused_and_nothing_is_sent() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("badargs");
    let open = policy_file(&dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(&nas, &["--policy", open.to_str().unwrap()]).await;
    let cases = [
        ("vm_get", json!({"id": "3"}), "`id`"),
        ("vm_get", json!({}), "`id`"),
        ("vm_start", json!({"id": 1, "overcommitt": true}), "overcommitt"),
        ("vm_create", json!({"name": "x", "memory": 512, "bootloader": "BIOS"}), "bootloader"),
        ("vm_delete", json!({"id": 1, "confirm": "false"}), "confirm"),
    ];
    for (action, params, named) in cases {
        let r = truenas(&session, "vm", action, params.clone()).await;
        assert!(is_error(&r), "{action} {params} was accepted: {}", text(&r));
        assert!(text(&r).contains(named), "{action} {params}: the message names {named}: {}", text(&r));
    }
    let unconfirmed = truenas(&session, "vm", "vm_delete", json!({"id": 1, "confirm": false})).await;
    assert_eq!(text(&unconfirmed), "VM deletion aborted: 'confirm' must be set to true.");
    let not_object = truenas(&session, "vm", "vm_get", json!([1])).await;
    assert!(is_error(&not_object), "{}", text(&not_object));

    session.cancel().await.unwrap();
    assert!(nas_methods(&nas).is_empty(), "nothing reached the NAS: {:?}", nas_methods(&nas));
}

#[tokio::test]
async fn integral_floats_are_accepted_as_ids_and_sent_as_integers() {
    let nas = start_sim().await;
    let (session, _) = connect_stdio(&nas, &[]).await;
    let r = truenas(&session, "vm", "vm_status", json!({"id": 1.0})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "vm.status"), [json!([1])]);
    session.cancel().await.unwrap();
}
