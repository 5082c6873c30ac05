use super::*;
use crate::policy::test_catalog;
use crate::policy::{PolicyEngine, run_cases};

fn generated(preset: Preset, categories: &[&str]) -> String {
    let categories: Vec<String> = categories.iter().map(|c| (*c).to_owned()).collect();
    starting_policy(test_catalog(), preset, &categories).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `cases` (TOML) against a generated policy; every case must pass.
fn behaves(policy: &str, cases: &str) {
    let out = run_cases(policy, test_catalog(), cases, false).unwrap_or_else(|e| panic!("{e}"));
    let failed: Vec<_> = out.iter().filter(|o| !o.passed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

fn case(action: &str, args: &str, expect: &str) -> String {
    format!("[[cases]]\nname = \"{action} {expect}\"\naction = \"{action}\"\nargs = {args}\nexpect = \"{expect}\"\n")
}

#[test]
fn every_preset_with_and_without_categories_loads_and_warns_only_about_what_it_opens_by_name() {
    for preset in [Preset::Readonly, Preset::Operator, Preset::Admin] {
        for categories in [&[][..], &["vm"], &["vm", "storage"], &["sharing", "data_protection", "system"]] {
            let text = generated(preset, categories);
            let engine =
                PolicyEngine::load(&text, test_catalog()).unwrap_or_else(|e| panic!("{preset:?} {categories:?}: {e}"));
            // Scoped, each write or destructive entry opens what `default: deny` would deny:
            // `policy check` says so, by design. Nothing else is warned about.
            let unexpected: Vec<_> = engine
                .warnings()
                .iter()
                .filter(|w| categories.is_empty() || !w.message().ends_with("this entry allows it"))
                .collect();
            assert!(unexpected.is_empty(), "{preset:?} {categories:?}: {unexpected:?}");
            let doc: Value = serde_json::from_str(&text).unwrap();
            assert!(doc["$comment"].as_str().unwrap().contains(preset.as_str()));
        }
    }
}

#[test]
fn readonly_reads_and_hides_every_destructive_action_by_name() {
    let text = generated(Preset::Readonly, &[]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let hidden: Vec<&str> = doc["hide"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let destructive = test_catalog().actions().filter(|a| a.risk == Risk::Destructive).count();
    assert_eq!(hidden.len(), destructive);
    assert!(hidden.contains(&"vm_delete") && hidden.contains(&"truenas_api_call"), "{hidden:?}");
    let cases = [
        case("vm_list", "{}", "allow"),
        case("vm_start", "{ id = 1 }", "deny"),
        case("vm_delete", "{ id = 1, confirm = true }", "deny"),
    ];
    behaves(&text, &cases.concat());
}

#[test]
fn operator_lists_each_destructive_action_with_a_comment_and_asks_for_approval() {
    let text = generated(Preset::Operator, &[]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let entry = &doc["tools"]["vm_delete"];
    assert_eq!(entry["x-approval"], "always");
    assert!(entry["$comment"].as_str().unwrap().starts_with("vm (destructive): "), "{entry}");
    assert!(doc["tools"].get("vm_list").is_none(), "reads are left to the risk defaults");
    let cases = [
        case("vm_list", "{}", "allow"),
        case("vm_start", "{ id = 1 }", "allow"),
        case("vm_delete", "{ id = 1, confirm = true }", "approve"),
    ];
    behaves(&text, &cases.concat());
}

#[test]
fn admin_allows_everything_with_an_entry_per_destructive_action() {
    let text = generated(Preset::Admin, &[]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["tools"]["pool_export"]["$comment"].is_string() || doc["tools"]["vm_delete"]["$comment"].is_string());
    let cases = [case("vm_start", "{ id = 1 }", "allow"), case("vm_delete", "{ id = 1, confirm = true }", "allow")];
    behaves(&text, &cases.concat());
}

#[test]
fn categories_allow_only_their_actions_each_by_name() {
    let text = generated(Preset::Operator, &["vm"]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc.get("x-risk-defaults").is_none());
    assert!(doc["tools"]["vm_list"]["$comment"].as_str().unwrap().starts_with("vm (read): "));
    let outside = test_catalog().actions().find(|a| a.category != "vm" && a.risk == Risk::Read).unwrap();
    let mut cases = [
        case("vm_list", "{}", "allow"),
        case("vm_stop", "{ id = 1 }", "allow"),
        case("vm_delete", "{ id = 1, confirm = true }", "approve"),
        case("job_status", "{}", "allow"),
    ]
    .concat();
    // A read outside the category, with its example arguments (JSON is valid TOML inline here
    // only for scalars, so the case is written as a table).
    cases.push_str(&format!(
        "[[cases]]\nname = \"outside\"\naction = \"{}\"\nexpect = \"deny\"\nrule = \"(default deny)\"\n[cases.args]\n",
        outside.name
    ));
    for (k, v) in outside.example_args() {
        cases.push_str(&format!("{k} = {v}\n"));
    }
    behaves(&text, &cases);
    let readonly = generated(Preset::Readonly, &["vm"]);
    behaves(&readonly, &[case("vm_list", "{}", "allow"), case("vm_stop", "{ id = 1 }", "deny")].concat());
}

#[test]
fn an_unknown_category_is_an_error_listing_the_known_ones() {
    let err = starting_policy(test_catalog(), Preset::Admin, &["vms".to_owned()]).unwrap_err().to_string();
    assert!(err.starts_with("unknown category `vms`; the categories are "), "{err}");
    assert!(err.contains("vm"), "{err}");
}
