//! TrueNAS's validation of a replication task as a whole (on create and on update): direction
//! and naming, transport and credentials, excludes, encryption, schedule and retention.

use serde_json::{Map, Value};

use crate::failure::{Invalid, errno};
use crate::storage::{Storage, invalid};

/// Adds every problem of `data` to `problems`, attributes under `schema`.
pub(crate) fn validate(schema: &str, data: &Map<String, Value>, storage: &Storage, problems: &mut Vec<Invalid>) {
    let mut add =
        |field: &str, message: &str| problems.push(invalid(format!("{schema}.{field}"), message, errno::EINVAL));
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    let flag = |key: &str| data.get(key).and_then(Value::as_bool).unwrap_or(false);
    let given = |key: &str| data.get(key).is_some_and(|v| !v.is_null());
    let list = |key: &str| data.get(key).and_then(Value::as_array).cloned().unwrap_or_default();

    let snapshot_tasks = list("periodic_snapshot_tasks");
    let has_schedule = given("schedule");
    let naming = !list("naming_schema").is_empty();
    let also_include = !list("also_include_naming_schema").is_empty();
    let regex = given("name_regex");
    match text("direction") {
        "PUSH" => {
            for (i, task) in snapshot_tasks.iter().enumerate() {
                if task.as_i64().is_none_or(|id| storage.tasks.lookup(id).is_err()) {
                    add(&format!("periodic_snapshot_tasks.{i}"), "This snapshot task does not exist");
                }
            }
            if naming {
                add("naming_schema", "This field has no sense for push replication");
            }
            if snapshot_tasks.is_empty() && !also_include && !regex {
                add(
                    "periodic_snapshot_tasks",
                    "You must at least either bind a periodic snapshot task or provide \"Also Include Naming Schema\" \
                     or \"Name Regex\" for push replication task",
                );
            }
            if !has_schedule && flag("auto") && snapshot_tasks.is_empty() {
                add(
                    "auto",
                    "Push replication that runs automatically must be either bound to a periodic snapshot task or \
                     have a schedule",
                );
            }
        }
        _ => {
            if !has_schedule && flag("auto") {
                add("auto", "Pull replication that runs automatically must have a schedule");
            }
            if !snapshot_tasks.is_empty() {
                add("periodic_snapshot_tasks", "Pull replication can't be bound to a periodic snapshot task");
            }
            if !naming && !regex {
                add("naming_schema", "Naming schema or Name regex are required for pull replication");
            }
            if also_include {
                add("also_include_naming_schema", "This field has no sense for pull replication");
            }
            if flag("hold_pending_snapshots") {
                add(
                    "hold_pending_snapshots",
                    "Pull replication tasks can't hold pending snapshots because they don't do source retention",
                );
            }
        }
    }

    match text("transport") {
        "LOCAL" if given("ssh_credentials") => {
            add("ssh_credentials", "Remote credentials have no sense for local replication")
        }
        "LOCAL" => {}
        _ if !given("ssh_credentials") => {
            add("ssh_credentials", "SSH Credentials are required for non-local replication")
        }
        _ => {}
    }
    if text("transport") == "SSH+NETCAT" && !given("netcat_active_side") {
        add("netcat_active_side", "You must choose active side for SSH+netcat replication");
    }

    let sources: Vec<String> = list("source_datasets").iter().filter_map(Value::as_str).map(str::to_string).collect();
    let exclude = list("exclude");
    if !flag("recursive") && !exclude.is_empty() {
        add("exclude", "Excluding child datasets is only supported for recursive replication");
    }
    for (i, excluded) in exclude.iter().enumerate() {
        let excluded = excluded.as_str().unwrap_or_default();
        if !sources.iter().any(|s| excluded.starts_with(&format!("{s}/"))) {
            add(&format!("exclude.{i}"), "This dataset is not a child of any of source datasets");
        }
    }

    if flag("encryption") && !flag("encryption_inherit") {
        for key in ["encryption_key", "encryption_key_format", "encryption_key_location"] {
            if !given(key) {
                add(key, "This property is required when remote dataset encryption is enabled");
            }
        }
    }

    if has_schedule && !flag("auto") {
        add("schedule", "You can't have schedule for replication that does not run automatically");
    } else if !has_schedule && flag("only_matching_schedule") {
        add("only_matching_schedule", "You can't have only-matching-schedule without schedule");
    }

    if text("retention_policy") == "CUSTOM" {
        for key in ["lifetime_value", "lifetime_unit"] {
            if !given(key) {
                add(key, "This field is required for custom retention policy");
            }
        }
    } else {
        for key in ["lifetime_value", "lifetime_unit"] {
            if given(key) {
                add(key, "This field has no sense for specified retention policy");
            }
        }
    }
}
