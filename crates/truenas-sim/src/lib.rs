//! A simulated TrueNAS on a real socket: the middleware's JSON-RPC 2.0 over websocket, with
//! state, jobs, events, TrueNAS's error shapes and params validated against the release's own
//! schemas. It is what `truenas-mcp --demo` talks to and what the tests run against, and it is
//! meant to be good enough to develop any TrueNAS client against.
//!
//! # Layout
//!
//! The generic engine sits at the top; each TrueNAS domain has a folder holding its state and
//! its methods.
//!
//! - `server`: HTTP routes (`/api/versions`, the websocket, REST, `/_sim/*` test hooks).
//! - `connection`: one websocket: framing, concurrency cap, faults, replies and events.
//! - `rest`: one REST request (`/api/v2.0`): bearer auth, mapped to a call by `truenas_api::rest`.
//! - `dispatch`: one call: authentication gate, schema validation, handler, job.
//! - `methods`: the method table (which handler answers which method name; every domain's
//!   `register` is called there; a handler is a function or a closure) and what handlers share:
//!   `Ctx`, `JobPlan`, query and `get_instance` over rows (by integer id or by name),
//!   `Ctx::with_defaults`, `Ctx::id_and_data`.
//! - `crud`: the CRUD shape collections share, written once: `Handlers::reads` registers
//!   `query` + `get_instance`, `crud::Collection` gives the `create`/`update`/`delete` that
//!   read the entry back and publish the change.
//! - `core_methods`: the middleware's own `core.*` methods (ping, jobs, subscriptions).
//! - `state`: what persists, one field per domain store, and the demo NAS they make together.
//! - Domains, each a folder whose `mod.rs` says what it owns and lists its files: `storage/`,
//!   `sharing/`, `account/`, `network/`, `apps/`, `system/`, `vm/`, `data_protection/`. In each,
//!   `x.rs` is state and rules, `x_methods.rs` the methods over it, `x_tests.rs` and
//!   `x_methods_tests.rs` their tests, `*_seed.rs` the demo data.
//!   `storage/` and `account/` give each collection its own type in its own file (`Pools`,
//!   `Datasets`, `Snapshots`, `SnapshotTasks`; `Users`, `Groups`, `Privileges`, `ApiKeyStore`),
//!   with `Storage` and `AccountStore` in their `mod.rs` composing them for what spans several;
//!   a file there uses only the files below it (each `mod.rs` lists them bottom up).
//! - `jobs`, `events`, `query`, `defaults`, `records`, `table`: the generic engines every domain
//!   reuses (`EventBus::emit`/`emit_entry` for collection events, `records::Records` for plain
//!   CRUD rows, `table::Table`/`table::Rows` for rows by id); `json`, `clock`: small helpers
//!   written once.
//! - `failure`, `wire`: TrueNAS's error model and the JSON-RPC shapes.
//! - `recorder`, `faults`: the test switches, shared with [`SimHandle`].
//! - `tests/`: wire-level tests over a real socket; `test_support`: what unit tests of every
//!   domain share (a JSON literal's members, a create's params with defaults, a refusal's reason).

mod account;
mod apps;
mod clock;
mod connection;
mod core_methods;
mod crud;
mod data_protection;
mod defaults;
mod dispatch;
mod events;
mod failure;
mod faults;
mod jobs;
mod json;
mod machine;
mod methods;
mod network;
mod params;
mod query;
mod recorder;
mod records;
#[cfg(any(test, feature = "testing"))]
pub mod reference_dumps;
mod rest;
mod server;
mod session;
mod sharing;
mod state;
mod storage;
mod system;
mod table;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod tls;
mod vm;
mod wire;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use failure::{Failure, Invalid};
pub use faults::Faults;
pub use recorder::{RecordedCall, Recorder};
pub use tls::{TlsError, TlsIdentity};

use machine::Machine;
use truenas_api::schema::Release;

/// The API key the demo NAS accepts: key id 1, owned by [`DEMO_USERNAME`]. Public on purpose.
pub const DEMO_API_KEY: &str = "1-G3tHKzUQme0WWLPlz9rOFfZqQGFEyaKQeH5L0yJBXjpRfJHdTOZU8M6krlkHSQZs";

/// The account that owns [`DEMO_API_KEY`].
pub const DEMO_USERNAME: &str = "truenas_admin";

/// What the simulated NAS accepts and which release it plays.
#[derive(Clone)]
pub struct SimConfig {
    /// The one API key that logs in.
    pub api_key: String,
    /// The user owning that key (`auth.login_ex` needs both).
    pub username: String,
    /// The release whose method table, versions and schemas the NAS presents.
    pub release: Release,
    /// Play a NAS without JSON-RPC (TrueNAS 24.04/24.10): `/api/versions` and the websocket
    /// answer 404, only REST `/api/v2.0` is served.
    pub rest_only: bool,
    /// The version `system.version` and `system.info` report instead of the release's own
    /// (`TrueNAS-28.0.0` plays a NAS newer than any method table); `None`: the release's.
    pub reported_version: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_key: DEMO_API_KEY.to_string(),
            username: DEMO_USERNAME.to_string(),
            release: Release::V25_10,
            rest_only: false,
            reported_version: None,
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("api_key", &"<redacted>")
            .field("username", &self.username)
            .field("release", &self.release)
            .field("rest_only", &self.rest_only)
            .field("reported_version", &self.reported_version)
            .finish()
    }
}

/// Why the simulated NAS could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listener has no usable local address.
    #[error("cannot read the listener's address: {0}")]
    Address(#[source] std::io::Error),
}

/// A running simulated NAS. Dropping it shuts the server down.
pub struct SimHandle {
    addr: SocketAddr,
    scheme: &'static str,
    machine: Arc<Machine>,
    task: Option<JoinHandle<()>>,
}

/// Starts a simulated NAS on `listener` (bind `127.0.0.1:0` in tests).
pub async fn start(listener: TcpListener, config: SimConfig) -> Result<SimHandle, SimError> {
    let addr = listener.local_addr().map_err(SimError::Address)?;
    Ok(serve(listener, addr, "http", config))
}

/// Starts a simulated NAS that speaks TLS (`https://`, `wss://`) with `identity`.
pub async fn start_tls(
    listener: TcpListener,
    config: SimConfig,
    identity: &TlsIdentity,
) -> Result<SimHandle, SimError> {
    let addr = listener.local_addr().map_err(SimError::Address)?;
    let listener = tls::TlsListener::new(listener, identity).map_err(SimError::Address)?;
    Ok(serve(listener, addr, "https", config))
}

fn serve<L>(listener: L, addr: SocketAddr, scheme: &'static str, config: SimConfig) -> SimHandle
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    tls::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let release = config.release;
    let machine = Arc::new(Machine::new(config));
    let app = server::router(Arc::clone(&machine));
    let shutdown = machine.shutdown.clone();
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<tls::Peer>();
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "simulated NAS: server stopped");
        }
    });
    tracing::info!(%addr, %release, scheme, "simulated TrueNAS listening");
    SimHandle { addr, scheme, machine, task: Some(task) }
}

impl SimHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client would be given as `TRUENAS_URL`, e.g. `http://127.0.0.1:40123`
    /// (`https://` when serving TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The call log, shared with the server.
    pub fn recorder(&self) -> Recorder {
        self.machine.recorder.clone()
    }

    /// The fault switches, shared with the server.
    pub fn faults(&self) -> Faults {
        self.machine.faults.clone()
    }

    /// Stops the server, its connections and its jobs, and waits for the listener to close.
    pub async fn shutdown(mut self) {
        self.machine.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.machine.shutdown.cancel();
    }
}
