use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::*;
use crate::ids::{ActionName, GrantId, JobId, MethodName, RuleId};
use serde_json::Map;

fn temp_path() -> PathBuf {
    std::env::temp_dir().join(format!("truenas-mcp-audit-{}.jsonl", uuid::Uuid::new_v4()))
}

fn record(args: &Map<String, Value>) -> AuditRecord {
    let (arg_keys, args_sha256) = AuditRecord::digest_args(args);
    AuditRecord {
        record_id: "0b6f3c1e-4a8d-4f7e-9c2a-1d5e6f7a8b9c".to_owned(),
        parent_record_id: None,
        time: UNIX_EPOCH + Duration::from_millis(1_704_067_200_250),
        request_id: "5f0c7a52-8d6e-4d0a-9a57-2f1f6c1d2b3e".to_owned(),
        phase: Phase::Refused,
        kind: RecordKind::Call,
        transport: AuditTransport::Stdio,
        grant: GrantId::new("stdio"),
        policy_sha256: sha256_hex(b"{}"),
        action: ActionName::new("dataset_delete"),
        method: Some(MethodName::new("pool.dataset.delete")),
        decision: Some(AuditDecision::Deny),
        rule: Some(RuleId::new("/tools/dataset_delete/require/args.name-regex")),
        reason: Some("`args.name` must match `^tank/`".to_owned()),
        arg_keys,
        args_sha256,
        outcome: Outcome::Denied,
        error: None,
        job_id: None,
        duration_ms: 0,
        approval: None,
        notes: Default::default(),
    }
}

#[test]
fn records_are_json_lines_without_argument_values() {
    let path = temp_path();
    let log = AuditLog::open(&path).unwrap();
    let args = json!({"recursive": true, "name": "secret-dataset-name"}).as_object().unwrap().clone();
    log.record_blocking(&record(&args)).unwrap();
    let mut ok = record(&Map::new());
    (ok.decision, ok.outcome, ok.rule, ok.reason, ok.job_id, ok.duration_ms) =
        (Some(AuditDecision::Allow), Outcome::Ok, None, None, Some(JobId(42)), 1234);
    log.clone().record_blocking(&ok).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(!text.contains("secret-dataset-name"), "an argument value leaked: {text}");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let mut first = lines[0].as_object().unwrap().clone();
    let record_hash = first.remove("record_hash").unwrap();
    assert_eq!(record_hash, sha256_hex(crate::jcs::to_string(&Value::Object(first.clone())).unwrap().as_bytes()));
    assert_eq!(
        Value::Object(first),
        json!({
            "seq": 1,
            "prev_hash": null,
            "record_id": "0b6f3c1e-4a8d-4f7e-9c2a-1d5e6f7a8b9c",
            "parent_record_id": null,
            "timestamp": "2024-01-01T00:00:00.25Z",
            "request_id": "5f0c7a52-8d6e-4d0a-9a57-2f1f6c1d2b3e",
            "phase": "refused",
            "action_type": "call",
            "transport": "stdio",
            "agent_id": "stdio",
            "policy_sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "action": "dataset_delete",
            "method": "pool.dataset.delete",
            "decision": "deny",
            "rule": "/tools/dataset_delete/require/args.name-regex",
            "reason": "`args.name` must match `^tank/`",
            "arg_keys": ["name", "recursive"],
            "args_sha256": AuditRecord::digest_args(&args).1,
            "outcome": "denied",
            "error": null,
            "job_id": null,
            "duration_ms": 0
        })
    );
    assert_eq!(
        (&lines[1]["decision"], &lines[1]["outcome"], &lines[1]["job_id"]),
        (&json!("allow"), &json!("ok"), &json!(42))
    );
}

#[test]
fn records_append_to_an_existing_log() {
    let path = temp_path();
    AuditLog::open(&path).unwrap().record_blocking(&record(&Map::new())).unwrap();
    AuditLog::open(&path).unwrap().record_blocking(&record(&Map::new())).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let seqs: Vec<u64> =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2], "the second log continued the first one's chain");
}

#[test]
fn the_args_digest_ignores_key_order_at_every_level() {
    let a = json!({"b": 1, "a": {"y": [1, {"q": 2, "p": 3}], "x": "s"}});
    let b = json!({"a": {"x": "s", "y": [1, {"p": 3, "q": 2}]}, "b": 1});
    let (keys, digest) = AuditRecord::digest_args(a.as_object().unwrap());
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(digest, AuditRecord::digest_args(b.as_object().unwrap()).1);
    assert_eq!(digest.len(), 64);
    let changed = json!({"b": 2, "a": {"y": [1, {"q": 2, "p": 3}], "x": "s"}});
    assert_ne!(digest, AuditRecord::digest_args(changed.as_object().unwrap()).1);
}

#[test]
fn the_digest_of_no_arguments_is_the_sha256_of_an_empty_object() {
    let (keys, digest) = AuditRecord::digest_args(&Map::new());
    assert!(keys.is_empty());
    // sha256("{}")
    assert_eq!(digest, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

#[test]
fn the_args_digest_is_the_sha256_of_the_jcs_form() {
    let args = json!({"b": 1.50, "a": "\u{20ac}", "c": [1e21, 0.000001]});
    let (_, digest) = AuditRecord::digest_args(args.as_object().unwrap());
    assert_eq!(digest, sha256_hex("{\"a\":\"\u{20ac}\",\"b\":1.5,\"c\":[1e+21,0.000001]}".as_bytes()));
}

#[test]
fn opening_an_impossible_path_is_an_error_naming_it() {
    let err = AuditLog::open("/nonexistent-dir/audit.jsonl").unwrap_err();
    assert!(err.to_string().starts_with("cannot open audit log `/nonexistent-dir/audit.jsonl`: "), "{err}");
}

#[test]
fn error_summaries_carry_names_and_errno_symbols_only() {
    let e = ErrorSummary::new("nas_error").with_errno(Some(2), Some("ENOENT"));
    assert_eq!(serde_json::to_value(&e).unwrap(), json!({"kind": "nas_error", "errno": 2, "errname": "ENOENT"}));
    // A hostile NAS's errname that is not a symbol is dropped, not recorded.
    let e = ErrorSummary::new("nas_error").with_errno(None, Some("leaked value: hunter2"));
    assert_eq!(serde_json::to_value(&e).unwrap(), json!({"kind": "nas_error"}));
}

#[tokio::test]
async fn a_record_that_cannot_be_written_is_an_error() {
    let Ok(log) = AuditLog::open("/dev/full") else { return };
    let mut rec = record(&Map::new());
    rec.phase = Phase::Decided;
    assert!(matches!(log.record(&rec).await, Err(AuditWriteError::Write { .. })));
    assert!(AuditLog::disabled().record(&rec).await.is_ok());
}

#[test]
fn rotation_keeps_one_chain_across_files() {
    let dir = std::env::temp_dir().join(format!("truenas-mcp-rotate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open_with(&path, AuditOptions { max_bytes: Some(1500), ..AuditOptions::default() }).unwrap();
    for _ in 0..7 {
        log.record_blocking(&record(&Map::new())).unwrap();
    }
    let files: Vec<PathBuf> =
        (1..10).rev().map(|n| rotated(&path, n)).filter(|p| p.exists()).chain([path.clone()]).collect();
    assert!(files.len() >= 3, "{files:?}");
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() <= 1500, "{file:?}");
    }
    let summary = crate::policy::verify_audit_chain(&files).unwrap();
    assert_eq!((summary.records, summary.seqs, summary.starts_after), (7, Some((1, 7)), None));
    // A restart continues after the newest record.
    AuditLog::open_with(&path, AuditOptions { max_bytes: Some(1500), ..AuditOptions::default() })
        .unwrap()
        .record_blocking(&record(&Map::new()))
        .unwrap();
    let last = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .last()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .unwrap();
    assert_eq!(last["seq"], 8);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_writers_on_one_file_share_one_chain() {
    let dir = std::env::temp_dir().join(format!("truenas-mcp-writers-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let options = AuditOptions { max_bytes: Some(2000), ..AuditOptions::default() };
    let (a, b) = (AuditLog::open_with(&path, options).unwrap(), AuditLog::open_with(&path, options).unwrap());
    for i in 0..9 {
        let log = if i % 3 == 0 { &b } else { &a };
        log.record_blocking(&record(&Map::new())).unwrap();
    }
    let files: Vec<PathBuf> =
        (1..20).rev().map(|n| rotated(&path, n)).filter(|p| p.exists()).chain([path.clone()]).collect();
    assert!(files.len() >= 2, "rotated: {files:?}");
    let summary = crate::policy::verify_audit_chain(&files).unwrap();
    assert_eq!((summary.records, summary.seqs), (9, Some((1, 9))));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh directory for one test, removed at the end.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("truenas-mcp-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0)
}

#[test]
fn a_deleted_log_refuses_every_kind_of_record() {
    let dir = temp_dir("audit-deleted");
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.record_blocking(&record(&Map::new())).unwrap();
    std::fs::remove_file(&path).unwrap();
    // A refusal skips the path lookup; the open file's link count still tells it was deleted.
    let refused = record(&Map::new());
    assert!(matches!(log.record_blocking(&refused), Err(AuditWriteError::Write { .. })));
    let mut decided = record(&Map::new());
    decided.phase = Phase::Decided;
    assert!(matches!(log.record_blocking(&decided), Err(AuditWriteError::Write { .. })));
    assert!(!path.exists(), "no new log is started quietly");
    // Deleted and created again: the new file is followed.
    std::fs::write(&path, "").unwrap();
    log.record_blocking(&refused).unwrap();
    assert_eq!(line_count(&path), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_log_renamed_away_is_followed_by_the_next_record_that_must_be_durable() {
    let dir = temp_dir("audit-renamed");
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.record_blocking(&record(&Map::new())).unwrap();
    // Renamed away by something else (logrotate's `create` mode) and a new file put in place.
    std::fs::rename(&path, rotated(&path, 1)).unwrap();
    std::fs::write(&path, "").unwrap();
    // A refusal (no sync, no path lookup) still goes to the renamed file, chained on.
    log.record_blocking(&record(&Map::new())).unwrap();
    assert_eq!((line_count(&rotated(&path, 1)), line_count(&path)), (2, 0));
    // A `decided` record (synced, the call waits for it) goes to the file at the path.
    let mut decided = record(&Map::new());
    decided.phase = Phase::Decided;
    log.record_blocking(&decided).unwrap();
    log.record_blocking(&record(&Map::new())).unwrap();
    assert_eq!((line_count(&rotated(&path, 1)), line_count(&path)), (2, 2));
    let summary = crate::policy::verify_audit_chain(&[rotated(&path, 1), path.clone()]).unwrap();
    assert_eq!((summary.records, summary.seqs), (4, Some((1, 4))));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_rotated_file_is_sealed_so_another_writer_follows_the_path() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("audit-sealed");
    let path = dir.join("audit.jsonl");
    // Room for two records, not three (a record's line is a little longer each time, with seq).
    AuditLog::open(&path).unwrap().record_blocking(&record(&Map::new())).unwrap();
    let one = std::fs::metadata(&path).unwrap().len();
    std::fs::remove_file(&path).unwrap();
    let options = AuditOptions { max_bytes: Some(one * 5 / 2), ..AuditOptions::default() };
    let (a, b) = (AuditLog::open_with(&path, options).unwrap(), AuditLog::open_with(&path, options).unwrap());
    a.record_blocking(&record(&Map::new())).unwrap();
    a.record_blocking(&record(&Map::new())).unwrap();
    // `b` catches up and rotates; `a` still holds the old file, whose length has not changed
    // since its own last record.
    b.record_blocking(&record(&Map::new())).unwrap();
    let mode = std::fs::metadata(rotated(&path, 1)).unwrap().permissions().mode();
    assert_eq!(mode & 0o222, 0, "the rotated file is sealed: {mode:o}");
    assert_ne!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o200, 0, "the live file is not");
    // A refusal from `a` skips the path lookup, but the seal sends it to the new file.
    a.record_blocking(&record(&Map::new())).unwrap();
    assert_eq!((line_count(&rotated(&path, 1)), line_count(&path)), (2, 2));
    let summary = crate::policy::verify_audit_chain(&[rotated(&path, 1), path.clone()]).unwrap();
    assert_eq!((summary.records, summary.seqs), (4, Some((1, 4))));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A log on a pipe nobody reads stands for a hung disk: once the pipe is full, every write
/// blocks. Records past the deadline fail (the one a call waits for refuses that call), the
/// abandoned `decided` record is never written, other records are written late, and the log
/// works again once the pipe drains.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_log_refuses_records_past_the_deadline_and_recovers() {
    use std::io::Read as _;
    let dir = temp_dir("hung");
    let fifo = dir.join("audit.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (drain, drained) = std::sync::mpsc::channel::<()>();
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        // Opens once the log opens its end; reads nothing until told, then everything.
        let mut pipe = std::fs::File::open(&reader_path).unwrap();
        drained.recv().unwrap();
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).unwrap();
        String::from_utf8(bytes).unwrap()
    });
    let options = AuditOptions { write_deadline: Duration::from_millis(300), ..AuditOptions::default() };
    let log = AuditLog::open_with(&fifo, options).unwrap();
    let rec = record(&Map::new());
    let mut written = 0;
    let stalled = loop {
        match log.record(&rec).await {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 10_000, "a pipe nobody reads never filled");
    };
    assert!(matches!(stalled, AuditWriteError::Stalled { .. }), "{stalled}");
    assert!(stalled.to_string().contains("did not finish a write within 0.3 s"), "{stalled}");
    let mut decided = record(&Map::new());
    decided.phase = Phase::Decided;
    decided.request_id = "abandoned-decided-record".into();
    assert!(matches!(log.record(&decided).await, Err(AuditWriteError::Stalled { .. })));
    let mut late = record(&Map::new());
    late.request_id = "late-refused-record".into();
    assert!(matches!(log.record(&late).await, Err(AuditWriteError::Stalled { .. })));

    drain.send(()).unwrap();
    let mut recovered = false;
    for _ in 0..200 {
        if log.record(&rec).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(recovered, "the log works again once the pipe drains");
    drop(log);
    let text = reader.join().unwrap();
    assert!(!text.contains("abandoned-decided-record"), "a decided record nobody waits for is not written");
    assert!(text.contains("late-refused-record"), "other records are written late, not lost");
    let _ = std::fs::remove_dir_all(&dir);
}
