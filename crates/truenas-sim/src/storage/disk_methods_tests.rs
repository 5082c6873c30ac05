//! Disk methods through the dispatcher: queries with extras, updates, temperatures, wipe jobs.

use serde_json::{Value, json};

use crate::jobs::Outcome;
use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn reads_match_the_returns_schemas_of_both_releases() {
    for release in Release::ALL {
        let nas = Nas::new(release);
        let disks = nas.ok("disk.query", json!([[], {"extra": {"pools": true}}])).await;
        assert_eq!(disks.as_array().unwrap().len(), 6, "{release}");
        assert_eq!(disks[1]["pool"], "tank");
        nas.ok("disk.get_instance", json!(["{serial}S4EUNX0N812345K"])).await;
        nas.ok("disk.temperatures", json!([["sda", "sdz"]])).await;
        nas.ok("disk.temperature_agg", json!([["sda"], 7])).await;
        nas.ok("disk.temperature_alerts", json!([["sda"]])).await;
    }
}

#[tokio::test]
async fn a_disk_is_found_by_name_or_identifier_and_updated_by_identifier() {
    let nas = Nas::new(Release::V25_10);
    let by = |id: &str| json!([[["OR", [[["identifier", "=", id]], [["name", "=", id]]]]], {"get": true, "extra": {"pools": true}}]);
    let sda = nas.ok("disk.query", by("sda")).await;
    assert_eq!(sda["serial"], "5QGJ8K2B");
    assert_eq!(nas.ok("disk.query", by("{serial_lunid}5QGJ8K2B_50014ee2c0a1b2c3")).await, sda);
    assert_eq!(nas.err("disk.query", by("sdz")).await.reason(), "MatchNotFound()");
    let id = sda["identifier"].as_str().unwrap();
    let updated = nas.ok("disk.update", json!([id, {"hddstandby": "60", "description": "bay 1"}])).await;
    assert_eq!((updated["hddstandby"].as_str(), updated["description"].as_str()), (Some("60"), Some("bay 1")));
    let err = nas.err("disk.update", json!(["sda", {"description": "x"}])).await;
    assert_eq!(err.reason(), "[ENOENT] None: Disk sda does not exist\n");
    let err = nas.err("disk.update", json!([id, {"togglesmart": true}])).await;
    assert!(err.reason().contains("togglesmart"), "25.10 has no SMART settings: {}", err.reason());
    let err = nas.err("disk.get_instance", json!(["sda"])).await;
    assert_eq!(err.reason(), "[ENOENT] None: Disk sda does not exist\n");
}

#[tokio::test]
async fn wiping_runs_as_a_job_and_refuses_pool_members() {
    let nas = Nas::new(Release::V25_10);
    assert_eq!(nas.ok("disk.wipe", json!(["sde", "QUICK"])).await, Value::Null);
    let job = nas.machine.jobs.dicts().pop().unwrap();
    assert_eq!(job["description"], "Quick wipe of disk sde");
    assert_eq!(job["abortable"], true);
    let err = nas.err("disk.wipe", json!(["sda", "FULL_RANDOM", false])).await;
    assert_eq!(err.reason(), "[Errno 16] Device or resource busy: '/dev/sda'");
    let job = nas.machine.jobs.dicts().pop().unwrap();
    assert_eq!(
        (job["state"].as_str(), job["description"].as_str()),
        (Some("FAILED"), Some("Full Random wipe of disk sda"))
    );
    let err = nas.err("disk.wipe", json!(["sde", "ERASE"])).await;
    assert!(err.reason().contains("ERASE"), "{}", err.reason());
    // Abortable: a full wipe can be stopped.
    nas.machine.faults.set_job_step(std::time::Duration::from_millis(50));
    let id = {
        let nas_jobs = nas.machine.jobs.clone();
        let call = nas.call("disk.wipe", json!(["sde", "FULL"]));
        let abort = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let id = nas_jobs.dicts().last().unwrap()["id"].as_u64().unwrap();
            nas_jobs.abort(id).unwrap();
            id
        };
        let (_, id) = tokio::join!(call, abort);
        id
    };
    assert_eq!(nas.machine.jobs.wait(id).await, Some(Outcome::Aborted));
}
