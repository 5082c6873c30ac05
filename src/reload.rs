//! Reloading a policy file while the server runs, on SIGHUP and when the file changes (its
//! metadata is polled every [`POLL`]; a rename over it, as editors and `mv` do, changes its
//! inode and counts). The new document is read and checked whole (`PolicyEngine::load`); only
//! a valid one replaces the policy in force, in one atomic swap, for calls that start from then
//! on. A bad one keeps the old policy and logs every problem. Either way an audit record of kind
//! `policy_reload` says what happened, with the hashes and never the document.
//!
//! A valid document is put in force only once its audit record is written (fail closed: no
//! record, no change). The built-in policies have no file and never reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Map;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::gateway::Gateway;
use crate::ids::{ActionName, GrantId};
use crate::policy::{
    AuditRecord, AuditTransport, AuditWriteError, Outcome, Phase, PolicyEngine, PolicyError, PolicyHolder, PolicyNotes,
    PolicyReload, RecordKind,
};

/// How often the policy file's metadata is looked at.
pub const POLL: Duration = Duration::from_secs(1);

/// Which policy a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `--policy`: the one that decides.
    Active,
    /// `--shadow-policy`: evaluated beside it.
    Shadow,
}

impl Which {
    fn as_str(self) -> &'static str {
        match self {
            Which::Active => "active",
            Which::Shadow => "shadow",
        }
    }
}

/// Stops watching its file when dropped.
#[derive(Debug)]
pub struct Watcher {
    stop: CancellationToken,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Watches `path` and reloads the policy it holds into `gateway` until the [`Watcher`] is
/// dropped. Must be called within a tokio runtime.
pub fn spawn(gateway: Arc<Gateway>, path: PathBuf, which: Which) -> Watcher {
    let stop = CancellationToken::new();
    let mut watch = Watch { last: fingerprint(&path), gateway, path, which, rejected: None };
    let cancelled = stop.clone();
    tokio::spawn(async move { watch.run(cancelled).await });
    Watcher { stop }
}

/// What tells a changed file apart: device, inode, size, modification and change times.
type Fingerprint = Option<(u64, u64, u64, i64, i64, i64, i64)>;

fn fingerprint(path: &Path) -> Fingerprint {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec()))
}

struct Watch {
    gateway: Arc<Gateway>,
    path: PathBuf,
    which: Which,
    last: Fingerprint,
    // The hash of the last document refused, so a bad file is reported once, not every poll.
    rejected: Option<String>,
}

impl Watch {
    fn holder(&self) -> Option<&Arc<PolicyHolder>> {
        match self.which {
            Which::Active => Some(self.gateway.policy_holder()),
            Which::Shadow => self.gateway.shadow_holder(),
        }
    }

    async fn run(&mut self, stop: CancellationToken) {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(signal) => Some(signal),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; the policy file is still watched for changes");
                None
            }
        };
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let hup = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            let forced = tokio::select! {
                () = stop.cancelled() => return,
                Some(()) = hup => true,
                _ = tick.tick() => false,
            };
            let now = fingerprint(&self.path);
            if !forced && now == self.last {
                continue;
            }
            self.last = now;
            self.reload(forced).await;
        }
    }

    /// Reads, checks and (if valid and new) puts the file's policy in force.
    async fn reload(&mut self, forced: bool) {
        let Some(holder) = self.holder().cloned() else { return };
        let old = holder.current();
        let path = self.path.clone();
        let read = tokio::task::spawn_blocking(move || crate::app::read_policy(&path)).await;
        let text = match read {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => {
                tracing::error!("policy reload: {e}; the policy in force stays");
                let _ = self.audit(&old, "rejected", None, 1).await;
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "policy reload: the file could not be read; the policy in force stays");
                return;
            }
        };
        let sha = hex(&Sha256::digest(text.as_bytes()));
        if sha == old.sha256() {
            if forced {
                tracing::info!(policy = self.which.as_str(), policy_sha256 = %sha, "policy reload: the file is unchanged");
                let _ = self.audit(&old, "unchanged", Some(sha), 0).await;
            }
            self.rejected = None;
            return;
        }
        if !forced && self.rejected.as_deref() == Some(sha.as_str()) {
            return;
        }
        match build(&text, self.gateway.catalog(), &old) {
            Ok(engine) => {
                let engine = Arc::new(engine);
                // Fail closed: the change is in force only once it is on the record.
                if let Err(e) = self.audit(&engine, "applied", Some(sha.clone()), 0).await {
                    tracing::error!(error = %e, "policy reload: the audit record cannot be written; the policy in force stays");
                    return;
                }
                holder.replace(Arc::clone(&engine));
                self.rejected = None;
                for warning in engine.warnings() {
                    tracing::warn!("policy reload: warning: {warning}");
                }
                tracing::warn!(
                    policy = self.which.as_str(),
                    previous_sha256 = %old.sha256(),
                    policy_sha256 = %sha,
                    "policy reloaded from `{}`",
                    self.path.display()
                );
            }
            Err(error) => {
                let problems = error.problems();
                for problem in problems {
                    tracing::error!("policy reload: {problem}");
                }
                tracing::error!(
                    policy = self.which.as_str(),
                    problems = problems.len(),
                    "policy reload: `{}` is invalid; the policy in force stays",
                    self.path.display()
                );
                let _ = self.audit(&old, "rejected", Some(sha.clone()), problems.len()).await;
                self.rejected = Some(sha);
            }
        }
    }

    /// Writes the `policy_reload` record. `in_force` is the policy that decides once the record
    /// stands (for the shadow file, the active policy is named as deciding).
    async fn audit(
        &self,
        in_force: &Arc<PolicyEngine>,
        result: &'static str,
        file_sha256: Option<String>,
        problems: usize,
    ) -> Result<(), AuditWriteError> {
        let previous = self.holder().map(|h| h.current().sha256().to_owned()).unwrap_or_default();
        let deciding = match self.which {
            Which::Active => in_force.sha256().to_owned(),
            Which::Shadow => self.gateway.policy().sha256().to_owned(),
        };
        let (arg_keys, args_sha256) = AuditRecord::digest_args(&Map::new());
        let record = AuditRecord {
            record_id: uuid::Uuid::new_v4().to_string(),
            parent_record_id: None,
            time: SystemTime::now(),
            request_id: uuid::Uuid::new_v4().to_string(),
            phase: Phase::Done,
            kind: RecordKind::PolicyReload,
            transport: AuditTransport::Server,
            grant: GrantId::new("server"),
            policy_sha256: deciding,
            action: ActionName::new("policy_reload"),
            method: None,
            decision: None,
            rule: None,
            reason: None,
            arg_keys,
            args_sha256,
            outcome: if result == "rejected" { Outcome::Rejected } else { Outcome::Ok },
            error: None,
            job_id: None,
            duration_ms: 0,
            approval: None,
            notes: PolicyNotes {
                policy_reload: Some(PolicyReload {
                    policy: self.which.as_str(),
                    result,
                    previous_sha256: previous,
                    file_sha256,
                    problems,
                }),
                ..PolicyNotes::default()
            },
        };
        self.gateway.audit_log().record(&record).await
    }
}

/// Builds the new engine over the old engine's counter store: counters are keyed by rule id,
/// so a limit that keeps its id keeps its count across the reload.
fn build(text: &str, catalog: &crate::catalog::Catalog, old: &PolicyEngine) -> Result<PolicyEngine, PolicyError> {
    PolicyEngine::load_with_store(text, catalog, Arc::clone(old.store()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
