//! VM devices: defaults per `dtype`, MACs, display ports and boot orders handed out, the
//! middleware's checks, and no removal from a running guest.

use serde_json::{Map, Value, json};

use crate::state::State;
use crate::test_support::{created, object, reason};
use truenas_api::schema::Release;

fn demo() -> State {
    State::demo(Release::V25_10)
}

fn device(value: Value) -> Map<String, Value> {
    created("vm.device.create", value)
}

#[test]
fn devices_get_macs_ports_and_orders() {
    let mut s = demo();
    let nic = s.vm.create_device(device(json!({"attributes": {"dtype": "NIC"}, "vm": 2}))).unwrap();
    let nic = s.vm.device(nic).unwrap().entry();
    assert!(nic["attributes"]["mac"].as_str().unwrap().starts_with("00:a0:98:"));
    assert_eq!(nic["order"], 1004);
    let display = s.vm.create_device(device(json!({"attributes": {"dtype": "DISPLAY"}, "vm": 2}))).unwrap();
    let display = s.vm.device(display).unwrap().entry();
    assert_eq!(display["attributes"]["port"], 5906, "5900-5905 are taken by the seed");
    assert_eq!(display["attributes"]["web_port"], 5907);
    let cd =
        s.vm.create_device(device(json!({"attributes": {"dtype": "CDROM", "path": "/mnt/tank/x.iso"}, "vm": 3})))
            .unwrap();
    assert_eq!(s.vm.device(cd).unwrap().order, 1000);
}

#[test]
fn device_problems_are_validation_errors() {
    let mut s = demo();
    let err = s.vm.create_device(device(json!({"attributes": {"dtype": "DISK"}, "vm": 77}))).unwrap_err();
    let extra = err.to_rpc_error()["data"]["extra"].clone();
    assert_eq!(extra[0][0], "vm_device_create.vm");
    assert_eq!(extra[1][0], "vm_device_create.attributes.path");
    let err =
        s.vm.create_device(device(json!({"attributes": {"dtype": "DISPLAY", "port": 5900}, "vm": 2}))).unwrap_err();
    assert_eq!(err.to_rpc_error()["data"]["extra"][0][1], "Specified display port is already in use");
    let zvol = s
        .vm
        .create_device(device(json!({"attributes": {"dtype": "DISK", "create_zvol": true, "zvol_name": "tank/vms/new", "zvol_volsize": 1073741824}, "vm": 2})))
        .unwrap();
    assert_eq!(s.vm.device(zvol).unwrap().attributes["path"], "/dev/zvol/tank/vms/new");
}

#[test]
fn devices_of_a_running_guest_cannot_be_deleted() {
    let mut s = demo();
    assert_eq!(reason(s.vm.delete_device(1)), "[EFAULT] Please stop/resume associated VM before deleting VM device.");
    s.vm.delete_device(5).unwrap();
    assert_eq!(reason(s.vm.delete_device(5)), "[ENOENT] None: VMDevice 5 does not exist\n");
}

#[test]
fn device_updates_merge_attributes_but_keep_the_type() {
    let mut s = demo();
    s.vm.update_device(7, object(json!({"attributes": {"type": "VIRTIO"}}))).unwrap();
    let d = s.vm.device(7).unwrap();
    assert_eq!(d.attributes["type"], "VIRTIO");
    assert_eq!(d.attributes["mac"], "00:a0:98:5d:7e:02");
    let err = s.vm.update_device(7, object(json!({"attributes": {"dtype": "DISK"}}))).unwrap_err();
    assert_eq!(err.to_rpc_error()["data"]["extra"][0][0], "vm_device_update.attributes.dtype");
}
