//! Tests of `snapshot.rs`: snapshot entries, create, delete, clone, rollback and promote.

use serde_json::{Map, Value, json};

use super::*;
use crate::json::object;
use crate::storage::storage_seed::seeded;
use crate::storage::{Storage, dataset_entry};

/// The snapshot names of `dataset`, oldest first.
pub(crate) fn names_of(s: &Storage, dataset: &str) -> Vec<String> {
    s.snapshots
        .entries(&s.datasets)
        .iter()
        .filter(|e| e["dataset"] == dataset)
        .map(|e| e["snapshot_name"].as_str().unwrap().to_string())
        .collect()
}

fn create_snapshot(s: &mut Storage, data: &Map<String, Value>) -> Result<String, Failure> {
    s.snapshots.create(data, &s.datasets, &mut s.txg)
}

fn delete_snapshot(s: &mut Storage, id: &str, defer: bool, recursive: bool) -> Result<(), Failure> {
    s.snapshots.delete(id, defer, recursive, &s.datasets)
}

fn clone_snapshot(s: &mut Storage, id: &str, target: &str) -> Result<(), Failure> {
    s.snapshots.make_clone(id, target, &mut s.datasets, &mut s.txg)
}

fn rollback(s: &mut Storage, id: &str, recursive: bool, clones: bool) -> Result<(), Failure> {
    s.snapshots.rollback(id, recursive, clones, &mut s.datasets)
}

fn promote(s: &mut Storage, name: &str) -> Result<(), Failure> {
    s.snapshots.promote(name, &mut s.datasets)
}

#[test]
fn entries_are_by_dataset_then_age_with_holds_and_clones() {
    let s = seeded();
    let docs = names_of(&s, "tank/documents");
    assert_eq!(docs.first().map(String::as_str), Some("auto-2025-06-10_00-00"));
    assert_eq!(docs.len(), 5);
    let held = s.snapshots.lookup("tank/documents@auto-2025-06-14_00-00").unwrap().entry(&s.datasets, true);
    assert_eq!(held["holds"], json!({"truenas": 1}));
    assert_eq!(held["type"], "SNAPSHOT");
    assert_eq!(held["pool"], "tank");
    assert!(held["createtxg"].is_string());
    let origin = s.snapshots.lookup("tank/vms/ubuntu_server-disk0@pre-upgrade").unwrap().entry(&s.datasets, false);
    assert_eq!(origin["properties"]["clones"]["value"], "tank/vms/ubuntu_server-disk0-clone");
    assert!(origin.get("holds").is_none(), "create results carry no holds");
    assert_eq!(s.snapshots.lookup("tank/x@y").unwrap_err(), snapshot_not_found("tank/x@y"));
}

#[test]
fn create_names_recurses_excludes_and_refuses_duplicates() {
    let mut s = seeded();
    let id =
        create_snapshot(&mut s, &object(json!({"dataset": "tank/media", "name": "pre", "recursive": true}))).unwrap();
    assert_eq!(id, "tank/media@pre");
    assert!(s.snapshots.contains("tank/media/photos@pre"));
    let err = create_snapshot(&mut s, &object(json!({"dataset": "tank/media", "name": "pre"}))).unwrap_err().reason();
    assert_eq!(err, "[EEXIST] pool.snapshot.create: pre already exists.\n");
    let excluding = json!({"dataset": "tank", "name": "all", "recursive": true, "exclude": ["tank/media"]});
    create_snapshot(&mut s, &object(excluding)).unwrap();
    assert!(s.snapshots.contains("tank/documents@all") && s.snapshots.contains("tank@all"));
    assert!(!s.snapshots.contains("tank/media@all") && !s.snapshots.contains("tank/media/photos@all"));
    let err = create_snapshot(
        &mut s,
        &object(json!({"dataset": "tank", "name": "v", "exclude": ["tank/media"], "vmware_sync": true})),
    )
    .unwrap_err()
    .reason();
    assert!(err.contains("snapshot_create.vmware_sync: This option is not supported when excluding datasets"));
    let err = create_snapshot(&mut s, &object(json!({"dataset": "tank/nope", "name": "x"}))).unwrap_err().reason();
    assert!(err.contains("cannot open 'tank/nope': dataset does not exist"), "{err}");
    let named =
        create_snapshot(&mut s, &object(json!({"dataset": "tank/isos", "naming_schema": "manual-%Y"}))).unwrap();
    assert!(named.starts_with("tank/isos@manual-20"), "{named}");
}

#[test]
fn delete_respects_clones_holds_and_defer() {
    let mut s = seeded();
    let err = delete_snapshot(&mut s, "tank/media", false, false).unwrap_err().reason();
    assert!(err.contains("Invalid snapshot name: 'tank/media'"), "{err}");
    let err = delete_snapshot(&mut s, "tank/vms/ubuntu_server-disk0@pre-upgrade", false, false).unwrap_err().reason();
    assert!(err.contains("snapshot has dependent clones"), "{err}");
    let held = "tank/documents@auto-2025-06-14_00-00";
    assert!(delete_snapshot(&mut s, held, false, false).unwrap_err().reason().contains("dataset is busy"));
    delete_snapshot(&mut s, held, true, false).unwrap();
    assert!(s.snapshots.lookup(held).unwrap().defer_destroy, "deferred: kept until the hold goes");
    delete_snapshot(&mut s, "tank/documents@auto-2025-06-10_00-00", false, false).unwrap();
    assert!(s.snapshots.lookup("tank/documents@auto-2025-06-10_00-00").is_err());
    delete_snapshot(&mut s, "tank/media@before-reorg", false, true).unwrap();
    assert!(s.snapshots.lookup("tank/media/photos@before-reorg").is_err(), "recursive takes the children's too");
}

#[test]
fn clones_start_from_the_snapshot_in_the_same_pool() {
    let mut s = seeded();
    let fail = |s: &mut Storage, snap: &str, target: &str| clone_snapshot(s, snap, target).unwrap_err().reason();
    assert!(fail(&mut s, "tank/media@nope", "tank/x").contains("cannot open 'tank/media@nope'"));
    assert!(fail(&mut s, "tank/media@before-reorg", "tank/isos").contains("dataset already exists"));
    assert!(fail(&mut s, "tank/media@before-reorg", "offsite/x").contains("source and target pools differ"));
    assert!(fail(&mut s, "tank/media@before-reorg", "tank/a/b").contains("parent does not exist"));
    clone_snapshot(&mut s, "tank/media@before-reorg", "tank/media-restore").unwrap();
    let entry = dataset_entry::entry(&s.space(), "tank/media-restore");
    assert_eq!(entry["origin"]["value"], "tank/media@before-reorg");
    assert_eq!(entry["recordsize"]["source"], "DEFAULT", "a clone inherits from its new parent");
}

#[test]
fn rollback_needs_recursive_for_later_snapshots_and_recursive_clones_for_their_clones() {
    let mut s = seeded();
    let target = "tank/documents@auto-2025-06-12_00-00";
    let err = rollback(&mut s, target, false, false).unwrap_err().reason();
    assert!(err.starts_with(
        "[EFAULT] Failed to rollback snapshot: cannot rollback to 'tank/documents@auto-2025-06-12_00-00'"
    ));
    assert!(err.contains("more recent snapshots or bookmarks exist"), "{err}");
    assert!(err.contains("tank/documents@auto-2025-06-14_00-00"), "{err}");
    clone_snapshot(&mut s, "tank/documents@auto-2025-06-13_00-00", "tank/docs-13").unwrap();
    let err = rollback(&mut s, target, true, false).unwrap_err().reason();
    assert!(err.contains("clones of previous snapshots exist") && err.contains("tank/docs-13"), "{err}");
    s.datasets.get_mut("tank/documents").unwrap().written = 999;
    rollback(&mut s, target, true, true).unwrap();
    assert_eq!(
        names_of(&s, "tank/documents"),
        ["auto-2025-06-10_00-00", "auto-2025-06-11_00-00", "auto-2025-06-12_00-00"]
    );
    assert!(!s.datasets.contains("tank/docs-13"));
    assert_eq!(s.datasets.get("tank/documents").unwrap().written, s.snapshots.lookup(target).unwrap().referenced);
}

#[test]
fn promote_hands_the_older_snapshots_to_the_clone() {
    let mut s = seeded();
    let err = promote(&mut s, "tank/media").unwrap_err().reason();
    assert!(err.contains("cannot promote 'tank/media': not a cloned filesystem"), "{err}");
    promote(&mut s, "tank/vms/ubuntu_server-disk0-clone").unwrap();
    assert_eq!(names_of(&s, "tank/vms/ubuntu_server-disk0-clone"), ["pre-upgrade"]);
    assert_eq!(names_of(&s, "tank/vms/ubuntu_server-disk0"), ["vms-2025-06-08_03-00"]);
    assert_eq!(s.datasets.get("tank/vms/ubuntu_server-disk0-clone").unwrap().origin, None);
    assert_eq!(
        s.datasets.get("tank/vms/ubuntu_server-disk0").unwrap().origin.as_deref(),
        Some("tank/vms/ubuntu_server-disk0-clone@pre-upgrade")
    );
    assert!(promote(&mut s, "tank/vms/ubuntu_server-disk0-clone").is_err(), "no longer a clone");
}
