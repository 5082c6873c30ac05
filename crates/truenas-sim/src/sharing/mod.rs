//! The sharing domain: SMB, NFS and iSCSI shares (`sharing.smb.*`, `sharing.nfs.*`, `iscsi.*`), and
//! what these services see of the rest of the NAS.
//!
//! State: this file's type and `smb` (SMB shares), `nfs` (NFS exports), `iscsi` (iSCSI portals,
//! initiators, auth), `iscsi_target` (iSCSI targets, extents and their links), `sharing_seed` (the
//! demo shares).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `sharing_methods` (`sharing.smb.*`,
//! `sharing.nfs.*`), `iscsi_methods` (`iscsi.*`).
//!
//! What the sharing services (SMB, NFS, iSCSI) see of the rest of the NAS: the pool and its
//! datasets and zvols that shares point into, and the addresses services may bind to. Their
//! records live in `crate::table::Rows`.
//!
//! The demo pool's layout is fixed here rather than read from the storage state, so sharing
//! checks stay simple: a path is valid when it lies under `/mnt/<pool>`, and its dataset is the
//! longest known dataset containing it.

pub(crate) mod iscsi;
pub(crate) mod iscsi_methods;
pub(crate) mod iscsi_target;
pub(crate) mod nfs;
pub(crate) mod sharing_methods;
pub(crate) mod sharing_seed;
pub(crate) mod smb;

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};

/// Imported pools; shares must live under `/mnt/<pool>`.
pub(crate) const POOLS: [&str; 1] = ["tank"];

/// Datasets of the demo pool that shares point into.
const DATASETS: [&str; 9] = [
    "tank",
    "tank/backups",
    "tank/documents",
    "tank/home",
    "tank/iscsi",
    "tank/isos",
    "tank/media",
    "tank/timemachine",
    "tank/vms",
];

/// Zvols of the demo pool an iSCSI DISK extent may use.
pub(crate) const ZVOLS: [&str; 5] = [
    "tank/iscsi/esxi-datastore",
    "tank/iscsi/spare-lun",
    "tank/vms/ubuntu_server-disk0",
    "tank/vms/windows11-disk0",
    "tank/vms/haos-disk0",
];

/// Addresses configured on the NAS (services may bind to these).
pub(crate) const ADDRESSES: [&str; 1] = ["192.168.1.50"];

/// What `check_path_resides_within_volume` says about a path outside every pool.
pub(crate) const OUTSIDE_POOLS: &str = "The path must reside within a pool mount point";

/// Whether `path` lies under `/mnt/<pool>` of an imported pool.
pub(crate) fn in_pool(path: &str) -> bool {
    POOLS.iter().any(|pool| {
        let root = format!("/mnt/{pool}");
        path == root || path.starts_with(&format!("{root}/"))
    })
}

/// The dataset holding `path` and the path below its mountpoint, as 26.0 reports them
/// (`dataset`, `relative_path`); both `null` outside the pools.
pub(crate) fn split(path: &str) -> (Value, Value) {
    let Some(rest) = path.strip_prefix("/mnt/").filter(|_| in_pool(path)) else { return (Value::Null, Value::Null) };
    let rest = rest.trim_end_matches('/');
    let dataset = DATASETS
        .iter()
        .filter(|d| rest == **d || rest.starts_with(&format!("{d}/")))
        .max_by_key(|d| d.len())
        .copied()
        .unwrap_or_default();
    let relative = rest.strip_prefix(dataset).unwrap_or_default().trim_start_matches('/');
    (json!(dataset), json!(relative))
}

/// One validation problem with `EINVAL`.
pub(crate) fn invalid(attribute: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid { attribute: Some(attribute.into()), message: message.into(), errno: errno::EINVAL }
}

/// `Ok` when nothing is wrong, else every problem at once.
pub(crate) fn check(problems: Vec<Invalid>) -> Result<(), Failure> {
    if problems.is_empty() { Ok(()) } else { Err(Failure::Validation(problems)) }
}

pub(crate) use crate::table::Rows;

/// `row[key]` as a string, empty when absent.
pub(crate) fn text<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// `row[key]` as a boolean, `false` when absent.
pub(crate) fn flag(row: &Map<String, Value>, key: &str) -> bool {
    row.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// `row[key]` as a list of strings, empty when absent.
pub(crate) fn strings(row: &Map<String, Value>, key: &str) -> Vec<String> {
    row.get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

pub(crate) use crate::json::object;

/// `{"id": id}` followed by `fields`, the way entries are laid out.
pub(crate) fn with_id(id: i64, fields: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Test helpers: results checked against the `returns` schemas of TrueNAS's own API dumps.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::Value;

    use truenas_api::schema::Release;

    const DEFAULT_DUMPS: &str = "/work/shared/reference/truenas-api";

    /// The `returns` schema of `method` on `release`; `None` (and a note) without the dumps.
    fn returns(release: Release, method: &str) -> Option<Value> {
        let dir = std::env::var("TRUENAS_API_DUMP").unwrap_or_else(|_| DEFAULT_DUMPS.to_string());
        let path = format!("{dir}/{}.json", release.api_version());
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: no TrueNAS API dump at {path} (set TRUENAS_API_DUMP)");
            return None;
        };
        let dump: Value = serde_json::from_str(&text).ok()?;
        let methods = dump["methods"].as_array()?;
        methods.iter().find(|m| m["name"] == method).map(|m| m["returns"].clone())
    }

    /// `oneOf` as `anyOf`: the dumps keep pydantic's discriminated unions as `oneOf` without
    /// the discriminator a plain JSON Schema validator understands, so identical branches (SMB
    /// options of DEFAULT_SHARE and MULTIPROTOCOL_SHARE) would match twice and fail.
    fn relax(schema: &mut Value) {
        match schema {
            Value::Object(map) => {
                if let Some(branches) = map.remove("oneOf") {
                    map.insert("anyOf".into(), branches);
                }
                map.values_mut().for_each(relax);
            }
            Value::Array(items) => items.iter_mut().for_each(relax),
            _ => {}
        }
    }

    /// Every way `result` breaks the `returns` schema of `method` on `release`.
    pub(crate) fn shape_problems(release: Release, method: &str, result: &Value) -> Vec<String> {
        let Some(mut schema) = returns(release, method) else { return Vec::new() };
        relax(&mut schema);
        let validator = match jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema) {
            Ok(v) => v,
            Err(e) => return vec![format!("{release} {method}: schema does not compile: {e}")],
        };
        validator.iter_errors(result).map(|e| format!("{release} {method}: {e} at {}", e.instance_path())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_be_inside_a_pool() {
        assert!(in_pool("/mnt/tank"));
        assert!(in_pool("/mnt/tank/media/photos"));
        assert!(!in_pool("/mnt/tankette/x"));
        assert!(!in_pool("/mnt"));
        assert!(!in_pool("/etc/passwd"));
    }

    #[test]
    fn a_path_splits_at_its_deepest_dataset() {
        assert_eq!(split("/mnt/tank/media/photos/2024"), (json!("tank/media"), json!("photos/2024")));
        assert_eq!(split("/mnt/tank/media"), (json!("tank/media"), json!("")));
        assert_eq!(split("/mnt/tank/scratch"), (json!("tank"), json!("scratch")));
        assert_eq!(split("/srv/x"), (Value::Null, Value::Null));
    }

    #[test]
    fn the_shape_check_catches_a_field_truenas_does_not_return() {
        let release = truenas_api::schema::Release::V25_10;
        let dump = format!("{}/{}.json", "/work/shared/reference/truenas-api", release.api_version());
        if std::env::var("TRUENAS_API_DUMP").is_err() && std::fs::metadata(&dump).is_err() {
            return;
        }
        let bad = json!({"id": 1, "initiators": [], "comment": "", "auth_network": []});
        assert_eq!(testing::shape_problems(release, "iscsi.initiator.get_instance", &bad).len(), 1);
        let good = json!({"id": 1, "initiators": [], "comment": ""});
        assert!(testing::shape_problems(release, "iscsi.initiator.get_instance", &good).is_empty());
    }
}
