//! The general and advanced settings, NTP server and power methods through the dispatcher:
//! results in the shape of TrueNAS's own `returns` schemas and power jobs that change state.

use serde_json::{Value, json};

use crate::reference_dumps::SHAPED;
use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn settings_methods_answer_in_the_shape_of_the_dumps() {
    for release in SHAPED {
        let h = Harness::new(release);
        h.ok("system.general.config", json!([])).await;
        let general = h.ok("system.general.update", json!([{"ui_port": 8080, "usage_collection": false}])).await;
        assert_eq!(
            (general["ui_port"].clone(), general["usage_collection_is_set"].clone()),
            (json!(8080), json!(true))
        );
        h.ok("system.advanced.config", json!([])).await;
        h.ok("system.ntpserver.query", json!([])).await;
        h.ok("system.ntpserver.get_instance", json!([1])).await;
        let ntp = h.ok("system.ntpserver.create", json!([{"address": "time.cloudflare.com"}])).await;
        h.ok("system.ntpserver.update", json!([ntp["id"], {"prefer": true}])).await;
        h.ok("system.ntpserver.delete", json!([ntp["id"]])).await;
        h.ok("system.reboot.info", json!([])).await;
        h.ok("system.reboot", json!(["test", {"delay": 0}])).await;
        h.ok("system.shutdown", json!(["test", {}])).await;
    }
}

#[tokio::test]
async fn a_reboot_is_logged_with_its_reason_and_restarts_services_by_their_boot_setting() {
    let h = Harness::new(Release::V25_10);
    h.ok("service.control", json!(["START", "ftp"])).await;
    h.ok("service.update", json!([7, {"enable": false}])).await;
    h.ok("system.reboot", json!(["kernel update", {"delay": 10}])).await;
    h.ok("system.shutdown", json!(["moving house"])).await;
    let running: Vec<Value> = h
        .ok("service.query", json!([[["state", "=", "RUNNING"]], {"select": ["service"]}]))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].clone())
        .collect();
    assert_eq!(running, [json!("cifs"), json!("nfs")]);
    {
        let state = h.machine.state();
        let log: Vec<(&str, &str, Option<i64>)> =
            state.settings.system.power_log.iter().map(|e| (e.action, e.reason.as_str(), e.delay)).collect();
        assert_eq!(log, [("REBOOT", "kernel update", Some(10)), ("SHUTDOWN", "moving house", None)]);
    }
    let error = h.err("system.reboot", json!([""])).await;
    assert!(
        error.reason().contains("shorter than 1 character"),
        "TrueNAS requires a non-empty reason: {}",
        error.reason()
    );
}
