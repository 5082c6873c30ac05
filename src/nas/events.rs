//! What the client tells the rest of the server about its connection: connected, lost,
//! connected again. Anyone may listen ([`NasClient::events`]); the MCP layer turns them into
//! log notifications. Events name the release, never the address, the user or the key.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::broadcast;

use super::session::Session;
use super::{Inner, NasClient};
use crate::schema::Release;

/// How many events a slow listener may fall behind before it misses some.
pub(super) const CAPACITY: usize = 16;

/// A change in the connection to the NAS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NasEvent {
    /// The first connection of this process is up.
    Connected {
        /// The release the NAS runs.
        release: Release,
    },
    /// The connection closed or fell silent (JSON-RPC only: REST keeps no connection).
    Lost,
    /// A connection is up again after an earlier one was lost.
    Reconnected {
        /// The release the NAS runs.
        release: Release,
    },
}

impl NasEvent {
    /// A short word for the event: `connected`, `lost`, `reconnected`.
    pub fn name(&self) -> &'static str {
        match self {
            NasEvent::Connected { .. } => "connected",
            NasEvent::Lost => "lost",
            NasEvent::Reconnected { .. } => "reconnected",
        }
    }

    /// The release of a connection that came up.
    pub fn release(&self) -> Option<Release> {
        match self {
            NasEvent::Connected { release } | NasEvent::Reconnected { release } => Some(*release),
            NasEvent::Lost => None,
        }
    }
}

impl NasClient {
    /// Listens to connection events from now on.
    pub fn events(&self) -> broadcast::Receiver<NasEvent> {
        self.inner.events.subscribe()
    }

    /// The release of the current connection, else of the last one; `None` before the first.
    pub fn last_release(&self) -> Option<Release> {
        *self.inner.last_release.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Announces a session that just came up, and its loss once its websocket closes.
    pub(super) fn announce_up(&self, session: &Arc<Session>) {
        *self.last_release.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.release);
        let release = session.release;
        let event = if self.ever_up.swap(true, Ordering::SeqCst) {
            NasEvent::Reconnected { release }
        } else {
            NasEvent::Connected { release }
        };
        // No listener is not an error: nobody asked to hear it.
        let _ = self.events.send(event);
        if let Some(closed) = session.closed_signal() {
            let events = self.events.clone();
            tokio::spawn(async move {
                closed.cancelled().await;
                let _ = events.send(NasEvent::Lost);
            });
        }
    }
}
