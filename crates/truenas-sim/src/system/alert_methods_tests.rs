//! Alert and alert service methods through the dispatcher.

use serde_json::{Value, json};

use crate::events::Change;
use crate::reference_dumps::SHAPED;
use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn reads_match_the_returns_schemas_of_both_releases() {
    for release in SHAPED {
        let nas = Nas::new(release);
        assert_eq!(nas.ok("alert.list", json!([])).await.as_array().unwrap().len(), 3, "{release}");
        nas.ok("alert.list_categories", json!([])).await;
        assert_eq!(nas.ok("alert.list_policies", json!([])).await, json!(["IMMEDIATELY", "HOURLY", "DAILY", "NEVER"]));
        assert_eq!(nas.ok("alertservice.query", json!([])).await.as_array().unwrap().len(), 2);
        nas.ok("alertservice.get_instance", json!([1])).await;
    }
}

#[tokio::test]
async fn dismiss_and_restore_change_the_list_and_publish_it() {
    let nas = Nas::new(Release::V25_10);
    let mut events = nas.machine.events.subscribe();
    let uuid = "6d1c4b7e-2f3a-4c5d-8e9f-0a1b2c3d4e02";
    assert_eq!(nas.ok("alert.dismiss", json!([uuid])).await, Value::Null);
    let listed = nas.ok("alert.list", json!([])).await;
    assert_eq!(listed[1]["dismissed"], true);
    let event = events.try_recv().unwrap();
    assert_eq!((event.collection.as_str(), event.change, event.id), ("alert.list", Change::Changed, json!(uuid)));
    nas.ok("alert.restore", json!([uuid])).await;
    assert_eq!(nas.ok("alert.list", json!([])).await[1]["dismissed"], false);
    assert_eq!(nas.ok("alert.dismiss", json!(["no-such-alert"])).await, Value::Null, "ignored, as TrueNAS does");
}

#[tokio::test]
async fn services_need_a_whole_definition_and_test_without_saving() {
    let nas = Nas::new(Release::V25_10);
    let created = nas
        .ok(
            "alertservice.create",
            json!([{"name": "Pager", "attributes": {"type": "PagerDuty", "service_key": "k", "client_name": "nas"},
            "level": "CRITICAL"}]),
        )
        .await;
    assert_eq!((created["id"].as_i64(), created["enabled"].as_bool()), (Some(3), Some(true)));
    assert_eq!(created["type__title"], "PagerDuty");
    let err = nas.err("alertservice.update", json!([3, {"level": "ERROR"}])).await;
    assert!(err.reason().contains("name"), "25.10 replaces the whole definition: {}", err.reason());
    let err = nas
        .err("alertservice.update", json!([9, {"name": "x", "attributes": {"type": "Mail"}, "level": "INFO"}]))
        .await;
    assert_eq!(err.reason(), "[ENOENT] None: Alert 9 does not exist\n");
    let def = json!({"name": "t", "attributes": {"type": "Slack", "url": "https://hooks.slack.com/services/x"}, "level": "INFO"});
    assert_eq!(nas.ok("alertservice.test", json!([def])).await, true);
    assert_eq!(nas.ok("alertservice.query", json!([])).await.as_array().unwrap().len(), 3, "testing saves nothing");
    assert_eq!(nas.ok("alertservice.delete", json!([3])).await, true);
}
