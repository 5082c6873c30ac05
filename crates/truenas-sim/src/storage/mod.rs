//! The storage domain: disks, pools, datasets and zvols, snapshots, periodic snapshot tasks and
//! the files under `/mnt` (`disk.*`, `pool.*`, `pool.dataset.*`, `pool.snapshot*`,
//! `zfs.snapshot.*`, `filesystem.*`).
//!
//! ZFS state, from the bottom up (a file uses only the files above it in this list):
//! - `zfs`: ZFS's conventions (names, sizes, times, guids, the transaction group counter,
//!   validation shorthands); `dataset_props`: the ZFS properties and how they show.
//! - `pool_topology`: the machine's disks as pools see them, vdevs, and the topology checks.
//! - `dataset`: a dataset and [`Datasets`], every dataset by name with the queries that read
//!   only datasets (inheritance, children, encryption roots); `dataset_crypto` (lock, unlock,
//!   the encryption checks) and `dataset_perm` (`filesystem.setperm` on a dataset, quotas) work
//!   on datasets alone.
//! - `pool`: [`Pools`], the disks and the pools built on them (create, update, replace a disk,
//!   scrub).
//! - `snapshot`: [`Snapshots`] (create, delete, clone, rollback, and `pool.dataset.promote`,
//!   each given the datasets it reads or changes).
//! - `snapshot_task`: [`SnapshotTasks`], the periodic snapshot tasks (a run takes snapshots).
//! - `space`: the space model, read across pools, datasets and snapshots; `dataset_entry` and
//!   `pool_entry` render the `pool.dataset.query` and `pool.query` entries from it.
//! - this file: [`Storage`], the four collections together, for what spans them:
//!   `pool.dataset.create`, `update` and `delete` (space checks; a dataset's snapshots and tasks
//!   go with it) and `pool.export`.
//! - `storage_seed`: the demo pools, datasets, snapshots and tasks.
//!
//! Beside the ZFS state: `disk` (the disks as `disk.*` shows them), and the files under `/mnt`:
//! `fs_names` (account names by id), `fs_acl` (ACLs), `fs` (stat, listdir, mode, ownership),
//! `fs_seed` (the demo tree).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `pool_methods` (`pool.*`),
//! `dataset_methods` (`pool.dataset.*`), `snapshot_methods` (`pool.snapshot*`, `zfs.snapshot.*`),
//! `disk_methods` (`disk.*`), `fs_methods` (`filesystem.*`).
//!
//! All of it sits behind the machine's one state lock, so an operation that spans collections
//! (a dataset delete taking its snapshots and tasks) is seen whole or not at all.

pub(crate) mod dataset;
pub(crate) mod dataset_crypto;
pub(crate) mod dataset_entry;
pub(crate) mod dataset_methods;
pub(crate) mod dataset_perm;
pub(crate) mod dataset_props;
pub(crate) mod disk;
pub(crate) mod disk_methods;
pub(crate) mod fs;
pub(crate) mod fs_acl;
pub(crate) mod fs_methods;
pub(crate) mod fs_names;
pub(crate) mod fs_seed;
pub(crate) mod pool;
pub(crate) mod pool_entry;
pub(crate) mod pool_methods;
pub(crate) mod pool_topology;
pub(crate) mod snapshot;
pub(crate) mod snapshot_methods;
pub(crate) mod snapshot_task;
pub(crate) mod space;
pub(crate) mod storage_seed;
pub(crate) mod zfs;

use serde_json::{Map, Value};

use crate::failure::{Failure, Invalid, errno};
use crate::storage::dataset::{Dataset, Datasets, Kind};
use crate::storage::dataset_props::set_props;
use crate::storage::pool::Pools;
use crate::storage::snapshot::Snapshots;
use crate::storage::snapshot_task::SnapshotTasks;
use crate::storage::space::Space;
use crate::storage::zfs::{Txg, is_within, now_secs, parent_name, parse_size, pool_name, refuse};

pub(crate) use crate::storage::dataset::dataset_not_found;
pub(crate) use crate::storage::pool::{ScanState, pool_not_found};
pub(crate) use crate::storage::snapshot::snapshot_not_found;
pub(crate) use crate::storage::snapshot_task::task_not_found;
pub(crate) use crate::storage::zfs::{check, date, invalid};

/// Every pool, dataset, snapshot and snapshot task of the simulated NAS.
#[derive(Debug, Default)]
pub(crate) struct Storage {
    pub(crate) pools: Pools,
    pub(crate) datasets: Datasets,
    pub(crate) snapshots: Snapshots,
    pub(crate) tasks: SnapshotTasks,
    /// The transaction group counter every change bumps.
    pub(crate) txg: Txg,
}

/// The record sizes the pool offers (`pool.dataset.recordsize_choices`).
const RECORDSIZES: [&str; 17] =
    ["512", "512B", "1K", "2K", "4K", "8K", "16K", "32K", "64K", "128K", "256K", "512K", "1M", "2M", "4M", "8M", "16M"];

/// Fields that only make sense for one kind of dataset.
const VOLUME_ONLY: [&str; 4] = ["force_size", "sparse", "volsize", "volblocksize"];
const FILESYSTEM_ONLY: [&str; 7] =
    ["aclmode", "acltype", "atime", "casesensitivity", "quota", "refquota", "recordsize"];

/// ZFS's dataset name rules for one path component.
fn valid_component(part: &str) -> bool {
    !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "_-.: ".contains(c))
}

impl Storage {
    /// The collections read together for space figures.
    pub(crate) fn space(&self) -> Space<'_> {
        Space { pools: &self.pools, datasets: &self.datasets, snapshots: &self.snapshots }
    }

    /// `pool.dataset.create`. Returns the name.
    pub(crate) fn create_dataset(&mut self, data: Map<String, Value>) -> Result<String, Failure> {
        const SCHEMA: &str = "pool_dataset_create";
        let mut data = data;
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let kind =
            if data.get("type").and_then(Value::as_str) == Some("VOLUME") { Kind::Volume } else { Kind::Filesystem };
        if !name.contains('/') {
            return Err(refuse(format!("{SCHEMA}.name"), "You need a full name, e.g. pool/newdataset", errno::EINVAL));
        }
        if name.ends_with(' ') {
            return Err(refuse(
                format!("{SCHEMA}.name"),
                "Trailing spaces are not permitted in dataset names",
                errno::EINVAL,
            ));
        }
        if !name.split('/').all(valid_component) {
            return Err(refuse(format!("{SCHEMA}.name"), "Invalid dataset name", errno::EINVAL));
        }
        let create_ancestors = data.get("create_ancestors").and_then(Value::as_bool).unwrap_or(false);
        let parent = parent_name(&name).unwrap_or_default().to_string();
        if !self.datasets.contains(&parent) {
            let message = if create_ancestors && self.datasets.contains(pool_name(&name)) {
                None
            } else if create_ancestors {
                Some("Please specify a pool which exists for the dataset/volume to be created".to_string())
            } else if parent.contains('/') {
                Some(format!("Parent dataset ({parent}) does not exist."))
            } else {
                Some(format!("zpool ({parent}) does not exist."))
            };
            if let Some(message) = message {
                return Err(refuse(format!("{SCHEMA}.name"), message, errno::EINVAL));
            }
        }
        apply_share_type(&mut data);
        let mut problems = Vec::new();
        if let Some(existing) = self.datasets.get(&name) {
            if existing.kind == Kind::Volume {
                return Err(Failure::fault(format!("Failed to create dataset {name}: dataset already exists")));
            }
            problems.push(invalid(format!("{SCHEMA}.name"), format!("Path /mnt/{name} already exists"), errno::EINVAL));
        }
        if let Some(parent_ds) = self.datasets.get(&parent) {
            if self.datasets.effective_raw(&parent, "readonly") == "on" {
                problems.push(invalid(
                    format!("{SCHEMA}.readonly"),
                    format!("Turn off readonly mode on {parent} to create {}", pool_name(&name)),
                    errno::EINVAL,
                ));
            }
            if parent_ds.kind == Kind::Volume {
                problems.push(invalid(
                    format!("{SCHEMA}.name"),
                    format!("{parent}: parent may not be a ZFS volume"),
                    errno::EINVAL,
                ));
            }
            if self.datasets.is_locked(&parent) {
                problems.push(invalid(
                    format!("{SCHEMA}.name"),
                    format!("{parent} must be unlocked to create {name}."),
                    errno::EINVAL,
                ));
            }
        }
        problems.extend(self.check_fields(SCHEMA, &data, kind, &parent, None));
        problems.extend(dataset_crypto::check_new_encryption(&self.datasets, &data, &parent));
        check(problems)?;

        if create_ancestors {
            let mut missing: Vec<String> = Vec::new();
            let mut at = parent.clone();
            while !self.datasets.contains(&at) {
                missing.push(at.clone());
                at = parent_name(&at).unwrap_or_default().to_string();
            }
            for ancestor in missing.into_iter().rev() {
                self.txg.next();
                self.datasets.insert(Dataset::filesystem(&ancestor, now_secs()));
            }
        }
        self.txg.next();
        let mut dataset = Dataset::filesystem(&name, now_secs());
        dataset.kind = kind;
        if kind == Kind::Volume {
            dataset.props.insert("volblocksize".into(), "16384".into());
            if data.get("sparse").and_then(Value::as_bool) != Some(true) {
                let volsize = data.get("volsize").and_then(Value::as_u64).unwrap_or(0);
                dataset.props.insert("refreservation".into(), volsize.to_string());
            }
            dataset.written = 0;
        }
        set_props(&mut dataset.props, &mut dataset.user_props, &data);
        if data.get("encryption").and_then(Value::as_bool) == Some(true) {
            let options = data.get("encryption_options").cloned().unwrap_or(Value::Null);
            dataset.crypto = Some(dataset_crypto::crypto_from_options(&options));
        }
        if matches!(data.get("share_type").and_then(Value::as_str), Some("SMB" | "APPS" | "MULTIPROTOCOL" | "NFS")) {
            dataset.perms.nontrivial_acl = true;
        }
        self.datasets.insert(dataset);
        Ok(name)
    }

    /// `pool.dataset.update`.
    pub(crate) fn update_dataset(&mut self, name: &str, data: Map<String, Value>) -> Result<(), Failure> {
        const SCHEMA: &str = "pool_dataset_update";
        let Some(current) = self.datasets.get(name) else {
            return Err(refuse("id", format!("{name} does not exist"), errno::ENOENT));
        };
        let parent = parent_name(name).unwrap_or(name).to_string();
        let mut problems = self.check_fields(SCHEMA, &data, current.kind, &parent, Some(current));
        if let Some(volsize) = data.get("volsize").and_then(Value::as_u64)
            && volsize < current.local_bytes("volsize")
        {
            problems.push(invalid(
                format!("{SCHEMA}.volsize"),
                "You cannot shrink a zvol from GUI, this may lead to data loss.",
                errno::EINVAL,
            ));
        }
        check(problems)?;
        let used = self.space().used(name);
        for key in ["quota", "refquota"] {
            if data.get(key).and_then(Value::as_u64).is_some_and(|limit| limit > 0 && limit < used) {
                return Err(Failure::fault(format!(
                    "Failed to update dataset properties: cannot set property for '{name}': size is less than current used or reserved space"
                )));
            }
        }
        if let Some(dataset) = self.datasets.get_mut(name) {
            set_props(&mut dataset.props, &mut dataset.user_props, &data);
        }
        Ok(())
    }

    /// `pool.dataset.delete`: the dataset, with `recursive` its children, and their snapshots.
    /// Snapshot tasks on what goes are deleted too, as the attachment delegates do.
    pub(crate) fn delete_dataset(&mut self, name: &str, recursive: bool) -> Result<(), Failure> {
        if !name.contains('/') && self.datasets.contains(name) {
            return Err(Failure::fault(format!(
                "Failed to delete dataset: cannot destroy '{name}': operation does not apply to pools\n\
                 use 'zfs destroy -r {name}' to destroy all datasets in the pool\n\
                 use 'zpool destroy {name}' to destroy the pool itself"
            )));
        }
        self.datasets.lookup(name)?;
        let below = |n: &str| is_within(n.split('@').next().unwrap_or(n), name);
        let has_children = self.datasets.names().any(|n| n != name && below(n));
        let has_snapshots = self.snapshots.ids().any(|n| below(n));
        if !recursive && (has_children || has_snapshots) {
            return Err(Failure::Call {
                errno: 39,
                errname: Some("ENOTEMPTY".into()),
                message: format!("Failed to delete dataset: cannot destroy '{name}': filesystem has children"),
                extra: None,
            });
        }
        let dependents: Vec<String> = self
            .datasets
            .iter()
            .filter(|d| !below(&d.name) && d.origin.as_deref().is_some_and(below))
            .map(|d| d.name.clone())
            .collect();
        if !dependents.is_empty() {
            return Err(Failure::fault(format!(
                "Failed to delete dataset: cannot destroy '{name}': filesystem has dependent clones\n\
                 use '-R' to destroy the following datasets:\n{}",
                dependents.join("\n")
            )));
        }
        self.datasets.retain(|n| !below(n));
        self.snapshots.retain(|n| !below(n));
        self.tasks.retain(|t| !below(&t.dataset));
        Ok(())
    }

    /// Checks shared by create and update: fields of the other kind, ACL type and mode
    /// pairs, record sizes, and zvol sizes.
    fn check_fields(
        &self,
        schema: &str,
        data: &Map<String, Value>,
        kind: Kind,
        parent: &str,
        current: Option<&Dataset>,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let mut add =
            |field: &str, message: String| problems.push(invalid(format!("{schema}.{field}"), message, errno::EINVAL));
        match kind {
            Kind::Filesystem => {
                for field in VOLUME_ONLY.iter().filter(|f| data.contains_key(**f)) {
                    add(field, "This field is not valid for FILESYSTEM".into());
                }
                let effective = |key: &str| match data.get(key).and_then(Value::as_str) {
                    Some("INHERIT") => self.datasets.effective_raw(parent, key),
                    Some(v) => v.to_ascii_lowercase(),
                    None => match current.and_then(|c| c.props.get(key)) {
                        Some(local) => local.clone(),
                        None => self.datasets.effective_raw(parent, key),
                    },
                };
                let (acltype, aclmode) = (effective("acltype"), effective("aclmode"));
                if matches!(acltype.as_str(), "posix" | "off") && aclmode != "discard" {
                    add("aclmode", "Must be set to DISCARD when acltype is POSIX or OFF".into());
                } else if acltype == "nfsv4" && aclmode == "discard" {
                    add("aclmode", "DISCARD aclmode may not be set for NFSv4 acl type".into());
                }
                if let Some(rs) = data.get("recordsize").and_then(Value::as_str)
                    && rs != "INHERIT"
                    && !RECORDSIZES.contains(&rs)
                {
                    add("recordsize", format!("'{rs}' is an invalid recordsize."));
                }
            }
            Kind::Volume => {
                for field in FILESYSTEM_ONLY.iter().filter(|f| data.contains_key(**f)) {
                    add(field, "This field is not valid for VOLUME".into());
                }
                if let Some(volsize) = data.get("volsize").and_then(Value::as_u64) {
                    let mut available = self.space().available(parent);
                    if let Some(c) = current {
                        available += self.space().used(&c.name);
                    }
                    let forced = data.get("force_size").and_then(Value::as_bool).unwrap_or(false);
                    if volsize as f64 > available as f64 * 0.8 && !forced {
                        add(
                            "volsize",
                            "It is not recommended to use more than 80% of your available space for VOLUME".into(),
                        );
                    }
                    let block = data
                        .get("volblocksize")
                        .and_then(Value::as_str)
                        .and_then(parse_size)
                        .or_else(|| current.map(|c| c.local_bytes("volblocksize")))
                        .unwrap_or(16_384)
                        .max(1);
                    if volsize % block != 0 {
                        add("volsize", "Volume size should be a multiple of volume block size".into());
                    }
                }
            }
        }
        problems
    }

    /// `pool.export`: the pool, its datasets and snapshots leave the system and its disks are
    /// free again. Snapshot tasks on it are deleted with `cascade` (or `destroy`), else disabled.
    pub(crate) fn export_pool(&mut self, id: i64, cascade: bool, destroy: bool) -> Result<String, Failure> {
        let name = self.pools.remove(id)?.name;
        let inside = |n: &str| pool_name(n) == name;
        self.datasets.retain(|n| !inside(n));
        self.snapshots.retain(|n| !inside(n));
        if cascade || destroy {
            self.tasks.retain(|t| !inside(&t.dataset));
        } else {
            for task in self.tasks.iter_mut().filter(|t| inside(&t.dataset)) {
                task.enabled = false;
            }
        }
        Ok(name)
    }
}

/// The presets a share type brings (they win over what the caller sent).
fn apply_share_type(data: &mut Map<String, Value>) {
    let presets: &[(&str, &str)] = match data.get("share_type").and_then(Value::as_str) {
        Some("SMB") => &[("casesensitivity", "INSENSITIVE"), ("acltype", "NFSV4"), ("aclmode", "RESTRICTED")],
        Some("APPS" | "MULTIPROTOCOL" | "NFS") => {
            &[("casesensitivity", "SENSITIVE"), ("atime", "OFF"), ("acltype", "NFSV4"), ("aclmode", "PASSTHROUGH")]
        }
        _ => &[],
    };
    for (key, value) in presets {
        data.insert(key.to_string(), Value::String(value.to_string()));
    }
}

#[cfg(test)]
#[path = "storage_tests.rs"]
pub(crate) mod tests;
