//! Loading reports every problem at once, errors apart from warnings, located by file and line.

use super::*;

const GOOD_ACTION: &str = r#"
[[action]]
name = "vm_ok"
description = "Fine."
risk = "read"
method = "vm.query"
params = []
"#;

/// A tools file with one problem per action (the line of each `[[action]]` is noted).
const BROKEN_VM: &str = r#"category = "vm"

[[action]]
name = "vm_a"
description = "Unknown keys and a missing method."
risk = "read"
metod = "vm.query"
params = []
colour = "red"

[[action]]
name = "pool_list"
description = "Filed under the wrong category."
risk = "read"
method = "pool.query"
params = []

[[action]]
name = "vm_b"
description = "A method TrueNAS does not have."
risk = "read"
method = "vm.nope"
params = []

[[action]]
name = "vm_c"
description = "Template mistakes."
risk = "write"
idempotent = false
method = "vm.start"
params = ["$id", { overcommit = "$overcomit" }]
args = [
  { name = "id", type = "integer", required = true, description = "id", secret = true },
  { name = "overcommit", type = "boolean", description = "o" },
]

[[action]]
name = "vm_d"
description = "Gated, but without a confirm argument, and not destructive."
risk = "write"
method = "vm.delete"
confirm = "No."
params = ["$id"]
args = [
  { name = "id", type = "integer", required = true, description = "id" },
]

[[action]]
name = "vm_e"
description = "A confirm argument without refusal text; a required string without example."
risk = "destructive"
idempotent = true
method = "vm.clone"
params = ["$id", "$name"]
args = [
  { name = "id", type = "integer", required = true, description = "id" },
  { name = "confirm", type = "boolean", required = true, description = "c" },
  { name = "name", type = "string", required = true, description = "n" },
]

[[action]]
name = "vm_f"
description = "Bad argument declarations."
risk = "read"
method = "vm.get_display_web_uri"
params = ["$id", "$host", "$p"]
args = [
  { name = "id", type = "integer", required = true, default = "1", description = "id" },
  { name = "host", type = "text", description = "h" },
  { name = "p", type = "string", enum = ["HTTP", 2], example = "FTP", description = "p" },
]

[[action]]
name = "vm_ok"
description = "Defined twice."
risk = "read"
method = "vm.query"
params = []
"#;

fn load_errors(sources: &[(&str, &str)]) -> CatalogError {
    match Catalog::from_sources(sources) {
        Ok(_) => panic!("the broken catalog loaded"),
        Err(e) => e,
    }
}

fn has(errors: &[Diagnostic], file: &str, line: Option<usize>, action: Option<&str>, fragment: &str) -> bool {
    errors.iter().any(|d| {
        d.file == file
            && (line.is_none() || d.line == line)
            && d.action.as_deref() == action
            && d.message.contains(fragment)
    })
}

#[test]
fn a_broken_catalog_reports_every_problem_with_its_file_and_line() {
    let syntax = "category = \"vm\"\n[[action]]\nname = \"vm_x\n";
    let err = load_errors(&[
        ("categories.toml", FIXTURE_CATEGORIES),
        ("good.toml", &format!("category = \"vm\"\n{GOOD_ACTION}")),
        ("vm.toml", BROKEN_VM),
        ("syntax.toml", syntax),
    ]);
    let e = &err.errors;
    let expected: &[(&str, Option<usize>, Option<&str>, &str)] = &[
        ("vm.toml", Some(3), Some("vm_a"), "unknown key `metod`"),
        ("vm.toml", Some(3), Some("vm_a"), "unknown key `colour`"),
        ("vm.toml", Some(3), Some("vm_a"), "`method` is required"),
        ("vm.toml", Some(11), Some("pool_list"), "belongs to category `system`, not `vm`"),
        ("vm.toml", Some(18), Some("vm_b"), "method `vm.nope` does not exist on TrueNAS v25.10.5"),
        ("vm.toml", Some(33), Some("vm_c"), "argument `id`: unknown key `secret`"),
        ("vm.toml", None, Some("vm_c"), "references undeclared argument `overcomit`"),
        ("vm.toml", None, Some("vm_c"), "argument `overcommit` is declared but `params` never uses it"),
        ("vm.toml", None, Some("vm_d"), "needs a `confirm` argument"),
        ("vm.toml", None, Some("vm_d"), "`idempotent` is required"),
        ("vm.toml", None, Some("vm_e"), "needs the action's `confirm` refusal text"),
        ("vm.toml", None, Some("vm_e"), "required argument `name` needs an `example`"),
        ("vm.toml", None, Some("vm_f"), "argument `id`: `default` value \"1\" is invalid"),
        ("vm.toml", None, Some("vm_f"), "argument `host`: `type` must be integer, number, string"),
        ("vm.toml", None, Some("vm_f"), "argument `p`: `enum` value 2 is invalid"),
        ("vm.toml", None, Some("vm_f"), "argument `p`: `example` value \"FTP\" is invalid"),
        ("vm.toml", None, Some("vm_ok"), "duplicate action name, first defined at good.toml:3"),
        ("syntax.toml", Some(3), None, "invalid TOML"),
    ];
    for (file, line, action, fragment) in expected {
        assert!(has(e, file, *line, *action, fragment), "missing {file}:{line:?} {action:?} {fragment}\n{err}");
    }
    assert!(err.to_string().starts_with(&format!("the tool catalog has {} error(s):\n  ", e.len())), "{err}");
}

#[test]
fn a_gated_action_must_be_destructive() {
    let toml = r#"
[[action]]
name = "vm_g"
description = "Gated."
risk = "write"
idempotent = true
method = "vm.delete"
confirm = "No."
params = ["$id"]
args = [
  { name = "id", type = "integer", required = true, description = "id" },
  { name = "confirm", type = "string", required = true, description = "c", example = "yes" },
]
"#;
    let err = fixture(toml).unwrap_err();
    assert!(has(&err.errors, "vm.toml", None, Some("vm_g"), "must have risk `destructive`"), "{err}");
    assert!(has(&err.errors, "vm.toml", None, Some("vm_g"), "must be a required boolean"), "{err}");
}

#[test]
fn a_hole_before_a_later_position_is_a_load_error_unless_defaulted() {
    let toml = |host: &str| {
        format!(
            r#"
[[action]]
name = "vm_h"
description = "Hole."
risk = "read"
method = "vm.get_display_web_uri"
params = ["$id", "$host", {{ protocol = "HTTP" }}]
args = [
  {{ name = "id", type = "integer", required = true, description = "id" }},
  {{ name = "host", type = "string", description = "h", example = "x"{host} }},
]
"#
        )
    };
    let err = fixture(&toml("")).unwrap_err();
    assert!(has(&err.errors, "vm.toml", None, Some("vm_h"), "position 1 can be absent"), "{err}");
    assert!(fixture(&toml(", default = \"\"")).is_ok());
}

#[test]
fn warnings_do_not_stop_loading_and_are_returned_apart() {
    let long = "x".repeat(301);
    let toml = format!(
        r#"
[[action]]
name = "vm_w"
description = "{long}"
risk = "read"
idempotent = true
method = "vm.query"
params = [[["name", "=", "$name"]]]
args = [{{ name = "name", type = "string", description = "{long}" }}]
"#
    );
    let (catalog, warnings) = fixture(&toml).unwrap();
    assert_eq!(catalog.len(), 1);
    let messages: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert!(warnings.iter().all(|w| w.severity == Severity::Warning));
    for fragment in ["longer than 300", "ignored for read", "cut in listings", "has no `example`"] {
        assert!(messages.iter().any(|m| m.contains(fragment)), "no warning about {fragment}: {messages:#?}");
    }
    assert!(messages[0].starts_with("vm.toml:3: warning: action `vm_w`: "), "{}", messages[0]);
}

#[test]
fn categories_must_be_given_and_known() {
    let err = load_errors(&[("vm.toml", "category = \"vm\"\n")]);
    assert!(has(&err.errors, "categories.toml", None, None, "no `categories.toml`"), "{err}");

    let err = load_errors(&[("categories.toml", FIXTURE_CATEGORIES), ("x.toml", "category = \"pets\"\n")]);
    assert!(has(&err.errors, "x.toml", None, None, "unknown category `pets`"), "{err}");

    let dup = format!("{FIXTURE_CATEGORIES}\n[[category]]\nname = \"vm\"\ndescription = \"again\"\n");
    let err = load_errors(&[("categories.toml", &dup)]);
    assert!(has(&err.errors, "categories.toml", Some(12), None, "duplicate category `vm` (first at line 7)"), "{err}");
    assert!(has(&err.errors, "categories.toml", Some(12), None, "neither `prefixes` nor `names`"), "{err}");
}

#[test]
fn names_matching_no_prefix_fall_back_like_the_reference() {
    let toml = "category = \"system\"\n[[action]]\nname = \"ping\"\ndescription = \"Ping.\"\nrisk = \"read\"\n\
                method = \"core.ping\"\nparams = []\n";
    let (catalog, _) = Catalog::from_sources(&[("categories.toml", FIXTURE_CATEGORIES), ("s.toml", toml)]).unwrap();
    assert_eq!(catalog.action("ping").map(|a| a.category.as_str()), Some("system"));
    let misplaced = toml.replace("category = \"system\"", "category = \"vm\"");
    let err = load_errors(&[("categories.toml", FIXTURE_CATEGORIES), ("s.toml", &misplaced)]);
    assert!(has(&err.errors, "s.toml", Some(2), Some("ping"), "belongs to category `system`"), "{err}");
}

#[test]
fn empty_categories_are_not_listed() {
    let (catalog, _) = fixture(GOOD_ACTION).unwrap();
    let names: Vec<&str> = catalog.categories().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["vm"]);
    assert!(catalog.category("system").is_none());
}
