//! Helpers the catalog's tests share: the shipped catalog, JSON values as objects, the checks
//! every category's table of expected middleware calls makes, and the facts every category's
//! tests assert (its confirmation gates, its job methods, its methods on every release).

use serde_json::{Map, Value, json};

use super::{ActionDef, Catalog, builtin_sources};
use crate::ids::Risk;
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

/// Every case `(action, arguments, expected params)` of `category` builds its params (checked
/// as [`assert_builds`] does), and every action of the category has a case.
pub(crate) fn assert_category_builds(catalog: &Catalog, category: &str, cases: &[(&str, Value, Value)]) {
    for (name, args, expected) in cases {
        assert_builds(catalog, name, None, args, expected);
    }
    assert_every_action_has_a_case(catalog, &[category], |name| cases.iter().any(|(n, ..)| *n == name));
}

/// Every case `(action, method, arguments, expected params)` of `category` goes to `method` and
/// builds its params, valid for the method on every release no route sends elsewhere (routed
/// releases are checked by the catalog-wide route tests); every action of the category has a case.
pub(crate) fn assert_category_builds_on_every_release(
    catalog: &Catalog,
    category: &str,
    cases: &[(&str, &str, Value, Value)],
) {
    for (name, method, args, expected) in cases {
        let params = assert_builds(catalog, name, Some(method), args, expected);
        let action = catalog.action(name).unwrap_or_else(|| panic!("no action {name}"));
        for release in Release::ALL.into_iter().filter(|r| !action.routed_releases().any(|routed| routed == *r)) {
            let table = MethodTable::get(release);
            assert!(table.method(method).is_some(), "{name}: {method} is missing on {release}");
            assert_eq!(table.validate(method, &params), Ok(()), "{name} on {release}: {params}");
        }
    }
    assert_every_action_has_a_case(catalog, &[category], |name| cases.iter().any(|(n, ..)| *n == name));
}

/// Every action of `categories` has a case among `names`.
pub(crate) fn assert_every_action_has_a_case(catalog: &Catalog, categories: &[&str], names: impl Fn(&str) -> bool) {
    for action in catalog.actions().filter(|a| categories.contains(&a.category.as_str())) {
        assert!(names(action.name.as_str()), "no case for {}", action.name);
    }
}

/// The actions of `category`, in catalog order.
pub(crate) fn actions_of<'a>(catalog: &'a Catalog, category: &'a str) -> impl Iterator<Item = &'a ActionDef> + 'a {
    catalog.actions().filter(move |a| a.category == category)
}

/// The actions of `category` gated by the reference's `confirm`, with their refusal texts.
pub(crate) fn confirm_texts_of<'a>(catalog: &'a Catalog, category: &'a str) -> Vec<(&'a str, &'a str)> {
    actions_of(catalog, category).filter_map(|a| Some((a.name.as_str(), a.confirm.as_deref()?))).collect()
}

/// The destructive actions of `category`, in catalog order.
pub(crate) fn destructive_of<'a>(catalog: &'a Catalog, category: &'a str) -> Vec<&'a str> {
    actions_of(catalog, category).filter(|a| a.risk == Risk::Destructive).map(|a| a.name.as_str()).collect()
}

/// [`confirm_texts_of`], checking on the way that each gated action is destructive and refuses `confirm: false`, and that
/// no destructive action of the category goes without a gate.
pub(crate) fn gates_of<'a>(catalog: &'a Catalog, category: &'a str) -> Vec<(&'a str, &'a str)> {
    let gated = confirm_texts_of(catalog, category);
    for (name, _) in &gated {
        let action = catalog.action(name).unwrap_or_else(|| panic!("no action {name}"));
        assert_eq!(action.risk, Risk::Destructive, "{name}");
        assert!(!action.confirmed(&object(json!({"confirm": false}))), "{name}");
    }
    let ungated: Vec<&str> = actions_of(catalog, category)
        .filter(|a| a.risk == Risk::Destructive && a.confirm.is_none())
        .map(|a| a.name.as_str())
        .collect();
    assert!(ungated.is_empty(), "destructive without a reference gate: {ungated:?}");
    gated
}

/// The actions of `category` whose 25.10 method is a job.
pub(crate) fn jobs_of<'a>(catalog: &'a Catalog, category: &'a str) -> Vec<&'a str> {
    let table = MethodTable::get(Release::V25_10);
    actions_of(catalog, category)
        .filter(|a| table.method(a.method.as_str()).is_some_and(|m| m.job))
        .map(|a| a.name.as_str())
        .collect()
}

/// Every action of `category` names a method that exists on every release no route sends
/// elsewhere (routed releases are checked by the catalog-wide route tests).
pub(crate) fn assert_methods_exist_where_not_routed(catalog: &Catalog, category: &str) {
    for action in actions_of(catalog, category) {
        for release in Release::ALL.into_iter().filter(|r| !action.routed_releases().any(|routed| routed == *r)) {
            assert!(MethodTable::get(release).method(action.method.as_str()).is_some(), "{} on {release}", action.name);
        }
    }
}
