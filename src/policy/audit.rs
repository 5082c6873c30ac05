//! The audit log: one JSON line per decided call, allowed or denied, appended and flushed.
//!
//! A record names the argument keys and a SHA-256 of the canonical arguments, never their
//! values, so the log can be shared without leaking names, paths or secrets an agent passed.

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
    /// For warnings when a write fails.
    path: String,
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

/// One decided call.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// When the call was decided; written as RFC 3339 in UTC.
    #[serde(serialize_with = "rfc3339")]
    pub time: SystemTime,
    /// Who called.
    pub grant: GrantId,
    /// The action called.
    pub action: ActionName,
    /// The middleware method it resolved to.
    pub method: MethodName,
    /// Allowed or denied by the policy.
    pub decision: AuditDecision,
    /// The rule that allowed or denied, if any.
    pub rule: Option<RuleId>,
    /// The denial reason, if denied.
    pub reason: Option<String>,
    /// The argument keys, sorted.
    pub arg_keys: Vec<String>,
    /// SHA-256 (hex) of the arguments as canonical JSON (keys sorted at every level).
    pub args_sha256: String,
    /// How the call ended.
    pub outcome: Outcome,
    /// The error, if the call failed.
    pub error: Option<String>,
    /// The TrueNAS job the call started, if any.
    pub job_id: Option<JobId>,
    /// Time from decision to outcome.
    pub duration_ms: u64,
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

/// How a call ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The NAS did what was asked.
    Ok,
    /// The call failed (at the NAS or on the way).
    Error,
    /// The policy denied it; nothing was sent.
    Denied,
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
        Ok(AuditLog { sink: Some(Arc::new(Sink { path: path.display().to_string(), file: Mutex::new(file) })) })
    }

    /// Writes one record as one line. A failure is logged, never raised: auditing must not
    /// take the server down.
    pub fn record(&self, rec: &AuditRecord) {
        let Some(sink) = &self.sink else { return };
        let mut line = match serde_json::to_vec(rec) {
            Ok(line) => line,
            Err(error) => {
                tracing::warn!(path = %sink.path, %error, "cannot encode audit record");
                return;
            }
        };
        line.push(b'\n');
        let mut file = sink.file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = file.write_all(&line).and_then(|()| file.flush()) {
            tracing::warn!(path = %sink.path, %error, "cannot write audit record");
        }
    }
}

impl AuditRecord {
    /// The sorted argument keys and the SHA-256 (hex) of the canonical arguments.
    pub fn digest_args(args: &Map<String, Value>) -> (Vec<String>, String) {
        let mut keys: Vec<String> = args.keys().cloned().collect();
        keys.sort();
        let mut canonical = String::new();
        write_canonical_object(args, &mut canonical);
        let digest = Sha256::digest(canonical.as_bytes());
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        (keys, hex)
    }
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
