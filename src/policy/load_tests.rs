use serde_json::json;

use super::*;
use crate::policy::load_problems as problems;
use crate::policy::test_catalog;

fn loads(doc: Value) -> Policy {
    match load(&doc.to_string(), test_catalog()) {
        Ok(loaded) => loaded.policy,
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
            "/tools/vm_start/limits/0/windw: unknown key `windw`; expected `counter`, `window`, `max`, `scope`, `on_deny`, `x-rolling`, `x-cooldown`, `x-concurrency`, `x-key`, `x-amount`; did you mean `window`?"
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
            "/defualt: unknown key `defualt`; expected `version`, `description`, `default`, `hide`, `all_tools`, `tools`, `$schema`, `x-risk-defaults`, `x-approval-ttl`, `x-approval-wait`, `x-list-denied`, `x-mode`, `x-loop-breaker`; did you mean `default`?",
            "/version: unsupported version `\"2\"`; only `\"1\"` exists",
            "/default: missing required key `default`",
            "/hide/0: unknown action `ok`",
            "/hide/1: must be a string, found a number",
            "/all_tools/limits/0/window: must be `minute`, `hour` or `day`, found `\"week\"`",
            "/all_tools/limits/0/max: must be a whole number, 0 or more, found `-1`",
            "/all_tools/limits/0/scope: must be `grant` or `server`, found `\"team\"`",
            "/tools/a~1b: unknown action `a/b`",
            "/tools/a~1b/require/0/path: `name` must start with `args.` (a dot path into the call arguments)",
            "/tools/a~1b/require/0/value: invalid regex `(`: unclosed group",
            "/tools/*: `*` is only meaningful in `hide`; put rules for every tool under `all_tools`",
            "/tools/vm_stop/onDeny: unknown key `onDeny`; expected `require`, `deny_if`, `limits`, `on_deny`, `x-any-job`, `x-approval`, `x-approval-ttl`, `x-approval-wait`, `x-when`, `x-mode`; did you mean `on_deny`?",
            "/tools/vm_stop/deny_if/0/op: must be `eq`, `neq`, `in`, `not_in`, `lt`, `lte`, `gt`, `gte`, `regex`, `contains`, `exists`, `starts_with`, `glob`, `cidr`, `len_lte`, `len_gte` or `between`, found `\"is\"`",
            "/x-risk-defaults/admin: unknown key `admin`; expected `read`, `write`, `destructive`",
            "/x-risk-defaults/read: must be `allow`, `deny` or `approve`, found `\"maybe\"`",
        ]
    );
}

#[test]
fn the_error_display_lists_one_problem_per_line() {
    let err = load(r#"{"version": 1, "tools": []}"#, test_catalog()).unwrap_err();
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
    assert!(load("{", test_catalog()).unwrap_err().to_string().starts_with("(document): invalid JSON: "));
    assert_eq!(problems(json!([1])), ["(document): must be an object, found an array"]);
}

#[test]
fn a_duplicate_predicate_id_is_an_error() {
    let found = problems(json!({"version": "1", "default": "deny", "tools": {"dataset_delete": {
        "require": [
            {"path": "args.id", "op": "regex", "value": "^tank/"},
            {"path": "args.id", "op": "regex", "value": "^ssd/"},
            {"path": "args.id", "op": "neq", "value": "tank"}
        ],
        "deny_if": [{"path": "args.id", "op": "regex", "value": "^tank/"}]
    }}}));
    assert_eq!(
        found,
        [
            "/tools/dataset_delete/require/1: duplicate predicate `args.id-regex` (same path and op as /tools/dataset_delete/require/0)"
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
    let found = problems(json!({"version": "1", "default": "deny", "tools": {"vm_create": {"require": [
        {"path": "args.name", "op": "in", "value": "x"},
        {"path": "args.memory", "op": "gt", "value": "5"},
        {"path": "args.description", "op": "eq"},
        {"path": "args.autostart", "op": "exists"}
    ]}}}));
    assert_eq!(
        found,
        [
            "/tools/vm_create/require/0/value: `in` needs an array, found a string",
            "/tools/vm_create/require/1/value: `gt` needs a number, found a string",
            "/tools/vm_create/require/2/value: missing; `eq` needs a value to compare with",
        ]
    );
}

#[test]
fn new_op_operands_are_checked_at_load_with_their_paths() {
    let found = problems(json!({"version": "1", "default": "deny", "tools": {"vm_create": {"require": [
        {"path": "args.name", "op": "glob", "value": "vm-**"},
        {"path": "args.memory", "op": "between", "value": [4096, 1024]},
        {"path": "args.name", "op": "len_lte", "value": -3},
        {"path": "args.description", "op": "cidr", "value": ["10.0.0.0/8", "10.0.0.1/8", "nope"]},
        {"path": "args.description", "op": "starts_with", "value": ["a"]},
        {"path": "args.name", "op": "ends_with", "value": "x"}
    ]}}}));
    assert_eq!(
        found,
        [
            "/tools/vm_create/require/0/value: invalid glob `vm-**`: `**` must be a whole segment (`a/**/b`); use `*` within a segment",
            "/tools/vm_create/require/1/value: `between` needs `[lo, hi]` with lo <= hi, found `[4096,1024]`",
            "/tools/vm_create/require/2/value: `len_lte` needs a whole number, 0 or more, found `-3`",
            "/tools/vm_create/require/3/value/1: invalid CIDR `10.0.0.1/8`: host bits are set; did you mean `10.0.0.0/8`?",
            "/tools/vm_create/require/3/value/2: invalid CIDR `nope`: `nope` is not an IP address",
            "/tools/vm_create/require/4/value: `starts_with` needs a string, found an array",
            "/tools/vm_create/require/5/op: must be `eq`, `neq`, `in`, `not_in`, `lt`, `lte`, `gt`, `gte`, `regex`, `contains`, `exists`, `starts_with`, `glob`, `cidr`, `len_lte`, `len_gte` or `between`, found `\"ends_with\"`",
        ]
    );
}

#[test]
fn rule_ids_are_escaped_json_pointers() {
    // Real names never need escaping, so compile a typed document directly.
    let doc: PolicyDocument = serde_json::from_value(json!({"version": "1", "default": "deny", "tools": {
        "odd/name~1": {
            "require": [{"path": "args.a/b", "op": "eq", "value": 1}],
            "deny_if": [{"path": "args.x~y", "op": "exists"}],
            "limits": [{"counter": "per/min", "window": "minute", "max": 1, "scope": "grant"}]
        },
        "vm.delete": {}
    }}))
    .unwrap();
    let (policy, limits, _) = compile(&doc).unwrap();
    let entry = &policy.actions["odd/name~1"];
    assert_eq!(entry.rule.as_str(), "/tools/odd~1name~01");
    assert_eq!(entry.require[0].rule.as_str(), "/tools/odd~1name~01/require/args.a~1b-eq");
    assert_eq!(entry.deny_if[0].rule.as_str(), "/tools/odd~1name~01/deny_if/args.x~0y-exists");
    assert_eq!(policy.methods["vm.delete"].rule.as_str(), "/tools/vm.delete");
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

fn tools(entries: Value) -> Vec<String> {
    problems(json!({"version": "1", "default": "deny", "tools": entries}))
}

#[test]
fn a_misspelt_action_or_method_is_an_error_with_a_suggestion() {
    assert_eq!(
        tools(json!({"vm_strat": {}, "vm_delet": {}, "vm.delet": {}, "vm_start": {}})),
        [
            "/tools/vm_strat: unknown action `vm_strat`; did you mean `vm_start`?",
            "/tools/vm_delet: unknown action `vm_delet`; did you mean `vm_delete`?",
            "/tools/vm.delet: unknown middleware method `vm.delet` (in no TrueNAS release this server knows); did you mean `vm.delete`?",
        ]
    );
    assert_eq!(
        tools(json!({"frobnicate_everything": {}})),
        ["/tools/frobnicate_everything: unknown action `frobnicate_everything`"]
    );
}

#[test]
fn case_spaces_and_look_alikes_are_not_normalised() {
    assert_eq!(
        tools(json!({"VM_START": {}, " vm_start": {}, "vm_st\u{0430}rt": {}})),
        [
            "/tools/VM_START: unknown action `VM_START`; did you mean `vm_start`?",
            "/tools/ vm_start: unknown action ` vm_start`; names are not trimmed: remove the surrounding spaces; did you mean `vm_start`?",
            "/tools/vm_st\u{0430}rt: unknown action `vm_st\u{0430}rt`; it contains a character that is not ASCII (a look-alike?); did you mean `vm_start`?",
        ]
    );
}

#[test]
fn job_status_and_methods_of_any_known_release_are_names() {
    let policy = loads(json!({"version": "1", "default": "deny", "hide": ["core.get_jobs", "vm.delete", "*"],
        "tools": {"job_status": {"require": [{"path": "args.id", "op": "gt", "value": 0}]}, "vm.start": {}}}));
    assert!(policy.actions.contains_key("job_status") && policy.methods.contains_key("vm.start"));
}

#[test]
fn hide_entries_must_exist_and_the_tool_itself_is_refused() {
    let found = problems(json!({"version": "1", "default": "allow", "hide": ["vm_delet", "truenas", "*"]}));
    assert_eq!(
        found,
        [
            "/hide/0: unknown action `vm_delet`; did you mean `vm_delete`?",
            "/hide/1: `truenas` is the name of the MCP tool itself, not an action; use `\"*\"` to hide every tool",
        ]
    );
}

#[test]
fn a_predicate_path_must_name_a_declared_argument() {
    let found = tools(json!({
        "vm_stop": {"deny_if": [{"path": "args.forse", "op": "eq", "value": true}]},
        "vm_start": {"deny_if": [{"path": "args.confirm", "op": "eq", "value": false}]},
        "vm_delete": {"require": [{"path": "args.confirm", "op": "eq", "value": true}]},
        "vm_get": {"require": [{"path": "args.id.inner", "op": "eq", "value": 1}]},
        "vm_list": {"require": [{"path": "args.qqqqqq", "op": "exists"}]},
        "dataset_create": {"require": [{"path": "args.encryption_options.generate_key", "op": "eq", "value": true}]},
    }));
    assert_eq!(
        found,
        [
            "/tools/vm_stop/deny_if/0/path: `vm_stop` has no argument `forse`; did you mean `args.force`?",
            "/tools/vm_start/deny_if/0/path: `vm_start` has no argument `confirm`; its arguments are `id`, `overcommit`",
            "/tools/vm_get/require/0/path: argument `id` of `vm_get` is an integer, so the path cannot go deeper into it",
            "/tools/vm_list/require/0/path: `vm_list` has no argument `qqqqqq`; it takes no arguments",
        ]
    );
}

#[test]
fn a_method_entry_predicate_must_fit_every_action_that_calls_the_method() {
    let fits = tools(json!({"vm.delete": {"deny_if": [{"path": "args.zvols", "op": "eq", "value": true}]}}));
    assert!(fits.is_empty(), "{fits:?}");
    let found = tools(json!({"vm.delete": {"deny_if": [{"path": "args.zvol", "op": "eq", "value": true}]}}));
    assert_eq!(
        found,
        [
            "/tools/vm.delete/deny_if/0/path: `vm_delete` has no argument `zvol` (a method entry applies to every action that calls `vm.delete`); did you mean `args.zvols`?"
        ]
    );
    // `core.ping` exists in every release but no action calls it.
    let found = tools(json!({"core.ping": {"require": [{"path": "args.id", "op": "exists"}]}}));
    assert_eq!(
        found,
        [
            "/tools/core.ping/require/0/path: no action calls method `core.ping`, so there are no arguments a predicate could test; put the rule on an action, or hide the method"
        ]
    );
    assert!(tools(json!({"core.ping": {}})).is_empty(), "without predicates a method entry is fine");
}

#[test]
fn duplicate_keys_anywhere_are_errors_naming_their_pointer() {
    let text = r#"{"version": "1", "default": "deny", "tools": {
        "vm_stop": {"deny_if": [{"path": "args.force", "op": "eq", "value": true}]},
        "vm_stop": {},
        "vm_start": {"limits": [{"counter": "c", "window": "minute", "max": 1, "max": 2, "scope": "grant"}]}
    }, "default": "allow"}"#;
    let found: Vec<String> =
        load(text, test_catalog()).unwrap_err().problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "/tools/vm_stop: duplicate key `vm_stop`; only one may appear, or the earlier one is silently lost",
            "/tools/vm_start/limits/0/max: duplicate key `max`; only one may appear, or the earlier one is silently lost",
            "/default: duplicate key `default`; only one may appear, or the earlier one is silently lost",
        ]
    );
}

#[test]
fn unknown_extensions_are_errors_listing_the_known_ones() {
    let known = "the known extensions are `x-risk-defaults` (at the top level), `x-any-job` (in `tools.job_status`), \
                 `x-approval` (in a `tools` entry), `x-approval-ttl` (at the top level or in a `tools` entry), \
                 `x-approval-wait` (at the top level or in a `tools` entry), `x-when` (in a `tools` entry or in an `x-risk-defaults` entry written as an object), `x-list-denied` (at the top level), \
                 `x-mode` (at the top level or in a `tools` entry), `x-rolling` (in a limit or in `x-loop-breaker`), \
                 `x-cooldown` (in a limit), `x-concurrency` (in a limit), `x-key` (in a limit), `x-amount` (in a limit), \
                 `x-loop-breaker` (at the top level)";
    let found = problems(json!({"version": "1", "default": "deny", "x-owner": "ops",
        "tools": {"x-notes": {}, "vm_stop": {"x-approvals": "always"}, "vm_start": {"x-any-job": true},
                  "job_status": {"x-any-job": "yes"}}}));
    assert_eq!(
        found,
        [
            format!("/x-owner: unknown extension `x-owner`; {known}"),
            format!("/tools/x-notes: unknown extension `x-notes`; {known}"),
            format!("/tools/vm_stop/x-approvals: unknown extension `x-approvals`; {known}"),
            "/tools/vm_start/x-any-job: `x-any-job` is only allowed on the `job_status` entry".to_owned(),
            "/tools/job_status/x-any-job: must be a boolean, found a string".to_owned(),
        ]
    );
}

#[test]
fn a_schema_reference_is_accepted_at_the_top_only() {
    assert!(problems(json!({"$schema": "policy.schema.json", "version": "1", "default": "deny"})).is_empty());
    assert_eq!(
        problems(json!({"$schema": 1, "version": "1", "default": "deny"})),
        ["/$schema: must be a string, found a number"]
    );
}

#[test]
fn oversized_documents_lists_and_nesting_are_refused() {
    let big = format!(r#"{{"version": "1", "default": "deny", "description": "{}"}}"#, "x".repeat(json::MAX_BYTES));
    let err = load(&big, test_catalog()).unwrap_err().to_string();
    assert_eq!(err, format!("(document): the policy is {} bytes; the limit is 1048576 bytes (1 MiB)", big.len()));

    let list: Vec<u64> = (0..=MAX_LIST as u64).collect();
    let found = tools(json!({"vm_get": {"require": [{"path": "args.id", "op": "in", "value": list}]}}));
    assert_eq!(found, ["/tools/vm_get/require/0/value: the list has 1001 values; the limit is 1000"]);
    let list: Vec<u64> = (0..MAX_LIST as u64).collect();
    assert!(tools(json!({"vm_get": {"require": [{"path": "args.id", "op": "not_in", "value": list}]}})).is_empty());

    let deep =
        format!(r#"{{"version": "1", "default": "deny", "description": {}1{}}}"#, "[".repeat(40), "]".repeat(40));
    let err = load(&deep, test_catalog()).unwrap_err().to_string();
    assert!(err.starts_with("(document): invalid JSON: nesting deeper than 32 levels at /description/0/0/"), "{err}");
}

#[test]
fn suggestions_count_swaps_as_one_edit_and_ignore_case() {
    assert_eq!(names::distance("vm_strat", "vm_start"), 1);
    assert_eq!(names::distance("", "abc"), 3);
    assert_eq!(names::distance("kitten", "sitting"), 3);
    assert_eq!(names::suggest("VM_Start", ["vm_stop", "vm_start"]), Some("vm_start"));
    assert_eq!(names::suggest("xyz", ["vm_stop", "vm_start"]), None);
}
