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
//! A record is rendered to its canonical entries by its caller; the file I/O runs on one writer
//! thread ([`super::audit_writer`]), never on an async worker, which seals the records waiting
//! for it onto the chain and appends them with one write and at most one sync (group commit,
//! in `audit_sink.rs`). Each record has a deadline: a disk that hangs refuses the call that
//! waits for it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

#[path = "audit_record.rs"]
mod record;
#[path = "audit_sink.rs"]
mod sink;

pub use record::{
    ApprovalEvent, ApprovalEventKind, AuditDecision, AuditRecord, AuditTransport, ErrorSummary, Outcome, Phase,
    PolicyNotes, PolicyReload, RecordKind, ShadowDisagreement, WouldApprove, WouldDeny, is_symbol,
};
pub(super) use sink::{Pending, Sink};

/// Where audit records go. Clones share one file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    /// `None` when auditing is off.
    sink: Option<Arc<super::audit_writer::Writer>>,
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
        let sink = Arc::new(Sink::open(path, options.max_bytes)?);
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
        let result = match pending(rec) {
            Ok(record) => writer.write(record, rec.phase == Phase::Decided).await,
            Err(error) => Err(error),
        };
        if let Err(error) = &result {
            tracing::error!(%error, "audit record not written");
        }
        result
    }

    /// How many writes the log made so far, each one batch of records (group commit): with the
    /// records written, how many calls shared each write and its sync. 0 when auditing is off.
    pub fn writes(&self) -> u64 {
        self.sink.as_ref().map_or(0, |writer| writer.sink().writes())
    }

    /// [`AuditLog::record`] for callers outside an async runtime.
    pub fn record_blocking(&self, rec: &AuditRecord) -> Result<(), AuditWriteError> {
        let Some(writer) = &self.sink else { return Ok(()) };
        writer.sink().write(pending(rec)?)
    }
}

/// A record rendered to its canonical entries, here on the caller's thread: the writer thread
/// only seals it onto the chain (the chain's three fields and two hashes) and writes it.
fn pending(rec: &AuditRecord) -> Result<Pending, AuditWriteError> {
    let fields = match serde_json::to_value(rec) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(AuditWriteError::Encode("a record is not an object".into())),
        Err(e) => return Err(AuditWriteError::Encode(e.to_string())),
    };
    let body = super::audit_chain::unsealed(&fields).map_err(|e| AuditWriteError::Encode(e.to_string()))?;
    Ok(Pending { body, sync: rec.must_be_durable() })
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
