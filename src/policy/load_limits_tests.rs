//! Loading the limit forms (`x-rolling`, `x-cooldown`, `x-concurrency`, `x-key`, `x-amount`)
//! and `x-loop-breaker`: what loads, and every mistake reported with its path.

use serde_json::json;

use super::*;
use crate::policy::limits::Bound;
use crate::policy::load_problems as problems;
use crate::policy::test_catalog;

fn on_vm_start(limit: Value) -> Vec<String> {
    problems(json!({"version": "1", "default": "deny", "tools": {"vm_start": {"limits": [limit]}}}))
}

#[test]
fn every_form_loads_and_compiles_to_its_bound() {
    let doc = json!({"version": "1", "default": "deny",
    "x-loop-breaker": {"max": 10, "x-rolling": "2m"},
    "all_tools": {"limits": [{"counter": "busy", "x-concurrency": 4, "scope": "server"}]},
    "tools": {
        "vm_start": {"limits": [
            {"counter": "hourly", "window": "hour", "max": 10, "scope": "grant"},
            {"counter": "per_vm", "x-rolling": "10m", "max": 3, "scope": "grant", "x-key": "args.id"},
            {"counter": "cool", "x-cooldown": 300, "scope": "server", "x-key": "args.id"}
        ]},
        "dataset_create": {"limits": [
            {"counter": "bytes", "window": "day", "max": 2_199_023_255_552_u64, "scope": "server", "x-amount": "args.volsize"}
        ]}
    }});
    let loaded = load(&doc.to_string(), test_catalog()).unwrap_or_else(|e| panic!("{e}"));
    let bounds: Vec<String> = loaded.limits.iter().map(|l| format!("{}: {}", l.rule, l.describe())).collect();
    assert_eq!(
        bounds,
        [
            "/all_tools/limits/busy: 4 in flight at once across all grants",
            "/tools/dataset_create/limits/bytes: 2199023255552 of `args.volsize` per day across all grants",
            "/tools/vm_start/limits/hourly: 10 per hour",
            "/tools/vm_start/limits/per_vm: 3 in any 10m for each `args.id`",
            "/tools/vm_start/limits/cool: one call every 300 s for each `args.id` across all grants",
        ]
    );
    assert!(matches!(loaded.limits[3].bound, Bound::Rolling { len_ms: 600_000, max: 3, .. }));
    let breaker = loaded.breaker.unwrap();
    assert_eq!((breaker.max, breaker.len_ms), (10, 120_000));
}

#[test]
fn a_limit_has_exactly_one_bound() {
    assert_eq!(
        on_vm_start(json!({"counter": "c", "scope": "grant"})),
        [
            "/tools/vm_start/limits/0: missing a bound: give one of `window` (with `max`), `x-rolling` (with `max`), `x-cooldown` or `x-concurrency`"
        ]
    );
    assert_eq!(
        on_vm_start(json!({"counter": "c", "window": "hour", "x-rolling": "1h", "max": 1, "scope": "grant"})),
        [
            "/tools/vm_start/limits/0/x-rolling: a limit has one bound: `window` and `x-rolling` are both given; split it into two limits"
        ]
    );
    assert_eq!(
        on_vm_start(json!({"counter": "c", "x-rolling": "1h", "scope": "grant"})),
        ["/tools/vm_start/limits/0/max: missing required key `max`"]
    );
    assert_eq!(
        on_vm_start(json!({"counter": "c", "x-cooldown": 60, "max": 1, "scope": "grant"})),
        ["/tools/vm_start/limits/0/max: `max` goes with `window` or `x-rolling`, not with `x-cooldown`"]
    );
}

#[test]
fn bad_spans_and_numbers_are_reported() {
    for (span, ok) in [
        ("10m", true),
        ("30d", true),
        ("1s", true),
        ("31d", false),
        ("0m", false),
        ("10", false),
        ("m", false),
        ("1.5h", false),
        ("010m", false),
    ] {
        let found = on_vm_start(json!({"counter": "c", "x-rolling": span, "max": 1, "scope": "grant"}));
        assert_eq!(found.is_empty(), ok, "{span}: {found:?}");
    }
    assert_eq!(
        on_vm_start(json!({"counter": "c", "x-cooldown": 0, "scope": "grant"})),
        ["/tools/vm_start/limits/0/x-cooldown: must be a whole number of seconds from 1 to 2592000, found `0`"]
    );
    assert_eq!(
        on_vm_start(json!({"counter": "c", "x-concurrency": 0, "scope": "grant"})),
        ["/tools/vm_start/limits/0/x-concurrency: must be a whole number from 1 to 10000, found `0`"]
    );
}

#[test]
fn key_and_amount_paths_are_checked_like_predicate_paths() {
    assert_eq!(
        on_vm_start(json!({"counter": "c", "window": "hour", "max": 1, "scope": "grant", "x-key": "args.idd"})),
        ["/tools/vm_start/limits/0/x-key: `vm_start` has no argument `idd`; did you mean `args.id`?"]
    );
    assert_eq!(
        on_vm_start(json!({"counter": "c", "window": "hour", "max": 1, "scope": "grant", "x-amount": "id"})),
        ["/tools/vm_start/limits/0/x-amount: `id` must start with `args.` (a dot path into the call arguments)"]
    );
    let found = problems(json!({"version": "1", "default": "deny",
        "all_tools": {"limits": [{"counter": "c", "window": "hour", "max": 1, "scope": "grant", "x-key": "args.id"}]}}));
    assert_eq!(
        found,
        [
            "/all_tools/limits/0/x-key: `x-key` is only allowed on a limit of a `tools` entry, whose actions all take the argument"
        ]
    );
    assert_eq!(
        on_vm_start(json!({"counter": "c", "x-cooldown": 5, "scope": "grant", "x-amount": "args.id"})),
        [
            "/tools/vm_start/limits/0/x-amount: `x-amount` needs a `window` or `x-rolling` bound with `max` (it adds up amounts)"
        ]
    );
}

#[test]
fn a_key_on_a_secret_argument_is_refused() {
    let found = problems(json!({"version": "1", "default": "deny", "tools": {"user_create": {"limits": [
        {"counter": "c", "window": "hour", "max": 1, "scope": "grant", "x-key": "args.password"}
    ]}}}));
    assert_eq!(
        found,
        [
            "/tools/user_create/limits/0/x-key: `x-key` must not read a secret argument (`password`): counter keys are stored"
        ]
    );
}

#[test]
fn the_loop_breaker_is_false_or_max_and_span() {
    let with = |b: Value| problems(json!({"version": "1", "default": "deny", "x-loop-breaker": b}));
    assert!(with(json!(false)).is_empty());
    assert_eq!(
        with(json!(true)),
        ["/x-loop-breaker: must be `false` or an object like `{\"max\": 10, \"x-rolling\": \"2m\"}`, found `true`"]
    );
    assert_eq!(
        with(json!({"max": 0, "x-rolling": "2w", "window": "hour"})),
        [
            "/x-loop-breaker/window: unknown key `window`; expected `max`, `x-rolling`",
            "/x-loop-breaker/max: must be a whole number, 1 or more, found `0`",
            "/x-loop-breaker/x-rolling: must be a span like `90s`, `10m`, `2h` or `1d` (1 s to 30 d), found `2w`",
        ]
    );
    assert_eq!(with(json!({"max": 3})), ["/x-loop-breaker/x-rolling: missing required key `x-rolling`"]);
}
