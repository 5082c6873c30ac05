//! One websocket connection's session: who logged in, its `core.set_options` options and its
//! event subscriptions.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

/// Per-connection options (`core.set_options`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionOptions {
    /// Job calls reply with the job id at once (the default) rather than when the job ends.
    pub(crate) legacy_jobs: bool,
    pub(crate) private_methods: bool,
    pub(crate) py_exceptions: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { legacy_jobs: true, private_methods: false, py_exceptions: false }
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// The logged-in user, if any.
    user: Option<String>,
    options: SessionOptions,
    /// Subscription id -> event name.
    subscriptions: HashMap<String, String>,
}

/// The session of one connection.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: u64,
    /// Whether the transport protects secrets (TLS or loopback); API keys sent otherwise are
    /// revoked by TrueNAS.
    pub(crate) secure_transport: bool,
    inner: Mutex<Inner>,
}

impl Session {
    pub(crate) fn new(id: u64, secure_transport: bool) -> Session {
        Session { id, secure_transport, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each update is a single assignment, so a poisoned lock still holds valid state.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn user(&self) -> Option<String> {
        self.lock().user.clone()
    }

    pub(crate) fn is_authenticated(&self) -> bool {
        self.lock().user.is_some()
    }

    pub(crate) fn login(&self, user: &str) {
        self.lock().user = Some(user.to_string());
    }

    pub(crate) fn logout(&self) {
        self.lock().user = None;
    }

    pub(crate) fn options(&self) -> SessionOptions {
        self.lock().options
    }

    pub(crate) fn set_options(&self, options: SessionOptions) {
        self.lock().options = options;
    }

    /// Subscribes to `event` and returns the subscription id.
    pub(crate) fn subscribe(&self, event: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.lock().subscriptions.insert(id.clone(), event.to_string());
        id
    }

    pub(crate) fn unsubscribe(&self, id: &str) {
        self.lock().subscriptions.remove(id);
    }

    /// Whether events of `collection` go to this connection: subscribed (or to `*`) and logged in.
    pub(crate) fn wants(&self, collection: &str) -> bool {
        let inner = self.lock();
        inner.user.is_some() && inner.subscriptions.values().any(|name| name == collection || name == "*")
    }

    /// The `credentials` member of jobs this session starts.
    pub(crate) fn credentials(&self) -> Value {
        match self.user() {
            Some(user) => json!({"type": "API_KEY", "data": {"username": user}}),
            None => Value::Null,
        }
    }
}
