//! The call log: every JSON-RPC call the simulated NAS receives, in arrival order, so tests
//! can assert what a client actually sent.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

/// One call as it arrived on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedCall {
    /// Which websocket connection sent it, numbered from 1 in accept order.
    pub connection: u64,
    /// The `method` member.
    pub method: String,
    /// The `params` member exactly as received (`[]` when it was absent).
    pub params: Value,
}

/// A shared handle on the call log; clones see the same log.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<RecordedCall>>>,
}

impl Recorder {
    /// Every call received so far, oldest first.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.lock().clone()
    }

    /// Forgets every recorded call.
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub(crate) fn record(&self, connection: u64, method: &str, params: &Value) {
        self.lock().push(RecordedCall { connection, method: method.to_string(), params: params.clone() });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedCall>> {
        // A panic while holding this lock cannot leave the Vec half-written, so poison is harmless.
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
