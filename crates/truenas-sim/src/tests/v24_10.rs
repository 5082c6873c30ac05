//! TrueNAS 24.10 at the dispatch level (it has no JSON-RPC socket to test through): every
//! catalog action, routed for 24.10, builds params the 24.10 table accepts and reaches a
//! simulated 24.10 handler; and the 24.10-only methods work over the same state as their
//! successors.

use serde_json::json;

use super::testing::Harness;
use crate::catalog::{Catalog, MappingError};
use truenas_api::schema::{MethodTable, Release};

#[tokio::test]
async fn zfs_snapshot_methods_share_the_snapshot_state() {
    let h = Harness::new(Release::V24_10);
    h.ok("zfs.snapshot.create", json!([{"dataset": "tank/documents", "name": "old-api"}])).await;
    let found = h.ok("zfs.snapshot.query", json!([[["id", "=", "tank/documents@old-api"]]])).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(
        h.ok("zfs.snapshot.get_instance", json!(["tank/documents@old-api"])).await["id"],
        "tank/documents@old-api"
    );
    assert!(h.machine.state().storage.snapshot("tank/documents@old-api").is_ok());
    h.ok("zfs.snapshot.clone", json!([{"snapshot": "tank/documents@old-api", "dataset_dst": "tank/restored"}])).await;
    h.ok("zfs.snapshot.create", json!([{"dataset": "tank/documents", "name": "short-lived"}])).await;
    assert_eq!(h.ok("zfs.snapshot.delete", json!(["tank/documents@short-lived", {"defer": false}])).await, true);
    assert!(h.machine.state().storage.snapshot("tank/documents@short-lived").is_err());
}

#[tokio::test]
async fn bootenv_methods_act_on_the_boot_environments() {
    let h = Harness::new(Release::V24_10);
    let envs = h.ok("bootenv.query", json!([])).await;
    let active = envs.as_array().unwrap().iter().find(|e| e["active"] == true).unwrap()["id"].clone();
    assert_eq!(active, "24.10.2.2");
    assert_eq!(h.ok("bootenv.create", json!([{"name": "before-update"}])).await, "before-update");
    assert_eq!(h.ok("bootenv.set_attribute", json!(["before-update", {"keep": true}])).await, true);
    assert_eq!(h.ok("bootenv.activate", json!(["before-update"])).await, true);
    let env = h.ok("bootenv.query", json!([[["id", "=", "before-update"]], {"get": true}])).await;
    assert_eq!((env["keep"].clone(), env["activated"].clone()), (json!(true), json!(true)));
    h.ok("bootenv.activate", json!(["24.10.2.2"])).await;
    assert_eq!(h.ok("bootenv.delete", json!(["before-update"])).await, true, "a job that ends in true");
    assert!(h.err("bootenv.delete", json!(["24.10.2.2"])).await.reason().contains("active boot environment"));
}

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
async fn train_based_updates_check_switch_and_install() {
    let h = Harness::new(Release::V24_10);
    let check = h.ok("update.check_available", json!([])).await;
    assert_eq!((check["status"].clone(), check["version"].clone()), (json!("AVAILABLE"), json!("24.10.2.3")));
    let trains = h.ok("update.get_trains", json!([])).await;
    assert_eq!(trains["current"], "TrueNAS-SCALE-ElectricEel");
    assert!(h.err("update.set_train", json!(["GENERAL"])).await.reason().contains("Invalid train"));
    h.ok("update.set_train", json!(["TrueNAS-SCALE-Fangtooth"])).await;
    assert_eq!(h.ok("update.get_trains", json!([])).await["selected"], "TrueNAS-SCALE-Fangtooth");
    assert_eq!(h.ok("update.update", json!([{"reboot": false}])).await, true, "update.update installs on 24.10");
    assert_eq!(h.ok("update.check_available", json!([])).await["status"], "REBOOT_REQUIRED");
    assert!(h.machine.state().boot_envs.entries().iter().any(|e| e["id"] == "24.10.2.3"));
}

#[tokio::test]
async fn later_releases_have_none_of_the_24_10_names() {
    let h = Harness::new(Release::V25_10);
    for method in ["bootenv.query", "zfs.snapshot.query", "update.check_available"] {
        assert!(h.err(method, json!([])).await.reason().contains("does not exist"), "{method}");
    }
    let status = h.ok("update.update", json!([{"profile": "GENERAL"}])).await;
    assert_eq!(status["profile"], "GENERAL", "update.update still changes settings on 25.10");
}
