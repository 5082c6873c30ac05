//! Turns a resolved [`Config`] into running pieces: the catalog, the policy engine, the audit
//! log, the NAS client (pointed at an in-process simulated NAS for `--demo`), and the
//! [`Gateway`] that joins them. What the binary's subcommands share lives here.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::catalog::{Catalog, CatalogError};
use crate::config::{Config, NasTarget};
use crate::gateway::Gateway;
use crate::nas::{ApiKey, Endpoint, NasClient, NasConfig, NasError, TlsTrust};
use crate::policy::{AuditError, AuditLog, AuditOptions, PolicyEngine, PolicyError};
use crate::sim::{self, SimConfig, SimHandle};

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
}

/// The assembled server. Keeps the simulated NAS alive for `--demo`.
pub struct App {
    /// The guarded call path.
    pub gateway: Arc<Gateway>,
    // Dropping it stops the in-process simulated NAS.
    _sim: Option<SimHandle>,
}

/// Loads a policy file, or the built-in default when `path` is `None`. A file over
/// [`policy::MAX_BYTES`](crate::policy::MAX_BYTES) is refused before it is read whole.
pub fn load_policy(path: Option<&Path>, catalog: &Catalog) -> Result<PolicyEngine, StartError> {
    let Some(path) = path else {
        return PolicyEngine::builtin("default", catalog).ok_or_else(|| StartError::BuiltinPolicy("default".into()));
    };
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
    let text = String::from_utf8(bytes)
        .map_err(|_| StartError::PolicyRead { path: shown(), reason: "the file is not UTF-8 text".into() })?;
    PolicyEngine::load(&text, catalog).map_err(|error| StartError::Policy { path: shown(), error })
}

/// Builds every piece from the configuration.
pub async fn build(config: &Config) -> Result<App, StartError> {
    let catalog = Catalog::builtin().map_err(StartError::Catalog)?;
    if let Some(name) = config.categories().iter().find(|c| catalog.category(c).is_none()) {
        let known: Vec<&str> = catalog.categories().iter().map(|c| c.name.as_str()).collect();
        return Err(StartError::UnknownCategory { name: name.clone(), known: known.join(", ") });
    }
    let policy = load_policy(config.policy().map(|p| p.as_path()), &catalog)?;
    let audit = match config.audit() {
        Some(path) => AuditLog::open_with(path, AuditOptions { max_bytes: config.audit_max_bytes() })
            .map_err(StartError::Audit)?,
        None => AuditLog::disabled(),
    };
    let (nas_config, sim) = match config.nas() {
        NasTarget::Demo => {
            let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| StartError::Sim(e.to_string()))?;
            let handle =
                sim::start(listener, SimConfig::default()).await.map_err(|e| StartError::Sim(e.to_string()))?;
            let endpoint = Endpoint::parse(&handle.url()).map_err(StartError::Nas)?;
            tracing::info!(url = %handle.url(), "demo mode: using the in-process simulated TrueNAS");
            let key = ApiKey::new(sim::DEMO_API_KEY);
            (NasConfig::new(endpoint, key, Some(sim::DEMO_USERNAME.to_string()), &TlsTrust::PublicRoots), Some(handle))
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
    let mut gateway = Gateway::new(Arc::new(catalog), Arc::new(policy), nas, audit);
    if let Some(budget) = config.job_wait() {
        gateway = gateway.with_job_budget(budget);
    }
    Ok(App { gateway: Arc::new(gateway), _sim: sim })
}
