//! The event bus: collection updates (`core.get_jobs`, `vm.query`, ...) fanned out to every
//! connection, each of which forwards only the collections it subscribed to.

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

/// How many events a slow connection may lag behind before it loses some.
const CAPACITY: usize = 4096;

/// The kind of change, as the `msg` member spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Changed,
    Removed,
}

/// One collection update.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) collection: String,
    pub(crate) change: Change,
    pub(crate) id: Value,
    /// The full object for added/changed; absent for removed.
    pub(crate) fields: Option<Value>,
}

impl Event {
    /// The JSON-RPC notification a subscribed client receives.
    pub(crate) fn to_notification(&self) -> Value {
        let mut params = Map::new();
        let msg = match self.change {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        };
        params.insert("msg".into(), json!(msg));
        params.insert("collection".into(), json!(self.collection));
        params.insert("id".into(), self.id.clone());
        if let (Some(fields), Change::Added | Change::Changed) = (&self.fields, self.change) {
            params.insert("fields".into(), fields.clone());
        }
        json!({"jsonrpc": "2.0", "method": "collection_update", "params": params})
    }
}

/// Sends events to every live connection.
#[derive(Debug, Clone)]
pub(crate) struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl EventBus {
    pub(crate) fn publish(&self, event: Event) {
        // No receivers simply means no connection is open: nothing to deliver.
        let _ = self.sender.send(event);
    }

    /// Publishes a `change` of row `id` of `collection`, with its entry `fields`.
    pub(crate) fn emit(&self, collection: &str, change: Change, id: impl Into<Value>, fields: Option<Value>) {
        self.publish(Event { collection: collection.into(), change, id: id.into(), fields });
    }

    /// Publishes a `change` of row `id` of `collection`, reading its entry with `entry` unless
    /// the row was removed.
    pub(crate) fn emit_entry(
        &self,
        collection: &str,
        change: Change,
        id: impl Into<Value>,
        entry: impl FnOnce() -> Option<Value>,
    ) {
        let fields = if change == Change::Removed { None } else { entry() };
        self.emit(collection, change, id, fields);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
