//! Cloud sync tasks (`cloudsync.*`, rclone) and TrueCloud backup tasks (`cloud_backup.*`,
//! restic): a local path under a pool, a cloud credential, a bucket/folder and a schedule. Both
//! kinds share this store; a backup task also keeps the restic snapshots its runs made.
//!
//! A task's `job` is its last run, found among the machine's jobs as TrueNAS finds it (the
//! newest job of the task's sync method whose first argument is the task id).

use serde_json::{Map, Value, json};

use crate::data_protection::cloud_credentials::CloudCredentials;
use crate::failure::{Failure, Invalid, errno};
use crate::storage::{Storage, check, invalid};
use crate::table::Table;

/// Which of the two task kinds a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloudKind {
    Sync,
    Backup,
}

impl CloudKind {
    /// The service's verbose name in `InstanceNotFound`.
    fn noun(self) -> &'static str {
        match self {
            CloudKind::Sync => "CloudSync",
            CloudKind::Backup => "CloudBackup",
        }
    }

    fn schema(self, verb: &str) -> String {
        match self {
            CloudKind::Sync => format!("cloud_sync_{verb}"),
            CloudKind::Backup => format!("cloud_backup_{verb}"),
        }
    }

    /// The job method whose runs make a task's `job`.
    pub(crate) fn sync_method(self) -> &'static str {
        match self {
            CloudKind::Sync => "cloudsync.sync",
            CloudKind::Backup => "cloud_backup.sync",
        }
    }

    pub(crate) fn not_found(self, id: i64) -> Failure {
        Failure::not_found(format!("{} {id} does not exist", self.noun()))
    }
}

/// The newest job of `method` run for task `id`, among `jobs` (oldest first).
pub(crate) fn last_job<'a>(jobs: &'a [Value], method: &str, id: i64) -> Option<&'a Value> {
    jobs.iter().rev().find(|j| j["method"] == method && j["arguments"].get(0).and_then(Value::as_i64) == Some(id))
}

/// Whether a job dict is still waiting or running.
pub(crate) fn is_active(job: &Value) -> bool {
    matches!(job["state"].as_str(), Some("WAITING" | "RUNNING"))
}

/// One task: its settings as TrueNAS stores them (`credentials` as an id).
#[derive(Debug, Clone)]
pub(crate) struct CloudTask {
    pub(crate) id: i64,
    pub(crate) fields: Map<String, Value>,
    /// A run from before the simulated boot (seed data), shown until a new run exists.
    pub(crate) past_job: Option<Value>,
    /// Restic snapshots in the repository (backup tasks), oldest first.
    pub(crate) snapshots: Vec<Value>,
}

impl CloudTask {
    pub(crate) fn credentials_id(&self) -> i64 {
        self.fields.get("credentials").and_then(Value::as_i64).unwrap_or_default()
    }

    pub(crate) fn text(&self, key: &str) -> &str {
        self.fields.get(key).and_then(Value::as_str).unwrap_or_default()
    }
}

/// Every task of one kind.
#[derive(Debug)]
pub(crate) struct CloudTasks {
    pub(crate) kind: CloudKind,
    tasks: Table<CloudTask>,
}

impl CloudTasks {
    pub(crate) fn new(kind: CloudKind) -> CloudTasks {
        CloudTasks { kind, tasks: Table::new(kind.noun()) }
    }

    pub(crate) fn get(&self, id: i64) -> Result<&CloudTask, Failure> {
        self.tasks.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: i64) -> Result<&mut CloudTask, Failure> {
        self.tasks.get_mut(id)
    }

    /// Whether any task uses credential `id`, and the first such task's name.
    pub(crate) fn user_of(&self, credential: i64) -> Option<String> {
        self.tasks.values().find(|t| t.credentials_id() == credential).map(|t| match t.text("description") {
            "" => t.id.to_string(),
            name => name.to_string(),
        })
    }

    /// The task as `query` shows it: the credential expanded, `job` its last run, never locked.
    /// With `datasets` (TrueNAS 26.0), also the dataset holding the path and the path within it.
    pub(crate) fn entry(
        &self,
        task: &CloudTask,
        credentials: &CloudCredentials,
        jobs: &[Value],
        datasets: Option<&Storage>,
    ) -> Value {
        let mut entry = Map::new();
        entry.insert("id".into(), json!(task.id));
        entry.extend(task.fields.clone());
        if let Some(storage) = datasets {
            let (dataset, relative) = storage.datasets.of_path(task.text("path")).unzip();
            entry.insert("dataset".into(), json!(dataset));
            entry.insert("relative_path".into(), json!(relative));
        }
        let credential = credentials.get(task.credentials_id()).map(|c| c.entry()).unwrap_or(Value::Null);
        entry.insert("credentials".into(), credential);
        let job = last_job(jobs, self.kind.sync_method(), task.id).cloned().or_else(|| task.past_job.clone());
        entry.insert("job".into(), job.unwrap_or(Value::Null));
        entry.insert("locked".into(), json!(false));
        Value::Object(entry)
    }

    pub(crate) fn entries(
        &self,
        credentials: &CloudCredentials,
        jobs: &[Value],
        datasets: Option<&Storage>,
    ) -> Vec<Value> {
        self.tasks.values().map(|t| self.entry(t, credentials, jobs, datasets)).collect()
    }

    fn validate(
        &self,
        verb: &str,
        data: &Map<String, Value>,
        credentials: &CloudCredentials,
        storage: &Storage,
    ) -> Vec<Invalid> {
        let schema = self.kind.schema(verb);
        let mut problems = Vec::new();
        let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
        let pool = path.strip_prefix("/mnt/").and_then(|rest| rest.split('/').next()).unwrap_or_default();
        if pool.is_empty() || !storage.datasets.contains(pool) {
            problems.push(invalid(
                format!("{schema}.path"),
                "The path must reside within a pool mount point",
                errno::EINVAL,
            ));
        }
        let credential_id = data.get("credentials").and_then(Value::as_i64).unwrap_or_default();
        match credentials.get(credential_id) {
            Err(_) => problems.push(invalid(format!("{schema}.credentials"), "Invalid credentials", errno::EINVAL)),
            Ok(credential) => {
                let bucket = data.get("attributes").and_then(|a| a.get("bucket")).and_then(Value::as_str);
                if credential.has_buckets() && bucket.is_none_or(str::is_empty) {
                    problems.push(invalid(format!("{schema}.attributes.bucket"), "Field required", errno::EINVAL));
                }
            }
        }
        problems
    }

    /// `create`, with the schema's defaults already in `data`.
    pub(crate) fn create(
        &mut self,
        data: Map<String, Value>,
        credentials: &CloudCredentials,
        storage: &Storage,
    ) -> Result<i64, Failure> {
        check(self.validate("create", &data, credentials, storage))?;
        Ok(self.tasks.insert(|id| CloudTask { id, fields: data, past_job: None, snapshots: Vec::new() }))
    }

    /// `update`: the changes over the stored settings, validated as a whole.
    pub(crate) fn update(
        &mut self,
        id: i64,
        changes: Map<String, Value>,
        credentials: &CloudCredentials,
        storage: &Storage,
    ) -> Result<(), Failure> {
        let mut fields = self.get(id)?.fields.clone();
        fields.extend(changes);
        check(self.validate("update", &fields, credentials, storage))?;
        self.get_mut(id)?.fields = fields;
        Ok(())
    }

    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.tasks.delete(id).map(drop)
    }

    /// `cloudsync.restore`: a new, disabled task in the other direction into `opts.path`.
    pub(crate) fn restore_data(&self, id: i64, opts: &Map<String, Value>) -> Result<Map<String, Value>, Failure> {
        let old = self.get(id)?;
        let mut data = Map::new();
        for key in ["description", "transfer_mode", "path"] {
            data.insert(key.into(), opts.get(key).cloned().unwrap_or_else(|| json!("")));
        }
        let direction = if old.text("direction") == "PUSH" { "PULL" } else { "PUSH" };
        data.insert("direction".into(), json!(direction));
        data.insert("enabled".into(), json!(false));
        for key in [
            "credentials",
            "encryption",
            "filename_encryption",
            "encryption_password",
            "encryption_salt",
            "schedule",
            "transfers",
            "attributes",
        ] {
            if let Some(value) = old.fields.get(key) {
                data.insert(key.into(), value.clone());
            }
        }
        Ok(data)
    }

    /// A finished backup run: a new restic snapshot, and only the newest `keep_last` kept.
    pub(crate) fn add_snapshot(&mut self, id: i64, snapshot: Value) -> Result<(), Failure> {
        let task = self.get_mut(id)?;
        let keep = task.fields.get("keep_last").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
        task.snapshots.push(snapshot);
        let excess = task.snapshots.len().saturating_sub(keep);
        task.snapshots.drain(..excess);
        Ok(())
    }
}

#[cfg(test)]
#[path = "cloud_task_tests.rs"]
mod tests;
