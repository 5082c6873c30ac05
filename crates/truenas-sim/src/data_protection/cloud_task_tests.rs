use serde_json::json;

use super::*;
use crate::storage::storage_seed;

fn seeded() -> Storage {
    let mut storage = Storage::default();
    storage_seed::seed(&mut storage);
    storage
}

#[test]
fn a_path_resolves_to_the_deepest_dataset_above_it() {
    let storage = seeded();
    let found = |p: &str| storage.datasets.of_path(p);
    assert_eq!(found("/mnt/tank/media/photos/2024"), Some(("tank/media/photos".into(), "2024".into())));
    assert_eq!(found("/mnt/tank/media"), Some(("tank/media".into(), String::new())));
    assert_eq!(found("/mnt/tank/mediaX"), Some(("tank".into(), "mediaX".into())));
    assert_eq!(found("/tmp"), None);
}

#[test]
fn backup_snapshots_are_pruned_to_keep_last() {
    let storage = seeded();
    let mut credentials = CloudCredentials::default();
    let b2 = json!({"name": "b2", "provider": {"type": "B2", "account": "a", "key": "k"}});
    credentials.create(b2.as_object().unwrap()).unwrap();
    let mut tasks = CloudTasks::new(CloudKind::Backup);
    let data = json!({"path": "/mnt/tank/media", "credentials": 1, "attributes": {"bucket": "x", "folder": "/"},
                      "password": "p", "keep_last": 2});
    let id = tasks.create(data.as_object().unwrap().clone(), &credentials, &storage).unwrap();
    for seq in 0..5 {
        tasks.add_snapshot(id, json!({"id": seq})).unwrap();
    }
    assert_eq!(tasks.get(id).unwrap().snapshots, vec![json!({"id": 3}), json!({"id": 4})]);
    assert_eq!(tasks.user_of(1), Some("1".to_string()), "a task without a description is named by its id");
    assert_eq!(tasks.user_of(2), None);
}

#[test]
fn the_last_job_is_the_newest_run_of_the_task() {
    let jobs = [
        json!({"id": 1, "method": "cloudsync.sync", "arguments": [1], "state": "SUCCESS"}),
        json!({"id": 2, "method": "cloudsync.sync", "arguments": [2], "state": "FAILED"}),
        json!({"id": 3, "method": "cloudsync.sync", "arguments": [1], "state": "RUNNING"}),
        json!({"id": 4, "method": "cloud_backup.sync", "arguments": [1], "state": "SUCCESS"}),
    ];
    assert_eq!(last_job(&jobs, "cloudsync.sync", 1).map(|j| j["id"].clone()), Some(json!(3)));
    assert!(is_active(&jobs[2]) && !is_active(&jobs[0]));
    assert_eq!(last_job(&jobs, "cloudsync.sync", 3), None);
}
