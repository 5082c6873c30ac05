//! Storage over the wire: results match the `returns` schemas of both releases, unknown ids get
//! the middleware's not-found shapes, pool jobs report progress, and changes are published.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Client, sim};
use crate::reference_dumps::{SHAPED, callable_on, returns_problems, returns_schemas, schema_on};
use crate::{SimConfig, start};

/// Every storage method, in an order where each call succeeds against the seed.
fn calls() -> Vec<(&'static str, Value)> {
    let vault = json!({"name": "vault", "topology": {"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}]}});
    vec![
        ("pool.query", json!([])),
        ("pool.get_instance", json!([1])),
        ("pool.attachments", json!([1])),
        ("pool.get_disks", json!([])),
        ("pool.create", json!([vault])),
        ("pool.update", json!([1, {"autotrim": "ON", "topology": {"spares": ["sdg"]}}])),
        ("pool.scrub", json!([1, "START"])),
        ("pool.replace", json!([1, {"label": "sdd", "disk": "sdh"}])),
        ("pool.dataset.query", json!([])),
        ("pool.dataset.get_instance", json!(["tank/vms/windows11-disk0"])),
        ("pool.dataset.create", json!([{"name": "tank/shape", "comments": "made by a test"}])),
        ("pool.dataset.update", json!(["tank/shape", {"atime": "ON"}])),
        ("pool.dataset.get_quota", json!(["tank/documents", "USER"])),
        ("pool.dataset.get_quota", json!(["tank/documents", "DATASET"])),
        ("pool.dataset.set_quota", json!(["tank/documents", [{"quota_type": "GROUP", "id": "568", "quota_value": 1}]])),
        ("pool.dataset.promote", json!(["tank/vms/ubuntu_server-disk0-clone"])),
        ("pool.dataset.encryption_summary", json!(["tank/secure"])),
        ("pool.dataset.lock", json!(["tank/secure"])),
        (
            "pool.dataset.unlock",
            json!(["tank/secure", {"datasets": [{"name": "tank/secure", "passphrase": "correct horse battery staple"}]}]),
        ),
        ("filesystem.setperm", json!([{"path": "/mnt/tank/shape", "mode": "750"}])),
        ("pool.dataset.delete", json!(["tank/shape"])),
        ("pool.snapshot.query", json!([])),
        ("pool.snapshot.get_instance", json!(["tank/documents@auto-2025-06-14_00-00"])),
        ("pool.snapshot.create", json!([{"dataset": "tank/media", "name": "shape", "recursive": true}])),
        ("pool.snapshot.clone", json!([{"snapshot": "tank/media@shape", "dataset_dst": "tank/media-shape"}])),
        ("pool.snapshot.rollback", json!(["tank/isos@none-yet"])),
        ("pool.snapshot.delete", json!(["tank/documents@auto-2025-06-10_00-00"])),
        ("pool.snapshottask.query", json!([])),
        ("pool.snapshottask.create", json!([{"dataset": "tank/media"}])),
        ("pool.snapshottask.run", json!([1])),
        ("pool.snapshottask.delete", json!([3])),
        ("pool.export", json!([2, {"cascade": true}])),
    ]
}

#[tokio::test]
async fn storage_results_match_the_returns_schemas_of_the_dumps() {
    for release in SHAPED {
        let Some(schemas) = returns_schemas(release) else { return };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = start(listener, SimConfig { release, ..SimConfig::default() }).await.unwrap();
        sim.faults().set_job_step(Duration::from_millis(5));
        let mut c = Client::logged_in(&sim).await;
        c.call("core.subscribe", json!(["core.get_jobs"])).await;
        let mut problems = Vec::new();
        for (method, params) in calls() {
            if !callable_on(release, method) {
                continue;
            }
            if method == "pool.snapshot.rollback" {
                // Nothing to roll back to yet: take the snapshot first.
                c.call("pool.snapshot.create", json!([{"dataset": "tank/isos", "name": "none-yet"}])).await;
            }
            let result = c.outcome(release, method, params.clone()).await;
            let Some(schema) = schema_on(schemas, release, method) else { continue };
            problems.extend(returns_problems(&schema, &result).into_iter().map(|p| format!("{release} {method}: {p}")));
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[tokio::test]
async fn unknown_storage_ids_get_the_not_found_shapes() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    for (method, params, what) in [
        ("pool.get_instance", json!([9]), "Pool 9 does not exist"),
        ("pool.dataset.get_instance", json!(["tank/nope"]), "PoolDataset tank/nope does not exist"),
        ("pool.dataset.delete", json!(["tank/nope"]), "PoolDataset tank/nope does not exist"),
        ("pool.snapshot.get_instance", json!(["tank/media@nope"]), "PoolSnapshot tank/media@nope does not exist"),
        ("pool.snapshottask.get_instance", json!([9]), "PeriodicSnapshotTask 9 does not exist"),
        ("pool.snapshottask.run", json!([9]), "PeriodicSnapshotTask 9 does not exist"),
    ] {
        let err = c.error(method, params).await;
        assert_eq!(err["code"], -32602, "{method}");
        assert_eq!(err["data"]["reason"], format!("[ENOENT] None: {what}\n"), "{method}");
    }
    let err = c.error("pool.dataset.delete", json!(["tank/media"])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["data"]["errname"], "ENOTEMPTY");
}

#[tokio::test]
async fn a_pool_is_created_by_a_job_with_progress_and_published() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    c.call("core.subscribe", json!(["pool.query"])).await;
    let topology = json!({"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}]});
    let id = c.call("pool.create", json!([{"name": "vault", "topology": topology}])).await;
    let events = c.job_events(&id).await;
    let steps: Vec<&str> = events.iter().filter_map(|(_, j)| j["progress"]["description"].as_str()).collect();
    assert!(steps.contains(&"Formatting disks") && steps.contains(&"Creating ZFS Pool"), "{steps:?}");
    let end = &events.last().unwrap().1;
    assert_eq!(end["state"], "SUCCESS");
    assert_eq!(end["result"]["name"], "vault");
    c.call("core.ping", json!([])).await;
    assert!(c.notifications.iter().any(|n| n["params"]["collection"] == "pool.query" && n["params"]["msg"] == "added"));
    assert_eq!(c.call("pool.get_disks", json!([end["result"]["id"].clone()])).await, json!(["sde", "sdf"]));
    let id = c.call("pool.create", json!([{"name": "vault", "topology": topology}])).await;
    let failed = c.job_end(&id).await;
    assert_eq!(failed["state"], "FAILED");
    assert!(failed["error"].as_str().unwrap().contains("A pool with this name already exists."), "{failed}");
    assert_eq!(failed["exc_info"]["type"], "VALIDATION");
}

#[tokio::test]
async fn a_scrub_job_follows_the_scrub_and_a_stop_cancels_it() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    let id = c.call("pool.scrub", json!([1, "START"])).await;
    let events = c.job_events(&id).await;
    let last = &events.last().unwrap().1;
    assert_eq!(last["description"], "Scrub of pool 'tank'");
    assert_eq!(last["progress"]["description"], "Scrub finished");
    assert!(events.iter().any(|(_, j)| j["progress"]["description"] == "Scrubbing"));
    let scan = c.call("pool.get_instance", json!([1, {"select": ["scan"]}])).await;
    assert_eq!(scan["scan"]["state"], "FINISHED");

    sim.faults().set_job_step(Duration::from_millis(80));
    let running = c.call("pool.scrub", json!([1, "START"])).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let stop = c.call("pool.scrub", json!([1, "STOP"])).await;
    assert_eq!(c.job_end(&stop).await["state"], "SUCCESS");
    let ended = c.job_end(&running).await;
    assert_eq!(ended["state"], "SUCCESS");
    assert_ne!(ended["progress"]["description"], "Scrub finished");
    let scan = c.call("pool.get_instance", json!([1])).await["scan"].clone();
    assert_eq!(scan["state"], "CANCELED");
    let stop = c.call("pool.scrub", json!([1, "STOP"])).await;
    let failed = c.job_end(&stop).await;
    assert_eq!(failed["error"], "[EFAULT] cannot cancel scrubbing tank: there is no active scrub");
}

#[tokio::test]
async fn datasets_filter_on_the_nas_and_changes_are_published() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["pool.dataset.query"])).await;
    let offsite = c.call("pool.dataset.query", json!([[["pool", "=", "offsite"]]])).await;
    let names: Vec<&str> = offsite.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["offsite", "offsite/documents"]);
    let trees = c.call("pool.dataset.query", json!([[], {"extra": {"flat": false}}])).await;
    assert_eq!(trees.as_array().unwrap().len(), 2);
    let selected = c.call("pool.dataset.get_instance", json!(["tank/media", {"select": ["name", "used"]}])).await;
    assert_eq!(selected.as_object().unwrap().len(), 2);
    c.call("pool.dataset.create", json!([{"name": "tank/new"}])).await;
    c.call("pool.dataset.delete", json!(["tank/new"])).await;
    c.call("core.ping", json!([])).await;
    let seen: Vec<(String, String)> = c
        .notifications
        .iter()
        .map(|n| (n["params"]["msg"].as_str().unwrap().into(), n["params"]["id"].as_str().unwrap().into()))
        .collect();
    assert_eq!(seen, [("added".to_string(), "tank/new".to_string()), ("removed".into(), "tank/new".into())]);
}
