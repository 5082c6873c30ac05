//! Policy decision latency on the seed document (`policy/seed-vm-start.json`): the allow path
//! (rules pass, a limit slot is reserved), the deny-by-limit path, and the default-deny path.
//! The target is well under 5 µs per decision.

#![allow(clippy::panic, reason = "a bench whose policy does not load has nothing to measure")]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use truenas_mcp::ids::{ActionName, GrantId, MethodName, Risk};
use truenas_mcp::policy::{Decision, PolicyEngine, Request};

const SEED: &str = include_str!("../policy/seed-vm-start.json");

/// 2024-01-01T00:00:00Z.
const T0: u64 = 1_704_067_200;

fn seed() -> PolicyEngine {
    let catalog = match truenas_mcp::catalog::Catalog::builtin() {
        Ok(catalog) => catalog,
        Err(e) => panic!("the embedded catalog does not load: {e}"),
    };
    match PolicyEngine::load(SEED, &catalog) {
        Ok(engine) => engine,
        Err(e) => panic!("seed policy does not load: {e}"),
    }
}

fn args() -> Map<String, Value> {
    match json!({"id": 7, "overcommit": false}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn decisions(c: &mut Criterion) {
    let grant = GrantId::new("bench");
    let start = ActionName::new("vm_start");
    let start_method = MethodName::new("vm.start");
    let args = args();
    let vm_start = Request { grant: &grant, action: &start, method: &start_method, risk: Risk::Write, args: &args };

    // Allow: every call lands in a fresh minute, so the limit always has room; the permit is
    // dropped (committed) as the NAS client would after a call.
    let engine = seed();
    let mut minute = 0u64;
    c.bench_function("seed/allow vm_start (limit reserved)", |b| {
        b.iter(|| {
            minute += 1;
            let now = UNIX_EPOCH + Duration::from_secs(T0 + minute * 60);
            let decision = engine.authorize(black_box(&vm_start), now);
            assert!(matches!(decision, Decision::Allow(_)));
            decision
        })
    });

    // Deny by limit: the grant has used its 10 starts this minute.
    let engine = seed();
    let now: SystemTime = UNIX_EPOCH + Duration::from_secs(T0 + 30);
    for _ in 0..10 {
        drop(engine.authorize(&vm_start, now));
    }
    c.bench_function("seed/deny vm_start (limit reached)", |b| {
        b.iter(|| {
            let decision = engine.authorize(black_box(&vm_start), now);
            assert!(matches!(decision, Decision::Deny(_)));
            decision
        })
    });

    // Default deny: an action the seed document does not list.
    let delete = ActionName::new("vm_delete");
    let delete_method = MethodName::new("vm.delete");
    let vm_delete =
        Request { grant: &grant, action: &delete, method: &delete_method, risk: Risk::Destructive, args: &args };
    c.bench_function("seed/deny vm_delete (default deny)", |b| b.iter(|| engine.authorize(black_box(&vm_delete), now)));
}

criterion_group!(benches, decisions);
criterion_main!(benches);
