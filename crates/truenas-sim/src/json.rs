//! The JSON helpers every domain shares, written once: a value as an object ([`object`]).

use serde_json::{Map, Value};

/// `value`'s members, or none when it is not an object (the params schema has already refused
/// a non-object where one is required).
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
