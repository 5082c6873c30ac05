use super::*;
use crate::state::counters_memory::MemoryStore;

/// 2024-01-01T00:00:00Z, a minute, hour and day boundary.
const T0: u64 = 1_704_067_200;

fn at(secs: u64, millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
}

fn spec(counter: &str, window: Window, max: u64, scope: Scope) -> LimitSpec {
    with_bound(counter, Bound::Window { window, max }, scope)
}

fn with_bound(counter: &str, bound: Bound, scope: Scope) -> LimitSpec {
    LimitSpec {
        rule: RuleId::new(format!("/all_tools/limits/{counter}")),
        counter: counter.to_owned(),
        bound,
        scope,
        on_deny: None,
        key: None,
        amount: None,
    }
}

fn path(p: &str) -> Option<ArgPath> {
    Some(ArgPath {
        path: p.to_owned(),
        segments: p.trim_start_matches("args.").split('.').map(str::to_owned).collect(),
    })
}

fn limiter(specs: Vec<LimitSpec>) -> Limiter {
    Limiter::new(specs, None, Arc::new(MemoryStore::new()))
}

fn grant(name: &str) -> GrantId {
    GrantId::new(name)
}

fn no_args() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

fn call<'a>(g: &'a GrantId, args: &'a Map<String, Value>) -> Call<'a> {
    Call { grant: g, action: "vm_start", args, unknown: None, breaker: true }
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// Reserves limits `which` for grant `g` (no arguments) at `now`.
fn take(l: &Limiter, which: &[usize], g: &GrantId, now: SystemTime) -> Result<Option<Reservation>, Denial> {
    l.reserve(&[(which, true)], &call(g, no_args()), now)
}

#[test]
fn calls_up_to_max_pass_and_the_next_is_denied_with_retry_after() {
    let l = limiter(vec![spec("c", Window::Minute, 3, Scope::Grant)]);
    let g = grant("a");
    for _ in 0..3 {
        assert!(take(&l, &[0], &g, at(T0 + 10, 0)).unwrap().is_some());
    }
    let denial = take(&l, &[0], &g, at(T0 + 30, 500)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/c");
    assert_eq!(denial.retry_after, Some(Duration::from_millis(29_500)));
    assert_eq!(denial.reason, "limit `c` reached: 3 per minute; retry after 30 s");
    assert_eq!(l.used(0, &g, at(T0 + 30, 0)), 3, "a denied call changes no counter");
}

#[test]
fn a_new_window_starts_on_the_boundary() {
    let l = limiter(vec![spec("c", Window::Minute, 1, Scope::Grant)]);
    let g = grant("a");
    assert!(take(&l, &[0], &g, at(T0 + 59, 999)).is_ok());
    assert!(take(&l, &[0], &g, at(T0 + 59, 999)).is_err());
    assert!(take(&l, &[0], &g, at(T0 + 60, 0)).is_ok(), "second 60 opens the next minute");
    let denial = take(&l, &[0], &g, at(T0 + 60, 0)).unwrap_err();
    assert_eq!(denial.retry_after, Some(Duration::from_secs(60)));
}

#[test]
fn hour_and_day_windows_align_to_utc() {
    let l = limiter(vec![spec("h", Window::Hour, 1, Scope::Server), spec("d", Window::Day, 1, Scope::Server)]);
    let g = grant("a");
    assert!(take(&l, &[0], &g, at(T0 + 3_599, 0)).is_ok());
    assert_eq!(take(&l, &[0], &g, at(T0 + 3_599, 0)).unwrap_err().retry_after, Some(Duration::from_secs(1)));
    assert!(take(&l, &[0], &g, at(T0 + 3_600, 0)).is_ok());
    assert!(take(&l, &[1], &g, at(T0 + 100, 0)).is_ok());
    assert_eq!(take(&l, &[1], &g, at(T0 + 86_399, 0)).unwrap_err().retry_after, Some(Duration::from_secs(1)));
    assert!(take(&l, &[1], &g, at(T0 + 86_400, 0)).is_ok());
}

#[test]
fn grant_scope_counts_each_grant_apart_and_server_scope_together() {
    let l = limiter(vec![spec("g", Window::Minute, 1, Scope::Grant), spec("s", Window::Minute, 2, Scope::Server)]);
    assert!(take(&l, &[0], &grant("a"), at(T0, 0)).is_ok());
    assert!(take(&l, &[0], &grant("a"), at(T0, 0)).is_err());
    assert!(take(&l, &[0], &grant("b"), at(T0, 0)).is_ok());
    assert!(take(&l, &[1], &grant("a"), at(T0, 0)).is_ok());
    assert!(take(&l, &[1], &grant("b"), at(T0, 0)).is_ok());
    let denial = take(&l, &[1], &grant("c"), at(T0, 0)).unwrap_err();
    assert_eq!(denial.reason, "limit `s` reached: 2 per minute across all grants; retry after 60 s");
}

#[test]
fn rollback_refunds_everything_and_drop_keeps_the_counts() {
    let l = limiter(vec![spec("g", Window::Minute, 1, Scope::Grant), spec("s", Window::Hour, 1, Scope::Server)]);
    let g = grant("a");
    let kept = take(&l, &[0, 1], &g, at(T0, 0)).unwrap().unwrap();
    assert!(take(&l, &[0, 1], &g, at(T0, 0)).is_err());
    kept.rollback();
    assert_eq!((l.used(0, &g, at(T0, 0)), l.used(1, &g, at(T0, 0))), (0, 0));
    drop(take(&l, &[0, 1], &g, at(T0, 0)).unwrap());
    assert_eq!((l.used(0, &g, at(T0, 0)), l.used(1, &g, at(T0, 0))), (1, 1));
}

#[test]
fn reservation_is_all_or_nothing_and_names_the_limit_that_binds_longest() {
    let l = limiter(vec![
        spec("roomy", Window::Minute, 10, Scope::Grant),
        spec("minute", Window::Minute, 1, Scope::Grant),
        spec("day", Window::Day, 1, Scope::Grant),
    ]);
    let g = grant("a");
    assert!(take(&l, &[1, 2], &g, at(T0, 0)).is_ok());
    let denial = take(&l, &[0, 1, 2], &g, at(T0, 0)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/day");
    assert_eq!(denial.retry_after, Some(Duration::from_secs(86_400)));
    assert_eq!(l.used(0, &g, at(T0, 0)), 0, "the roomy limit was not charged for a denied call");
}

#[test]
fn max_zero_blocks_without_a_retry_after_and_on_deny_keeps_the_retry() {
    let mut slow = spec("c", Window::Minute, 1, Scope::Grant);
    slow.on_deny = Some("slow down".to_owned());
    let l = limiter(vec![spec("off", Window::Minute, 0, Scope::Grant), slow]);
    let g = grant("a");
    let denial = take(&l, &[0], &g, at(T0, 0)).unwrap_err();
    assert_eq!((denial.reason.as_str(), denial.retry_after), ("limit `off` allows no calls", None));
    assert!(take(&l, &[1], &g, at(T0 + 50, 0)).is_ok());
    assert_eq!(take(&l, &[1], &g, at(T0 + 50, 0)).unwrap_err().reason, "slow down; retry after 10 s");
}

#[test]
fn no_applicable_limit_reserves_nothing_and_a_clock_before_the_epoch_denies() {
    let l = limiter(vec![spec("c", Window::Minute, 1, Scope::Grant)]);
    assert!(take(&l, &[], &grant("a"), at(T0, 0)).unwrap().is_none());
    let denial = take(&l, &[0], &grant("a"), UNIX_EPOCH - Duration::from_secs(1)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/c");
}

#[test]
fn keyed_limits_count_each_value_apart_and_absent_is_a_value() {
    let mut s = spec("restarts", Window::Hour, 2, Scope::Grant);
    s.key = path("args.id");
    let l = limiter(vec![s]);
    let g = grant("a");
    let (vm1, vm2, none) = (args(json!({"id": 1})), args(json!({"id": 2})), args(json!({})));
    for _ in 0..2 {
        l.reserve(&[(&[0], true)], &call(&g, &vm1), at(T0, 0)).unwrap();
    }
    let denial = l.reserve(&[(&[0], true)], &call(&g, &vm1), at(T0, 0)).unwrap_err();
    assert_eq!(denial.reason, "limit `restarts` reached: 2 per hour for each `args.id`; retry after 3600 s");
    l.reserve(&[(&[0], true)], &call(&g, &vm2), at(T0, 0)).unwrap();
    l.reserve(&[(&[0], true)], &call(&g, &none), at(T0, 0)).unwrap();
    // The string `"1"` is another value than the number `1`.
    assert!(l.reserve(&[(&[0], true)], &call(&g, &args(json!({"id": "1"}))), at(T0, 0)).is_ok());
}

#[test]
fn a_key_or_amount_that_cannot_be_read_denies() {
    let mut keyed = spec("k", Window::Hour, 5, Scope::Grant);
    keyed.key = path("args.id");
    let mut weighed = spec("w", Window::Hour, 5, Scope::Grant);
    weighed.amount = path("args.size");
    let l = limiter(vec![keyed, weighed]);
    let g = grant("a");
    let unknown: BTreeSet<String> = ["id".to_owned(), "size".to_owned()].into();
    let a = args(json!({"id": 1, "size": 1}));
    let blind = Call { unknown: Some(&unknown), ..call(&g, &a) };
    assert!(l.reserve(&[(&[0], true)], &blind, at(T0, 0)).unwrap_err().reason.contains("cannot be told"));
    assert!(l.reserve(&[(&[1], true)], &blind, at(T0, 0)).unwrap_err().reason.contains("cannot be told"));
    assert!(l.reserve(&[(&[0], false)], &call(&g, &a), at(T0, 0)).unwrap_err().reason.contains("raw call"));
    for (bad, why) in [
        (json!({}), "is missing"),
        (json!({"size": -1}), "not a whole number"),
        (json!({"size": 1.5}), "not a whole number"),
        (json!({"size": "1"}), "not a whole number"),
    ] {
        let bad = args(bad);
        let denial = l.reserve(&[(&[1], true)], &call(&g, &bad), at(T0, 0)).unwrap_err();
        assert!(denial.reason.contains(why), "{}", denial.reason);
    }
    assert_eq!(l.used(1, &g, at(T0, 0)), 0);
}

#[test]
fn amounts_add_up_and_a_refund_gives_them_back() {
    let mut quota = spec("bytes", Window::Day, 100, Scope::Server);
    quota.amount = path("args.volsize");
    let l = limiter(vec![quota]);
    let g = grant("a");
    let sixty = args(json!({"volsize": 60}));
    let first = l.reserve(&[(&[0], true)], &call(&g, &sixty), at(T0, 0)).unwrap().unwrap();
    let denial = l.reserve(&[(&[0], true)], &call(&g, &sixty), at(T0, 0)).unwrap_err();
    assert_eq!(
        denial.reason,
        "limit `bytes` reached: 100 of `args.volsize` per day across all grants; retry after 86400 s"
    );
    first.rollback();
    l.reserve(&[(&[0], true)], &call(&g, &sixty), at(T0, 0)).unwrap();
    let whole = args(json!({"volsize": 101}));
    let denial = l.reserve(&[(&[0], true)], &call(&g, &whole), at(T0 + 86_400, 0)).unwrap_err();
    assert_eq!(denial.retry_after, None);
    assert!(denial.reason.contains("this call alone is more than"), "{}", denial.reason);
}

#[test]
fn rolling_limits_never_let_n_plus_one_into_a_span() {
    let l =
        limiter(vec![with_bound("r", Bound::Rolling { text: "10m".into(), len_ms: 600_000, max: 3 }, Scope::Grant)]);
    let g = grant("a");
    // Three at the end of one calendar window, then the next: a fixed window would allow six.
    for s in [590, 595, 599] {
        take(&l, &[0], &g, at(T0 + s, 0)).unwrap();
    }
    let denial = take(&l, &[0], &g, at(T0 + 601, 0)).unwrap_err();
    assert_eq!(denial.reason, "limit `r` reached: 3 in any 10m; retry after 589 s");
    assert_eq!(denial.retry_after, Some(Duration::from_secs(589)));
    assert!(take(&l, &[0], &g, at(T0 + 1_189, 999)).is_err());
    assert!(take(&l, &[0], &g, at(T0 + 1_190, 0)).is_ok());
}

#[test]
fn a_cooldown_says_how_long_to_wait() {
    let mut cool = with_bound("cool", Bound::Cooldown { secs: 300 }, Scope::Grant);
    cool.key = path("args.id");
    let l = limiter(vec![cool]);
    let g = grant("a");
    let vm1 = args(json!({"id": 1}));
    l.reserve(&[(&[0], true)], &call(&g, &vm1), at(T0, 0)).unwrap();
    let denial = l.reserve(&[(&[0], true)], &call(&g, &vm1), at(T0 + 100, 0)).unwrap_err();
    assert_eq!(
        denial.reason,
        "limit `cool` is cooling down: one call every 300 s for each `args.id`; wait 200 s before calling again"
    );
    assert_eq!(denial.retry_after, Some(Duration::from_secs(200)));
    assert!(l.reserve(&[(&[0], true)], &call(&g, &args(json!({"id": 2}))), at(T0 + 100, 0)).is_ok());
    assert!(l.reserve(&[(&[0], true)], &call(&g, &vm1), at(T0 + 300, 0)).is_ok());
}

#[test]
fn concurrency_counts_calls_in_flight_until_their_permit_is_dropped() {
    let l = limiter(vec![with_bound("busy", Bound::Concurrency { max: 2 }, Scope::Server)]);
    let g = grant("a");
    let first = take(&l, &[0], &g, at(T0, 0)).unwrap();
    let second = take(&l, &[0], &g, at(T0, 0)).unwrap();
    let denial = take(&l, &[0], &g, at(T0, 1)).unwrap_err();
    assert_eq!(
        denial.reason,
        "limit `busy` reached: 2 calls already in flight (2 in flight at once across all grants); retry when one of them finishes"
    );
    assert_eq!(denial.retry_after, None);
    drop(first);
    let third = take(&l, &[0], &g, at(T0, 2)).unwrap();
    second.unwrap().rollback();
    drop(third);
    assert!(take(&l, &[0], &g, at(T0, 3)).is_ok());
}

#[test]
fn the_loop_breaker_denies_the_same_call_repeated_and_lets_others_through() {
    let breaker = LoopBreaker { max: 3, len_ms: 120_000, text: "2m".into() };
    let l = Limiter::new(Vec::new(), Some(breaker), Arc::new(MemoryStore::new()));
    let g = grant("a");
    let same = args(json!({"id": 1, "overcommit": false}));
    let reordered = args(json!({"overcommit": false, "id": 1}));
    for a in [&same, &reordered, &same] {
        l.reserve(&[], &call(&g, a), at(T0, 0)).unwrap();
    }
    let denial = l.reserve(&[], &call(&g, &same), at(T0 + 30, 0)).unwrap_err();
    assert_eq!(denial.rule.as_str(), LOOP_BREAKER);
    assert!(denial.reason.starts_with("you are repeating the same call: `vm_start`"), "{}", denial.reason);
    assert!(denial.reason.contains("change course"), "{}", denial.reason);
    assert_eq!(denial.retry_after, Some(Duration::from_secs(90)));
    // Other arguments, another grant, a twin's decision (`breaker: false`): not the same call.
    l.reserve(&[], &call(&g, &args(json!({"id": 2}))), at(T0 + 30, 0)).unwrap();
    l.reserve(&[], &call(&grant("b"), &same), at(T0 + 30, 0)).unwrap();
    assert!(l.reserve(&[], &Call { breaker: false, ..call(&g, &same) }, at(T0 + 30, 0)).unwrap().is_none());
    assert!(l.reserve(&[], &call(&g, &same), at(T0 + 120, 0)).is_ok());
}

#[test]
fn counter_keys_name_the_rule_the_grant_and_the_value() {
    let mut s = spec("c", Window::Minute, 5, Scope::Grant);
    s.key = path("args.name");
    assert_eq!(s.counter_key(&grant("g1"), "\"x\""), "/all_tools/limits/c|g1|\"x\"");
    s.scope = Scope::Server;
    assert_eq!(s.counter_key(&grant("g1"), ""), "/all_tools/limits/c|*|");
    let l = limiter(vec![s]);
    let long = args(json!({"name": "n".repeat(100)}));
    let spec = &l.specs[0];
    let value = key_value(spec, spec.key.as_ref().unwrap(), &call(&grant("g"), &long), true).unwrap();
    assert!(value.starts_with("sha256:") && value.len() == 7 + 64, "{value}");
}

#[test]
fn budgets_say_what_is_left() {
    let mut keyed = spec("keyed", Window::Hour, 3, Scope::Grant);
    keyed.key = path("args.id");
    let breaker = LoopBreaker { max: 10, len_ms: 120_000, text: "2m".into() };
    let l = Limiter::new(
        vec![spec("plain", Window::Minute, 5, Scope::Grant), keyed],
        Some(breaker),
        Arc::new(MemoryStore::new()),
    );
    let g = grant("a");
    take(&l, &[0], &g, at(T0 + 15, 0)).unwrap();
    let budgets = l.budgets(&g, at(T0 + 20, 0));
    assert_eq!(budgets.len(), 3);
    assert_eq!(budgets[0].remaining, Some(4));
    assert_eq!(budgets[0].resets_in, Some(Duration::from_secs(40)));
    assert_eq!(budgets[0].describe, "5 per minute");
    assert_eq!(budgets[1].remaining, None);
    assert_eq!(budgets[2].rule.as_str(), LOOP_BREAKER);
    assert_eq!(l.budgets(&grant("other"), at(T0 + 20, 0))[0].remaining, Some(5));
}

#[test]
fn whole_seconds_round_up() {
    assert_eq!(whole_seconds_up(Duration::from_millis(29_500)), 30);
    assert_eq!(whole_seconds_up(Duration::from_secs(60)), 60);
    assert_eq!(whole_seconds_up(Duration::from_nanos(1)), 1);
}

use serde_json::json;
