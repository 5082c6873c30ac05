use serde_json::{Value, json};

use super::*;

fn rows() -> Vec<Value> {
    vec![
        json!({"id": 1, "name": "ubuntu", "memory": 4096, "tags": ["linux", "web"], "status": {"state": "RUNNING"}, "min": null}),
        json!({"id": 2, "name": "Windows11", "memory": 16384, "tags": ["desktop"], "status": {"state": "STOPPED"}, "min": 2048}),
        json!({"id": 3, "name": "homeassistant", "memory": 2048, "tags": [], "status": {"state": "RUNNING"}, "a.b": "dotted"}),
    ]
}

fn ids(filters: Value) -> Vec<i64> {
    ids_with(filters, json!({}))
}

fn ids_with(filters: Value, options: Value) -> Vec<i64> {
    let out = run(rows(), &filters, &options).unwrap();
    out.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

#[test]
fn no_filters_return_every_row() {
    assert_eq!(ids(json!([])), vec![1, 2, 3]);
    assert_eq!(ids(Value::Null), vec![1, 2, 3]);
}

#[test]
fn comparison_operators() {
    assert_eq!(ids(json!([["name", "=", "ubuntu"]])), vec![1]);
    assert_eq!(ids(json!([["name", "!=", "ubuntu"]])), vec![2, 3]);
    assert_eq!(ids(json!([["memory", ">", 4096]])), vec![2]);
    assert_eq!(ids(json!([["memory", ">=", 4096]])), vec![1, 2]);
    assert_eq!(ids(json!([["memory", "<", 4096]])), vec![3]);
    assert_eq!(ids(json!([["memory", "<=", 4096.0]])), vec![1, 3]);
    assert_eq!(ids(json!([["id", "=", 2.0]])), vec![2], "1 == 1.0 as in Python");
}

#[test]
fn null_fields_never_order_against_values() {
    assert_eq!(ids(json!([["min", ">", 0]])), vec![2]);
    assert_eq!(ids(json!([["min", "=", null]])), vec![1, 3], "missing keys read as null");
}

#[test]
fn membership_operators() {
    assert_eq!(ids(json!([["id", "in", [1, 3]]])), vec![1, 3]);
    assert_eq!(ids(json!([["id", "nin", [1, 3]]])), vec![2]);
    assert_eq!(ids(json!([["tags", "rin", "linux"]])), vec![1]);
    assert_eq!(ids(json!([["tags", "rnin", "linux"]])), vec![2, 3]);
    assert_eq!(ids(json!([["name", "rin", "assist"]])), vec![3], "substring of a string field");
    assert_eq!(ids(json!([["min", "rnin", 5]])), vec![2], "null fields never match rin/rnin");
}

#[test]
fn string_operators() {
    assert_eq!(ids(json!([["name", "^", "home"]])), vec![3]);
    assert_eq!(ids(json!([["name", "!^", "home"]])), vec![1, 2]);
    assert_eq!(ids(json!([["name", "$", "11"]])), vec![2]);
    assert_eq!(ids(json!([["name", "!$", "11"]])), vec![1, 3]);
}

#[test]
fn regex_is_anchored_at_the_start_like_re_match() {
    assert_eq!(ids(json!([["name", "~", "u.*u"]])), vec![1]);
    assert_eq!(ids(json!([["name", "~", "buntu"]])), Vec::<i64>::new());
    assert_eq!(ids(json!([["name", "~", ".*assist"]])), vec![3]);
}

#[test]
fn case_insensitive_prefix() {
    assert_eq!(ids(json!([["name", "=", "windows11"]])), Vec::<i64>::new());
    assert_eq!(ids(json!([["name", "C=", "WINDOWS11"]])), vec![2]);
    assert_eq!(ids(json!([["name", "C^", "WIN"]])), vec![2]);
    assert_eq!(ids(json!([["name", "Cin", ["UBUNTU"]]])), vec![1]);
    assert_eq!(ids(json!([["name", "C~", "win"]])), vec![2]);
}

#[test]
fn dotted_paths_and_escaped_dots() {
    assert_eq!(ids(json!([["status.state", "=", "RUNNING"]])), vec![1, 3]);
    assert_eq!(ids(json!([["a\\.b", "=", "dotted"]])), vec![3]);
    assert_eq!(ids(json!([["tags.0", "=", "desktop"]])), vec![2]);
}

#[test]
fn conditions_are_anded_and_or_takes_alternatives() {
    assert_eq!(ids(json!([["status.state", "=", "RUNNING"], ["memory", ">", 3000]])), vec![1]);
    assert_eq!(ids(json!([["OR", [["id", "=", 1], ["id", "=", 2]]]])), vec![1, 2]);
    // An alternative may itself be a conjunction.
    let f = json!([["OR", [[["id", "=", 1], ["memory", "=", 1]], [["name", "=", "homeassistant"]]]]]);
    assert_eq!(ids(f), vec![3]);
}

#[test]
fn malformed_filters_are_refused() {
    for bad in [json!([["id", "=="]]), json!([["id", "equals", 1]]), json!(["id"]), json!({"id": 1})] {
        let err = run(rows(), &bad, &json!({})).unwrap_err();
        assert!(matches!(err, Failure::Exception { class: "ValueError", .. }), "{bad}: {err:?}");
    }
}

#[test]
fn get_returns_one_object_or_match_not_found() {
    let one = run(rows(), &json!([["id", "=", 2]]), &json!({"get": true})).unwrap();
    assert_eq!(one["name"], "Windows11");
    let err = run(rows(), &json!([["id", "=", 9]]), &json!({"get": true})).unwrap_err();
    assert_eq!(err, match_not_found());
    assert_eq!(err.to_rpc_error()["data"]["reason"], "MatchNotFound()");
}

#[test]
fn count_ignores_paging() {
    let n = run(rows(), &json!([["status.state", "=", "RUNNING"]]), &json!({"count": true, "limit": 1})).unwrap();
    assert_eq!(n, json!(2));
}

#[test]
fn order_limit_and_offset() {
    assert_eq!(ids_with(json!([]), json!({"order_by": ["memory"]})), vec![3, 1, 2]);
    assert_eq!(ids_with(json!([]), json!({"order_by": ["-memory"]})), vec![2, 1, 3]);
    assert_eq!(ids_with(json!([]), json!({"order_by": ["status.state", "-id"]})), vec![3, 1, 2]);
    assert_eq!(ids_with(json!([]), json!({"order_by": ["-id"], "offset": 1, "limit": 1})), vec![2]);
    assert_eq!(ids_with(json!([]), json!({"limit": 0})), vec![1, 2, 3], "limit 0 means no limit");
}

#[test]
fn nulls_sort_where_asked() {
    assert_eq!(ids_with(json!([]), json!({"order_by": ["min"]})), vec![2, 1, 3]);
    assert_eq!(ids_with(json!([]), json!({"order_by": ["nulls_first:min"]})), vec![1, 3, 2]);
}

#[test]
fn select_keeps_nested_keys_and_aliases() {
    let out =
        run(rows(), &json!([["id", "=", 1]]), &json!({"select": ["name", "status.state", ["memory", "ram"]]})).unwrap();
    assert_eq!(out, json!([{"name": "ubuntu", "status": {"state": "RUNNING"}, "ram": 4096}]));
}
