//! The snapshot methods through the dispatcher: 24.10's `zfs.snapshot.*` names over the same
//! snapshot state as their successors.

use serde_json::json;

use crate::testing::Harness;
use truenas_api::schema::Release;

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
    assert!(h.machine.state().storage.snapshots.lookup("tank/documents@old-api").is_ok());
    h.ok("zfs.snapshot.clone", json!([{"snapshot": "tank/documents@old-api", "dataset_dst": "tank/restored"}])).await;
    h.ok("zfs.snapshot.create", json!([{"dataset": "tank/documents", "name": "short-lived"}])).await;
    assert_eq!(h.ok("zfs.snapshot.delete", json!(["tank/documents@short-lived", {"defer": false}])).await, true);
    assert!(h.machine.state().storage.snapshots.lookup("tank/documents@short-lived").is_err());
}
