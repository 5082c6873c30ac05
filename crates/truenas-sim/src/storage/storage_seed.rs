//! The storage of a fresh simulated NAS: a home server with a 256 GB NVMe boot disk, a `tank`
//! pool of two mirrored pairs of 8 TB disks, a single 4 TB USB disk pool `offsite` for backups
//! that leave the house, and four blank 8 TB disks. `tank` holds shares, media, backups, an
//! encrypted dataset, the VMs' zvols (matching the seeded VMs) and a clone of one of them;
//! three periodic snapshot tasks (one disabled) and their snapshots complete it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::storage::Storage;
use crate::storage::dataset::{Crypto, Dataset, KeyFormat, Kind, Quota};
use crate::storage::dataset_props::COMMENTS;
use crate::storage::pool::{Pool, Scan, ScanState};
use crate::storage::pool_topology::{Disk, Vdev};
use crate::storage::snapshot::Snapshot;
use crate::storage::snapshot_task::SnapshotTask;
use crate::storage::zfs::EMPTY_DATASET;

const GIB: u64 = 1 << 30;
const HDD_8TB: u64 = 8_001_563_222_016;
const USB_4TB: u64 = 4_000_787_030_016;
/// 2024-03-02 10:00 UTC, when the pools were built.
const BUILT: u64 = 1_709_373_600;
const DAY: u64 = 86_400;

/// The passphrase of `tank/secure`. Demo data, public on purpose.
pub(crate) const SECURE_PASSPHRASE: &str = "correct horse battery staple";

fn disks() -> Vec<Disk> {
    let mut disks = vec![Disk { name: "nvme0n1".into(), size: 256_060_514_304, boot: true }];
    for letter in "abcdefgh".chars() {
        disks.push(Disk { name: format!("sd{letter}"), size: HDD_8TB, boot: false });
    }
    disks.push(Disk { name: "sdi".into(), size: USB_4TB, boot: false });
    disks
}

fn pool(id: i64, name: &str, guid: &str, data: Vec<Vdev>) -> Pool {
    Pool { data, ..Pool::new(id, name, guid.into()) }
}

/// (name, kind, written, created days after `BUILT`, local properties).
type SeedDataset = (&'static str, Kind, u64, u64, &'static [(&'static str, &'static str)]);

fn datasets() -> Vec<SeedDataset> {
    const ROOT: &[(&str, &str)] =
        &[("atime", "off"), ("acltype", "posix"), ("aclmode", "discard"), ("compression", "lz4"), ("xattr", "sa")];
    const SMB: &[(&str, &str)] = &[("casesensitivity", "insensitive"), ("acltype", "nfsv4"), ("aclmode", "restricted")];
    vec![
        ("tank", Kind::Filesystem, 208 * 1024, 0, ROOT),
        ("tank/backups", Kind::Filesystem, 1_126 * GIB, 1, &[("quota", "2199023255552")]),
        ("tank/documents", Kind::Filesystem, 180 * GIB, 1, SMB),
        ("tank/isos", Kind::Filesystem, 24 * GIB, 2, &[]),
        ("tank/media", Kind::Filesystem, 3_277 * GIB, 1, &[("recordsize", "1048576"), ("compression", "off")]),
        ("tank/media/photos", Kind::Filesystem, 640 * GIB, 1, &[]),
        ("tank/scratch", Kind::Filesystem, 12 * GIB, 30, &[("sync", "disabled")]),
        ("tank/secure", Kind::Filesystem, 8 * GIB, 40, &[]),
        ("tank/vms", Kind::Filesystem, EMPTY_DATASET, 5, &[]),
        (
            "tank/vms/haos-disk0",
            Kind::Volume,
            6 * GIB,
            60,
            &[("volsize", "34359738368"), ("refreservation", "34359738368")],
        ),
        (
            "tank/vms/ubuntu_server-disk0",
            Kind::Volume,
            18 * GIB,
            5,
            &[("volsize", "42949672960"), ("refreservation", "42949672960")],
        ),
        (
            "tank/vms/windows11-disk0",
            Kind::Volume,
            62 * GIB,
            6,
            &[("volsize", "107374182400"), ("refreservation", "107374182400")],
        ),
        ("offsite", Kind::Filesystem, 208 * 1024, 90, ROOT),
        ("offsite/documents", Kind::Filesystem, 176 * GIB, 90, SMB),
    ]
}

fn schedule(minute: &str, hour: &str, dow: &str) -> Map<String, Value> {
    let value =
        json!({"minute": minute, "hour": hour, "dom": "*", "month": "*", "dow": dow, "begin": "00:00", "end": "23:59"});
    value.as_object().cloned().unwrap_or_default()
}

fn task(
    id: i64,
    dataset: &str,
    recursive: bool,
    lifetime: (i64, &str),
    naming: &str,
    cron: Map<String, Value>,
) -> SnapshotTask {
    SnapshotTask {
        id,
        dataset: dataset.into(),
        recursive,
        lifetime_value: lifetime.0,
        lifetime_unit: lifetime.1.into(),
        enabled: true,
        exclude: Vec::new(),
        naming_schema: naming.into(),
        allow_empty: true,
        schedule: cron,
        last_run: None,
    }
}

/// Fills `storage` with the demo pools (ids 1 and 2), datasets, snapshots and tasks (ids 1-3).
pub(crate) fn seed(storage: &mut Storage) {
    storage.pools.set_disks(disks());
    let mirror = |disks: &[&str]| Vdev::from_request("MIRROR", disks);
    let mut tank = pool(1, "tank", "3977514226481726042", [mirror(&["sda", "sdb"]), mirror(&["sdc", "sdd"])].concat());
    tank.scan = Some(Scan {
        function: "SCRUB",
        state: ScanState::Finished,
        start: BUILT + 460 * DAY,
        end: Some(BUILT + 460 * DAY + 31_000),
        pause: None,
        percentage: 100.0,
        errors: 0,
    });
    storage.pools.insert(tank);
    storage.pools.insert(pool(2, "offsite", "11269386914204451713", Vdev::from_request("STRIPE", &["sdi"])));

    for (name, kind, written, day, props) in datasets() {
        storage.txg.next();
        let mut dataset = Dataset::filesystem(name, BUILT + day * DAY);
        dataset.kind = kind;
        dataset.written = written;
        for (key, value) in props {
            dataset.props.insert(key.to_string(), value.to_string());
        }
        if kind == Kind::Volume {
            dataset.props.insert("volblocksize".into(), "16384".into());
        }
        storage.datasets.insert(dataset);
    }
    if let Some(docs) = storage.datasets.get_mut("tank/documents") {
        docs.user_props.insert(COMMENTS.into(), "Family documents and scans".into());
        docs.perms.nontrivial_acl = true;
        docs.quotas.push(Quota {
            kind: "USER".into(),
            id: 950,
            quota: 100 * GIB,
            obj_quota: 0,
            used: 42 * GIB,
            obj_used: 18_204,
        });
    }
    if let Some(backups) = storage.datasets.get_mut("tank/backups") {
        backups.perms.mode = "770".into();
        backups.perms.uid = 950;
        backups.perms.gid = 950;
    }
    if let Some(secure) = storage.datasets.get_mut("tank/secure") {
        secure.crypto = Some(Crypto {
            format: KeyFormat::Passphrase,
            secret: SECURE_PASSPHRASE.into(),
            algorithm: "AES-256-GCM".into(),
            pbkdf2iters: 350_000,
            locked: false,
        });
    }

    // Snapshots, oldest first: (dataset, name, days after BUILT, unique bytes).
    let snapshots: [(&str, &str, u64, u64); 13] = [
        ("tank/media", "before-reorg", 454, 12 * GIB),
        ("tank/media/photos", "before-reorg", 454, 2 * GIB),
        ("tank/vms/ubuntu_server-disk0", "pre-upgrade", 456, 3 * GIB),
        ("tank/documents", "auto-2025-06-10_00-00", 465, 310 * 1024 * 1024),
        ("tank/documents", "auto-2025-06-11_00-00", 466, 120 * 1024 * 1024),
        ("tank/documents", "auto-2025-06-12_00-00", 467, 96 * 1024 * 1024),
        ("tank/documents", "auto-2025-06-13_00-00", 468, 204 * 1024 * 1024),
        ("tank/documents", "auto-2025-06-14_00-00", 469, 48 * 1024 * 1024),
        ("offsite/documents", "auto-2025-06-14_00-00", 469, 0),
        ("tank/vms", "vms-2025-06-08_03-00", 463, 0),
        ("tank/vms/haos-disk0", "vms-2025-06-08_03-00", 463, GIB),
        ("tank/vms/ubuntu_server-disk0", "vms-2025-06-08_03-00", 463, 700 * 1024 * 1024),
        ("tank/vms/windows11-disk0", "vms-2025-06-08_03-00", 463, 4 * GIB),
    ];
    let mut ordered = snapshots.to_vec();
    ordered.sort_by_key(|(_, _, day, _)| *day);
    for (dataset, name, day, unique) in ordered {
        let referenced = storage.datasets.get(dataset).map_or(0, |d| d.written);
        let snap = Snapshot {
            dataset: dataset.into(),
            name: name.into(),
            createtxg: storage.txg.next(),
            created: BUILT + day * DAY,
            referenced,
            unique,
            hold: dataset == "tank/documents" && name.ends_with("14_00-00"),
            user_props: BTreeMap::new(),
            defer_destroy: false,
        };
        storage.snapshots.insert(snap);
    }
    // A test copy of the Ubuntu VM's disk, cloned before an upgrade.
    storage.txg.next();
    let mut clone = Dataset::filesystem("tank/vms/ubuntu_server-disk0-clone", BUILT + 456 * DAY);
    clone.kind = Kind::Volume;
    clone.written = 2 * GIB;
    clone.origin = Some("tank/vms/ubuntu_server-disk0@pre-upgrade".into());
    for (key, value) in [("volsize", "42949672960"), ("volblocksize", "16384")] {
        clone.props.insert(key.into(), value.into());
    }
    storage.datasets.insert(clone);

    let mut isos = task(3, "tank/isos", false, (8, "WEEK"), "weekly-%Y-%m-%d_%H-%M", schedule("00", "4", "sat"));
    isos.enabled = false;
    for t in [
        task(1, "tank/documents", false, (2, "WEEK"), "auto-%Y-%m-%d_%H-%M", schedule("00", "0", "*")),
        task(2, "tank/vms", true, (4, "WEEK"), "vms-%Y-%m-%d_%H-%M", schedule("00", "3", "sun")),
        isos,
    ] {
        storage.tasks.insert(t);
    }
}

/// The demo storage, for tests.
#[cfg(test)]
pub(crate) fn seeded() -> Storage {
    let mut storage = Storage::default();
    seed(&mut storage);
    storage
}
