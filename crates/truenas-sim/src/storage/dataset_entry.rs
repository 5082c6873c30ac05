//! The `pool.dataset.query` entry: every property with its value and source (local, inherited
//! from an ancestor, or default), the space a dataset uses and has left, its encryption state,
//! and its children, nested.

use serde_json::{Map, Value, json};

use crate::storage::dataset::{COMMENTS, Dataset, Kind};
use crate::storage::dataset_crypto::KeyFormat;
use crate::storage::dataset_props::{self, Applies, PROPS, Prop, Source, size_stat, with_source};
use crate::storage::{Storage, ctime, date, parent_name, pool_name};

impl Storage {
    /// The raw value of property `zfs` on dataset `name` with where it comes from.
    pub(crate) fn effective(&self, name: &str, prop: &Prop) -> (String, Source) {
        if let Some(raw) = self.datasets.get(name).and_then(|d| d.props.get(prop.zfs)) {
            return (raw.clone(), Source::Local);
        }
        if prop.inherits {
            let mut at = parent_name(name);
            while let Some(ancestor) = at {
                if let Some(raw) = self.datasets.get(ancestor).and_then(|d| d.props.get(prop.zfs)) {
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
        self.datasets.values().filter(|d| parent_name(&d.name) == Some(name)).collect()
    }

    fn usedbysnapshots(&self, name: &str) -> u64 {
        self.snapshots.values().filter(|s| s.dataset == name).map(|s| s.unique).sum()
    }

    fn usedbyrefreservation(&self, dataset: &Dataset) -> u64 {
        dataset.local_bytes("refreservation").saturating_sub(dataset.written)
    }

    /// Bytes `name` and everything below it hold.
    pub(crate) fn used(&self, name: &str) -> u64 {
        let Some(dataset) = self.datasets.get(name) else { return 0 };
        dataset.written
            + self.usedbysnapshots(name)
            + self.usedbyrefreservation(dataset)
            + self.children(name).iter().map(|c| self.used(&c.name)).sum::<u64>()
    }

    /// Bytes `name` may still write: the pool's free space, within every quota on the way.
    pub(crate) fn available(&self, name: &str) -> u64 {
        let Some(pool) = self.pool_of(name) else { return 0 };
        let mut available = self.pool_size(pool).saturating_sub(self.used(&pool.name));
        let mut at = Some(name);
        while let Some(current) = at {
            if let Some(dataset) = self.datasets.get(current) {
                let quota = dataset.local_bytes("quota");
                if quota > 0 {
                    available = available.min(quota.saturating_sub(self.used(current)));
                }
                let refquota = dataset.local_bytes("refquota");
                if current == name && refquota > 0 {
                    available = available.min(refquota.saturating_sub(dataset.written));
                }
            }
            at = parent_name(current);
        }
        available
    }

    /// The encryption root of `name`: itself or its closest encrypted ancestor.
    pub(crate) fn encryption_root(&self, name: &str) -> Option<&Dataset> {
        let mut at = Some(name);
        while let Some(current) = at {
            if let Some(dataset) = self.datasets.get(current).filter(|d| d.crypto.is_some()) {
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

    /// Every dataset, pool by pool and depth first: flat (every dataset, each with its children
    /// nested) or only the pools' root datasets.
    pub(crate) fn dataset_entries(&self, flat: bool) -> Vec<Value> {
        let mut names = Vec::new();
        for pool in self.pools.values() {
            self.walk(&pool.name, &mut names);
        }
        if !flat {
            names.retain(|n| !n.contains('/'));
        }
        names.iter().map(|n| self.dataset_entry(n)).collect()
    }

    fn walk(&self, name: &str, out: &mut Vec<String>) {
        out.push(name.to_string());
        for child in self.children(name) {
            self.walk(&child.name, out);
        }
    }

    /// The query entry of dataset `name` (an empty object if it does not exist).
    pub(crate) fn dataset_entry(&self, name: &str) -> Value {
        let Some(dataset) = self.datasets.get(name) else { return json!({}) };
        let root = self.encryption_root(name);
        let crypto = root.and_then(|r| r.crypto.as_ref());
        let locked = crypto.is_some_and(|c| c.locked);
        let mut out = Map::new();
        out.insert("id".into(), json!(name));
        out.insert("type".into(), json!(dataset.kind.name()));
        out.insert("name".into(), json!(name));
        out.insert("pool".into(), json!(pool_name(name)));
        out.insert("encrypted".into(), json!(crypto.is_some()));
        out.insert("encryption_root".into(), json!(root.map(|r| r.name.clone())));
        out.insert("key_loaded".into(), json!(crypto.is_some_and(|c| !c.locked)));
        let children: Vec<Value> = self.children(name).iter().map(|c| self.dataset_entry(&c.name)).collect();
        out.insert("children".into(), Value::Array(children));
        let user: Map<String, Value> = dataset
            .user_props
            .iter()
            .filter(|(k, _)| k.as_str() != COMMENTS)
            .map(|(k, v)| (k.clone(), json!({"value": v, "rawvalue": v, "source": "LOCAL", "parsed": v})))
            .collect();
        out.insert("user_properties".into(), Value::Object(user));
        out.insert("locked".into(), json!(locked));
        if let Some(comments) = dataset.user_props.get(COMMENTS) {
            out.insert("comments".into(), with_source(json!(comments), comments, json!(comments), &Source::Local));
        }
        for prop in PROPS.iter() {
            let applies = match prop.applies {
                Applies::Both => true,
                Applies::Filesystem => dataset.kind == Kind::Filesystem,
                Applies::Volume => dataset.kind == Kind::Volume,
            };
            if !applies {
                continue;
            }
            let (raw, mut source) = self.effective(name, prop);
            if prop.zfs == "casesensitivity" || (prop.zfs == "volblocksize" && source == Source::Local) {
                source = Source::None;
            }
            out.insert(prop.api.into(), dataset_props::entry(prop.shape, &raw, &source));
            if prop.zfs == "compression" {
                let ratio = if raw == "off" || dataset.kind == Kind::Volume { "1.00" } else { "1.08" };
                out.insert(
                    "compressratio".into(),
                    with_source(json!(ratio), ratio, json!(format!("{ratio}x")), &Source::None),
                );
                let origin = dataset.origin.clone().unwrap_or_default();
                out.insert("origin".into(), with_source(json!(origin), &origin, json!(origin), &Source::None));
            }
        }
        let (format, algorithm, iters) = match crypto {
            Some(c) => (
                match c.format {
                    KeyFormat::Passphrase => "passphrase",
                    KeyFormat::Hex => "hex",
                },
                c.algorithm.to_ascii_lowercase(),
                c.pbkdf2iters,
            ),
            None => ("none", "off".to_string(), 0),
        };
        let shown = |raw: &str| if crypto.is_some() { json!(raw.to_ascii_uppercase()) } else { Value::Null };
        out.insert("key_format".into(), with_source(json!(format), format, shown(format), &Source::None));
        out.insert(
            "encryption_algorithm".into(),
            with_source(json!(algorithm), &algorithm, shown(&algorithm), &Source::None),
        );
        let snapshots = self.usedbysnapshots(name);
        let children_used: u64 = self.children(name).iter().map(|c| self.used(&c.name)).sum();
        out.insert("used".into(), size_stat(self.used(name)));
        out.insert("usedbychildren".into(), size_stat(children_used));
        out.insert("usedbydataset".into(), size_stat(dataset.written));
        out.insert("usedbyrefreservation".into(), size_stat(self.usedbyrefreservation(dataset)));
        out.insert("usedbysnapshots".into(), size_stat(snapshots));
        out.insert("available".into(), size_stat(self.available(name)));
        out.insert(
            "pbkdf2iters".into(),
            with_source(json!(iters), &iters.to_string(), json!(iters.to_string()), &Source::None),
        );
        let created = dataset.created.to_string();
        out.insert(
            "creation".into(),
            with_source(date(dataset.created), &created, json!(ctime(dataset.created)), &Source::None),
        );
        let mountpoint = (dataset.kind == Kind::Filesystem && !locked).then(|| format!("/mnt/{name}"));
        out.insert("mountpoint".into(), json!(mountpoint));
        Value::Object(out)
    }
}
