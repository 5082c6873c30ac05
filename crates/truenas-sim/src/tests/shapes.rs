//! Results checked against the `returns` schemas of TrueNAS's own API dump.
//!
//! The dumps are reference material, not shipped with the crate: the test reads
//! `<dir>/<api version>.json` from the folder in `TRUENAS_API_DUMP` (default: the shared
//! reference folder) and says so when one is absent.

use serde_json::{Value, json};

use super::Client;
use crate::reference_dumps::{SHAPED, callable_on, returns_problems, returns_schemas, schema_on};
use crate::{DEMO_API_KEY, SimConfig, start};
use truenas_api::schema::Release;

#[tokio::test]
async fn results_match_the_returns_schemas_of_the_dumps() {
    for release in SHAPED {
        check_release(release).await;
    }
}

async fn check_release(release: Release) {
    let Some(schemas) = returns_schemas(release) else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = start(listener, SimConfig { release, ..SimConfig::default() }).await.unwrap();
    sim.faults().set_job_step(std::time::Duration::from_millis(10));
    let mut c = Client::connect(&sim).await;
    let login = json!([{"mechanism": "API_KEY_PLAIN", "username": "truenas_admin", "api_key": DEMO_API_KEY}]);
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    let calls: Vec<(&str, Value)> = vec![
        ("auth.login_ex", login),
        ("auth.me", json!([])),
        ("core.set_options", json!([{}])),
        ("system.info", json!([])),
        ("system.version", json!([])),
        ("vm.query", json!([])),
        ("vm.get_instance", json!([2])),
        ("vm.status", json!([1])),
        ("vm.create", json!([{"name": "shape", "memory": 512}])),
        ("vm.update", json!([4, {"description": "x"}])),
        ("vm.clone", json!([4])),
        ("vm.device.query", json!([])),
        ("vm.device.get_instance", json!([4])),
        ("vm.device.create", json!([{"attributes": {"dtype": "NIC"}, "vm": 4}])),
        ("vm.device.update", json!([12, {"order": 1010}])),
        ("vm.get_available_memory", json!([true])),
        ("vm.get_display_web_uri", json!([1, "nas"])),
        ("vm.get_display_devices", json!([1])),
        ("vm.port_wizard", json!([])),
        ("vm.bootloader_options", json!([])),
        ("vm.resolution_choices", json!([])),
        ("vm.start", json!([4])),
        ("vm.poweroff", json!([4])),
        ("vm.stop", json!([1])),
        ("vm.delete", json!([5])),
        ("core.get_jobs", json!([])),
        ("core.ping", json!([])),
    ];
    let mut problems = Vec::new();
    for (method, params) in calls {
        if !callable_on(release, method) {
            continue;
        }
        let result = c.call(method, params).await;
        if method == "vm.stop" {
            c.job_end(&result).await;
            continue;
        }
        let Some(schema) = schema_on(schemas, release, method) else { continue };
        problems.extend(returns_problems(&schema, &result).into_iter().map(|p| format!("{release} {method}: {p}")));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
