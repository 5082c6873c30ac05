//! Global network settings, static routes and the running summary.

use serde_json::json;

use super::*;
use crate::failure::validation_messages as messages;
use crate::network::interface;

use crate::test_support::object as data;

#[test]
fn only_the_given_fields_change_and_the_state_follows() {
    let mut net = demo("truenas");
    let ifaces = interface::demo();
    net.update(
        &data(json!({"hostname": "vault", "hosts": ["192.168.1.20 backup"], "activity": {"type": "ALLOW"}})),
        &ifaces,
    )
    .unwrap();
    let entry = net.config_entry();
    assert_eq!(entry["hostname"], "vault");
    assert_eq!(entry["hostname_local"], "vault");
    assert_eq!(entry["domain"], "home.arpa", "unchanged");
    assert_eq!(entry["hosts"], json!(["192.168.1.20 backup"]));
    assert_eq!(entry["activity"], json!({"type": "ALLOW", "activities": []}));
    assert_eq!(entry["state"]["ipv4gateway"], "192.168.1.1");
}

#[test]
fn nameservers_and_gateways_are_checked_like_the_middleware() {
    let mut net = demo("truenas");
    let ifaces = interface::demo();
    let err = net
        .update(&data(json!({"nameserver1": "", "nameserver2": "1.1.1.1", "nameserver3": "127.0.0.1"})), &ifaces)
        .unwrap_err();
    assert_eq!(
        messages(err),
        [
            (
                "network_configuration_update.nameserver2".to_string(),
                "Must fill out namserver1 before filling out nameserver2".to_string()
            ),
            ("network_configuration_update.nameserver3".to_string(), "Loopback is not a valid nameserver".to_string()),
            (
                "network_configuration_update.nameserver3".to_string(),
                "Must fill out namserver1 before filling out nameserver3".to_string()
            ),
        ]
    );
    let err = net.update(&data(json!({"ipv4gateway": "172.16.0.1"})), &ifaces).unwrap_err();
    assert_eq!(
        messages(err),
        [("network_configuration_update.ipv4gateway".to_string(), "Gateway 172.16.0.1 is unreachable".to_string())]
    );
    assert!(net.update(&data(json!({"ipv4gateway": "10.10.10.1"})), &ifaces).is_ok(), "on the storage network");
    assert_eq!(net.config.ipv4gateway, "10.10.10.1");
}

#[test]
fn routes_are_normalised_checked_and_deleted() {
    let mut net = demo("truenas");
    assert_eq!(net.routes().len(), 1);
    let id = net.create_route(&data(json!({"destination": "10.20.0.9/24", "gateway": "192.168.1.254"}))).unwrap();
    assert_eq!(id, 2);
    assert_eq!(
        net.route(2).unwrap().entry(),
        json!({"destination": "10.20.0.0/24", "gateway": "192.168.1.254", "description": "", "id": 2})
    );
    let err = net.create_route(&data(json!({"destination": "fd00::/64", "gateway": "192.168.1.254"}))).unwrap_err();
    assert_eq!(
        messages(err),
        [(
            "staticroute_create.destination".to_string(),
            "Destination and gateway address families must match".to_string()
        )]
    );
    assert!(net.create_route(&data(json!({"destination": "10.0.0.0/40", "gateway": "x"}))).is_err());
    net.update_route(2, &data(json!({"description": "lab"}))).unwrap();
    assert_eq!(net.route(2).unwrap().description, "lab");
    net.delete_route(2).unwrap();
    assert_eq!(net.delete_route(2), Err(route_not_found(2)));
    assert_eq!(route_not_found(2).reason(), "[ENOENT] None: StaticRoute 2 does not exist\n");
}

#[test]
fn the_summary_lists_running_addresses_routes_and_resolvers() {
    let net = demo("truenas");
    let ifaces = interface::demo();
    let s = summary(&net, &ifaces);
    assert_eq!(s["ips"]["br0"]["IPV4"], json!(["192.168.1.50/24"]));
    assert_eq!(s["ips"]["enp6s0"]["IPV4"], json!(["10.10.10.2/24"]));
    assert!(s["ips"]["br0"]["IPV6"][0].as_str().unwrap().starts_with("fe80::"));
    assert_eq!(s["default_routes"], json!(["192.168.1.1"]));
    assert_eq!(s["nameservers"], json!(["192.168.1.1", "9.9.9.9"]));
}
