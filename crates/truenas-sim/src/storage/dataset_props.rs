//! The ZFS properties `pool.dataset.*` exposes: their API and ZFS names, defaults, whether they
//! inherit, which kind of dataset has them, how an API value becomes a raw ZFS value (and is
//! stored on a dataset), and how a raw value is shown (`{parsed, rawvalue, value, source,
//! source_info}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::storage::zfs::{nicenum, parse_size};

/// The user property TrueNAS keeps `comments` in.
pub(crate) const COMMENTS: &str = "org.freenas:description";

/// How a property's values look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A lower-case word shown upper-case (`lz4` / `LZ4`).
    Word,
    /// `on`/`off` parsed as a boolean (other words, such as `sa` or `sha256`, parse to null).
    Toggle,
    /// A byte count shown as `128K`.
    Bytes,
    /// A byte limit where 0 means none (quotas, reservations).
    Limit,
    /// A small count (`copies`).
    Count,
}

/// Which datasets have a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applies {
    Filesystem,
    Volume,
    Both,
}

/// One settable property.
#[derive(Debug)]
pub(crate) struct Prop {
    /// Its name in `pool.dataset.create`/`update` and in the query entry.
    pub(crate) api: &'static str,
    /// Its ZFS name.
    pub(crate) zfs: &'static str,
    /// The raw value when nothing sets it.
    pub(crate) default: &'static str,
    pub(crate) inherits: bool,
    pub(crate) shape: Shape,
    pub(crate) applies: Applies,
}

const fn prop(
    api: &'static str,
    zfs: &'static str,
    default: &'static str,
    inherits: bool,
    shape: Shape,
    applies: Applies,
) -> Prop {
    Prop { api, zfs, default, inherits, shape, applies }
}

/// Every settable property, in the order the query entry lists them.
pub(crate) const PROPS: [Prop; 22] = [
    prop("deduplication", "dedup", "off", true, Shape::Word, Applies::Both),
    prop("aclmode", "aclmode", "discard", true, Shape::Word, Applies::Filesystem),
    prop("acltype", "acltype", "off", true, Shape::Word, Applies::Filesystem),
    prop("xattr", "xattr", "on", true, Shape::Toggle, Applies::Filesystem),
    prop("atime", "atime", "on", true, Shape::Toggle, Applies::Filesystem),
    prop("casesensitivity", "casesensitivity", "sensitive", false, Shape::Word, Applies::Filesystem),
    prop("checksum", "checksum", "on", true, Shape::Toggle, Applies::Both),
    prop("exec", "exec", "on", true, Shape::Toggle, Applies::Filesystem),
    prop("sync", "sync", "standard", true, Shape::Word, Applies::Both),
    prop("compression", "compression", "on", true, Shape::Word, Applies::Both),
    prop("quota", "quota", "0", false, Shape::Limit, Applies::Filesystem),
    prop("refquota", "refquota", "0", false, Shape::Limit, Applies::Filesystem),
    prop("reservation", "reservation", "0", false, Shape::Limit, Applies::Both),
    prop("refreservation", "refreservation", "0", false, Shape::Limit, Applies::Both),
    prop("copies", "copies", "1", true, Shape::Count, Applies::Both),
    prop("snapdir", "snapdir", "hidden", true, Shape::Word, Applies::Filesystem),
    prop("readonly", "readonly", "off", true, Shape::Toggle, Applies::Both),
    prop("recordsize", "recordsize", "131072", true, Shape::Bytes, Applies::Filesystem),
    prop("volsize", "volsize", "0", false, Shape::Bytes, Applies::Volume),
    prop("volblocksize", "volblocksize", "16384", false, Shape::Bytes, Applies::Volume),
    prop("special_small_block_size", "special_small_blocks", "0", true, Shape::Bytes, Applies::Both),
    prop("snapdev", "snapdev", "hidden", true, Shape::Word, Applies::Volume),
];

/// The property with API name `api`.
#[cfg(test)]
pub(crate) fn by_api(api: &str) -> Option<&'static Prop> {
    PROPS.iter().find(|p| p.api == api)
}

/// The property with ZFS name `zfs`.
pub(crate) fn by_zfs(zfs: &str) -> Option<&'static Prop> {
    PROPS.iter().find(|p| p.zfs == zfs)
}

/// What an API value does to a property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Raw {
    Set(String),
    Inherit,
}

/// The raw ZFS value an API value sets (`"ZSTD"` gives `zstd`, `"128K"` gives `131072`,
/// `null` or `0` for a limit gives `0`). `None` for a value that cannot be stored.
pub(crate) fn raw_value(prop: &Prop, value: &Value) -> Option<Raw> {
    if value.as_str() == Some("INHERIT") {
        return Some(if prop.inherits { Raw::Inherit } else { Raw::Set(prop.default.to_string()) });
    }
    let raw = match (prop.shape, value) {
        (Shape::Limit, Value::Null) => "0".to_string(),
        (Shape::Word | Shape::Toggle, Value::String(s)) => s.to_ascii_lowercase(),
        (Shape::Bytes | Shape::Limit | Shape::Count, Value::Number(n)) => n.as_u64()?.to_string(),
        (Shape::Bytes, Value::String(s)) => parse_size(s)?.to_string(),
        _ => return None,
    };
    Some(Raw::Set(raw))
}

/// Where a property's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Local,
    /// Inherited from the named ancestor.
    Inherited(String),
    Default,
    /// A statistic or a create-time property.
    None,
}

impl Source {
    fn name(&self) -> &'static str {
        match self {
            Source::Local => "LOCAL",
            Source::Inherited(_) => "INHERITED",
            Source::Default => "DEFAULT",
            Source::None => "NONE",
        }
    }
}

/// The query entry of one property value.
pub(crate) fn entry(shape: Shape, raw: &str, source: &Source) -> Value {
    let number = raw.parse::<u64>().unwrap_or(0);
    let (parsed, value) = match shape {
        Shape::Word => (json!(raw), json!(raw.to_ascii_uppercase())),
        Shape::Toggle => {
            let parsed = match raw {
                "on" => json!(true),
                "off" => json!(false),
                _ => Value::Null,
            };
            (parsed, json!(raw.to_ascii_uppercase()))
        }
        Shape::Bytes => (json!(number), json!(nicenum(number))),
        Shape::Limit if number == 0 => (Value::Null, Value::Null),
        Shape::Limit => (json!(number), json!(nicenum(number))),
        Shape::Count => (json!(number), json!(raw)),
    };
    with_source(parsed, raw, value, source)
}

/// A property entry from its parts.
pub(crate) fn with_source(parsed: Value, raw: &str, value: Value, source: &Source) -> Value {
    let info = match source {
        Source::Inherited(from) => json!(from),
        _ => Value::Null,
    };
    json!({"parsed": parsed, "rawvalue": raw, "value": value, "source": source.name(), "source_info": info})
}

/// A read-only statistic shown as a size (`used`, `available`).
pub(crate) fn size_stat(bytes: u64) -> Value {
    entry(Shape::Bytes, &bytes.to_string(), &Source::None)
}

/// Stores the properties `data` sets (create or update) in a dataset's native `props` and
/// `user_props`; `INHERIT` clears a local value.
pub(crate) fn set_props(
    props: &mut BTreeMap<String, String>,
    user_props: &mut BTreeMap<String, String>,
    data: &Map<String, Value>,
) {
    for prop in PROPS.iter() {
        let Some(value) = data.get(prop.api) else { continue };
        match raw_value(prop, value) {
            Some(Raw::Set(raw)) => {
                props.insert(prop.zfs.to_string(), raw);
            }
            Some(Raw::Inherit) => {
                props.remove(prop.zfs);
            }
            None => {}
        }
    }
    match props.get("acltype").map(String::as_str) {
        Some("posix" | "off") => {
            props.insert("aclmode".into(), "discard".into());
        }
        None if data.get("acltype").is_some() => {
            props.remove("aclmode");
        }
        _ => {}
    }
    if let Some(comments) = data.get("comments").and_then(Value::as_str) {
        if comments == "INHERIT" {
            user_props.remove(COMMENTS);
        } else {
            user_props.insert(COMMENTS.to_string(), comments.to_string());
        }
    }
    for key in ["user_properties", "user_properties_update"] {
        for item in data.get(key).and_then(Value::as_array).into_iter().flatten() {
            let Some(k) = item.get("key").and_then(Value::as_str) else { continue };
            match item.get("value").and_then(Value::as_str) {
                Some(v) => {
                    user_props.insert(k.to_string(), v.to_string());
                }
                None if item.get("remove").and_then(Value::as_bool) == Some(true) => {
                    user_props.remove(k);
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_values_become_raw_zfs_values() {
        let compression = by_api("compression").unwrap();
        assert_eq!(raw_value(compression, &json!("ZSTD-3")), Some(Raw::Set("zstd-3".into())));
        assert_eq!(raw_value(compression, &json!("INHERIT")), Some(Raw::Inherit));
        let recordsize = by_api("recordsize").unwrap();
        assert_eq!(raw_value(recordsize, &json!("1M")), Some(Raw::Set("1048576".into())));
        let quota = by_api("quota").unwrap();
        assert_eq!(raw_value(quota, &Value::Null), Some(Raw::Set("0".into())));
        assert_eq!(raw_value(quota, &json!(1_073_741_824u64)), Some(Raw::Set("1073741824".into())));
        assert_eq!(raw_value(quota, &json!("lots")), None);
        assert_eq!(by_zfs("dedup").unwrap().api, "deduplication");
    }

    #[test]
    fn entries_show_values_as_truenas_does() {
        let lz4 = entry(Shape::Word, "lz4", &Source::Inherited("tank".into()));
        assert_eq!(
            lz4,
            json!({"parsed": "lz4", "rawvalue": "lz4", "value": "LZ4", "source": "INHERITED", "source_info": "tank"})
        );
        assert_eq!(entry(Shape::Toggle, "off", &Source::Local)["parsed"], false);
        assert_eq!(entry(Shape::Bytes, "131072", &Source::Default)["value"], "128K");
        assert_eq!(entry(Shape::Limit, "0", &Source::Default)["value"], Value::Null);
    }
}
