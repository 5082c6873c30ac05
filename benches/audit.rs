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
//!
//! Then the two writers as the gateway uses them, on tmpfs: per call, an async caller awaits
//! its `decided` record (synced) and its `done` record through the audit writer thread, and
//! reserves a limit and awaits the counters' write (in place into a slot file, synced)
//! through the flusher thread; once one caller at a time (the latency a call waits for, thread
//! hand-offs included) and once with 16 callers at once (calls per second, with group commit);
//! the counters again on a real disk (the target directory's), and one save of the counters
//! timed both ways on that disk: the whole document renamed over the old one (before), and in
//! place into a slot file (now).

#![allow(clippy::panic, reason = "a bench that cannot write its temporary file has nothing to measure")]

use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use truenas_mcp::ids::{ActionName, GrantId, JobId, MethodName, RuleId};
use truenas_mcp::policy::{AuditDecision, AuditLog, AuditRecord, AuditTransport, Outcome, Phase, RecordKind};
use truenas_mcp::state::counters::{Charge, ChargeKind, CounterStore};
use truenas_mcp::state::counters_file::FileStore;
use truenas_mcp::state::{Backend as _, FileBackend};

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
    writers(&decided, &done, &dir, dir_name);
}

/// Callers at once in the throughput figures (the overhead bench's HTTP sessions).
const CALLERS: u32 = 16;

/// The audit writer thread and the counters' flusher as the gateway awaits them.
fn writers(decided: &AuditRecord, done: &AuditRecord, dir: &Path, dir_name: &str) {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => panic!("no runtime: {e}"),
    };
    let path = temp(dir, "writer.jsonl");
    let _ = std::fs::remove_file(&path);
    let log = match AuditLog::open(&path) {
        Ok(log) => log,
        Err(e) => panic!("cannot open {}: {e}", path.display()),
    };
    let audit_call = |log: AuditLog, decided: AuditRecord, done: AuditRecord, calls: u32| async move {
        for _ in 0..calls {
            if let Err(e) = log.record(&decided).await.and(log.record(&done).await) {
                panic!("append failed: {e}");
            }
        }
    };
    let state = temp(dir, "state");
    let store = std::sync::Arc::new(counters(&state));
    let counters_call = |store: std::sync::Arc<FileStore>, calls: u32| async move {
        let charge = [Charge {
            key: "bench".into(),
            amount: 1,
            kind: ChargeKind::Fixed { start_ms: 0, len_ms: u64::MAX / 2, max: u64::MAX },
        }];
        for _ in 0..calls {
            if let Err(e) = store.reserve(&charge, 1) {
                panic!("reserve refused: {e:?}");
            }
            if let Err(e) = store.persist().await {
                panic!("persist failed: {e}");
            }
        }
    };
    let n = 5_000;
    let one = |fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>| {
        let start = Instant::now();
        runtime.block_on(fut);
        start.elapsed() / n
    };
    let audit_one = one(Box::pin(audit_call(log.clone(), decided.clone(), done.clone(), n)));
    let writes_before = log.writes();
    let counters_one = one(Box::pin(counters_call(std::sync::Arc::clone(&store), n)));
    // The same on a real disk (the target directory's), where each save waits for the disk.
    let disk_state = temp(Path::new(env!("CARGO_TARGET_TMPDIR")), "state");
    let disk_store = std::sync::Arc::new(counters(&disk_state));
    let counters_disk = one_of(&runtime, 2_000, Box::pin(counters_call(std::sync::Arc::clone(&disk_store), 2_000)));
    let per = 1_000;
    let many = |make: &dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>| {
        let start = Instant::now();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..CALLERS).map(|_| tokio::spawn(make())).collect();
            for task in tasks {
                let _ = task.await;
            }
        });
        f64::from(CALLERS * per) / start.elapsed().as_secs_f64()
    };
    let audit_many = many(&|| Box::pin(audit_call(log.clone(), decided.clone(), done.clone(), per)));
    let shared = f64::from(2 * CALLERS * per) / (log.writes() - writes_before).max(1) as f64;
    let counters_many = many(&|| Box::pin(counters_call(std::sync::Arc::clone(&store), per)));
    println!(
        "writers as the gateway awaits them (in {dir_name}, async callers on 2 runtime workers):\
         \n  audit, decided + done through the writer thread: {:.1} µs per call one at a time, {:.0} calls/s with {CALLERS} at once ({:.1} records per write)\
         \n  counters, reserve + persist through the flusher: {:.1} µs per call one at a time, {:.0} calls/s with {CALLERS} at once\
         \n  counters on a real disk ({}): {:.1} µs per call one at a time\n",
        micros(audit_one),
        audit_many,
        shared,
        micros(counters_one),
        counters_many,
        disk_state.display(),
        micros(counters_disk),
    );
    drop(disk_store);
    let _ = std::fs::remove_dir_all(&disk_state);
    saves(Path::new(env!("CARGO_TARGET_TMPDIR")));
    drop(log);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir_all(&state);
}

/// Mean time per call of `calls` calls run by `fut` on `runtime`.
fn one_of(
    runtime: &tokio::runtime::Runtime,
    calls: u32,
    fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) -> Duration {
    let start = Instant::now();
    runtime.block_on(fut);
    start.elapsed() / calls
}

/// A file-kept counters store in `state`.
fn counters(state: &Path) -> FileStore {
    let _ = std::fs::remove_dir_all(state);
    let backend = match FileBackend::open(state) {
        Ok(b) => b,
        Err(e) => panic!("cannot use {}: {e}", state.display()),
    };
    match FileStore::open(state, Box::new(backend)) {
        Ok(store) => store,
        Err(e) => panic!("cannot open counters in {}: {e}", state.display()),
    }
}

/// One save of a counters document (100 keys) on the real disk under `dir`, both ways, timed
/// one by one: whole into a temporary file, synced, renamed over the old one, the directory
/// synced (the save before the slots, and still how approvals are saved), and in place into a
/// slot file, then `fdatasync` (the counters' save now).
fn saves(dir: &Path) {
    let state = temp(dir, "saves");
    let _ = std::fs::remove_dir_all(&state);
    let backend = match FileBackend::open(&state) {
        Ok(b) => b,
        Err(e) => panic!("cannot use {}: {e}", state.display()),
    };
    let keys: Map<String, Value> = (0..100)
        .map(|i| {
            (
                format!("/tools/vm_start/limits/starts#{i}"),
                json!({"fixed": {"start_ms": 0, "len_ms": 3_600_000, "used": i}}),
            )
        })
        .collect();
    let doc = json!({"format": 1, "seq": 100, "counters": keys}).to_string().into_bytes();
    let mut slot = vec![0; truenas_mcp::state::counters_slots::HEADER];
    slot.extend_from_slice(&doc);
    truenas_mcp::state::counters_slots::seal(1, &mut slot);
    let timed = |save: &dyn Fn() -> Result<(), truenas_mcp::state::StateError>| {
        let mut times: Vec<Duration> = (0..1_000)
            .map(|_| {
                let start = Instant::now();
                if let Err(e) = save() {
                    panic!("save failed: {e}");
                }
                start.elapsed()
            })
            .collect();
        times.sort();
        let at = |q: usize| micros(times.get(times.len() * q / 100).copied().unwrap_or_default());
        format!("p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs", at(50), at(90), at(99))
    };
    let renamed = timed(&|| backend.store("counters.json", &doc));
    let in_place = timed(&|| backend.overwrite("counters-a.slot", &slot));
    println!(
        "one counters save ({} bytes) on the real disk of {}:\n  temp file + fsync + rename + directory fsync (before): {renamed}\n  in place into a slot + fdatasync (now): {in_place}\n",
        doc.len(),
        dir.display(),
    );
    let _ = std::fs::remove_dir_all(&state);
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
