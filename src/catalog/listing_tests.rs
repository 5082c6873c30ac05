//! Listing texts against the reference server's own output: the catalog is built from fixtures
//! that carry the reference's descriptions, so the texts must match byte for byte.

use super::*;
use crate::catalog::Catalog;

/// The reference's categories, with its descriptions (a test oracle, not shipped prose).
const REFERENCE_CATEGORIES: &str = include_str!("testdata/reference_categories.toml");

/// The reference's `vm` actions with the reference's descriptions (a test oracle).
const REFERENCE_VM: &str = include_str!("testdata/reference_vm.toml");

/// The reference server's `vm` listing, as observed.
const REFERENCE_VM_LISTING: &str = include_str!("testdata/reference_vm_listing.txt");

/// The reference's line for `vm` in the category listing.
const REFERENCE_VM_LINE: &str = "  vm (16 actions) — Virtual machines and VM devices (disk, NIC, display, PCI, etc.)";

/// One read action in every other reference category, so lookups see all 18 categories.
const ONE_PER_CATEGORY: [(&str, &str, &str); 17] = [
    ("system", "system_info", "system.info"),
    ("storage", "pool_list", "pool.query"),
    ("sharing", "smb_share_list", "sharing.smb.query"),
    ("network", "network_config", "network.configuration.config"),
    ("account", "user_list", "user.query"),
    ("disk", "disk_list", "disk.query"),
    ("app", "app_list", "app.query"),
    ("update", "update_status", "update.status"),
    ("certificate", "certificate_list", "certificate.query"),
    ("alert", "alert_list", "alert.list"),
    ("data_protection", "replication_list", "replication.query"),
    ("filesystem", "filesystem_stat", "filesystem.stat"),
    ("reporting", "reporting_config", "reporting.config"),
    ("directory", "directory_services_status", "directoryservices.status"),
    ("service_config", "ssh_config_get", "ssh.config"),
    ("audit", "audit_config", "audit.config"),
    ("api", "truenas_api_call", "core.ping"),
];

fn catalog(extra: &[(String, String)]) -> Catalog {
    let mut sources: Vec<(&str, &str)> = vec![("categories.toml", REFERENCE_CATEGORIES), ("vm.toml", REFERENCE_VM)];
    sources.extend(extra.iter().map(|(f, t)| (f.as_str(), t.as_str())));
    match Catalog::from_sources(&sources) {
        Ok((c, _warnings)) => c,
        Err(e) => panic!("{e}"),
    }
}

/// The vm fixture alone: one non-empty category.
fn vm_only() -> Catalog {
    catalog(&[])
}

/// The vm fixture plus one action in each of the other 17 categories.
fn all_categories() -> Catalog {
    let extra: Vec<(String, String)> = ONE_PER_CATEGORY
        .iter()
        .map(|(cat, name, method)| {
            let toml = format!(
                "category = \"{cat}\"\n[[action]]\nname = \"{name}\"\ndescription = \"Fixture action.\"\n\
                 risk = \"read\"\nmethod = \"{method}\"\nparams = []\n"
            );
            (format!("{cat}.toml"), toml)
        })
        .collect();
    catalog(&extra)
}

fn all(_: &ActionDef) -> bool {
    true
}

#[test]
fn vm_listing_equals_the_reference_byte_for_byte() {
    assert_eq!(actions_text(&vm_only(), "vm", &all).as_deref(), Some(REFERENCE_VM_LISTING));
}

#[test]
fn category_listing_has_the_reference_header_and_line_format() {
    let text = categories_text(&vm_only(), &all);
    let expected = format!(
        "TrueNAS MCP — 16 tools across 1 categories\n\n\
         Call with a category to see available actions, or with category + action + params to execute.\n\n\
         Categories:\n{REFERENCE_VM_LINE}"
    );
    assert_eq!(text, expected);
}

#[test]
fn counts_cover_visible_actions_only() {
    let catalog = all_categories();
    let text = categories_text(&catalog, &|a| a.name.as_str() != "vm_delete" && a.category != "api");
    assert!(text.starts_with("TrueNAS MCP — 31 tools across 17 categories\n"), "{text}");
    assert!(text.contains("\n  vm (15 actions) — "), "{text}");
    assert!(text.contains("\n  storage (1 actions) — Storage pools"), "singular kept as the reference: {text}");
    assert!(!text.contains("  api "), "a category with no visible action is not listed: {text}");

    let vm = actions_text(&catalog, "vm", &|a| a.name.as_str() != "vm_delete").unwrap_or_default();
    assert!(vm.contains("\n\n15 available actions:\n\n"), "{vm}");
    assert!(!vm.contains("vm_delete"), "{vm}");
    let one = actions_text(&catalog, "storage", &all).unwrap_or_default();
    assert!(one.contains("\n\n1 available actions:\n\n  pool_list — Fixture action."), "{one}");
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
        unknown_action_text(&catalog, "vm", "nope"),
        "{\n  \"error\": \"Unknown action \\\"nope\\\" in category \\\"vm\\\". Available: vm_list, vm_get, \
         vm_create, vm_update, vm_delete, vm_start, vm_stop, vm_restart, vm_status, vm_clone, vm_device_list, \
         vm_device_create, vm_device_update, vm_device_delete, vm_available_memory, vm_display_uri\"\n}"
    );
    assert_eq!(
        unknown_action_text(&catalog, "nope", "nope"),
        "{\n  \"error\": \"Unknown action \\\"nope\\\" in category \\\"nope\\\". Available: \"\n}"
    );
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
    };
    let mut y = arg.clone();
    y.name = "y".into();
    y.description = "why".into();
    assert_eq!(arg_list(&[&arg, &y]), "x, y (why)");
}
