use serde_json::{Map, Value, json};

use crate::catalog::{Catalog, fixture};

/// A catalog with one action `vm_t` (method `vm.query`) with the given params and args.
fn one(params: &str, args: &str) -> Catalog {
    let toml = format!(
        "[[action]]\nname = \"vm_t\"\ndescription = \"Test.\"\nrisk = \"read\"\nmethod = \"vm.query\"\n\
         params = {params}\nargs = [\n{args}\n]\n"
    );
    match fixture(&toml) {
        Ok((c, _)) => c,
        Err(e) => panic!("{e}"),
    }
}

fn build(catalog: &Catalog, args: Value) -> Value {
    let args: Map<String, Value> = args.as_object().cloned().unwrap();
    catalog.action("vm_t").unwrap().check_and_build_params(&args).unwrap()
}

const A_B: &str = r#"
  { name = "a", type = "integer", description = "a" },
  { name = "b", type = "string", description = "b", example = "x" },
"#;

#[test]
fn double_dollar_is_a_literal_dollar_string() {
    let c = one(r#"["$$a", { "$$b" = "$a", c = "$b" }]"#, A_B);
    assert_eq!(build(&c, json!({"a": 1})), json!(["$a", {"$$b": 1}]), "keys are never references");
}

#[test]
fn array_elements_with_an_absent_reference_are_dropped() {
    let c = one(r#"[[["vm", "=", "$a"], ["name", "=", "$b"]]]"#, A_B);
    assert_eq!(build(&c, json!({"a": 1, "b": "x"})), json!([[["vm", "=", 1], ["name", "=", "x"]]]));
    assert_eq!(build(&c, json!({"b": "x"})), json!([[["name", "=", "x"]]]));
    assert_eq!(build(&c, json!({})), json!([[]]), "the filter list stays, empty");
}

#[test]
fn dropping_propagates_through_nested_arrays_but_not_objects() {
    let c = one(r#"[[[["x", "=", "$a"]]], [{ k = "$b" }]]"#, A_B);
    assert_eq!(build(&c, json!({})), json!([[], [{}]]));
    assert_eq!(build(&c, json!({"a": 2, "b": "s"})), json!([[[["x", "=", 2]]], [{"k": "s"}]]));
}

#[test]
fn object_keys_without_value_are_dropped_and_trailing_positions_trimmed() {
    let c = one(r#"[{ x = "$a", y = "$b", z = 0 }, "$b"]"#, A_B);
    assert_eq!(build(&c, json!({})), json!([{"z": 0}]));
    assert_eq!(build(&c, json!({"a": 5})), json!([{"x": 5, "z": 0}]));
    assert_eq!(build(&c, json!({"a": 5, "b": "s"})), json!([{"x": 5, "y": "s", "z": 0}, "s"]));
}

#[test]
fn rest_gathers_unreferenced_arguments_with_defaults_but_never_confirm() {
    let toml = r#"
[[action]]
name = "vm_t"
description = "Test."
risk = "destructive"
idempotent = false
method = "vm.update"
confirm = "No."
params = ["$id", "$rest"]
args = [
  { name = "id", type = "integer", required = true, description = "id" },
  { name = "confirm", type = "boolean", required = true, description = "c" },
  { name = "x", type = "number", description = "x" },
  { name = "y", type = "boolean", default = true, description = "y" },
]
"#;
    let (c, _) = fixture(toml).unwrap();
    assert_eq!(build(&c, json!({"id": 1, "confirm": true})), json!([1, {"y": true}]));
    assert_eq!(build(&c, json!({"id": 1, "confirm": true, "x": 2.5, "y": false})), json!([1, {"x": 2.5, "y": false}]));
}

#[test]
fn merge_combines_objects_later_keys_winning_and_vanishes_when_empty() {
    let args = r#"
  { name = "attrs", type = "object", description = "o" },
  { name = "kind", type = "string", description = "k", example = "A" },
"#;
    let c = one(
        r#"[{ a = { "$merge" = ["$attrs", { kind = "$kind" }, { fixed = 1 }] }, b = { "$merge" = ["$attrs", { kind = "$kind" }] } }]"#,
        args,
    );
    assert_eq!(
        build(&c, json!({"attrs": {"kind": "Z", "p": 1}, "kind": "A"})),
        json!([{"a": {"kind": "A", "p": 1, "fixed": 1}, "b": {"kind": "A", "p": 1}}])
    );
    assert_eq!(build(&c, json!({})), json!([{"a": {"fixed": 1}}]), "an empty merge is omitted");
    assert_eq!(build(&c, json!({"attrs": {}})), json!([{"a": {"fixed": 1}}]));
}

#[test]
fn defaults_fill_absent_arguments_and_holes_before_them() {
    let args = r#"
  { name = "id", type = "integer", required = true, description = "id" },
  { name = "host", type = "string", default = "", description = "h" },
  { name = "p", type = "string", description = "p", example = "HTTP" },
"#;
    let c = one(r#"["$id", "$host", { protocol = "$p" }]"#, args);
    assert_eq!(build(&c, json!({"id": 1})), json!([1, "", {}]));
    assert_eq!(build(&c, json!({"id": 1, "host": "h", "p": "HTTP"})), json!([1, "h", {"protocol": "HTTP"}]));
}

#[test]
fn literals_of_every_toml_type_pass_through() {
    let c = one(r#"[1, 2.5, true, "s", [1, "two"], { k = { n = -3 } }]"#, "");
    assert_eq!(build(&c, json!({})), json!([1, 2.5, true, "s", [1, "two"], {"k": {"n": -3}}]));
}
