use super::*;

/// 2024-01-01T00:00:00Z, a minute, hour and day boundary.
const T0: u64 = 1_704_067_200;

fn at(secs: u64, millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
}

fn spec(counter: &str, window: Window, max: u64, scope: Scope) -> LimitSpec {
    LimitSpec {
        rule: RuleId::new(format!("/all_tools/limits/{counter}")),
        counter: counter.to_owned(),
        window,
        max,
        scope,
        on_deny: None,
    }
}

fn limiter(specs: Vec<LimitSpec>) -> Arc<Limiter> {
    Arc::new(Limiter::new(specs))
}

fn grant(name: &str) -> GrantId {
    GrantId::new(name)
}

#[test]
fn calls_up_to_max_pass_and_the_next_is_denied_with_retry_after() {
    let l = limiter(vec![spec("c", Window::Minute, 3, Scope::Grant)]);
    let g = grant("a");
    for _ in 0..3 {
        assert!(l.reserve(&[&[0]], &g, at(T0 + 10, 0)).unwrap().is_some());
    }
    let denial = l.reserve(&[&[0]], &g, at(T0 + 30, 500)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/c");
    assert_eq!(denial.retry_after, Some(Duration::from_millis(29_500)));
    assert_eq!(denial.reason, "limit `c` reached: 3 per minute; retry after 30 s");
    assert_eq!(l.used(0, &g, at(T0 + 30, 0)), 3, "a denied call changes no counter");
}

#[test]
fn a_new_window_starts_on_the_boundary() {
    let l = limiter(vec![spec("c", Window::Minute, 1, Scope::Grant)]);
    let g = grant("a");
    assert!(l.reserve(&[&[0]], &g, at(T0 + 59, 999)).is_ok());
    assert!(l.reserve(&[&[0]], &g, at(T0 + 59, 999)).is_err());
    assert!(l.reserve(&[&[0]], &g, at(T0 + 60, 0)).is_ok(), "second 60 opens the next minute");
    let denial = l.reserve(&[&[0]], &g, at(T0 + 60, 0)).unwrap_err();
    assert_eq!(denial.retry_after, Some(Duration::from_secs(60)));
}

#[test]
fn hour_and_day_windows_align_to_utc() {
    let l = limiter(vec![spec("h", Window::Hour, 1, Scope::Server), spec("d", Window::Day, 1, Scope::Server)]);
    let g = grant("a");
    assert!(l.reserve(&[&[0]], &g, at(T0 + 3_599, 0)).is_ok());
    assert_eq!(l.reserve(&[&[0]], &g, at(T0 + 3_599, 0)).unwrap_err().retry_after, Some(Duration::from_secs(1)));
    assert!(l.reserve(&[&[0]], &g, at(T0 + 3_600, 0)).is_ok());
    assert!(l.reserve(&[&[1]], &g, at(T0 + 100, 0)).is_ok());
    let denial = l.reserve(&[&[1]], &g, at(T0 + 86_399, 0)).unwrap_err();
    assert_eq!(denial.retry_after, Some(Duration::from_secs(1)));
    assert!(l.reserve(&[&[1]], &g, at(T0 + 86_400, 0)).is_ok());
}

#[test]
fn grant_scope_counts_each_grant_apart() {
    let l = limiter(vec![spec("c", Window::Minute, 1, Scope::Grant)]);
    assert!(l.reserve(&[&[0]], &grant("a"), at(T0, 0)).is_ok());
    assert!(l.reserve(&[&[0]], &grant("a"), at(T0, 0)).is_err());
    assert!(l.reserve(&[&[0]], &grant("b"), at(T0, 0)).is_ok());
}

#[test]
fn server_scope_counts_every_grant_together() {
    let l = limiter(vec![spec("c", Window::Minute, 2, Scope::Server)]);
    assert!(l.reserve(&[&[0]], &grant("a"), at(T0, 0)).is_ok());
    assert!(l.reserve(&[&[0]], &grant("b"), at(T0, 0)).is_ok());
    let denial = l.reserve(&[&[0]], &grant("c"), at(T0, 0)).unwrap_err();
    assert_eq!(denial.reason, "limit `c` reached: 2 per minute across all grants; retry after 60 s");
}

#[test]
fn rollback_refunds_every_slot_and_drop_keeps_them() {
    let l = limiter(vec![spec("g", Window::Minute, 1, Scope::Grant), spec("s", Window::Hour, 1, Scope::Server)]);
    let g = grant("a");
    let kept = l.reserve(&[&[0, 1]], &g, at(T0, 0)).unwrap().unwrap();
    assert!(l.reserve(&[&[0, 1]], &g, at(T0, 0)).is_err());
    kept.rollback();
    assert_eq!((l.used(0, &g, at(T0, 0)), l.used(1, &g, at(T0, 0))), (0, 0));
    let dropped = l.reserve(&[&[0, 1]], &g, at(T0, 0)).unwrap();
    drop(dropped);
    assert_eq!((l.used(0, &g, at(T0, 0)), l.used(1, &g, at(T0, 0))), (1, 1));
    assert!(l.reserve(&[&[0, 1]], &g, at(T0, 0)).is_err());
}

#[test]
fn rollback_after_the_window_passed_leaves_the_new_window_alone() {
    let l = limiter(vec![spec("c", Window::Minute, 5, Scope::Grant)]);
    let g = grant("a");
    let old = l.reserve(&[&[0]], &g, at(T0, 0)).unwrap().unwrap();
    let _new = l.reserve(&[&[0]], &g, at(T0 + 60, 0)).unwrap().unwrap();
    old.rollback();
    assert_eq!(l.used(0, &g, at(T0 + 60, 0)), 1);
}

#[test]
fn reservation_is_all_or_nothing() {
    let l =
        limiter(vec![spec("roomy", Window::Minute, 10, Scope::Grant), spec("tight", Window::Minute, 1, Scope::Grant)]);
    let g = grant("a");
    assert!(l.reserve(&[&[1]], &g, at(T0, 0)).is_ok());
    let denial = l.reserve(&[&[0], &[1]], &g, at(T0, 0)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/tight");
    assert_eq!(l.used(0, &g, at(T0, 0)), 0, "the roomy limit was not charged for a denied call");
}

#[test]
fn the_denial_names_the_limit_that_binds_longest() {
    let l = limiter(vec![
        spec("minute", Window::Minute, 1, Scope::Grant),
        spec("day", Window::Day, 1, Scope::Grant),
        spec("minute2", Window::Minute, 1, Scope::Grant),
    ]);
    let g = grant("a");
    assert!(l.reserve(&[&[0, 1, 2]], &g, at(T0, 0)).is_ok());
    let denial = l.reserve(&[&[0, 1, 2]], &g, at(T0, 0)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/day");
    assert_eq!(denial.retry_after, Some(Duration::from_secs(86_400)));
}

#[test]
fn max_zero_blocks_without_a_retry_after() {
    let blocked = spec("off", Window::Minute, 0, Scope::Grant);
    let l = limiter(vec![spec("m", Window::Minute, 1, Scope::Grant), blocked]);
    let g = grant("a");
    assert!(l.reserve(&[&[0]], &g, at(T0, 0)).is_ok());
    let denial = l.reserve(&[&[0, 1]], &g, at(T0, 0)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/off");
    assert_eq!(denial.retry_after, None);
    assert_eq!(denial.reason, "limit `off` allows no calls");
}

#[test]
fn on_deny_replaces_the_reason_and_keeps_the_retry_after() {
    let mut s = spec("c", Window::Minute, 1, Scope::Grant);
    s.on_deny = Some("slow down".to_owned());
    let l = limiter(vec![s]);
    let g = grant("a");
    assert!(l.reserve(&[&[0]], &g, at(T0 + 50, 0)).is_ok());
    assert_eq!(l.reserve(&[&[0]], &g, at(T0 + 50, 0)).unwrap_err().reason, "slow down; retry after 10 s");
}

#[test]
fn no_applicable_limit_reserves_nothing() {
    let l = limiter(vec![spec("c", Window::Minute, 1, Scope::Grant)]);
    assert!(l.reserve(&[&[], &[]], &grant("a"), at(T0, 0)).unwrap().is_none());
    assert!(l.reserve(&[&[], &[]], &grant("a"), UNIX_EPOCH - Duration::from_secs(1)).unwrap().is_none());
}

#[test]
fn a_clock_before_the_epoch_denies() {
    let l = limiter(vec![spec("c", Window::Minute, 1, Scope::Grant)]);
    let denial = l.reserve(&[&[0]], &grant("a"), UNIX_EPOCH - Duration::from_secs(1)).unwrap_err();
    assert_eq!(denial.rule.as_str(), "/all_tools/limits/c");
}

#[test]
fn counters_of_past_windows_are_pruned() {
    let l = limiter(vec![spec("c", Window::Minute, 5, Scope::Grant)]);
    for i in 0..50 {
        l.reserve(&[&[0]], &grant(&format!("g{i}")), at(T0, 0)).unwrap();
    }
    assert_eq!(l.tracked_grants(), 50);
    l.reserve(&[&[0]], &grant("late"), at(T0 + 120, 0)).unwrap();
    assert_eq!(l.tracked_grants(), 1);
}

#[test]
fn whole_seconds_round_up() {
    assert_eq!(whole_seconds_up(Duration::from_millis(29_500)), 30);
    assert_eq!(whole_seconds_up(Duration::from_secs(60)), 60);
    assert_eq!(whole_seconds_up(Duration::from_nanos(1)), 1);
}
