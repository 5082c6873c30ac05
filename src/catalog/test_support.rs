//! Helpers the catalog's tests share: the shipped catalog, and JSON values as objects.

use serde_json::{Map, Value};

use super::{Catalog, builtin_sources};

/// The shipped catalog; panics listing every problem when it does not load or warns.
pub(crate) fn builtin() -> Catalog {
    match Catalog::from_sources(builtin_sources()) {
        Ok((catalog, warnings)) => {
            assert!(warnings.is_empty(), "the shipped catalog has warnings:\n{warnings:#?}");
            catalog
        }
        Err(e) => panic!("{e}"),
    }
}

/// `v` as a JSON object; panics when it is something else.
pub(crate) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}
