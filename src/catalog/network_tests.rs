//! The `network` actions (`tools/network.toml`) build exactly the expected middleware calls,
//! name the right methods, and keep the reference's gates and texts.

use serde_json::{Value, json};

use super::test_support::*;

/// (action, arguments, expected positional params).
fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        ("network_interface_list", json!({}), json!([])),
        ("network_interface_get", json!({"id": "br0"}), json!(["br0"])),
        (
            "network_interface_create",
            json!({"type": "VLAN", "vlan_parent_interface": "enp6s0", "vlan_tag": 20.0, "mtu": 1500}),
            json!([{"type": "VLAN", "vlan_parent_interface": "enp6s0", "vlan_tag": 20, "mtu": 1500}]),
        ),
        (
            "network_interface_update",
            json!({"id": "enp6s0", "ipv4_dhcp": true}),
            json!(["enp6s0", {"ipv4_dhcp": true}]),
        ),
        ("network_interface_delete", json!({"id": "vlan10", "confirm": true}), json!(["vlan10"])),
        ("network_config", json!({}), json!([])),
        (
            "network_config_update",
            json!({"nameserver1": "1.1.1.1", "hosts": ["10.0.0.2 nas2"]}),
            json!([{"nameserver1": "1.1.1.1", "hosts": ["10.0.0.2 nas2"]}]),
        ),
        ("network_summary", json!({}), json!([])),
        ("network_static_route_list", json!({}), json!([])),
        (
            "network_static_route_create",
            json!({"destination": "10.20.0.0/24", "gateway": "192.168.1.254"}),
            json!([{"destination": "10.20.0.0/24", "gateway": "192.168.1.254"}]),
        ),
        ("network_static_route_delete", json!({"id": 1}), json!([1])),
        ("network_ipmi_info", json!({}), json!([{}])),
        ("network_commit_changes", json!({"checkin_timeout": 60}), json!([{"rollback": true, "checkin_timeout": 60}])),
        ("network_rollback_changes", json!({}), json!([])),
        ("network_checkin", json!({}), json!([])),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds(&catalog, "network", &cases());
}

#[test]
fn the_category_holds_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names: Vec<String> =
        catalog.category("network").unwrap().actions.iter().map(|a| a.as_str().to_string()).collect();
    assert_eq!(names.len(), 15);
    assert_eq!(names[12..], ["network_commit_changes", "network_rollback_changes", "network_checkin"]);
}

#[test]
fn methods_that_are_not_obvious() {
    let catalog = builtin();
    let method = |a: &str| catalog.action(a).map(|d| d.method.as_str().to_string()).unwrap_or_default();
    for (action, expected) in [
        ("network_config", "network.configuration.config"),
        ("network_summary", "network.general.summary"),
        ("network_ipmi_info", "ipmi.chassis.info"),
        ("network_commit_changes", "interface.commit"),
        ("network_rollback_changes", "interface.rollback"),
        ("network_checkin", "interface.checkin"),
    ] {
        assert_eq!(method(action), expected, "{action}");
    }
    let jobs = jobs_of(&catalog, "network");
    assert!(jobs.is_empty(), "{jobs:?}");
}

#[test]
fn the_gated_actions_keep_the_reference_refusals_and_are_destructive() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "network");
    assert_eq!(gated, [("network_interface_delete", "Delete aborted: 'confirm' must be set to true.")]);
    let destructive: Vec<&str> = destructive_of(&catalog, "network");
    assert_eq!(destructive, ["network_interface_delete", "network_commit_changes"]);
}
