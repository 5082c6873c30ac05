//! Results of the app, Docker, update, boot, filesystem, reporting and audit methods checked
//! against the `returns` schemas of TrueNAS's own API dumps, for both releases (job results
//! included). Skipped, saying so, when the dumps are absent (`TRUENAS_API_DUMP`).

use serde_json::{Value, json};

use super::Client;
use crate::reference_dumps::{SHAPED, callable_on, returns_problems, returns_schemas, schema_on};
use crate::{SimConfig, start};
use truenas_api::schema::Release;

/// Calls in an order where each succeeds on a fresh NAS.
fn calls() -> Vec<(&'static str, Value)> {
    vec![
        ("app.query", json!([])),
        ("app.get_instance", json!(["plex"])),
        ("app.config", json!(["plex"])),
        ("app.available", json!([])),
        ("app.categories", json!([])),
        ("app.outdated_docker_images", json!(["syncthing"])),
        ("app.rollback_versions", json!(["plex"])),
        ("app.upgrade_summary", json!(["plex"])),
        ("catalog.trains", json!([])),
        ("catalog.config", json!([])),
        ("app.create", json!([{"app_name": "jf", "catalog_app": "jellyfin"}])),
        ("app.update", json!(["jf", {"values": {"a": 1}}])),
        ("app.stop", json!(["jf"])),
        ("app.start", json!(["jf"])),
        ("app.redeploy", json!(["jf"])),
        ("app.pull_images", json!(["syncthing"])),
        ("app.upgrade", json!(["plex"])),
        ("app.rollback", json!(["plex", {"app_version": "1.2.1"}])),
        ("app.delete", json!(["jf"])),
        ("docker.config", json!([])),
        ("docker.status", json!([])),
        ("docker.update", json!([{"enable_image_updates": false}])),
        ("update.status", json!([])),
        ("update.config", json!([])),
        ("update.update", json!([{"autocheck": false}])),
        ("update.available_versions", json!([])),
        ("update.profile_choices", json!([])),
        ("update.download", json!([])),
        ("boot.environment.query", json!([])),
        ("boot.environment.clone", json!([{"id": "25.04.2.6", "target": "copy"}])),
        ("boot.environment.activate", json!([{"id": "copy"}])),
        ("boot.environment.keep", json!([{"id": "copy", "value": true}])),
        ("boot.environment.destroy", json!([{"id": "25.04.2.6"}])),
        ("boot.get_state", json!([])),
        ("boot.get_disks", json!([])),
        ("boot.attach", json!(["sde"])),
        ("boot.get_state", json!([])),
        ("boot.scrub", json!([])),
        ("boot.detach", json!(["sde"])),
        ("boot.replace", json!(["nvme0n1p3", "sdf"])),
        ("filesystem.stat", json!(["/mnt/tank/media"])),
        ("filesystem.listdir", json!(["/mnt/tank/media"])),
        ("filesystem.mkdir", json!([{"path": "/mnt/tank/media/new"}])),
        ("filesystem.getacl", json!(["/mnt/tank/media", false])),
        ("filesystem.getacl", json!(["/mnt/tank/media", true])),
        ("filesystem.getacl", json!(["/mnt/tank/scratch"])),
        ("filesystem.setperm", json!([{"path": "/mnt/tank/scratch", "mode": "770"}])),
        ("filesystem.chown", json!([{"path": "/mnt/tank/scratch", "uid": 568}])),
        (
            "filesystem.setacl",
            json!([{"path": "/mnt/tank/documents", "dacl": [{"tag": "owner@", "type": "ALLOW", "perms": {"BASIC": "READ"}, "flags": {"BASIC": "NOINHERIT"}}]}]),
        ),
        ("reporting.config", json!([])),
        ("reporting.update", json!([{"tier0_days": 14}])),
        ("reporting.graphs", json!([])),
        ("reporting.netdata_graphs", json!([])),
        ("reporting.get_data", json!([[{"name": "cpu"}, {"name": "disk", "identifier": "sda"}], {}])),
        ("reporting.get_data", json!([[{"name": "memory"}], {"aggregate": false}])),
        ("audit.query", json!([{}])),
        ("audit.query", json!([{"query-options": {"count": true}}])),
        ("audit.config", json!([])),
        ("audit.update", json!([{"retention": 10}])),
        ("update.run", json!([{}])),
    ]
}

#[tokio::test]
async fn results_match_the_returns_schemas_of_both_releases() {
    for release in SHAPED {
        let Some(schemas) = returns_schemas(release) else { return };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = start(listener, SimConfig { release, ..SimConfig::default() }).await.unwrap();
        sim.faults().set_job_step(std::time::Duration::from_millis(1));
        let mut c = Client::logged_in(&sim).await;
        c.call("core.subscribe", json!(["core.get_jobs"])).await;
        let mut problems = Vec::new();
        for (method, mut params) in calls() {
            if method == "boot.environment.destroy" && release == Release::V25_04 {
                // 25.04.2.6 is the running environment there: destroy an older one.
                params = json!([{"id": "25.04.1"}]);
            }
            // 25.04's older signatures (`update.update` applied an update) refuse 25.10's params.
            if !callable_on(release, method)
                || truenas_api::schema::MethodTable::get(release).validate(method, &params).is_err()
            {
                continue;
            }
            let result = c.outcome(release, method, params).await;
            let Some(schema) = schema_on(schemas, release, method) else { continue };
            problems.extend(returns_problems(&schema, &result).into_iter().map(|p| format!("{release} {method}: {p}")));
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
