//! The embedded tool set as a start reads it: lexed into JSON at build time (`build.rs`), it
//! loads the same catalog as its TOML, and whatever a check finds is still reported with its
//! file and line, from the TOML.

use super::*;

/// Lexes `sources` as `build.rs` does.
fn lex(sources: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    sources
        .iter()
        .map(|(file, text)| {
            let table: toml::Table = toml::from_str(text).unwrap();
            (*file, serde_json::to_string(&table).unwrap())
        })
        .collect()
}

fn load_both(sources: &[(&'static str, &str)]) -> Result<(Catalog, Vec<Diagnostic>), CatalogError> {
    let lexed = lex(sources);
    let lexed: Vec<(&str, &str)> = lexed.iter().map(|(f, j)| (*f, j.as_str())).collect();
    Catalog::from_lexed(sources, &lexed)
}

#[test]
fn every_embedded_file_reads_back_from_its_build_time_json_as_its_toml() {
    assert_eq!(BUILTIN.len(), BUILTIN_JSON.len());
    for ((file, text), (lexed_file, json)) in BUILTIN.iter().zip(BUILTIN_JSON) {
        assert_eq!(file, lexed_file);
        let from_toml: toml::Table = toml::from_str(text).unwrap();
        let from_json: toml::Table = serde_json::from_str(json).unwrap();
        assert_eq!(from_toml, from_json, "{file}");
    }
}

#[test]
fn the_embedded_json_passes_every_check_and_loads_the_catalog_the_toml_loads() {
    let mut findings = diagnostics::Findings::default();
    let lexed = load::load_lexed(BUILTIN_JSON, &mut findings).unwrap();
    // Nothing to report: a start never falls back to lexing the TOML.
    assert_eq!(findings.all, Vec::new());
    let (from_toml, warnings) = Catalog::from_sources(BUILTIN).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let from_json = Catalog::new(lexed);
    assert_eq!(format!("{:?}", from_json.categories()), format!("{:?}", from_toml.categories()));
    let actions = |c: &Catalog| format!("{:?}", c.actions().collect::<Vec<_>>());
    assert_eq!(actions(&from_json), actions(&from_toml));
    assert_eq!(Catalog::builtin().unwrap().len(), from_toml.len());
}

#[test]
fn a_broken_lexed_file_is_reported_from_its_toml_with_file_and_line() {
    let vm = "category = \"vm\"\n\n[[action]]\nname = \"vm_a\"\ndescription = \"A.\"\nrisk = \"read\"\nmethod = \"vm.query\"\nparams = []\ncolour = \"red\"\n\n[[action]]\nname = \"vm_b\"\ndescription = \"B.\"\nrisk = \"read\"\nmethod = \"vm.nope\"\nparams = []\n";
    let err = load_both(&[("categories.toml", FIXTURE_CATEGORIES), ("vm.toml", vm)]).unwrap_err();
    let found: Vec<(&str, Option<usize>, Option<&str>)> =
        err.errors.iter().map(|d| (d.file.as_str(), d.line, d.action.as_deref())).collect();
    assert_eq!(found, vec![("vm.toml", Some(3), Some("vm_a")), ("vm.toml", Some(11), Some("vm_b"))]);
    assert!(err.errors[0].message.contains("unknown key `colour`"), "{}", err.errors[0]);
    assert!(err.errors[1].message.contains("`vm.nope` does not exist"), "{}", err.errors[1]);
}

#[test]
fn a_warning_in_a_lexed_file_is_reported_from_its_toml_with_its_line() {
    let vm = "category = \"vm\"\n\n[[action]]\nname = \"vm_a\"\ndescription = \"A.\"\nrisk = \"read\"\nidempotent = true\nmethod = \"vm.query\"\nparams = []\n";
    let (catalog, warnings) = load_both(&[("categories.toml", FIXTURE_CATEGORIES), ("vm.toml", vm)]).unwrap();
    assert_eq!(catalog.len(), 1);
    let found: Vec<(&str, Option<usize>)> = warnings.iter().map(|d| (d.file.as_str(), d.line)).collect();
    assert_eq!(found, vec![("vm.toml", Some(3))]);
    assert!(warnings[0].message.contains("`idempotent` is ignored"), "{}", warnings[0]);
}

#[test]
fn a_lexed_copy_out_of_step_with_its_build_is_refused_not_trusted() {
    let mut findings = diagnostics::Findings::default();
    let lexed = load::load_lexed(&[("categories.toml", "[1, 2]"), ("vm.toml", "not json")], &mut findings);
    assert!(lexed.is_none());
    let (errors, _) = findings.split();
    let unreadable: Vec<&str> =
        errors.iter().filter(|d| d.message.contains("does not read back")).map(|d| d.file.as_str()).collect();
    assert_eq!(unreadable, ["categories.toml", "vm.toml"]);
}

#[test]
fn input_schemas_are_built_on_first_use_not_at_load_and_match_the_arguments() {
    let catalog = Catalog::builtin().unwrap();
    assert!(catalog.actions().all(|a| a.schema.get().is_none()), "a start builds no input schema");
    for action in catalog.actions() {
        let built = action.input_schema().clone();
        assert_eq!(*built, super::model::input_schema(&action.args), "{}", action.name.as_str());
        // Built once: the second call returns the same schema, not a new one.
        assert!(std::sync::Arc::ptr_eq(&built, action.input_schema()));
    }
}

#[test]
fn enum_values_are_still_checked_for_type_and_examples_against_the_enum() {
    let wrong_enum = r#"
[[action]]
name = "vm_x"
description = "x"
risk = "read"
method = "vm.query"
params = ["$state"]
[[action.args]]
name = "state"
type = "string"
description = "s"
enum = ["RUNNING", 3]
example = "RUNNING"
"#;
    let err = fixture(wrong_enum).unwrap_err();
    assert!(err.errors.iter().any(|e| e.message.contains("`enum` value 3 is invalid")), "{:?}", err.errors);
    let bad_example = wrong_enum
        .replace("enum = [\"RUNNING\", 3]", "enum = [\"RUNNING\"]")
        .replace("example = \"RUNNING\"", "example = \"STOPPED\"");
    let err = fixture(&bad_example).unwrap_err();
    assert!(
        err.errors.iter().any(|e| e.message.contains("`example` value \"STOPPED\" is invalid")),
        "{:?}",
        err.errors
    );
}
