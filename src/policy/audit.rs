//! The audit log: one JSON line per request, whatever became of it (a listing, an unknown
//! name, a refusal, a denial, an allowed call and its outcome), appended and flushed.
//!
//! An allowed call writes two records sharing a `request_id`: `decided`, written and synced to
//! disk before the NAS is called (if it cannot be written the call is refused), and `done`
//! after. Every other request writes one record. A record names the argument keys and a SHA-256
//! of the canonical arguments, never their values, and describes errors by kind, argument names
//! and TrueNAS errno/errname only ([`ErrorSummary`]), so the log can be shared without leaking
//! names, paths or secrets an agent passed or a NAS echoed.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ids::{ActionName, GrantId, JobId, MethodName, RuleId};

/// Where audit records go. Clones share one file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    /// `None` when auditing is off.
    sink: Option<Arc<Sink>>,
}

#[derive(Debug)]
struct Sink {
    /// For errors when a write fails.
    path: String,
    /// Where the log is: each write checks that this still names the open file.
    location: std::path::PathBuf,
    file: Mutex<File>,
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
    /// The writer task died (a defect or shutdown).
    #[error("the audit writer stopped")]
    Stopped,
}

/// One request, or one phase of an allowed call. Field names are stable (documented in README).
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// When the request arrived; written as RFC 3339 in UTC.
    #[serde(serialize_with = "rfc3339")]
    pub time: SystemTime,
    /// Unique per request; the `decided` and `done` records of one call share it.
    pub request_id: String,
    /// Which record of the request this is.
    pub phase: Phase,
    /// What kind of request it was.
    pub kind: RecordKind,
    /// How the request came in.
    pub transport: AuditTransport,
    /// Who called.
    pub grant: GrantId,
    /// SHA-256 (hex) of the policy file's bytes as loaded.
    pub policy_sha256: String,
    /// The action called (a lookup: the action asked about, if any; an unknown name that is not a
    /// plain identifier is written as `(invalid name)`).
    pub action: ActionName,
    /// The middleware method it resolved to, when it got that far.
    pub method: Option<MethodName>,
    /// The policy's decision; `None` when the policy was not asked (lookups, refusals before it).
    pub decision: Option<AuditDecision>,
    /// The rule that allowed or denied, if any.
    pub rule: Option<RuleId>,
    /// The denial reason, if denied: the policy author's text, never argument values.
    pub reason: Option<String>,
    /// The argument keys, sorted.
    pub arg_keys: Vec<String>,
    /// SHA-256 (hex) of the arguments as canonical JSON (keys sorted at every level).
    pub args_sha256: String,
    /// How the request ended (`pending` in a `decided` record).
    pub outcome: Outcome,
    /// What went wrong, without values, if anything did.
    pub error: Option<ErrorSummary>,
    /// The TrueNAS job the call started, if any.
    pub job_id: Option<JobId>,
    /// Time from arrival to this record.
    pub duration_ms: u64,
    /// For an approval event (kind `approval`): which approval, what happened, and who.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalEvent>,
}

/// One event in an approval's life, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalEvent {
    /// The approval's id.
    pub id: String,
    /// What happened.
    pub event: ApprovalEventKind,
    /// Who approved or denied it (an OS user name or `uid:N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// What happened to an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalEventKind {
    /// A call asked for it.
    Requested,
    /// A person approved it.
    Approved,
    /// A person denied it.
    Denied,
    /// It was not used (or answered) in time.
    Expired,
    /// The approved call used it (written before the call goes out).
    Used,
}

/// Which record of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Allowed, about to be sent to the NAS (written before it is).
    Decided,
    /// Finished: an allowed call's outcome, or a request that never needed the NAS.
    Done,
    /// Refused (unknown name, bad arguments, denied): nothing was sent.
    Refused,
}

/// What a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A tool call of an action.
    Call,
    /// A `truenas` tool listing or lookup (categories, a category's actions, unknown names).
    Lookup,
    /// A request the MCP layer refused before any action ran (bad shape, out of scope).
    Refusal,
    /// A resource read.
    Resource,
    /// A job read (`truenas://jobs/{id}`).
    Job,
    /// An event of an approval (requested, approved, denied, expired, used).
    Approval,
}

/// How a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditTransport {
    /// MCP over stdin/stdout.
    Stdio,
    /// MCP over streamable HTTP.
    Http,
    /// The `call` subcommand.
    Cli,
    /// The control socket (`truenas-mcp approvals ...`): a person's answer to an approval.
    Control,
}

/// What went wrong, told without values: a kind, the argument names involved, and TrueNAS's
/// errno and errname when the NAS answered with an error. Built only from static kinds, names
/// and numbers, never from an error's text, which may quote values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorSummary {
    /// A fixed word: `unknown_action`, `invalid_args`, `nas_error`, ...
    pub kind: &'static str,
    /// Names (or JSON Pointers) of the arguments involved, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// TrueNAS's errno, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno: Option<i64>,
    /// TrueNAS's symbolic errno (`ENOENT`), when it sent one that looks like one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errname: Option<String>,
}

impl ErrorSummary {
    /// An error of this kind, with nothing else to say.
    pub fn new(kind: &'static str) -> ErrorSummary {
        ErrorSummary { kind, args: Vec::new(), errno: None, errname: None }
    }

    /// The same, naming the arguments involved.
    pub fn with_args(mut self, args: Vec<String>) -> ErrorSummary {
        self.args = args;
        self
    }

    /// The same, with TrueNAS's errno and errname (kept only if it is an errno symbol).
    pub fn with_errno(mut self, errno: Option<i64>, errname: Option<&str>) -> ErrorSummary {
        self.errno = errno;
        self.errname = errname.filter(|n| is_symbol(n)).map(str::to_string);
        self
    }
}

/// Whether `name` is an identifier safe to record as is (an action, an errno symbol).
pub fn is_symbol(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// The policy's decision, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditDecision {
    /// The policy allowed the call.
    Allow,
    /// The policy denied the call.
    Deny,
}

/// How a request ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Allowed and about to be sent (the `decided` record).
    Pending,
    /// The NAS did what was asked (or a lookup answered).
    Ok,
    /// The call failed (at the NAS or on the way).
    Error,
    /// The policy denied it; nothing was sent.
    Denied,
    /// Refused before the policy (unknown name, bad arguments, no confirm); nothing was sent.
    Rejected,
    /// The caller cancelled it.
    Cancelled,
}

impl AuditLog {
    /// A log that records nothing.
    pub fn disabled() -> AuditLog {
        AuditLog { sink: None }
    }

    /// Appends to the file at `path`, creating it if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog, AuditError> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| AuditError::Open { path: path.display().to_string(), source })?;
        let sink = Sink { path: path.display().to_string(), location: path.to_path_buf(), file: Mutex::new(file) };
        Ok(AuditLog { sink: Some(Arc::new(sink)) })
    }

    /// Writes one record as one line and flushes it; a `decided` record is also synced to disk.
    /// Runs the file I/O on the blocking pool so a slow disk does not stall a runtime worker.
    pub async fn record(&self, rec: &AuditRecord) -> Result<(), AuditWriteError> {
        let Some(sink) = &self.sink else { return Ok(()) };
        let line = encode(rec)?;
        let sink = Arc::clone(sink);
        let sync = rec.phase == Phase::Decided || rec.kind == RecordKind::Approval;
        let result =
            tokio::task::spawn_blocking(move || sink.write(&line, sync)).await.unwrap_or(Err(AuditWriteError::Stopped));
        if let Err(error) = &result {
            tracing::error!(%error, "audit record not written");
        }
        result
    }

    /// [`AuditLog::record`] for callers outside an async runtime.
    pub fn record_blocking(&self, rec: &AuditRecord) -> Result<(), AuditWriteError> {
        let Some(sink) = &self.sink else { return Ok(()) };
        let line = encode(rec)?;
        sink.write(&line, rec.phase == Phase::Decided)
    }
}

fn encode(rec: &AuditRecord) -> Result<Vec<u8>, AuditWriteError> {
    let mut line = serde_json::to_vec(rec).map_err(|e| AuditWriteError::Encode(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

impl Sink {
    fn write(&self, line: &[u8], sync: bool) -> Result<(), AuditWriteError> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let fail = |source| AuditWriteError::Write { path: self.path.clone(), source };
        self.follow(&mut file).map_err(fail)?;
        let written = file.write_all(line).and_then(|()| file.flush());
        // Character devices and pipes cannot be synced; only a regular file's sync is checked.
        let synced = match written {
            Ok(()) if sync && file.metadata().is_ok_and(|m| m.is_file()) => file.sync_data(),
            other => other,
        };
        synced.map_err(fail)
    }

    /// Makes sure a record lands where the operator looks. A regular file deleted under us
    /// fails the write (records would go to a file nobody can read; nothing new is created);
    /// one replaced by another file (rotation) is followed.
    fn follow(&self, file: &mut File) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let open = file.metadata()?;
            if !open.is_file() {
                return Ok(());
            }
            let named = std::fs::metadata(&self.location)?;
            if (named.dev(), named.ino()) != (open.dev(), open.ino()) {
                *file = OpenOptions::new().append(true).open(&self.location)?;
            }
        }
        Ok(())
    }
}

impl AuditRecord {
    /// The sorted argument keys and the SHA-256 (hex) of the canonical arguments.
    pub fn digest_args(args: &Map<String, Value>) -> (Vec<String>, String) {
        let mut keys: Vec<String> = args.keys().cloned().collect();
        keys.sort();
        let mut canonical = String::new();
        write_canonical_object(args, &mut canonical);
        (keys, sha256_hex(canonical.as_bytes()))
    }
}

/// SHA-256 of `bytes` as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compact JSON with object keys sorted at every level.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => write_canonical_object(map, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars print the same whatever the key order setting.
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write_canonical_object(map: &Map<String, Value>, out: &mut String) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(key.clone()).to_string());
        out.push(':');
        write_canonical(value, out);
    }
    out.push('}');
}

fn rfc3339<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    let utc = time::OffsetDateTime::from(*time);
    let text = utc.format(&time::format_description::well_known::Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
