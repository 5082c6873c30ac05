//! Datasets and zvols: their locally set ZFS properties, and `pool.dataset.create`, `update`
//! and `delete` with the middleware's checks. Property inheritance and the query entry are in
//! `dataset_entry.rs`; encryption in `dataset_crypto.rs`; ownership and quotas in
//! `dataset_perm.rs`; clones and promotion in `snapshot.rs`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::failure::{Failure, Invalid, errno};
use crate::storage::dataset_crypto::Crypto;
use crate::storage::dataset_perm::{Perms, Quota};
use crate::storage::dataset_props::set_props;
use crate::storage::{
    EMPTY_DATASET, Storage, check, invalid, is_within, now_secs, parent_name, parse_size, pool_name, refuse,
};

/// A filesystem or a volume (zvol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Filesystem,
    Volume,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Filesystem => "FILESYSTEM",
            Kind::Volume => "VOLUME",
        }
    }
}

/// The user property TrueNAS keeps `comments` in.
pub(crate) const COMMENTS: &str = "org.freenas:description";

/// One dataset or zvol.
#[derive(Debug, Clone)]
pub(crate) struct Dataset {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Native properties set on this dataset (ZFS names and raw values: `compression=lz4`).
    pub(crate) props: BTreeMap<String, String>,
    pub(crate) user_props: BTreeMap<String, String>,
    /// Bytes only this dataset references.
    pub(crate) written: u64,
    pub(crate) created: u64,
    /// The snapshot a clone was made from.
    pub(crate) origin: Option<String>,
    /// Set on encryption roots only; children inherit it.
    pub(crate) crypto: Option<Crypto>,
    pub(crate) perms: Perms,
    pub(crate) quotas: Vec<Quota>,
}

impl Dataset {
    /// An empty filesystem with no property set.
    pub(crate) fn filesystem(name: &str, created: u64) -> Dataset {
        Dataset {
            name: name.to_string(),
            kind: Kind::Filesystem,
            props: BTreeMap::new(),
            user_props: BTreeMap::new(),
            written: EMPTY_DATASET,
            created,
            origin: None,
            crypto: None,
            perms: Perms::default(),
            quotas: Vec::new(),
        }
    }

    /// A local numeric property, 0 when unset.
    pub(crate) fn local_bytes(&self, zfs: &str) -> u64 {
        self.props.get(zfs).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
}

pub(crate) fn dataset_not_found(name: &str) -> Failure {
    Failure::not_found(format!("PoolDataset {name} does not exist"))
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
    pub(crate) fn dataset(&self, name: &str) -> Result<&Dataset, Failure> {
        self.datasets.get(name).ok_or_else(|| dataset_not_found(name))
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
        if !self.datasets.contains_key(&parent) {
            let message = if create_ancestors && self.datasets.contains_key(pool_name(&name)) {
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
            if self.effective_raw(&parent, "readonly") == "on" {
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
            if self.is_locked(&parent) {
                problems.push(invalid(
                    format!("{SCHEMA}.name"),
                    format!("{parent} must be unlocked to create {name}."),
                    errno::EINVAL,
                ));
            }
        }
        problems.extend(self.check_fields(SCHEMA, &data, kind, &parent, None));
        problems.extend(self.check_new_encryption(&data, &parent));
        check(problems)?;

        if create_ancestors {
            let mut missing: Vec<String> = Vec::new();
            let mut at = parent.clone();
            while !self.datasets.contains_key(&at) {
                missing.push(at.clone());
                at = parent_name(&at).unwrap_or_default().to_string();
            }
            for ancestor in missing.into_iter().rev() {
                self.next_txg();
                self.datasets.insert(ancestor.clone(), Dataset::filesystem(&ancestor, now_secs()));
            }
        }
        self.next_txg();
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
        set_props(&mut dataset, &data);
        if data.get("encryption").and_then(Value::as_bool) == Some(true) {
            let options = data.get("encryption_options").cloned().unwrap_or(Value::Null);
            dataset.crypto = Some(crate::storage::dataset_crypto::crypto_from_options(&options));
        }
        if matches!(data.get("share_type").and_then(Value::as_str), Some("SMB" | "APPS" | "MULTIPROTOCOL" | "NFS")) {
            dataset.perms.nontrivial_acl = true;
        }
        self.datasets.insert(name.clone(), dataset);
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
        let used = self.used(name);
        for key in ["quota", "refquota"] {
            if data.get(key).and_then(Value::as_u64).is_some_and(|limit| limit > 0 && limit < used) {
                return Err(Failure::fault(format!(
                    "Failed to update dataset properties: cannot set property for '{name}': size is less than current used or reserved space"
                )));
            }
        }
        if let Some(dataset) = self.datasets.get_mut(name) {
            set_props(dataset, &data);
        }
        Ok(())
    }

    /// `pool.dataset.delete`: the dataset, with `recursive` its children, and their snapshots.
    /// Snapshot tasks on what goes are deleted too, as the attachment delegates do.
    pub(crate) fn delete_dataset(&mut self, name: &str, recursive: bool) -> Result<(), Failure> {
        if !name.contains('/') && self.datasets.contains_key(name) {
            return Err(Failure::fault(format!(
                "Failed to delete dataset: cannot destroy '{name}': operation does not apply to pools\n\
                 use 'zfs destroy -r {name}' to destroy all datasets in the pool\n\
                 use 'zpool destroy {name}' to destroy the pool itself"
            )));
        }
        self.dataset(name)?;
        let below = |n: &str| is_within(n.split('@').next().unwrap_or(n), name);
        let has_children = self.datasets.keys().any(|n| n != name && below(n));
        let has_snapshots = self.snapshots.keys().any(|n| below(n));
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
            .values()
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
        self.datasets.retain(|n, _| !below(n));
        self.snapshots.retain(|n, _| !below(n));
        self.tasks.retain(|_, t| !below(&t.dataset));
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
                    Some("INHERIT") => self.effective_raw(parent, key),
                    Some(v) => v.to_ascii_lowercase(),
                    None => match current.and_then(|c| c.props.get(key)) {
                        Some(local) => local.clone(),
                        None => self.effective_raw(parent, key),
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
                    let mut available = self.available(parent);
                    if let Some(c) = current {
                        available += self.used(&c.name);
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
#[path = "dataset_tests.rs"]
mod tests;
