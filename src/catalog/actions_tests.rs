//! Tests driven by the shipped data as a whole: every action of `tools/*.toml` builds params
//! that TrueNAS's own schema accepts, the catalog holds the reference's categories and actions,
//! and every tools file is embedded. Each tools file's own tests are `<file>_tests.rs`.

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

/// Arguments a release's TrueNAS removed (release, action, argument): that release's schema
/// refuses them, so they are checked to be refused there and left out of the rest.
const GONE_ON: &[(Release, &str, &str)] = &[(Release::V27_0, "snmp_config_update", "loglevel")];

/// Leaves out of `args` what `release` removed, after checking that the release refuses it.
fn without_gone(
    action: &ActionDef,
    release: Release,
    mut args: Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    for (_, _, arg) in GONE_ON.iter().filter(|(r, name, _)| *r == release && action.name.as_str() == *name) {
        if args.contains_key(*arg) {
            let (method, params) = action.check_and_resolve_for(release, &args).map_err(|e| e.to_string())?;
            if MethodTable::get(release).validate(method.as_str(), &params).is_ok() {
                return Err(format!("`{arg}` is accepted on {release}, yet listed as gone there"));
            }
            args.remove(*arg);
        }
    }
    Ok(args)
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
                    let args = without_gone(action, release, args)?;
                    let valid = action.validate_args(&args).map_err(|e| e.to_string())?;
                    let (method, params) = match action.resolve_for(release, &valid) {
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
