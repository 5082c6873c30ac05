//! Interface methods through the dispatcher, with their results checked against the `returns`
//! schemas of both releases.

use std::time::Duration;

use serde_json::{Value, json};

use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn reads_match_the_returns_schemas_of_both_releases() {
    for release in Release::ALL {
        let nas = Nas::new(release);
        let all = nas.ok("interface.query", json!([])).await;
        assert_eq!(all.as_array().unwrap().len(), 4, "{release}");
        nas.ok("interface.get_instance", json!(["br0"])).await;
        nas.ok("interface.has_pending_changes", json!([])).await;
        nas.ok("interface.checkin_waiting", json!([])).await;
    }
}

#[tokio::test]
async fn unknown_interfaces_get_the_not_found_shape() {
    let nas = Nas::new(Release::V25_10);
    let err = nas.err("interface.get_instance", json!(["eth9"])).await;
    assert_eq!(err.reason(), "[ENOENT] None: Interface eth9 does not exist\n");
    let err = nas.err("interface.update", json!(["eth9", {"mtu": 1500}])).await;
    assert_eq!(err.reason(), "[ENOENT] None: Interface eth9 does not exist\n");
    let err = nas
        .err("interface.create", json!([{"type": "VLAN", "vlan_parent_interface": "enp6s0", "vlan_tag": 9999}]))
        .await;
    assert!(err.reason().contains("vlan_tag"), "the tag is bounded: {}", err.reason());
}

#[tokio::test]
async fn an_unconfirmed_commit_reverts_itself_and_a_checked_in_one_stays() {
    let nas = Nas::new(Release::V25_10);
    let created = nas
        .ok(
            "interface.create",
            json!([{"type": "VLAN", "vlan_parent_interface": "enp6s0", "vlan_tag": 20,
            "aliases": [{"address": "192.168.20.50", "netmask": 24}]}]),
        )
        .await;
    assert_eq!((created["name"].as_str(), created["fake"].as_bool()), (Some("vlan20"), Some(true)));
    assert_eq!(nas.ok("interface.has_pending_changes", json!([])).await, true);
    nas.ok("interface.commit", json!([{"checkin_timeout": 1}])).await;
    assert_eq!(nas.ok("interface.get_instance", json!(["vlan20"])).await["fake"], false);
    assert!(nas.ok("interface.checkin_waiting", json!([])).await.is_u64());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nas.err("interface.get_instance", json!(["vlan20"])).await;
    assert_eq!(nas.ok("interface.has_pending_changes", json!([])).await, false, "rolled back");

    nas.ok("interface.update", json!(["enp6s0", {"description": "storage"}])).await;
    nas.ok("interface.commit", json!([{"checkin_timeout": 1}])).await;
    nas.ok("interface.checkin", json!([])).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(nas.ok("interface.get_instance", json!(["enp6s0"])).await["description"], "storage", "kept");
}

#[tokio::test]
async fn rollback_and_delete_through_the_dispatcher() {
    let nas = Nas::new(Release::V25_10);
    assert_eq!(nas.ok("interface.delete", json!(["vlan10"])).await, "vlan10");
    assert_eq!(nas.ok("interface.query", json!([[["type", "=", "VLAN"]]])).await, json!([]));
    assert_eq!(nas.ok("interface.rollback", json!([])).await, Value::Null);
    assert_eq!(nas.ok("interface.query", json!([[["type", "=", "VLAN"]]])).await.as_array().unwrap().len(), 1);
}
