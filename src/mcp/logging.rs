//! MCP logging: the level a client sets (`logging/setLevel`, or a request's own `_meta` level),
//! and the log notifications (`notifications/message`) it gets at that level or above: the NAS
//! connection coming up, being lost and coming back, and the progress of the TrueNAS jobs its
//! calls run. Nothing is sent before a client sets a level. Messages carry the release, a job's
//! id, percent and TrueNAS's step text (scrubbed of known secrets), never an address, a user,
//! a key or an argument value.
// rmcp marks MCP logging deprecated (SEP-2577); clients of 2025-06-18 and 2025-11-25 use it.
#![allow(deprecated)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rmcp::RoleServer;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::{Peer, RequestContext};
use serde_json::json;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::nas::{JobProgress, NasEvent};
use crate::redact::scrub_text_with;

/// The logger name of connection events.
pub(crate) const CONNECTION_LOGGER: &str = "truenas.connection";
/// The logger name of job progress.
pub(crate) const JOBS_LOGGER: &str = "truenas.jobs";

/// The level a session's client set: 0 until it sets one (nothing is sent), then the rank of
/// the lowest level it wants.
#[derive(Default)]
pub(crate) struct Threshold(AtomicU8);

impl Threshold {
    pub(crate) fn set(&self, level: LoggingLevel) {
        self.0.store(rank(level), Ordering::Relaxed);
    }

    /// Whether a message at `level` goes out.
    pub(crate) fn allows(&self, level: LoggingLevel) -> bool {
        let set = self.0.load(Ordering::Relaxed);
        set != 0 && rank(level) >= set
    }

    /// The threshold of one request: its own `_meta` level if it carries one, else this one.
    pub(crate) fn for_request(&self, ctx: &RequestContext<RoleServer>) -> Threshold {
        let own = ctx.meta.log_level().map(rank).unwrap_or_else(|| self.0.load(Ordering::Relaxed));
        Threshold(AtomicU8::new(own))
    }
}

/// Debug is 1, emergency 8, as RFC 5424's severities in reverse.
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 1,
        LoggingLevel::Info => 2,
        LoggingLevel::Notice => 3,
        LoggingLevel::Warning => 4,
        LoggingLevel::Error => 5,
        LoggingLevel::Critical => 6,
        LoggingLevel::Alert => 7,
        LoggingLevel::Emergency => 8,
    }
}

/// The log message of a connection event: connected (info), lost (warning), reconnected (notice).
pub(crate) fn connection_message(event: &NasEvent) -> LoggingMessageNotificationParam {
    let (level, message) = match event {
        NasEvent::Connected { release } => (LoggingLevel::Info, format!("connected to TrueNAS {}", release.name())),
        NasEvent::Lost => {
            (LoggingLevel::Warning, "lost the connection to TrueNAS; the next call connects again".to_string())
        }
        NasEvent::Reconnected { release } => {
            (LoggingLevel::Notice, format!("connected to TrueNAS {} again", release.name()))
        }
    };
    let data = json!({
        "event": event.name(),
        "release": event.release().map(|r| r.name()),
        "message": message,
    });
    LoggingMessageNotificationParam::new(level, data).with_logger(CONNECTION_LOGGER)
}

/// The log message (info) of a job's progress in a call of `action`, scrubbed of known secrets
/// and of `secrets` (the call's secret argument values). Job 0 is the call itself (waiting for
/// an approval).
pub(crate) fn job_message(action: &str, progress: &JobProgress, secrets: &[String]) -> LoggingMessageNotificationParam {
    let description = scrub_text_with(&progress.description, secrets);
    let message = match (progress.job.0, description.is_empty()) {
        (0, _) => format!("{action}: {description}"),
        (job, true) => format!("{action}: TrueNAS job {job} at {:.0}%", progress.percent),
        (job, false) => format!("{action}: TrueNAS job {job} at {:.0}%: {description}", progress.percent),
    };
    let data = json!({
        "action": action,
        "job": (progress.job.0 != 0).then_some(progress.job.0),
        "percent": progress.percent,
        "description": description,
        "message": message,
    });
    LoggingMessageNotificationParam::new(LoggingLevel::Info, data).with_logger(JOBS_LOGGER)
}

/// Forwards connection events to one session's client at its level, until `stop` (the session
/// ended) or the client is gone.
pub(crate) fn forward_connection_events(
    peer: Peer<RoleServer>,
    mut events: broadcast::Receiver<NasEvent>,
    threshold: Arc<Threshold>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = stop.cancelled() => return,
                event = events.recv() => event,
            };
            let event = match event {
                Ok(event) => event,
                // Fell behind: the missed events are gone; the next ones still matter.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let message = connection_message(&event);
            if threshold.allows(message.level) && peer.notify_logging_message(message).await.is_err() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::JobId;
    use crate::schema::Release;

    #[test]
    fn nothing_is_sent_before_a_level_is_set_and_then_only_that_level_and_above() {
        let threshold = Threshold::default();
        assert!(!threshold.allows(LoggingLevel::Emergency));
        threshold.set(LoggingLevel::Notice);
        assert!(!threshold.allows(LoggingLevel::Info));
        assert!(threshold.allows(LoggingLevel::Notice) && threshold.allows(LoggingLevel::Warning));
        threshold.set(LoggingLevel::Debug);
        assert!(threshold.allows(LoggingLevel::Debug));
    }

    #[test]
    fn connection_events_name_the_release_and_nothing_else() {
        let up = connection_message(&NasEvent::Connected { release: Release::V25_10 });
        assert_eq!(up.level, LoggingLevel::Info);
        assert_eq!(up.logger.as_deref(), Some(CONNECTION_LOGGER));
        assert_eq!(up.data, json!({"event": "connected", "release": "25.10", "message": "connected to TrueNAS 25.10"}));
        let lost = connection_message(&NasEvent::Lost);
        assert_eq!((lost.level, lost.data["event"].clone()), (LoggingLevel::Warning, json!("lost")));
        let back = connection_message(&NasEvent::Reconnected { release: Release::V26_0 });
        assert_eq!((back.level, back.data["release"].clone()), (LoggingLevel::Notice, json!("26.0")));
    }

    #[test]
    fn job_progress_is_scrubbed_of_known_secrets_and_the_calls_own() {
        crate::redact::remember_secret("s3cr3t-key-for-logging-test");
        let p = JobProgress {
            job: JobId(7),
            percent: 42.0,
            description: "sending s3cr3t-key-for-logging-test as hunter2".into(),
        };
        let m = job_message("replication_run", &p, &["hunter2".to_string()]);
        let text = m.data.to_string();
        assert!(!text.contains("s3cr3t-key-for-logging-test") && !text.contains("hunter2"), "{text}");
        assert_eq!(m.data["job"], 7);
        assert_eq!(m.data["message"], "replication_run: TrueNAS job 7 at 42%: sending <redacted> as <redacted>");
    }
}
