//! The settings, service, mail, power and configuration methods through the dispatcher: results
//! in the shape of TrueNAS's own `returns` schemas, jobs that change state, and the pipe-bound
//! configuration methods failing as the middleware fails them.

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
        h.ok("mail.config", json!([])).await;
        h.ok("mail.update", json!([{"port": 465, "security": "SSL"}])).await;
        let sent = h.ok("mail.send", json!([{"subject": "test", "text": "body", "to": ["a@example.org"]}])).await;
        assert_eq!(sent, if release >= Release::V26_0 { Value::Null } else { json!(true) });
        h.ok("system.reboot.info", json!([])).await;
        h.ok("core.download", json!(["config.save", [{"secretseed": true}], "truenas-config"])).await;
        h.ok("system.reboot", json!(["test", {"delay": 0}])).await;
        h.ok("system.shutdown", json!(["test", {}])).await;
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

#[tokio::test]
async fn the_configuration_file_moves_only_through_pipes() {
    let h = Harness::new(Release::V25_10);
    let save = h.err("config.save", json!([{}])).await.to_rpc_error();
    assert_eq!(
        (save["code"].clone(), save["data"]["reason"].clone()),
        (json!(-32001), json!("Pipe 'output' is not open"))
    );
    let upload = h.err("config.upload", json!([])).await;
    assert_eq!(upload.reason(), "Pipe 'input' is not open");
    let download = h.ok("core.download", json!(["config.save", [{}], "truenas-config"])).await;
    let job = download[0].as_u64().unwrap();
    let url = download[1].as_str().unwrap();
    assert!(url.starts_with(&format!("/_download/{job}?auth_token=")), "{url}");
    let done = h.machine.jobs.wait(job).await;
    assert!(matches!(done, Some(crate::jobs::Outcome::Success(Value::Null))), "{done:?}");
    let refused = h.err("core.download", json!(["user.query", [], "users.json"])).await;
    assert!(refused.reason().contains("no download"), "{}", refused.reason());
    let bad = h.err("core.download", json!(["config.save", [{"secretseed": "yes"}], "x"])).await;
    assert!(bad.reason().contains("config_save"), "{}", bad.reason());
}

#[tokio::test]
async fn mail_goes_to_the_outbox_or_to_the_administrators() {
    let h = Harness::new(Release::V25_10);
    h.ok("mail.send", json!([{"subject": "one", "text": "x", "to": ["a@example.org"]}])).await;
    h.ok("mail.send", json!([{"subject": "two"}])).await;
    let state = h.machine.state();
    let to: Vec<Value> = state.settings.mail.outbox.iter().map(|m| m["to"].clone()).collect();
    assert_eq!(to, [json!(["a@example.org"]), json!(["admin@home.lan"])]);
}
