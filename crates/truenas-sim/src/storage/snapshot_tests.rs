use serde_json::json;

use super::*;
use crate::json::object;
use crate::storage::snapshot_task::task_not_found;
use crate::storage::storage_seed::seeded;

fn names_of(s: &Storage, dataset: &str) -> Vec<String> {
    s.snapshot_entries()
        .iter()
        .filter(|e| e["dataset"] == dataset)
        .map(|e| e["snapshot_name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn entries_are_by_dataset_then_age_with_holds_and_clones() {
    let s = seeded();
    let docs = names_of(&s, "tank/documents");
    assert_eq!(docs.first().map(String::as_str), Some("auto-2025-06-10_00-00"));
    assert_eq!(docs.len(), 5);
    let held = s.snapshot_entry(s.snapshot("tank/documents@auto-2025-06-14_00-00").unwrap(), true);
    assert_eq!(held["holds"], json!({"truenas": 1}));
    assert_eq!(held["type"], "SNAPSHOT");
    assert_eq!(held["pool"], "tank");
    assert!(held["createtxg"].is_string());
    let origin = s.snapshot_entry(s.snapshot("tank/vms/ubuntu_server-disk0@pre-upgrade").unwrap(), false);
    assert_eq!(origin["properties"]["clones"]["value"], "tank/vms/ubuntu_server-disk0-clone");
    assert!(origin.get("holds").is_none(), "create results carry no holds");
    assert_eq!(s.snapshot("tank/x@y").unwrap_err(), snapshot_not_found("tank/x@y"));
}

#[test]
fn create_names_recurses_excludes_and_refuses_duplicates() {
    let mut s = seeded();
    let id = s.create_snapshot(&object(json!({"dataset": "tank/media", "name": "pre", "recursive": true}))).unwrap();
    assert_eq!(id, "tank/media@pre");
    assert!(s.snapshots.contains_key("tank/media/photos@pre"));
    let err = s.create_snapshot(&object(json!({"dataset": "tank/media", "name": "pre"}))).unwrap_err().reason();
    assert_eq!(err, "[EEXIST] pool.snapshot.create: pre already exists.\n");
    let excluding = json!({"dataset": "tank", "name": "all", "recursive": true, "exclude": ["tank/media"]});
    s.create_snapshot(&object(excluding)).unwrap();
    assert!(s.snapshots.contains_key("tank/documents@all") && s.snapshots.contains_key("tank@all"));
    assert!(!s.snapshots.contains_key("tank/media@all") && !s.snapshots.contains_key("tank/media/photos@all"));
    let err = s
        .create_snapshot(&object(
            json!({"dataset": "tank", "name": "v", "exclude": ["tank/media"], "vmware_sync": true}),
        ))
        .unwrap_err()
        .reason();
    assert!(err.contains("snapshot_create.vmware_sync: This option is not supported when excluding datasets"));
    let err = s.create_snapshot(&object(json!({"dataset": "tank/nope", "name": "x"}))).unwrap_err().reason();
    assert!(err.contains("cannot open 'tank/nope': dataset does not exist"), "{err}");
    let named = s.create_snapshot(&object(json!({"dataset": "tank/isos", "naming_schema": "manual-%Y"}))).unwrap();
    assert!(named.starts_with("tank/isos@manual-20"), "{named}");
}

#[test]
fn delete_respects_clones_holds_and_defer() {
    let mut s = seeded();
    let err = s.delete_snapshot("tank/media", false, false).unwrap_err().reason();
    assert!(err.contains("Invalid snapshot name: 'tank/media'"), "{err}");
    let err = s.delete_snapshot("tank/vms/ubuntu_server-disk0@pre-upgrade", false, false).unwrap_err().reason();
    assert!(err.contains("snapshot has dependent clones"), "{err}");
    let held = "tank/documents@auto-2025-06-14_00-00";
    assert!(s.delete_snapshot(held, false, false).unwrap_err().reason().contains("dataset is busy"));
    s.delete_snapshot(held, true, false).unwrap();
    assert!(s.snapshot(held).unwrap().defer_destroy, "deferred: kept until the hold goes");
    s.delete_snapshot("tank/documents@auto-2025-06-10_00-00", false, false).unwrap();
    assert!(s.snapshot("tank/documents@auto-2025-06-10_00-00").is_err());
    s.delete_snapshot("tank/media@before-reorg", false, true).unwrap();
    assert!(s.snapshot("tank/media/photos@before-reorg").is_err(), "recursive takes the children's too");
}

#[test]
fn clones_start_from_the_snapshot_in_the_same_pool() {
    let mut s = seeded();
    let fail = |s: &mut Storage, snap: &str, target: &str| s.clone_snapshot(snap, target).unwrap_err().reason();
    assert!(fail(&mut s, "tank/media@nope", "tank/x").contains("cannot open 'tank/media@nope'"));
    assert!(fail(&mut s, "tank/media@before-reorg", "tank/isos").contains("dataset already exists"));
    assert!(fail(&mut s, "tank/media@before-reorg", "offsite/x").contains("source and target pools differ"));
    assert!(fail(&mut s, "tank/media@before-reorg", "tank/a/b").contains("parent does not exist"));
    s.clone_snapshot("tank/media@before-reorg", "tank/media-restore").unwrap();
    let entry = s.dataset_entry("tank/media-restore");
    assert_eq!(entry["origin"]["value"], "tank/media@before-reorg");
    assert_eq!(entry["recordsize"]["source"], "DEFAULT", "a clone inherits from its new parent");
}

#[test]
fn rollback_needs_recursive_for_later_snapshots_and_recursive_clones_for_their_clones() {
    let mut s = seeded();
    let target = "tank/documents@auto-2025-06-12_00-00";
    let err = s.rollback_snapshot(target, false, false).unwrap_err().reason();
    assert!(err.starts_with(
        "[EFAULT] Failed to rollback snapshot: cannot rollback to 'tank/documents@auto-2025-06-12_00-00'"
    ));
    assert!(err.contains("more recent snapshots or bookmarks exist"), "{err}");
    assert!(err.contains("tank/documents@auto-2025-06-14_00-00"), "{err}");
    s.clone_snapshot("tank/documents@auto-2025-06-13_00-00", "tank/docs-13").unwrap();
    let err = s.rollback_snapshot(target, true, false).unwrap_err().reason();
    assert!(err.contains("clones of previous snapshots exist") && err.contains("tank/docs-13"), "{err}");
    s.datasets.get_mut("tank/documents").unwrap().written = 999;
    s.rollback_snapshot(target, true, true).unwrap();
    assert_eq!(
        names_of(&s, "tank/documents"),
        ["auto-2025-06-10_00-00", "auto-2025-06-11_00-00", "auto-2025-06-12_00-00"]
    );
    assert!(!s.datasets.contains_key("tank/docs-13"));
    assert_eq!(s.datasets["tank/documents"].written, s.snapshot(target).unwrap().referenced);
}

#[test]
fn promote_hands_the_older_snapshots_to_the_clone() {
    let mut s = seeded();
    let err = s.promote_dataset("tank/media").unwrap_err().reason();
    assert!(err.contains("cannot promote 'tank/media': not a cloned filesystem"), "{err}");
    s.promote_dataset("tank/vms/ubuntu_server-disk0-clone").unwrap();
    assert_eq!(names_of(&s, "tank/vms/ubuntu_server-disk0-clone"), ["pre-upgrade"]);
    assert_eq!(names_of(&s, "tank/vms/ubuntu_server-disk0"), ["vms-2025-06-08_03-00"]);
    assert_eq!(s.datasets["tank/vms/ubuntu_server-disk0-clone"].origin, None);
    assert_eq!(
        s.datasets["tank/vms/ubuntu_server-disk0"].origin.as_deref(),
        Some("tank/vms/ubuntu_server-disk0-clone@pre-upgrade")
    );
    assert!(s.promote_dataset("tank/vms/ubuntu_server-disk0-clone").is_err(), "no longer a clone");
}

#[test]
fn tasks_are_checked_run_now_and_only_when_enabled() {
    let mut s = seeded();
    let bad = json!({"dataset": "tank/none", "recursive": false, "exclude": ["tank/media/photos"], "naming_schema": "snap-%Y"});
    let err = s.create_task(&object(bad)).unwrap_err().reason();
    assert!(err.contains("periodic_snapshot_create.dataset: Invalid ZFS dataset"), "{err}");
    assert!(err.contains("Excluding datasets has no sense for non-recursive periodic snapshot tasks"), "{err}");
    assert!(err.contains("periodic_snapshot_create.exclude.0"), "{err}");
    assert!(err.contains("%Y, %m, %d, %H and %M are required"), "{err}");
    let good = json!({"dataset": "tank/media", "recursive": true, "exclude": ["tank/media/photos"], "naming_schema": "m-%Y-%m-%d_%H-%M"});
    let id = s.create_task(&object(good)).unwrap();
    assert_eq!(id, 4);
    let entry = s.task(id).unwrap().entry();
    assert_eq!((entry["lifetime_value"].clone(), entry["lifetime_unit"].clone()), (json!(2), json!("WEEK")));
    assert_eq!(entry["state"]["state"], "PENDING");
    s.run_task(id).unwrap();
    assert_eq!(names_of(&s, "tank/media").len(), 2);
    assert!(names_of(&s, "tank/media/photos").len() == 1, "the excluded child gets none");
    assert_eq!(s.task(id).unwrap().entry()["state"]["state"], "FINISHED");
    s.run_task(id).unwrap();
    assert_eq!(s.run_task(3).unwrap_err().reason(), "[EFAULT] Task is not enabled");
    s.delete_task(3).unwrap();
    assert_eq!(s.delete_task(3).unwrap_err(), task_not_found(3));
}
