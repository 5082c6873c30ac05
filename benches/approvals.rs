//! The cost of approval bookkeeping per call, on `policy/approve-destructive.json`: a decision
//! that needs approval, the pending record looked up or created, a person's answer, the
//! approved decision (limits reserved) and the record used, against a plain allowed decision.
//! The store is in memory: a file store adds one atomic write (fsync) per change, which the
//! disk decides. Prints the added cost per approved call.

#![allow(clippy::panic, reason = "a bench whose policy does not load has nothing to measure")]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use truenas_mcp::ids::{ActionName, GrantId, MethodName, Risk, RuleId};
use truenas_mcp::policy::{ArgScope, AuditRecord, Decision, PolicyEngine, Request};
use truenas_mcp::state::approvals::{ApprovalCall, ApprovalRequest, ApprovalStore, Binding, Lookup};

/// 2024-01-01T00:00:00Z.
const T0: u64 = 1_704_067_200;

fn engine() -> PolicyEngine {
    let catalog = match truenas_mcp::catalog::Catalog::builtin() {
        Ok(catalog) => catalog,
        Err(e) => panic!("the embedded catalog does not load: {e}"),
    };
    match PolicyEngine::builtin("approve-destructive", &catalog) {
        Some(engine) => engine,
        None => panic!("approve-destructive does not load"),
    }
}

fn args() -> Map<String, Value> {
    match json!({"id": 7, "zvols": false, "force": false}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// One approved call's bookkeeping, start to end; returns whether it was allowed.
fn approved_call(engine: &PolicyEngine, store: &ApprovalStore, req: &Request<'_>, now: SystemTime) -> bool {
    let Decision::NeedsApproval(need) = engine.authorize(req, now) else { return false };
    let (_, args_sha256) = AuditRecord::digest_args(req.args);
    let request = ApprovalRequest {
        call: ApprovalCall {
            binding: Binding {
                grant: req.grant.clone(),
                action: req.action.clone(),
                args_sha256,
                policy_sha256: engine.sha256().to_owned(),
            },
            arg_keys: req.args.keys().cloned().collect(),
            method: req.method.clone(),
            params: json!([7, {"zvols": false, "force": false}]),
            risk: req.risk,
            rule: RuleId::new(need.rule.as_str()),
        },
        ttl: need.ttl,
    };
    let Ok((Lookup::Pending { record, .. }, _)) = store.lookup_or_request(&request, now) else { return false };
    if store.approve(&record.id, "bench", now).is_err() {
        return false;
    }
    let Ok((Lookup::Approved(record), _)) = store.lookup_or_request(&request, now) else { return false };
    let Decision::Allow(permit) = engine.authorize_approved(req, ArgScope::default(), now) else { return false };
    drop(permit);
    store.consume(&record.id, now).is_ok()
}

fn approvals(c: &mut Criterion) {
    let grant = GrantId::new("bench");
    let args = args();
    let (delete, delete_method) = (ActionName::new("vm_delete"), MethodName::new("vm.delete"));
    let (start, start_method) = (ActionName::new("vm_start"), MethodName::new("vm.start"));
    let vm_delete =
        Request { grant: &grant, action: &delete, method: &delete_method, risk: Risk::Destructive, args: &args };
    let vm_start = Request { grant: &grant, action: &start, method: &start_method, risk: Risk::Write, args: &args };
    let engine = engine();
    let mut minute = 0u64;
    let mut next = || {
        minute += 1;
        UNIX_EPOCH + Duration::from_secs(T0 + minute * 60)
    };

    c.bench_function("approve-destructive/allow vm_start (no approval)", |b| {
        b.iter(|| matches!(engine.authorize(black_box(&vm_start), next()), Decision::Allow(_)))
    });
    c.bench_function("approve-destructive/vm_delete asked, approved, used (in-memory store)", |b| {
        b.iter_batched(
            ApprovalStore::in_memory,
            |store| assert!(approved_call(&engine, &store, black_box(&vm_delete), next())),
            BatchSize::SmallInput,
        )
    });

    // The added cost per approved call, measured plainly and printed.
    const N: u32 = 2_000;
    let started = Instant::now();
    for _ in 0..N {
        black_box(engine.authorize(&vm_start, next()));
    }
    let plain = started.elapsed() / N;
    let stores: Vec<_> = (0..N).map(|_| ApprovalStore::in_memory()).collect();
    let started = Instant::now();
    for store in &stores {
        black_box(approved_call(&engine, store, &vm_delete, next()));
    }
    let approved = started.elapsed() / N;
    println!(
        "approval bookkeeping: {:.2} µs per approved call vs {:.2} µs per plain decision: {:.2} µs added",
        approved.as_secs_f64() * 1e6,
        plain.as_secs_f64() * 1e6,
        approved.saturating_sub(plain).as_secs_f64() * 1e6
    );
}

criterion_group!(benches, approvals);
criterion_main!(benches);
