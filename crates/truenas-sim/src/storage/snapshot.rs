//! Snapshots: a snapshot, and [`Snapshots`], every snapshot by full name with what hangs off
//! them, each operation given the datasets it reads or changes: `pool.snapshot.create` (by name or naming schema,
//! recursive with exclusions), `delete` (refused while clones depend on it unless deferred),
//! `clone`, `rollback` (later snapshots and their clones go only when asked), and
//! `pool.dataset.promote`, which hands a clone its origin's older snapshots.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::failure::{Failure, errno};
use crate::storage::dataset::{Dataset, Datasets, Kind, dataset_not_found};
use crate::storage::zfs::{
    EMPTY_DATASET, Txg, check, ctime, date, invalid, is_within, nicenum, now_secs, parent_name, pool_name, refuse,
    strftime,
};

/// One snapshot.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) dataset: String,
    /// The part after `@`.
    pub(crate) name: String,
    pub(crate) createtxg: u64,
    pub(crate) created: u64,
    /// Bytes the dataset referenced when the snapshot was taken.
    pub(crate) referenced: u64,
    /// Bytes only this snapshot still holds.
    pub(crate) unique: u64,
    /// Held by TrueNAS (replication keeps its base snapshots this way).
    pub(crate) hold: bool,
    pub(crate) user_props: BTreeMap<String, String>,
    /// Marked for destruction once its clones are gone.
    pub(crate) defer_destroy: bool,
}

impl Snapshot {
    pub(crate) fn id(&self) -> String {
        format!("{}@{}", self.dataset, self.name)
    }

    /// The entry of one snapshot; `holds` is left out of create results, as TrueNAS does.
    pub(crate) fn entry(&self, datasets: &Datasets, with_holds: bool) -> Value {
        let snap = self;
        let id = snap.id();
        let clones: Vec<String> =
            datasets.iter().filter(|d| d.origin.as_deref() == Some(id.as_str())).map(|d| d.name.clone()).collect();
        let mut properties = Map::new();
        properties.insert("used".into(), prop(snap.unique.to_string(), json!(snap.unique), nicenum(snap.unique)));
        properties.insert(
            "referenced".into(),
            prop(snap.referenced.to_string(), json!(snap.referenced), nicenum(snap.referenced)),
        );
        properties.insert("creation".into(), prop(snap.created.to_string(), date(snap.created), ctime(snap.created)));
        let holds = u64::from(snap.hold);
        properties.insert("userrefs".into(), prop(holds.to_string(), json!(holds), holds.to_string()));
        let deferred = if snap.defer_destroy { "on" } else { "off" };
        properties.insert("defer_destroy".into(), prop(deferred.into(), json!(snap.defer_destroy), deferred.into()));
        properties.insert("clones".into(), prop(clones.join(","), json!(clones.join(",")), clones.join(",")));
        for (key, value) in &snap.user_props {
            properties
                .insert(key.clone(), json!({"value": value, "rawvalue": value, "source": "LOCAL", "parsed": value}));
        }
        let mut entry = json!({
            "id": id,
            "properties": properties,
            "pool": pool_name(&snap.dataset),
            "name": id,
            "type": "SNAPSHOT",
            "snapshot_name": snap.name,
            "dataset": snap.dataset,
            "createtxg": snap.createtxg.to_string(),
        });
        if with_holds {
            entry["holds"] = if snap.hold { json!({"truenas": 1}) } else { json!({}) };
        }
        entry
    }
}

pub(crate) fn snapshot_not_found(id: &str) -> Failure {
    Failure::not_found(format!("PoolSnapshot {id} does not exist"))
}

fn prop(raw: String, parsed: Value, value: String) -> Value {
    json!({"value": value, "rawvalue": raw, "source": "NONE", "parsed": parsed})
}

/// Datasets cloned from snapshot `id`.
fn clones_of(datasets: &Datasets, id: &str) -> Vec<String> {
    datasets.iter().filter(|d| d.origin.as_deref() == Some(id)).map(|d| d.name.clone()).collect()
}

/// Every snapshot of the NAS.
#[derive(Debug, Default)]
pub(crate) struct Snapshots {
    /// By full name (`tank/media@daily`).
    by_id: BTreeMap<String, Snapshot>,
}

impl Snapshots {
    #[cfg(test)]
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Every snapshot's full name, sorted.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &String> {
        self.by_id.keys()
    }

    /// Stores `snap` under its full name.
    pub(crate) fn insert(&mut self, snap: Snapshot) {
        self.by_id.insert(snap.id(), snap);
    }

    /// Keeps only the snapshots whose full name passes `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.by_id.retain(|id, _| keep(id));
    }

    /// Bytes the snapshots of dataset `name` hold (`usedbysnapshots`).
    pub(crate) fn unique_of(&self, name: &str) -> u64 {
        self.by_id.values().filter(|s| s.dataset == name).map(|s| s.unique).sum()
    }

    /// The newest snapshot of dataset `name` (by name: naming schemas sort by time), if any.
    pub(crate) fn latest_of(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}@");
        self.by_id.keys().filter(|k| k.starts_with(&prefix)).max().cloned()
    }

    pub(crate) fn lookup(&self, id: &str) -> Result<&Snapshot, Failure> {
        self.by_id.get(id).ok_or_else(|| snapshot_not_found(id))
    }

    /// Every `pool.snapshot.query` entry, by dataset then age.
    pub(crate) fn entries(&self, datasets: &Datasets) -> Vec<Value> {
        let mut all: Vec<&Snapshot> = self.by_id.values().collect();
        all.sort_by(|a, b| (&a.dataset, a.createtxg).cmp(&(&b.dataset, b.createtxg)));
        all.into_iter().map(|s| s.entry(datasets, true)).collect()
    }

    /// `pool.snapshot.create`. Returns the full name of the (top) snapshot.
    pub(crate) fn create(
        &mut self,
        data: &Map<String, Value>,
        datasets: &Datasets,
        txg: &mut Txg,
    ) -> Result<String, Failure> {
        let dataset = data.get("dataset").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = match data.get("name").and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None => strftime(data.get("naming_schema").and_then(Value::as_str).unwrap_or_default(), now_secs()),
        };
        let exclude: Vec<String> = data
            .get("exclude")
            .and_then(Value::as_array)
            .map(|e| e.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        if !exclude.is_empty() {
            let mut problems = Vec::new();
            for key in ["vmware_sync", "properties"] {
                let set = match data.get(key) {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::Object(m)) => !m.is_empty(),
                    _ => false,
                };
                if set {
                    problems.push(invalid(
                        format!("snapshot_create.{key}"),
                        "This option is not supported when excluding datasets",
                        errno::EINVAL,
                    ));
                }
            }
            check(problems)?;
        }
        if !datasets.contains(&dataset) {
            return Err(Failure::fault(format!(
                "Failed to snapshot {dataset}@{name}: cannot open '{dataset}': dataset does not exist"
            )));
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.: ".contains(c)) {
            return Err(Failure::fault(format!(
                "Failed to snapshot {dataset}@{name}: invalid character in snapshot name"
            )));
        }
        let recursive = data.get("recursive").and_then(Value::as_bool).unwrap_or(false);
        let targets: Vec<String> = datasets
            .names()
            .filter(|n| if recursive { is_within(n, &dataset) } else { **n == dataset })
            .filter(|n| !exclude.iter().any(|e| is_within(n, e)))
            .cloned()
            .collect();
        if self.by_id.contains_key(&format!("{dataset}@{name}")) {
            return Err(refuse("pool.snapshot.create", format!("{name} already exists."), errno::EEXIST));
        }
        let user_props: BTreeMap<String, String> = data
            .get("properties")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
            })
            .unwrap_or_default();
        let txg = txg.next();
        let now = now_secs();
        for target in targets {
            let referenced = datasets.get(&target).map_or(0, |d| d.written);
            let snap = Snapshot {
                dataset: target,
                name: name.clone(),
                createtxg: txg,
                created: now,
                referenced,
                unique: 0,
                hold: false,
                user_props: user_props.clone(),
                defer_destroy: false,
            };
            self.by_id.entry(snap.id()).or_insert(snap);
        }
        Ok(format!("{dataset}@{name}"))
    }

    /// `pool.snapshot.delete`; with `recursive` the same snapshot of every child goes too.
    pub(crate) fn delete(
        &mut self,
        id: &str,
        defer: bool,
        recursive: bool,
        datasets: &Datasets,
    ) -> Result<(), Failure> {
        let Some((dataset, name)) = id.split_once('@') else {
            return Err(refuse("pool.snapshot.delete", format!("Invalid snapshot name: '{id}'"), errno::EINVAL));
        };
        self.lookup(id)?;
        let targets: Vec<String> = self
            .by_id
            .values()
            .filter(|s| s.name == name && if recursive { is_within(&s.dataset, dataset) } else { s.dataset == dataset })
            .map(Snapshot::id)
            .collect();
        for target in &targets {
            let clones = clones_of(datasets, target);
            let held = self.by_id.get(target).is_some_and(|s| s.hold);
            if !defer && !clones.is_empty() {
                return Err(Failure::fault(format!(
                    "cannot destroy snapshot {target}: snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n{}",
                    clones.join("\n")
                )));
            }
            if !defer && held {
                return Err(Failure::fault(format!("cannot destroy snapshot {target}: dataset is busy")));
            }
        }
        for target in targets {
            if clones_of(datasets, &target).is_empty() && !self.by_id.get(&target).is_some_and(|s| s.hold) {
                self.by_id.remove(&target);
            } else if let Some(snap) = self.by_id.get_mut(&target) {
                snap.defer_destroy = true;
            }
        }
        Ok(())
    }

    /// `pool.snapshot.clone`: a new dataset (or zvol) that starts as the snapshot's content.
    pub(crate) fn make_clone(
        &self,
        id: &str,
        target: &str,
        datasets: &mut Datasets,
        txg: &mut Txg,
    ) -> Result<(), Failure> {
        let fail = |reason: String| Failure::fault(format!("Failed to clone snapshot: {reason}"));
        let Some(snap) = self.by_id.get(id) else {
            return Err(fail(format!("cannot open '{id}': dataset does not exist")));
        };
        if datasets.contains(target) {
            return Err(fail(format!("cannot create '{target}': dataset already exists")));
        }
        if pool_name(target) != pool_name(id) {
            return Err(fail(format!("cannot create '{target}': source and target pools differ")));
        }
        if !parent_name(target).is_some_and(|p| datasets.contains(p)) {
            return Err(fail(format!("cannot create '{target}': parent does not exist")));
        }
        let source = datasets.lookup(&snap.dataset)?.clone();
        txg.next();
        let mut clone = Dataset::filesystem(target, now_secs());
        clone.kind = source.kind;
        if source.kind == Kind::Volume {
            for key in ["volsize", "volblocksize"] {
                if let Some(v) = source.props.get(key) {
                    clone.props.insert(key.to_string(), v.clone());
                }
            }
            clone.written = 0;
        } else {
            clone.written = EMPTY_DATASET;
        }
        clone.origin = Some(id.to_string());
        datasets.insert(clone);
        Ok(())
    }

    /// `pool.snapshot.rollback`: the dataset goes back to the snapshot. Later snapshots are
    /// destroyed with `recursive`, their clones with `recursive_clones`.
    pub(crate) fn rollback(
        &mut self,
        id: &str,
        recursive: bool,
        recursive_clones: bool,
        datasets: &mut Datasets,
    ) -> Result<(), Failure> {
        let snap = self.lookup(id)?.clone();
        let fail = |reason: String| {
            Failure::fault(format!("Failed to rollback snapshot: cannot rollback to '{id}': {reason}"))
        };
        let later: Vec<String> = self
            .by_id
            .values()
            .filter(|s| s.dataset == snap.dataset && s.createtxg > snap.createtxg)
            .map(Snapshot::id)
            .collect();
        if !later.is_empty() && !recursive && !recursive_clones {
            return Err(fail(format!(
                "more recent snapshots or bookmarks exist\nuse '-r' to force deletion of the following snapshots and bookmarks:\n{}",
                later.join("\n")
            )));
        }
        let clones: Vec<String> = later.iter().flat_map(|s| clones_of(datasets, s)).collect();
        if !clones.is_empty() && !recursive_clones {
            return Err(fail(format!(
                "clones of previous snapshots exist\nuse '-R' to force deletion of the following clones and dependents:\n{}",
                clones.join("\n")
            )));
        }
        for clone in &clones {
            datasets.retain(|n| !is_within(n, clone));
            self.by_id.retain(|n, _| !is_within(n.split('@').next().unwrap_or(n), clone));
        }
        for gone in &later {
            self.by_id.remove(gone);
        }
        if let Some(dataset) = datasets.get_mut(&snap.dataset) {
            dataset.written = snap.referenced;
        }
        Ok(())
    }

    /// `pool.dataset.promote`: the clone takes over its origin's snapshots up to the one it
    /// was cloned from, and the former origin becomes a clone of it.
    pub(crate) fn promote(&mut self, name: &str, datasets: &mut Datasets) -> Result<(), Failure> {
        let clone = datasets.get(name).ok_or_else(|| dataset_not_found(name))?;
        let fail =
            |reason: &str| Failure::fault(format!("Failed to promote dataset: cannot promote '{name}': {reason}"));
        let Some(origin) = clone.origin.clone() else { return Err(fail("not a cloned filesystem")) };
        let Some(origin_snap) = self.by_id.get(&origin).cloned() else {
            return Err(fail("not a cloned filesystem"));
        };
        let moving: Vec<Snapshot> = self
            .by_id
            .values()
            .filter(|s| s.dataset == origin_snap.dataset && s.createtxg <= origin_snap.createtxg)
            .cloned()
            .collect();
        if moving.iter().any(|s| self.by_id.contains_key(&format!("{name}@{}", s.name))) {
            return Err(fail("snapshot name collision"));
        }
        let previous_origin = datasets.get(&origin_snap.dataset).and_then(|d| d.origin.clone());
        for snap in moving {
            let old_id = snap.id();
            let new_id = format!("{name}@{}", snap.name);
            self.by_id.remove(&old_id);
            self.by_id.insert(new_id.clone(), Snapshot { dataset: name.to_string(), ..snap });
            for dataset in datasets.iter_mut().filter(|d| d.origin.as_deref() == Some(old_id.as_str())) {
                dataset.origin = Some(new_id.clone());
            }
        }
        if let Some(former) = datasets.get_mut(&origin_snap.dataset) {
            former.origin = Some(format!("{name}@{}", origin_snap.name));
        }
        if let Some(promoted) = datasets.get_mut(name) {
            promoted.origin = previous_origin;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
pub(crate) mod tests;
