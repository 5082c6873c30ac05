use serde_json::{Map, Value, json};

use super::*;
use crate::json::object;
use crate::storage::snapshot_task::SnapshotTask;
use crate::storage::storage_seed::seeded;
use truenas_api::schema::Release;

fn reasons(f: Failure) -> String {
    f.reason()
}

#[test]
fn the_seed_has_a_mirrored_tank_a_usb_pool_and_four_blank_disks() {
    let s = seeded();
    let names: Vec<&str> = s.pools.values().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["tank", "offsite"]);
    assert_eq!(s.pool_disks(Some(1)).unwrap(), ["sda", "sdb", "sdc", "sdd"]);
    let unused: Vec<&str> = s.unused_disks().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(unused, ["sde", "sdf", "sdg", "sdh"], "the boot disk is never offered");
    let entry = s.pool_entry(s.pool(1).unwrap(), Release::V25_10);
    assert_eq!(entry["size"], json!(2 * 8_001_563_222_016u64));
    assert_eq!(entry["topology"]["data"][0]["type"], "MIRROR");
    assert_eq!(entry["topology"]["data"][1]["name"], "mirror-1");
    assert_eq!(entry["topology"]["data"][0]["children"][1]["disk"], "sdb");
    assert_eq!(entry["scan"]["state"], "FINISHED");
    assert!(entry["allocated"].as_u64().unwrap() > 5 << 40, "{}", entry["allocated"]);
    assert!(entry.get("all_sed").is_none());
    assert_eq!(s.pool_entry(s.pool(1).unwrap(), Release::V26_0)["all_sed"], false);
    let offsite = s.pool_entry(s.pool(2).unwrap(), Release::V25_10);
    assert_eq!(offsite["topology"]["data"][0]["type"], "DISK", "a stripe disk is a top-level vdev");
}

#[test]
fn create_checks_name_widths_types_and_disks_like_the_middleware() {
    let s = seeded();
    let create = |name: &str, topology: Value| {
        s.check_pool_create(&object(json!({"name": name, "topology": topology}))).map_err(reasons)
    };
    let mirror = json!({"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}]});
    assert_eq!(
        create("tank", mirror.clone()),
        Err("[EEXIST] pool_create.name: A pool with this name already exists.\n".into())
    );
    assert_eq!(create("9lives", mirror.clone()), Err("[EINVAL] pool_create.name: Invalid pool name\n".into()));
    assert_eq!(create("mirror2", mirror.clone()), Err("[EINVAL] pool_create.name: Invalid pool name\n".into()));
    assert_eq!(
        create("vault", json!({"data": [{"type": "RAIDZ2", "disks": ["sde", "sdf", "sdg"]}]})),
        Err("[EINVAL] pool_create.topology.data.0.disks: You need at least 4 disk(s) for this vdev type.\n".into())
    );
    let mixed = json!({"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}, {"type": "STRIPE", "disks": ["sdg"]}]});
    assert!(create("vault", mixed).unwrap_err().contains("different data vdev types (MIRROR and STRIPE)"));
    let busy = create("vault", json!({"data": [{"type": "MIRROR", "disks": ["sda", "sdz"]}]})).unwrap_err();
    assert!(busy.contains("pool_create.topology: The following disks were not found in system: sdz."), "{busy}");
    assert!(busy.contains("pool_create.topology: The following disks are already in use: sda."), "{busy}");
    let twice = create("vault", json!({"data": [{"type": "MIRROR", "disks": ["sde", "sde"]}]})).unwrap_err();
    assert!(twice.contains("already in use: sde."), "{twice}");
    let two_logs = json!({"data": [{"type": "STRIPE", "disks": ["sde"]}], "log": [{"type": "STRIPE", "disks": ["sdf"]}, {"type": "STRIPE", "disks": ["sdg"]}]});
    assert!(
        create("vault", two_logs).unwrap_err().contains("Only one row for the virtual device of type log is allowed.")
    );
    assert_eq!(create("vault", mirror), Ok(()));
}

#[test]
fn a_created_pool_has_a_root_dataset_with_the_pool_defaults_and_uses_its_disks() {
    let mut s = seeded();
    let data = json!({"name": "vault", "topology": {"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}], "spares": ["sdg"]}});
    let id = s.create_pool(&object(data)).unwrap();
    assert_eq!(id, 3);
    assert_eq!(s.pool_disks(Some(id)).unwrap(), ["sde", "sdf", "sdg"]);
    assert_eq!(s.effective_raw("vault", "compression"), "lz4");
    assert_eq!(s.effective_raw("vault", "atime"), "off");
    let entry = s.pool_entry(s.pool(id).unwrap(), Release::V25_10);
    assert_eq!(entry["size"], json!(8_001_563_222_016u64), "a mirror holds one disk's worth");
    assert_eq!(entry["topology"]["spare"][0]["disk"], "sdg");
    let unused: Vec<&str> = s.unused_disks().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(unused, ["sdh"]);
    let encrypted =
        json!({"name": "safe", "encryption": true, "topology": {"data": [{"type": "STRIPE", "disks": ["sdh"]}]}});
    let err = s.create_pool(&object(encrypted)).unwrap_err().reason();
    assert!(err.contains("pool_create.encryption_options.key: Please provide a key"), "{err}");
}

#[test]
fn update_adds_spares_and_vdevs_of_the_same_type_and_sets_autotrim() {
    let mut s = seeded();
    let err =
        s.update_pool(1, &object(json!({"topology": {"data": [{"type": "RAIDZ1", "disks": ["sde", "sdf", "sdg"]}]}})));
    assert!(err.unwrap_err().reason().contains("different data vdev types (MIRROR and RAIDZ1)"));
    s.update_pool(1, &object(json!({"autotrim": "ON", "topology": {"spares": ["sdg"]}}))).unwrap();
    let pool = s.pool(1).unwrap();
    assert!(pool.autotrim);
    assert_eq!(pool.spares.len(), 1);
    s.update_pool(1, &object(json!({"topology": {"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}]}}))).unwrap();
    assert_eq!(s.pool(1).unwrap().data.len(), 3);
    assert_eq!(s.update_pool(9, &Map::new()).unwrap_err(), pool_not_found(9));
}

#[test]
fn replace_swaps_a_member_for_an_unused_disk_and_resilvers() {
    let mut s = seeded();
    let err = s.replace_disk(1, "sdq", "sda").unwrap_err().reason();
    assert!(err.contains("[ENOENT] options.disk: Disk not found."), "{err}");
    assert!(err.contains("[ENOENT] options.label: Label sdq not found."), "{err}");
    let guid = s.pool(1).unwrap().data[1].members[1].guid.clone();
    s.replace_disk(1, &guid, "sdh").unwrap();
    assert_eq!(s.pool_disks(Some(1)).unwrap(), ["sda", "sdb", "sdc", "sdh"]);
    assert_eq!(s.pool(1).unwrap().scan.as_ref().unwrap().function, "RESILVER");
    s.replace_disk(1, "sda1", "sdd").unwrap();
    assert_eq!(s.pool_disks(Some(1)).unwrap(), ["sdd", "sdb", "sdc", "sdh"]);
    let err = s.replace_disk(1, "sdb", "sdi").unwrap_err();
    assert!(err.reason().contains("Disk not found."), "sdi belongs to the offsite pool");
}

#[test]
fn a_scrub_runs_pauses_resumes_finishes_and_refuses_doubles() {
    let mut s = seeded();
    assert!(s.scrub_halt(1, true).unwrap_err().reason().contains("there is no active scrub"));
    s.scrub_start(1).unwrap();
    let again = s.scrub_start(1).unwrap_err().reason();
    assert_eq!(again, "[EFAULT] cannot scrub tank: currently scrubbing; use 'zpool scrub -s' to cancel current scrub");
    assert_eq!(s.scrub_advance(1, 50.0).unwrap().percentage, 50.0);
    s.scrub_halt(1, false).unwrap();
    assert_eq!(s.scrub_advance(1, 75.0).unwrap().percentage, 50.0, "a paused scrub does not move");
    s.scrub_start(1).unwrap();
    let done = s.scrub_advance(1, 100.0).unwrap();
    assert_eq!(done.state, ScanState::Finished);
    assert!(done.end.is_some());
    s.scrub_start(1).unwrap();
    s.scrub_halt(1, true).unwrap();
    assert_eq!(s.pool(1).unwrap().scan.as_ref().unwrap().state, ScanState::Canceled);
}

#[test]
fn export_removes_the_pool_and_its_datasets_and_frees_its_disks() {
    let mut s = seeded();
    s.tasks.insert(9, task_on("offsite/documents", 9));
    assert_eq!(s.export_pool(2, false, false).unwrap(), "offsite");
    assert!(s.pool(2).is_err());
    assert!(!s.datasets.keys().any(|n| n.starts_with("offsite")));
    assert!(!s.snapshots.keys().any(|n| n.starts_with("offsite")));
    assert!(!s.tasks[&9].enabled, "without cascade a task on the pool is only disabled");
    assert!(s.unused_disks().iter().any(|d| d.name == "sdi"));
    s.export_pool(1, true, true).unwrap();
    assert!(s.tasks.values().all(|t| t.dataset.starts_with("offsite")), "cascade deletes the tasks");
}

/// An enabled daily task on `dataset`.
fn task_on(dataset: &str, id: i64) -> SnapshotTask {
    SnapshotTask {
        id,
        dataset: dataset.into(),
        recursive: false,
        lifetime_value: 1,
        lifetime_unit: "DAY".into(),
        enabled: true,
        exclude: Vec::new(),
        naming_schema: "auto-%Y-%m-%d_%H-%M".into(),
        allow_empty: true,
        schedule: Map::new(),
        last_run: None,
    }
}
