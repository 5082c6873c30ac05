//! Who owns a dataset and how much its users may store: the mode, owner and ACL of each
//! dataset's mountpoint (`filesystem.setperm` on a dataset path), and user, group and dataset
//! quotas (`pool.dataset.get_quota`, `set_quota`). Only dataset mountpoints are tracked: a path
//! deeper inside a dataset is accepted and changes nothing. The `Perms` and `Quota` a dataset
//! carries are defined in `dataset.rs`; the functions here change only [`Datasets`].

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::storage::dataset::{Datasets, Kind, Quota};
use crate::storage::space::Space;
use crate::storage::zfs::{check, invalid, is_within, refuse};

/// Accounts the simulated NAS can resolve by name (users and groups share names here).
const ACCOUNTS: [(&str, i64); 4] = [("root", 0), ("apps", 568), ("truenas_admin", 950), ("nobody", 65534)];

fn account_id(name: &str) -> Option<i64> {
    name.parse().ok().or_else(|| ACCOUNTS.iter().find(|(n, _)| *n == name).map(|(_, id)| *id))
}

fn account_name(id: i64) -> Option<&'static str> {
    ACCOUNTS.iter().find(|(_, i)| *i == id).map(|(n, _)| *n)
}

/// `filesystem.setperm` on a path under a dataset.
pub(crate) fn setperm(datasets: &mut Datasets, data: &Map<String, Value>) -> Result<(), Failure> {
    const SCHEMA: &str = "filesystem.setperm";
    let path = data.get("path").and_then(Value::as_str).unwrap_or_default();
    let problem = |field: &str, message: String| Err(refuse(format!("{SCHEMA}.{field}"), message, errno::EINVAL));
    if !path.starts_with('/') {
        return problem("path", "Must be an absolute path".into());
    }
    let Some(relative) = path.strip_prefix("/mnt/").map(|r| r.trim_end_matches('/')) else {
        return problem(
            "path",
            format!(
                "Changes to permissions on paths that are not beneath the directory /mnt are not permitted: {path}"
            ),
        );
    };
    let Some(dataset) = datasets
        .iter()
        .filter(|d| d.kind == Kind::Filesystem && is_within(relative, &d.name))
        .max_by_key(|d| d.name.len())
        .map(|d| d.name.clone())
    else {
        return Err(Failure::call(errno::ENOENT, format!("Path {path} not found")));
    };
    let mut problems: Vec<Invalid> = Vec::new();
    if !relative.contains('/') {
        problems.push(invalid(
            format!("{SCHEMA}.path"),
            format!("The specified path is a ZFS pool mountpoint \"({path})\" "),
            errno::EINVAL,
        ));
    } else if datasets.is_locked(&dataset) {
        problems.push(invalid(
            format!("{SCHEMA}.path"),
            "Path component for is currently encrypted and locked",
            errno::EINVAL,
        ));
    }
    for (field, what) in [("user", "user"), ("group", "group")] {
        if let Some(name) = data.get(field).and_then(Value::as_str)
            && account_id(name).is_none()
        {
            problems.push(invalid(
                format!("{SCHEMA}.{field}"),
                format!("{name}: {what} does not exist"),
                errno::EINVAL,
            ));
        }
    }
    let options = data.get("options").cloned().unwrap_or(Value::Null);
    let flag = |key: &str| options.get(key).and_then(Value::as_bool).unwrap_or(false);
    let nontrivial = datasets.get(&dataset).is_some_and(|d| d.perms.nontrivial_acl);
    if nontrivial && !flag("stripacl") {
        problems.push(invalid(
            format!("{SCHEMA}.mode"),
            format!("Non-trivial ACL present on [{path}]. Option \"stripacl\" required to change permission."),
            errno::EINVAL,
        ));
    }
    let mode = data.get("mode").and_then(Value::as_str);
    if mode.is_some_and(|m| u32::from_str_radix(m, 8).is_ok_and(|bits| bits == 0)) {
        problems.push(invalid(format!("{SCHEMA}.mode"), "Empty permissions are not permitted.", errno::EINVAL));
    }
    check(problems)?;
    if relative != dataset {
        return Ok(());
    }
    let uid = data
        .get("user")
        .and_then(Value::as_str)
        .and_then(account_id)
        .or_else(|| data.get("uid").and_then(Value::as_i64));
    let gid = data
        .get("group")
        .and_then(Value::as_str)
        .and_then(account_id)
        .or_else(|| data.get("gid").and_then(Value::as_i64));
    let targets: Vec<String> = if flag("recursive") && flag("traverse") {
        datasets.names().filter(|n| is_within(n, &dataset)).cloned().collect()
    } else {
        vec![dataset]
    };
    for target in targets {
        let Some(perms) = datasets.get_mut(&target).map(|d| &mut d.perms) else { continue };
        if let Some(mode) = mode {
            perms.mode = mode.to_string();
        }
        if let Some(uid) = uid.filter(|u| *u >= 0) {
            perms.uid = uid;
        }
        if let Some(gid) = gid.filter(|g| *g >= 0) {
            perms.gid = gid;
        }
        perms.nontrivial_acl = false;
    }
    Ok(())
}

/// `pool.dataset.get_quota`.
pub(crate) fn get_quota(space: &Space<'_>, name: &str, kind: &str) -> Result<Vec<Value>, Failure> {
    let dataset = space.datasets.lookup(name)?;
    Ok(match kind {
        "DATASET" => vec![json!({
            "quota_type": "DATASET",
            "id": name,
            "name": name,
            "quota": dataset.local_bytes("quota"),
            "refquota": dataset.local_bytes("refquota"),
            "used_bytes": space.used(name),
        })],
        "USER" | "GROUP" => dataset
            .quotas
            .iter()
            .filter(|q| q.kind == kind)
            .map(|q| {
                json!({
                    "quota_type": kind,
                    "id": q.id,
                    "name": account_name(q.id),
                    "quota": q.quota,
                    "used_bytes": q.used,
                    "obj_used": q.obj_used,
                    "obj_quota": q.obj_quota,
                })
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// `pool.dataset.set_quota`: dataset quotas (`QUOTA`/`REFQUOTA`), user and group byte
/// quotas, and object quotas (`USEROBJ`, `GROUPOBJ`). A value of 0 removes a quota.
pub(crate) fn set_quota(datasets: &mut Datasets, name: &str, quotas: &[Value]) -> Result<(), Failure> {
    datasets.lookup(name)?;
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    for (i, item) in quotas.iter().enumerate() {
        let kind = item.get("quota_type").and_then(Value::as_str).unwrap_or_default();
        let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
        let value = item.get("quota_value").and_then(Value::as_u64).unwrap_or(0);
        if kind == "DATASET" {
            if !matches!(id, "QUOTA" | "REFQUOTA") {
                problems.push(invalid(
                    format!("quotas.{i}.id"),
                    "id for quota_type DATASET must be either \"QUOTA\" or \"REFQUOTA\"",
                    errno::EINVAL,
                ));
            }
        } else if account_id(id).is_none() {
            let what = if kind.starts_with("USER") { "user" } else { "group" };
            problems.push(invalid(format!("quotas.{i}.id"), format!("{what} {id} does not exist"), errno::EINVAL));
        }
        changes.push((kind.to_string(), id.to_string(), value));
    }
    check(problems)?;
    let Some(dataset) = datasets.get_mut(name) else { return Ok(()) };
    for (kind, id, value) in changes {
        if kind == "DATASET" {
            let prop = id.to_ascii_lowercase();
            dataset.props.insert(prop, value.to_string());
            continue;
        }
        let owner = if kind.starts_with("USER") { "USER" } else { "GROUP" };
        let numeric = account_id(&id).unwrap_or_default();
        let at = match dataset.quotas.iter().position(|q| q.kind == owner && q.id == numeric) {
            Some(at) => at,
            None => {
                let fresh = Quota { kind: owner.into(), id: numeric, quota: 0, obj_quota: 0, used: 0, obj_used: 0 };
                dataset.quotas.push(fresh);
                dataset.quotas.len() - 1
            }
        };
        if let Some(quota) = dataset.quotas.get_mut(at) {
            if kind.ends_with("OBJ") {
                quota.obj_quota = value;
            } else {
                quota.quota = value;
            }
        }
        dataset.quotas.retain(|q| q.quota > 0 || q.obj_quota > 0 || q.used > 0);
    }
    Ok(())
}

#[cfg(test)]
#[path = "dataset_perm_tests.rs"]
mod tests;
