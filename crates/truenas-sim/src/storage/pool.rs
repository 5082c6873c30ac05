//! Pools: a pool, and [`Pools`], the disks of the machine with the pools built on them and what
//! TrueNAS lets a client do with them (create with its root dataset, add vdevs and spares, set
//! autotrim, replace a disk, scrub). The rules on a topology (minimum widths, one vdev type per
//! class, free disks) are in `pool_topology.rs`; the `pool.query` entry is built in
//! `pool_entry.rs`; `pool.export`, which takes datasets, snapshots and tasks with the pool, is
//! `Storage`'s.

use serde_json::{Map, Value};

use crate::failure::{Failure, errno};
use crate::storage::dataset::{Dataset, Datasets};
use crate::storage::dataset_crypto;
use crate::storage::pool_topology::{Class, Disk, Vdev, check_topology, new_member};
use crate::storage::zfs::{EMPTY_DATASET, Txg, check, invalid, new_guid, now_secs, pool_name};
use crate::table::Rows;

/// Whether a scan (scrub or resilver) runs, ended or was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanState {
    Scanning,
    Finished,
    Canceled,
}

/// The last scan of a pool, as `zpool status` reports it.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub(crate) function: &'static str,
    pub(crate) state: ScanState,
    pub(crate) start: u64,
    pub(crate) end: Option<u64>,
    pub(crate) pause: Option<u64>,
    pub(crate) percentage: f64,
    pub(crate) errors: u64,
}

/// One imported pool.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) guid: String,
    pub(crate) data: Vec<Vdev>,
    pub(crate) log: Vec<Vdev>,
    pub(crate) cache: Vec<Vdev>,
    pub(crate) special: Vec<Vdev>,
    pub(crate) dedup: Vec<Vdev>,
    /// Hot spares: single disks.
    pub(crate) spares: Vec<Vdev>,
    pub(crate) autotrim: bool,
    pub(crate) scan: Option<Scan>,
}

impl Pool {
    /// A pool with no vdevs yet, no scan and autotrim off.
    pub(crate) fn new(id: i64, name: &str, guid: String) -> Pool {
        Pool {
            id,
            name: name.into(),
            guid,
            data: Vec::new(),
            log: Vec::new(),
            cache: Vec::new(),
            special: Vec::new(),
            dedup: Vec::new(),
            spares: Vec::new(),
            autotrim: false,
            scan: None,
        }
    }
}

impl Pool {
    /// Every vdev of every class, with its class.
    pub(crate) fn vdevs(&self) -> impl Iterator<Item = (Class, &Vdev)> {
        let classes = [
            (Class::Data, &self.data),
            (Class::Log, &self.log),
            (Class::Cache, &self.cache),
            (Class::Special, &self.special),
            (Class::Dedup, &self.dedup),
            (Class::Spare, &self.spares),
        ];
        classes.into_iter().flat_map(|(class, vdevs)| vdevs.iter().map(move |v| (class, v)))
    }

    /// The disk names the pool uses, in topology order.
    pub(crate) fn disk_names(&self) -> Vec<String> {
        self.vdevs().flat_map(|(_, v)| v.members.iter().map(|m| m.disk.clone())).collect()
    }

    fn class_mut(&mut self, class: Class) -> &mut Vec<Vdev> {
        match class {
            Class::Data => &mut self.data,
            Class::Log => &mut self.log,
            Class::Cache => &mut self.cache,
            Class::Special => &mut self.special,
            Class::Dedup => &mut self.dedup,
            Class::Spare => &mut self.spares,
        }
    }

    /// Usable bytes of the data vdevs.
    pub(crate) fn capacity(&self, disks: &[Disk]) -> u64 {
        self.data.iter().map(|v| v.capacity(disks)).sum()
    }
}

pub(crate) fn pool_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Pool {id} does not exist"))
}

/// Names ZFS reserves for vdev types, which no pool may take.
const RESERVED_POOL_NAMES: [&str; 9] =
    ["mirror", "raidz", "draid", "spare", "log", "cache", "special", "dedup", "boot-pool"];

/// ZFS's pool name rules: a letter first, then letters, digits and `_-.:`, no reserved word.
fn valid_pool_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_-.: ".contains(c));
    let lower = name.to_ascii_lowercase();
    first_ok && rest_ok && !RESERVED_POOL_NAMES.iter().any(|r| lower.starts_with(r))
}

/// The machine's disks and the pools built on them.
#[derive(Debug, Default)]
pub(crate) struct Pools {
    rows: Rows<Pool>,
    /// Every disk of the machine; a pool's vdevs name them.
    disks: Vec<Disk>,
}

impl Pools {
    /// Every pool, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Pool> {
        self.rows.values()
    }

    /// The pool holding dataset (or snapshot) `name`.
    pub(crate) fn of(&self, name: &str) -> Option<&Pool> {
        let pool = pool_name(name);
        self.rows.values().find(|p| p.name == pool)
    }

    /// Usable bytes of `pool`.
    pub(crate) fn size(&self, pool: &Pool) -> u64 {
        pool.capacity(&self.disks)
    }

    /// The machine's disks.
    pub(crate) fn disks(&self) -> &[Disk] {
        &self.disks
    }

    /// Sets the machine's disks (the demo data).
    pub(crate) fn set_disks(&mut self, disks: Vec<Disk>) {
        self.disks = disks;
    }

    /// Stores a pool as given (the demo data); later ids follow it.
    pub(crate) fn insert(&mut self, pool: Pool) {
        self.rows.insert_at(pool.id, pool);
    }

    /// Takes pool `id` out (`pool.export`).
    pub(crate) fn remove(&mut self, id: i64) -> Result<Pool, Failure> {
        self.rows.remove(id).ok_or_else(|| pool_not_found(id))
    }

    fn unused_disk_names(&self) -> Vec<String> {
        self.unused_disks().iter().map(|d| d.name.clone()).collect()
    }

    pub(crate) fn lookup(&self, id: i64) -> Result<&Pool, Failure> {
        self.rows.get(id).ok_or_else(|| pool_not_found(id))
    }

    fn lookup_mut(&mut self, id: i64) -> Result<&mut Pool, Failure> {
        self.rows.get_mut(id).ok_or_else(|| pool_not_found(id))
    }

    /// Disk names no pool uses and no boot pool holds.
    pub(crate) fn unused_disks(&self) -> Vec<&Disk> {
        let used: Vec<String> = self.rows.values().flat_map(Pool::disk_names).collect();
        self.disks.iter().filter(|d| !d.boot && !used.contains(&d.name)).collect()
    }

    /// `pool.create` checks, run before the job formats anything.
    pub(crate) fn check_create(&self, data: &Map<String, Value>) -> Result<(), Failure> {
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
        let mut problems = Vec::new();
        if self.rows.values().any(|p| p.name == name) {
            problems.push(invalid("pool_create.name", "A pool with this name already exists.", errno::EEXIST));
        } else if !valid_pool_name(name) {
            problems.push(invalid("pool_create.name", "Invalid pool name", errno::EINVAL));
        }
        if data.get("encryption").and_then(Value::as_bool) == Some(true) {
            let options = data.get("encryption_options").cloned().unwrap_or(Value::Null);
            problems.extend(dataset_crypto::check_encryption_options(&options, "pool_create.encryption_options"));
        }
        check(problems)?;
        let topology = data.get("topology").cloned().unwrap_or(Value::Null);
        check_topology("pool_create", &topology, &[], &self.disks, &self.unused_disk_names())
    }

    /// `pool.create`: builds the pool and its root dataset. Returns the new id.
    pub(crate) fn create(
        &mut self,
        data: &Map<String, Value>,
        datasets: &mut Datasets,
        txg: &mut Txg,
    ) -> Result<i64, Failure> {
        self.check_create(data)?;
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let id = self.rows.insert_with(|id| {
            let mut pool = Pool::new(id, &name, new_guid());
            add_topology(&mut pool, data.get("topology").unwrap_or(&Value::Null));
            pool
        });
        txg.next();
        let mut root = Dataset::filesystem(&name, now_secs());
        // What `pool.create` sets on the root dataset.
        for (prop, value) in
            [("atime", "off"), ("acltype", "posix"), ("aclmode", "discard"), ("compression", "lz4"), ("xattr", "sa")]
        {
            root.props.insert(prop.to_string(), value.to_string());
        }
        if data.get("encryption").and_then(Value::as_bool) == Some(true) {
            let options = data.get("encryption_options").cloned().unwrap_or(Value::Null);
            root.crypto = Some(dataset_crypto::crypto_from_options(&options));
        }
        root.written = EMPTY_DATASET;
        datasets.insert(root);
        Ok(id)
    }

    /// `pool.update` checks: the pool exists and any new topology fits it.
    pub(crate) fn check_update(&self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        let pool = self.lookup(id)?;
        match data.get("topology") {
            Some(topology) => {
                let old: Vec<(Class, String)> = pool.vdevs().map(|(c, v)| (c, v.request_type())).collect();
                check_topology("pool_update", topology, &old, &self.disks, &self.unused_disk_names())
            }
            None => Ok(()),
        }
    }

    /// `pool.update`: autotrim and new vdevs or spares.
    pub(crate) fn update(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        self.check_update(id, data)?;
        let pool = self.lookup_mut(id)?;
        if let Some(autotrim) = data.get("autotrim").and_then(Value::as_str) {
            pool.autotrim = autotrim == "ON";
        }
        if let Some(topology) = data.get("topology") {
            add_topology(pool, topology);
        }
        Ok(())
    }

    /// `pool.replace`: puts `disk` where the member named by `label` (guid, disk or device
    /// name) was, then resilvers.
    pub(crate) fn replace_disk(&mut self, id: i64, label: &str, disk: &str) -> Result<(), Failure> {
        let pool = self.lookup(id)?;
        let mut problems = Vec::new();
        let new_disk = self.unused_disks().into_iter().find(|d| d.name == disk).cloned();
        if new_disk.is_none() {
            problems.push(invalid("options.disk", "Disk not found.", errno::ENOENT));
        }
        let found = pool.vdevs().find_map(|(class, v)| {
            let at = v.members.iter().position(|m| m.matches(label))?;
            Some((class, v.guid.clone(), at))
        });
        if found.is_none() {
            problems.push(invalid("options.label", format!("Label {label} not found."), errno::ENOENT));
        }
        check(problems)?;
        let (Some(new_disk), Some((class, vdev_guid, at))) = (new_disk, found) else { return Ok(()) };
        let old_name = pool
            .vdevs()
            .find(|(_, v)| v.guid == vdev_guid)
            .and_then(|(_, v)| v.members.get(at))
            .map(|m| m.disk.clone())
            .unwrap_or_default();
        let old_size = self.disks.iter().find(|d| d.name == old_name).map_or(0, |d| d.size);
        if new_disk.size < old_size {
            return Err(Failure::fault(format!("cannot replace {old_name} with {disk}: device is too small")));
        }
        let pool = self.lookup_mut(id)?;
        if let Some(member) =
            pool.class_mut(class).iter_mut().find(|v| v.guid == vdev_guid).and_then(|v| v.members.get_mut(at))
        {
            *member = new_member(disk);
        }
        let now = now_secs();
        pool.scan = Some(Scan {
            function: "RESILVER",
            state: ScanState::Finished,
            start: now,
            end: Some(now),
            pause: None,
            percentage: 100.0,
            errors: 0,
        });
        Ok(())
    }

    /// `zpool scrub`: starts a scrub, or resumes a paused one.
    pub(crate) fn scrub_start(&mut self, id: i64) -> Result<(), Failure> {
        let pool = self.lookup_mut(id)?;
        if let Some(scan) = pool.scan.as_mut().filter(|s| s.state == ScanState::Scanning) {
            if scan.pause.take().is_some() {
                return Ok(());
            }
            let what = if scan.function == "SCRUB" { "currently scrubbing" } else { "currently resilvering" };
            return Err(Failure::fault(format!(
                "cannot scrub {}: {what}; use 'zpool scrub -s' to cancel current scrub",
                pool.name
            )));
        }
        pool.scan = Some(Scan {
            function: "SCRUB",
            state: ScanState::Scanning,
            start: now_secs(),
            end: None,
            pause: None,
            percentage: 0.0,
            errors: 0,
        });
        Ok(())
    }

    /// `zpool scrub -s` (`stop`) or `zpool scrub -p` (`!stop`).
    pub(crate) fn scrub_halt(&mut self, id: i64, stop: bool) -> Result<(), Failure> {
        let pool = self.lookup_mut(id)?;
        let verb = if stop { "cancel" } else { "pause" };
        let Some(scan) = pool.scan.as_mut().filter(|s| s.state == ScanState::Scanning && s.function == "SCRUB") else {
            return Err(Failure::fault(format!("cannot {verb} scrubbing {}: there is no active scrub", pool.name)));
        };
        if stop {
            scan.state = ScanState::Canceled;
            scan.end = Some(now_secs());
            scan.pause = None;
        } else {
            scan.pause = Some(now_secs());
        }
        Ok(())
    }

    /// Moves a running scrub to `percent`; finishes it at 100. Returns the scan as it now is,
    /// `None` once the pool is gone.
    pub(crate) fn scrub_advance(&mut self, id: i64, percent: f64) -> Option<Scan> {
        let pool = self.rows.get_mut(id)?;
        let scan = pool.scan.as_mut()?;
        if scan.function == "SCRUB" && scan.state == ScanState::Scanning && scan.pause.is_none() {
            scan.percentage = percent.min(100.0);
            if percent >= 100.0 {
                scan.state = ScanState::Finished;
                scan.end = Some(now_secs());
            }
        }
        Some(scan.clone())
    }

    /// `pool.get_disks`: the disks of one pool, or of every pool.
    pub(crate) fn disks_of(&self, id: Option<i64>) -> Result<Vec<String>, Failure> {
        match id {
            Some(id) => Ok(self.lookup(id)?.disk_names()),
            None => Ok(self.rows.values().flat_map(Pool::disk_names).collect()),
        }
    }
}

/// Appends the vdevs and spares of a (checked) topology to `pool`.
fn add_topology(pool: &mut Pool, topology: &Value) {
    for class in [Class::Data, Class::Log, Class::Cache, Class::Special, Class::Dedup] {
        let Some(rows) = topology.get(class.key()).and_then(Value::as_array) else { continue };
        for row in rows {
            let kind = row.get("type").and_then(Value::as_str).unwrap_or("STRIPE");
            let disks: Vec<&str> = row
                .get("disks")
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            pool.class_mut(class).extend(Vdev::from_request(kind, &disks));
        }
    }
    if let Some(spares) = topology.get("spares").and_then(Value::as_array) {
        pool.spares.extend(spares.iter().filter_map(Value::as_str).flat_map(|d| Vdev::from_request("STRIPE", &[d])));
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
