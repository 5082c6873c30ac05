//! The REST rules against the whole tool set: every action's call survives the round trip
//! through TrueNAS's REST shape (`truenas_api::rest`), as the REST client and the simulated NAS
//! rely on.

use serde_json::{Map, Value};
use truenas_api::rest::{from_http, same_over_rest, to_http};
use truenas_api::schema::{MethodTable, Release};

use crate::catalog::Catalog;

fn table() -> &'static MethodTable {
    MethodTable::get(Release::V25_10)
}

/// Every action of the tool set, with its example arguments and with its required ones only,
/// maps to a REST request that maps back to the same method and params.
#[test]
fn every_catalog_call_survives_the_round_trip() {
    let catalog = Catalog::builtin().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for action in catalog.actions() {
        for minimal in [false, true] {
            let mut args = Map::new();
            for arg in action.args.iter().filter(|a| !minimal || a.required) {
                if let Some(value) = arg.example_value() {
                    args.insert(arg.name.clone(), value);
                }
            }
            if action.confirm.is_some() {
                args.insert("confirm".into(), Value::Bool(true));
            }
            let Ok((method, params)) = action.check_and_resolve(&args) else { continue };
            if table().method(method.as_str()).is_none() {
                continue;
            }
            checked += 1;
            let outcome = to_http(method.as_str(), &params, table())
                .and_then(|call| from_http(call.verb.as_str(), &call.path_and_query(), call.body.as_ref(), table()));
            if outcome.as_ref() != Ok(&same_over_rest(method.as_str(), &params)) {
                failures.push(format!("{} ({method} {params}): {outcome:?}", action.name));
            }
        }
    }
    assert!(checked > 200, "only {checked} calls checked");
    assert!(failures.is_empty(), "{} calls do not round-trip:\n{}", failures.len(), failures.join("\n"));
}
