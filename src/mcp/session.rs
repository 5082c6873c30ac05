//! What one MCP session keeps apart from the others: the log level its client set, the
//! release whose result structures its last `tools/list` declared (its results are checked
//! against exactly those), and the task that forwards connection events to it, stopped when
//! the session ends. Each HTTP session gets its own ([`super::TrueNasServer::for_session`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::RoleServer;
use rmcp::service::Peer;
use tokio_util::sync::CancellationToken;

use super::logging::{self, Threshold};
use crate::nas::NasClient;
use crate::schema::Release;

/// One session's own state. Dropped with the session's handler, which stops its forwarder.
#[derive(Default)]
pub(crate) struct SessionState {
    /// The level its client set (nothing is sent before it sets one).
    pub(crate) threshold: Arc<Threshold>,
    // The release of the last listing this session was shown.
    listed: Mutex<Option<Release>>,
    // Whether connection events are already forwarded to it.
    forwarding: AtomicBool,
    // Cancelled on drop: stops the forwarder.
    stop: CancellationToken,
}

impl Drop for SessionState {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl SessionState {
    /// The release of the last listing this session was shown, if it listed tools.
    pub(crate) fn listed(&self) -> Option<Release> {
        *self.listed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the release a listing was made for.
    pub(crate) fn set_listed(&self, release: Release) {
        *self.listed.lock().unwrap_or_else(|p| p.into_inner()) = Some(release);
    }

    /// Starts forwarding connection events to `peer` (once per session).
    pub(crate) fn forward_events(&self, nas: &NasClient, peer: Peer<RoleServer>) {
        if self.forwarding.swap(true, Ordering::SeqCst) {
            return;
        }
        logging::forward_connection_events(peer, nas.events(), Arc::clone(&self.threshold), self.stop.clone());
    }
}
