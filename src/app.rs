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
use crate::policy::{AuditError, AuditLog, PolicyEngine, PolicyError};
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

/// Loads a policy file, or the built-in default when `path` is `None`.
pub fn load_policy(path: Option<&Path>) -> Result<PolicyEngine, StartError> {
    let Some(path) = path else {
        return PolicyEngine::builtin("default").ok_or_else(|| StartError::BuiltinPolicy("default".into()));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| StartError::PolicyRead { path: path.display().to_string(), reason: e.to_string() })?;
    PolicyEngine::from_json(&text).map_err(|error| StartError::Policy { path: path.display().to_string(), error })
}

/// Builds every piece from the configuration.
pub async fn build(config: &Config) -> Result<App, StartError> {
    let catalog = Catalog::builtin().map_err(StartError::Catalog)?;
    if let Some(name) = config.categories().iter().find(|c| catalog.category(c).is_none()) {
        let known: Vec<&str> = catalog.categories().iter().map(|c| c.name.as_str()).collect();
        return Err(StartError::UnknownCategory { name: name.clone(), known: known.join(", ") });
    }
    let policy = load_policy(config.policy().map(|p| p.as_path()))?;
    let audit = match config.audit() {
        Some(path) => AuditLog::open(path).map_err(StartError::Audit)?,
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
