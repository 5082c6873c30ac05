//! The service methods through the dispatcher: results in the shape of TrueNAS's own `returns`
//! schemas, `service.control` as a job (25.10+), and on 24.10 services that start at once (no
//! job) and power methods that take no reason.

use serde_json::json;

use crate::reference_dumps::SHAPED;
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

#[tokio::test]
async fn service_methods_answer_in_the_shape_of_the_dumps() {
    for release in SHAPED {
        let h = Harness::new(release);
        h.ok("service.query", json!([])).await;
        h.ok("service.get_instance", json!([6])).await;
        h.ok("service.update", json!(["ftp", {"enable": true}])).await;
        // 25.04 still starts services with `service.start`.
        let start = if release >= Release::V25_10 { "service.control" } else { "service.start" };
        let params =
            if release >= Release::V25_10 { json!(["START", "ftp", {"silent": false}]) } else { json!(["ftp"]) };
        assert_eq!(h.ok(start, params).await, true);
        assert_eq!(h.ok("service.started", json!(["ftp"])).await, true);
        h.ok("service.started_or_enabled", json!(["snmp"])).await;
    }
}

#[tokio::test]
async fn service_control_is_a_job_that_changes_the_service() {
    let h = Harness::new(Release::V25_10);
    assert_eq!(h.ok("service.control", json!(["STOP", "ssh"])).await, true);
    let ssh = h.ok("service.query", json!([[["service", "=", "ssh"]], {"get": true}])).await;
    assert_eq!((ssh["state"].clone(), ssh["pids"].clone()), (json!("STOPPED"), json!([])));
    let jobs = h.ok("core.get_jobs", json!([[["method", "=", "service.control"]]])).await;
    assert_eq!(jobs[0]["state"], "SUCCESS");
    let failure = h.err("service.control", json!(["START", "smb"])).await;
    assert_eq!(failure.reason(), "[ENOENT] Service smb not found.", "TrueNAS calls SMB `cifs`");
    assert_eq!(h.ok("service.start", json!(["ssh"])).await, true, "25.10 still has service.start");
    let h26 = Harness::new(Release::V26_0);
    assert!(h26.err("service.start", json!(["ssh"])).await.reason().contains("service.start does not exist"));
}
