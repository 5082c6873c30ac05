use serde_json::json;

use super::*;

fn task(fields: serde_json::Value) -> Map<String, Value> {
    let mut base = json!({"name": "t", "direction": "PUSH", "transport": "LOCAL", "source_datasets": ["tank/documents"],
        "target_dataset": "tank/backups/documents", "recursive": false, "auto": false, "retention_policy": "NONE",
        "also_include_naming_schema": ["auto-%Y-%m-%d_%H-%M"], "enabled": true});
    base.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    base.as_object().unwrap().clone()
}

#[test]
fn a_run_goes_running_then_finished_and_a_second_start_is_refused() {
    let storage = Storage::default();
    let mut store = Replications::default();
    let id = store.create(task(json!({})), &storage).unwrap();
    store.start_run(id, 100).unwrap();
    assert_eq!(store.get(id).unwrap().state["state"], "RUNNING");
    assert_eq!(store.start_run(id, 101).unwrap_err().reason(), "[EFAULT] Task is already running");
    store.finish_run(id, Ok(Some("tank/documents@a".into())), 102);
    let state = &store.get(id).unwrap().state;
    assert_eq!(
        (state["state"].clone(), state["last_snapshot"].clone()),
        (json!("FINISHED"), json!("tank/documents@a"))
    );
    store.start_run(id, 103).unwrap();
    store.finish_run(id, Err("boom".into()), 104);
    assert_eq!(store.get(id).unwrap().state["error"], "boom");
}

#[test]
fn a_disabled_task_does_not_run_and_unknown_ids_are_not_found() {
    let storage = Storage::default();
    let mut store = Replications::default();
    let id = store.create(task(json!({"enabled": false})), &storage).unwrap();
    assert_eq!(store.start_run(id, 1).unwrap_err().reason(), "[EFAULT] Task is not enabled");
    assert_eq!(store.start_run(5, 1).unwrap_err(), replication_not_found(5));
}

#[test]
fn restoring_a_multi_dataset_push_pulls_each_child_of_the_old_target() {
    let storage = Storage::default();
    let mut store = Replications::default();
    let fields = task(json!({"source_datasets": ["tank/a", "tank/b"], "target_dataset": "backup/x"}));
    let id = store.create(fields, &storage).unwrap();
    let data = store.restore_data(id, "back", "tank/restore").unwrap();
    assert_eq!(data["source_datasets"], json!(["backup/x/a", "backup/x/b"]));
    assert_eq!((data["direction"].clone(), data["enabled"].clone()), (json!("PULL"), json!(false)));
}
