use serde_json::{Map, Value, json};

use super::*;
use crate::state::State;
use crate::test_support::created;
use truenas_api::schema::Release;

fn demo() -> State {
    State::demo(Release::V25_10)
}

fn config(value: Value) -> Map<String, Value> {
    created("vm.create", value)
}

fn reason(f: Failure) -> String {
    f.reason()
}

#[test]
fn the_seed_has_two_running_guests_and_a_stopped_windows_vm() {
    let s = demo();
    let states: Vec<(String, String)> =
        s.vm.entries()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e["status"]["state"].as_str().unwrap().to_string()))
            .collect();
    assert_eq!(
        states,
        [("ubuntu_server", "RUNNING"), ("windows11", "STOPPED"), ("homeassistant", "RUNNING")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let windows = s.vm.entry(2).unwrap();
    assert_eq!(windows["memory"], 16384);
    let dtypes: Vec<&str> =
        windows["devices"].as_array().unwrap().iter().map(|d| d["attributes"]["dtype"].as_str().unwrap()).collect();
    assert_eq!(dtypes, ["CDROM", "DISK", "NIC", "DISPLAY"]);
    assert_eq!(windows["display_available"], true);
    assert_eq!(windows["status"], json!({"state": "STOPPED", "pid": null, "domain_state": "SHUTOFF"}));
}

#[test]
fn entries_carry_exactly_the_schema_fields() {
    let entry = demo().vm.entry(1).unwrap();
    let keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 32, "{keys:?}");
    for key in [
        "memory",
        "min_memory",
        "bootloader_ovmf",
        "uuid",
        "devices",
        "display_available",
        "id",
        "status",
        "enable_secure_boot",
    ] {
        assert!(keys.contains(&key), "{key}");
    }
    let dev = &entry["devices"][0];
    assert_eq!(dev.as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "attributes", "vm", "order"]);
}

#[test]
fn starting_a_running_guest_is_refused() {
    let mut s = demo();
    let State { host, vm, .. } = &mut s;
    let err = vm.start(1, false, host).unwrap_err();
    assert_eq!(reason(err), "[EFAULT] ubuntu_server is already running");
}

#[test]
fn a_guest_larger_than_free_memory_needs_overcommit() {
    let mut s = demo();
    let State { host, vm, .. } = &mut s;
    let err = vm.start(2, false, host).unwrap_err();
    assert_eq!(err.to_rpc_error()["data"]["error"], 12);
    assert_eq!(reason(err), "[ENOMEM] Cannot guarantee memory for guest windows11");
    assert_eq!(vm.vm(2).unwrap().power, Power::Stopped);
    vm.start(2, true, host).unwrap();
    assert!(matches!(vm.vm(2).unwrap().power, Power::Running { .. }));
    assert_eq!(vm.guest_bytes(), (4096 + 16384 + 2048) * 1024 * 1024);
}

#[test]
fn a_small_guest_starts_without_overcommit() {
    let mut s = demo();
    let id = s.vm.create(config(json!({"name": "tiny", "memory": 512}))).unwrap();
    let State { host, vm, .. } = &mut s;
    vm.start(id, false, host).unwrap();
    assert_eq!(vm.vm(id).unwrap().status()["state"], "RUNNING");
}

#[test]
fn stopping_needs_a_running_guest() {
    let mut s = demo();
    assert_eq!(reason(s.vm.require_running(2).unwrap_err()), "[EFAULT] 2_windows11 domain is not active");
    assert_eq!(reason(s.vm.poweroff(2).unwrap_err()), "[EFAULT] 2_windows11 domain is not active");
    s.vm.poweroff(1).unwrap();
    assert_eq!(s.vm.vm(1).unwrap().power, Power::Stopped);
    assert_eq!(reason(s.vm.require_running(99).unwrap_err()), "[ENOENT] None: VM 99 does not exist\n");
}

#[test]
fn create_applies_defaults_and_checks_the_name() {
    let mut s = demo();
    let id = s.vm.create(config(json!({"name": "web01", "memory": 1024}))).unwrap();
    assert_eq!(id, 4);
    let e = s.vm.entry(id).unwrap();
    assert_eq!(e["bootloader_ovmf"], "OVMF_CODE.fd");
    assert_eq!(e["shutdown_timeout"], 90);
    assert!(e["uuid"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(e["devices"], json!([]));
    assert_eq!(e["display_available"], false);

    let dup = s.vm.create(config(json!({"name": "web01", "memory": 1024}))).unwrap_err();
    assert_eq!(dup.to_rpc_error()["data"]["extra"], json!([["vm_create.name", "This name already exists.", 17]]));
    let bad = s.vm.create(config(json!({"name": "web 01", "memory": 1024}))).unwrap_err();
    assert_eq!(bad.to_rpc_error()["data"]["extra"][0][1], "Only alphanumeric characters are allowed.");
    let min = s.vm.create(config(json!({"name": "x", "memory": 1024, "min_memory": 2048}))).unwrap_err();
    assert_eq!(min.to_rpc_error()["data"]["extra"][0][0], "vm_create.min_memory");
}

#[test]
fn renaming_a_running_guest_is_refused_but_other_updates_apply() {
    let mut s = demo();
    let err = s.vm.update(1, json!({"name": "renamed"}).as_object().unwrap().clone()).unwrap_err();
    assert_eq!(reason(err), "[EFAULT] VM name can only be changed when VM is inactive");
    s.vm.update(1, json!({"memory": 8192, "bogus": 1}).as_object().unwrap().clone()).unwrap();
    let e = s.vm.entry(1).unwrap();
    assert_eq!(e["memory"], 8192);
    assert!(e.get("bogus").is_none());
    let err = s.vm.update(2, json!({"name": "ubuntu_server"}).as_object().unwrap().clone()).unwrap_err();
    assert_eq!(err.to_rpc_error()["data"]["extra"][0][0], "vm_update.name");
}

#[test]
fn clones_get_the_next_free_name_and_fresh_devices() {
    let mut s = demo();
    let a = s.vm.clone_vm(1, None).unwrap();
    let b = s.vm.clone_vm(1, None).unwrap();
    let named = s.vm.clone_vm(1, Some("proxy2")).unwrap();
    assert_eq!(s.vm.entry(a).unwrap()["name"], "ubuntu_server_clone0");
    assert_eq!(s.vm.entry(b).unwrap()["name"], "ubuntu_server_clone1");
    assert_eq!(s.vm.entry(named).unwrap()["name"], "proxy2");
    let (orig, copy) = (s.vm.entry(1).unwrap(), s.vm.entry(a).unwrap());
    assert_eq!(copy["status"]["state"], "STOPPED");
    assert_ne!(copy["uuid"], orig["uuid"]);
    let find = |e: &Value, dtype: &str| {
        e["devices"].as_array().unwrap().iter().find(|d| d["attributes"]["dtype"] == dtype).unwrap().clone()
    };
    assert_ne!(find(&copy, "NIC")["attributes"]["mac"], find(&orig, "NIC")["attributes"]["mac"]);
    assert_ne!(find(&copy, "DISPLAY")["attributes"]["port"], find(&orig, "DISPLAY")["attributes"]["port"]);
    assert_eq!(
        find(&copy, "DISK")["attributes"]["path"],
        "/dev/zvol/tank/vms/ubuntu_server-disk0_ubuntu_server_clone0"
    );
    assert_eq!(find(&copy, "DISK")["vm"], a);
    assert!(s.vm.clone_vm(1, Some("windows11")).is_err(), "clone names are validated");
    assert!(s.vm.clone_vm(42, None).is_err());
}

#[test]
fn deleting_a_vm_deletes_its_devices() {
    let mut s = demo();
    let before = s.vm.device_entries().len();
    s.vm.delete(1).unwrap();
    assert!(s.vm.entry(1).is_err());
    assert_eq!(s.vm.device_entries().len(), before - 4);
    assert!(s.vm.device_entries().iter().all(|d| d["vm"] != 1));
    assert!(s.vm.delete(1).is_err());
}
