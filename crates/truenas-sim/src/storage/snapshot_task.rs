//! Periodic snapshot tasks (`pool.snapshottask.*`): a dataset, a cron schedule, a naming schema
//! and a retention, kept in [`SnapshotTasks`]. Running one takes its snapshots at once, named
//! from the schema in UTC.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, errno};
use crate::storage::dataset::Datasets;
use crate::storage::snapshot::Snapshots;
use crate::storage::zfs::{Txg, check, invalid, now_secs};
use crate::table::Rows;

/// One periodic snapshot task, with TrueNAS's defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotTask {
    pub(crate) id: i64,
    pub(crate) dataset: String,
    pub(crate) recursive: bool,
    pub(crate) lifetime_value: i64,
    pub(crate) lifetime_unit: String,
    pub(crate) enabled: bool,
    pub(crate) exclude: Vec<String>,
    pub(crate) naming_schema: String,
    pub(crate) allow_empty: bool,
    pub(crate) schedule: Map<String, Value>,
    /// When it last ran, for `state`.
    pub(crate) last_run: Option<u64>,
}

impl SnapshotTask {
    pub(crate) fn entry(&self) -> Value {
        let state = match self.last_run {
            Some(at) => json!({"state": "FINISHED", "datetime": {"$date": at * 1000}}),
            None => json!({"state": "PENDING"}),
        };
        json!({
            "id": self.id,
            "dataset": self.dataset,
            "recursive": self.recursive,
            "lifetime_value": self.lifetime_value,
            "lifetime_unit": self.lifetime_unit,
            "enabled": self.enabled,
            "exclude": self.exclude,
            "naming_schema": self.naming_schema,
            "allow_empty": self.allow_empty,
            "schedule": self.schedule,
            "vmware_sync": false,
            "state": state,
        })
    }
}

pub(crate) fn task_not_found(id: i64) -> Failure {
    Failure::not_found(format!("PeriodicSnapshotTask {id} does not exist"))
}

/// Every periodic snapshot task.
#[derive(Debug, Default)]
pub(crate) struct SnapshotTasks {
    rows: Rows<SnapshotTask>,
}

impl SnapshotTasks {
    /// Stores a task as given (the demo data); later ids follow it.
    pub(crate) fn insert(&mut self, task: SnapshotTask) {
        self.rows.insert_at(task.id, task);
    }

    /// Keeps only the tasks `keep` passes.
    pub(crate) fn retain(&mut self, keep: impl Fn(&SnapshotTask) -> bool) {
        self.rows.retain(keep);
    }

    /// Every task, by id.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &SnapshotTask> {
        self.rows.values()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut SnapshotTask> {
        self.rows.values_mut()
    }

    pub(crate) fn lookup(&self, id: i64) -> Result<&SnapshotTask, Failure> {
        self.rows.get(id).ok_or_else(|| task_not_found(id))
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.rows.values().map(SnapshotTask::entry).collect()
    }

    /// `pool.snapshottask.create`, with the schema's defaults already in `data`.
    pub(crate) fn create(&mut self, data: &Map<String, Value>, datasets: &Datasets) -> Result<i64, Failure> {
        const SCHEMA: &str = "periodic_snapshot_create";
        let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let flag = |key: &str, default: bool| data.get(key).and_then(Value::as_bool).unwrap_or(default);
        let dataset = text("dataset");
        let recursive = flag("recursive", false);
        let exclude: Vec<String> = data
            .get("exclude")
            .and_then(Value::as_array)
            .map(|e| e.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let naming_schema = text("naming_schema");
        let mut problems = Vec::new();
        if !datasets.contains(&dataset) {
            problems.push(invalid(format!("{SCHEMA}.dataset"), "Invalid ZFS dataset", errno::EINVAL));
        }
        if !recursive && !exclude.is_empty() {
            problems.push(invalid(
                format!("{SCHEMA}.exclude"),
                "Excluding datasets has no sense for non-recursive periodic snapshot tasks",
                errno::EINVAL,
            ));
        }
        for (i, excluded) in exclude.iter().enumerate() {
            if !excluded.starts_with(&format!("{dataset}/")) {
                problems.push(invalid(
                    format!("{SCHEMA}.exclude.{i}"),
                    "Excluded dataset should be a child or other descendant of selected dataset",
                    errno::EINVAL,
                ));
            }
        }
        if ["%Y", "%m", "%d", "%H", "%M"].iter().any(|token| !naming_schema.contains(token)) {
            problems.push(invalid(
                format!("{SCHEMA}.naming_schema"),
                "%Y, %m, %d, %H and %M are required in the naming schema",
                errno::EINVAL,
            ));
        }
        check(problems)?;
        let id = self.rows.insert_with(|id| SnapshotTask {
            id,
            dataset,
            recursive,
            lifetime_value: data.get("lifetime_value").and_then(Value::as_i64).unwrap_or(2),
            lifetime_unit: data.get("lifetime_unit").and_then(Value::as_str).unwrap_or("WEEK").to_string(),
            enabled: flag("enabled", true),
            exclude,
            naming_schema,
            allow_empty: flag("allow_empty", true),
            schedule: data.get("schedule").and_then(Value::as_object).cloned().unwrap_or_default(),
            last_run: None,
        });
        Ok(id)
    }

    /// `pool.snapshottask.delete`.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.lookup(id)?;
        self.rows.remove(id);
        Ok(())
    }

    /// `pool.snapshottask.run`: takes the task's snapshots now.
    pub(crate) fn run(
        &mut self,
        id: i64,
        snapshots: &mut Snapshots,
        datasets: &Datasets,
        txg: &mut Txg,
    ) -> Result<(), Failure> {
        let task = self.lookup(id)?.clone();
        if !task.enabled {
            return Err(Failure::fault("Task is not enabled"));
        }
        let mut request = Map::new();
        request.insert("dataset".into(), json!(task.dataset));
        request.insert("naming_schema".into(), json!(task.naming_schema));
        request.insert("recursive".into(), json!(task.recursive));
        request.insert("exclude".into(), json!(task.exclude));
        match snapshots.create(&request, datasets, txg) {
            // A second run within the same minute names the same snapshot: nothing new to take.
            Ok(_) | Err(Failure::Validation(_)) => {}
            Err(other) => return Err(other),
        }
        if let Some(stored) = self.rows.get_mut(id) {
            stored.last_run = Some(now_secs());
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "snapshot_task_tests.rs"]
mod tests;
