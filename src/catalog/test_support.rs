//! Helpers the catalog's tests share: the shipped catalog, JSON values as objects, and the
//! checks every category's table of expected middleware calls makes.

use serde_json::{Map, Value};

use super::{Catalog, builtin_sources};
use crate::schema::{MethodTable, Release};

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

/// The params action `name` builds from `args`: they must equal `expected`, go to `method`
/// when one is given, and be valid for the 25.10 table (the release every action targets;
/// callers check other releases themselves).
pub(crate) fn assert_builds(
    catalog: &Catalog,
    name: &str,
    method: Option<&str>,
    args: &Value,
    expected: &Value,
) -> Value {
    let action = catalog.action(name).unwrap_or_else(|| panic!("no action {name}"));
    if let Some(method) = method {
        assert_eq!(action.method.as_str(), method, "{name}");
    }
    let params = action.check_and_build_params(&object(args.clone())).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(&params, expected, "{name} {args}");
    let checked = MethodTable::get(Release::V25_10).validate(action.method.as_str(), &params);
    assert_eq!(checked, Ok(()), "{name} {params}");
    params
}

/// Every action of `categories` has a case among `names`.
pub(crate) fn assert_every_action_has_a_case(catalog: &Catalog, categories: &[&str], names: impl Fn(&str) -> bool) {
    for action in catalog.actions().filter(|a| categories.contains(&a.category.as_str())) {
        assert!(names(action.name.as_str()), "no case for {}", action.name);
    }
}
