//! VM methods over the wire: not-found shapes, memory and overcommit, CRUD, devices, events.

use serde_json::{Value, json};

use super::{Client, sim};

#[tokio::test]
async fn unknown_ids_get_the_middleware_not_found_shape() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    for (method, params, what) in [
        ("vm.get_instance", json!([99]), "VM 99 does not exist"),
        ("vm.start", json!([99]), "VM 99 does not exist"),
        ("vm.delete", json!([99]), "VM 99 does not exist"),
        ("vm.device.get_instance", json!([99]), "VMDevice 99 does not exist"),
    ] {
        let err = c.error(method, params).await;
        assert_eq!(err["code"], -32602, "{method}");
        assert_eq!(err["message"], "Invalid params");
        assert_eq!(err["data"]["error"], 22);
        assert_eq!(err["data"]["errname"], "EINVAL");
        assert_eq!(err["data"]["reason"], format!("[ENOENT] None: {what}\n"));
        assert_eq!(err["data"]["extra"], json!([[null, what, 2]]), "ENOENT rides in extra");
    }
    let err = c.error("vm.query", json!([[["id", "=", 99]], {"get": true}])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["data"]["reason"], "MatchNotFound()");
}

#[tokio::test]
async fn the_windows_vm_needs_overcommit() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let free = c.call("vm.get_available_memory", json!([false])).await.as_u64().unwrap();
    let with_arc = c.call("vm.get_available_memory", json!([true])).await.as_u64().unwrap();
    assert!(free < 16 << 30 && with_arc > 16 << 30, "{free} {with_arc}");
    let err = c.error("vm.start", json!([2])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["data"]["error"], 12);
    assert_eq!(err["data"]["errname"], "ENOMEM");
    assert_eq!(err["data"]["reason"], "[ENOMEM] Cannot guarantee memory for guest windows11");
    assert_eq!(c.call("vm.status", json!([2])).await["state"], "STOPPED");
    assert_eq!(c.call("vm.start", json!([2, {"overcommit": true}])).await, Value::Null);
    let status = c.call("vm.status", json!([2])).await;
    assert_eq!(status["state"], "RUNNING");
    assert!(status["pid"].is_u64());
    let err = c.error("vm.start", json!([2])).await;
    assert_eq!(err["data"]["reason"], "[EFAULT] windows11 is already running");
}

#[tokio::test]
async fn create_query_update_clone_delete() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let vm = c.call("vm.create", json!([{"name": "builder", "memory": 2048, "vcpus": 2}])).await;
    assert_eq!(vm["id"], 4);
    assert_eq!(vm["bootloader"], "UEFI");
    assert_eq!(vm["status"]["state"], "STOPPED");
    let err = c.error("vm.create", json!([{"name": "builder", "memory": 2048}])).await;
    assert_eq!(err["data"]["extra"], json!([["vm_create.name", "This name already exists.", 17]]));

    let found = c.call("vm.query", json!([[["name", "C=", "BUILDER"]], {"get": true}])).await;
    assert_eq!(found["id"], 4);
    let running = c
        .call("vm.query", json!([[["status.state", "=", "RUNNING"]], {"select": ["name"], "order_by": ["name"]}]))
        .await;
    assert_eq!(running, json!([{"name": "homeassistant"}, {"name": "ubuntu_server"}]));

    let updated = c.call("vm.update", json!([4, {"memory": 4096, "description": "CI runner"}])).await;
    assert_eq!(updated["memory"], 4096);
    assert_eq!(c.call("vm.get_instance", json!([4])).await["description"], "CI runner");

    assert_eq!(c.call("vm.clone", json!([4, null])).await, true);
    assert_eq!(c.call("vm.get_instance", json!([5])).await["name"], "builder_clone0");
    assert_eq!(c.call("vm.delete", json!([4])).await, true);
    assert_eq!(c.call("vm.query", json!([[], {"count": true}])).await, 4);
}

#[tokio::test]
async fn devices_are_created_with_dtype_inside_attributes() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let disk = c
        .call(
            "vm.device.create",
            json!([{"attributes": {"dtype": "DISK", "path": "/dev/zvol/tank/vms/data"}, "vm": 2}]),
        )
        .await;
    assert_eq!(disk["vm"], 2);
    assert_eq!(disk["attributes"]["type"], "AHCI", "the schema default");
    assert_eq!(disk["attributes"]["iotype"], "THREADS");
    assert_eq!(disk["order"], 1004);
    let err = c.error("vm.device.create", json!([{"dtype": "DISK", "vm": 2}])).await;
    assert_eq!(err["code"], -32602, "the 24.x shape is refused");
    let devices = c.call("vm.device.query", json!([[["vm", "=", 2]]])).await;
    assert_eq!(devices.as_array().unwrap().len(), 5);
    assert_eq!(c.call("vm.get_instance", json!([2])).await["devices"].as_array().unwrap().len(), 5);
    let nic = c.call("vm.device.update", json!([7, {"attributes": {"type": "VIRTIO"}}])).await;
    assert_eq!(nic["attributes"]["type"], "VIRTIO");
    assert_eq!(c.call("vm.device.delete", json!([disk["id"]])).await, true);
    let err = c.error("vm.device.delete", json!([1])).await;
    assert_eq!(err["data"]["reason"], "[EFAULT] Please stop/resume associated VM before deleting VM device.");
}

#[tokio::test]
async fn state_changes_are_published_on_vm_query() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["vm.query"])).await;
    c.call("vm.poweroff", json!([3])).await;
    c.call("core.ping", json!([])).await;
    let event = c.notifications.iter().find(|n| n["params"]["collection"] == "vm.query").unwrap();
    assert_eq!(event["params"]["msg"], "changed");
    assert_eq!(event["params"]["id"], 3);
    assert_eq!(event["params"]["fields"]["status"]["state"], "STOPPED");
}

#[tokio::test]
async fn display_uri_and_helpers() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let uri = c.call("vm.get_display_web_uri", json!([1, "nas.local", {"protocol": "HTTPS"}])).await;
    assert_eq!(uri, json!({"error": null, "uri": "https://nas.local/vm/display/1/spice_auto.html"}));
    let vm = c.call("vm.create", json!([{"name": "headless", "memory": 256}])).await;
    let uri = c.call("vm.get_display_web_uri", json!([vm["id"], "nas.local"])).await;
    assert_eq!(uri["uri"], Value::Null);
    assert!(uri["error"].is_string());
    let wizard = c.call("vm.port_wizard", json!([])).await;
    assert_eq!(wizard, json!({"port": 5906, "web": 5907}));
    assert!(c.call("vm.random_mac", json!([])).await.as_str().unwrap().starts_with("00:a0:98:"));
}
