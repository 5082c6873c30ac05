use super::*;

fn fixed(key: &str, start_ms: u64, len_ms: u64, max: u64) -> Charge {
    Charge { key: key.into(), amount: 1, kind: ChargeKind::Fixed { start_ms, len_ms, max } }
}

fn rolling(key: &str, amount: u64, len_ms: u64, max: u64) -> Charge {
    Charge { key: key.into(), amount, kind: ChargeKind::Rolling { len_ms, max } }
}

fn in_flight(key: &str, max: u64) -> Charge {
    Charge { key: key.into(), amount: 1, kind: ChargeKind::InFlight { max, lease_ms: 60_000 } }
}

fn exceeded(r: Result<Ticket, Refusal>) -> (usize, Option<u64>) {
    match r {
        Err(Refusal::Exceeded { index, retry_after_ms }) => (index, retry_after_ms),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_fixed_window_holds_max_and_says_when_it_resets() {
    let s = MemoryStore::new();
    let c = [fixed("k", 60_000, 60_000, 2)];
    s.reserve(&c, 60_100).unwrap();
    s.reserve(&c, 60_200).unwrap();
    assert_eq!(exceeded(s.reserve(&c, 70_000)), (0, Some(50_000)));
    assert_eq!(s.remaining(&c, 70_000).unwrap(), vec![0]);
    // The next window starts from zero.
    let next = [fixed("k", 120_000, 60_000, 2)];
    assert_eq!(s.remaining(&next, 120_000).unwrap(), vec![2]);
    s.reserve(&next, 120_000).unwrap();
}

#[test]
fn an_amount_larger_than_max_never_fits() {
    let s = MemoryStore::new();
    let mut c = fixed("k", 0, 60_000, 10);
    c.amount = 11;
    assert_eq!(exceeded(s.reserve(&[c], 5)), (0, None));
    assert_eq!(exceeded(s.reserve(&[rolling("r", 11, 1_000, 10)], 5)), (0, None));
}

#[test]
fn a_reservation_is_all_or_nothing_and_names_the_longest_binding_charge() {
    let s = MemoryStore::new();
    s.reserve(&[fixed("minute", 0, 60_000, 1), fixed("hour", 0, 3_600_000, 1)], 10).unwrap();
    let both = [fixed("roomy", 0, 60_000, 9), fixed("minute", 0, 60_000, 1), fixed("hour", 0, 3_600_000, 1)];
    assert_eq!(exceeded(s.reserve(&both, 10)), (2, Some(3_599_990)));
    assert_eq!(s.remaining(&both, 10).unwrap(), vec![9, 0, 0], "the roomy counter was not charged");
}

#[test]
fn refund_gives_back_and_a_late_refund_leaves_the_next_window_alone() {
    let s = MemoryStore::new();
    let c = [fixed("k", 0, 60_000, 1), rolling("r", 1, 60_000, 1)];
    let t = s.reserve(&c, 10).unwrap();
    s.refund(&t);
    assert_eq!(s.remaining(&c, 10).unwrap(), vec![1, 1]);
    let old = s.reserve(&c, 20).unwrap();
    let next = [fixed("k", 60_000, 60_000, 1)];
    s.reserve(&next, 60_000).unwrap();
    s.refund(&old);
    assert_eq!(s.remaining(&next, 60_000).unwrap(), vec![0], "a refund of the old window changes nothing now");
}

#[test]
fn rolling_allows_n_in_any_span_and_never_n_plus_one() {
    // At most 3 in any 1000 ms: try a call every 100 ms for 10 s and check every span.
    let s = MemoryStore::new();
    let c = [rolling("r", 1, 1_000, 3)];
    let mut admitted = Vec::new();
    for step in 0..100u64 {
        let now = 5_000 + step * 100 + (step % 7);
        if s.reserve(&c, now).is_ok() {
            admitted.push(now);
        }
    }
    for (i, start) in admitted.iter().enumerate() {
        let in_span = admitted[i..].iter().take_while(|t| **t < start + 1_000).count();
        assert!(in_span <= 3, "{in_span} calls within 1000 ms of {start}");
    }
    // And the limiter is not over-strict: three per second get through over ten seconds.
    assert!(admitted.len() >= 27, "only {} admitted", admitted.len());
}

#[test]
fn rolling_retry_after_is_when_the_oldest_entry_leaves_the_span() {
    let s = MemoryStore::new();
    let c = [rolling("r", 1, 10_000, 2)];
    s.reserve(&c, 1_000).unwrap();
    s.reserve(&c, 4_000).unwrap();
    assert_eq!(exceeded(s.reserve(&c, 5_000)), (0, Some(6_000)));
    assert!(s.reserve(&c, 10_999).is_err());
    s.reserve(&c, 11_000).unwrap();
    // Amounts: the wait is until enough has left the span.
    let a = [rolling("a", 5, 10_000, 10)];
    s.reserve(&a, 0).unwrap();
    s.reserve(&a, 1_000).unwrap();
    assert_eq!(exceeded(s.reserve(&[rolling("a", 6, 10_000, 10)], 2_000)), (0, Some(9_000)));
}

#[test]
fn leases_cap_calls_in_flight_and_release_frees_them() {
    let s = MemoryStore::new();
    let c = [in_flight("f", 2), fixed("count", 0, 60_000, 100)];
    let a = s.reserve(&c, 0).unwrap();
    let _b = s.reserve(&c, 0).unwrap();
    let (index, wait) = exceeded(s.reserve(&c, 10));
    assert_eq!((index, wait), (0, Some(59_990)));
    s.release(&a);
    assert_eq!(s.remaining(&c, 10).unwrap(), vec![1, 98], "release frees the lease and keeps the count");
    s.reserve(&c, 10).unwrap();
    // A lease never released ends when it expires.
    assert_eq!(s.remaining(&c, 60_001).unwrap()[0], 1);
}

#[test]
fn keys_are_isolated() {
    let s = MemoryStore::new();
    s.reserve(&[fixed("vm|1", 0, 60_000, 1)], 0).unwrap();
    assert!(s.reserve(&[fixed("vm|1", 0, 60_000, 1)], 0).is_err());
    s.reserve(&[fixed("vm|2", 0, 60_000, 1)], 0).unwrap();
}

#[test]
fn stale_keys_are_pruned_and_the_key_cap_denies_instead_of_growing() {
    let s = MemoryStore::with_max_keys(3);
    for k in ["a", "b", "c"] {
        s.reserve(&[fixed(k, 0, 60_000, 5)], 0).unwrap();
    }
    match s.reserve(&[fixed("d", 0, 60_000, 5)], 1) {
        Err(Refusal::Unavailable(reason)) => assert!(reason.contains("most keys"), "{reason}"),
        other => panic!("expected the key cap, got {other:?}"),
    }
    assert_eq!(s.keys(), 3);
    // Existing keys still work; once their window is over they make room.
    s.reserve(&[fixed("a", 0, 60_000, 5)], 2).unwrap();
    s.reserve(&[fixed("d", 60_000, 60_000, 5)], 60_000).unwrap();
    assert_eq!(s.keys(), 1);
}

#[test]
fn a_counter_whose_window_grew_keeps_what_it_counted() {
    // `hour` changed to `day` with the same rule id: the hour's count lies inside the day.
    let s = MemoryStore::new();
    let hour = 3_600_000;
    s.reserve(&[fixed("k", 5 * hour, hour, 10)], 5 * hour + 1).unwrap();
    assert_eq!(s.remaining(&[fixed("k", 0, 24 * hour, 3)], 5 * hour + 2).unwrap(), vec![2]);
    // A change of form (window to rolling) starts afresh instead of misreading the entry.
    s.reserve(&[rolling("k", 1, 1_000, 1)], 5 * hour + 3).unwrap();
    assert!(s.reserve(&[rolling("k", 1, 1_000, 1)], 5 * hour + 4).is_err());
}
