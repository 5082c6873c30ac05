//! Replication tasks through the dispatcher: CRUD, validation, runs and restore.

use serde_json::{Value, json};

use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

fn local_push(name: &str) -> Value {
    json!([{"name": name, "direction": "PUSH", "transport": "LOCAL", "source_datasets": ["tank/media"],
            "target_dataset": "tank/backups/media", "recursive": true, "auto": false, "retention_policy": "NONE",
            "also_include_naming_schema": ["before-%Y%m%d"]}])
}

#[tokio::test]
async fn the_seed_reads_as_truenas_shows_it_on_both_releases() {
    for release in Release::ALL {
        let nas = Nas::new(release);
        let tasks = nas.ok("replication.query", json!([])).await;
        assert_eq!(tasks.as_array().unwrap().len(), 2, "{release}");
        assert_eq!(tasks[0]["state"]["state"], "FINISHED");
        assert_eq!(tasks[0]["job"]["state"], "SUCCESS");
        assert_eq!(tasks[1]["ssh_credentials"]["type"], "SSH_CREDENTIALS");
        nas.ok("replication.get_instance", json!([2])).await;
        let missing = nas.err("replication.get_instance", json!([9])).await;
        assert_eq!(missing.reason(), "[ENOENT] None: Replication 9 does not exist\n");
    }
}

#[tokio::test]
async fn create_update_delete_change_what_query_returns() {
    let nas = Nas::new(Release::V25_10);
    let created = nas.ok("replication.create", local_push("media-local")).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!((created["state"]["state"].clone(), created["job"].clone()), (json!("PENDING"), Value::Null));
    assert_eq!(created["readonly"], "SET", "defaults are filled in");
    let duplicate = nas.err("replication.create", local_push("media-local")).await;
    assert!(duplicate.reason().contains("replication_create.name: Object with this name already exists"));

    let updated = nas.ok("replication.update", json!([id, {"enabled": false, "retention_policy": "SOURCE"}])).await;
    assert_eq!((updated["enabled"].clone(), updated["name"].clone()), (json!(false), json!("media-local")));
    assert_eq!(nas.ok("replication.delete", json!([id])).await, json!(true));
    assert_eq!(nas.ok("replication.query", json!([])).await.as_array().unwrap().len(), 2);
    assert!(nas.err("replication.delete", json!([id])).await.reason().contains("does not exist"));
}

#[tokio::test]
async fn truenas_rules_on_naming_transport_and_retention_are_enforced() {
    let nas = Nas::new(Release::V25_10);
    let cases = [
        (json!({"also_include_naming_schema": []}), "replication_create.periodic_snapshot_tasks: You must at least"),
        (json!({"transport": "SSH"}), "SSH Credentials are required for non-local replication"),
        (json!({"ssh_credentials": 1}), "Remote credentials have no sense for local replication"),
        (json!({"retention_policy": "CUSTOM"}), "replication_create.lifetime_value: This field is required"),
        (json!({"lifetime_value": 2}), "This field has no sense for specified retention policy"),
        (json!({"schedule": {"minute": "0"}}), "You can't have schedule for replication that does not run"),
        (json!({"recursive": false, "exclude": ["tank/media/photos"]}), "Excluding child datasets is only supported"),
        (json!({"direction": "PULL"}), "Naming schema or Name regex are required for pull replication"),
        (json!({"auto": true}), "must be either bound to a periodic snapshot task or have a schedule"),
    ];
    for (change, expected) in cases {
        let mut params = local_push("bad");
        params[0].as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let reason = nas.err("replication.create", params).await.reason();
        assert!(reason.contains(expected), "{change}: {reason}");
    }
}

#[tokio::test]
async fn a_run_is_a_job_that_leaves_the_task_finished_with_its_last_snapshot() {
    let nas = Nas::new(Release::V26_0);
    assert_eq!(nas.ok("replication.run", json!([1])).await, Value::Null);
    let task = nas.ok("replication.get_instance", json!([1])).await;
    assert_eq!(task["state"]["state"], "FINISHED");
    assert_eq!(task["state"]["last_snapshot"], "tank/documents@auto-2025-06-14_00-00");
    assert_eq!(
        (task["job"]["method"].clone(), task["job"]["state"].clone()),
        (json!("replication.run"), json!("SUCCESS"))
    );
    assert_eq!(task["job"]["progress"]["percent"], 100);

    nas.ok("replication.update", json!([1, {"enabled": false}])).await;
    assert_eq!(nas.err("replication.run", json!([1])).await.reason(), "[EFAULT] Task is not enabled");
    assert!(nas.err("replication.run", json!([7])).await.reason().contains("Replication 7 does not exist"));
}

#[tokio::test]
async fn a_run_of_a_missing_source_ends_in_error() {
    let nas = Nas::new(Release::V25_10);
    let mut params = local_push("ghost");
    params[0]["source_datasets"] = json!(["tank/ghost"]);
    params[0]["recursive"] = json!(false);
    let id = nas.ok("replication.create", params).await["id"].clone();
    assert!(nas.err("replication.run", json!([id])).await.reason().contains("\"tank/ghost\" does not exist"));
    let task = nas.ok("replication.get_instance", json!([id])).await;
    assert_eq!((task["state"]["state"].clone(), task["job"]["state"].clone()), (json!("ERROR"), json!("FAILED")));
}

#[tokio::test]
async fn restore_makes_a_disabled_task_in_the_other_direction() {
    let nas = Nas::new(Release::V25_10);
    let restored = nas
        .ok("replication.restore", json!([1, {"name": "restore-documents", "target_dataset": "tank/restore"}]))
        .await;
    assert_eq!(restored["direction"], "PULL");
    assert_eq!(restored["enabled"], false);
    assert_eq!(restored["source_datasets"], json!(["tank/backups/documents"]));
    assert_eq!(restored["target_dataset"], "tank/restore");
    assert_eq!(restored["naming_schema"], json!(["auto-%Y-%m-%d_%H-%M"]));
    assert_eq!(nas.ok("replication.query", json!([])).await.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn ssh_replication_uses_a_keychain_credential_that_cannot_vanish_under_it() {
    let h = Nas::new(Release::V25_10);
    let offsite = h.ok("replication.get_instance", json!([2])).await;
    assert_eq!(offsite["ssh_credentials"]["name"], "backup-box", "the keychain's own credential: {offsite}");
    assert_eq!(offsite["ssh_credentials"]["type"], "SSH_CREDENTIALS");

    let used = h.ok("keychaincredential.used_by", json!([1])).await;
    assert!(used.as_array().unwrap().iter().any(|u| u["title"] == "Replication task media-offsite"), "{used}");
    let refused = h.err("keychaincredential.delete", json!([2])).await;
    assert!(refused.reason().contains("no cascade option"), "{}", refused.reason());
    assert_eq!(h.ok("replication.get_instance", json!([2])).await["ssh_credentials"]["id"], 2, "nothing changed");

    // Deleting the key pair with cascade takes the SSH connection with it and turns the task off.
    assert_eq!(h.ok("keychaincredential.delete", json!([1, {"cascade": true}])).await, Value::Null);
    let offsite = h.ok("replication.get_instance", json!([2])).await;
    assert_eq!((&offsite["enabled"], &offsite["ssh_credentials"]), (&json!(false), &Value::Null));
    h.err("keychaincredential.get_instance", json!([2])).await;
}
