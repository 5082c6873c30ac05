//! Audit append with hashing: what the hash chain adds to a call. An allowed call writes two
//! records through [`AuditLog`]: `decided` (synced to disk before the NAS is called) and `done`.
//! Each is put in canonical JCS form, hashed twice (`record_hash`, line hash), written and
//! flushed, under the file lock, after checking that the file is still the log's.
//!
//! Measured against the same two records written the old way (a `serde_json` line, write,
//! flush, and a sync for `decided`), so the difference is the chain's CPU cost. The fsync is
//! disk I/O, not CPU: the pairs are written in a tmpfs directory (`/dev/shm` when there is one),
//! where a sync is only its system call, and the sync of one line on the disk of the temporary
//! directory is measured apart and printed beside them. The target (issue 8) is under 20 µs
//! added per call.

#![allow(clippy::panic, reason = "a bench that cannot write its temporary file has nothing to measure")]

use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
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

/// The `done` record of an allowed `vm_stop`.
fn done(args: &Map<String, Value>) -> AuditRecord {
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

/// The `decided` record of the same call.
fn decided(args: &Map<String, Value>) -> AuditRecord {
    AuditRecord {
        parent_record_id: None,
        phase: Phase::Decided,
        outcome: Outcome::Pending,
        job_id: None,
        duration_ms: 0,
        ..done(args)
    }
}

fn uuid_like() -> String {
    "5f0c7a52-8d6e-4d0a-9a57-2f1f6c1d2b3e".to_string()
}

/// Where the pairs are written: tmpfs, where a sync costs only its system call.
fn cpu_dir() -> (PathBuf, &'static str) {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { (shm.to_path_buf(), "tmpfs /dev/shm") } else { (std::env::temp_dir(), "the temporary directory") }
}

fn temp(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("truenas-mcp-bench-{}-{name}", std::process::id()))
}

fn open_append(path: &Path) -> std::fs::File {
    match std::fs::OpenOptions::new().create(true).append(true).open(path) {
        Ok(f) => f,
        Err(e) => panic!("cannot open {}: {e}", path.display()),
    }
}

/// Mean time per call of `f` over `n` calls.
fn mean(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn appends(c: &mut Criterion) {
    let args = args();
    let (decided, done) = (decided(&args), done(&args));
    let (dir, dir_name) = cpu_dir();

    let chained_path = temp(&dir, "chained.jsonl");
    let _ = std::fs::remove_file(&chained_path);
    let log = match AuditLog::open(&chained_path) {
        Ok(log) => log,
        Err(e) => panic!("cannot open {}: {e}", chained_path.display()),
    };
    let plain_path = temp(&dir, "plain.jsonl");
    let mut plain = open_append(&plain_path);
    // The old way: a `serde_json` line, written and flushed; `decided` also synced.
    let mut write_plain = |rec: &AuditRecord| {
        let mut line = serde_json::to_vec(black_box(rec)).unwrap_or_default();
        line.push(b'\n');
        let _ = plain.write_all(&line).and_then(|()| plain.flush());
        if rec.phase == Phase::Decided {
            let _ = plain.sync_data();
        }
    };
    let write_chained = |rec: &AuditRecord| {
        if let Err(e) = log.record_blocking(black_box(rec)) {
            panic!("append failed: {e}");
        }
    };

    c.bench_function("audit/args digest (JCS + SHA-256)", |b| b.iter(|| AuditRecord::digest_args(black_box(&args))));
    c.bench_function("audit/append plain done line (before the chain)", |b| b.iter(|| write_plain(&done)));
    c.bench_function("audit/append chained done line (JCS, 2 x SHA-256)", |b| b.iter(|| write_chained(&done)));
    c.bench_function("audit/call: decided + done, chained (tmpfs sync)", |b| {
        b.iter(|| {
            write_chained(&decided);
            write_chained(&done);
        })
    });

    // The figures for the README, measured the same way for both.
    let n = 20_000;
    let plain_done = mean(n, || write_plain(&done));
    let chained_done = mean(n, || write_chained(&done));
    let plain_call = mean(n, || {
        write_plain(&decided);
        write_plain(&done);
    });
    let chained_call = mean(n, || {
        write_chained(&decided);
        write_chained(&done);
    });
    let digest_t = mean(n, || drop(black_box(AuditRecord::digest_args(black_box(&args)))));
    let fsync_t = disk_sync();
    println!(
        "\naudit append, per record (done): plain {:.2} µs, chained {:.2} µs: the chain adds {:.2} µs (args digest {:.2} µs)\
         \naudit append, per allowed call (decided + done, in {dir_name}, where a sync is only its system call): \
         plain {:.2} µs, chained {:.2} µs: the chain adds {:.2} µs per call (target: under 20 µs)\
         \nnot counted above: the decided record's fsync, disk I/O the call waits for: {}\n",
        micros(plain_done),
        micros(chained_done),
        micros(chained_done.saturating_sub(plain_done)),
        micros(digest_t),
        micros(plain_call),
        micros(chained_call),
        micros(chained_call.saturating_sub(plain_call)),
        match fsync_t {
            Some(t) => format!("{:.0} µs per sync of one line in {}", micros(t), std::env::temp_dir().display()),
            None => "not measured (the temporary directory cannot be written)".to_string(),
        },
    );
    let _ = std::fs::remove_file(&chained_path);
    let _ = std::fs::remove_file(&plain_path);
}

/// Mean time of appending one line and syncing it, on the temporary directory's disk.
fn disk_sync() -> Option<Duration> {
    let path = temp(&std::env::temp_dir(), "sync.jsonl");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
    let line = [b'x'; 700];
    let t = mean(200, || {
        let _ = file.write_all(&line).and_then(|()| file.sync_data());
    });
    let _ = std::fs::remove_file(&path);
    Some(t)
}

criterion_group!(benches, appends);
criterion_main!(benches);
