//! TrueNAS's declared result schemas, per release, for the methods the tool set calls.
//!
//! `scripts/slim-schemas.py` writes `schemas/<version>.returns.json` from each release's own API
//! dump: every method's `returns` reduced to structure (types, properties, required, items,
//! enums, combinators; no prose, defaults or bounds), identical schemas stored once. Only real
//! dumps are used: 25.04's file holds the methods its partial dump declares, and the REST-only
//! 24.04 and 24.10 (no dump) have none. A file is parsed on first use.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use super::Release;

/// The result schemas of one release.
pub struct ReturnsTable {
    // INVARIANT: every index in `methods` is within `schemas` (checked at load).
    methods: HashMap<String, usize>,
    schemas: Vec<Arc<Value>>,
}

#[derive(Deserialize)]
struct ReturnsFile {
    methods: HashMap<String, usize>,
    schemas: Vec<Value>,
}

impl ReturnsTable {
    /// The result schemas of `release`, if its API dump declares them.
    pub fn get(release: Release) -> Option<&'static ReturnsTable> {
        static TABLES: [OnceLock<Option<ReturnsTable>>; Release::KNOWN.len()] =
            [const { OnceLock::new() }; Release::KNOWN.len()];
        let index = Release::KNOWN.iter().position(|r| *r == release)?;
        TABLES.get(index)?.get_or_init(|| source(release).map(ReturnsTable::load)).as_ref()
    }

    fn load(text: &str) -> ReturnsTable {
        // The embedded files are produced by our own script and checked by a unit test, so a
        // parse failure is a build defect, not input: an empty table declares nothing.
        let file: ReturnsFile =
            serde_json::from_str(text).unwrap_or(ReturnsFile { methods: HashMap::new(), schemas: Vec::new() });
        let count = file.schemas.len();
        ReturnsTable {
            methods: file.methods.into_iter().filter(|(_, i)| *i < count).collect(),
            schemas: file.schemas.into_iter().map(Arc::new).collect(),
        }
    }

    /// The structure TrueNAS declares for `method`'s result, if the dump declares one.
    pub fn returns(&self, method: &str) -> Option<&Arc<Value>> {
        self.methods.get(method).and_then(|i| self.schemas.get(*i))
    }

    /// Number of methods with a declared result.
    pub fn len(&self) -> usize {
        self.methods.len()
    }

    /// Whether no method has a declared result (only when the embedded data is broken).
    pub fn is_empty(&self) -> bool {
        self.methods.is_empty()
    }
}

/// The embedded file of `release`; releases without an API dump have none.
fn source(release: Release) -> Option<&'static str> {
    match release {
        Release::V25_04 => Some(include_str!("../../schemas/v25.04.2.returns.json")),
        Release::V25_10 => Some(include_str!("../../schemas/v25.10.5.returns.json")),
        Release::V26_0 => Some(include_str!("../../schemas/v26.0.0.returns.json")),
        Release::V27_0 => Some(include_str!("../../schemas/v27.0.0.returns.json")),
        Release::V24_04 | Release::V24_10 => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_with_a_dump_declare_results_and_the_others_none() {
        for release in [Release::V25_04, Release::V25_10, Release::V26_0] {
            let table = ReturnsTable::get(release).unwrap();
            assert!(table.len() > 100, "{release}: {}", table.len());
            let vm = table.returns("vm.get_instance").unwrap();
            assert_eq!(vm["type"], "object", "{release}");
            assert!(vm["properties"]["memory"].is_object(), "{release}");
        }
        assert!(ReturnsTable::get(Release::V24_10).is_none());
        assert!(ReturnsTable::get(Release::V24_04).is_none());
    }

    #[test]
    fn results_keep_structure_and_lose_prose() {
        let table = ReturnsTable::get(Release::V25_10).unwrap();
        let query = table.returns("vm.query").unwrap();
        let text = query.to_string();
        // (`description` is also the name of a VM's property: a schema there, never prose.)
        for prose in ["\"description\":\"", "\"title\"", "\"examples\"", "\"default\"", "\"minLength\"", "\"oneOf\""] {
            assert!(!text.contains(prose), "{prose} in {text}");
        }
        // A query answers a list, one item (`get`) or a count.
        let shapes: Vec<&str> = query["anyOf"].as_array().unwrap().iter().filter_map(|s| s["type"].as_str()).collect();
        assert_eq!(shapes, ["array", "object", "integer"]);
        assert_eq!(
            query["anyOf"][1]["properties"]["cpu_mode"]["enum"],
            serde_json::json!(["CUSTOM", "HOST-MODEL", "HOST-PASSTHROUGH"])
        );
        assert_eq!(table.returns("vm.start").map(|s| s["type"].clone()), Some(Value::from("null")));
        assert!(table.returns("no.such.method").is_none());
    }
}
