//! Interfaces: staging, commit with and without check-in, rollback, and the middleware's checks.

use serde_json::{Map, Value, json};

use super::*;
use crate::failure::validation_messages as messages;

use crate::test_support::object as data;

fn vlan20() -> Map<String, Value> {
    data(json!({"type": "VLAN", "name": "vlan20", "vlan_parent_interface": "enp6s0", "vlan_tag": 20,
        "aliases": [{"address": "192.168.20.50", "netmask": 24}]}))
}

#[test]
fn a_created_interface_is_staged_until_a_commit_applies_it() {
    let mut ifaces = demo();
    assert!(!ifaces.has_pending_changes());
    assert_eq!(ifaces.create(&vlan20()), Ok("vlan20".to_string()));
    assert!(ifaces.has_pending_changes());
    let entry = ifaces.entry("vlan20").unwrap();
    assert_eq!(entry["fake"], true, "not on the system yet");
    assert_eq!(entry["state"]["link_state"], "LINK_STATE_DOWN");
    assert_eq!(entry["vlan_tag"], 20);
    let generation = ifaces.commit(true, 60).unwrap().expect("a revert timer is armed");
    assert_eq!(ifaces.entry("vlan20").unwrap()["fake"], false);
    assert!(ifaces.checkin_waiting().is_some_and(|s| s > 50 && s <= 60));
    assert!(ifaces.expire(generation), "no check-in: reverted");
    assert!(ifaces.entry("vlan20").is_none());
    assert!(!ifaces.applied.contains_key("vlan20"));
    assert!(!ifaces.has_pending_changes());
    assert_eq!(ifaces.checkin_waiting(), None);
}

#[test]
fn a_check_in_keeps_a_commit_and_disarms_its_timer() {
    let mut ifaces = demo();
    ifaces.create(&vlan20()).unwrap();
    let generation = ifaces.commit(true, 60).unwrap().unwrap();
    ifaces.checkin();
    assert!(!ifaces.expire(generation));
    assert!(ifaces.entry("vlan20").is_some());
    assert!(!ifaces.has_pending_changes());
    // A later commit arms a new timer; the old generation cannot revert it.
    ifaces.update("vlan20", &data(json!({"mtu": 1400}))).unwrap();
    let next = ifaces.commit(true, 30).unwrap().unwrap();
    assert!(!ifaces.expire(generation));
    assert!(ifaces.expire(next));
    assert_eq!(ifaces.entry("vlan20").unwrap()["mtu"], Value::Null, "back to the confirmed MTU");
}

#[test]
fn rollback_drops_staged_changes_and_timeout_zero_confirms_at_once() {
    let mut ifaces = demo();
    ifaces.update("enp6s0", &data(json!({"mtu": 1500}))).unwrap();
    ifaces.rollback();
    assert_eq!(ifaces.get("enp6s0").unwrap().mtu, Some(9000));
    assert!(!ifaces.has_pending_changes());
    ifaces.update("enp6s0", &data(json!({"mtu": 1500}))).unwrap();
    assert_eq!(ifaces.commit(true, 0), Ok(None));
    assert!(!ifaces.has_pending_changes());
    assert_eq!(ifaces.applied["enp6s0"].mtu, Some(1500));
}

#[test]
fn commit_needs_one_addressed_interface() {
    let mut ifaces = demo();
    for name in ["vlan10", "br0"] {
        ifaces.delete(name).unwrap();
    }
    ifaces.update("enp6s0", &data(json!({"aliases": []}))).unwrap();
    let err = ifaces.commit(true, 60).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EFAULT] At least one interface configured with either IPv4 DHCP, IPv6 auto or a static IP is required."
    );
}

#[test]
fn names_default_by_kind_and_must_be_free_and_well_formed() {
    let mut ifaces = demo();
    assert_eq!(ifaces.create(&data(json!({"type": "BRIDGE"}))), Ok("br1".to_string()));
    let vlan = data(json!({"type": "VLAN", "vlan_parent_interface": "enp5s0", "vlan_tag": 30}));
    assert_eq!(ifaces.create(&vlan), Ok("vlan30".to_string()));
    let err = ifaces.create(&data(json!({"type": "BRIDGE", "name": "br0"}))).unwrap_err();
    assert_eq!(messages(err), [("interface_create.name".into(), "Interface name is already in use.".into())]);
    let err = ifaces.create(&data(json!({"type": "BRIDGE", "name": "lan"}))).unwrap_err();
    assert_eq!(
        messages(err),
        [(
            "interface_create.name".into(),
            "Bridge interface must start with \"br\" followed by an unique number.".into()
        )]
    );
    let err = ifaces.create(&data(json!({"type": "LINK_AGGREGATION"}))).unwrap_err();
    assert_eq!(messages(err).len(), 2, "lag_protocol and lag_ports are required");
}

#[test]
fn members_parents_dhcp_and_networks_are_checked() {
    let mut ifaces = demo();
    let cases = [
        (
            json!({"type": "BRIDGE", "bridge_members": ["enp5s0"]}),
            "interface_create.bridge_members.0",
            "Interface enp5s0 is currently in use by br0.",
        ),
        (
            json!({"type": "BRIDGE", "bridge_members": ["eth9"]}),
            "interface_create.bridge_members.0",
            "Not a valid interface.",
        ),
        (
            json!({"type": "LINK_AGGREGATION", "lag_protocol": "LACP", "lag_ports": ["vlan10"]}),
            "interface_create.lag_ports.0",
            "Only physical interfaces are allowed to be a member of Link Aggregation.",
        ),
        (
            json!({"type": "VLAN", "vlan_parent_interface": "br0", "vlan_tag": 5}),
            "interface_create.vlan_parent_interface",
            "Bridge interfaces are not allowed.",
        ),
        (
            json!({"type": "VLAN", "vlan_parent_interface": "enp5s0", "vlan_tag": 5, "mtu": 9000}),
            "interface_create.mtu",
            "VLAN MTU cannot be bigger than parent interface.",
        ),
        (
            json!({"type": "BRIDGE", "aliases": [{"address": "192.168.1.60", "netmask": 24}]}),
            "interface_create.aliases.0",
            "The network 192.168.1.0/24 is already in use by another interface.",
        ),
        (
            json!({"type": "BRIDGE", "aliases": [{"address": "192.168.1", "netmask": 24}]}),
            "interface_create.aliases.0.address",
            "'192.168.1' does not appear to be an IPv4 or IPv6 address",
        ),
    ];
    for (call, field, message) in cases {
        let err = ifaces.create(&data(call.clone())).unwrap_err();
        assert_eq!(messages(err), [(field.to_string(), message.to_string())], "{call}");
    }
    ifaces.update("enp6s0", &data(json!({"ipv4_dhcp": true}))).unwrap();
    let err = ifaces.update("br0", &data(json!({"ipv4_dhcp": true}))).unwrap_err();
    assert_eq!(
        messages(err),
        [("interface_update.ipv4_dhcp".into(), "Only one interface can be used for DHCP.".into())]
    );
    assert!(
        ifaces.update("enp6s0", &data(json!({"aliases": [{"address": "10.10.10.3", "netmask": 24}]}))).is_ok(),
        "its own network"
    );
}

#[test]
fn an_interface_in_use_is_not_deleted_and_a_nic_is_only_reset() {
    let mut ifaces = demo();
    let err = ifaces.delete("enp6s0").unwrap_err();
    assert_eq!(messages(err), [("interface_delete.id".into(), "Interface enp6s0 is in use by vlan10.".into())]);
    assert!(ifaces.delete("enp5s0").is_err(), "a bridge member");
    ifaces.delete("vlan10").unwrap();
    ifaces.delete("enp6s0").unwrap();
    let nic = ifaces.entry("enp6s0").unwrap();
    assert_eq!(nic["aliases"], json!([]));
    assert_eq!(nic["type"], "PHYSICAL");
    assert_eq!(ifaces.delete("eth9"), Err(interface_not_found("eth9")));
}

#[test]
fn entries_carry_the_fields_of_their_kind_and_the_running_addresses() {
    let ifaces = demo();
    let bridge = ifaces.entry("br0").unwrap();
    assert_eq!(bridge["bridge_members"], json!(["enp5s0"]));
    assert!(bridge.get("vlan_tag").is_none());
    let state_aliases = bridge["state"]["aliases"].as_array().unwrap();
    assert_eq!(
        state_aliases[0],
        json!({"type": "INET", "address": "192.168.1.50", "netmask": 24, "broadcast": "192.168.1.255"})
    );
    assert_eq!(state_aliases[1]["type"], "INET6");
    let vlan = ifaces.entry("vlan10").unwrap();
    assert_eq!(vlan["vlan_parent_interface"], "enp6s0");
    assert_eq!(vlan["state"]["link_address"], "00:1b:21:8a:4e:10", "a VLAN shows its parent's MAC");
    let nic = ifaces.entry("enp5s0").unwrap();
    assert_eq!(nic["state"]["active_media_subtype"], "2500Mb/s Twisted Pair");
    assert!(nic.get("bridge_members").is_none());
    assert_eq!(ifaces.entries().len(), 4);
}
