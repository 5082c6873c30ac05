use serde_json::json;

use super::*;
use crate::catalog::Catalog;
use crate::ids::JobId;

fn catalog() -> Catalog {
    Catalog::builtin().unwrap()
}

fn outcome(result: Value) -> CallOutcome {
    CallOutcome { result, job: None, still_running: false }
}

#[test]
fn every_declared_output_schema_is_an_object_that_compiles_and_takes_an_empty_result() {
    let catalog = catalog();
    let outputs = Outputs::default();
    for release in Release::KNOWN {
        let mut declared = 0;
        for action in catalog.actions() {
            let Some(schema) = outputs.schema(action, release) else { continue };
            declared += 1;
            assert_eq!(schema.get("type"), Some(&json!("object")), "{} on {release}", action.name);
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&Value::Object((*schema).clone()))
                .unwrap_or_else(|e| panic!("{} on {release}: {e}", action.name));
            assert!(validator.is_valid(&json!({})), "{} on {release}", action.name);
            assert!(!validator.is_valid(&json!({"other": 1})), "{} on {release}", action.name);
        }
        // Releases with a dump declare most results; those without declare none.
        match release {
            Release::V24_04 | Release::V24_10 => assert_eq!(declared, 0, "{release}"),
            Release::V25_04 => assert!(declared > 60, "{release}: {declared}"),
            _ => assert!(declared > 150, "{release}: {declared}"),
        }
    }
}

#[test]
fn lists_are_wrapped_and_null_results_the_raw_api_and_dumpless_releases_declare_nothing() {
    let catalog = catalog();
    let outputs = Outputs::default();
    let action = |name: &str| catalog.action(name).unwrap();
    let list = outputs.schema(action("vm_list"), Release::V25_10).unwrap();
    let shapes: Vec<&str> =
        list["properties"]["result"]["anyOf"].as_array().unwrap().iter().filter_map(|s| s["type"].as_str()).collect();
    assert_eq!(shapes, ["array", "object", "integer"]);
    assert!(list["description"].as_str().unwrap().contains("`vm.query`"));
    assert!(list.get("required").is_none(), "`result` may be left out");
    assert!(outputs.schema(action("vm_start"), Release::V25_10).is_none(), "vm.start returns null");
    assert!(outputs.schema(action("truenas_api_call"), Release::V25_10).is_none());
    assert!(outputs.schema(action("vm_list"), Release::V24_10).is_none());
    // The schema of the method the action calls on that release: a route's where it has one.
    let info = outputs.schema(action("system_info"), Release::V26_0).unwrap();
    assert_eq!(info["properties"]["result"]["type"], "object");
}

#[test]
fn a_result_that_fits_goes_whole_and_anything_else_leaves_result_out() {
    let catalog = catalog();
    let outputs = Outputs::default();
    let vm_list = catalog.action("vm_list").unwrap();
    let release = Release::V25_10;
    let fits = outcome(json!([]));
    assert_eq!(outputs.structured(vm_list, release, fits.clone(), true), Some(json!({"result": []})));
    assert_eq!(outputs.structured(vm_list, release, fits, false), Some(json!({})), "cut to the text limit");
    let count = outcome(json!(3));
    assert_eq!(outputs.structured(vm_list, release, count, true), Some(json!({"result": 3})));
    let wrong = outcome(json!("not a list"));
    assert_eq!(outputs.structured(vm_list, release, wrong, true), Some(json!({})));
    let extra = outcome(json!([{"id": 1, "no_such_field": true}]));
    assert_eq!(outputs.structured(vm_list, release, extra, true), Some(json!({})));
    let running = CallOutcome { result: json!({"job_id": 5}), job: Some(JobId(5)), still_running: true };
    let pool_create = catalog.action("pool_create").unwrap();
    assert!(outputs.schema(pool_create, release).is_some(), "pool.create (a job) returns the pool");
    assert_eq!(outputs.structured(pool_create, release, running, true), Some(json!({})));
    let vm_start = catalog.action("vm_start").unwrap();
    assert_eq!(outputs.structured(vm_start, release, outcome(Value::Null), true), None);
}
