//! Tests of `snapshot_task.rs`: periodic snapshot tasks.

use serde_json::{Map, Value, json};

use super::*;
use crate::json::object;
use crate::storage::Storage;
use crate::storage::snapshot::tests::names_of;
use crate::storage::storage_seed::seeded;

fn create_task(s: &mut Storage, data: &Map<String, Value>) -> Result<i64, Failure> {
    s.tasks.create(data, &s.datasets)
}

fn run_task(s: &mut Storage, id: i64) -> Result<(), Failure> {
    s.tasks.run(id, &mut s.snapshots, &s.datasets, &mut s.txg)
}

#[test]
fn tasks_are_checked_run_now_and_only_when_enabled() {
    let mut s = seeded();
    let bad = json!({"dataset": "tank/none", "recursive": false, "exclude": ["tank/media/photos"], "naming_schema": "snap-%Y"});
    let err = create_task(&mut s, &object(bad)).unwrap_err().reason();
    assert!(err.contains("periodic_snapshot_create.dataset: Invalid ZFS dataset"), "{err}");
    assert!(err.contains("Excluding datasets has no sense for non-recursive periodic snapshot tasks"), "{err}");
    assert!(err.contains("periodic_snapshot_create.exclude.0"), "{err}");
    assert!(err.contains("%Y, %m, %d, %H and %M are required"), "{err}");
    let good = json!({"dataset": "tank/media", "recursive": true, "exclude": ["tank/media/photos"], "naming_schema": "m-%Y-%m-%d_%H-%M"});
    let id = create_task(&mut s, &object(good)).unwrap();
    assert_eq!(id, 4);
    let entry = s.tasks.lookup(id).unwrap().entry();
    assert_eq!((entry["lifetime_value"].clone(), entry["lifetime_unit"].clone()), (json!(2), json!("WEEK")));
    assert_eq!(entry["state"]["state"], "PENDING");
    run_task(&mut s, id).unwrap();
    assert_eq!(names_of(&s, "tank/media").len(), 2);
    assert!(names_of(&s, "tank/media/photos").len() == 1, "the excluded child gets none");
    assert_eq!(s.tasks.lookup(id).unwrap().entry()["state"]["state"], "FINISHED");
    run_task(&mut s, id).unwrap();
    assert_eq!(run_task(&mut s, 3).unwrap_err().reason(), "[EFAULT] Task is not enabled");
    s.tasks.delete(3).unwrap();
    assert_eq!(s.tasks.delete(3).unwrap_err(), task_not_found(3));
}
