//! What a string argument names, when it names something on the NAS (`kind = "path"` in
//! `tools/*.toml`), and the canonical form it must have before any rule reads it.
//!
//! A policy rule such as `require args.path regex ^/mnt/tank/scratch(/|$)` only means what it
//! says when the path cannot walk out of the prefix it matched. So every path-like argument is
//! refused, before policy and before anything is sent, unless it is canonical: no `.` or `..`
//! segment, no empty segment (`//`, a trailing `/`), no NUL or other control character. Dataset
//! and snapshot names must also follow ZFS's naming rules, which TrueNAS applies.

/// The kinds of names an argument can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// An absolute filesystem path, e.g. `/mnt/tank/media`. `/` itself is canonical.
    Path,
    /// A ZFS dataset or zvol name, e.g. `tank/media` (a pool name alone is one too).
    Dataset,
    /// A ZFS snapshot name, e.g. `tank/media@before-upgrade`.
    Snapshot,
    /// A dataset name (`tank/data`) or a mount path under `/mnt` (`/mnt/tank/data`): either
    /// canonical, and a path only under `/mnt/`.
    DatasetOrMount,
    /// An object (app values, VM device attributes) in which every string under a key named
    /// `path`, `host_path`, `hostpath` or `mountpoint`, at any depth, is a canonical absolute
    /// path.
    PathsWithin,
}

/// The keys whose string values [`ValueKind::PathsWithin`] checks as paths.
pub(crate) const PATH_KEYS: [&str; 4] = ["path", "host_path", "hostpath", "mountpoint"];

/// ZFS's limit on a full dataset or snapshot name (`ZFS_MAX_DATASET_NAME_LEN` less the NUL).
const MAX_ZFS_NAME: usize = 255;

/// A generous bound on a path (Linux's `PATH_MAX` less the NUL).
const MAX_PATH: usize = 4095;

impl ValueKind {
    /// The name `tools/*.toml` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Path => "path",
            ValueKind::Dataset => "dataset",
            ValueKind::DatasetOrMount => "dataset_or_mount",
            ValueKind::Snapshot => "snapshot",
            ValueKind::PathsWithin => "paths_within",
        }
    }

    /// What a value of this kind is, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            ValueKind::Path => "path",
            ValueKind::Dataset => "dataset name",
            ValueKind::DatasetOrMount => "dataset name or mount path",
            ValueKind::Snapshot => "snapshot name",
            ValueKind::PathsWithin => "path",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<ValueKind> {
        Some(match name {
            "path" => ValueKind::Path,
            "dataset" => ValueKind::Dataset,
            "dataset_or_mount" => ValueKind::DatasetOrMount,
            "snapshot" => ValueKind::Snapshot,
            "paths_within" => ValueKind::PathsWithin,
            _ => return None,
        })
    }

    /// Checks an argument's value: a string, each string of an array, or for
    /// [`ValueKind::PathsWithin`] each path-named string inside an object. The error says which
    /// rule is broken (and where, inside an object), never the value.
    pub(crate) fn check_value(self, value: &serde_json::Value) -> Result<(), String> {
        use serde_json::Value;
        match (self, value) {
            (ValueKind::PathsWithin, _) => paths_within(value, ""),
            (_, Value::String(s)) => self.check(s),
            (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).try_for_each(|s| self.check(s)),
            _ => Ok(()),
        }
    }

    /// Checks one string; the error says which rule it breaks (without repeating the value).
    pub(crate) fn check(self, value: &str) -> Result<(), String> {
        if value.chars().any(char::is_control) {
            return Err("must not contain NUL or other control characters".into());
        }
        match self {
            ValueKind::Path | ValueKind::PathsWithin => check_path(value),
            ValueKind::Dataset => check_dataset(value),
            ValueKind::DatasetOrMount if value.starts_with('/') => {
                check_path(value)?;
                match value.strip_prefix("/mnt/") {
                    Some(rest) if !rest.is_empty() => Ok(()),
                    _ => Err("must be under `/mnt/` (a dataset's mount path) or a dataset name".into()),
                }
            }
            ValueKind::DatasetOrMount => check_dataset(value),
            ValueKind::Snapshot => {
                let Some((dataset, snapshot)) = value.split_once('@') else {
                    return Err("must be a snapshot name: `dataset@snapshot`".into());
                };
                if value.chars().count() > MAX_ZFS_NAME {
                    return Err(format!("must be at most {MAX_ZFS_NAME} characters long"));
                }
                check_dataset(dataset)?;
                check_component(snapshot).map_err(|why| format!("{why} (after the `@`)"))
            }
        }
    }
}

/// Walks an object or array; `at` is the dot path of `value` inside the argument.
fn paths_within(value: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    let inner = |key: &str| if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    match value {
        Value::Object(fields) => fields.iter().try_for_each(|(key, v)| match v {
            Value::String(s) if PATH_KEYS.contains(&key.as_str()) => {
                check_path(s).map_err(|why| format!("{why} (at `{}`)", inner(key)))
            }
            _ => paths_within(v, &inner(key)),
        }),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| paths_within(v, &inner(&i.to_string()))),
        _ => Ok(()),
    }
}

fn check_path(value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err("must not contain NUL or other control characters".into());
    }
    let Some(rest) = value.strip_prefix('/') else {
        return Err("must be an absolute path (starting with `/`)".into());
    };
    if value.len() > MAX_PATH {
        return Err(format!("must be at most {MAX_PATH} bytes long"));
    }
    if rest.is_empty() {
        return Ok(());
    }
    for segment in rest.split('/') {
        match segment {
            "" => return Err("must not have empty segments (`//` or a trailing `/`)".into()),
            "." | ".." => return Err("must not have `.` or `..` segments".into()),
            _ => {}
        }
    }
    Ok(())
}

fn check_dataset(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_ZFS_NAME {
        return Err(format!("must be at most {MAX_ZFS_NAME} characters long"));
    }
    if value.starts_with('/') {
        return Err("must be a dataset name such as `tank/media`, without a leading `/`".into());
    }
    for (i, component) in value.split('/').enumerate() {
        if component.is_empty() {
            return Err("must not have empty components (`//` or a trailing `/`)".into());
        }
        check_component(component)?;
        if i == 0 && !component.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err("must start with the pool name, which begins with a letter".into());
        }
    }
    Ok(())
}

/// One component of a ZFS name: letters, digits, `_`, `-`, `:`, `.` and space, and not `.`
/// or `..`.
fn check_component(component: &str) -> Result<(), String> {
    if component.is_empty() {
        return Err("must not be empty".into());
    }
    if component == "." || component == ".." {
        return Err("must not have `.` or `..` components".into());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | ' ');
    if let Some(bad) = component.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "may only use letters, digits, `_`, `-`, `:`, `.` and space in each component (found `{bad}`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "value_kind_tests.rs"]
mod tests;
