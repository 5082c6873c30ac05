//! Version routes: the loader checks them like actions, and each release gets its own method
//! and params (or a clear refusal naming the release).

use serde_json::{Map, Value, json};

use super::*;
use crate::schema::Release;

const ROUTED: &str = r#"
[[action]]
name = "vm_service_start"
description = "Start a service."
risk = "write"
idempotent = true
method = "service.control"
params = ["START", "$service", { silent = false }]
args = [
  { name = "service", type = "string", required = true, description = "s", example = "ftp" },
]

[[action.route]]
releases = ["24.10"]
method = "service.start"
params = ["$service", {}]

[[action]]
name = "vm_snapshot_delete"
description = "Same params under another name."
risk = "write"
idempotent = true
method = "pool.snapshot.delete"
params = ["$id", { defer = "$defer" }]
args = [
  { name = "id", type = "string", required = true, description = "s", example = "tank@a" },
  { name = "defer", type = "boolean", default = false, description = "d" },
]

[[action.route]]
releases = ["24.10"]
method = "zfs.snapshot.delete"

[[action]]
name = "vm_profile"
description = "Newer than 24.10, with a note."
risk = "read"
method = "update.profile_choices"
params = []

[[action.route]]
releases = ["24.10"]
unavailable = "added in 25.10; use update_config"

[[action]]
name = "vm_control"
description = "No route: 24.10 lacks the method."
risk = "read"
method = "service.control"
params = ["RELOAD", "cifs", {}]
"#;

fn catalog(text: &str) -> Catalog {
    match fixture(text) {
        Ok((catalog, _)) => catalog,
        Err(e) => panic!("{e}"),
    }
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_route_gives_its_release_another_method_and_params() {
    let c = catalog(ROUTED);
    let start = c.action("vm_service_start").unwrap();
    let a = args(json!({"service": "ssh"}));
    let (m, p) = start.check_and_resolve_for(Release::V24_10, &a).unwrap();
    assert_eq!((m.as_str(), p), ("service.start", json!(["ssh", {}])));
    for release in [Release::V25_10, Release::V26_0] {
        let (m, p) = start.check_and_resolve_for(release, &a).unwrap();
        assert_eq!((m.as_str(), p), ("service.control", json!(["START", "ssh", {"silent": false}])), "{release}");
    }
    assert!(start.check_and_resolve_for(Release::V25_04, &a).is_err(), "unrouted, and 25.04 has no `service.control`");
    let methods: Vec<&str> = start.methods().map(|m| m.as_str()).collect();
    assert_eq!(methods, ["service.control", "service.start"]);
    assert_eq!(start.routed_releases().collect::<Vec<_>>(), [Release::V24_10]);
}

#[test]
fn a_route_without_params_reuses_the_action_template() {
    let c = catalog(ROUTED);
    let delete = c.action("vm_snapshot_delete").unwrap();
    let (m, p) = delete.check_and_resolve_for(Release::V24_10, &args(json!({"id": "tank@a"}))).unwrap();
    assert_eq!((m.as_str(), p), ("zfs.snapshot.delete", json!(["tank@a", {"defer": false}])));
    assert!(delete.check_and_resolve_for(Release::V24_10, &args(json!({}))).is_err(), "arguments are still validated");
}

#[test]
fn an_unavailable_route_or_a_missing_method_is_refused_naming_the_release() {
    let c = catalog(ROUTED);
    let err = c.action("vm_profile").unwrap().check_and_resolve_for(Release::V24_10, &Map::new()).unwrap_err();
    assert!(matches!(err, MappingError::Unavailable { release: Release::V24_10, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "`update.profile_choices` does not exist on the connected TrueNAS (24.10): added in 25.10; use update_config"
    );
    let err = c.action("vm_control").unwrap().check_and_resolve_for(Release::V24_10, &Map::new()).unwrap_err();
    assert_eq!(err.to_string(), "`service.control` does not exist on the connected TrueNAS (24.10)");
    assert!(c.action("vm_control").unwrap().check_and_resolve_for(Release::V26_0, &Map::new()).is_ok());
    assert!(c.action("vm_profile").unwrap().method_for(Release::V25_10).is_ok());
}

#[test]
fn broken_routes_are_reported_like_broken_actions() {
    let text = r#"
[[action]]
name = "vm_r"
description = "Every kind of route mistake."
risk = "write"
idempotent = true
method = "service.control"
params = ["START", "$service", {}]
args = [
  { name = "service", type = "string", required = true, description = "s", example = "ftp" },
]

[[action.route]]
releases = ["24.10", "23.10"]
method = "service.control"
params = ["$servise"]

[[action.route]]
releases = ["24.10"]
method = "service.start"
unavailable = "both"
colour = "red"

[[action.route]]
method = "service.start"
"#;
    let err = match fixture(text) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    let messages: Vec<&str> = err.errors.iter().map(|d| d.message.as_str()).collect();
    for expected in [
        "route: unknown release `23.10` (known: `24.04`, `24.10`, `25.04`, `25.10`, `26.0`, `27.0`)",
        "route: method `service.control` does not exist on TrueNAS 24.10",
        "route: the params template references undeclared argument `servise`",
        "route: release `24.10` is routed twice",
        "route: give either `method` (with optional `params`) or `unavailable`",
        "route: unknown key `colour`",
        "route: `releases` is required",
    ] {
        assert!(messages.iter().any(|m| m.starts_with(expected)), "missing `{expected}` in {messages:#?}");
    }
    assert!(err.errors.iter().all(|d| d.action.as_deref() == Some("vm_r")), "{:#?}", err.errors);
    assert!(
        err.errors.iter().any(|d| d.line == Some(14)),
        "a route's line is its own (after the fixture's category line): {:#?}",
        err.errors
    );
}

/// The shipped routes: each renamed method the catalog calls reaches its 24.10 name.
#[test]
fn shipped_actions_call_the_24_10_methods() {
    let (c, _) = Catalog::from_sources(builtin_sources()).unwrap();
    let on_24_10 = |action: &str, a: Value| {
        let (m, p) = c.action(action).unwrap().check_and_resolve_for(Release::V24_10, &args(a)).unwrap();
        (m.as_str().to_string(), p)
    };
    let expect = |action: &str, a: Value, method: &str, params: Value| {
        assert_eq!(on_24_10(action, a), (method.to_string(), params), "{action}");
    };
    expect("service_restart", json!({"service": "cifs"}), "service.restart", json!(["cifs", {"silent": false}]));
    expect("system_reboot", json!({"confirm": true, "delay": 5}), "system.reboot", json!([{"delay": 5}]));
    expect("system_shutdown", json!({"confirm": true}), "system.shutdown", json!([{"delay": 0}]));
    expect(
        "snapshot_delete",
        json!({"id": "tank@a", "confirm": true}),
        "zfs.snapshot.delete",
        json!(["tank@a", {"defer": false}]),
    );
    expect("bootenv_list", json!({}), "bootenv.query", json!([]));
    expect(
        "bootenv_create",
        json!({"name": "b", "source": "a"}),
        "bootenv.create",
        json!([{"name": "b", "source": "a"}]),
    );
    expect("bootenv_keep", json!({"id": "a", "keep": true}), "bootenv.set_attribute", json!(["a", {"keep": true}]));
    expect("bootenv_delete", json!({"id": "a", "confirm": true}), "bootenv.delete", json!(["a"]));
    expect("update_check", json!({}), "update.check_available", json!([]));
    expect(
        "update_config_set",
        json!({"train": "TrueNAS-SCALE-ElectricEel"}),
        "update.set_train",
        json!(["TrueNAS-SCALE-ElectricEel"]),
    );
    expect("update_apply", json!({"confirm": true}), "update.update", json!([{"reboot": false}]));
    expect("vm_start", json!({"id": 1}), "vm.start", json!([1, {"overcommit": false}]));
    let err = c
        .action("api_key_create")
        .unwrap()
        .check_and_resolve_for(Release::V24_10, &args(json!({"name": "k", "username": "u"})));
    assert!(err.unwrap_err().to_string().contains("create the key in the TrueNAS web UI"));
}
