//! The replication, cloud sync, cloud credential and cloud backup actions build the middleware
//! calls they should, keep the reference's refusal texts and refuse what TrueNAS dropped.

use serde_json::json;

use super::test_support::*;
use crate::ids::Risk;

#[test]
fn actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    let b2 = json!({"account": "a", "key": "k"});
    let cases = [
        ("replication_run", json!({"id": 1}), "replication.run", json!([1])),
        (
            "replication_create",
            json!({"name": "n", "direction": "PUSH", "transport": "LOCAL", "source_datasets": ["tank/a"], "target_dataset": "tank/b"}),
            "replication.create",
            json!([{"name": "n", "direction": "PUSH", "transport": "LOCAL", "source_datasets": ["tank/a"],
                    "target_dataset": "tank/b", "recursive": false, "auto": false, "retention_policy": "NONE"}]),
        ),
        (
            "replication_restore",
            json!({"id": 1, "name": "r", "target_dataset": "tank/r"}),
            "replication.restore",
            json!([1, {"name": "r", "target_dataset": "tank/r"}]),
        ),
        ("cloudsync_run", json!({"id": 2}), "cloudsync.sync", json!([2])),
        ("cloud_backup_run", json!({"id": 2}), "cloud_backup.sync", json!([2])),
        ("cloud_backup_snapshots", json!({"id": 2}), "cloud_backup.list_snapshots", json!([2])),
        ("cloudsync_delete", json!({"id": 2, "confirm": true}), "cloudsync.delete", json!([2])),
        (
            "cloudsync_credentials_create",
            json!({"name": "B2", "provider": "B2", "attributes": b2}),
            "cloudsync.credentials.create",
            json!([{"name": "B2", "provider": {"type": "B2", "account": "a", "key": "k"}}]),
        ),
        (
            "cloudsync_credentials_update",
            json!({"id": 1, "name": "x"}),
            "cloudsync.credentials.update",
            json!([1, {"name": "x"}]),
        ),
        (
            "cloudsync_credentials_verify",
            json!({"provider": "B2", "attributes": b2}),
            "cloudsync.credentials.verify",
            json!([{"type": "B2", "account": "a", "key": "k"}]),
        ),
        ("cloudsync_list_buckets", json!({"credentials": 1}), "cloudsync.list_buckets", json!([1])),
        (
            "cloudsync_list_directory",
            json!({"credentials": 1, "attributes": {"bucket": "b", "folder": "/"}}),
            "cloudsync.list_directory",
            json!([{"credentials": 1, "attributes": {"bucket": "b", "folder": "/"}}]),
        ),
        (
            "cloudsync_restore",
            json!({"id": 1, "description": "d", "transfer_mode": "COPY", "path": "/mnt/tank/r"}),
            "cloudsync.restore",
            json!([1, {"description": "d", "transfer_mode": "COPY", "path": "/mnt/tank/r"}]),
        ),
    ];
    for (name, args, method, params) in cases {
        let action = catalog.action(name).unwrap();
        let (resolved, built) = action.check_and_resolve(&object(args)).unwrap();
        assert_eq!((resolved.as_str(), built), (method, params), "{name}");
    }
}

#[test]
fn the_three_deletes_are_gated_with_the_reference_text_and_runs_are_jobs_with_write_risk() {
    let catalog = builtin();
    let refusal = "{\n  \"error\": \"Deletion not confirmed. Set confirm to true.\"\n}";
    for name in ["replication_delete", "cloudsync_delete", "cloud_backup_delete"] {
        let action = catalog.action(name).unwrap();
        assert_eq!(action.confirm.as_deref(), Some(refusal), "{name}");
        assert_eq!(action.risk, Risk::Destructive, "{name}");
    }
    assert_eq!(catalog.action("cloudsync_credentials_delete").unwrap().risk, Risk::Destructive);
    assert!(catalog.action("cloudsync_credentials_delete").unwrap().confirm.is_none(), "not gated in the reference");
    for name in ["replication_run", "cloudsync_run", "cloud_backup_run"] {
        assert_eq!(catalog.action(name).unwrap().risk, Risk::Write, "{name}");
    }
}

#[test]
fn arguments_truenas_has_no_place_for_are_refused() {
    let catalog = builtin();
    let refused = [
        ("cloudsync_list_buckets", json!({"credentials": 1, "attributes": {}})),
        ("cloudsync_list_directory", json!({"credentials": 1, "attributes": {}, "id": 3})),
        ("cloudsync_restore", json!({"id": 1, "description": "d", "transfer_mode": "MOVE", "path": "/mnt/tank/r"})),
        (
            "replication_create",
            json!({"name": "n", "direction": "PUSH", "transport": "LEGACY", "source_datasets": ["a"], "target_dataset": "b"}),
        ),
        ("cloud_backup_create", json!({"description": "d", "path": "/mnt/tank/a", "credentials": 1})),
    ];
    for (name, args) in refused {
        assert!(catalog.action(name).unwrap().validate_args(&object(args.clone())).is_err(), "{name} accepted {args}");
    }
}
