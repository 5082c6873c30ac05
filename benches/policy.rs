//! Policy decision latency on the seed document (`policy/seed-vm-start.json`): the allow path
//! (rules pass, a limit slot is reserved), the deny-by-limit path, and the default-deny path.
//! The target is well under 5 µs per decision. Then a 100-rule policy using every limit form,
//! with counters in memory, in a file store and (when Debian's `redis-server` is installed) in a
//! local Redis: criterion's figure, and p50/p99 printed from a loop of individually timed
//! decisions. Last, the Redis path on a small policy of four charges.

#![allow(clippy::panic, reason = "a bench whose policy does not load has nothing to measure")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use truenas_mcp::ids::{ActionName, GrantId, MethodName, Risk};
use truenas_mcp::policy::{Decision, PolicyEngine, Request};
use truenas_mcp::state::FileBackend;
use truenas_mcp::state::counters::CounterStore;
use truenas_mcp::state::counters_file::FileStore;
use truenas_mcp::state::counters_memory::MemoryStore;
use truenas_mcp::state::counters_redis::RedisStore;

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

/// A `redis-server` for the Redis figure on a free loopback port, without persistence; killed
/// on drop. `None` (the figure is skipped) when Debian's `redis-server` is not installed.
struct LocalRedis {
    child: std::process::Child,
    url: String,
}

impl LocalRedis {
    fn start() -> Option<LocalRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = LocalRedis { child, url: format!("redis://127.0.0.1:{port}/0") };
        let target = truenas_mcp::state::redis::RedisTarget::parse(&server.url).ok()?;
        let link = truenas_mcp::state::redis::RedisLink::new(target);
        for _ in 0..100 {
            if link.ping().is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 100-rule policy using every limit form: 20 actions that take an integer `id`, each with a
/// `require`, a calendar limit, a rolling limit keyed by `args.id`, a concurrency cap and a
/// cooldown (keyed) or an amount quota (weighed by `args.id`), plus a loop breaker.
fn hundred_rules(catalog: &truenas_mcp::catalog::Catalog) -> (String, Vec<(ActionName, MethodName, Risk)>) {
    let actions: Vec<_> = catalog
        .actions()
        .filter(|a| a.risk != Risk::Destructive && a.args.iter().any(|arg| arg.name == "id" && arg.required))
        .filter(|a| a.args.iter().filter(|arg| arg.required).count() == 1)
        .take(20)
        .collect();
    assert!(actions.len() == 20, "the catalog has {} actions with a lone `id`", actions.len());
    let mut tools = serde_json::Map::new();
    for (i, a) in actions.iter().enumerate() {
        let fourth = if i % 2 == 0 {
            json!({"counter": "cool", "x-cooldown": 1, "scope": "grant", "x-key": "args.id"})
        } else {
            json!({"counter": "amount", "x-rolling": "1h", "max": 1_000_000_000_u64, "scope": "server", "x-amount": "args.id"})
        };
        tools.insert(
            a.name.as_str().to_owned(),
            json!({
                "require": [{"path": "args.id", "op": "gte", "value": 0}],
                "limits": [
                    {"counter": "per-minute", "window": "minute", "max": 100_000, "scope": "grant"},
                    {"counter": "per-vm", "x-rolling": "10m", "max": 100_000, "scope": "grant", "x-key": "args.id"},
                    {"counter": "in-flight", "x-concurrency": 64, "scope": "server"},
                    fourth
                ]
            }),
        );
    }
    let doc = json!({"version": "1", "default": "deny", "x-loop-breaker": {"max": 100_000, "x-rolling": "2m"},
        "tools": tools});
    let calls = actions.iter().map(|a| (a.name.clone(), a.method.clone(), a.risk)).collect();
    (doc.to_string(), calls)
}

/// Decision latency with every limit form, with counters in memory and in a file store:
/// criterion's mean, and p50/p99 from a loop of individually timed decisions.
fn hundred_rule_decisions(c: &mut Criterion) {
    let catalog = match truenas_mcp::catalog::Catalog::builtin() {
        Ok(catalog) => catalog,
        Err(e) => panic!("the embedded catalog does not load: {e}"),
    };
    let (doc, calls) = hundred_rules(&catalog);
    let dir = std::env::temp_dir().join(format!("truenas-mcp-bench-{}", std::process::id()));
    let file_store = || -> Arc<dyn CounterStore> {
        let _ = std::fs::remove_dir_all(&dir);
        let backend = match FileBackend::open(&dir) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        match FileStore::open(&dir, Box::new(backend)) {
            Ok(store) => Arc::new(store),
            Err(e) => panic!("{e}"),
        }
    };
    let redis = LocalRedis::start();
    let redis_store = || -> Arc<dyn CounterStore> {
        let url = redis.as_ref().map_or("redis://127.0.0.1:1/0", |r| r.url.as_str());
        match truenas_mcp::state::redis::RedisTarget::parse(url) {
            Ok(target) => Arc::new(RedisStore::new(Arc::new(truenas_mcp::state::redis::RedisLink::new(target)))),
            Err(e) => panic!("{e}"),
        }
    };
    type MakeStore<'a> = Box<dyn Fn() -> Arc<dyn CounterStore> + 'a>;
    let mut stores: Vec<(&str, MakeStore<'_>, usize)> =
        vec![("memory", Box::new(|| Arc::new(MemoryStore::new())), 200_000), ("file", Box::new(file_store), 200_000)];
    match &redis {
        Some(_) => stores.push(("redis", Box::new(redis_store), 20_000)),
        None => println!("100 rules, redis store: skipped (no `redis-server` on PATH; apt-get install redis-server)"),
    }
    let grant = GrantId::new("bench");
    let args: Vec<Map<String, Value>> =
        (0..50).map(|id| json!({"id": id}).as_object().cloned().unwrap_or_default()).collect();
    for (name, make, rounds) in &stores {
        let engine = match PolicyEngine::load_with_store(&doc, &catalog, make()) {
            Ok(engine) => engine,
            Err(e) => panic!("the 100-rule policy does not load: {e}"),
        };
        let mut i = 0u64;
        let mut decide = || {
            i += 1;
            let (action, method, risk) = &calls[(i % 20) as usize];
            let req = Request { grant: &grant, action, method, risk: *risk, args: &args[((i / 20) % 50) as usize] };
            // A millisecond of policy time per decision: windows roll, cooldowns end.
            let now = UNIX_EPOCH + Duration::from_millis(T0 * 1_000 + i);
            let started = Instant::now();
            let decision = engine.authorize(black_box(&req), now);
            let took = started.elapsed();
            (decision, took)
        };
        if *name != "redis" {
            c.bench_function(&format!("100 rules/{name} store/decide"), |b| b.iter(|| decide().0));
        }
        let mut samples: Vec<Duration> = Vec::with_capacity(*rounds);
        let mut allowed = 0usize;
        for _ in 0..*rounds {
            let (decision, took) = decide();
            allowed += usize::from(matches!(decision, Decision::Allow(_)));
            drop(decision);
            samples.push(took);
        }
        samples.sort();
        let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        println!(
            "100 rules, {name} store: decision p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs over {} decisions ({} allowed)",
            pick(0.50).as_secs_f64() * 1e6,
            pick(0.99).as_secs_f64() * 1e6,
            pick(1.0).as_secs_f64() * 1e6,
            samples.len(),
            allowed
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Redis path beside the in-process one: one allowed decision on a policy with a calendar
/// limit, a rolling limit keyed by `args.id`, a concurrency cap and the loop breaker (four
/// charges, one Lua script round trip to a local `redis-server`), p50/p99 over individually
/// timed decisions, with counters in memory and in Redis.
fn redis_path(_c: &mut Criterion) {
    let catalog = match truenas_mcp::catalog::Catalog::builtin() {
        Ok(catalog) => catalog,
        Err(e) => panic!("the embedded catalog does not load: {e}"),
    };
    let doc = json!({"version": "1", "default": "deny",
    "x-loop-breaker": {"max": 1_000_000, "x-rolling": "1m"},
    "tools": {"vm_status": {"limits": [
        {"counter": "per-minute", "window": "minute", "max": 1_000_000, "scope": "grant"},
        {"counter": "per-vm", "x-rolling": "1m", "max": 1_000_000, "scope": "grant", "x-key": "args.id"},
        {"counter": "in-flight", "x-concurrency": 64, "scope": "server"}
    ]}}})
    .to_string();
    let Some(redis) = LocalRedis::start() else {
        println!("redis path: skipped (no `redis-server` on PATH; apt-get install redis-server)");
        return;
    };
    let redis_store = || -> Arc<dyn CounterStore> {
        match truenas_mcp::state::redis::RedisTarget::parse(&redis.url) {
            Ok(target) => Arc::new(RedisStore::new(Arc::new(truenas_mcp::state::redis::RedisLink::new(target)))),
            Err(e) => panic!("{e}"),
        }
    };
    type MakeStore<'a> = Box<dyn Fn() -> Arc<dyn CounterStore> + 'a>;
    let stores: [(&str, MakeStore<'_>, usize); 2] =
        [("memory", Box::new(|| Arc::new(MemoryStore::new())), 200_000), ("redis", Box::new(redis_store), 20_000)];
    let grant = GrantId::new("bench");
    let (action, method) = (ActionName::new("vm_status"), MethodName::new("vm.status"));
    let args: Vec<Map<String, Value>> =
        (0..50).map(|id| json!({"id": id}).as_object().cloned().unwrap_or_default()).collect();
    for (name, make, rounds) in &stores {
        let engine = match PolicyEngine::load_with_store(&doc, &catalog, make()) {
            Ok(engine) => engine,
            Err(e) => panic!("the bench policy does not load: {e}"),
        };
        let mut samples: Vec<Duration> = Vec::with_capacity(*rounds);
        for i in 0..*rounds {
            let req =
                Request { grant: &grant, action: &action, method: &method, risk: Risk::Read, args: &args[i % 50] };
            // 10 ms of policy time per decision: 6,000 calls a minute over 50 VMs, so each
            // rolling log holds about 120 entries (a rolling window costs O(entries in span)).
            let now = UNIX_EPOCH + Duration::from_millis(T0 * 1_000 + 10 * i as u64);
            let started = Instant::now();
            let decision = engine.authorize(black_box(&req), now);
            samples.push(started.elapsed());
            assert!(matches!(decision, Decision::Allow(_)), "{name}: every call has room");
            // The permit ends here (its lease released), outside the timed part.
            drop(decision);
        }
        samples.sort();
        let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        println!(
            "4 charges, {name} store: decision p50 {:.2} µs, p99 {:.2} µs over {} decisions",
            pick(0.50).as_secs_f64() * 1e6,
            pick(0.99).as_secs_f64() * 1e6,
            samples.len(),
        );
    }
}

criterion_group!(benches, decisions, hundred_rule_decisions, redis_path);
criterion_main!(benches);
