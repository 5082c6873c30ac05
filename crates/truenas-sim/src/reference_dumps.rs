//! Test support: TrueNAS's own return schemas, from the reference API dumps, to check simulated
//! results against. The dumps are looked for in `TRUENAS_API_DUMP`, then in the `shared/`
//! folder beside the repository; tests that need them say so and skip when they are absent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use truenas_api::schema::{MethodTable, Release};

/// The releases whose result shapes the simulated NAS follows to the letter: the tests that
/// check results against the dumps run on these. 25.04's dump is partial (methods it lacks go
/// unchecked) and 25.04 keeps some older names (checked by its own tests).
pub const SHAPED: [Release; 4] = [Release::V25_04, Release::V25_10, Release::V26_0, Release::V27_0];

fn dump_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("TRUENAS_API_DUMP").map(PathBuf::from).into_iter().collect();
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/truenas-api"));
    dirs
}

fn load(release: Release) -> Option<HashMap<String, Value>> {
    let file = format!("{}.json", release.api_version());
    let Some(text) = dump_dirs().iter().find_map(|dir| std::fs::read_to_string(dir.join(&file)).ok()) else {
        eprintln!("skipping returns checks: no TrueNAS API dump {file} (set TRUENAS_API_DUMP)");
        return None;
    };
    let dump: Value = serde_json::from_str(&text).ok()?;
    let methods = dump["methods"].as_array()?;
    Some(methods.iter().map(|m| (m["name"].as_str().unwrap_or_default().to_string(), m["returns"].clone())).collect())
}

/// The `returns` schema of every method of `release`, read once; `None` without the dumps.
pub fn returns_schemas(release: Release) -> Option<&'static HashMap<String, Value>> {
    static CACHE: OnceLock<Vec<Option<HashMap<String, Value>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Release::ALL.iter().map(|r| load(*r)).collect());
    let index = Release::ALL.iter().position(|r| *r == release)?;
    cache.get(index)?.as_ref()
}

/// Whether a shape test can call `method` on `release`: always on the complete releases (a
/// method missing there fails the test); on 25.04 only what its table has.
pub fn callable_on(release: Release, method: &str) -> bool {
    let in_table = MethodTable::get(release).method(method).is_some();
    assert!(in_table || release == Release::V25_04, "{release} lacks `{method}`");
    in_table
}

/// Returns schemas a dump gets wrong, so that nothing validates: the 27 dump's `get_quota` items
/// are a `oneOf` of three bare objects (every object matches all three).
const UNUSABLE: [(Release, &str); 1] = [(Release::V27_0, "pool.dataset.get_quota")];

/// The `returns` schema a shape test checks `method` against: always there on a complete dump
/// (a method missing there fails the test); the partial 25.04 dump may lack it.
pub fn schema_on(schemas: &HashMap<String, Value>, release: Release, method: &str) -> Option<Value> {
    if UNUSABLE.contains(&(release, method)) {
        return None;
    }
    let schema = schemas.get(method).cloned();
    assert!(schema.is_some() || release == Release::V25_04, "the {release} dump lacks `{method}`");
    schema
}

/// Every way `value` breaks `schema` (a method's `returns` schema), one line each with where.
/// Wire-encoded datetimes are read as the models declare them.
pub fn returns_problems(schema: &Value, value: &Value) -> Vec<String> {
    let schema = discriminated_as_any_of(schema);
    let validator = match jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema) {
        Ok(validator) => validator,
        Err(e) => return vec![format!("the returns schema does not compile: {e}")],
    };
    validator.iter_errors(&undate(value)).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

/// A `oneOf` with a `discriminator` read as `anyOf`. The middleware picks the branch by the
/// discriminating property, which may sit outside the branches (SMB share `options` are told apart
/// by the share's `purpose`); JSON Schema cannot, and several branches with the same properties
/// (`DefaultOpt`, `MultiprotocolOpt`, `FCPStorageOpt`) would make every real result fail `oneOf`.
fn discriminated_as_any_of(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let discriminated = map.contains_key("discriminator");
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let key = if discriminated && k == "oneOf" { "anyOf".to_string() } else { k.clone() };
                        (key, discriminated_as_any_of(v))
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(discriminated_as_any_of).collect()),
        other => other.clone(),
    }
}

/// The wire encodes datetimes as `{"$date": ms}`; the models declare them as date-time strings.
pub fn undate(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$date") => json!("2025-01-01T00:00:00Z"),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), undate(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(undate).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discriminated_one_of_accepts_a_value_several_branches_fit_and_a_plain_one_of_does_not() {
        let branches = json!([
            {"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": false},
            {"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": false},
        ]);
        let discriminated = json!({"oneOf": branches, "discriminator": {"propertyName": "purpose"}});
        assert!(returns_problems(&discriminated, &json!({"a": true})).is_empty());
        assert!(!returns_problems(&discriminated, &json!({"b": 1})).is_empty(), "still one branch must fit");
        assert!(!returns_problems(&json!({"oneOf": branches}), &json!({"a": true})).is_empty());
    }
}
