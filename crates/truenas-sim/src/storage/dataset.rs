//! Datasets and zvols: a dataset as the simulator keeps it (locally set ZFS properties, the bytes
//! it wrote, its origin, encryption, ownership and quotas) and [`Datasets`], every dataset by
//! name with the queries that read only datasets (property inheritance, children, encryption
//! roots). `pool.dataset.create`, `update` and `delete` need the pools and snapshots too and are
//! `Storage`'s; encryption is in `dataset_crypto.rs`, ownership and quotas in `dataset_perm.rs`,
//! the query entry in `dataset_entry.rs`, clones and promotion in `snapshot.rs`.

use std::collections::BTreeMap;

use crate::failure::Failure;
use crate::storage::dataset_props::{self, Prop, Source};
use crate::storage::zfs::{EMPTY_DATASET, parent_name};

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

/// How an encryption root's key is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFormat {
    Passphrase,
    Hex,
}

/// The encryption of one encryption root.
#[derive(Debug, Clone)]
pub(crate) struct Crypto {
    pub(crate) format: KeyFormat,
    /// The passphrase or the 64 hex digits of the key.
    pub(crate) secret: String,
    pub(crate) algorithm: String,
    pub(crate) pbkdf2iters: u64,
    pub(crate) locked: bool,
}

/// Mode, owner and ACL of a dataset's mountpoint.
#[derive(Debug, Clone)]
pub(crate) struct Perms {
    pub(crate) mode: String,
    pub(crate) uid: i64,
    pub(crate) gid: i64,
    /// An ACL that a mode cannot express (SMB shares get one).
    pub(crate) nontrivial_acl: bool,
}

impl Default for Perms {
    fn default() -> Self {
        Perms { mode: "755".into(), uid: 0, gid: 0, nontrivial_acl: false }
    }
}

/// One user or group quota.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quota {
    /// `USER` or `GROUP`.
    pub(crate) kind: String,
    pub(crate) id: i64,
    pub(crate) quota: u64,
    pub(crate) obj_quota: u64,
    pub(crate) used: u64,
    pub(crate) obj_used: u64,
}

/// Every dataset and zvol of the NAS.
#[derive(Debug, Default)]
pub(crate) struct Datasets {
    /// By full name (`tank/media`); a pool's root dataset has the pool's name.
    by_name: BTreeMap<String, Dataset>,
}

impl Datasets {
    /// Dataset `name`, or TrueNAS's not-found error.
    pub(crate) fn lookup(&self, name: &str) -> Result<&Dataset, Failure> {
        self.by_name.get(name).ok_or_else(|| dataset_not_found(name))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Dataset> {
        self.by_name.get(name)
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Dataset> {
        self.by_name.get_mut(name)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every dataset, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Dataset> {
        self.by_name.values()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Dataset> {
        self.by_name.values_mut()
    }

    /// Every dataset name, sorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = &String> {
        self.by_name.keys()
    }

    /// Stores `dataset` under its name, replacing any dataset of that name.
    pub(crate) fn insert(&mut self, dataset: Dataset) {
        self.by_name.insert(dataset.name.clone(), dataset);
    }

    /// Keeps only the datasets whose name passes `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.by_name.retain(|name, _| keep(name));
    }

    /// The raw value of property `zfs` on dataset `name` with where it comes from.
    pub(crate) fn effective(&self, name: &str, prop: &Prop) -> (String, Source) {
        if let Some(raw) = self.by_name.get(name).and_then(|d| d.props.get(prop.zfs)) {
            return (raw.clone(), Source::Local);
        }
        if prop.inherits {
            let mut at = parent_name(name);
            while let Some(ancestor) = at {
                if let Some(raw) = self.by_name.get(ancestor).and_then(|d| d.props.get(prop.zfs)) {
                    return (raw.clone(), Source::Inherited(ancestor.to_string()));
                }
                at = parent_name(ancestor);
            }
        }
        (prop.default.to_string(), Source::Default)
    }

    /// The raw value of property `zfs` (a ZFS name) on `name`, inherited or default.
    pub(crate) fn effective_raw(&self, name: &str, zfs: &str) -> String {
        match dataset_props::by_zfs(zfs) {
            Some(prop) => self.effective(name, prop).0,
            None => String::new(),
        }
    }

    /// Direct children of `name`, by name.
    pub(crate) fn children(&self, name: &str) -> Vec<&Dataset> {
        self.by_name.values().filter(|d| parent_name(&d.name) == Some(name)).collect()
    }

    /// The encryption root of `name`: itself or its closest encrypted ancestor.
    pub(crate) fn encryption_root(&self, name: &str) -> Option<&Dataset> {
        let mut at = Some(name);
        while let Some(current) = at {
            if let Some(dataset) = self.by_name.get(current).filter(|d| d.crypto.is_some()) {
                return Some(dataset);
            }
            at = parent_name(current);
        }
        None
    }

    /// Whether `name` sits under a locked encryption root.
    pub(crate) fn is_locked(&self, name: &str) -> bool {
        self.encryption_root(name).and_then(|r| r.crypto.as_ref()).is_some_and(|c| c.locked)
    }

    /// `name` and everything below it, depth first.
    pub(crate) fn walk(&self, name: &str, out: &mut Vec<String>) {
        out.push(name.to_string());
        for child in self.children(name) {
            self.walk(&child.name, out);
        }
    }

    /// The deepest dataset mounted above `path` (`/mnt/tank/media/x` -> `tank/media`, `x`).
    pub(crate) fn of_path(&self, path: &str) -> Option<(String, String)> {
        let inside = path.strip_prefix("/mnt/")?.trim_end_matches('/');
        self.by_name
            .keys()
            .filter(|name| inside == name.as_str() || inside.starts_with(&format!("{name}/")))
            .max_by_key(|name| name.len())
            .map(|name| (name.clone(), inside[name.len()..].trim_start_matches('/').to_string()))
    }
}
