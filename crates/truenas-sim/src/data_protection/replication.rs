//! ZFS replication tasks (`replication.*`): source datasets sent to a target dataset on this NAS
//! (LOCAL) or another one over SSH, with TrueNAS's validation of direction, transport, naming,
//! schedule and retention. A task's `state` follows its runs (PENDING, RUNNING, FINISHED, ERROR).
//!
//! SSH transports name an `SSH_CREDENTIALS` keychain credential by id; entries show that
//! credential as the keychain holds it (null once it is gone).

use serde_json::{Map, Value, json};

use crate::data_protection::cloud_task::last_job;
use crate::failure::{Failure, Invalid, errno};
use crate::records::Records;
use crate::storage::{Storage, check, date, invalid};
use crate::table::Table;

/// One replication task.
#[derive(Debug, Clone)]
pub(crate) struct Replication {
    pub(crate) id: i64,
    /// The settings as created (`ssh_credentials` an id, `periodic_snapshot_tasks` ids).
    pub(crate) fields: Map<String, Value>,
    /// zettarepl's view: `{state, datetime, last_snapshot | error}`.
    pub(crate) state: Value,
    pub(crate) running: bool,
    /// A run from before the simulated boot (seed data), shown until a new run exists.
    pub(crate) past_job: Option<Value>,
}

impl Replication {
    fn flag(&self, key: &str) -> bool {
        self.fields.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    pub(crate) fn text(&self, key: &str) -> &str {
        self.fields.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    pub(crate) fn source_datasets(&self) -> Vec<String> {
        strings(self.fields.get("source_datasets"))
    }
}

/// `InstanceNotFound` of `replication.get_instance`.
pub(crate) fn replication_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Replication {id} does not exist"))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Every replication task.
#[derive(Debug)]
pub(crate) struct Replications {
    tasks: Table<Replication>,
}

impl Default for Replications {
    fn default() -> Self {
        Replications { tasks: Table::new("Replication") }
    }
}

impl Replications {
    pub(crate) fn get(&self, id: i64) -> Result<&Replication, Failure> {
        self.tasks.get(id)
    }

    fn get_mut(&mut self, id: i64) -> Result<&mut Replication, Failure> {
        self.tasks.get_mut(id)
    }

    /// The task as `query` shows it.
    pub(crate) fn entry(&self, task: &Replication, storage: &Storage, keychain: &Records, jobs: &[Value]) -> Value {
        let mut entry = Map::new();
        entry.insert("id".into(), json!(task.id));
        entry.extend(task.fields.clone());
        let ssh = task.fields.get("ssh_credentials").and_then(Value::as_i64).and_then(|id| keychain.get(id).ok());
        entry.insert("ssh_credentials".into(), ssh.unwrap_or(Value::Null));
        let snapshot_tasks: Vec<Value> = ids(task.fields.get("periodic_snapshot_tasks"))
            .into_iter()
            .filter_map(|id| storage.tasks.lookup(id).ok())
            .map(|t| {
                let mut e = t.entry();
                if let Some(map) = e.as_object_mut() {
                    map.remove("vmware_sync");
                    let state = map.get("state").and_then(|s| s.get("state")).cloned().unwrap_or(json!("PENDING"));
                    map.insert("state".into(), state);
                }
                e
            })
            .collect();
        entry.insert("periodic_snapshot_tasks".into(), Value::Array(snapshot_tasks));
        entry.insert("state".into(), task.state.clone());
        let job = last_job(jobs, "replication.run", task.id).cloned().or_else(|| task.past_job.clone());
        entry.insert("job".into(), job.unwrap_or(Value::Null));
        entry.insert("has_encrypted_dataset_keys".into(), json!(false));
        Value::Object(entry)
    }

    pub(crate) fn entries(&self, storage: &Storage, keychain: &Records, jobs: &[Value]) -> Vec<Value> {
        self.tasks.values().map(|t| self.entry(t, storage, keychain, jobs)).collect()
    }

    /// The tasks (id, name) that connect with one of the keychain credentials `ids`.
    pub(crate) fn using_credentials(&self, ids: &[i64]) -> Vec<(i64, String)> {
        self.tasks
            .values()
            .filter(|t| t.fields.get("ssh_credentials").and_then(Value::as_i64).is_some_and(|c| ids.contains(&c)))
            .map(|t| (t.id, t.text("name").to_string()))
            .collect()
    }

    /// Turns task `id` off, as deleting its credential with `cascade` does.
    pub(crate) fn disable(&mut self, id: i64) -> Result<(), Failure> {
        self.get_mut(id)?.fields.insert("enabled".into(), json!(false));
        Ok(())
    }

    /// `create`, with the schema's defaults already in `data`.
    pub(crate) fn create(&mut self, data: Map<String, Value>, storage: &Storage) -> Result<i64, Failure> {
        check(self.validate("replication_create", &data, None, storage))?;
        let task =
            |id| Replication { id, fields: data, state: json!({"state": "PENDING"}), running: false, past_job: None };
        Ok(self.tasks.insert(task))
    }

    /// `update`: the changes over the stored settings, validated as a whole.
    pub(crate) fn update(&mut self, id: i64, changes: Map<String, Value>, storage: &Storage) -> Result<(), Failure> {
        let mut fields = self.get(id)?.fields.clone();
        fields.extend(changes);
        check(self.validate("replication_update", &fields, Some(id), storage))?;
        self.get_mut(id)?.fields = fields;
        Ok(())
    }

    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.tasks.delete(id).map(drop)
    }

    /// The start of `replication.run`: refused for a disabled or running task, else RUNNING.
    pub(crate) fn start_run(&mut self, id: i64, now: u64) -> Result<Replication, Failure> {
        let task = self.get_mut(id)?;
        if !task.flag("enabled") {
            return Err(Failure::fault("Task is not enabled"));
        }
        if task.running {
            return Err(Failure::fault("Task is already running"));
        }
        task.running = true;
        task.state = json!({"state": "RUNNING", "datetime": date(now)});
        Ok(task.clone())
    }

    /// The end of a run: FINISHED with the last snapshot sent, or ERROR with the reason.
    pub(crate) fn finish_run(&mut self, id: i64, outcome: Result<Option<String>, String>, now: u64) {
        let Ok(task) = self.get_mut(id) else { return };
        if !task.running {
            return;
        }
        task.running = false;
        task.state = match outcome {
            Ok(last_snapshot) => json!({"state": "FINISHED", "datetime": date(now), "last_snapshot": last_snapshot}),
            Err(error) => json!({"state": "ERROR", "datetime": date(now), "error": error}),
        };
    }

    /// Records a run from before the simulated boot (seed data).
    pub(crate) fn finish_seeded(&mut self, id: i64, last_snapshot: Option<String>, at: u64, job: Value) {
        if let Ok(task) = self.get_mut(id) {
            task.running = true;
            task.past_job = Some(job);
        }
        self.finish_run(id, Ok(last_snapshot), at);
    }

    /// `restore`: a new, disabled task that copies task `id`'s target back into `target_dataset`.
    pub(crate) fn restore_data(&self, id: i64, name: &str, target: &str) -> Result<Map<String, Value>, Failure> {
        let old = self.get(id)?;
        let mut data = Map::new();
        data.insert("name".into(), json!(name));
        let old_target = old.text("target_dataset");
        let sources: Vec<String> = old
            .source_datasets()
            .iter()
            .map(|s| match old.source_datasets().len() {
                1 => old_target.to_string(),
                _ => format!("{old_target}/{}", s.rsplit('/').next().unwrap_or(s)),
            })
            .collect();
        if old.text("direction") == "PUSH" {
            data.insert("direction".into(), json!("PULL"));
            let mut schemas = strings(old.fields.get("also_include_naming_schema"));
            schemas.extend(strings(old.fields.get("naming_schema")));
            data.insert("naming_schema".into(), json!(schemas));
        } else {
            data.insert("direction".into(), json!("PUSH"));
            data.insert("also_include_naming_schema".into(), json!(strings(old.fields.get("naming_schema"))));
        }
        for key in ["transport", "ssh_credentials", "recursive", "name_regex"] {
            if let Some(value) = old.fields.get(key) {
                data.insert(key.into(), value.clone());
            }
        }
        data.insert("source_datasets".into(), json!(sources));
        data.insert("target_dataset".into(), json!(target));
        data.insert("retention_policy".into(), json!("NONE"));
        data.insert("auto".into(), json!(false));
        data.insert("enabled".into(), json!(false));
        Ok(data)
    }
}

fn ids(value: Option<&Value>) -> Vec<i64> {
    value.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
}

#[path = "replication_checks.rs"]
mod checks;

#[cfg(test)]
#[path = "replication_tests.rs"]
mod tests;

impl Replications {
    fn validate(&self, schema: &str, data: &Map<String, Value>, id: Option<i64>, storage: &Storage) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
        if self.tasks.values().any(|t| t.text("name") == name && Some(t.id) != id) {
            problems.push(invalid(format!("{schema}.name"), "Object with this name already exists", errno::EINVAL));
        }
        checks::validate(schema, data, storage, &mut problems);
        problems
    }
}
