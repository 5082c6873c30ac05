//! Group commit through the writer thread: records queued while the writer is busy go out
//! together, every caller hears back only once its record is written (and synced), the chain
//! stays whole and in order, a failed write refuses every caller of its batch, and the deadline
//! still holds for records waiting behind a hung write.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::policy::AUDIT_WRITE_DEADLINE;
use crate::policy::audit_chain::unsealed;

/// A fresh directory for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("truenas-mcp-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn log(&self) -> PathBuf {
        self.0.join("audit.jsonl")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A record named by its request id; `sync` as a `decided` record is.
fn pending(request: &str, sync: bool) -> Pending {
    let fields = json!({"request_id": request, "phase": if sync { "decided" } else { "done" }, "action": "vm_list"});
    Pending { body: unsealed(fields.as_object().unwrap()).unwrap(), sync }
}

fn start(path: &Path, deadline: Duration) -> (Arc<Sink>, Arc<Writer>) {
    let sink = Arc::new(Sink::open(path.to_path_buf(), None).unwrap());
    let writer = Arc::new(Writer::start(Arc::clone(&sink), deadline).unwrap());
    (sink, writer)
}

/// Another open file on the log, holding its `flock`: the writer blocks on it with the batch it
/// took, as on a slow disk, while later records queue up behind it.
fn hold(path: &Path) -> std::fs::File {
    let file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.lock().unwrap();
    file
}

/// Waits (yielding, without a clock) until `ready` holds.
async fn until(mut ready: impl FnMut() -> bool) {
    for _ in 0..1_000_000 {
        if ready() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("never ready");
}

fn queued(writer: &Writer) -> usize {
    QUEUE - writer.queue.capacity()
}

fn request_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["request_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_queued_behind_a_busy_writer_go_out_in_one_write_and_every_caller_is_answered() {
    let dir = Dir::new("audit-group");
    std::fs::write(dir.log(), "").unwrap();
    let (sink, writer) = start(&dir.log(), AUDIT_WRITE_DEADLINE);
    let held = hold(&dir.log());
    let w = Arc::clone(&writer);
    let first = tokio::spawn(async move { w.write(pending("r0", true), true).await });
    // The writer took the first record and waits for the lock with it.
    until(|| writer.busy_since.load(Ordering::Acquire) != 0 && queued(&writer) == 0).await;
    let rest: Vec<_> = (1..32)
        .map(|i| {
            let w = Arc::clone(&writer);
            tokio::spawn(async move { w.write(pending(&format!("r{i}"), i % 2 == 0), i % 2 == 0).await })
        })
        .collect();
    until(|| queued(&writer) == 31).await;
    assert_eq!(sink.writes(), 0, "nothing is written while the file is held");
    held.unlock().unwrap();
    first.await.unwrap().unwrap();
    for call in rest {
        call.await.unwrap().unwrap();
    }
    assert_eq!(sink.writes(), 2, "the first record alone, then the 31 queued behind it at once");
    let summary = crate::policy::verify_audit_chain(&[dir.log()]).unwrap();
    assert_eq!((summary.records, summary.seqs), (32, Some((1, 32))));
    let ids = request_ids(&dir.log());
    assert_eq!(ids[0], "r0");
    let mut rest: Vec<String> = ids[1..].to_vec();
    rest.sort();
    let mut want: Vec<String> = (1..32).map(|i| format!("r{i}")).collect();
    want.sort();
    assert_eq!(rest, want, "every record once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_are_all_durable_and_the_chain_is_whole() {
    let dir = Dir::new("audit-concurrent");
    let (_sink, writer) = start(&dir.log(), AUDIT_WRITE_DEADLINE);
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let w = Arc::clone(&writer);
            tokio::spawn(async move {
                w.write(pending(&format!("d{i}"), true), true).await?;
                w.write(pending(&format!("o{i}"), false), false).await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let summary = crate::policy::verify_audit_chain(&[dir.log()]).unwrap();
    assert_eq!((summary.records, summary.seqs), (400, Some((1, 400))));
    // Each call's outcome follows its decision.
    let ids = request_ids(&dir.log());
    for i in 0..200 {
        let at = |id: String| ids.iter().position(|x| *x == id).unwrap();
        assert!(at(format!("d{i}")) < at(format!("o{i}")));
    }
}

#[test]
fn a_failed_write_fails_every_record_of_its_batch() {
    let Ok(sink) = Sink::open(PathBuf::from("/dev/full"), None) else { return };
    let results = sink.write_batch((0..5).map(|i| pending(&format!("r{i}"), i == 0)).collect());
    assert_eq!(results.len(), 5);
    for result in results {
        assert!(matches!(result, Err(AuditWriteError::Write { .. })), "{result:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_of_a_failing_log_are_all_refused() {
    let Ok(sink) = Sink::open(PathBuf::from("/dev/full"), None) else { return };
    let writer = Arc::new(Writer::start(Arc::new(sink), AUDIT_WRITE_DEADLINE).unwrap());
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let w = Arc::clone(&writer);
            tokio::spawn(async move { w.write(pending(&format!("r{i}"), true), true).await })
        })
        .collect();
    for call in calls {
        assert!(matches!(call.await.unwrap(), Err(AuditWriteError::Write { .. })));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_behind_a_hung_write_fail_at_the_deadline_and_an_abandoned_decision_is_never_written() {
    let dir = Dir::new("audit-hung-batch");
    std::fs::write(dir.log(), "").unwrap();
    let (_sink, writer) = start(&dir.log(), Duration::from_millis(300));
    let held = hold(&dir.log());
    let w = Arc::clone(&writer);
    let first = tokio::spawn(async move { w.write(pending("taken", false), false).await });
    until(|| writer.busy_since.load(Ordering::Acquire) != 0 && queued(&writer) == 0).await;
    let w = Arc::clone(&writer);
    let decided = tokio::spawn(async move { w.write(pending("abandoned", true), true).await });
    let w = Arc::clone(&writer);
    let done = tokio::spawn(async move { w.write(pending("late", false), false).await });
    for call in [first, decided, done] {
        assert!(matches!(call.await.unwrap(), Err(AuditWriteError::Stalled { .. })));
    }
    // Stuck past the deadline (it passes on the writer's clock, in whole milliseconds): refused
    // at once, without queueing behind it.
    for _ in 0..100 {
        if writer.stuck() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(writer.stuck());
    assert!(matches!(writer.write(pending("refused", true), true).await, Err(AuditWriteError::Stalled { .. })));
    held.unlock().unwrap();
    let mut recovered = false;
    for _ in 0..400 {
        if writer.write(pending("after", true), true).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(recovered, "the log works again once the file is let go");
    let ids = request_ids(&dir.log());
    assert_eq!(ids.first().map(String::as_str), Some("taken"), "{ids:?}");
    assert!(ids.contains(&"late".to_string()), "written late, not lost: {ids:?}");
    assert!(!ids.contains(&"abandoned".to_string()), "{ids:?}");
    assert!(!ids.contains(&"refused".to_string()), "{ids:?}");
    crate::policy::verify_audit_chain(&[dir.log()]).unwrap();
}
