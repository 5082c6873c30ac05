//! Global network, static route and IPMI methods through the dispatcher, with their results
//! checked against the `returns` schemas of both releases.

use serde_json::json;

use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn reads_match_the_returns_schemas_of_both_releases() {
    for release in Release::ALL {
        let nas = Nas::new(release);
        nas.ok("network.configuration.config", json!([])).await;
        nas.ok("network.general.summary", json!([])).await;
        nas.ok("network.configuration.activity_choices", json!([])).await;
        nas.ok("staticroute.query", json!([])).await;
        nas.ok("staticroute.get_instance", json!([1])).await;
        assert_eq!(nas.ok("ipmi.chassis.info", json!([{}])).await, json!({}), "no BMC on the demo board");
        assert_eq!(nas.ok("ipmi.is_loaded", json!([])).await, false);
    }
}

#[tokio::test]
async fn the_hostname_is_shared_with_system_info() {
    let nas = Nas::new(Release::V25_10);
    let config = nas.ok("network.configuration.update", json!([{"hostname": "vault", "nameserver3": "1.1.1.1"}])).await;
    assert_eq!(config["hostname"], "vault");
    assert_eq!(config["nameserver3"], "1.1.1.1");
    assert_eq!(nas.ok("system.info", json!([])).await["hostname"], "vault");
    let err = nas.err("network.configuration.update", json!([{"ipv4gateway": "172.16.0.1"}])).await;
    assert_eq!(err.reason(), "[EINVAL] network_configuration_update.ipv4gateway: Gateway 172.16.0.1 is unreachable\n");
}

#[tokio::test]
async fn static_routes_round_trip() {
    let nas = Nas::new(Release::V25_10);
    let route =
        nas.ok("staticroute.create", json!([{"destination": "10.20.0.0/24", "gateway": "192.168.1.254"}])).await;
    assert_eq!(route, json!({"destination": "10.20.0.0/24", "gateway": "192.168.1.254", "description": "", "id": 2}));
    nas.ok("staticroute.update", json!([2, {"description": "lab"}])).await;
    assert_eq!(nas.ok("staticroute.delete", json!([2])).await, true);
    let err = nas.err("staticroute.delete", json!([2])).await;
    assert_eq!(err.reason(), "[ENOENT] None: StaticRoute 2 does not exist\n");
}
