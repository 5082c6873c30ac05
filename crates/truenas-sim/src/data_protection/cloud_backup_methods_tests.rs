//! Cloud backup tasks through the dispatcher: each run adds a restic snapshot and prunes to
//! `keep_last`.

use serde_json::json;

use crate::testing::Harness as Nas;
use truenas_api::schema::Release;

#[tokio::test]
async fn each_backup_run_adds_a_snapshot_and_keeps_only_keep_last() {
    let nas = Nas::new(Release::V26_0);
    nas.ok("cloud_backup.sync", json!([1])).await;
    let snapshots = nas.ok("cloud_backup.list_snapshots", json!([1])).await;
    assert_eq!(snapshots.as_array().unwrap().len(), 4);
    assert_eq!(snapshots[3]["paths"], json!(["/mnt/tank/documents"]));
    nas.ok("cloud_backup.update", json!([1, {"keep_last": 2}])).await;
    nas.ok("cloud_backup.sync", json!([1])).await;
    assert_eq!(nas.ok("cloud_backup.list_snapshots", json!([1])).await.as_array().unwrap().len(), 2);
}
