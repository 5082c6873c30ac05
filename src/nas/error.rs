//! Everything that can go wrong between us and the NAS, with TrueNAS's own detail kept
//! (errname, reason, and one entry per field for validation errors). No variant ever carries
//! the API key.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::ids::JobId;
use crate::policy::ErrorSummary;
use crate::schema::{ParamsError, Release};

/// A TrueNAS error reply, decoded from the JSON-RPC `error` object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// JSON-RPC code (-32001 call error, -32602 invalid params, ...).
    pub code: i64,
    /// JSON-RPC message ("Method call error").
    pub message: String,
    /// errno from `data.error`, when sent.
    pub errno: Option<i64>,
    /// Symbolic errno from `data.errname` (`ENOENT`), when sent.
    pub errname: Option<String>,
    /// Human reason from `data.reason`.
    pub reason: Option<String>,
    /// Field errors of a validation failure, from `data.extra`.
    pub fields: Vec<FieldError>,
}

/// One entry of a validation failure.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Dotted attribute (`vm_create.memory`); `None` for an error about the call as a whole,
    /// such as an unknown id.
    pub attribute: Option<String>,
    /// What is wrong.
    pub message: String,
    /// errno of this entry (2 ENOENT for "does not exist").
    pub errno: Option<i64>,
}

impl RpcError {
    /// Decodes a JSON-RPC `error` member.
    pub(crate) fn from_json(error: &Value) -> RpcError {
        let data = error.get("data");
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let fields = data
            .and_then(|d| d.get("extra"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        let item = item.as_array()?;
                        Some(FieldError {
                            attribute: item.first().and_then(Value::as_str).map(str::to_string),
                            message: item.get(1)?.as_str()?.to_string(),
                            errno: item.get(2).and_then(Value::as_i64),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        RpcError {
            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: text(error.get("message")).unwrap_or_else(|| "error".to_string()),
            errno: data.and_then(|d| d.get("error")).and_then(Value::as_i64),
            errname: text(data.and_then(|d| d.get("errname"))),
            reason: text(data.and_then(|d| d.get("reason"))),
            fields,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TrueNAS reports an unknown id as a validation error without attribute, errno ENOENT.
        if !self.fields.is_empty()
            && self.fields.iter().all(|e| e.attribute.is_none() && e.errno == Some(truenas_api::errno::ENOENT))
        {
            let messages: Vec<&str> = self.fields.iter().map(|e| e.message.as_str()).collect();
            return write!(f, "TrueNAS ENOENT: {}", messages.join("; "));
        }
        if !self.fields.is_empty() {
            f.write_str("TrueNAS rejected the arguments: ")?;
            let fields: Vec<String> = self
                .fields
                .iter()
                .map(|e| match &e.attribute {
                    Some(a) => format!("{a}: {}", e.message),
                    None => e.message.clone(),
                })
                .collect();
            return f.write_str(&fields.join("; "));
        }
        let reason = self.reason.as_deref().unwrap_or(&self.message).trim();
        // Call errors read "[EFAULT] vm1 is already running": the bracket names the error best.
        let (name, reason) = match reason.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((name, rest)) => (name, rest),
            None => (self.errname.as_deref().unwrap_or("error"), reason),
        };
        write!(f, "TrueNAS {name}: {reason}")
    }
}

/// Why a call to the NAS did not produce a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NasError {
    /// The configured address cannot be used.
    #[error("invalid TrueNAS URL: {0}")]
    InvalidUrl(String),
    /// Clear text to a remote host would get the API key revoked.
    #[error(
        "refusing to send the API key in clear text to `{host}`: TrueNAS revokes a key used over http/ws; use https://"
    )]
    InsecureRemote {
        /// The remote host.
        host: String,
    },
    /// The NAS could not be reached (TCP, TLS or websocket handshake).
    #[error("cannot connect to TrueNAS at `{url}`: {reason}")]
    Connect {
        /// Where we tried.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The NAS refused the API key.
    #[error("TrueNAS refused the API key{}", .user.as_ref().map(|u| format!(" for user `{u}`")).unwrap_or_default())]
    AuthFailed {
        /// The username sent with the key, if any.
        user: Option<String>,
    },
    /// The release logs API keys in only with the owner's username (`auth.login_ex`; 27.0 has no
    /// `auth.login_with_api_key`), and none is configured. `release` is `None` when the NAS
    /// answered that the key-only login does not exist before we knew its release.
    #[error(
        "TrueNAS{} has no login by API key alone: set `TRUENAS_USERNAME` to the user that owns the key",
        .release.map(|r| format!(" {}", r.name())).unwrap_or_default()
    )]
    UsernameRequired {
        /// The release, when known.
        release: Option<Release>,
    },
    /// The key is expired or revoked (TrueNAS revokes keys used over clear text).
    #[error("TrueNAS reports the API key as expired or revoked; create or reset the key in the TrueNAS UI")]
    AuthExpired,
    /// The NAS runs a release we have no method table for.
    #[error(
        "unsupported TrueNAS release `{0}`: this server has no method table for it (supported: 24.04, 24.10, 25.04, 25.10, 26.0, 27.0 and later)"
    )]
    UnsupportedRelease(String),
    /// The connection broke while the call was outstanding.
    #[error("lost the connection to TrueNAS during `{method}`{}", if *.sent { "; the NAS may have carried it out" } else { "; nothing was sent" })]
    ConnectionLost {
        /// The method called.
        method: String,
        /// Whether the request had been written to the socket.
        sent: bool,
    },
    /// No reply in time.
    #[error("TrueNAS did not answer `{method}` within {}{}", secs(.after), if *.write { "; the NAS may have carried it out" } else { "" })]
    Timeout {
        /// The method called.
        method: String,
        /// How long we waited.
        after: Duration,
        /// The call was a write: TrueNAS may have carried it out all the same.
        write: bool,
    },
    /// Every slot for calls in flight stayed taken for the whole timeout; nothing was sent.
    #[error("too many calls to TrueNAS in flight: `{method}` waited {} for a turn and was not sent", secs(.after))]
    Busy {
        /// The method called.
        method: String,
        /// How long it waited.
        after: Duration,
    },
    /// A message from TrueNAS exceeded the size limit; the connection was closed.
    #[error(
        "a reply from TrueNAS exceeds {limit} bytes; the connection was closed during `{method}` and the NAS may have carried it out"
    )]
    ReplyTooLarge {
        /// The method whose reply was awaited.
        method: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The method does not exist on the connected release.
    #[error("`{method}` does not exist on the connected TrueNAS ({release})")]
    MethodUnavailable {
        /// The method asked for.
        method: String,
        /// The connected release.
        release: Release,
    },
    /// The params we built break TrueNAS's schema for the method; nothing was sent.
    #[error("{0}")]
    InvalidParams(ParamsError),
    /// TrueNAS answered with an error.
    #[error("{0}")]
    Rpc(RpcError),
    /// The call has no form in TrueNAS's REST API (releases without JSON-RPC); nothing was run.
    #[error("{0}")]
    RestUnsupported(String),
    /// A job ended in FAILED or ABORTED.
    #[error("TrueNAS job {id} ({method}) {state}: {reason}")]
    JobFailed {
        /// The job.
        id: JobId,
        /// Its method.
        method: String,
        /// FAILED or ABORTED.
        state: String,
        /// TrueNAS's error text.
        reason: String,
    },
    /// The caller cancelled; a running job was asked to abort.
    #[error("cancelled{}", .job.map(|j| format!("; abort requested for TrueNAS job {j}")).unwrap_or_default())]
    Cancelled {
        /// The job asked to abort, if the call was a job.
        job: Option<JobId>,
    },
    /// The NAS sent something we cannot understand.
    #[error("unexpected reply from TrueNAS: {0}")]
    Protocol(String),
}

impl NasError {
    /// What went wrong, for the audit log: a kind and TrueNAS's errno and errname, never the
    /// error's text, which may echo argument values (or a key) back.
    pub fn summary(&self) -> ErrorSummary {
        match self {
            NasError::InvalidUrl(_) => ErrorSummary::new("invalid_url"),
            NasError::InsecureRemote { .. } => ErrorSummary::new("insecure_remote"),
            NasError::Connect { .. } => ErrorSummary::new("connect"),
            NasError::AuthFailed { .. } => ErrorSummary::new("auth_failed"),
            NasError::AuthExpired => ErrorSummary::new("auth_expired"),
            NasError::UsernameRequired { .. } => ErrorSummary::new("username_required"),
            NasError::UnsupportedRelease(_) => ErrorSummary::new("unsupported_release"),
            NasError::ConnectionLost { sent: true, .. } => ErrorSummary::new("connection_lost_after_send"),
            NasError::ConnectionLost { sent: false, .. } => ErrorSummary::new("connection_lost"),
            NasError::Timeout { write: true, .. } => ErrorSummary::new("timeout_after_send"),
            NasError::Timeout { write: false, .. } => ErrorSummary::new("timeout"),
            NasError::Busy { .. } => ErrorSummary::new("busy"),
            NasError::ReplyTooLarge { .. } => ErrorSummary::new("reply_too_large"),
            NasError::MethodUnavailable { .. } => ErrorSummary::new("method_unavailable"),
            NasError::InvalidParams(_) => ErrorSummary::new("invalid_params"),
            NasError::Rpc(e) => {
                let kind = if e.fields.is_empty() { "nas_error" } else { "nas_validation" };
                ErrorSummary::new(kind).with_errno(e.errno, e.errname.as_deref())
            }
            NasError::RestUnsupported(_) => ErrorSummary::new("rest_unsupported"),
            NasError::JobFailed { .. } => ErrorSummary::new("job_failed"),
            NasError::Cancelled { .. } => ErrorSummary::new("cancelled"),
            NasError::Protocol(_) => ErrorSummary::new("protocol"),
        }
    }

    /// Whether nothing reached the NAS, so a policy reservation may be refunded.
    pub fn nothing_sent(&self) -> bool {
        match self {
            NasError::InvalidUrl(_)
            | NasError::InsecureRemote { .. }
            | NasError::Connect { .. }
            | NasError::AuthFailed { .. }
            | NasError::AuthExpired
            | NasError::UsernameRequired { .. }
            | NasError::UnsupportedRelease(_)
            | NasError::MethodUnavailable { .. }
            | NasError::InvalidParams(_)
            | NasError::Busy { .. }
            | NasError::RestUnsupported(_) => true,
            NasError::ConnectionLost { sent, .. } => !sent,
            NasError::Timeout { .. }
            | NasError::ReplyTooLarge { .. }
            | NasError::Rpc(_)
            | NasError::JobFailed { .. }
            | NasError::Cancelled { .. }
            | NasError::Protocol(_) => false,
        }
    }
}

/// A duration as messages show it: whole seconds (`30s`), milliseconds below one second.
fn secs(d: &Duration) -> String {
    if d.as_secs() == 0 && !d.is_zero() { format!("{}ms", d.as_millis()) } else { format!("{}s", d.as_secs()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation_errors_keep_every_field() {
        let e = RpcError::from_json(&json!({"code": -32602, "message": "Invalid params", "data": {
            "error": 22, "errname": "EINVAL", "reason": "x",
            "extra": [["vm_create.memory", "Field required", 22], ["vm_create.name", "Too short", 22]]}}));
        assert_eq!(e.fields.len(), 2);
        assert_eq!(
            e.to_string(),
            "TrueNAS rejected the arguments: vm_create.memory: Field required; vm_create.name: Too short"
        );
    }

    #[test]
    fn call_errors_show_errname_and_reason() {
        let e = RpcError::from_json(&json!({"code": -32001, "message": "Method call error",
            "data": {"error": 2, "errname": "ENOENT", "reason": "VM 9 does not exist", "extra": null}}));
        assert_eq!(e.errno, Some(2));
        assert_eq!(e.to_string(), "TrueNAS ENOENT: VM 9 does not exist");
    }

    #[test]
    fn an_unknown_id_reads_as_enoent() {
        let e = RpcError::from_json(&json!({"code": -32602, "message": "Invalid params", "data": {
            "error": 22, "errname": "EINVAL", "reason": "[ENOENT] None: VM 99 does not exist\n",
            "extra": [[null, "VM 99 does not exist", 2]]}}));
        assert_eq!(e.to_string(), "TrueNAS ENOENT: VM 99 does not exist");
    }

    #[test]
    fn a_bracketed_reason_names_the_error() {
        let e = RpcError::from_json(&json!({"code": -32001, "message": "Method call error",
            "data": {"error": 14, "errname": "EFAULT", "reason": "[EFAULT] vm1 is already running", "extra": null}}));
        assert_eq!(e.to_string(), "TrueNAS EFAULT: vm1 is already running");
    }

    #[test]
    fn the_audit_summary_keeps_errno_and_errname_but_no_text() {
        let e = RpcError::from_json(&json!({"code": -32602, "message": "Invalid params", "data": {
            "error": 22, "errname": "EINVAL", "reason": "password hunter2 is too short",
            "extra": [["user_create.password", "hunter2 is too short", 22]]}}));
        let summary = serde_json::to_string(&NasError::Rpc(e).summary()).unwrap();
        assert_eq!(summary, r#"{"kind":"nas_validation","errno":22,"errname":"EINVAL"}"#);
        let failed = NasError::JobFailed {
            id: JobId(3),
            method: "pool.dataset.unlock".into(),
            state: "FAILED".into(),
            reason: "key 0123abcd is wrong".into(),
        };
        assert_eq!(serde_json::to_string(&failed.summary()).unwrap(), r#"{"kind":"job_failed"}"#);
    }

    #[test]
    fn method_not_found_has_no_data() {
        let e = RpcError::from_json(&json!({"code": -32601, "message": "Method does not exist"}));
        assert_eq!(e.to_string(), "TrueNAS error: Method does not exist");
    }
}
