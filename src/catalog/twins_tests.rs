use serde_json::json;

use crate::catalog::test_support::builtin;
use crate::ids::{MethodName, Risk};
use crate::schema::Release;

const R: Release = Release::V25_10;

#[test]
fn a_raw_call_inherits_the_gate_and_risk_of_its_twin() {
    let catalog = builtin();
    let delete = catalog.read_raw(R, &MethodName::new("vm.delete"), &json!([1]));
    assert_eq!(delete.risk, Risk::Destructive);
    assert_eq!(delete.gate.as_deref(), Some("VM deletion aborted: 'confirm' must be set to true."));
    assert_eq!(delete.twins.iter().map(|(a, _)| a.name.as_str()).collect::<Vec<_>>(), ["vm_delete"]);

    let stop = catalog.read_raw(R, &MethodName::new("vm.stop"), &json!([1, {"force": true}]));
    assert_eq!((stop.risk, stop.gate.as_deref()), (Risk::Write, None));
    assert_eq!(stop.twins[0].1.known.get("force"), Some(&json!(true)));
}

#[test]
fn literals_pick_the_twin_and_params_no_twin_matches_make_every_twin_apply_blind() {
    let catalog = builtin();
    let method = MethodName::new("service.control");
    let start = catalog.read_raw(R, &method, &json!(["START", "ssh", {"silent": false}]));
    assert_eq!(start.twins.iter().map(|(a, _)| a.name.as_str()).collect::<Vec<_>>(), ["service_start"]);
    let odd = catalog.read_raw(R, &method, &json!(["START", "ssh", {"silent": false, "timeout": 5}]));
    assert!(odd.twins.len() >= 2, "{:?}", odd.twins.iter().map(|(a, _)| &a.name).collect::<Vec<_>>());
    assert!(odd.twins.iter().all(|(_, args)| args.known.is_empty() && args.unknown.contains("service")));
}

#[test]
fn a_method_no_action_calls_is_classed_by_its_roles() {
    let catalog = builtin();
    let bulk = catalog.read_raw(R, &MethodName::new("core.bulk"), &json!([]));
    assert!(bulk.twins.is_empty());
    assert_eq!(bulk.risk, Risk::Destructive, "no roles at all: destructive");
    assert!(bulk.gate.as_deref().is_some_and(|g| g.contains("`core.bulk`") && g.contains("confirm")));
    let unknown = catalog.read_raw(R, &MethodName::new("no.such"), &json!([]));
    assert_eq!(unknown.risk, Risk::Destructive);
    // A read-role method no action calls: find one in the table.
    let table = crate::schema::MethodTable::get(R);
    let read_only = ["vm.get_display_devices", "pool.dataset.checksum_choices", "system.product_type"]
        .into_iter()
        .find(|m| {
            catalog.read_raw(R, &MethodName::new(*m), &json!([])).twins.is_empty()
                && table.method(m).is_some_and(|s| !s.roles.is_empty() && s.roles.iter().all(|r| r.ends_with("_READ")))
        })
        .expect("a read-role method without an action");
    let read = catalog.read_raw(R, &MethodName::new(read_only), &json!([]));
    assert_eq!((read.risk, read.gate), (Risk::Read, None));
}
