//! The `network`, `disk`, `certificate` and `alert` actions build exactly the expected
//! middleware calls, name the right methods, and keep the reference's gates and texts.

use serde_json::{Value, json};

use super::test_support::*;
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

const CATEGORIES: [&str; 4] = ["network", "disk", "certificate", "alert"];

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
        ("disk_list", json!({}), json!([[], {"extra": {"pools": true}}])),
        (
            "disk_get",
            json!({"id": "sda"}),
            json!([[["OR", [[["identifier", "=", "sda"]], [["name", "=", "sda"]]]]], {"get": true, "extra": {"pools": true}}]),
        ),
        ("disk_update", json!({"id": "{serial}X", "hddstandby": "60"}), json!(["{serial}X", {"hddstandby": "60"}])),
        ("disk_wipe", json!({"dev_name": "sde", "mode": "QUICK", "confirm": true}), json!(["sde", "QUICK", true])),
        (
            "disk_wipe",
            json!({"dev_name": "sde", "mode": "FULL", "synccache": false, "confirm": true}),
            json!(["sde", "FULL", false]),
        ),
        ("disk_temperatures", json!({"names": []}), json!([[]])),
        ("disk_smart_test_list", json!({}), json!([])),
        ("disk_wipe", json!({"id": "sde", "mode": "QUICK", "confirm": true}), json!(["sde", "QUICK", true])),
        ("certificate_list", json!({}), json!([])),
        ("certificate_get", json!({"id": 1}), json!([1])),
        (
            "certificate_create",
            json!({"name": "c", "create_type": "CERTIFICATE_CREATE_IMPORTED_CSR", "csr": "PEM", "privatekey": "KEY"}),
            json!([{"name": "c", "create_type": "CERTIFICATE_CREATE_IMPORTED_CSR", "privatekey": "KEY", "CSR": "PEM"}]),
        ),
        ("certificate_delete", json!({"id": 3, "confirm": true}), json!([3, false])),
        ("certificate_delete", json!({"id": 3, "confirm": true, "force": true}), json!([3, true])),
        ("certificate_acme_servers", json!({}), json!([])),
        ("acme_dns_authenticator_list", json!({}), json!([])),
        (
            "acme_dns_authenticator_create",
            json!({"name": "cf", "authenticator": "cloudflare", "attributes": {"api_token": "t", "authenticator": "route53"}}),
            json!([{"name": "cf", "attributes": {"api_token": "t", "authenticator": "cloudflare"}}]),
        ),
        ("acme_dns_authenticator_delete", json!({"id": 2}), json!([2])),
        ("alert_list", json!({}), json!([])),
        ("alert_dismiss", json!({"uuid": "u1"}), json!(["u1"])),
        ("alert_restore", json!({"uuid": "u1"}), json!(["u1"])),
        ("alert_categories", json!({}), json!([])),
        ("alert_policies", json!({}), json!([])),
        ("alertservice_list", json!({}), json!([])),
        (
            "alertservice_create",
            json!({"name": "m", "type": "Mail", "attributes": {"email": "a@b.c"}, "level": "WARNING"}),
            json!([{"name": "m", "attributes": {"email": "a@b.c", "type": "Mail"}, "level": "WARNING"}]),
        ),
        (
            "alertservice_update",
            json!({"id": 2, "name": "m", "type": "Mail", "attributes": {}, "level": "INFO", "enabled": false}),
            json!([2, {"name": "m", "attributes": {"type": "Mail"}, "enabled": false, "level": "INFO"}]),
        ),
        ("alertservice_delete", json!({"id": 2}), json!([2])),
        (
            "alertservice_test",
            json!({"name": "s", "type": "Slack", "attributes": {"url": "https://x"}, "level": "INFO"}),
            json!([{"name": "s", "attributes": {"url": "https://x", "type": "Slack"}, "level": "INFO"}]),
        ),
    ]
}

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    let cases = cases();
    for (name, args, expected) in &cases {
        assert_builds(&catalog, name, None, args, expected);
    }
    // An action that cannot run where its method is missing (SMART) has no call to build.
    for action in catalog.actions().filter(|a| CATEGORIES.contains(&a.category.as_str()) && a.unavailable.is_none()) {
        assert!(cases.iter().any(|(n, _, _)| *n == action.name.as_str()), "no case for {}", action.name);
    }
    let smart = catalog.action("disk_smart_test_run").unwrap();
    let args = object(json!({"disks": ["sda"], "type": "SHORT"}));
    let err = smart.resolve_for(Release::V25_10, &args).unwrap_err().to_string();
    assert!(err.contains("smart.test.manual_test") && err.contains("TrueNAS removed its SMART API"), "{err}");
}

#[test]
fn the_categories_hold_the_reference_actions_in_reference_order() {
    let catalog = builtin();
    let names = |c: &str| -> Vec<String> {
        catalog.category(c).unwrap().actions.iter().map(|a| a.as_str().to_string()).collect()
    };
    assert_eq!(names("network").len(), 15);
    assert_eq!(names("disk").len(), 7);
    assert_eq!(names("certificate").len(), 8);
    assert_eq!(names("alert").len(), 10);
    assert_eq!(names("network")[12..], ["network_commit_changes", "network_rollback_changes", "network_checkin"]);
    assert_eq!(
        names("certificate")[5..],
        ["acme_dns_authenticator_list", "acme_dns_authenticator_create", "acme_dns_authenticator_delete"]
    );
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
        ("disk_get", "disk.query"),
        ("disk_smart_test_list", "alert.list"),
        ("disk_smart_test_run", "smart.test.manual_test"),
        ("certificate_acme_servers", "certificate.acme_server_choices"),
        ("acme_dns_authenticator_list", "acme.dns.authenticator.query"),
        ("alert_categories", "alert.list_categories"),
        ("alertservice_list", "alertservice.query"),
    ] {
        assert_eq!(method(action), expected, "{action}");
    }
    let table = MethodTable::get(Release::V25_10);
    let jobs: Vec<&str> = catalog
        .actions()
        .filter(|a| CATEGORIES.contains(&a.category.as_str()))
        .filter(|a| table.method(a.method.as_str()).is_some_and(|m| m.job))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(jobs, ["disk_wipe", "certificate_create", "certificate_delete"]);
}

#[test]
fn the_gated_actions_keep_the_reference_refusals_and_are_destructive() {
    let catalog = builtin();
    let mine = || catalog.actions().filter(|a| CATEGORIES.contains(&a.category.as_str()));
    let gated: Vec<(&str, &str)> = mine().filter_map(|a| Some((a.name.as_str(), a.confirm.as_deref()?))).collect();
    assert_eq!(
        gated,
        [
            ("network_interface_delete", "Delete aborted: 'confirm' must be set to true."),
            ("disk_wipe", "Wipe aborted: 'confirm' must be set to true."),
            ("certificate_delete", "Deletion aborted: 'confirm' must be set to true."),
        ]
    );
    let destructive: Vec<&str> = mine().filter(|a| a.risk == Risk::Destructive).map(|a| a.name.as_str()).collect();
    assert_eq!(destructive, ["network_interface_delete", "network_commit_changes", "disk_wipe", "certificate_delete"]);
    let removed = catalog.action("disk_update").unwrap();
    let err = removed.build_params(&object(json!({"id": "x", "togglesmart": true}))).unwrap_err();
    assert!(err.to_string().contains("togglesmart"), "arguments 25.10 lacks are refused by name: {err}");
}
