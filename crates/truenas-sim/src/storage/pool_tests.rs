//! Tests of `pool.rs`: pools, their disks, creation, updates, replacement and scrubs.

use serde_json::{Map, Value, json};

use super::*;
use crate::json::object;
use crate::storage::storage_seed::seeded;
use crate::storage::{Storage, pool_entry};
use truenas_api::schema::Release;

fn reasons(f: Failure) -> String {
    f.reason()
}

fn create_pool(s: &mut Storage, data: &Map<String, Value>) -> Result<i64, Failure> {
    s.pools.create(data, &mut s.datasets, &mut s.txg)
}

#[test]
fn the_seed_has_a_mirrored_tank_a_usb_pool_and_four_blank_disks() {
    let s = seeded();
    let names: Vec<&str> = s.pools.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["tank", "offsite"]);
    assert_eq!(s.pools.disks_of(Some(1)).unwrap(), ["sda", "sdb", "sdc", "sdd"]);
    let unused: Vec<&str> = s.pools.unused_disks().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(unused, ["sde", "sdf", "sdg", "sdh"], "the boot disk is never offered");
    let entry = pool_entry::entry(&s.space(), s.pools.lookup(1).unwrap(), Release::V25_10);
    assert_eq!(entry["size"], json!(2 * 8_001_563_222_016u64));
    assert_eq!(entry["topology"]["data"][0]["type"], "MIRROR");
    assert_eq!(entry["topology"]["data"][1]["name"], "mirror-1");
    assert_eq!(entry["topology"]["data"][0]["children"][1]["disk"], "sdb");
    assert_eq!(entry["scan"]["state"], "FINISHED");
    assert!(entry["allocated"].as_u64().unwrap() > 5 << 40, "{}", entry["allocated"]);
    assert!(entry.get("all_sed").is_none());
    assert_eq!(pool_entry::entry(&s.space(), s.pools.lookup(1).unwrap(), Release::V26_0)["all_sed"], false);
    let offsite = pool_entry::entry(&s.space(), s.pools.lookup(2).unwrap(), Release::V25_10);
    assert_eq!(offsite["topology"]["data"][0]["type"], "DISK", "a stripe disk is a top-level vdev");
}

#[test]
fn create_checks_name_widths_types_and_disks_like_the_middleware() {
    let s = seeded();
    let create = |name: &str, topology: Value| {
        s.pools.check_create(&object(json!({"name": name, "topology": topology}))).map_err(reasons)
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
    let id = create_pool(&mut s, &object(data)).unwrap();
    assert_eq!(id, 3);
    assert_eq!(s.pools.disks_of(Some(id)).unwrap(), ["sde", "sdf", "sdg"]);
    assert_eq!(s.datasets.effective_raw("vault", "compression"), "lz4");
    assert_eq!(s.datasets.effective_raw("vault", "atime"), "off");
    let entry = pool_entry::entry(&s.space(), s.pools.lookup(id).unwrap(), Release::V25_10);
    assert_eq!(entry["size"], json!(8_001_563_222_016u64), "a mirror holds one disk's worth");
    assert_eq!(entry["topology"]["spare"][0]["disk"], "sdg");
    let unused: Vec<&str> = s.pools.unused_disks().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(unused, ["sdh"]);
    let encrypted =
        json!({"name": "safe", "encryption": true, "topology": {"data": [{"type": "STRIPE", "disks": ["sdh"]}]}});
    let err = create_pool(&mut s, &object(encrypted)).unwrap_err().reason();
    assert!(err.contains("pool_create.encryption_options.key: Please provide a key"), "{err}");
}

#[test]
fn update_adds_spares_and_vdevs_of_the_same_type_and_sets_autotrim() {
    let mut s = seeded();
    let err =
        s.pools.update(1, &object(json!({"topology": {"data": [{"type": "RAIDZ1", "disks": ["sde", "sdf", "sdg"]}]}})));
    assert!(err.unwrap_err().reason().contains("different data vdev types (MIRROR and RAIDZ1)"));
    s.pools.update(1, &object(json!({"autotrim": "ON", "topology": {"spares": ["sdg"]}}))).unwrap();
    let pool = s.pools.lookup(1).unwrap();
    assert!(pool.autotrim);
    assert_eq!(pool.spares.len(), 1);
    s.pools.update(1, &object(json!({"topology": {"data": [{"type": "MIRROR", "disks": ["sde", "sdf"]}]}}))).unwrap();
    assert_eq!(s.pools.lookup(1).unwrap().data.len(), 3);
    assert_eq!(s.pools.update(9, &Map::new()).unwrap_err(), pool_not_found(9));
}

#[test]
fn replace_swaps_a_member_for_an_unused_disk_and_resilvers() {
    let mut s = seeded();
    let err = s.pools.replace_disk(1, "sdq", "sda").unwrap_err().reason();
    assert!(err.contains("[ENOENT] options.disk: Disk not found."), "{err}");
    assert!(err.contains("[ENOENT] options.label: Label sdq not found."), "{err}");
    let guid = s.pools.lookup(1).unwrap().data[1].members[1].guid.clone();
    s.pools.replace_disk(1, &guid, "sdh").unwrap();
    assert_eq!(s.pools.disks_of(Some(1)).unwrap(), ["sda", "sdb", "sdc", "sdh"]);
    assert_eq!(s.pools.lookup(1).unwrap().scan.as_ref().unwrap().function, "RESILVER");
    s.pools.replace_disk(1, "sda1", "sdd").unwrap();
    assert_eq!(s.pools.disks_of(Some(1)).unwrap(), ["sdd", "sdb", "sdc", "sdh"]);
    let err = s.pools.replace_disk(1, "sdb", "sdi").unwrap_err();
    assert!(err.reason().contains("Disk not found."), "sdi belongs to the offsite pool");
}

#[test]
fn a_scrub_runs_pauses_resumes_finishes_and_refuses_doubles() {
    let mut s = seeded();
    assert!(s.pools.scrub_halt(1, true).unwrap_err().reason().contains("there is no active scrub"));
    s.pools.scrub_start(1).unwrap();
    let again = s.pools.scrub_start(1).unwrap_err().reason();
    assert_eq!(again, "[EFAULT] cannot scrub tank: currently scrubbing; use 'zpool scrub -s' to cancel current scrub");
    assert_eq!(s.pools.scrub_advance(1, 50.0).unwrap().percentage, 50.0);
    s.pools.scrub_halt(1, false).unwrap();
    assert_eq!(s.pools.scrub_advance(1, 75.0).unwrap().percentage, 50.0, "a paused scrub does not move");
    s.pools.scrub_start(1).unwrap();
    let done = s.pools.scrub_advance(1, 100.0).unwrap();
    assert_eq!(done.state, ScanState::Finished);
    assert!(done.end.is_some());
    s.pools.scrub_start(1).unwrap();
    s.pools.scrub_halt(1, true).unwrap();
    assert_eq!(s.pools.lookup(1).unwrap().scan.as_ref().unwrap().state, ScanState::Canceled);
}
