//! The `pool.dataset.query` entry: every property with its value and source (local, inherited
//! from an ancestor, or default), the space a dataset uses and has left, its encryption state,
//! and its children, nested.

use serde_json::{Map, Value, json};

use crate::storage::dataset::{KeyFormat, Kind};
use crate::storage::dataset_props::{self, Applies, COMMENTS, PROPS, Source, size_stat, with_source};
use crate::storage::space::{Space, usedbyrefreservation};
use crate::storage::zfs::{ctime, date, pool_name};

/// Every dataset, pool by pool and depth first: flat (every dataset, each with its children
/// nested) or only the pools' root datasets.
pub(crate) fn entries(space: &Space<'_>, flat: bool) -> Vec<Value> {
    let mut names = Vec::new();
    for pool in space.pools.iter() {
        space.datasets.walk(&pool.name, &mut names);
    }
    if !flat {
        names.retain(|n| !n.contains('/'));
    }
    names.iter().map(|n| entry(space, n)).collect()
}

/// The query entry of dataset `name` (an empty object if it does not exist).
pub(crate) fn entry(space: &Space<'_>, name: &str) -> Value {
    let Some(dataset) = space.datasets.get(name) else { return json!({}) };
    let root = space.datasets.encryption_root(name);
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
    let children: Vec<Value> = space.datasets.children(name).iter().map(|c| entry(space, &c.name)).collect();
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
        let (raw, mut source) = space.datasets.effective(name, prop);
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
    let snapshots = space.usedbysnapshots(name);
    let children_used: u64 = space.datasets.children(name).iter().map(|c| space.used(&c.name)).sum();
    out.insert("used".into(), size_stat(space.used(name)));
    out.insert("usedbychildren".into(), size_stat(children_used));
    out.insert("usedbydataset".into(), size_stat(dataset.written));
    out.insert("usedbyrefreservation".into(), size_stat(usedbyrefreservation(dataset)));
    out.insert("usedbysnapshots".into(), size_stat(snapshots));
    out.insert("available".into(), size_stat(space.available(name)));
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

#[cfg(test)]
#[path = "dataset_entry_tests.rs"]
mod tests;
