//! The `storage` actions build exactly the middleware calls TrueNAS 25.10 expects, including
//! where they deliberately differ from the server we replace.

use serde_json::{Value, json};

use super::test_support::*;
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

/// (action, arguments, expected positional params).
fn cases() -> Vec<(&'static str, Value, Value)> {
    let topology = json!({"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}]});
    vec![
        ("pool_list", json!({}), json!([])),
        ("pool_get", json!({"id": 1}), json!([1])),
        (
            "pool_create",
            json!({"name": "vault", "topology": topology, "confirm": true}),
            json!([{"name": "vault", "topology": topology, "encryption": false}]),
        ),
        ("pool_update", json!({"id": 1, "autotrim": "ON"}), json!([1, {"autotrim": "ON"}])),
        (
            "pool_update",
            json!({"id": 1, "topology": {"spares": ["sdg"]}}),
            json!([1, {"topology": {"spares": ["sdg"]}}]),
        ),
        (
            "pool_status",
            json!({"id": 1}),
            json!([1, {"select": ["id", "name", "status", "healthy", "warning", "status_code", "status_detail", "scan",
                                   "size", "allocated", "free", "fragmentation", "topology"]}]),
        ),
        ("pool_scrub", json!({"id": 1, "action": "PAUSE"}), json!([1, "PAUSE"])),
        (
            "pool_export",
            json!({"id": 2, "cascade": true, "destroy": false, "confirm": true}),
            json!([2, {"cascade": true, "destroy": false}]),
        ),
        ("pool_attachments", json!({"id": 1}), json!([1])),
        ("pool_get_disks", json!({"id": 1}), json!([1])),
        (
            "pool_replace_disk",
            json!({"id": 1, "label": "sdd", "disk": "sdh", "confirm": true}),
            json!([1, {"label": "sdd", "disk": "sdh", "force": false, "preserve_settings": true}]),
        ),
        ("dataset_list", json!({}), json!([[]])),
        ("dataset_list", json!({"pool": "tank"}), json!([[["pool", "=", "tank"]]])),
        ("dataset_get", json!({"id": "tank/media"}), json!(["tank/media"])),
        (
            "dataset_create",
            json!({"name": "tank/vm-disk", "type": "VOLUME", "volsize": 10737418240u64, "dedup": "OFF"}),
            json!([{"name": "tank/vm-disk", "type": "VOLUME", "volsize": 10737418240u64, "deduplication": "OFF",
                    "encryption": false, "inherit_encryption": true}]),
        ),
        (
            "dataset_update",
            json!({"id": "tank/documents", "dedup": "VERIFY", "quota": 0}),
            json!(["tank/documents", {"deduplication": "VERIFY", "quota": 0}]),
        ),
        (
            "dataset_delete",
            json!({"id": "tank/scratch", "recursive": true, "confirm": true}),
            json!(["tank/scratch", {"recursive": true, "force": false}]),
        ),
        (
            "dataset_set_permissions",
            json!({"id": "/mnt/tank/backups", "mode": "750", "options": {"recursive": true}}),
            json!([{"path": "/mnt/tank/backups", "mode": "750", "options": {"recursive": true}}]),
        ),
        ("dataset_get_quota", json!({"id": "tank/documents", "quota_type": "USER"}), json!(["tank/documents", "USER"])),
        (
            "dataset_set_quota",
            json!({"id": "tank/documents", "quotas": [{"quota_type": "USER", "id": "950", "quota_value": 0}]}),
            json!(["tank/documents", [{"quota_type": "USER", "id": "950", "quota_value": 0}]]),
        ),
        ("dataset_promote", json!({"id": "tank/a-clone"}), json!(["tank/a-clone"])),
        ("dataset_encryption_summary", json!({"id": "tank/secure"}), json!(["tank/secure"])),
        ("dataset_lock", json!({"id": "tank/secure"}), json!(["tank/secure"])),
        ("dataset_unlock", json!({"id": "tank/secure"}), json!(["tank/secure"])),
        (
            "dataset_unlock",
            json!({"id": "tank/secure", "unlock_options": {"recursive": true}}),
            json!(["tank/secure", {"recursive": true}]),
        ),
        ("snapshot_list", json!({}), json!([[], {}])),
        (
            "snapshot_list",
            json!({"dataset": "tank/documents", "limit": 10, "offset": 20}),
            json!([[["dataset", "=", "tank/documents"]], {"limit": 10, "offset": 20}]),
        ),
        ("snapshot_get", json!({"id": "tank/a@b"}), json!(["tank/a@b"])),
        (
            "snapshot_create",
            json!({"dataset": "tank/a", "name": "b"}),
            json!([{"dataset": "tank/a", "name": "b", "recursive": false, "vmware_sync": false}]),
        ),
        ("snapshot_delete", json!({"id": "tank/a@b", "confirm": true}), json!(["tank/a@b", {"defer": false}])),
        (
            "snapshot_clone",
            json!({"id": "tank/a@b", "dataset_dst": "tank/c"}),
            json!([{"snapshot": "tank/a@b", "dataset_dst": "tank/c"}]),
        ),
        (
            "snapshot_rollback",
            json!({"id": "tank/a@b", "recursive": true, "confirm": true}),
            json!(["tank/a@b", {"recursive": true, "recursive_clones": false, "force": false}]),
        ),
        ("snapshot_task_list", json!({}), json!([])),
        (
            "snapshot_task_create",
            json!({"dataset": "tank/a", "lifetime_value": 3, "lifetime_unit": "DAY"}),
            json!([{"dataset": "tank/a", "lifetime_value": 3, "lifetime_unit": "DAY"}]),
        ),
        ("snapshot_task_delete", json!({"id": 3}), json!([3])),
        ("snapshot_task_run", json!({"id": 1}), json!([1])),
    ]
}

#[test]
fn storage_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds(&catalog, "storage", &cases());
}

#[test]
fn pool_status_selects_only_the_health_fields() {
    let catalog = builtin();
    let params = catalog.action("pool_status").unwrap().check_and_build_params(&object(json!({"id": 1}))).unwrap();
    assert_eq!(params[0], 1);
    let select = params[1]["select"].as_array().unwrap();
    assert!(select.contains(&json!("topology")) && select.contains(&json!("scan")));
    assert!(!select.contains(&json!("guid")));
}

#[test]
fn storage_jobs_are_the_pool_changes_the_encryption_calls_and_setperm() {
    let catalog = builtin();
    let table = MethodTable::get(Release::V25_10);
    let jobs: Vec<&str> = catalog
        .actions()
        .filter(|a| a.category == "storage" && table.method(a.method.as_str()).is_some_and(|m| m.job))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        jobs,
        [
            "pool_create",
            "pool_update",
            "pool_scrub",
            "pool_export",
            "pool_replace_disk",
            "dataset_set_permissions",
            "dataset_encryption_summary",
            "dataset_lock",
            "dataset_unlock"
        ]
    );
}

#[test]
fn the_reference_gated_actions_keep_their_refusal_and_are_destructive() {
    let catalog = builtin();
    let gated: Vec<&str> =
        catalog.actions().filter(|a| a.category == "storage" && a.confirm.is_some()).map(|a| a.name.as_str()).collect();
    assert_eq!(
        gated,
        ["pool_create", "pool_export", "pool_replace_disk", "dataset_delete", "snapshot_delete", "snapshot_rollback"]
    );
    for name in gated {
        let action = catalog.action(name).unwrap();
        assert_eq!(action.confirm.as_deref(), Some("Operation not confirmed. Set confirm to true to proceed."));
        assert_eq!(action.risk, Risk::Destructive, "{name}");
        assert!(!action.confirmed(&object(json!({"confirm": "true"}))), "{name}: only the boolean true confirms");
    }
    // Classed destructive without a gate: they format disks or strip ACLs.
    for name in ["pool_update", "dataset_set_permissions"] {
        assert_eq!(catalog.action(name).unwrap().risk, Risk::Destructive, "{name}");
    }
}

#[test]
fn reads_are_read_only_and_writes_are_not() {
    let catalog = builtin();
    let reads: Vec<&str> = catalog
        .actions()
        .filter(|a| a.category == "storage" && a.annotations().read_only)
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        reads,
        [
            "pool_list",
            "pool_get",
            "pool_status",
            "pool_attachments",
            "pool_get_disks",
            "dataset_list",
            "dataset_get",
            "dataset_get_quota",
            "dataset_encryption_summary",
            "snapshot_list",
            "snapshot_get",
            "snapshot_task_list"
        ]
    );
}
