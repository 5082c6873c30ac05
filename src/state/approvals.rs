//! Pending and answered approvals: the server-side record that is the only authority for
//! letting a call that needs a person's approval through.
//!
//! A record is bound to grant + action + the digest of the call's canonical arguments + the
//! policy's SHA-256; it is single use and expires. Every change is written to the backend
//! before it takes effect (a restart neither loses a pending approval nor revives a used one).
//! Answers arrive through [`ApprovalStore::approve`] and [`ApprovalStore::deny`], whatever the
//! channel (control socket today; elicitation and the web page plug in the same way).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use super::{Backend, SharedDoc, StateError};
use crate::ids::{ActionName, GrantId, MethodName, Risk, RuleId};

/// The backend document holding every approval.
const DOC: &str = "approvals.json";

/// How long an answered, used or expired record is kept (shown by `approvals list`, and so
/// that a used approval is never taken for a new one) after it expires.
const KEEP_AFTER_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// How often a call held for an answer looks again when the records are shared (an answer
/// given through another process does not wake it).
const SHARED_RECHECK: Duration = Duration::from_secs(1);

/// Attempts at a shared change before giving up (each loses only to another process's change).
const SHARED_ATTEMPTS: u32 = 100;

/// Most records kept; past it the oldest finished ones are dropped (pending ones never are).
const MAX_RECORDS: usize = 10_000;

/// What an approval is bound to: a person approves exactly this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Who asked.
    pub grant: GrantId,
    /// The action called.
    pub action: ActionName,
    /// SHA-256 of the canonical arguments ([`crate::policy::AuditRecord::digest_args`]).
    pub args_sha256: String,
    /// SHA-256 of the policy that asked.
    pub policy_sha256: String,
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for a person.
    Pending,
    /// Approved; the next identical call uses it.
    Approved,
    /// Denied by a person.
    Denied,
    /// Approved and used by a call: never again.
    Used,
    /// Not used (or not answered) in time.
    Expired,
}

impl Status {
    /// The word shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Used => "used",
            Status::Expired => "expired",
        }
    }
}

/// The call an approval is about: what it is bound to and what a person judges. Both a
/// request for approval and the stored record carry it whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalCall {
    /// What it is bound to.
    #[serde(flatten)]
    pub binding: Binding,
    /// The argument names (for the audit log; values are never kept).
    pub arg_keys: Vec<String>,
    /// The middleware method the call will send.
    pub method: MethodName,
    /// The params it will send, secrets masked: what a person judges.
    pub params: Value,
    /// The action's risk class.
    pub risk: Risk,
    /// The rule that asked (JSON Pointer into the policy).
    pub rule: RuleId,
}

/// One approval, as stored and as shown to a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// 128 random bits, hex: unguessable.
    pub id: String,
    /// The call it is about (its fields are written inline).
    #[serde(flatten)]
    pub call: ApprovalCall,
    /// Unix seconds when it was asked for.
    pub created: u64,
    /// Unix seconds after which it cannot be used.
    pub expires: u64,
    /// Where it stands.
    pub status: Status,
    /// Who approved or denied it (an OS user name, or `uid:N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// A denial's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix seconds of the last change of status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<u64>,
}

/// A call's need for approval, as the gateway describes it.
#[derive(Debug, Clone)]
pub struct ApprovalRequest {
    /// The call, secrets in its params already masked.
    pub call: ApprovalCall,
    /// How long the approval may wait and then be used.
    pub ttl: Duration,
}

/// What the store holds for a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A person approved this call; [`ApprovalStore::consume`] it to go ahead.
    Approved(ApprovalRecord),
    /// Waiting for a person; `created` is true when this lookup asked for it.
    Pending {
        /// The record.
        record: ApprovalRecord,
        /// Whether it is new.
        created: bool,
    },
    /// A person denied this call.
    Denied(ApprovalRecord),
}

/// An answer or a use that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No approval of that id.
    #[error("no approval `{0}`")]
    Unknown(String),
    /// It was answered or used already, or it expired.
    #[error("approval `{id}` is {}, not pending", .status.as_str())]
    NotPending {
        /// The id.
        id: String,
        /// Where it stands.
        status: Status,
    },
    /// It is not approved (or no longer usable).
    #[error("approval `{id}` is {}, not approved", .status.as_str())]
    NotApproved {
        /// The id.
        id: String,
        /// Where it stands.
        status: Status,
    },
    /// The change could not be saved, so it did not happen.
    #[error("{0}")]
    State(#[from] StateError),
}

/// Every approval, persisted through a [`Backend`] (this process's copy is the authority), or
/// kept in a [`SharedDoc`] that several processes change (Redis: the shared document is the
/// authority, read afresh for every change and replaced by compare-and-set, so an approval
/// asked for in one process can be answered through another and used once across all).
/// Share it as `Arc<ApprovalStore>`.
pub struct ApprovalStore {
    backend: Box<dyn Backend>,
    shared: Option<Box<dyn SharedDoc>>,
    records: Mutex<BTreeMap<String, ApprovalRecord>>,
    /// Bumped on every change, for calls held open waiting for an answer.
    changes: watch::Sender<u64>,
}

impl std::fmt::Debug for ApprovalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalStore").finish_non_exhaustive()
    }
}

/// Unix seconds of `t`.
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A new approval id: 128 random bits as 32 hex digits (a v4 UUID's random bits, with its
/// version and variant bytes replaced by random bytes of a second one).
fn new_id() -> String {
    let mut bytes = *uuid::Uuid::new_v4().as_bytes();
    let more = uuid::Uuid::new_v4();
    bytes[6] = more.as_bytes()[0];
    bytes[8] = more.as_bytes()[1];
    uuid::Uuid::from_bytes(bytes).simple().to_string()
}

impl ApprovalStore {
    /// Loads the approvals the backend holds. A document that does not parse is an error:
    /// a server must not start forgetting which approvals were used.
    pub fn open(backend: Box<dyn Backend>) -> Result<Arc<ApprovalStore>, StateError> {
        let records = parse(backend.load(DOC)?.as_deref())?;
        let (changes, _) = watch::channel(0);
        Ok(Arc::new(ApprovalStore { backend, shared: None, records: Mutex::new(records), changes }))
    }

    /// Approvals kept in a document shared by several processes. It is read once here: a
    /// document that does not parse is an error, as for [`ApprovalStore::open`]; one that
    /// cannot be read now (Redis down) is read when first needed, and until then every
    /// change fails (nothing is approved or used).
    pub fn open_shared(doc: Box<dyn SharedDoc>) -> Result<Arc<ApprovalStore>, StateError> {
        let records = match doc.load() {
            Ok((_, bytes)) => parse(bytes.as_deref())?,
            Err(e) => {
                tracing::warn!(error = %e, "approvals: the shared records cannot be read yet");
                BTreeMap::new()
            }
        };
        let (changes, _) = watch::channel(0);
        Ok(Arc::new(ApprovalStore {
            backend: Box::<super::MemoryBackend>::default(),
            shared: Some(doc),
            records: Mutex::new(records),
            changes,
        }))
    }

    /// How long a call held for an answer may sleep before looking again: a change made by
    /// this process wakes it ([`ApprovalStore::subscribe`]), one made by another process
    /// does not.
    pub fn recheck_every(&self) -> Option<Duration> {
        self.shared.as_ref().map(|_| SHARED_RECHECK)
    }

    /// A store in memory only (one-shot commands, tests).
    pub fn in_memory() -> Arc<ApprovalStore> {
        let (changes, _) = watch::channel(0);
        Arc::new(ApprovalStore {
            backend: Box::<super::MemoryBackend>::default(),
            shared: None,
            records: Mutex::new(BTreeMap::new()),
            changes,
        })
    }

    /// A receiver that sees every change (an answer, a use, an expiry).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Applies `change` to a copy of the records, saves the copy, and only then makes it
    /// current: a change that cannot be saved does not happen.
    fn update<T>(
        &self,
        mut change: impl FnMut(&mut BTreeMap<String, ApprovalRecord>) -> Result<T, ApprovalError>,
    ) -> Result<T, ApprovalError> {
        if let Some(doc) = &self.shared {
            return self.update_shared(doc.as_ref(), change);
        }
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = records.clone();
        let out = change(&mut next)?;
        if next != *records {
            self.backend.store(DOC, &serialize(&next)?)?;
            *records = next;
            drop(records);
            self.changes.send_modify(|n| *n += 1);
        }
        Ok(out)
    }

    /// [`ApprovalStore::update`] on the shared document: read it, apply `change`, write it back
    /// only if no other process wrote it meanwhile; else start over from what it wrote.
    fn update_shared<T>(
        &self,
        doc: &dyn SharedDoc,
        mut change: impl FnMut(&mut BTreeMap<String, ApprovalRecord>) -> Result<T, ApprovalError>,
    ) -> Result<T, ApprovalError> {
        for attempt in 0..SHARED_ATTEMPTS {
            let (version, bytes) = doc.load()?;
            let records = parse(bytes.as_deref())?;
            let mut next = records.clone();
            let out = change(&mut next)?;
            if next == records {
                *self.records.lock().unwrap_or_else(PoisonError::into_inner) = next;
                return Ok(out);
            }
            if doc.replace(version, &serialize(&next)?)? {
                *self.records.lock().unwrap_or_else(PoisonError::into_inner) = next;
                self.changes.send_modify(|n| *n += 1);
                return Ok(out);
            }
            // Another process changed it first: back off a little (more each time) and retry.
            std::thread::sleep(Duration::from_micros(200 * u64::from(attempt % 10 + 1)));
        }
        Err(ApprovalError::State(StateError::Write {
            path: DOC.to_owned(),
            source: std::io::Error::other("too many processes changing the shared approvals at once"),
        }))
    }

    /// The records as they stand: the shared document read afresh, or this process's copy.
    fn current(&self) -> BTreeMap<String, ApprovalRecord> {
        if let Some(doc) = &self.shared {
            match doc.load().and_then(|(_, bytes)| parse(bytes.as_deref())) {
                Ok(records) => {
                    *self.records.lock().unwrap_or_else(PoisonError::into_inner) = records.clone();
                    return records;
                }
                // Shown as "no approval": nothing can be answered or used while it is unreadable.
                Err(e) => {
                    tracing::warn!(error = %e, "approvals: the shared records cannot be read");
                    return BTreeMap::new();
                }
            }
        }
        self.records.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Marks records past their expiry as expired and forgets finished ones long past it.
    /// Returns the records that expired now (for the audit log).
    pub fn expire(&self, now: SystemTime) -> Result<Vec<ApprovalRecord>, ApprovalError> {
        let now = unix(now);
        self.update(|records| Ok(expire_in(records, now)))
    }

    /// What the store holds for a call: an approval to use, a pending one (asked for now if
    /// there is none), or a denial. Expired and used records never match.
    pub fn lookup_or_request(
        &self,
        request: &ApprovalRequest,
        now: SystemTime,
    ) -> Result<(Lookup, Vec<ApprovalRecord>), ApprovalError> {
        let now = unix(now);
        self.update(|records| {
            let expired = expire_in(records, now);
            let live = records
                .values()
                .filter(|r| r.call.binding == request.call.binding)
                .find(|r| matches!(r.status, Status::Pending | Status::Approved | Status::Denied) && r.expires >= now);
            let found = match live {
                Some(r) if r.status == Status::Approved => Lookup::Approved(r.clone()),
                Some(r) if r.status == Status::Denied => Lookup::Denied(r.clone()),
                Some(r) => Lookup::Pending { record: r.clone(), created: false },
                None => {
                    let ttl = request.ttl.as_secs();
                    let record = ApprovalRecord {
                        id: new_id(),
                        call: request.call.clone(),
                        created: now,
                        expires: now.saturating_add(ttl),
                        status: Status::Pending,
                        by: None,
                        reason: None,
                        changed: None,
                    };
                    records.insert(record.id.clone(), record.clone());
                    prune(records);
                    Lookup::Pending { record, created: true }
                }
            };
            Ok((found, expired))
        })
    }

    /// Uses an approved record for the call it is bound to: it becomes `used`, saved before
    /// this returns, so the call may go out once and never again.
    pub fn consume(&self, id: &str, now: SystemTime) -> Result<ApprovalRecord, ApprovalError> {
        let now = unix(now);
        self.update(|records| {
            let record = records.get_mut(id).ok_or_else(|| ApprovalError::Unknown(id.to_owned()))?;
            if record.status == Status::Approved && record.expires < now {
                record.status = Status::Expired;
                record.changed = Some(now);
            }
            if record.status != Status::Approved {
                return Err(ApprovalError::NotApproved { id: id.to_owned(), status: record.status });
            }
            record.status = Status::Used;
            record.changed = Some(now);
            Ok(record.clone())
        })
    }

    /// A person approves a pending record.
    pub fn approve(&self, id: &str, approver: &str, now: SystemTime) -> Result<ApprovalRecord, ApprovalError> {
        self.answer(id, approver, None, now)
    }

    /// A person denies a pending record, with a reason the agent will read.
    pub fn deny(
        &self,
        id: &str,
        approver: &str,
        reason: Option<&str>,
        now: SystemTime,
    ) -> Result<ApprovalRecord, ApprovalError> {
        self.answer(id, approver, Some(reason.unwrap_or("")), now)
    }

    fn answer(
        &self,
        id: &str,
        approver: &str,
        denial: Option<&str>,
        now: SystemTime,
    ) -> Result<ApprovalRecord, ApprovalError> {
        let now = unix(now);
        self.update(|records| {
            expire_in(records, now);
            let record = records.get_mut(id).ok_or_else(|| ApprovalError::Unknown(id.to_owned()))?;
            if record.status != Status::Pending {
                return Err(ApprovalError::NotPending { id: id.to_owned(), status: record.status });
            }
            record.status = if denial.is_some() { Status::Denied } else { Status::Approved };
            record.by = Some(approver.to_owned());
            record.reason = denial.filter(|r| !r.is_empty()).map(str::to_owned);
            record.changed = Some(now);
            Ok(record.clone())
        })
    }

    /// One record.
    pub fn get(&self, id: &str) -> Option<ApprovalRecord> {
        if self.shared.is_some() {
            return self.current().remove(id);
        }
        self.records.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }

    /// Every record kept, newest first.
    pub fn list(&self) -> Vec<ApprovalRecord> {
        let mut all: Vec<ApprovalRecord> = self.current().into_values().collect();
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        all
    }
}

/// The records of a stored document (none if it was never written).
fn parse(bytes: Option<&[u8]>) -> Result<BTreeMap<String, ApprovalRecord>, StateError> {
    let Some(bytes) = bytes else { return Ok(BTreeMap::new()) };
    let list: Vec<ApprovalRecord> =
        serde_json::from_slice(bytes).map_err(|e| StateError::Read { path: DOC.to_owned(), reason: e.to_string() })?;
    Ok(list.into_iter().map(|r| (r.id.clone(), r)).collect())
}

/// The stored form of the records: a JSON array.
fn serialize(records: &BTreeMap<String, ApprovalRecord>) -> Result<Vec<u8>, StateError> {
    let list: Vec<&ApprovalRecord> = records.values().collect();
    serde_json::to_vec(&list).map_err(|e| StateError::Read { path: DOC.to_owned(), reason: e.to_string() })
}

/// Expires what is due and drops finished records long past expiry.
fn expire_in(records: &mut BTreeMap<String, ApprovalRecord>, now: u64) -> Vec<ApprovalRecord> {
    let mut expired = Vec::new();
    for record in records.values_mut() {
        if matches!(record.status, Status::Pending | Status::Approved) && record.expires < now {
            record.status = Status::Expired;
            record.changed = Some(now);
            expired.push(record.clone());
        }
    }
    let keep = KEEP_AFTER_EXPIRY.as_secs();
    records.retain(|_, r| r.status == Status::Pending || r.expires.saturating_add(keep) >= now);
    expired
}

/// Keeps at most [`MAX_RECORDS`], dropping the oldest finished ones.
fn prune(records: &mut BTreeMap<String, ApprovalRecord>) {
    if records.len() <= MAX_RECORDS {
        return;
    }
    let mut finished: Vec<(u64, String)> = records
        .values()
        .filter(|r| !matches!(r.status, Status::Pending | Status::Approved))
        .map(|r| (r.created, r.id.clone()))
        .collect();
    finished.sort();
    for (_, id) in finished.into_iter().take(records.len() - MAX_RECORDS) {
        records.remove(&id);
    }
}

#[cfg(test)]
#[path = "approvals_tests.rs"]
mod tests;
