use serde_json::json;

use super::*;

fn pred(path: &str, op: Op, value: Value) -> Predicate {
    Predicate::new(RuleId::new("/r"), path, op, Some(&value), None).unwrap()
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn eval(path: &str, op: Op, value: Value, call: Value) -> Eval {
    pred(path, op, value).eval(&args(call))
}

#[test]
fn eq_and_neq_compare_json_values_with_numbers_by_value() {
    assert_eq!(eval("args.n", Op::Eq, json!(1), json!({"n": 1.0})), Eval::Holds);
    assert_eq!(eval("args.s", Op::Eq, json!("a"), json!({"s": "b"})), Eval::Fails);
    assert_eq!(eval("args.s", Op::Eq, json!("1"), json!({"s": 1})), Eval::Fails);
    assert_eq!(eval("args.o", Op::Eq, json!({"a": [1, 2]}), json!({"o": {"a": [1.0, 2]}})), Eval::Holds);
    assert_eq!(eval("args.s", Op::Neq, json!("a"), json!({"s": "b"})), Eval::Holds);
    assert_eq!(eval("args.b", Op::Neq, json!(true), json!({"b": true})), Eval::Fails);
}

#[test]
fn in_and_not_in_test_membership() {
    assert_eq!(eval("args.p", Op::In, json!(["tank", "ssd"]), json!({"p": "ssd"})), Eval::Holds);
    assert_eq!(eval("args.p", Op::In, json!(["tank", "ssd"]), json!({"p": "boot"})), Eval::Fails);
    assert_eq!(eval("args.p", Op::NotIn, json!([1, 2]), json!({"p": 3})), Eval::Holds);
    assert_eq!(eval("args.p", Op::NotIn, json!([1, 2]), json!({"p": 2.0})), Eval::Fails);
}

#[test]
fn ordering_ops_compare_numbers() {
    let call = json!({"n": 10});
    assert_eq!(eval("args.n", Op::Lt, json!(11), call.clone()), Eval::Holds);
    assert_eq!(eval("args.n", Op::Lt, json!(10), call.clone()), Eval::Fails);
    assert_eq!(eval("args.n", Op::Lte, json!(10), call.clone()), Eval::Holds);
    assert_eq!(eval("args.n", Op::Lte, json!(9.5), call.clone()), Eval::Fails);
    assert_eq!(eval("args.n", Op::Gt, json!(9.5), call.clone()), Eval::Holds);
    assert_eq!(eval("args.n", Op::Gt, json!(10), call.clone()), Eval::Fails);
    assert_eq!(eval("args.n", Op::Gte, json!(10), call.clone()), Eval::Holds);
    assert_eq!(eval("args.n", Op::Gte, json!(-1), json!({"n": -2})), Eval::Fails);
    assert_eq!(eval("args.n", Op::Gt, json!(u64::MAX - 1), json!({"n": u64::MAX})), Eval::Holds);
}

#[test]
fn ordering_ops_on_a_non_number_are_a_mismatch() {
    assert_eq!(eval("args.n", Op::Gt, json!(5), json!({"n": "10"})), Eval::Mismatch("string"));
    assert_eq!(eval("args.n", Op::Lte, json!(5), json!({"n": null})), Eval::Mismatch("null"));
    assert_eq!(eval("args.n", Op::Lt, json!(5), json!({"n": [1]})), Eval::Mismatch("array"));
}

#[test]
fn regex_matches_strings_unanchored_and_rejects_other_types() {
    assert_eq!(eval("args.name", Op::Regex, json!("^tank/"), json!({"name": "tank/a"})), Eval::Holds);
    assert_eq!(eval("args.name", Op::Regex, json!("^tank/"), json!({"name": "boot/tank/a"})), Eval::Fails);
    assert_eq!(eval("args.name", Op::Regex, json!("agent"), json!({"name": "my-agent-1"})), Eval::Holds);
    assert_eq!(eval("args.name", Op::Regex, json!("^1$"), json!({"name": 1})), Eval::Mismatch("number"));
}

#[test]
fn contains_searches_strings_and_arrays() {
    assert_eq!(eval("args.s", Op::Contains, json!("snap"), json!({"s": "autosnap-1"})), Eval::Holds);
    assert_eq!(eval("args.s", Op::Contains, json!("x"), json!({"s": "abc"})), Eval::Fails);
    assert_eq!(eval("args.a", Op::Contains, json!(2), json!({"a": [1, 2.0]})), Eval::Holds);
    assert_eq!(eval("args.a", Op::Contains, json!("c"), json!({"a": ["a", "b"]})), Eval::Fails);
    assert_eq!(eval("args.n", Op::Contains, json!("1"), json!({"n": 1})), Eval::Mismatch("number"));
    assert_eq!(eval("args.s", Op::Contains, json!(1), json!({"s": "1"})), Eval::Mismatch("string"));
}

#[test]
fn exists_tests_presence_and_absence() {
    assert_eq!(eval("args.x", Op::Exists, json!(true), json!({"x": null})), Eval::Holds);
    assert_eq!(eval("args.x", Op::Exists, json!(true), json!({})), Eval::Fails);
    assert_eq!(eval("args.x", Op::Exists, json!(false), json!({})), Eval::Holds);
    assert_eq!(eval("args.x", Op::Exists, json!(false), json!({"x": 1})), Eval::Fails);
    let default = Predicate::new(RuleId::new("/r"), "args.x", Op::Exists, None, None).unwrap();
    assert_eq!(default.eval(&args(json!({"x": 0}))), Eval::Holds);
}

#[test]
fn a_missing_path_is_reported_as_missing_for_every_op_but_exists() {
    for op in Op::ALL.into_iter().filter(|&op| op != Op::Exists) {
        let value = match op {
            Op::In | Op::NotIn => json!([1]),
            Op::Regex | Op::StartsWith | Op::Glob => json!("x"),
            Op::Cidr => json!("10.0.0.0/8"),
            Op::Between => json!([1, 2]),
            _ => json!(1),
        };
        assert_eq!(eval("args.gone", op, value, json!({"other": 1})), Eval::Missing, "{op:?}");
    }
}

#[test]
fn paths_walk_nested_objects_and_array_indexes() {
    let call = json!({"options": {"force": true}, "disks": [{"name": "sda"}, {"name": "sdb"}]});
    assert_eq!(eval("args.options.force", Op::Eq, json!(true), call.clone()), Eval::Holds);
    assert_eq!(eval("args.disks.1.name", Op::Eq, json!("sdb"), call.clone()), Eval::Holds);
    assert_eq!(eval("args.disks.2.name", Op::Eq, json!("sdb"), call.clone()), Eval::Missing);
    assert_eq!(eval("args.options.force.deeper", Op::Eq, json!(1), call), Eval::Missing);
}

#[test]
fn generated_reasons_name_the_path_and_what_it_must_satisfy() {
    let p = pred("args.name", Op::Regex, json!("^tank/"));
    assert_eq!(p.reason(Eval::Fails, true), "`args.name` must match `^tank/`");
    assert_eq!(p.reason(Eval::Missing, true), "`args.name` must match `^tank/`, but it is missing");
    assert_eq!(p.reason(Eval::Holds, false), "`args.name` must not match `^tank/`");
    let p = pred("args.size", Op::Gt, json!(100));
    assert_eq!(p.reason(Eval::Holds, false), "`args.size` must be at most `100`");
    assert_eq!(p.reason(Eval::Mismatch("string"), false), "`args.size` is a string, but `gt` needs a number");
    let p = pred("args.pool", Op::In, json!(["tank"]));
    assert_eq!(p.reason(Eval::Fails, true), "`args.pool` must be one of `[\"tank\"]`");
    let p = pred("args.force", Op::Exists, json!(true));
    assert_eq!(p.reason(Eval::Holds, false), "`args.force` must not be given");
}

#[test]
fn on_deny_replaces_the_generated_reason() {
    let v = json!("^tank/");
    let p = Predicate::new(RuleId::new("/r"), "args.name", Op::Regex, Some(&v), Some("stay in tank".into())).unwrap();
    assert_eq!(p.reason(Eval::Fails, true), "stay in tank");
    assert_eq!(p.reason(Eval::Mismatch("number"), true), "stay in tank");
}

#[test]
fn operands_are_checked_against_their_op() {
    let new = |op, v: Option<Value>| Predicate::new(RuleId::new("/r"), "args.x", op, v.as_ref(), None).map(|_| ());
    assert_eq!(new(Op::Eq, None).unwrap_err(), "missing; `eq` needs a value to compare with");
    assert_eq!(new(Op::In, Some(json!("a"))).unwrap_err(), "`in` needs an array, found a string");
    assert_eq!(new(Op::Gte, Some(json!("5"))).unwrap_err(), "`gte` needs a number, found a string");
    assert_eq!(new(Op::Regex, Some(json!(5))).unwrap_err(), "`regex` needs a pattern string, found a number");
    assert_eq!(new(Op::Exists, Some(json!(null))).unwrap_err(), "`exists` takes `true` or `false`, found null");
    assert_eq!(new(Op::Regex, Some(json!("^tank/("))).unwrap_err(), "invalid regex `^tank/(`: unclosed group");
    assert!(new(Op::Eq, Some(json!(null))).is_ok());
    assert!(new(Op::Contains, Some(json!({"a": 1}))).is_ok());
}

#[test]
fn paths_must_start_with_args_and_have_no_empty_segment() {
    assert_eq!(parse_path("args.a.b").unwrap(), ["a", "b"]);
    assert!(parse_path("name").unwrap_err().contains("must start with `args.`"));
    assert!(parse_path("args").is_err());
    assert!(parse_path("args.").unwrap_err().contains("empty segment"));
    assert!(parse_path("args.a..b").is_err());
}

#[test]
fn starts_with_and_glob_test_strings() {
    assert_eq!(eval("args.p", Op::StartsWith, json!("/mnt/tank/"), json!({"p": "/mnt/tank/a"})), Eval::Holds);
    assert_eq!(eval("args.p", Op::StartsWith, json!("/mnt/tank/"), json!({"p": "/mnt/ssd"})), Eval::Fails);
    assert_eq!(eval("args.p", Op::StartsWith, json!("1"), json!({"p": 12})), Eval::Mismatch("number"));
    assert_eq!(eval("args.d", Op::Glob, json!("tank/apps/*"), json!({"d": "tank/apps/plex"})), Eval::Holds);
    assert_eq!(eval("args.d", Op::Glob, json!("tank/apps/*"), json!({"d": "tank/apps/plex/db"})), Eval::Fails);
    assert_eq!(eval("args.d", Op::Glob, json!("tank/**"), json!({"d": "tank/a/b"})), Eval::Holds);
    assert_eq!(eval("args.d", Op::Glob, json!("tank/*"), json!({"d": ["tank/a"]})), Eval::Mismatch("array"));
}

#[test]
fn cidr_tests_ip_address_strings_against_networks() {
    let nets = json!(["10.0.0.0/8", "fd00::/8"]);
    assert_eq!(eval("args.ip", Op::Cidr, nets.clone(), json!({"ip": "10.2.3.4"})), Eval::Holds);
    assert_eq!(eval("args.ip", Op::Cidr, nets.clone(), json!({"ip": "fd00::5"})), Eval::Holds);
    assert_eq!(eval("args.ip", Op::Cidr, nets.clone(), json!({"ip": "::ffff:10.0.0.9"})), Eval::Holds);
    assert_eq!(eval("args.ip", Op::Cidr, nets.clone(), json!({"ip": "192.168.0.1"})), Eval::Fails);
    assert_eq!(eval("args.ip", Op::Cidr, json!("10.0.0.0/8"), json!({"ip": "10.0.0.1"})), Eval::Holds);
    let not_ip = eval("args.ip", Op::Cidr, nets.clone(), json!({"ip": "nas.local"}));
    assert_eq!(not_ip, Eval::Mismatch("string that is not an IP address"));
    assert_eq!(eval("args.ip", Op::Cidr, nets, json!({"ip": 10})), Eval::Mismatch("number"));
    let p = pred("args.ip", Op::Cidr, json!("10.0.0.0/8"));
    assert_eq!(
        p.reason(not_ip, true),
        "`args.ip` is a string that is not an IP address, but `cidr` needs an IP address string"
    );
    assert_eq!(p.reason(Eval::Fails, true), "`args.ip` must be an address in `10.0.0.0/8`");
}

#[test]
fn length_ops_count_characters_elements_and_keys() {
    assert_eq!(eval("args.s", Op::LenLte, json!(3), json!({"s": "äbc"})), Eval::Holds, "characters, not bytes");
    assert_eq!(eval("args.s", Op::LenLte, json!(2), json!({"s": "abc"})), Eval::Fails);
    assert_eq!(eval("args.a", Op::LenGte, json!(2), json!({"a": [1, 2]})), Eval::Holds);
    assert_eq!(eval("args.a", Op::LenGte, json!(3), json!({"a": [1, 2]})), Eval::Fails);
    assert_eq!(eval("args.o", Op::LenLte, json!(1), json!({"o": {"a": 1, "b": 2}})), Eval::Fails);
    assert_eq!(eval("args.n", Op::LenLte, json!(1), json!({"n": 5})), Eval::Mismatch("number"));
    let p = pred("args.s", Op::LenLte, json!(8));
    assert_eq!(p.reason(Eval::Fails, true), "`args.s` must have at most `8` characters, elements or keys");
}

#[test]
fn between_is_inclusive_on_numbers() {
    for (n, want) in
        [(json!(1), Eval::Holds), (json!(10.0), Eval::Holds), (json!(0.5), Eval::Fails), (json!(11), Eval::Fails)]
    {
        assert_eq!(eval("args.n", Op::Between, json!([1, 10]), json!({ "n": n })), want, "{n}");
    }
    assert_eq!(eval("args.n", Op::Between, json!([1, 10]), json!({"n": "5"})), Eval::Mismatch("string"));
    let p = pred("args.n", Op::Between, json!([1, 10]));
    assert_eq!(p.reason(Eval::Fails, true), "`args.n` must be within `[1,10]` (inclusive)");
}

#[test]
fn new_operands_are_checked_at_load() {
    let new = |op, v: Value| Predicate::new(RuleId::new("/r"), "args.x", op, Some(&v), None).map(|_| ());
    assert_eq!(new(Op::StartsWith, json!(1)).unwrap_err(), "`starts_with` needs a string, found a number");
    assert!(new(Op::Glob, json!("a/b**")).unwrap_err().contains("`**` must be a whole segment"));
    assert!(new(Op::Cidr, json!("10.0.0.0/40")).unwrap_err().contains("0 to 32"));
    assert!(new(Op::Cidr, json!([])).unwrap_err().contains("non-empty array"));
    assert_eq!(new(Op::Cidr, json!([1])).unwrap_err(), "`cidr` needs CIDR strings, found a number");
    assert_eq!(new(Op::LenLte, json!(-1)).unwrap_err(), "`len_lte` needs a whole number, 0 or more, found `-1`");
    assert_eq!(new(Op::LenGte, json!(1.5)).unwrap_err(), "`len_gte` needs a whole number, 0 or more, found `1.5`");
    assert_eq!(new(Op::Between, json!([5, 1])).unwrap_err(), "`between` needs `[lo, hi]` with lo <= hi, found `[5,1]`");
    assert_eq!(new(Op::Between, json!([1])).unwrap_err(), "`between` needs two numbers `[lo, hi]`, found `[1]`");
    assert_eq!(
        new(Op::Between, json!(["a", 2])).unwrap_err(),
        "`between` needs two numbers `[lo, hi]`, found `[\"a\",2]`"
    );
    assert_eq!(new(Op::Between, json!(3)).unwrap_err(), "`between` needs two numbers `[lo, hi]`, found a number");
    assert!(new(Op::Between, json!([2, 2])).is_ok());
}
