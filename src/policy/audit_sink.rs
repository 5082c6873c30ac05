//! The audit log's file: appending sealed records to it in batches (one write, at most one
//! sync per batch), following it when another writer appends to it or rotates it, and rotating
//! it at its size limit. The writer thread ([`super::super::audit_writer`]) calls it; so does
//! [`super::AuditLog::record_blocking`], outside a runtime.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::super::audit_chain::{self, ChainHead, Unsealed};
use super::{AuditError, AuditWriteError, rotated};

/// A record rendered by its caller, waiting to be sealed onto the chain and written.
#[derive(Debug)]
pub(in crate::policy) struct Pending {
    /// The record's canonical entries, without the chain's fields.
    pub(in crate::policy) body: Unsealed,
    /// Synced to disk before its caller hears back.
    pub(in crate::policy) sync: bool,
}

#[derive(Debug)]
pub(in crate::policy) struct Sink {
    /// The live file; rotated files are `PATH.1`, `PATH.2`, ... (newest first).
    path: PathBuf,
    /// Rotate before a line would take the file past this many bytes.
    max_bytes: Option<u64>,
    state: Mutex<Tail>,
    /// Writes made (each a batch of one or more lines): with the records written, how well
    /// group commit shares them.
    writes: AtomicU64,
}

/// The file and the chain's end, changed together under one lock.
#[derive(Debug)]
struct Tail {
    file: File,
    /// Bytes in the live file (to roll back a failed write, and to rotate).
    len: u64,
    /// A regular file (locked, synced, rotated); not a pipe or a device such as `/dev/full`.
    regular: bool,
    /// Where the chain stands: the last record's `seq` and line hash.
    chain: ChainHead,
}

impl Sink {
    /// Opens (or creates) the log at `path` and finds where its chain stands.
    pub(in crate::policy) fn open(path: PathBuf, max_bytes: Option<u64>) -> Result<Sink, AuditError> {
        let shown = path.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| AuditError::Open { path: shown.clone(), source })?;
        let meta = file.metadata().map_err(|source| AuditError::Open { path: shown, source })?;
        let len = if meta.is_file() { meta.len() } else { 0 };
        let chain = audit_chain::resume(&path)?;
        let state = Mutex::new(Tail { file, len, regular: meta.is_file(), chain });
        Ok(Sink { path, max_bytes, state, writes: AtomicU64::new(0) })
    }

    /// Appends one record (see [`Sink::write_batch`]).
    pub(in crate::policy) fn write(&self, record: Pending) -> Result<(), AuditWriteError> {
        self.write_batch(vec![record]).pop().unwrap_or(Err(AuditWriteError::Stopped))
    }

    /// Seals the records onto the chain, in order, and appends them with one write, synced once
    /// if any of them must be durable; the answer for each record, in order. The chain
    /// advances only over lines that were written (and synced); a failed write is cut off again,
    /// so the file never keeps half a line, and fails every record of the batch not yet written
    /// (the chain cannot go on past a record that is not there). A rotation splits the batch
    /// into one write per file.
    ///
    /// Another process may append to (or rotate) the same file, e.g. two stdio servers given
    /// the same `--audit`: a regular file is locked (`flock`) for the whole batch, and the chain
    /// is picked up from the file whenever it moved on without us, so the writers share one
    /// chain instead of forking it.
    pub(in crate::policy) fn write_batch(&self, records: Vec<Pending>) -> Vec<Result<(), AuditWriteError>> {
        let count = records.len();
        let mut tail = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !tail.regular {
            return self.append(&mut tail, records);
        }
        if let Err(source) = tail.file.lock() {
            let error = self.error(source);
            return (0..count).map(|_| Err(copy(&error))).collect();
        }
        let check_path = records.iter().any(|r| r.sync);
        let results = match self.catch_up(&mut tail, check_path) {
            Ok(()) => self.append(&mut tail, records),
            Err(error) => (0..count).map(|_| Err(copy(&error))).collect(),
        };
        let _ = tail.file.unlock();
        results
    }

    fn append(&self, tail: &mut Tail, records: Vec<Pending>) -> Vec<Result<(), AuditWriteError>> {
        let count = records.len();
        let mut results: Vec<Result<(), AuditWriteError>> = Vec::with_capacity(count);
        let mut run =
            Run { bytes: Vec::with_capacity(1024 * count.min(64)), records: 0, sync: false, head: tail.chain.clone() };
        for record in records {
            let sealed = audit_chain::seal_unsealed(&record.body, &run.head);
            if self.must_rotate(tail, run.bytes.len() + sealed.line.len()) && run.bytes.len() as u64 + tail.len > 0 {
                // The line goes to a new file: what is sealed so far is written to this one.
                let written = self.write_run(tail, &mut run);
                answer(&mut results, run.records, &written);
                if let Err(error) = written.and_then(|()| self.rotate(tail).map_err(|source| self.error(source))) {
                    let left = count - results.len();
                    answer(&mut results, left, &Err(error));
                    return results;
                }
                run.clear();
            }
            run.bytes.extend_from_slice(sealed.line.as_bytes());
            run.records += 1;
            run.sync |= record.sync;
            run.head = sealed.head;
        }
        let written = self.write_run(tail, &mut run);
        answer(&mut results, run.records, &written);
        results
    }

    /// Whether `more` bytes would take the live file past its size limit.
    fn must_rotate(&self, tail: &Tail, more: usize) -> bool {
        self.max_bytes.is_some_and(|max| tail.regular && tail.len + more as u64 > max)
    }

    /// Writes the run's lines with one write (and one sync if one of them must be durable);
    /// the chain advances over them only if that worked, and a failed write is cut off again.
    fn write_run(&self, tail: &mut Tail, run: &mut Run) -> Result<(), AuditWriteError> {
        if run.records == 0 {
            return Ok(());
        }
        self.writes.fetch_add(1, Ordering::Relaxed);
        let file = &mut tail.file;
        let written = file.write_all(&run.bytes).and_then(|()| file.flush());
        // Character devices and pipes cannot be synced; only a regular file's sync is checked.
        let synced = match written {
            Ok(()) if run.sync && tail.regular => file.sync_data(),
            other => other,
        };
        match synced {
            Ok(()) => {
                tail.len += run.bytes.len() as u64;
                tail.chain = run.head.clone();
                Ok(())
            }
            Err(source) => {
                if tail.regular {
                    let _ = tail.file.set_len(tail.len);
                }
                Err(self.error(source))
            }
        }
    }

    /// Under the file lock: if another process appended to the file or rotated it since our
    /// last record, continue from where it left the chain.
    ///
    /// One `fstat` of the open file per batch tells most of it: a file with no links left was
    /// deleted; one whose owner-write bit is off was sealed by a writer that rotated it away
    /// ([`Sink::rotate`]); a length other than ours means another writer appended. Only then,
    /// and for every batch that is synced anyway (`check_path`: one holding a `decided` record
    /// or an approval event), is the path looked up as well, to see whether it still names our
    /// file. So a rotation by another writer is followed at once (no record lands in the sealed
    /// file, no fork), a deleted log refuses the next record, and a file renamed away by
    /// something else (logrotate, `mv`) is followed at the next synced record: the record a call
    /// waits for always goes to the file at the path, while a lookup's record just before it may
    /// still go to the renamed file, with its chain intact. The path lookup (a `statx` walking
    /// the path) was the costliest step of an append after the write itself; a batch of `done`
    /// records skips it.
    fn catch_up(&self, tail: &mut Tail, check_path: bool) -> Result<(), AuditWriteError> {
        let ours = tail.file.metadata().map_err(|source| self.error(source))?;
        if check_path || deleted(&ours) || sealed(&ours) {
            // A log deleted under us fails the write: records would go to a file nobody can read,
            // and a new file would start a chain that links to nothing. Nothing new is created.
            let on_disk = std::fs::metadata(&self.path).map_err(|source| self.error(source))?;
            // Replaced by another file (rotated by another writer, by logrotate, or deleted and
            // created again): follow it.
            if !same_file(&on_disk, &ours) {
                let file = OpenOptions::new().append(true).open(&self.path).map_err(|s| self.error(s))?;
                file.lock().map_err(|source| self.error(source))?;
                // Dropping the old handle releases its lock.
                tail.file = file;
                return self.resume(tail);
            }
        }
        if ours.len() == tail.len { Ok(()) } else { self.resume(tail) }
    }

    /// Picks the chain up from the file (another writer moved it on).
    fn resume(&self, tail: &mut Tail) -> Result<(), AuditWriteError> {
        tail.len = tail.file.metadata().map_err(|source| self.error(source))?.len();
        tail.chain = audit_chain::resume(&self.path).map_err(|e| AuditWriteError::Resume(e.to_string()))?;
        Ok(())
    }

    /// `PATH.n` -> `PATH.n+1` (newest last renamed), `PATH` -> `PATH.1`, a new empty `PATH`.
    fn rotate(&self, tail: &mut Tail) -> std::io::Result<()> {
        if !tail.file.metadata()?.is_file() {
            return Ok(());
        }
        let mut highest = 0;
        while rotated(&self.path, highest + 1).exists() {
            highest += 1;
        }
        for n in (1..=highest).rev() {
            std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1))?;
        }
        tail.file.sync_all()?;
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        let file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        // Locked before the old handle (and its lock) is dropped: no other writer slips in.
        file.lock()?;
        // Sealed (no write bits) while still locked: another writer holding the old file sees
        // it in its next `fstat` and follows the path instead of appending here.
        seal_file(&tail.file)?;
        tail.file = file;
        tail.len = 0;
        if let Some(dir) = self.path.parent().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d }) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// How many writes the log has made (each a batch of one or more lines).
    pub(in crate::policy) fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// The log's path, as shown in errors.
    pub(in crate::policy) fn shown_path(&self) -> String {
        self.path.display().to_string()
    }

    fn error(&self, source: std::io::Error) -> AuditWriteError {
        AuditWriteError::Write { path: self.path.display().to_string(), source }
    }
}

/// Lines sealed onto the chain but not yet written.
struct Run {
    bytes: Vec<u8>,
    /// How many records they hold.
    records: usize,
    /// Whether one of them must be synced.
    sync: bool,
    /// Where the chain stands after them.
    head: ChainHead,
}

impl Run {
    /// Empty again, after a write; the chain stands where it was.
    fn clear(&mut self) {
        self.bytes.clear();
        self.records = 0;
        self.sync = false;
    }
}

/// `count` more answers, each the outcome of the one write that held them.
fn answer(results: &mut Vec<Result<(), AuditWriteError>>, count: usize, outcome: &Result<(), AuditWriteError>) {
    results.extend((0..count).map(|_| match outcome {
        Ok(()) => Ok(()),
        Err(error) => Err(copy(error)),
    }));
}

/// The same error again, for another caller of the same failed write.
fn copy(error: &AuditWriteError) -> AuditWriteError {
    match error {
        AuditWriteError::Write { path, source } => AuditWriteError::Write {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        AuditWriteError::Encode(reason) => AuditWriteError::Encode(reason.clone()),
        AuditWriteError::Resume(reason) => AuditWriteError::Resume(reason.clone()),
        AuditWriteError::Stopped => AuditWriteError::Stopped,
        AuditWriteError::Stalled { path, after } => AuditWriteError::Stalled { path: path.clone(), after: *after },
    }
}

/// Whether two handles are the same file (a rotation or a replaced file makes them differ).
#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

/// Whether the open file has no name left (deleted).
#[cfg(unix)]
fn deleted(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    meta.nlink() == 0
}

/// Whether the open file was sealed by a rotation (its owner-write bit is off).
#[cfg(unix)]
fn sealed(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    meta.mode() & 0o200 == 0
}

/// Takes the write bits off a rotated file: it is finished, and other writers must notice.
#[cfg(unix)]
fn seal_file(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = file.metadata()?.permissions().mode();
    file.set_permissions(std::fs::Permissions::from_mode(mode & !0o222))
}

// Elsewhere the path is looked up for every record.
#[cfg(not(unix))]
fn deleted(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(not(unix))]
fn sealed(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(not(unix))]
fn seal_file(_: &File) -> std::io::Result<()> {
    Ok(())
}
