//! The service and power methods through the dispatcher on 24.10: services start at once (no
//! job) and power methods take no reason.

use serde_json::json;

use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn services_start_at_once_and_power_takes_no_reason_on_24_10() {
    let h = Harness::new(Release::V24_10);
    assert_eq!(h.ok("service.start", json!(["ftp", {"silent": false}])).await, true);
    assert!(h.machine.state().settings.services.named("ftp").unwrap().running());
    assert_eq!(h.ok("service.stop", json!(["ftp", {}])).await, true, "a boolean at once, not a job");
    assert!(!h.machine.state().settings.services.named("ftp").unwrap().running());
    assert!(h.err("service.control", json!(["START", "ftp", {}])).await.reason().contains("does not exist"));
    h.ok("system.reboot", json!([{"delay": 3}])).await;
    assert!(h.err("system.reboot", json!(["a reason", {}])).await.reason().contains("system_reboot"));
}
