//! The simulated machine: everything connections share (configuration, state, jobs, events,
//! recorder, faults, the handler table) and the shutdown signal that ends it all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::SimConfig;
use super::events::EventBus;
use super::faults::Faults;
use super::jobs::JobEngine;
use super::methods::Handlers;
use super::recorder::Recorder;
use super::state::State;

/// Shared by every connection and job of one simulated NAS.
pub(crate) struct Machine {
    pub(crate) config: SimConfig,
    pub(crate) recorder: Recorder,
    pub(crate) faults: Faults,
    pub(crate) events: EventBus,
    pub(crate) jobs: JobEngine,
    pub(crate) handlers: Handlers,
    /// Cancelled when the `SimHandle` goes away: connections and jobs stop.
    pub(crate) shutdown: CancellationToken,
    /// Stable for the life of the simulated boot (`system.boot_id`).
    pub(crate) boot_id: String,
    /// Set once the API key was sent over an insecure transport.
    pub(crate) key_revoked: AtomicBool,
    state: Mutex<State>,
    next_connection: AtomicU64,
}

impl Machine {
    pub(crate) fn new(config: SimConfig) -> Machine {
        let faults = Faults::default();
        let events = EventBus::default();
        let shutdown = CancellationToken::new();
        let jobs = JobEngine::new(events.clone(), faults.clone(), shutdown.clone());
        Machine {
            state: Mutex::new(State::demo(config.release)),
            handlers: Handlers::for_release(config.release),
            config,
            recorder: Recorder::default(),
            faults,
            events,
            jobs,
            shutdown,
            boot_id: uuid::Uuid::new_v4().to_string(),
            key_revoked: AtomicBool::new(false),
            next_connection: AtomicU64::new(1),
        }
    }

    /// The state, locked. Never held across an `.await`.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // Handlers validate before they mutate, so a panic cannot leave half-applied state.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }
}
