//! The update methods through the dispatcher: train-based updates on 24.10, and the 24.10 names
//! gone from later releases.

use serde_json::json;

use crate::testing::Harness;
use truenas_api::schema::Release;

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
