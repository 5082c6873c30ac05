//! The audit log's writer thread: every record is appended (and, when it must be durable,
//! synced) on one dedicated thread, fed by a bounded queue, so no async worker ever blocks on
//! the file. The caller waits for its record's answer, up to a deadline; a disk that hangs
//! refuses the request instead of hanging it, and the server keeps answering.
//!
//! Group commit: the thread takes every record waiting in the queue at once (up to [`BATCH`])
//! and appends them with one write and at most one sync ([`Sink::write_batch`]), so calls in
//! flight together share the disk's cost instead of queueing for it one sync each. Nothing waits
//! to fill a batch: a record that finds the thread idle is written alone, at once. Each caller
//! still gets its own answer, and only once the write (and sync) holding its record is done.
//!
//! Fail closed, as before: a `decided` record is on disk (written and synced) when `write`
//! returns `Ok`, and the call is refused otherwise; a batch whose write fails refuses every
//! caller in it. A `decided` record whose caller gave up waiting before the writer reached it
//! is dropped: its call was refused, nothing was sent, so the record would claim a decision
//! that never led anywhere. Every other record is written late rather than lost. While the
//! writer has been stuck on one batch for longer than the deadline, new records fail at once
//! (no queue of callers each waiting out the deadline).
//!
//! Time is the runtime's (`tokio::time`): under a paused clock the deadline passes as soon as
//! the runtime is idle, since this thread does not hold the clock back as `spawn_blocking`
//! does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::audit::{AuditWriteError, Pending, Sink};

/// Records waiting for the writer at most; a caller beyond waits for room (within its deadline).
const QUEUE: usize = 1024;

/// The most records one write takes (a few hundred KiB at most).
const BATCH: usize = 256;

/// The handle to the writer thread. The thread ends when the last handle is dropped, after
/// writing what was queued.
#[derive(Debug)]
pub(super) struct Writer {
    sink: Arc<Sink>,
    queue: mpsc::Sender<Job>,
    deadline: Duration,
    /// When the writer started on its current batch, in ms after `epoch` (0: idle).
    busy_since: Arc<AtomicU64>,
    epoch: Instant,
}

/// One record to append, and where its answer goes.
struct Job {
    record: Pending,
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
    pub(super) async fn write(&self, record: Pending, droppable: bool) -> Result<(), AuditWriteError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { record, droppable, reply };
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

    /// Whether the writer has been on one batch for longer than the deadline.
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
        let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
        while let Some(first) = jobs.blocking_recv() {
            batch.push(first);
            while batch.len() < BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch.retain(|job| !(job.droppable && job.reply.is_closed()));
            if batch.is_empty() {
                continue;
            }
            let (records, replies): (Vec<Pending>, Vec<_>) = batch.drain(..).map(|j| (j.record, j.reply)).unzip();
            // Never 0 (idle) while busy, even in the first millisecond.
            self.busy_since.store(millis(self.epoch).max(1), Ordering::Release);
            let results = self.sink.write_batch(records);
            self.busy_since.store(0, Ordering::Release);
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
    }
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "audit_writer_tests.rs"]
mod tests;
