//! Cloud credentials, cloud sync and cloud backup tasks through the dispatcher, and what the
//! result filter leaves of their secrets.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn every_read_matches_the_returns_schemas_of_both_releases() {
    for release in Release::ALL {
        let nas = Nas::new(release);
        assert_eq!(nas.ok("cloudsync.credentials.query", json!([])).await.as_array().unwrap().len(), 3);
        nas.ok("cloudsync.credentials.get_instance", json!([3])).await;
        assert_eq!(nas.ok("cloudsync.query", json!([])).await.as_array().unwrap().len(), 2);
        nas.ok("cloudsync.get_instance", json!([2])).await;
        assert_eq!(nas.ok("cloud_backup.query", json!([])).await.as_array().unwrap().len(), 2);
        nas.ok("cloud_backup.get_instance", json!([2])).await;
        assert_eq!(nas.ok("cloudsync.providers", json!([])).await.as_array().unwrap().len(), 19);
        assert_eq!(nas.ok("cloudsync.list_buckets", json!([1])).await[0]["IsBucket"], true);
        let top = nas
            .ok(
                "cloudsync.list_directory",
                json!([{"credentials": 1, "attributes": {"bucket": "homelab-backup", "folder": "/"}}]),
            )
            .await;
        assert_eq!(top[0]["IsDir"], true);
        assert_eq!(nas.ok("cloud_backup.list_snapshots", json!([1])).await.as_array().unwrap().len(), 3);
        assert_eq!(
            nas.ok("cloudsync.credentials.verify", json!([{"type": "B2", "account": "a", "key": "k"}])).await["valid"],
            true
        );
    }
}

#[tokio::test]
async fn unknown_ids_give_truenas_not_found() {
    let nas = Nas::new(Release::V25_10);
    for (method, noun) in [
        ("cloudsync.get_instance", "CloudSync"),
        ("cloud_backup.get_instance", "CloudBackup"),
        ("cloudsync.credentials.get_instance", "Credentials"),
        ("cloudsync.abort", "CloudSync"),
        ("cloud_backup.list_snapshots", "CloudBackup"),
        ("cloudsync.list_buckets", "Credentials"),
    ] {
        assert_eq!(nas.err(method, json!([9])).await.reason(), format!("[ENOENT] None: {noun} 9 does not exist\n"));
    }
}

#[tokio::test]
async fn credentials_are_unique_and_cannot_be_deleted_while_used() {
    let nas = Nas::new(Release::V26_0);
    let made = nas.ok("cloudsync.credentials.create", json!([{"name": "Wasabi", "provider": {"type": "S3", "access_key_id": "A", "secret_access_key": "s", "endpoint": "https://s3.wasabisys.com"}}])).await;
    assert_eq!(made["provider"]["force_path_style"], true, "26.0 fills its new S3 defaults");
    let again = nas
        .err(
            "cloudsync.credentials.create",
            json!([{"name": "Wasabi", "provider": {"type": "B2", "account": "a", "key": "k"}}]),
        )
        .await;
    assert!(again.reason().contains("cloud_sync_credentials_create.name: Object with this name already exists"));
    let renamed = nas.ok("cloudsync.credentials.update", json!([1, {"name": "B2 main"}])).await;
    assert_eq!((renamed["name"].clone(), renamed["provider"]["type"].clone()), (json!("B2 main"), json!("B2")));

    let used = nas.err("cloudsync.credentials.delete", json!([1])).await;
    assert_eq!(used.reason(), "[EFAULT] This credential is used by cloud sync task Documents to B2");
    let used = nas.err("cloudsync.credentials.delete", json!([2])).await;
    assert_eq!(used.reason(), "[EFAULT] This credential is used by cloud backup task Documents to TrueCloud");
    assert_eq!(nas.ok("cloudsync.credentials.delete", json!([3])).await, json!(true));
    assert_eq!(nas.ok("cloudsync.credentials.query", json!([])).await.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn tasks_need_a_pool_path_a_known_credential_and_a_bucket() {
    let nas = Nas::new(Release::V25_10);
    let reason = nas.err("cloudsync.create", json!([{"path": "/tmp/x", "credentials": 7, "attributes": {"folder": "/"}, "direction": "PUSH", "transfer_mode": "COPY"}])).await.reason();
    assert!(reason.contains("cloud_sync_create.path: The path must reside within a pool mount point"), "{reason}");
    assert!(reason.contains("cloud_sync_create.credentials: Invalid credentials"), "{reason}");
    let reason = nas.err("cloud_backup.create", json!([{"path": "/mnt/tank/media", "credentials": 2, "attributes": {"folder": "/"}, "password": "p", "keep_last": 3}])).await.reason();
    assert!(reason.contains("cloud_backup_create.attributes.bucket"), "{reason}");

    let made = nas.ok("cloudsync.create", json!([{"description": "Media", "path": "/mnt/tank/media", "credentials": 1, "attributes": {"bucket": "archive", "folder": "/media"}, "direction": "PUSH", "transfer_mode": "COPY"}])).await;
    assert_eq!((made["enabled"].clone(), made["credentials"]["name"].clone()), (json!(true), json!("Backblaze B2")));
    let id = made["id"].clone();
    assert_eq!(nas.ok("cloudsync.update", json!([id, {"transfer_mode": "SYNC"}])).await["transfer_mode"], "SYNC");
    assert_eq!(nas.ok("cloudsync.delete", json!([id])).await, json!(true));
    assert_eq!(nas.ok("cloudsync.query", json!([])).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_sync_is_a_job_whose_end_is_the_tasks_job_and_abort_of_an_idle_task_is_false() {
    let nas = Nas::new(Release::V25_10);
    assert_eq!(nas.ok("cloudsync.sync", json!([2])).await, Value::Null);
    let task = nas.ok("cloudsync.get_instance", json!([2])).await;
    assert_eq!(
        (task["job"]["method"].clone(), task["job"]["state"].clone()),
        (json!("cloudsync.sync"), json!("SUCCESS"))
    );
    assert_eq!(nas.ok("cloudsync.abort", json!([2])).await, json!(false));
    assert_eq!(nas.ok("cloud_backup.abort", json!([2])).await, json!(false));
}

#[tokio::test]
async fn abort_stops_a_running_sync() {
    for (sync, abort, get) in [
        ("cloudsync.sync", "cloudsync.abort", "cloudsync.get_instance"),
        ("cloud_backup.sync", "cloud_backup.abort", "cloud_backup.get_instance"),
    ] {
        let nas = Arc::new(Nas::new(Release::V25_10));
        nas.machine.faults.set_job_step(Duration::from_millis(300));
        let running = Arc::clone(&nas);
        let call = tokio::spawn(async move { running.call(sync, json!([1])).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(nas.ok(get, json!([1])).await["job"]["state"], "RUNNING");
        assert_eq!(nas.ok(abort, json!([1])).await, json!(true));
        assert_eq!(call.await.unwrap(), Ok(Value::Null));
        assert_eq!(nas.ok(get, json!([1])).await["job"]["state"], "ABORTED");
    }
}

#[tokio::test]
async fn restore_makes_a_disabled_pull_task_and_refuses_move() {
    let nas = Nas::new(Release::V25_10);
    let restored = nas
        .ok(
            "cloudsync.restore",
            json!([1, {"description": "Back", "transfer_mode": "COPY", "path": "/mnt/tank/restore"}]),
        )
        .await;
    assert_eq!((restored["direction"].clone(), restored["enabled"].clone()), (json!("PULL"), json!(false)));
    assert_eq!(restored["attributes"]["bucket"], "homelab-backup");
    nas.err("cloudsync.restore", json!([1, {"transfer_mode": "MOVE", "path": "/mnt/tank/restore"}])).await;
}

#[tokio::test]
async fn browsing_the_cloud_follows_the_provider() {
    let nas = Nas::new(Release::V25_10);
    let files = nas
        .ok(
            "cloudsync.list_directory",
            json!([{"credentials": 2, "attributes": {"bucket": "truenas-backup", "folder": "/documents"}}]),
        )
        .await;
    assert_eq!(files[0]["IsDir"], false);
    let missing = nas
        .err("cloudsync.list_directory", json!([{"credentials": 1, "attributes": {"bucket": "nope", "folder": "/"}}]))
        .await;
    assert_eq!(missing.reason(), "[EFAULT] directory not found");
    let providers = nas.ok("cloudsync.providers", json!([])).await;
    let b2 = providers.as_array().unwrap().iter().find(|p| p["name"] == "B2").unwrap().clone();
    assert_eq!((b2["buckets"].clone(), b2["task_schema"][0]["property"].clone()), (json!(true), json!("bucket")));
    let bad = nas
        .ok(
            "cloudsync.credentials.verify",
            json!([{"type": "S3", "access_key_id": "A", "secret_access_key": "invalid"}]),
        )
        .await;
    assert_eq!(bad["valid"], false);
}
