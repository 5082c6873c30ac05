//! What an audit record says: the record of one request (or one phase of an allowed call) and
//! its parts, with field names as documented in the README. Nothing here holds an argument
//! value: arguments are named and digested ([`AuditRecord::digest_args`]), errors told by kind
//! ([`ErrorSummary`]). Writing records is `audit.rs`'s.

use std::time::SystemTime;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::sha256_hex;
use crate::ids::{ActionName, GrantId, JobId, MethodName, RuleId};

/// One request, or one phase of an allowed call. Field names are stable (documented in README).
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Unique per record (a UUID); written as `record_id`.
    pub record_id: String,
    /// The record this one follows from: a `done` record names its call's `decided` record.
    /// Written as `parent_record_id`.
    pub parent_record_id: Option<String>,
    /// When the request arrived; written as `timestamp`, RFC 3339 in UTC.
    #[serde(rename = "timestamp", serialize_with = "rfc3339")]
    pub time: SystemTime,
    /// Unique per request; the `decided` and `done` records of one call share it.
    pub request_id: String,
    /// Which record of the request this is.
    pub phase: Phase,
    /// What kind of request it was; written as `action_type`.
    #[serde(rename = "action_type")]
    pub kind: RecordKind,
    /// How the request came in.
    pub transport: AuditTransport,
    /// Who called (the grant: `stdio`, `cli`, or an HTTP token's); written as `agent_id`.
    #[serde(rename = "agent_id")]
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
    /// SHA-256 (hex) of the arguments' RFC 8785 canonical form ([`AuditRecord::digest_args`]).
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
    /// Shadow mode and policy reloads: written as top-level fields, each left out when empty.
    #[serde(flatten)]
    pub notes: PolicyNotes,
}

/// What shadow mode and policy reloads add to a record; each field is left out when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyNotes {
    /// An advisory (`x-mode: shadow`) rule would have denied this call, which went through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_deny: Option<WouldDeny>,
    /// An advisory rule would have asked a person first; nobody was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_approve: Option<WouldApprove>,
    /// The `--shadow-policy` document decided otherwise than the active one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow_disagreement: Option<ShadowDisagreement>,
    /// A reload of the policy file (records of kind `policy_reload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_reload: Option<PolicyReload>,
}

/// The rule that would have denied a call, and its reason (the policy's text, never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WouldDeny {
    /// The rule (JSON Pointer).
    pub rule: RuleId,
    /// Its reason.
    pub reason: String,
}

/// The rule that would have asked a person to approve a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WouldApprove {
    /// The rule (JSON Pointer).
    pub rule: RuleId,
}

/// What the active and the shadow policy decided: `allow`, `deny` or `approve` each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowDisagreement {
    /// The active policy's decision.
    pub active: &'static str,
    /// The shadow policy's decision.
    pub shadow: &'static str,
    /// The shadow policy's deciding rule, if one decided.
    pub shadow_rule: Option<RuleId>,
}

/// One attempt to reload a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReload {
    /// Which policy: `active` (`--policy`) or `shadow` (`--shadow-policy`).
    pub policy: &'static str,
    /// `applied`, `unchanged` (same bytes), or `rejected` (the old policy stays).
    pub result: &'static str,
    /// SHA-256 of the policy in force before.
    pub previous_sha256: String,
    /// SHA-256 of the file's bytes as read (absent when it could not be read).
    pub file_sha256: Option<String>,
    /// How many problems the new document has (rejected only; they are in the server log).
    pub problems: usize,
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
    /// A reload of the policy file (on SIGHUP or a change of the file).
    #[serde(rename = "policy_reload")]
    PolicyReload,
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
    /// The server itself (a policy reload on SIGHUP or a file change).
    Server,
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

impl AuditRecord {
    /// Whether the record is synced to disk before
    /// [`AuditLog::record`](super::AuditLog::record) returns: a `decided` record (the
    /// call waits for it) and an approval event (an answer a person gave is as durable as a
    /// decision).
    pub fn must_be_durable(&self) -> bool {
        self.phase == Phase::Decided || self.kind == RecordKind::Approval
    }

    /// The sorted argument keys and the SHA-256 (hex) of the arguments' RFC 8785 canonical
    /// form. The one argument digest: audit records and approvals both bind to it.
    pub fn digest_args(args: &Map<String, Value>) -> (Vec<String>, String) {
        let mut keys: Vec<String> = args.keys().cloned().collect();
        keys.sort();
        let mut canonical = String::new();
        // INVARIANT: a `serde_json::Value` holds no NaN or infinity, the only values JCS refuses.
        if crate::jcs::write_object(args, &mut canonical).is_err() {
            canonical = Value::Object(args.clone()).to_string();
        }
        (keys, sha256_hex(canonical.as_bytes()))
    }
}

fn rfc3339<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    let utc = time::OffsetDateTime::from(*time);
    let text = utc.format(&time::format_description::well_known::Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}
