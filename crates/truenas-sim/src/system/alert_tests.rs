//! Alerts and alert services.

use serde_json::json;

use super::*;

use crate::test_support::object as data;

#[test]
fn dismissing_and_restoring_flip_one_alert_and_ignore_unknown_uuids() {
    let mut alerts = demo();
    let smart = "6d1c4b7e-2f3a-4c5d-8e9f-0a1b2c3d4e02";
    assert!(alerts.set_dismissed(smart, true));
    assert!(!alerts.set_dismissed(smart, true), "already dismissed");
    assert_eq!(alerts.entries()[1]["dismissed"], true);
    assert!(alerts.set_dismissed(smart, false));
    assert!(!alerts.set_dismissed("no-such-uuid", true));
    let entry = &alerts.entries()[1];
    assert_eq!(entry["id"], entry["uuid"]);
    assert_eq!(entry["klass"], "SMARTFailedSelfTest");
    assert_eq!(entry["formatted"], "sdd (ZRT0AB34) failed a SMART selftest.");
    assert!(entry["datetime"]["$date"].is_u64());
}

#[test]
fn categories_gain_product_types_on_26() {
    let old = categories(Release::V25_10);
    let new = categories(Release::V26_0);
    assert!(old[0]["classes"][0].get("product_types").is_none());
    assert_eq!(new[0]["classes"][0]["product_types"], json!(["COMMUNITY_EDITION", "ENTERPRISE"]));
    let hardware = old.as_array().unwrap().iter().find(|c| c["id"] == "HARDWARE").unwrap();
    assert!(hardware["classes"].as_array().unwrap().iter().any(|c| c["id"] == "SMARTFailedSelfTest"));
}

#[test]
fn services_are_created_replaced_and_deleted() {
    let mut alerts = demo();
    let id = alerts.create_service(&data(
        json!({"name": "tg", "attributes": {"type": "Telegram", "bot_token": "t", "chat_ids": [1]},
        "level": "ERROR", "enabled": true}),
    ));
    assert_eq!(id, 3);
    assert_eq!(alerts.service(3).unwrap().entry(Release::V25_10)["type__title"], "Telegram");
    assert_eq!(alerts.service(1).unwrap().entry(Release::V25_10)["type__title"], "Email");
    alerts
        .update_service(
            2,
            &data(json!({"name": "Slack", "attributes": {"type": "Slack", "url": "https://x"}, "level": "INFO"})),
        )
        .unwrap();
    let slack = alerts.service(2).unwrap();
    assert_eq!((slack.level.as_str(), slack.enabled), ("INFO", true));
    alerts.delete_service(2).unwrap();
    assert_eq!(alerts.delete_service(2), Err(service_not_found(2)));
    assert_eq!(alerts.services(Release::V25_10).len(), 2);
}

#[test]
fn test_sends_fail_only_towards_invalid_hosts() {
    assert!(test_delivery(&data(
        json!({"attributes": {"type": "Slack", "url": "https://hooks.slack.com/services/x"}})
    )));
    assert!(!test_delivery(&data(json!({"attributes": {"type": "Slack", "url": "https://hooks.example.invalid/x"}}))));
    assert!(!test_delivery(&data(json!({"attributes": {"type": "Mail", "email": "ops@mail.invalid"}}))));
}
