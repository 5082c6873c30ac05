//! Listing texts against the reference server's own output: the catalog is built from an
//! oracle of the reference's categories and actions (with its descriptions), so the texts must
//! match byte for byte.

use std::sync::LazyLock;

use serde_json::Value;

use super::*;
use crate::catalog::Catalog;

/// The reference's categories, with its descriptions (a test oracle, not shipped prose).
const REFERENCE_CATEGORIES: &str = include_str!("testdata/reference_categories.toml");

/// Every category of the reference with its actions, the action listing it prints for each,
/// and its category listing (extracted by `scripts/reference-listings.py`, which checks its
/// rendering against the texts observed from the running reference server).
const REFERENCE_LISTINGS: &str = include_str!("testdata/reference_listings.json");

static ORACLE: LazyLock<Value> = LazyLock::new(|| serde_json::from_str(REFERENCE_LISTINGS).unwrap());

fn oracle_categories() -> &'static [Value] {
    ORACLE["categories"].as_array().unwrap()
}

/// A catalog of the reference's actions in the categories `keep` accepts.
fn reference_catalog(keep: &dyn Fn(&str) -> bool) -> Catalog {
    let sources: Vec<(String, String)> = std::iter::once(("categories.toml".to_string(), REFERENCE_CATEGORIES.into()))
        .chain(
            oracle_categories()
                .iter()
                .filter(|c| keep(c["name"].as_str().unwrap()))
                .map(|c| (format!("{}.toml", c["name"].as_str().unwrap()), oracle_source(c))),
        )
        .collect();
    let sources: Vec<(&str, &str)> = sources.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    match Catalog::from_sources(&sources) {
        Ok((c, _warnings)) => c,
        Err(e) => panic!("{e}"),
    }
}

/// The reference's `vm` actions alone: one non-empty category.
fn vm_only() -> Catalog {
    reference_catalog(&|c| c == "vm")
}

/// All 278 reference actions in their 18 categories.
fn all_categories() -> Catalog {
    reference_catalog(&|_| true)
}

/// The oracle's actions of one category as a catalog source. Only what listings show is kept
/// (names, descriptions, arguments); the method is a placeholder the loader accepts.
fn oracle_source(category: &Value) -> String {
    let quote = |v: &Value| serde_json::to_string(v).unwrap();
    let mut toml = format!("category = {}\n", quote(&category["name"]));
    for action in category["actions"].as_array().unwrap() {
        let args = action["args"].as_array().unwrap();
        let gated = args.iter().any(|a| a["name"] == "confirm");
        toml += &format!(
            "[[action]]\nname = {}\ndescription = {}\nmethod = \"system.info\"\nparams = {}\n",
            quote(&action["name"]),
            quote(&action["description"]),
            if args.is_empty() { "[]" } else { "[\"$rest\"]" },
        );
        toml +=
            if gated { "risk = \"destructive\"\nidempotent = false\nconfirm = \"no\"\n" } else { "risk = \"read\"\n" };
        toml += "args = [\n";
        for arg in args {
            let (kind, example) = if arg["name"] == "confirm" { ("boolean", "true") } else { ("string", "\"x\"") };
            toml += &format!(
                "  {{ name = {}, type = \"{kind}\", required = {}, description = {}, example = {example} }},\n",
                quote(&arg["name"]),
                arg["required"],
                quote(&arg["description"]),
            );
        }
        toml += "]\n";
    }
    toml
}

#[test]
fn every_category_listing_equals_the_reference_byte_for_byte() {
    let catalog = all_categories();
    assert_eq!((catalog.categories().len(), catalog.len()), (18, 278));
    for category in oracle_categories() {
        let name = category["name"].as_str().unwrap();
        let text = actions_text(&catalog, name, &all).unwrap_or_default();
        assert_eq!(text, category["text"].as_str().unwrap(), "listing of `{name}`");
    }
}

#[test]
fn category_listing_equals_the_reference_byte_for_byte() {
    assert_eq!(categories_text(&all_categories(), &all), ORACLE["categories_text"].as_str().unwrap());
    let vm = categories_text(&vm_only(), &all);
    assert!(vm.starts_with("TrueNAS MCP — 16 tools across 1 categories\n"), "{vm}");
    assert!(
        vm.ends_with(
            "Categories:\n  vm (16 actions) — Virtual machines and VM devices (disk, NIC, display, PCI, etc.)"
        )
    );
}

fn all(_: &ActionDef) -> bool {
    true
}

#[test]
fn counts_cover_visible_actions_only() {
    let catalog = all_categories();
    let visible = |a: &ActionDef| {
        a.name.as_str() != "vm_delete"
            && a.category != "api"
            && (a.category != "storage" || a.name.as_str() == "pool_list")
    };
    let text = categories_text(&catalog, &visible);
    assert!(text.starts_with("TrueNAS MCP — 245 tools across 17 categories\n"), "{text}");
    assert!(text.contains("\n  vm (15 actions) — "), "{text}");
    assert!(text.contains("\n  storage (1 actions) — Storage pools"), "singular kept as the reference: {text}");
    assert!(!text.contains("  api "), "a category with no visible action is not listed: {text}");

    let vm = actions_text(&catalog, "vm", &|a| a.name.as_str() != "vm_delete").unwrap_or_default();
    assert!(vm.contains("\n\n15 available actions:\n\n"), "{vm}");
    assert!(!vm.contains("vm_delete"), "{vm}");
    let one = actions_text(&catalog, "storage", &visible).unwrap_or_default();
    assert!(one.contains("\n\n1 available actions:\n\n  pool_list — "), "{one}");
}

#[test]
fn a_category_with_every_action_hidden_says_so() {
    assert_eq!(actions_text(&vm_only(), "vm", &|_| false).as_deref(), Some("No actions found in category \"vm\"."));
}

#[test]
fn unknown_or_empty_categories_have_no_listing() {
    let catalog = vm_only();
    assert_eq!(actions_text(&catalog, "nope", &all), None);
    assert_eq!(actions_text(&catalog, "storage", &all), None, "declared but without actions");
    assert_eq!(actions_text(&catalog, "VM", &all), None, "case-sensitive");
}

#[test]
fn unknown_category_text_matches_the_reference() {
    assert_eq!(
        unknown_category_text(&all_categories(), "nope"),
        "Unknown category \"nope\". Available categories: system, storage, sharing, network, account, disk, vm, \
         app, update, certificate, alert, data_protection, filesystem, reporting, directory, service_config, audit, api"
    );
    assert_eq!(
        unknown_category_text(&vm_only(), "Storage"),
        "Unknown category \"Storage\". Available categories: vm",
        "only categories with actions are offered"
    );
}

#[test]
fn unknown_action_text_matches_the_reference() {
    let catalog = all_categories();
    assert_eq!(
        unknown_action_text(&catalog, "vm", "nope", &|_| true),
        "{\n  \"error\": \"Unknown action \\\"nope\\\" in category \\\"vm\\\". Available: vm_list, vm_get, \
         vm_create, vm_update, vm_delete, vm_start, vm_stop, vm_restart, vm_status, vm_clone, vm_device_list, \
         vm_device_create, vm_device_update, vm_device_delete, vm_available_memory, vm_display_uri\"\n}"
    );
    assert_eq!(
        unknown_action_text(&catalog, "nope", "nope", &|_| true),
        "{\n  \"error\": \"Unknown action \\\"nope\\\" in category \\\"nope\\\". Available: \"\n}"
    );
    // Hidden actions are not named.
    let text = unknown_action_text(&catalog, "vm", "nope", &|a| a.name.as_str() != "vm_delete");
    assert!(text.contains("vm_update, vm_start,"), "{text}");
}

#[test]
fn wrong_category_text_matches_the_reference() {
    assert_eq!(
        wrong_category_text("pool_list", "vm", "storage"),
        "{\n  \"error\": \"Action \\\"pool_list\\\" belongs to category \\\"storage\\\", not \\\"vm\\\". \
         Use category \\\"storage\\\" instead.\"\n}"
    );
}

#[test]
fn long_argument_descriptions_are_cut_at_100_utf16_units() {
    let exactly_100 = "a".repeat(100);
    assert_eq!(cut(&exactly_100), exactly_100);
    assert_eq!(cut(&"a".repeat(101)), format!("{}...", "a".repeat(97)));
    // "—" is one UTF-16 unit, "🦀" two: the cut counts units as JavaScript does.
    let dashes = "—".repeat(101);
    assert_eq!(cut(&dashes), format!("{}...", "—".repeat(97)));
    let crabs = "🦀".repeat(51);
    assert_eq!(cut(&crabs).chars().filter(|c| *c == '🦀').count(), 48, "97 units = 48 crabs + half a crab");
}

#[test]
fn arguments_without_description_are_listed_by_name() {
    let arg = ArgDef {
        name: "x".into(),
        kind: crate::catalog::ArgType::String,
        required: true,
        description: String::new(),
        enum_values: None,
        default: None,
        minimum: None,
        maximum: None,
        example: None,
        compat: None,
        value_kind: None,
        same_as: None,
        required_unless: None,
        default_from: None,
        since: None,
        until: None,
    };
    let mut y = arg.clone();
    y.name = "y".into();
    y.description = "why".into();
    assert_eq!(arg_list(&[&arg, &y]), "x, y (why)");
}
