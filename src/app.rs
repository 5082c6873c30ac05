//! Turns a resolved [`Config`] into running pieces: the catalog, the policy engine, the audit
//! log, the NAS client (pointed at an in-process simulated NAS for `--demo`), and the
//! [`Gateway`] that joins them. What the binary's subcommands share lives here.

use std::path::Path;
use std::sync::Arc;

use crate::catalog::{Catalog, CatalogError};
use crate::config::{Config, NasTarget, StateStore};
use crate::gateway::Gateway;
use crate::nas::{NasClient, NasConfig, NasError};
use crate::policy::{AuditError, AuditLog, AuditOptions, PolicyEngine, PolicyError};
use crate::state::approvals::ApprovalStore;
use crate::state::counters::CounterStore;
use crate::state::counters_file::{FileStore, FileStoreError};
use crate::state::counters_memory::MemoryStore;
use crate::state::counters_redis::RedisStore;
use crate::state::redis::{RedisDoc, RedisLink, RedisTarget};

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The policy file cannot be read.
    #[error("cannot read policy file `{path}`: {reason}")]
    PolicyRead {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The policy file is not a valid policy.
    #[error("policy file `{path}` is invalid:\n{error}")]
    Policy {
        /// The file.
        path: String,
        /// Every problem found.
        error: PolicyError,
    },
    /// The built-in policy is missing (a build defect).
    #[error("the built-in policy `{0}` is missing")]
    BuiltinPolicy(String),
    /// The audit file cannot be opened.
    #[error("cannot open audit file: {0}")]
    Audit(AuditError),
    /// The embedded tool set does not load (a build defect).
    #[error("the embedded tool catalog is invalid: {0}")]
    Catalog(CatalogError),
    /// The simulated NAS did not start.
    #[error("cannot start the simulated NAS: {0}")]
    Sim(String),
    /// `--demo` on a build without the simulated NAS (`--no-default-features`).
    #[error("--demo needs the simulated NAS, which this build leaves out (built without the `sim` feature)")]
    NoSim,
    /// `--categories` names a category the tool set does not have.
    #[error("--categories (TRUENAS_MCP_CATEGORIES): no category `{name}`; there are: {known}")]
    UnknownCategory {
        /// The name given.
        name: String,
        /// The categories there are.
        known: String,
    },
    /// The NAS address is unusable.
    #[error("{0}")]
    Nas(NasError),
    /// The state directory or approvals cannot be used.
    #[error("{0}")]
    State(crate::state::StateError),
    /// No state directory is given and none can be found (no `HOME`).
    #[error("no state directory: set --state-dir (TRUENAS_MCP_STATE_DIR)")]
    NoStateDir,
    /// The control socket cannot be used.
    #[error("{0}")]
    Control(crate::state::control::ControlError),
    /// The limit counters in the state directory cannot be used.
    #[error("limit counters: {0}")]
    Counters(FileStoreError),
}

/// The assembled server. Keeps the simulated NAS alive for `--demo`.
pub struct App {
    /// The guarded call path.
    pub gateway: Arc<Gateway>,
    // Dropping it stops the in-process simulated NAS.
    _sim: Option<DemoNas>,
    // Dropping it stops the control socket and removes its file.
    _control: Option<ControlGuard>,
    // Dropping them stops watching the policy files.
    _watchers: Vec<crate::reload::Watcher>,
}

/// Stops the control socket's task and removes the socket file when dropped.
struct ControlGuard {
    shutdown: tokio_util::sync::CancellationToken,
    path: std::path::PathBuf,
}

impl Drop for ControlGuard {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Loads a policy file, or the built-in default when `path` is `None`. A file over
/// [`policy::MAX_BYTES`](crate::policy::MAX_BYTES) is refused before it is read whole.
pub fn load_policy(path: Option<&Path>, catalog: &Catalog) -> Result<PolicyEngine, StartError> {
    load_policy_with_store(path, catalog, Arc::new(MemoryStore::new()))
}

/// [`load_policy`], keeping limit counters in `store`.
pub fn load_policy_with_store(
    path: Option<&Path>,
    catalog: &Catalog,
    store: Arc<dyn CounterStore>,
) -> Result<PolicyEngine, StartError> {
    let Some(path) = path else {
        let text = crate::policy::builtin_text("default").ok_or_else(|| StartError::BuiltinPolicy("default".into()))?;
        return PolicyEngine::load_with_store(text, catalog, store)
            .map_err(|error| StartError::Policy { path: "(built-in default)".into(), error });
    };
    let text = read_policy(path)?;
    PolicyEngine::load_with_store(&text, catalog, store)
        .map_err(|error| StartError::Policy { path: path.display().to_string(), error })
}

/// Reads a policy file's text: at most [`policy::MAX_BYTES`](crate::policy::MAX_BYTES), UTF-8.
pub fn read_policy(path: &Path) -> Result<String, StartError> {
    let shown = || path.display().to_string();
    let read_error = |e: std::io::Error| StartError::PolicyRead { path: shown(), reason: e.to_string() };
    let file = std::fs::File::open(path).map_err(read_error)?;
    // Read one byte past the limit: enough to tell an oversized file, without reading it all.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, crate::policy::MAX_BYTES as u64 + 1), &mut bytes)
        .map_err(read_error)?;
    if bytes.len() > crate::policy::MAX_BYTES {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(bytes.len() as u64);
        let reason = format!("the file is {size} bytes; the limit is {} bytes (1 MiB)", crate::policy::MAX_BYTES);
        return Err(StartError::PolicyRead { path: shown(), reason });
    }
    String::from_utf8(bytes)
        .map_err(|_| StartError::PolicyRead { path: shown(), reason: "the file is not UTF-8 text".into() })
}

/// The counter store `--state` asks for. By default a file in the state directory; when none
/// can be used (no directory, or another server holds its counters) the counters are kept in
/// memory, with a warning. A corrupt counters file always stops the start: silently starting
/// from zero would forget counts.
pub fn counter_store(config: &Config) -> Result<Arc<dyn CounterStore>, StartError> {
    match config.state() {
        Some(StateStore::Memory) => Ok(Arc::new(MemoryStore::new())),
        Some(StateStore::File) => open_file_store(config),
        Some(StateStore::Redis(target)) => Ok(Arc::new(RedisStore::new(redis_link(target)))),
        None => match open_file_store(config) {
            Err(e @ StartError::Counters(FileStoreError::Corrupt { .. })) => Err(e),
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "limit counters are kept in memory: they will not survive a restart (set --state-dir, or --state memory to silence this)"
                );
                Ok(Arc::new(MemoryStore::new()))
            }
            ok => ok,
        },
    }
}

/// A link to the Redis of `--state redis://...`. A Redis that does not answer now is a
/// warning, not a refusal to start: every call that needs it is denied until it answers.
fn redis_link(target: &RedisTarget) -> Arc<RedisLink> {
    let link = Arc::new(RedisLink::new(target.clone()));
    match link.ping() {
        Ok(()) => tracing::info!(redis = %target.shown(), "limit counters and approvals: shared in redis"),
        Err(e) => {
            tracing::warn!(error = %e, "shared state: redis does not answer; calls that need it are denied until it does")
        }
    }
    link
}

fn open_file_store(config: &Config) -> Result<Arc<dyn CounterStore>, StartError> {
    let dir = config.state_dir().cloned().or_else(crate::state::default_dir).ok_or(StartError::NoStateDir)?;
    let backend = crate::state::FileBackend::open(&dir).map_err(StartError::State)?;
    let store = FileStore::open(&dir, Box::new(backend)).map_err(StartError::Counters)?;
    tracing::info!(dir = %dir.display(), "limit counters: kept in the state directory");
    Ok(Arc::new(store))
}

/// Builds every piece from the configuration, for one call (`call`): approvals are kept in
/// memory, and no control socket is opened.
pub async fn build(config: &Config) -> Result<App, StartError> {
    assemble(config, false).await
}

/// Builds every piece for a serving server. When the policy can ask for approval (or a state
/// directory is given), approvals are kept in the state directory and answered over the
/// control socket, which a second server on the same state directory cannot take over.
pub async fn build_server(config: &Config) -> Result<App, StartError> {
    assemble(config, true).await
}

async fn assemble(config: &Config, serving: bool) -> Result<App, StartError> {
    let catalog = Catalog::builtin().map_err(StartError::Catalog)?;
    if let Some(name) = config.categories().iter().find(|c| catalog.category(c).is_none()) {
        let known: Vec<&str> = catalog.categories().iter().map(|c| c.name.as_str()).collect();
        return Err(StartError::UnknownCategory { name: name.clone(), known: known.join(", ") });
    }
    let store = counter_store(config)?;
    let policy = load_policy_with_store(config.policy().map(|p| p.as_path()), &catalog, store)?;
    // The shadow policy keeps its own counters in memory: it never spends the real ones.
    let shadow = match config.shadow_policy() {
        Some(path) => Some(load_policy(Some(path), &catalog)?),
        None => None,
    };
    let audit = match config.audit() {
        Some(path) => {
            AuditLog::open_with(path, AuditOptions { max_bytes: config.audit_max_bytes(), ..AuditOptions::default() })
                .map_err(StartError::Audit)?
        }
        None => AuditLog::disabled(),
    };
    let (nas_config, sim) = match config.nas() {
        NasTarget::Demo => {
            let (nas_config, handle) = start_demo_nas().await?;
            (nas_config, Some(handle))
        }
        NasTarget::Remote { endpoint, api_key, username, trust } => {
            (NasConfig::new(endpoint.clone(), api_key.clone(), username.clone(), trust), None)
        }
    };
    let mut nas_config = nas_config;
    if let Some(t) = config.call_timeout() {
        nas_config = nas_config.with_call_timeout(t);
    }
    if let Some(t) = config.connect_timeout() {
        nas_config = nas_config.with_connect_timeout(t);
    }
    let nas = NasClient::new(nas_config);
    let uses_approval = policy.uses_approval();
    let mut gateway = Gateway::new(Arc::new(catalog), Arc::new(policy), nas, audit);
    if let Some(budget) = config.job_wait() {
        gateway = gateway.with_job_budget(budget);
    }
    if let Some(shadow) = shadow {
        gateway = gateway.with_shadow_policy(Arc::new(shadow));
    }
    let mut listener = None;
    if serving && (uses_approval || config.state_dir().is_some()) {
        let dir = config.state_dir().cloned().or_else(crate::state::default_dir).ok_or(StartError::NoStateDir)?;
        let backend = crate::state::FileBackend::open(&dir).map_err(StartError::State)?;
        let path = crate::state::control::socket_path(config.control().map(|p| p.as_path()), &dir);
        // The socket first: a live server on this state directory keeps it, and its file.
        let bound = crate::state::control::bind(&path).await.map_err(StartError::Control)?;
        let store = match config.state() {
            // Shared by every process on this Redis; the control socket stays this process's.
            Some(StateStore::Redis(target)) => ApprovalStore::open_shared(Box::new(RedisDoc::new(
                Arc::new(RedisLink::new((**target).clone())),
                "approvals",
            ))),
            _ => ApprovalStore::open(Box::new(backend)),
        };
        gateway = gateway.with_approvals(store.map_err(StartError::State)?);
        listener = Some((bound, path));
    }
    let gateway = Arc::new(gateway);
    let control = listener.map(|(bound, path)| {
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(crate::state::control::serve(bound, Arc::clone(&gateway), shutdown.clone()));
        tracing::info!(socket = %path.display(), "approvals: control socket ready");
        ControlGuard { shutdown, path }
    });
    // A served policy file (and shadow policy) reloads on SIGHUP and when it changes; the
    // built-in policies do not.
    let mut watchers = Vec::new();
    if serving {
        if let Some(path) = config.policy() {
            watchers.push(crate::reload::spawn(Arc::clone(&gateway), path.clone(), crate::reload::Which::Active));
        }
        if let Some(path) = config.shadow_policy() {
            watchers.push(crate::reload::spawn(Arc::clone(&gateway), path.clone(), crate::reload::Which::Shadow));
        }
    }
    Ok(App { gateway, _sim: sim, _control: control, _watchers: watchers })
}

/// What keeps the demo's simulated NAS running.
#[cfg(feature = "sim")]
type DemoNas = truenas_sim::SimHandle;
/// Nothing: a build without the simulator refuses `--demo`.
#[cfg(not(feature = "sim"))]
type DemoNas = std::convert::Infallible;

/// Starts the in-process simulated NAS for `--demo` on a loopback port, and the client settings
/// that reach it.
#[cfg(feature = "sim")]
async fn start_demo_nas() -> Result<(NasConfig, DemoNas), StartError> {
    use crate::nas::{ApiKey, Endpoint, TlsTrust};
    use tokio::net::TcpListener;
    use truenas_sim::{DEMO_API_KEY, DEMO_USERNAME, SimConfig};
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| StartError::Sim(e.to_string()))?;
    let handle =
        truenas_sim::start(listener, SimConfig::default()).await.map_err(|e| StartError::Sim(e.to_string()))?;
    let endpoint = Endpoint::parse(&handle.url()).map_err(StartError::Nas)?;
    tracing::info!(url = %handle.url(), "demo mode: using the in-process simulated TrueNAS");
    let key = ApiKey::new(DEMO_API_KEY);
    Ok((NasConfig::new(endpoint, key, Some(DEMO_USERNAME.to_string()), &TlsTrust::PublicRoots), handle))
}

/// A build without the simulator has no demo NAS.
#[cfg(not(feature = "sim"))]
async fn start_demo_nas() -> Result<(NasConfig, DemoNas), StartError> {
    Err(StartError::NoSim)
}
