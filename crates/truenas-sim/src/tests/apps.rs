//! Apps and Docker over the wire: the lifecycle jobs with their progress, `app.query` events,
//! not-found shapes, and apps disappearing with Docker's pool.

use serde_json::json;

use super::{Client, sim};

#[tokio::test]
async fn an_app_goes_through_its_whole_life() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    c.call("core.subscribe", json!(["app.query"])).await;

    let id =
        c.call("app.create", json!([{"app_name": "jf", "catalog_app": "jellyfin", "values": {"TZ": "UTC"}}])).await;
    let events = c.job_events(&id).await;
    let texts: Vec<&str> = events.iter().filter_map(|(_, j)| j["progress"]["description"].as_str()).collect();
    assert!(texts.contains(&"App installation in progress, pulling images"), "{texts:?}");
    let done = &events.last().unwrap().1;
    assert_eq!(done["state"], "SUCCESS");
    assert_eq!(done["result"]["state"], "RUNNING");
    assert_eq!(done["result"]["version"], "1.1.3");
    assert_eq!(done["progress"]["description"], "'jf' installed successfully");

    let jf = c.call("app.get_instance", json!(["jf"])).await;
    assert_eq!(jf["metadata"]["name"], "jellyfin");
    assert_eq!(c.call("app.config", json!(["jf"])).await, json!({"TZ": "UTC"}));
    let again = c.run_job("app.create", json!([{"app_name": "jf", "catalog_app": "jellyfin"}])).await;
    assert_eq!(again["state"], "FAILED");
    assert_eq!(again["error"], "[EEXIST] Application with name jf already exists");

    let stopped = c.run_job("app.stop", json!(["jf"])).await;
    assert_eq!(stopped["state"], "SUCCESS");
    assert_eq!(c.call("app.get_instance", json!(["jf"])).await["state"], "STOPPED");
    let updated = c.run_job("app.update", json!(["jf", {"values": {"TZ": "Europe/Paris"}}])).await;
    assert_eq!(updated["result"]["state"], "STOPPED", "a stopped app stays stopped");
    c.run_job("app.start", json!(["jf"])).await;
    assert_eq!(c.call("app.get_instance", json!(["jf"])).await["state"], "RUNNING");
    assert_eq!(c.run_job("app.delete", json!(["jf"])).await["result"], true);
    assert!(c.call("app.query", json!([[["name", "=", "jf"]]])).await.as_array().unwrap().is_empty());

    let changes: Vec<(String, String)> = c
        .notifications
        .iter()
        .filter(|n| n["params"]["collection"] == "app.query")
        .map(|n| (n["params"]["msg"].as_str().unwrap().to_string(), n["params"]["id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(changes.first(), Some(&("added".to_string(), "jf".to_string())));
    assert_eq!(changes.last(), Some(&("removed".to_string(), "jf".to_string())));
}

#[tokio::test]
async fn upgrade_then_roll_back_plex() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    assert_eq!(c.call("app.rollback_versions", json!(["plex"])).await, json!(["1.2.0"]));
    let summary = c.call("app.upgrade_summary", json!(["plex"])).await;
    assert_eq!(summary["upgrade_version"], "1.3.0");
    let up = c.run_job("app.upgrade", json!(["plex", {"app_version": "1.3.0", "snapshot_hostpaths": true}])).await;
    assert_eq!(
        (up["result"]["version"].as_str(), up["result"]["upgrade_available"].as_bool()),
        (Some("1.3.0"), Some(false))
    );
    let none = c.run_job("app.upgrade", json!(["plex"])).await;
    assert_eq!(none["error"], "[EFAULT] No upgrade available for \"plex\"");
    let bad = c.run_job("app.rollback", json!(["plex", {"app_version": "0.9.0"}])).await;
    assert_eq!(bad["exc_info"]["type"], "VALIDATION");
    let back = c.run_job("app.rollback", json!(["plex", {"app_version": "1.2.0"}])).await;
    assert_eq!(back["result"]["version"], "1.2.0");
    assert_eq!(c.call("app.rollback_versions", json!(["plex"])).await, json!([]));
}

#[tokio::test]
async fn images_catalog_and_not_found_shapes() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    assert_eq!(c.call("app.outdated_docker_images", json!(["syncthing"])).await, json!(["syncthing/syncthing:1.30.0"]));
    c.run_job("app.pull_images", json!(["syncthing"])).await;
    assert_eq!(c.call("app.outdated_docker_images", json!(["syncthing"])).await, json!([]));
    let available = c.call("app.available", json!([[["installed", "=", true]]])).await;
    let names: Vec<&str> = available.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["plex", "nextcloud", "syncthing", "pihole"]);
    assert!(c.call("app.categories", json!([])).await.as_array().unwrap().contains(&json!("media")));

    let err = c.error("app.get_instance", json!(["ghost"])).await;
    assert_eq!(
        (err["code"].as_i64(), err["data"]["reason"].as_str()),
        (Some(-32602), Some("[ENOENT] None: App ghost does not exist\n"))
    );
    let failed = c.run_job("app.start", json!(["ghost"])).await;
    assert_eq!(failed["error"], "[ENOENT] None: App ghost does not exist\n");
}

#[tokio::test]
async fn apps_live_on_the_docker_pool() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    assert_eq!(c.call("docker.status", json!([])).await["status"], "RUNNING");
    let bad = c.run_job("docker.update", json!([{"pool": "boot-pool"}])).await;
    assert_eq!(bad["error"], "[ENOENT] docker_update.pool: Pool not found.\n");
    let unset = c.run_job("docker.update", json!([{"pool": null}])).await;
    assert_eq!((unset["result"]["pool"].as_str(), unset["result"]["dataset"].as_str()), (None, None));
    assert_eq!(c.call("docker.status", json!([])).await["status"], "UNCONFIGURED");
    assert_eq!(c.call("app.query", json!([])).await, json!([]));
    let failed = c.run_job("app.stop", json!(["plex"])).await;
    assert_eq!(failed["error"], "[EFAULT] Docker service is not running");
    let back = c.run_job("docker.update", json!([{"pool": "tank", "enable_image_updates": false}])).await;
    assert_eq!(back["result"]["dataset"], "tank/ix-apps");
    assert_eq!(c.call("app.query", json!([[], {"count": true}])).await, 4);
}
