//! [`FileStore`]: the memory store, kept on disk in the state directory so that counts,
//! cooldowns and the loop breaker's log survive a restart (leases do not: calls in flight died
//! with the process). Each save is the whole table, written in place into the older of two slot
//! files (format and crash safety: [`super::counters_slots`]); a `counters.json` of an older
//! version is read when no slot holds a save, and left as it is (never read again once a slot
//! does).
//!
//! Reservations change memory only. A flusher thread writes the whole table when asked, and one
//! write covers every reservation made before it (group commit), so a burst of calls costs one
//! write, never a blocking write on an async worker; a reservation that takes only leases
//! (which are not written) changes nothing on disk and asks for no write.
//! [`CounterStore::persist`] resolves once the reservations made before it are on disk; the
//! gateway awaits it before any call goes to the NAS. It waits at most
//! [`PERSIST_DEADLINE`]: a write that hangs (a hung disk) refuses the call instead of hanging it,
//! and while the flusher has been stuck longer than that, calls are refused at once.
//!
//! One process owns a state directory's counters at a time: `counters.lock` is held (an
//! advisory lock) while the store lives, so two servers cannot overwrite each other's counts.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::counters::{Charge, ChargeKind, CounterStore, Persisting, Refusal, Ticket};
use super::counters_memory::{Book, Entry, MAX_KEYS, MemoryStore};
use super::counters_slots::{self, HEADER, SLOTS, Slot};
use super::{Backend, StateError};

/// The state document that held the counters before the slot files (read to migrate).
pub const COUNTERS_DOC: &str = "counters.json";
/// The lock file that says which process owns the counters.
pub const COUNTERS_LOCK: &str = "counters.lock";
/// The format of the document saved (in a slot, or as [`COUNTERS_DOC`]).
const FORMAT: u64 = 1;

/// How long [`FileStore::open`] waits for another process to let go of the counters (a
/// server restarting while the old one exits).
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// How long [`CounterStore::persist`] waits for the counters to reach the disk before the call
/// that needs them is refused.
pub const PERSIST_DEADLINE: Duration = Duration::from_secs(5);

/// Counters in memory, written to the state directory.
#[derive(Debug)]
pub struct FileStore {
    memory: Arc<MemoryStore>,
    /// Bumped by every reservation, after it is made.
    made: Arc<AtomicU64>,
    /// Wakes the flusher.
    wake: mpsc::Sender<()>,
    /// What the flusher has written: the last generation on disk, and the error of the last
    /// write if it failed.
    written: watch::Receiver<Flushed>,
    /// How long `persist` waits for the flusher.
    deadline: Duration,
    /// When the flusher started its current write, in ms after `epoch` (0: idle).
    busy_since: Arc<AtomicU64>,
    epoch: Instant,
    /// Held while the store lives: the advisory lock on `counters.lock`.
    _lock: File,
}

#[derive(Debug, Clone, Default)]
struct Flushed {
    generation: u64,
    error: Option<String>,
}

/// The document on disk.
#[derive(serde::Deserialize)]
struct Document {
    format: u64,
    #[serde(flatten)]
    book: Book,
}

/// The same document as written, borrowing the table under its lock instead of copying it;
/// leases are left out.
#[derive(serde::Serialize)]
struct Saving<'a> {
    format: u64,
    seq: u64,
    counters: Kept<'a>,
}

/// The counters that outlive the process: every entry but leases.
struct Kept<'a>(&'a HashMap<String, Entry>);

impl serde::Serialize for Kept<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().filter(|(_, e)| !matches!(e, Entry::InFlight { .. })))
    }
}

/// Why the counters of a state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    /// Another live process holds the counters of this directory.
    #[error(
        "the counters in `{0}` are in use by another truenas-mcp process; give each server its own --state-dir, or share counters with --state redis://"
    )]
    Locked(String),
    /// The directory, the lock or the document cannot be used.
    #[error("{0}")]
    State(#[from] StateError),
    /// The document is not what this program writes: refusing to start rather than forget counts.
    #[error("`{path}` is corrupt ({reason}); move it aside to start with empty counters")]
    Corrupt {
        /// The document.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Neither slot file holds a whole save: refusing to start rather than forget counts.
    #[error(
        "the saved counters in `{dir}` are corrupt ({reasons}); move `counters-a.slot` and `counters-b.slot` aside to start with empty counters"
    )]
    CorruptSlots {
        /// The state directory.
        dir: String,
        /// What is wrong with each slot file.
        reasons: String,
    },
}

/// What the counters' files held at start: the table, and the slot holding its save with the
/// save's number (none before the first save in slots).
struct Loaded {
    book: Book,
    newest: Option<(usize, u64)>,
}

impl FileStore {
    /// Opens the counters of the state directory `dir` through `backend` (which writes in
    /// `dir`): takes the lock, reads the newest save (from the slot files, else from an older
    /// version's `counters.json`), and starts the flusher.
    pub fn open(dir: &Path, backend: Box<dyn Backend>) -> Result<FileStore, FileStoreError> {
        let lock = take_lock(dir)?;
        let Loaded { book, newest } = load(dir, backend.as_ref())?;
        let memory = Arc::new(MemoryStore::from_book(book, MAX_KEYS));
        let made = Arc::new(AtomicU64::new(0));
        let (wake, wakes) = mpsc::channel();
        let (publish, written) = watch::channel(Flushed::default());
        let busy_since = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let flusher = Flusher {
            memory: Arc::clone(&memory),
            made: Arc::clone(&made),
            backend,
            publish,
            busy_since: Arc::clone(&busy_since),
            epoch,
            buffer: Vec::new(),
            newest,
        };
        std::thread::Builder::new()
            .name("counters-flush".into())
            .spawn(move || flusher.run(&wakes))
            .map_err(|source| StateError::Write { path: dir.join(SLOTS[0]).display().to_string(), source })?;
        Ok(FileStore { memory, made, wake, written, deadline: PERSIST_DEADLINE, busy_since, epoch, _lock: lock })
    }

    /// The same store, waiting at most `deadline` in `persist` (tests of a hung disk).
    pub fn with_persist_deadline(mut self, deadline: Duration) -> FileStore {
        self.deadline = deadline;
        self
    }

    /// Whether the flusher has been on one write for longer than the deadline.
    fn stuck(&self) -> bool {
        let since = self.busy_since.load(Ordering::Acquire);
        let limit = u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX);
        since != 0 && millis(self.epoch).saturating_sub(since) > limit
    }

    /// How many keys the store holds.
    pub fn keys(&self) -> usize {
        self.memory.keys()
    }
}

/// Takes `counters.lock`, waiting a little for a process that is exiting.
fn take_lock(dir: &Path) -> Result<File, FileStoreError> {
    let path = dir.join(COUNTERS_LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StateError::Write { path: path.display().to_string(), source })?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(FileStoreError::Locked(dir.display().to_string())),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StateError::Write { path: path.display().to_string(), source }.into());
            }
        }
    }
}

/// Reads the newest valid slot; when no slot file was ever written, the `counters.json` of an
/// older version (or nothing: empty counters). A checksummed save that does not parse, or slot
/// files none of which holds a whole save, refuse the start.
fn load(dir: &Path, backend: &dyn Backend) -> Result<Loaded, FileStoreError> {
    let mut newest: Option<(usize, u64, Vec<u8>)> = None;
    let mut damaged = Vec::new();
    for (slot, name) in SLOTS.iter().enumerate() {
        let Some(bytes) = backend.load(name)? else { continue };
        match counters_slots::decode(&bytes) {
            Ok(Slot::Blank) => {}
            Ok(Slot::Saved { number, doc }) => {
                if newest.as_ref().is_none_or(|(_, newest, _)| number > *newest) {
                    newest = Some((slot, number, doc.to_vec()));
                }
            }
            Err(reason) => damaged.push(format!("`{name}`: {reason}")),
        }
    }
    if let Some((slot, number, doc)) = newest {
        if !damaged.is_empty() {
            // A save torn by a crash: the one before it is loaded, and the slot written next.
            let damaged = damaged.join("; ");
            tracing::warn!(%damaged, number, "limit counters: loaded the save before a damaged one");
        }
        let book = read_document(&doc).map_err(|reason| FileStoreError::Corrupt {
            path: dir.join(SLOTS[slot]).display().to_string(),
            reason: format!("save {number}: {reason}"),
        })?;
        return Ok(Loaded { book, newest: Some((slot, number)) });
    }
    if !damaged.is_empty() {
        return Err(FileStoreError::CorruptSlots { dir: dir.display().to_string(), reasons: damaged.join("; ") });
    }
    let book = match backend.load(COUNTERS_DOC)? {
        None => Book::default(),
        Some(bytes) => read_document(&bytes)
            .map_err(|reason| FileStoreError::Corrupt { path: dir.join(COUNTERS_DOC).display().to_string(), reason })?,
    };
    Ok(Loaded { book, newest: None })
}

fn read_document(bytes: &[u8]) -> Result<Book, String> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if doc.format != FORMAT {
        return Err(format!("format {} is not {FORMAT}", doc.format));
    }
    Ok(doc.book)
}

/// Writes the table when woken; one write covers every reservation made before it.
struct Flusher {
    memory: Arc<MemoryStore>,
    made: Arc<AtomicU64>,
    backend: Box<dyn Backend>,
    publish: watch::Sender<Flushed>,
    busy_since: Arc<AtomicU64>,
    epoch: Instant,
    /// The slot's bytes, kept between writes (no allocation per write).
    buffer: Vec<u8>,
    /// The slot holding the newest whole save, and its number: the next save goes to the other.
    newest: Option<(usize, u64)>,
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Flusher {
    fn run(mut self, wakes: &mpsc::Receiver<()>) {
        // Ends when the store (the only sender) is dropped, after one last write.
        while wakes.recv().is_ok() {
            while wakes.try_recv().is_ok() {}
            self.flush();
        }
        self.flush();
    }

    fn flush(&mut self) {
        // Read the generation first: the snapshot taken after it holds at least that much.
        let generation = self.made.load(Ordering::Acquire);
        if generation <= self.publish.borrow().generation && self.publish.borrow().error.is_none() {
            return;
        }
        self.buffer.clear();
        self.buffer.resize(HEADER, 0);
        let encoded = {
            let book = self.memory.lock();
            let doc = Saving { format: FORMAT, seq: book.seq, counters: Kept(&book.counters) };
            serde_json::to_writer(&mut self.buffer, &doc)
        };
        // Never 0 (idle) while busy, even in the first millisecond.
        self.busy_since.store(millis(self.epoch).max(1), Ordering::Release);
        let result = match encoded {
            Ok(()) => self.save().map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        self.busy_since.store(0, Ordering::Release);
        match result {
            Ok(()) => self.publish.send_replace(Flushed { generation, error: None }),
            Err(error) => {
                tracing::error!(%error, "limit counters cannot be saved; calls are refused until they can");
                self.publish.send_replace(Flushed { generation, error: Some(error) })
            }
        };
    }
}

impl Flusher {
    /// Writes the document in the buffer into the slot that does not hold the newest save. A
    /// failed write may have torn that slot, so the next try writes the same one again.
    fn save(&mut self) -> Result<(), StateError> {
        let (slot, number) = match self.newest {
            Some((slot, number)) => (1 - slot, number.saturating_add(1)),
            None => (0, 1),
        };
        counters_slots::seal(number, &mut self.buffer);
        self.backend.overwrite(SLOTS[slot], &self.buffer)?;
        self.newest = Some((slot, number));
        Ok(())
    }
}

impl CounterStore for FileStore {
    fn reserve(&self, charges: &[Charge], now_ms: u64) -> Result<Ticket, Refusal> {
        let ticket = self.memory.reserve(charges, now_ms)?;
        // Leases are not written: a reservation of leases only leaves the file as it is.
        if charges.iter().any(|c| !matches!(c.kind, ChargeKind::InFlight { .. })) {
            self.made.fetch_add(1, Ordering::AcqRel);
        }
        Ok(ticket)
    }

    fn refund(&self, ticket: &Ticket) {
        // Written with the next reservation: until then the file over-counts, which is safe.
        self.memory.refund(ticket);
    }

    fn release(&self, ticket: &Ticket) {
        self.memory.release(ticket);
    }

    fn remaining(&self, charges: &[Charge], now_ms: u64) -> Result<Vec<u64>, Refusal> {
        self.memory.remaining(charges, now_ms)
    }

    fn persist(&self) -> Persisting<'_> {
        let wanted = self.made.load(Ordering::Acquire);
        let mut written = self.written.clone();
        Box::pin(async move {
            let unsaved = |reason: String| StateError::Unsaved { path: "counters-*.slot".into(), reason };
            let late = || unsaved(format!("not written within {} s (is the disk hung?)", self.deadline.as_secs_f64()));
            {
                let flushed = written.borrow();
                if flushed.generation >= wanted && flushed.error.is_none() {
                    return Ok(());
                }
            }
            if self.stuck() {
                return Err(late());
            }
            // A send fails only if the flusher is gone; the wait below then reports it.
            let _ = self.wake.send(());
            // The flusher reads the generation after this wake, so its next write covers `wanted`.
            let wait = written.wait_for(|f| f.generation >= wanted);
            let flushed = tokio::time::timeout(self.deadline, wait)
                .await
                .map_err(|_| late())?
                .map_err(|_| unsaved("the counter flusher stopped".into()))?
                .clone();
            match flushed.error {
                None => Ok(()),
                Some(reason) => Err(unsaved(reason)),
            }
        })
    }
}

#[cfg(test)]
#[path = "counters_file_tests.rs"]
mod tests;
