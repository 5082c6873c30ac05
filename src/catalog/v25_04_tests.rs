//! TrueNAS 25.04's result shapes: every catalog action, routed for 25.04, is called on a
//! simulated 25.04 and each successful result is checked against the `returns` schema of the
//! 25.04 API dump (methods the partial dump lacks go unchecked).

use std::collections::BTreeMap;

use truenas_api::schema::Release;
use truenas_sim::reference_dumps::{returns_problems, returns_schemas};
use truenas_sim::testing::Harness;

use crate::catalog::Catalog;

/// As in the catalog's own every-argument test: `volsize` makes a zvol, which dataset_create's
/// filesystem properties do not apply to.
const NOT_WITH_EVERY_ARG: &[(&str, &str)] = &[("dataset_create", "volsize")];

#[tokio::test]
async fn every_catalog_result_on_25_04_matches_the_25_04_returns_schema() {
    let Some(schemas) = returns_schemas(Release::V25_04) else {
        eprintln!("skipping: no 25.04 API dump");
        return;
    };
    let catalog = Catalog::builtin().unwrap();
    let h = Harness::new(Release::V25_04);
    let mut broken = BTreeMap::new();
    let mut checked = 0;
    for action in catalog.actions().filter(|a| !a.is_rest_call()) {
        let mut args = action.example_args();
        for (name, arg) in NOT_WITH_EVERY_ARG {
            if action.name.as_str() == *name {
                args.remove(*arg);
            }
        }
        let Ok((method, params)) = action.check_and_resolve_for(Release::V25_04, &args) else { continue };
        // Domain failures (an id an earlier action deleted) are not what this walk checks.
        let Ok(result) = h.call(method.as_str(), params).await else { continue };
        let Some(schema) = schemas.get(method.as_str()) else { continue };
        let problems: Vec<String> = returns_problems(schema, &result).into_iter().take(3).collect();
        checked += 1;
        if !problems.is_empty() {
            broken.insert(method.to_string(), problems);
        }
    }
    assert!(broken.is_empty(), "{} method(s) break the 25.04 returns schema:\n{broken:#?}", broken.len());
    assert!(checked >= 120, "the walk checked results: {checked}");
}
