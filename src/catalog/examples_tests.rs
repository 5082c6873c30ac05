//! The catalog's examples against the simulated NAS, in-process (`truenas_sim::testing`): every
//! action routed for 24.10 builds params the 24.10 table accepts and reaches a 24.10 handler, and
//! each category's examples succeed in catalog order against the seeded NAS.

use serde_json::{Value, json};
use truenas_api::schema::{MethodTable, Release};
use truenas_sim::testing::Harness;

use crate::catalog::{Catalog, MappingError};

/// As in the catalog's own every-argument test: `volsize` makes a zvol, which dataset_create's
/// filesystem properties do not apply to.
const NOT_WITH_EVERY_ARG: &[(&str, &str)] = &[("dataset_create", "volsize")];

#[tokio::test]
async fn every_catalog_action_reaches_a_24_10_handler_with_params_its_table_accepts() {
    let catalog = Catalog::builtin().unwrap();
    let h = Harness::new(Release::V24_10);
    let table = MethodTable::get(Release::V24_10);
    let (mut failures, mut routed, mut unavailable) = (Vec::new(), 0, Vec::new());
    for action in catalog.actions().filter(|a| !a.is_rest_call()) {
        let mut args = action.example_args();
        for (name, arg) in NOT_WITH_EVERY_ARG {
            if action.name.as_str() == *name {
                args.remove(*arg);
            }
        }
        let (method, params) = match action.check_and_resolve_for(Release::V24_10, &args) {
            Ok(resolved) => resolved,
            Err(MappingError::Unavailable { method, note, .. }) => {
                // Only where a route says so or the table really lacks the method.
                if note.is_none() && table.method(method.as_str()).is_some() {
                    failures.push(format!("{}: refused although 24.10 has `{method}`", action.name));
                }
                unavailable.push(action.name.as_str().to_string());
                continue;
            }
            Err(e) => {
                failures.push(format!("{}: {e}", action.name));
                continue;
            }
        };
        if action.routed_releases().any(|r| r == Release::V24_10) {
            routed += 1;
        }
        if let Err(e) = table.validate(method.as_str(), &params) {
            failures.push(format!("{}: {e}", action.name));
            continue;
        }
        // Domain errors (an id an earlier action deleted) are fine; an unsimulated method is not.
        if let Err(f) = h.call(method.as_str(), params.clone()).await
            && f.reason().contains("is not implemented by the simulated NAS")
        {
            failures.push(format!("{}: `{method}` is not simulated on 24.10", action.name));
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
    assert!(routed >= 20, "the routed actions were walked: {routed}");
    let directory = [
        "directory_services_config",
        "directory_services_update",
        "directory_services_status",
        "directory_services_leave",
        "directory_services_cache_refresh",
    ];
    // No release has SMART methods: disk_smart_test_run says so everywhere.
    let expected: Vec<&str> = ["api_key_create", "disk_smart_test_run"].into_iter().chain(directory).collect();
    assert_eq!(unavailable, expected, "actions refused on 24.10");
}

/// The catalog's examples of both categories succeed against the seeded NAS, in catalog order
/// (leaving the domain after changing its settings, deleting the tunable after changing it).
#[tokio::test]
async fn the_directory_and_service_config_examples_succeed_in_catalog_order() {
    let catalog = Catalog::builtin().unwrap();
    for release in with_directoryservices() {
        let h = Harness::new(release);
        let mut failures = Vec::new();
        let mut called = 0;
        for action in catalog.actions().filter(|a| a.category == "directory" || a.category == "service_config") {
            let mut args = action.example_args();
            if release >= Release::V27_0 {
                args.remove("loglevel"); // 27 has no SNMP log level: refused there before sending
            }
            let params = action.check_and_build_params(&args).unwrap();
            called += 1;
            if let Err(e) = h.call(action.method.as_str(), params.clone()).await {
                failures.push(format!("{} {params}: {}", action.name, e.reason()));
            }
        }
        assert_eq!(called, 20);
        assert!(failures.is_empty(), "{release}: {failures:#?}");
        assert_eq!(h.ok("directoryservices.status", json!([])).await["status"], Value::Null, "the domain was left");
        let tunables = h.ok("tunable.query", json!([[], {"select": ["var"]}])).await;
        assert_eq!(tunables, json!([{"var": "net.core.rmem_max"}]), "the seeded tunable was changed, then deleted");
    }
}

#[tokio::test]
async fn the_catalog_examples_of_the_first_data_protection_part_succeed_in_order_on_both_releases() {
    let catalog = Catalog::builtin().unwrap();
    for release in Release::ALL {
        let nas = Harness::new(release);
        let mut called = 0;
        let ours = |m: &str| ["replication.", "cloudsync.", "cloud_backup."].iter().any(|p| m.starts_with(p));
        for action in catalog.actions().filter(|a| ours(a.method.as_str())) {
            let args = action.example_args();
            let params = action.check_and_build_params(&args).unwrap();
            // Each result is also checked against the method's returns schema.
            nas.ok(action.method.as_str(), params).await;
            called += 1;
        }
        assert_eq!(called, 30, "{release}");
    }
}

/// Actions whose every-argument example is refused by design: it sets both `maproot_user`
/// and `mapall_user`, which TrueNAS does not combine.
const REFUSED_BY_DESIGN: [&str; 2] = ["nfs_share_create", "nfs_share_update"];

#[tokio::test]
async fn the_sharing_examples_succeed_in_catalog_order_against_the_seed() {
    let catalog = Catalog::builtin().unwrap();
    let h = Harness::new(Release::V25_10);
    let mut failures = Vec::new();
    for action in catalog.actions().filter(|a| a.category == "sharing") {
        // Every example (but those of arguments only some releases have), confirmed.
        let args = action.example_args();
        let params = action.check_and_build_params(&args).unwrap();
        let reply = h.call(action.method.as_str(), params).await;
        if reply.is_err() != REFUSED_BY_DESIGN.contains(&action.name.as_str()) {
            failures.push(format!("{}: {reply:?}", action.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // What the walk did: SMB share 3 and target 2 (with its LUN) went, a target and an extent
    // came, and the LUN made of them was removed again.
    let smb: Vec<i64> = h
        .ok("sharing.smb.query", json!([]))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(smb, [1, 2, 4, 5]);
    let targets = h.ok("iscsi.target.query", json!([[], {"select": ["name"]}])).await;
    assert_eq!(targets, json!([{"name": "esxi-datastore"}, {"name": "k8s-volumes"}]));
    let luns = h.ok("iscsi.targetextent.query", json!([])).await;
    assert_eq!(luns, json!([{"id": 1, "target": 1, "lunid": 0, "extent": 1}]));
    let extents = h.ok("iscsi.extent.query", json!([[], {"select": ["name"]}])).await;
    assert_eq!(extents, json!([{"name": "esxi-datastore"}, {"name": "k8s-volumes"}]));
}

/// The releases with `directoryservices.*` (25.10 on): the directory actions' methods.
fn with_directoryservices() -> impl Iterator<Item = Release> {
    Release::ALL.into_iter().filter(|r| MethodTable::get(*r).method("directoryservices.config").is_some())
}
