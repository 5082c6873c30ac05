//! Tests driven by the shipped data: every action of `tools/*.toml` builds params that
//! TrueNAS's own schema accepts, and the `vm` actions build exactly the expected calls.

use serde_json::{Map, Value, json};

use super::test_support::*;
use super::*;
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

/// Arguments that cannot go with the others in one call, left out of the every-argument case:
/// `volsize` makes a zvol, which none of dataset_create's filesystem properties apply to.
const NOT_WITH_EVERY_ARG: &[(&str, &str)] = &[("dataset_create", "volsize")];

/// Arguments from the examples: only the required ones, or all of them.
fn example_args(action: &ActionDef, only_required: bool) -> Result<Map<String, Value>, String> {
    let mut args = Map::new();
    let excluded = |arg: &ArgDef| NOT_WITH_EVERY_ARG.contains(&(action.name.as_str(), arg.name.as_str()));
    // A lookup fills what the agent leaves out before the call is built: its stand-in here is
    // the argument's example.
    let filled = |arg: &ArgDef| action.filled_by_lookup(&arg.name);
    for arg in action.args.iter().filter(|a| a.required || filled(a) || (!only_required && !excluded(a))) {
        let value = arg.example_value().ok_or_else(|| format!("argument `{}` has no example", arg.name))?;
        args.insert(arg.name.clone(), value);
    }
    Ok(args)
}

/// Validates params against the method table of the release.
fn validate(table: &MethodTable, method: &str, params: &Value) -> Result<(), String> {
    table.validate(method, params).map_err(|e| format!("{params} -> {e}"))
}

/// The per-action test: runs for every action in the data, and names each one that fails.
/// The method must exist on 25.10; on every other release (24.10 included) the method the
/// action routes to there must accept the params built for that release, or the action must
/// say it does not exist there.
#[test]
fn every_action_builds_params_its_method_accepts_from_its_examples() {
    let catalog = builtin();
    let mut failures = Vec::new();
    for action in catalog.actions() {
        for (case, only_required) in [("required args", true), ("every arg", false)] {
            for release in Release::KNOWN {
                let table = MethodTable::get(release);
                let outcome = example_args(action, only_required).and_then(|mut args| {
                    // Arguments only some releases have are given where they exist.
                    args.retain(|name, _| action.arg(name).is_none_or(|a| a.exists_on(release)));
                    action.validate_args(&args).map_err(|e| e.to_string())?;
                    let (method, params) = match action.resolve_for(release, &args) {
                        Err(MappingError::Unavailable { .. })
                            if release != Release::V25_10 || action.unavailable.is_some() =>
                        {
                            return Ok(());
                        }
                        other => other.map_err(|e| e.to_string())?,
                    };
                    validate(table, method.as_str(), &params)
                });
                if let Err(e) = outcome {
                    failures.push(format!("{} ({case}, {release}): {e}", action.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// The reference's 18 categories, in its order, with its number of actions in each.
const REFERENCE_CATEGORIES: [(&str, usize); 18] = [
    ("system", 24),
    ("storage", 32),
    ("sharing", 36),
    ("network", 15),
    ("account", 16),
    ("disk", 7),
    ("vm", 16),
    ("app", 17),
    ("update", 14),
    ("certificate", 8),
    ("alert", 10),
    ("data_protection", 49),
    ("filesystem", 7),
    ("reporting", 3),
    ("directory", 8),
    ("service_config", 12),
    ("audit", 3),
    ("api", 1),
];

#[test]
fn shipped_catalog_has_the_278_actions_of_the_reference_in_its_categories_and_order() {
    let catalog = builtin();
    let shipped: Vec<(&str, usize)> = catalog.categories().iter().map(|c| (c.name.as_str(), c.actions.len())).collect();
    assert_eq!(shipped, REFERENCE_CATEGORIES, "categories in the reference order, with its action counts");
    assert_eq!(catalog.len(), 278);
    let vm: Vec<&str> = catalog.category("vm").unwrap().actions.iter().map(|a| a.as_str()).collect();
    assert_eq!(
        vm,
        [
            "vm_list",
            "vm_get",
            "vm_create",
            "vm_update",
            "vm_delete",
            "vm_start",
            "vm_stop",
            "vm_restart",
            "vm_status",
            "vm_clone",
            "vm_device_list",
            "vm_device_create",
            "vm_device_update",
            "vm_device_delete",
            "vm_available_memory",
            "vm_display_uri"
        ],
        "reference order"
    );
    let order: Vec<&str> = catalog.actions().map(|a| a.name.as_str()).take(2).collect();
    assert_eq!(order, ["system_info", "system_version"], "category order, then file order");
    assert!(Catalog::builtin().is_ok());
}

#[test]
fn categories_file_declares_the_18_reference_categories_in_order() {
    let (_, text) = builtin_sources().iter().find(|(name, _)| *name == "categories.toml").copied().unwrap();
    let table: toml::Table = toml::from_str(text).unwrap();
    let names: Vec<&str> = table["category"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    let reference: Vec<&str> = REFERENCE_CATEGORIES.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, reference);
}

/// (action, arguments, expected positional params).
fn vm_cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        ("vm_list", json!({}), json!([])),
        ("vm_get", json!({"id": 3}), json!([3])),
        (
            "vm_create",
            json!({"name": "web", "memory": 512.0, "vcpus": 2, "cpu_mode": "HOST-MODEL"}),
            json!([{"name": "web", "vcpus": 2, "memory": 512, "cpu_mode": "HOST-MODEL"}]),
        ),
        (
            "vm_update",
            json!({"id": 3, "memory": 1024, "autostart": false}),
            json!([3, {"memory": 1024, "autostart": false}]),
        ),
        ("vm_update", json!({"id": 3}), json!([3, {}])),
        ("vm_delete", json!({"id": 3, "confirm": true}), json!([3, {"zvols": false, "force": false}])),
        ("vm_delete", json!({"id": 3, "confirm": false, "zvols": true}), json!([3, {"zvols": true, "force": false}])),
        ("vm_start", json!({"id": 3}), json!([3, {"overcommit": false}])),
        ("vm_start", json!({"id": 3, "overcommit": true}), json!([3, {"overcommit": true}])),
        ("vm_stop", json!({"id": 3, "force": true}), json!([3, {"force": true}])),
        ("vm_restart", json!({"id": 3}), json!([3])),
        ("vm_status", json!({"id": 3}), json!([3])),
        ("vm_clone", json!({"id": 3, "name": "copy"}), json!([3, "copy"])),
        ("vm_clone", json!({"id": 3}), json!([3])),
        ("vm_device_list", json!({}), json!([[]])),
        ("vm_device_list", json!({"vm_id": 3}), json!([[["vm", "=", 3]]])),
        (
            "vm_device_create",
            json!({"vm": 3, "dtype": "CDROM", "attributes": {"path": "/mnt/tank/iso/d.iso"}}),
            json!([{"attributes": {"path": "/mnt/tank/iso/d.iso", "dtype": "CDROM"}, "vm": 3}]),
        ),
        (
            "vm_device_create",
            json!({"vm": 3, "dtype": "NIC", "order": 1002, "attributes": {"dtype": "DISK", "type": "VIRTIO"}}),
            json!([{"attributes": {"dtype": "NIC", "type": "VIRTIO"}, "vm": 3, "order": 1002}]),
        ),
        ("vm_device_update", json!({"id": 5, "order": 7}), json!([5, {"order": 7}])),
        (
            "vm_device_update",
            json!({"id": 5, "dtype": "DISK", "attributes": {"path": "/dev/zvol/tank/d"}, "vm": 2}),
            json!([5, {"attributes": {"path": "/dev/zvol/tank/d", "dtype": "DISK"}, "vm": 2}]),
        ),
        (
            "vm_device_delete",
            json!({"id": 5, "zvol": true}),
            json!([5, {"zvol": true, "raw_file": false, "force": false}]),
        ),
        ("vm_available_memory", json!({}), json!([])),
        ("vm_display_uri", json!({"id": 3}), json!([3, "", {}])),
        (
            "vm_display_uri",
            json!({"id": 3, "protocol": "HTTPS", "host": "nas"}),
            json!([3, "nas", {"protocol": "HTTPS"}]),
        ),
    ]
}

#[test]
fn vm_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    let cases = vm_cases();
    for (name, args, expected) in &cases {
        assert_builds(&catalog, name, None, args, expected);
    }
    assert_every_action_has_a_case(&catalog, &["vm"], |a| cases.iter().any(|(n, ..)| *n == a));
}

#[test]
fn vm_actions_call_the_right_methods() {
    let catalog = builtin();
    let method = |a: &str| catalog.action(a).map(|d| d.method.as_str().to_string()).unwrap_or_default();
    for (action, expected) in [
        ("vm_list", "vm.query"),
        ("vm_get", "vm.get_instance"),
        ("vm_create", "vm.create"),
        ("vm_update", "vm.update"),
        ("vm_delete", "vm.delete"),
        ("vm_start", "vm.start"),
        ("vm_stop", "vm.stop"),
        ("vm_restart", "vm.restart"),
        ("vm_status", "vm.status"),
        ("vm_clone", "vm.clone"),
        ("vm_device_list", "vm.device.query"),
        ("vm_device_create", "vm.device.create"),
        ("vm_device_update", "vm.device.update"),
        ("vm_device_delete", "vm.device.delete"),
        ("vm_available_memory", "vm.get_available_memory"),
        ("vm_display_uri", "vm.get_display_web_uri"),
        ("system_info", "system.info"),
        ("system_version", "system.version"),
    ] {
        assert_eq!(method(action), expected, "{action}");
    }
    // Job-ness comes from the method table, not from the catalog.
    let table = MethodTable::get(Release::V25_10);
    let jobs: Vec<&str> = catalog
        .actions()
        .filter(|a| a.category == "vm" && table.method(a.method.as_str()).is_some_and(|m| m.job))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(jobs, ["vm_stop", "vm_restart"]);
}

#[test]
fn only_vm_delete_is_gated_in_vm_and_its_refusal_is_the_reference_text() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = catalog
        .actions()
        .filter(|a| a.category == "vm")
        .filter_map(|a| Some((a.name.as_str(), a.confirm.as_deref()?)))
        .collect();
    assert_eq!(gated, [("vm_delete", "VM deletion aborted: 'confirm' must be set to true.")]);
    let delete = catalog.action("vm_delete").unwrap();
    let params = delete.build_params(&object(json!({"id": 1, "confirm": true}))).unwrap();
    assert!(!params.to_string().contains("confirm"), "confirm is never forwarded: {params}");
}

#[test]
fn annotations_follow_the_risk_class() {
    let catalog = builtin();
    let get = |n: &str| catalog.action(n).unwrap();
    let list = get("vm_list").annotations();
    assert!(list.read_only && list.idempotent && !list.destructive && !list.open_world);
    let create = get("vm_create").annotations();
    assert!(!create.read_only && !create.idempotent && !create.destructive);
    let delete = get("vm_delete").annotations();
    assert!(!delete.read_only && delete.destructive && delete.idempotent);
    assert_eq!(get("vm_device_delete").risk, Risk::Destructive);
}

#[test]
fn input_schema_declares_types_enums_bounds_and_refuses_unknown_keys() {
    let catalog = builtin();
    let schema = Value::Object((**catalog.action("vm_create").unwrap().input_schema()).clone());
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["name", "memory"]));
    assert_eq!(
        schema["properties"]["memory"],
        json!({"type": "integer", "description": "Memory in MiB", "minimum": 20})
    );
    assert_eq!(schema["properties"]["cpu_mode"]["enum"], json!(["CUSTOM", "HOST-MODEL", "HOST-PASSTHROUGH"]));
    assert_eq!(schema["properties"]["shutdown_timeout"]["maximum"], 300);
    let start = Value::Object((**catalog.action("vm_start").unwrap().input_schema()).clone());
    assert_eq!(start["properties"]["overcommit"]["default"], false);
    let list = Value::Object((**catalog.action("vm_list").unwrap().input_schema()).clone());
    assert_eq!(list, json!({"type": "object", "properties": {}, "additionalProperties": false}));
    // The schema is a real JSON Schema that agrees with `validate_args`.
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&json!({"name": "a", "memory": 64})));
    assert!(!validator.is_valid(&json!({"name": "a", "memory": 64, "zz": 1})));
}

#[test]
fn every_file_in_tools_is_embedded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        // The resource table is data of the MCP layer, embedded by `mcp::resources`.
        .filter(|n| n != "resources.toml")
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = builtin_sources().iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "list every tools/*.toml in `BUILTIN` (src/catalog/mod.rs)");
}
