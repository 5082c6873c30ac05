//! The audit log: one JSON line per request, whatever became of it (a listing, an unknown
//! name, a refusal, a denial, an allowed call and its outcome), appended and flushed.
//!
//! An allowed call writes two records sharing a `request_id`: `decided`, written and synced to
//! disk before the NAS is called (if it cannot be written the call is refused), and `done`
//! after. Every other request writes one record. A record names the argument keys and a SHA-256
//! of the canonical arguments, never their values, and describes errors by kind, argument names
//! and TrueNAS errno/errname only ([`ErrorSummary`]), so the log can be shared without leaking
//! names, paths or secrets an agent passed or a NAS echoed.
//!
//! The log is a hash chain ([`super::audit_chain`] defines it): every line is the RFC 8785
//! canonical form of its record, carrying `seq`, `prev_hash` (the SHA-256 of the previous line)
//! and `record_hash`. Opening a log continues the chain from its last line (or the last line of
//! the newest rotated file), and refuses to start on a damaged tail rather than fork the chain.
//! With a size limit the file rotates (`audit.jsonl` -> `audit.jsonl.1` -> `audit.jsonl.2`...);
//! the chain runs on across files.
//!
//! The file I/O runs on one writer thread ([`super::audit_writer`]), never on an async worker,
//! and each record has a deadline: a disk that hangs refuses the call that waits for it.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

#[path = "audit_record.rs"]
mod record;

pub use record::{
    ApprovalEvent, ApprovalEventKind, AuditDecision, AuditRecord, AuditTransport, ErrorSummary, Outcome, Phase,
    PolicyNotes, PolicyReload, RecordKind, ShadowDisagreement, WouldApprove, WouldDeny, is_symbol,
};

/// Where audit records go. Clones share one file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    /// `None` when auditing is off.
    sink: Option<Arc<super::audit_writer::Writer>>,
}

#[derive(Debug)]
pub(super) struct Sink {
    /// The live file; rotated files are `PATH.1`, `PATH.2`, ... (newest first).
    path: PathBuf,
    /// Rotate before a line would take the file past this many bytes.
    max_bytes: Option<u64>,
    state: Mutex<Tail>,
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
    chain: super::audit_chain::ChainHead,
}

/// How an audit log is kept.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// Rotate the file before it would grow past this many bytes (`--audit-max-bytes`).
    pub max_bytes: Option<u64>,
    /// How long a record may take to be written (and synced); past it the request waiting for
    /// it is refused. [`AUDIT_WRITE_DEADLINE`] by default.
    pub write_deadline: Duration,
}

/// How long one audit record may take to be written and synced before the request waiting
/// for it is refused (a hung disk must not hang the call).
pub const AUDIT_WRITE_DEADLINE: Duration = Duration::from_secs(5);

impl Default for AuditOptions {
    fn default() -> AuditOptions {
        AuditOptions { max_bytes: None, write_deadline: AUDIT_WRITE_DEADLINE }
    }
}

/// The audit log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Opening (or creating) the file failed.
    #[error("cannot open audit log `{path}`: {source}")]
    Open {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The last line is not an intact chained record: continuing would fork the chain.
    #[error(
        "the audit log `{path}` ends in a damaged record ({reason}); the hash chain cannot continue from it. \
         run `truenas-mcp audit verify {path}` to see what is wrong, then move the file aside (keep it as \
         evidence) so that a new chain starts, or restore it from a copy"
    )]
    Tail {
        /// The file whose last line is damaged.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A record could not be written: a call that needed it is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuditWriteError {
    /// Writing or syncing the file failed (disk full, file gone bad, ...).
    #[error("cannot write the audit log `{path}`: {source}")]
    Write {
        /// The log's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The record does not encode (a defect).
    #[error("cannot encode an audit record: {0}")]
    Encode(String),
    /// Another writer left the file's last record damaged: continuing would fork the chain.
    #[error("cannot continue the audit chain: {0}")]
    Resume(String),
    /// The writer task died (a defect or shutdown).
    #[error("the audit writer stopped")]
    Stopped,
    /// The record was not written within the deadline (a hung disk, a full pipe): the call
    /// waiting for it is refused.
    #[error("the audit log `{path}` did not finish a write within {} s (is its disk hung?)", .after.as_secs_f64())]
    Stalled {
        /// The log's path.
        path: String,
        /// The deadline that passed.
        after: Duration,
    },
}

impl AuditLog {
    /// A log that records nothing.
    pub fn disabled() -> AuditLog {
        AuditLog { sink: None }
    }

    /// Appends to the file at `path`, creating it if needed, continuing its chain.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog, AuditError> {
        AuditLog::open_with(path, AuditOptions::default())
    }

    /// [`AuditLog::open`] with options (rotation).
    pub fn open_with(path: impl AsRef<Path>, options: AuditOptions) -> Result<AuditLog, AuditError> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| AuditError::Open { path: shown.clone(), source })?;
        let meta = file.metadata().map_err(|source| AuditError::Open { path: shown.clone(), source })?;
        let len = if meta.is_file() { meta.len() } else { 0 };
        let chain = super::audit_chain::resume(&path)?;
        let state = Mutex::new(Tail { file, len, regular: meta.is_file(), chain });
        let sink = Arc::new(Sink { path, max_bytes: options.max_bytes, state });
        let writer = super::audit_writer::Writer::start(sink, options.write_deadline)
            .map_err(|source| AuditError::Open { path: shown, source })?;
        Ok(AuditLog { sink: Some(Arc::new(writer)) })
    }

    /// Writes one record as one chained line and flushes it; a `decided` record is also synced
    /// to disk. The file I/O runs on the log's writer thread, so a slow disk never stalls a
    /// runtime worker; past the write deadline the record fails (and a `decided` record that
    /// was not started by then is never written: its call is refused).
    pub async fn record(&self, rec: &AuditRecord) -> Result<(), AuditWriteError> {
        let Some(writer) = &self.sink else { return Ok(()) };
        let fields = fields(rec)?;
        let result = writer.write(fields, rec.must_be_durable(), rec.phase == Phase::Decided).await;
        if let Err(error) = &result {
            tracing::error!(%error, "audit record not written");
        }
        result
    }

    /// [`AuditLog::record`] for callers outside an async runtime.
    pub fn record_blocking(&self, rec: &AuditRecord) -> Result<(), AuditWriteError> {
        let Some(writer) = &self.sink else { return Ok(()) };
        writer.sink().write(fields(rec)?, rec.must_be_durable())
    }
}

/// A record as a JSON object, before the chain fields are added.
fn fields(rec: &AuditRecord) -> Result<Map<String, Value>, AuditWriteError> {
    match serde_json::to_value(rec) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AuditWriteError::Encode("a record is not an object".into())),
        Err(e) => Err(AuditWriteError::Encode(e.to_string())),
    }
}

impl Sink {
    /// Seals the record onto the chain and appends it. The chain advances only when the line
    /// is written; a failed write is cut off again so the file never keeps half a line.
    ///
    /// Another process may append to (or rotate) the same file, e.g. two stdio servers given
    /// the same `--audit`: a regular file is locked (`flock`) for the whole append, and the chain
    /// is picked up from the file whenever it moved on without us, so the writers share one
    /// chain instead of forking it.
    pub(super) fn write(&self, fields: Map<String, Value>, sync: bool) -> Result<(), AuditWriteError> {
        let mut tail = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let regular = tail.regular;
        if !regular {
            return self.append(&mut tail, fields, sync, false);
        }
        tail.file.lock().map_err(|source| self.error(source))?;
        let result = self.catch_up(&mut tail, sync).and_then(|()| self.append(&mut tail, fields, sync, true));
        let _ = tail.file.unlock();
        result
    }

    fn append(
        &self,
        tail: &mut Tail,
        fields: Map<String, Value>,
        sync: bool,
        regular: bool,
    ) -> Result<(), AuditWriteError> {
        let sealed =
            super::audit_chain::seal(fields, &tail.chain).map_err(|e| AuditWriteError::Encode(e.to_string()))?;
        let line = sealed.line.as_bytes();
        if let Some(max) = self.max_bytes
            && regular
            && tail.len > 0
            && tail.len + line.len() as u64 > max
        {
            self.rotate(tail).map_err(|source| self.error(source))?;
        }
        let file = &mut tail.file;
        let written = file.write_all(line).and_then(|()| file.flush());
        // Character devices and pipes cannot be synced; only a regular file's sync is checked.
        let synced = match written {
            Ok(()) if sync && regular => file.sync_data(),
            other => other,
        };
        match synced {
            Ok(()) => {
                tail.len += line.len() as u64;
                tail.chain = sealed.head;
                Ok(())
            }
            Err(source) => {
                if regular {
                    let _ = tail.file.set_len(tail.len);
                }
                Err(self.error(source))
            }
        }
    }

    /// Under the file lock: if another process appended to the file or rotated it since our
    /// last record, continue from where it left the chain.
    ///
    /// One `fstat` of the open file per record tells most of it: a file with no links left was
    /// deleted; one whose owner-write bit is off was sealed by a writer that rotated it away
    /// ([`Sink::rotate`]); a length other than ours means another writer appended. Only then,
    /// and for every record that is synced anyway (`check_path`: a `decided` record, an approval
    /// event), is the path looked up as well, to see whether it still names our file. So a
    /// rotation by another writer is followed at once (no record lands in the sealed file, no
    /// fork), a deleted log refuses the next record, and a file renamed away by something else
    /// (logrotate, `mv`) is followed at the next synced record: the record a call waits for
    /// always goes to the file at the path, while a lookup's record just before it may still go
    /// to the renamed file, with its chain intact. The path lookup (a `statx` walking the path)
    /// was the costliest step of an append after the write itself; a `done` record skips it.
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
        tail.chain = super::audit_chain::resume(&self.path).map_err(|e| AuditWriteError::Resume(e.to_string()))?;
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

    /// The log's path, as shown in errors.
    pub(super) fn shown_path(&self) -> String {
        self.path.display().to_string()
    }

    fn error(&self, source: std::io::Error) -> AuditWriteError {
        AuditWriteError::Write { path: self.path.display().to_string(), source }
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

/// The `n`th rotated file of the log at `path` (`audit.jsonl.1` is the newest).
pub(crate) fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// SHA-256 of `bytes` as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `bytes` as lowercase hex, two digits a byte, from a table.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    text
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
