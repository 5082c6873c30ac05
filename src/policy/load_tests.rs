use serde_json::json;

use super::*;

/// The problems of a document, as `pointer: message` lines.
fn problems(doc: Value) -> Vec<String> {
    match load(&doc.to_string()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

fn loads(doc: Value) -> Policy {
    match load(&doc.to_string()) {
        Ok((_, policy, _)) => policy,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_minimal_document_loads() {
    let policy = loads(json!({"version": "1", "default": "deny"}));
    assert_eq!(policy.default, Effect::Deny);
    assert!(policy.actions.is_empty() && policy.methods.is_empty() && !policy.hide_all);
}

#[test]
fn an_unknown_key_is_reported_with_its_path() {
    let found = problems(json!({
        "version": "1", "default": "deny",
        "tools": {"vm_start": {"limits": [{"counter": "c", "window": "minute", "max": 1, "scope": "grant", "windw": 1}]}}
    }));
    assert_eq!(
        found,
        [
            "/tools/vm_start/limits/0/windw: unknown key `windw`; expected `counter`, `window`, `max`, `scope`, `on_deny`, or an `x-` extension"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let found = problems(json!({
        "version": "2",
        "defualt": "deny",
        "hide": ["ok", 3],
        "all_tools": {"limits": [{"counter": "c", "window": "week", "max": -1, "scope": "team"}]},
        "tools": {
            "a/b": {"require": [{"path": "name", "op": "regex", "value": "("}]},
            "*": {},
            "vm_stop": {"deny_if": [{"path": "args.force", "op": "is", "value": true}], "onDeny": "x"}
        },
        "x-risk-defaults": {"read": "maybe", "admin": "allow"}
    }));
    assert_eq!(
        found,
        [
            "/defualt: unknown key `defualt`; expected `version`, `description`, `default`, `hide`, `all_tools`, `tools`, `x-risk-defaults`, or an `x-` extension",
            "/version: unsupported version `\"2\"`; only `\"1\"` exists",
            "/default: missing required key `default`",
            "/hide/1: must be a string, found a number",
            "/all_tools/limits/0/window: must be `minute`, `hour` or `day`, found `\"week\"`",
            "/all_tools/limits/0/max: must be a whole number, 0 or more, found `-1`",
            "/all_tools/limits/0/scope: must be `grant` or `server`, found `\"team\"`",
            "/tools/a~1b/require/0/path: `name` must start with `args.` (a dot path into the call arguments)",
            "/tools/a~1b/require/0/value: invalid regex `(`: unclosed group",
            "/tools/*: `*` is only meaningful in `hide`; put rules for every tool under `all_tools`",
            "/tools/vm_stop/onDeny: unknown key `onDeny`; expected `require`, `deny_if`, `limits`, `on_deny`, or an `x-` extension",
            "/tools/vm_stop/deny_if/0/op: must be `eq`, `neq`, `in`, `not_in`, `lt`, `lte`, `gt`, `gte`, `regex`, `contains` or `exists`, found `\"is\"`",
            "/x-risk-defaults/admin: unknown key `admin`; expected `read`, `write`, `destructive`, or an `x-` extension",
            "/x-risk-defaults/read: must be `allow` or `deny`, found `\"maybe\"`",
        ]
    );
}

#[test]
fn the_error_display_lists_one_problem_per_line() {
    let err = load(r#"{"version": 1, "tools": []}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/version: unsupported version `1`; only `\"1\"` exists\n\
         /default: missing required key `default`\n\
         /tools: must be an object, found an array"
    );
}

#[test]
fn a_missing_version_or_default_is_an_error() {
    assert_eq!(problems(json!({"default": "allow"})), ["/version: missing required key `version`"]);
    assert_eq!(problems(json!({"version": "1"})), ["/default: missing required key `default`"]);
    assert_eq!(
        problems(json!({"version": "1", "default": "maybe"})),
        ["/default: must be `allow` or `deny`, found `\"maybe\"`"]
    );
}

#[test]
fn text_that_is_not_a_json_object_is_an_error() {
    assert!(load("{").unwrap_err().to_string().starts_with("(document): invalid JSON: "));
    assert_eq!(problems(json!([1])), ["(document): must be an object, found an array"]);
}

#[test]
fn a_duplicate_predicate_id_is_an_error() {
    let found = problems(json!({"version": "1", "default": "deny", "tools": {"dataset_delete": {
        "require": [
            {"path": "args.name", "op": "regex", "value": "^tank/"},
            {"path": "args.name", "op": "regex", "value": "^ssd/"},
            {"path": "args.name", "op": "neq", "value": "tank"}
        ],
        "deny_if": [{"path": "args.name", "op": "regex", "value": "^tank/"}]
    }}}));
    assert_eq!(
        found,
        [
            "/tools/dataset_delete/require/1: duplicate predicate `args.name-regex` (same path and op as /tools/dataset_delete/require/0)"
        ]
    );
}

#[test]
fn a_duplicate_counter_in_one_entry_is_an_error() {
    let limit = json!({"counter": "c", "window": "minute", "max": 1, "scope": "grant"});
    let server = json!({"counter": "c", "window": "hour", "max": 1, "scope": "server"});
    let found = problems(json!({"version": "1", "default": "deny",
        "all_tools": {"limits": [limit, server]},
        "tools": {"vm_start": {"limits": [limit]}, "vm_stop": {"limits": [limit]}}}));
    assert_eq!(found, ["/all_tools/limits/1/counter: duplicate counter `c` (also at /all_tools/limits/0/counter)"]);
}

#[test]
fn operand_types_are_checked_at_load() {
    let found = problems(json!({"version": "1", "default": "deny", "tools": {"t": {"require": [
        {"path": "args.a", "op": "in", "value": "x"},
        {"path": "args.b", "op": "gt", "value": "5"},
        {"path": "args.c", "op": "eq"},
        {"path": "args.d", "op": "exists"}
    ]}}}));
    assert_eq!(
        found,
        [
            "/tools/t/require/0/value: `in` needs an array, found a string",
            "/tools/t/require/1/value: `gt` needs a number, found a string",
            "/tools/t/require/2/value: missing; `eq` needs a value to compare with",
        ]
    );
}

#[test]
fn x_keys_are_accepted_everywhere() {
    let policy = loads(json!({
        "version": "1", "default": "deny", "x-owner": "ops",
        "all_tools": {"x-a": 1, "limits": [{"counter": "c", "window": "minute", "max": 1, "scope": "grant", "x-b": {}}]},
        "tools": {
            "x-notes": "not a tool",
            "vm_start": {"x-c": [], "require": [{"path": "args.id", "op": "gt", "value": 0, "x-d": true}]}
        },
        "x-risk-defaults": {"read": "allow", "x-e": null}
    }));
    assert!(policy.actions.contains_key("vm_start"));
    assert!(!policy.actions.contains_key("x-notes"));
}

#[test]
fn rule_ids_are_escaped_json_pointers() {
    let policy = loads(json!({"version": "1", "default": "deny", "tools": {
        "odd/name~1": {
            "require": [{"path": "args.a/b", "op": "eq", "value": 1}],
            "deny_if": [{"path": "args.x~y", "op": "exists"}],
            "limits": [{"counter": "per/min", "window": "minute", "max": 1, "scope": "grant"}]
        },
        "vm.delete": {}
    }}));
    let entry = &policy.actions["odd/name~1"];
    assert_eq!(entry.rule.as_str(), "/tools/odd~1name~01");
    assert_eq!(entry.require[0].rule.as_str(), "/tools/odd~1name~01/require/args.a~1b-eq");
    assert_eq!(entry.deny_if[0].rule.as_str(), "/tools/odd~1name~01/deny_if/args.x~0y-exists");
    assert_eq!(policy.methods["vm.delete"].rule.as_str(), "/tools/vm.delete");
    let (_, _, limits) = load(
        &json!({"version": "1", "default": "deny", "tools": {"odd/name~1": {
            "limits": [{"counter": "per/min", "window": "minute", "max": 1, "scope": "grant"}]}}})
        .to_string(),
    )
    .unwrap();
    assert_eq!(limits[0].rule.as_str(), "/tools/odd~1name~01/limits/per~1min");
}

#[test]
fn names_with_a_dot_are_methods() {
    let policy = loads(json!({"version": "1", "default": "deny", "tools": {"vm_delete": {}, "vm.delete": {}}}));
    assert!(policy.actions.contains_key("vm_delete") && !policy.actions.contains_key("vm.delete"));
    assert!(policy.methods.contains_key("vm.delete"));
}

#[test]
fn escape_follows_rfc_6901() {
    assert_eq!(escape("plain"), "plain");
    assert_eq!(escape("a/b~c"), "a~1b~0c");
    assert_eq!(escape("~1"), "~01");
}
