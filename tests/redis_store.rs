//! The Redis counter store and shared approvals against a real `redis-server`: every charge
//! kind, all-or-nothing reservations, no over-admission from many threads and two stores,
//! fail closed when Redis is down or hung, reconnection, and approvals used once across stores.

use std::sync::Arc;
use std::time::SystemTime;

use truenas_mcp::ids::{ActionName, GrantId, MethodName, Risk, RuleId};
use truenas_mcp::state::SharedDoc;
use truenas_mcp::state::approvals::{ApprovalCall, ApprovalRequest, ApprovalStore, Binding, Lookup, Status};
use truenas_mcp::state::counters::{Charge, ChargeKind, CounterStore, Refusal};
use truenas_mcp::state::counters_redis::RedisStore;
use truenas_mcp::state::redis::{RedisDoc, RedisLink, RedisTarget};

use crate::redis_server::RedisServer;

fn link(server: &RedisServer) -> Arc<RedisLink> {
    Arc::new(RedisLink::new(RedisTarget::parse(&server.url()).unwrap()))
}

fn store(server: &RedisServer) -> RedisStore {
    RedisStore::new(link(server))
}

fn fixed(key: &str, start_ms: u64, max: u64) -> Charge {
    Charge { key: key.into(), amount: 1, kind: ChargeKind::Fixed { start_ms, len_ms: 60_000, max } }
}

fn rolling(key: &str, amount: u64, len_ms: u64, max: u64) -> Charge {
    Charge { key: key.into(), amount, kind: ChargeKind::Rolling { len_ms, max } }
}

fn in_flight(key: &str, max: u64, lease_ms: u64) -> Charge {
    Charge { key: key.into(), amount: 1, kind: ChargeKind::InFlight { max, lease_ms } }
}

const T0: u64 = 1_800_000_000_000;

#[test]
fn fixed_window_counts_to_max_refunds_and_starts_over_in_the_next_window() {
    let server = RedisServer::start();
    let store = store(&server);
    let c = fixed("/tools/vm_start/limits/starts|*|", T0, 3);
    let tickets: Vec<_> = (0..3).map(|i| store.reserve(std::slice::from_ref(&c), T0 + i).unwrap()).collect();
    assert_eq!(
        store.reserve(std::slice::from_ref(&c), T0 + 10_000),
        Err(Refusal::Exceeded { index: 0, retry_after_ms: Some(50_000) })
    );
    assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 10_000).unwrap(), vec![0]);
    store.refund(&tickets[0]);
    assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 10_000).unwrap(), vec![1]);
    // A refund runs once per ticket, however often it is asked for.
    store.refund(&tickets[0]);
    assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 10_000).unwrap(), vec![1]);
    store.reserve(std::slice::from_ref(&c), T0 + 10_001).unwrap();
    assert!(store.reserve(std::slice::from_ref(&c), T0 + 10_002).is_err());
    // The next window has its own count.
    let next = fixed("/tools/vm_start/limits/starts|*|", T0 + 60_000, 3);
    assert_eq!(store.remaining(std::slice::from_ref(&next), T0 + 60_000).unwrap(), vec![3]);
    store.reserve(std::slice::from_ref(&next), T0 + 60_000).unwrap();
    // A window's key expires after the window (plus a minute), so Redis does not fill up.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("truenas-mcp:ctr:fixed:{T0}:/tools/vm_start/limits/starts|*|"))
        .query(&mut server.conn())
        .unwrap();
    assert!(ttl > 0, "the window's key has an expiry, got {ttl}");
}

#[test]
fn rolling_window_admits_max_in_any_span_and_says_when_the_oldest_leaves() {
    let server = RedisServer::start();
    let store = store(&server);
    let c = rolling("/tools/x/limits/r|g|", 1, 10_000, 2);
    store.reserve(std::slice::from_ref(&c), T0).unwrap();
    store.reserve(std::slice::from_ref(&c), T0 + 4_000).unwrap();
    assert_eq!(
        store.reserve(std::slice::from_ref(&c), T0 + 6_000),
        Err(Refusal::Exceeded { index: 0, retry_after_ms: Some(4_000) })
    );
    // At T0 + 10 s the first entry has left the span; the second has not.
    assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 10_000).unwrap(), vec![1]);
    store.reserve(std::slice::from_ref(&c), T0 + 10_000).unwrap();
    assert!(store.reserve(std::slice::from_ref(&c), T0 + 13_999).is_err());
    store.reserve(std::slice::from_ref(&c), T0 + 14_000).unwrap();
}

#[test]
fn rolling_amounts_add_up_and_an_amount_above_max_never_fits() {
    let server = RedisServer::start();
    let store = store(&server);
    let take = |amount, at| store.reserve(&[rolling("/tools/zvol/limits/bytes|g|", amount, 86_400_000, 100)], at);
    let first = take(60, T0).unwrap();
    take(30, T0 + 1).unwrap();
    assert_eq!(take(20, T0 + 2), Err(Refusal::Exceeded { index: 0, retry_after_ms: Some(86_400_000 - 2) }));
    assert_eq!(take(101, T0 + 2), Err(Refusal::Exceeded { index: 0, retry_after_ms: None }));
    take(10, T0 + 3).unwrap();
    store.refund(&first);
    take(60, T0 + 4).unwrap();
    assert!(take(1, T0 + 5).is_err());
}

#[test]
fn cooldown_is_one_per_span_per_key() {
    let server = RedisServer::start();
    let store = store(&server);
    let cool = |key: &str, at| store.reserve(&[rolling(key, 1, 300_000, 1)], at);
    cool("/tools/vm_restart/limits/cool|g|\"vm1\"", T0).unwrap();
    cool("/tools/vm_restart/limits/cool|g|\"vm2\"", T0).unwrap();
    assert_eq!(
        cool("/tools/vm_restart/limits/cool|g|\"vm1\"", T0 + 100_000),
        Err(Refusal::Exceeded { index: 0, retry_after_ms: Some(200_000) })
    );
    cool("/tools/vm_restart/limits/cool|g|\"vm1\"", T0 + 300_000).unwrap();
}

#[test]
fn in_flight_leases_end_on_release_or_expiry_and_counts_do_not() {
    let server = RedisServer::start();
    let store = store(&server);
    let lease = in_flight("/all_tools/limits/inflight|g|", 2, 30_000);
    let count = fixed("/all_tools/limits/calls|g|", T0, 10);
    let both = [count.clone(), lease.clone()];
    let a = store.reserve(&both, T0).unwrap();
    let _b = store.reserve(&both, T0 + 1).unwrap();
    assert_eq!(store.reserve(&both, T0 + 2), Err(Refusal::Exceeded { index: 1, retry_after_ms: Some(29_998) }));
    assert_eq!(store.remaining(&both, T0 + 2).unwrap(), vec![8, 0]);
    store.release(&a);
    // The lease is back; the count stays spent.
    assert_eq!(store.remaining(&both, T0 + 3).unwrap(), vec![8, 1]);
    let _c = store.reserve(&both, T0 + 3).unwrap();
    // A lease never released (its process died) ends when it expires.
    assert!(store.reserve(std::slice::from_ref(&lease), T0 + 4).is_err());
    store.reserve(std::slice::from_ref(&lease), T0 + 30_001).unwrap();
}

#[test]
fn a_reservation_takes_every_charge_or_none() {
    let server = RedisServer::start();
    let store = store(&server);
    let roomy = fixed("/tools/a/limits/roomy|*|", T0, 100);
    let full = rolling("/tools/a/limits/full|*|", 1, 60_000, 1);
    let lease = in_flight("/tools/a/limits/lease|*|", 5, 60_000);
    store.reserve(std::slice::from_ref(&full), T0).unwrap();
    let all = [roomy.clone(), full.clone(), lease.clone()];
    assert_eq!(store.reserve(&all, T0 + 1), Err(Refusal::Exceeded { index: 1, retry_after_ms: Some(59_999) }));
    assert_eq!(store.remaining(&all, T0 + 1).unwrap(), vec![100, 0, 5], "nothing was taken");
    // Of several charges that do not fit, the one that binds longest is named.
    let never = Charge { amount: 500, ..roomy.clone() };
    assert_eq!(
        store.reserve(&[full.clone(), never], T0 + 2),
        Err(Refusal::Exceeded { index: 1, retry_after_ms: None })
    );
    // A refund gives back every charge of the ticket.
    let t = store.reserve(&[roomy.clone(), lease.clone()], T0 + 3).unwrap();
    assert_eq!(store.remaining(&[roomy.clone(), lease.clone()], T0 + 3).unwrap(), vec![99, 4]);
    store.refund(&t);
    assert_eq!(store.remaining(&[roomy, lease], T0 + 3).unwrap(), vec![100, 5]);
}

#[test]
fn two_charges_on_one_counter_in_one_call_both_count() {
    let server = RedisServer::start();
    let store = store(&server);
    let c = fixed("/tools/a/limits/twice|*|", T0, 3);
    store.reserve(&[c.clone(), c.clone()], T0).unwrap();
    assert!(store.reserve(&[c.clone(), c.clone()], T0).is_err(), "2 + 2 > 3");
    store.reserve(std::slice::from_ref(&c), T0).unwrap();
}

#[test]
fn many_threads_on_two_stores_never_over_admit() {
    let server = RedisServer::start();
    // Two stores with their own connections: two processes, as far as Redis can tell.
    let stores = [Arc::new(store(&server)), Arc::new(store(&server))];
    let charges = vec![
        fixed("/all_tools/limits/calls|*|", T0, 1_000),
        rolling("/tools/vm_start/limits/r|*|", 1, 600_000, 37),
        in_flight("/all_tools/limits/inflight|*|", 1_000, 600_000),
    ];
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let charges = charges.clone();
            std::thread::spawn(move || (0..20).filter(|j| store.reserve(&charges, T0 + j).is_ok()).count())
        })
        .collect();
    let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(admitted, 37, "exactly max admitted of 320 attempts");
    assert_eq!(stores[0].remaining(&charges, T0 + 100).unwrap(), vec![1_000 - 37, 0, 1_000 - 37]);
}

#[test]
fn redis_down_is_unavailable_and_the_next_call_reconnects() {
    let mut server = RedisServer::start();
    let store = store(&server);
    let c = fixed("/tools/a/limits/n|*|", T0, 10);
    store.reserve(std::slice::from_ref(&c), T0).unwrap();
    server.kill();
    match store.reserve(std::slice::from_ref(&c), T0 + 1) {
        Err(Refusal::Unavailable(reason)) => assert!(reason.contains("unavailable"), "{reason}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(matches!(store.remaining(std::slice::from_ref(&c), T0 + 1), Err(Refusal::Unavailable(_))));
    // Refund and release with Redis gone neither panic nor hang.
    let ticket = truenas_mcp::state::counters::Ticket { id: "t".into(), at_ms: T0, charges: vec![c.clone()] };
    store.refund(&ticket);
    store.release(&ticket);
    server.restart();
    // A new, empty Redis on the same address: the store reconnects (and reloads its scripts).
    store.reserve(std::slice::from_ref(&c), T0 + 2).unwrap();
    assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 2).unwrap(), vec![9]);
    // Restarted between two calls: the kept connection is dead, and the call still goes through
    // on a fresh one.
    server.restart();
    store.reserve(std::slice::from_ref(&c), T0 + 3).unwrap();
    assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 3).unwrap(), vec![9]);
}

#[test]
fn a_hung_redis_times_out_as_unavailable() {
    let server = RedisServer::start();
    let store = store(&server);
    let c = fixed("/tools/a/limits/n|*|", T0, 10);
    store.reserve(std::slice::from_ref(&c), T0).unwrap();
    server.signal("STOP");
    let result = store.reserve(std::slice::from_ref(&c), T0 + 1);
    server.signal("CONT");
    assert!(matches!(result, Err(Refusal::Unavailable(_))), "{result:?}");
    // Once Redis answers again, a later call goes through on a fresh connection. The first try
    // may still be refused (fail closed) when a signal interrupts its connect (EINTR), so allow a
    // few bounded tries.
    let recovered = (0..20).any(|i| {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        store.reserve(std::slice::from_ref(&c), T0 + 2).is_ok()
    });
    assert!(recovered, "the store never recovered after Redis resumed");
}

#[test]
fn a_password_in_the_url_is_used_and_never_shown() {
    let server = RedisServer::start_with(Some("hunter2-redis-pw"));
    let target = RedisTarget::parse(&server.url()).unwrap();
    assert!(!target.shown().contains("hunter2"), "{}", target.shown());
    assert!(!format!("{target:?}").contains("hunter2"));
    let good = RedisStore::new(Arc::new(RedisLink::new(target)));
    good.reserve(&[fixed("/k|*|", T0, 1)], T0).unwrap();
    let wrong = server.url().replace("hunter2-redis-pw", "wrong-password-xyz");
    let bad = RedisStore::new(Arc::new(RedisLink::new(RedisTarget::parse(&wrong).unwrap())));
    match bad.reserve(&[fixed("/k|*|", T0, 1)], T0) {
        Err(Refusal::Unavailable(reason)) => {
            assert!(!reason.contains("wrong-password-xyz") && !reason.contains("hunter2"), "{reason}");
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

fn request(tag: &str) -> ApprovalRequest {
    ApprovalRequest {
        call: ApprovalCall {
            binding: Binding {
                grant: GrantId::new("g"),
                action: ActionName::new("vm_delete"),
                args_sha256: format!("sha-{tag}"),
                policy_sha256: "p".into(),
            },
            arg_keys: vec!["id".into()],
            method: MethodName::new("vm.delete"),
            params: serde_json::json!([1]),
            risk: Risk::Destructive,
            rule: RuleId::new("/tools/vm_delete"),
        },
        ttl: std::time::Duration::from_secs(600),
    }
}

fn shared_approvals(server: &RedisServer) -> Arc<ApprovalStore> {
    ApprovalStore::open_shared(Box::new(RedisDoc::new(link(server), "approvals"))).unwrap()
}

#[test]
fn an_approval_asked_in_one_store_is_answered_in_another_and_used_once() {
    let server = RedisServer::start();
    let (one, two, three) = (shared_approvals(&server), shared_approvals(&server), shared_approvals(&server));
    let now = SystemTime::now();
    let Lookup::Pending { record, created: true } = one.lookup_or_request(&request("a"), now).unwrap().0 else {
        panic!("expected a new pending approval")
    };
    // The same call in another process finds the same pending record.
    let (again, _) = two.lookup_or_request(&request("a"), now).unwrap();
    assert_eq!(again, Lookup::Pending { record: record.clone(), created: false });
    assert_eq!(three.get(&record.id).unwrap().status, Status::Pending);
    two.approve(&record.id, "alice", now).unwrap();
    assert!(matches!(one.lookup_or_request(&request("a"), now).unwrap().0, Lookup::Approved(_)));
    // Every process tries to use it at once: exactly one succeeds.
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let store = Arc::clone([&one, &two, &three][i % 3]);
            let id = record.id.clone();
            std::thread::spawn(move || store.consume(&id, SystemTime::now()).is_ok())
        })
        .collect();
    let used = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
    assert_eq!(used, 1);
    assert_eq!(three.get(&record.id).unwrap().status, Status::Used);
    assert_eq!(one.list().len(), 1);
    // A new store (a restarted process) sees the same records.
    assert_eq!(shared_approvals(&server).get(&record.id).unwrap().status, Status::Used);
}

#[test]
fn concurrent_requests_from_many_stores_lose_no_record() {
    let server = RedisServer::start();
    let stores: Vec<_> = (0..3).map(|_| shared_approvals(&server)).collect();
    let handles: Vec<_> = (0..30)
        .map(|i| {
            let store = Arc::clone(&stores[i % 3]);
            std::thread::spawn(move || store.lookup_or_request(&request(&i.to_string()), SystemTime::now()).is_ok())
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
    assert_eq!(stores[0].list().len(), 30);
}

#[test]
fn shared_approvals_fail_closed_when_redis_is_down() {
    let mut server = RedisServer::start();
    let store = shared_approvals(&server);
    let doc = RedisDoc::new(link(&server), "approvals");
    let Lookup::Pending { record, .. } = store.lookup_or_request(&request("x"), SystemTime::now()).unwrap().0 else {
        panic!("pending")
    };
    store.approve(&record.id, "alice", SystemTime::now()).unwrap();
    server.kill();
    assert!(store.consume(&record.id, SystemTime::now()).is_err(), "cannot be used while Redis is down");
    assert!(store.get(&record.id).is_none());
    assert!(doc.load().is_err());
}

#[test]
fn a_garbled_shared_document_is_refused_and_an_unreachable_one_opens_closed() {
    let mut server = RedisServer::start();
    let _: () = redis::cmd("HSET")
        .arg("truenas-mcp:doc:approvals")
        .arg("v")
        .arg(3)
        .arg("doc")
        .arg("{not json")
        .query(&mut server.conn())
        .unwrap();
    let garbled = ApprovalStore::open_shared(Box::new(RedisDoc::new(link(&server), "approvals")));
    assert!(garbled.is_err(), "a server must not start forgetting which approvals were used");
    let doc = RedisDoc::new(link(&server), "approvals");
    server.kill();
    // Redis down at start: the store opens, and nothing can be asked for, answered or used.
    let store = ApprovalStore::open_shared(Box::new(doc)).unwrap();
    assert!(store.lookup_or_request(&request("y"), SystemTime::now()).is_err());
    assert!(store.list().is_empty());
}

#[test]
fn the_store_works_from_either_runtime_flavour_and_from_blocking_threads() {
    let server = RedisServer::start();
    let store = Arc::new(store(&server));
    let c = fixed("/tools/a/limits/rt|*|", T0, 10);
    // A current-thread runtime (where block_in_place would panic) runs it in place.
    let current = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    current.block_on(async { store.reserve(std::slice::from_ref(&c), T0).unwrap() });
    // A multi-thread runtime's worker hands its other tasks over while Redis answers.
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (s, c2) = (Arc::clone(&store), c.clone());
    multi.block_on(async move {
        tokio::spawn(async move { s.reserve(std::slice::from_ref(&c2), T0 + 1).unwrap() }).await.unwrap();
        let (s, c3) = (Arc::clone(&store), c.clone());
        tokio::task::spawn_blocking(move || s.reserve(std::slice::from_ref(&c3), T0 + 2).unwrap()).await.unwrap();
        assert_eq!(store.remaining(std::slice::from_ref(&c), T0 + 3).unwrap(), vec![7]);
    });
}
