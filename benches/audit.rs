//! Audit append with hashing: what the hash chain adds per record. Appends a typical `done`
//! record to a temporary file through [`AuditLog`] (canonical JCS form, `record_hash`, line
//! hash, write, flush; no fsync, which only `decided` records pay and which is disk, not
//! hashing), against the same record written the old way (`serde_json` line, write, flush).
//! Prints the added cost per record; the target (issue 8) is under 20 µs per call for approval
//! bookkeeping and audit hashing together.

#![allow(clippy::panic, reason = "a bench that cannot write its temporary file has nothing to measure")]

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use truenas_mcp::ids::{ActionName, GrantId, JobId, MethodName, RuleId};
use truenas_mcp::policy::{AuditDecision, AuditLog, AuditRecord, AuditTransport, Outcome, Phase, RecordKind};

fn args() -> Map<String, Value> {
    match json!({"id": 7, "force": false, "overcommit": false, "options": {"recursive": true, "note": "nightly"}}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn record(args: &Map<String, Value>) -> AuditRecord {
    let (arg_keys, args_sha256) = AuditRecord::digest_args(args);
    AuditRecord {
        record_id: uuid_like(),
        parent_record_id: Some(uuid_like()),
        time: SystemTime::now(),
        request_id: uuid_like(),
        phase: Phase::Done,
        kind: RecordKind::Call,
        transport: AuditTransport::Stdio,
        grant: GrantId::new("stdio"),
        policy_sha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".into(),
        action: ActionName::new("vm_stop"),
        method: Some(MethodName::new("vm.stop")),
        decision: Some(AuditDecision::Allow),
        rule: Some(RuleId::new("/tools/vm_stop")),
        reason: None,
        arg_keys,
        args_sha256,
        outcome: Outcome::Ok,
        error: None,
        job_id: Some(JobId(4242)),
        duration_ms: 12,
        approval: None,
        notes: Default::default(),
    }
}

fn uuid_like() -> String {
    "5f0c7a52-8d6e-4d0a-9a57-2f1f6c1d2b3e".to_string()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("truenas-mcp-bench-{}-{name}", std::process::id()))
}

/// Mean time per call of `f` over `n` calls.
fn mean(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn appends(c: &mut Criterion) {
    let args = args();
    let rec = record(&args);

    let chained_path = temp("chained.jsonl");
    let _ = std::fs::remove_file(&chained_path);
    let log = match AuditLog::open(&chained_path) {
        Ok(log) => log,
        Err(e) => panic!("cannot open {}: {e}", chained_path.display()),
    };
    let plain_path = temp("plain.jsonl");
    let mut plain = match std::fs::OpenOptions::new().create(true).append(true).open(&plain_path) {
        Ok(f) => f,
        Err(e) => panic!("cannot open {}: {e}", plain_path.display()),
    };
    let mut write_plain = || {
        let mut line = serde_json::to_vec(black_box(&rec)).unwrap_or_default();
        line.push(b'\n');
        let _ = plain.write_all(&line).and_then(|()| plain.flush());
    };
    let mut write_chained = || {
        if let Err(e) = log.record_blocking(black_box(&rec)) {
            panic!("append failed: {e}");
        }
    };

    c.bench_function("audit/args digest (JCS + SHA-256)", |b| b.iter(|| AuditRecord::digest_args(black_box(&args))));
    c.bench_function("audit/append plain line (before the chain)", |b| b.iter(&mut write_plain));
    c.bench_function("audit/append chained line (JCS, 2 x SHA-256)", |b| b.iter(&mut write_chained));

    // The added cost, measured the same way for both, printed for the README.
    let n = 20_000;
    let (plain_t, chained_t) = (mean(n, &mut write_plain), mean(n, &mut write_chained));
    let digest_t = mean(n, || drop(black_box(AuditRecord::digest_args(black_box(&args)))));
    println!(
        "\naudit append: plain {:.2} µs, chained {:.2} µs: the hash chain adds {:.2} µs per record \
         (args digest {:.2} µs; target: under 20 µs per call)\n",
        plain_t.as_secs_f64() * 1e6,
        chained_t.as_secs_f64() * 1e6,
        (chained_t.saturating_sub(plain_t)).as_secs_f64() * 1e6,
        digest_t.as_secs_f64() * 1e6,
    );
    let _ = std::fs::remove_file(&chained_path);
    let _ = std::fs::remove_file(&plain_path);
}

criterion_group!(benches, appends);
criterion_main!(benches);
