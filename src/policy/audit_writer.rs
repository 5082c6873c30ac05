//! The audit log's writer thread: every record is appended (and, when it must be durable,
//! synced) on one dedicated thread, fed by a bounded queue, so no async worker ever blocks on
//! the file. The caller waits for its record's answer, up to a deadline; a disk that hangs
//! refuses the request instead of hanging it, and the server keeps answering.
//!
//! Fail closed, as before: a `decided` record is on disk (written and synced) when `write`
//! returns `Ok`, and the call is refused otherwise. A `decided` record whose caller gave up
//! waiting before the writer reached it is dropped: its call was refused, nothing was sent, so
//! the record would claim a decision that never led anywhere. Every other record is written
//! late rather than lost. While the writer has been stuck on one record for longer than the
//! deadline, new records fail at once (no queue of callers each waiting out the deadline).
//!
//! Time is the runtime's (`tokio::time`): under a paused clock the deadline passes as soon as
//! the runtime is idle, since this thread does not hold the clock back as `spawn_blocking`
//! does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::audit::{AuditWriteError, Sink};

/// Records waiting for the writer at most; a caller beyond waits for room (within its deadline).
const QUEUE: usize = 1024;

/// The handle to the writer thread. The thread ends when the last handle is dropped, after
/// writing what was queued.
#[derive(Debug)]
pub(super) struct Writer {
    sink: Arc<Sink>,
    queue: mpsc::Sender<Job>,
    deadline: Duration,
    /// When the writer started on its current record, in ms after `epoch` (0: idle).
    busy_since: Arc<AtomicU64>,
    epoch: Instant,
}

/// One record to append, and where its answer goes.
struct Job {
    fields: Map<String, Value>,
    /// Synced to disk before the answer.
    sync: bool,
    /// Not written if nobody waits for it any more (a `decided` record past its deadline).
    droppable: bool,
    reply: oneshot::Sender<Result<(), AuditWriteError>>,
}

impl Writer {
    /// Starts the writer thread for `sink`.
    pub(super) fn start(sink: Arc<Sink>, deadline: Duration) -> std::io::Result<Writer> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let busy_since = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let thread = Thread { sink: Arc::clone(&sink), busy_since: Arc::clone(&busy_since), epoch };
        std::thread::Builder::new().name("audit-writer".into()).spawn(move || thread.run(jobs))?;
        Ok(Writer { sink, queue, deadline, busy_since, epoch })
    }

    /// The file, for writers outside an async runtime.
    pub(super) fn sink(&self) -> &Sink {
        &self.sink
    }

    /// Appends one record on the writer thread and waits for it, up to the deadline.
    pub(super) async fn write(
        &self,
        fields: Map<String, Value>,
        sync: bool,
        droppable: bool,
    ) -> Result<(), AuditWriteError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { fields, sync, droppable, reply };
        if self.stuck() {
            // Refused at once; a record that is not droppable is still queued, to be written
            // late (if there is room) when the disk comes back.
            if !droppable {
                drop(answer);
                let _ = self.queue.try_send(job);
            }
            return Err(self.stalled());
        }
        let wait = async {
            self.queue.send(job).await.map_err(|_| AuditWriteError::Stopped)?;
            answer.await.unwrap_or(Err(AuditWriteError::Stopped))
        };
        tokio::time::timeout(self.deadline, wait).await.unwrap_or_else(|_| Err(self.stalled()))
    }

    /// Whether the writer has been on one record for longer than the deadline.
    fn stuck(&self) -> bool {
        let since = self.busy_since.load(Ordering::Acquire);
        since != 0
            && millis(self.epoch).saturating_sub(since) > u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX)
    }

    fn stalled(&self) -> AuditWriteError {
        AuditWriteError::Stalled { path: self.sink.shown_path(), after: self.deadline }
    }
}

/// What the writer thread holds.
struct Thread {
    sink: Arc<Sink>,
    busy_since: Arc<AtomicU64>,
    epoch: Instant,
}

impl Thread {
    fn run(self, mut jobs: mpsc::Receiver<Job>) {
        while let Some(job) = jobs.blocking_recv() {
            if job.droppable && job.reply.is_closed() {
                continue;
            }
            // Never 0 (idle) while busy, even in the first millisecond.
            self.busy_since.store(millis(self.epoch).max(1), Ordering::Release);
            let result = self.sink.write(job.fields, job.sync);
            self.busy_since.store(0, Ordering::Release);
            let _ = job.reply.send(result);
        }
    }
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}
