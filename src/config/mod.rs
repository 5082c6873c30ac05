//! Configuration in two stages: [`LowArgs`] holds the flags and environment variables as
//! given (clap), and [`Config`] is the resolved, checked result the rest of the program uses.
//! Resolution fails with one line naming the variable or flag at fault. The flags live in
//! `flags`; this file resolves and checks them; `cli` builds the command line as a whole
//! (version text, shell completions, man pages) from the same definitions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::ValueEnum;

use crate::nas::{ApiKey, Endpoint, NasError, TlsTrust};

pub mod cli;
mod flags;
pub use flags::{AuditCommand, Command, CommonArgs, DecisionFilter, LowArgs, PolicyCommand, PresetArg, SimRelease};

/// How actions are exposed as MCP tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ToolMode {
    /// One `truenas` tool: list categories, list actions, execute.
    Hierarchical,
    /// One MCP tool per action, with its own schema and annotations.
    Flat,
}

/// Which NAS to talk to.
#[derive(Debug, Clone)]
pub enum NasTarget {
    /// The in-process simulated NAS.
    Demo,
    /// A real (or externally simulated) NAS.
    Remote {
        /// Its address.
        endpoint: Endpoint,
        /// The API key.
        api_key: ApiKey,
        /// The key owner, for `auth.login_ex`.
        username: Option<String>,
        /// How its TLS certificate is checked.
        trust: TlsTrust,
    },
}

/// Where MCP is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http {
        /// Bind address.
        addr: SocketAddr,
        /// Accepted bearer tokens; empty means none required (loopback only).
        tokens: Vec<String>,
        /// Most sessions one grant may hold open at once.
        max_sessions: usize,
    },
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No NAS address given.
    #[error("TRUENAS_URL is not set: set it to your NAS, e.g. https://truenas.local (or pass --demo)")]
    MissingUrl,
    /// No API key given.
    #[error("TRUENAS_API_KEY is not set: create a key in the TrueNAS UI (or use TRUENAS_API_KEY_FILE)")]
    MissingApiKey,
    /// Both key sources given.
    #[error("TRUENAS_API_KEY and TRUENAS_API_KEY_FILE are both set: keep one")]
    TwoApiKeys,
    /// The key file cannot be read.
    #[error("TRUENAS_API_KEY_FILE `{path}` cannot be read: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The URL is unusable.
    #[error("TRUENAS_URL: {0}")]
    Url(NasError),
    /// A boolean variable with another value.
    #[error("TRUENAS_VERIFY_SSL must be `true` or `false`, got `{0}`")]
    VerifySsl(String),
    /// A CA file given with verification turned off.
    #[error("TRUENAS_CA_FILE is given but TRUENAS_VERIFY_SSL=false turns certificate checks off: choose one")]
    CaFileWithoutVerify,
    /// An unusable CA file.
    #[error("TRUENAS_CA_FILE `{path}`: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Serving a non-loopback address without authentication.
    #[error("--http {0} is not a loopback address: give at least one --http-token (TRUENAS_MCP_HTTP_TOKENS)")]
    OpenHttp(SocketAddr),
    /// Tokens without HTTP.
    #[error("--http-token (TRUENAS_MCP_HTTP_TOKENS) needs --http")]
    TokensWithoutHttp,
    /// Tokens given both inline and in a file.
    #[error(
        "--http-token (TRUENAS_MCP_HTTP_TOKENS) and --http-token-file (TRUENAS_MCP_HTTP_TOKENS_FILE) are both set: keep one"
    )]
    TwoTokenSources,
    /// The token file cannot be read.
    #[error("--http-token-file (TRUENAS_MCP_HTTP_TOKENS_FILE) `{path}` cannot be read: {reason}")]
    TokenFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// An empty token.
    #[error("--http-token (TRUENAS_MCP_HTTP_TOKENS) contains an empty token")]
    EmptyToken,
    /// A token too short to resist guessing; the message never shows it.
    #[error("--http-token (TRUENAS_MCP_HTTP_TOKENS): token {position} is shorter than {MIN_TOKEN_CHARS} characters")]
    ShortToken {
        /// Which token (1-based), so the operator can find it without the token being shown.
        position: usize,
    },
    /// The same token given twice: two clients meant to be told apart would share one grant.
    #[error("--http-token (TRUENAS_MCP_HTTP_TOKENS): token {position} is given twice; each client needs its own")]
    RepeatedToken {
        /// Which token (1-based) repeats an earlier one.
        position: usize,
    },
    /// An admin token without HTTP: there is no page to open.
    #[error("--admin-token (TRUENAS_MCP_ADMIN_TOKEN) needs --http")]
    AdminWithoutHttp,
    /// An admin token too short to resist guessing; the message never shows it.
    #[error("--admin-token (TRUENAS_MCP_ADMIN_TOKEN) is shorter than {MIN_TOKEN_CHARS} characters")]
    ShortAdminToken,
    /// An admin token that is also an agent's token: that agent could approve its own calls.
    #[error(
        "--admin-token (TRUENAS_MCP_ADMIN_TOKEN) is the same as --http-token {position}: an agent must never hold the admin token; choose another"
    )]
    AdminIsAgentToken {
        /// Which agent token (1-based) it equals.
        position: usize,
    },
    /// A zero audit size limit would rotate before every record.
    #[error("--audit-max-bytes (TRUENAS_MCP_AUDIT_MAX_BYTES) must be at least 1")]
    ZeroAuditMaxBytes,
    /// A size limit for an audit file that is not there.
    #[error("--audit-max-bytes (TRUENAS_MCP_AUDIT_MAX_BYTES) needs --audit")]
    AuditMaxBytesWithoutAudit,
    /// A zero session cap would refuse every client.
    #[error("--http-max-sessions (TRUENAS_MCP_HTTP_MAX_SESSIONS) must be at least 1")]
    ZeroSessions,
    /// A session cap without HTTP.
    #[error("--http-max-sessions (TRUENAS_MCP_HTTP_MAX_SESSIONS) needs --http")]
    SessionsWithoutHttp,
    /// A timeout of zero seconds.
    #[error("{0} must be at least 1 second")]
    ZeroTimeout(&'static str),
    /// `--state` names no known store.
    #[error("--state (TRUENAS_MCP_STATE) must be `file`, `memory` or `redis://HOST:PORT/N`, got `{0}`")]
    UnknownState(String),
    /// `--state` is a URL, but not a usable Redis one (the URL is not repeated: it may hold a
    /// password).
    #[error("--state (TRUENAS_MCP_STATE): {0}")]
    StateUrl(crate::state::redis::RedisUrlError),
}

/// Where limit counters live (`--state`, `TRUENAS_MCP_STATE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateStore {
    /// In the state directory (two slot files, `counters-a.slot` and `counters-b.slot`).
    File,
    /// In memory, for this process alone.
    Memory,
    /// In Redis, shared by every process using it (counters and approvals).
    Redis(Box<crate::state::redis::RedisTarget>),
}

impl std::str::FromStr for StateStore {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<StateStore, ConfigError> {
        match text.trim() {
            "file" => Ok(StateStore::File),
            "memory" => Ok(StateStore::Memory),
            url if url.contains("://") => crate::state::redis::RedisTarget::parse(url)
                .map(|t| StateStore::Redis(Box::new(t)))
                .map_err(ConfigError::StateUrl),
            other => Err(ConfigError::UnknownState(other.to_owned())),
        }
    }
}

/// Bearer tokens shorter than this are refused at start.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    nas: NasTarget,
    policy: Option<PathBuf>,
    shadow_policy: Option<PathBuf>,
    transport: Transport,
    audit: Option<PathBuf>,
    audit_max_bytes: Option<u64>,
    tool_mode: ToolMode,
    categories: Vec<String>,
    job_wait: Option<std::time::Duration>,
    call_timeout: Option<std::time::Duration>,
    connect_timeout: Option<std::time::Duration>,
    state_dir: Option<PathBuf>,
    // `None`: the default, a file in the state directory, or memory if none can be used.
    state: Option<StateStore>,
    control: Option<PathBuf>,
    admin_token: Option<String>,
    elicitation: bool,
}

/// An on/off setting given as a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

impl Config {
    /// Resolves and checks the raw arguments.
    pub fn from_low_args(low: &CommonArgs) -> Result<Config, ConfigError> {
        let given_tokens = http_tokens(low)?;
        let transport = match low.http {
            Some(addr) => {
                let tokens = check_tokens(&given_tokens)?;
                if tokens.is_empty() && !addr.ip().is_loopback() {
                    return Err(ConfigError::OpenHttp(addr));
                }
                let max_sessions = match low.http_max_sessions {
                    Some(0) => return Err(ConfigError::ZeroSessions),
                    Some(n) => n,
                    None => crate::mcp::http::DEFAULT_MAX_SESSIONS,
                };
                // Bearer tokens are secrets: scrubbed from every output from now on.
                tokens.iter().for_each(|t| crate::redact::remember_secret(t));
                Transport::Http { addr, tokens, max_sessions }
            }
            None if !given_tokens.is_empty() => return Err(ConfigError::TokensWithoutHttp),
            None if low.http_max_sessions.is_some() => return Err(ConfigError::SessionsWithoutHttp),
            None => Transport::Stdio,
        };
        let admin_token = check_admin_token(low.admin_token.as_deref(), &transport)?;
        Ok(Config {
            nas: resolve_nas(low)?,
            policy: low.policy.clone(),
            shadow_policy: low.shadow_policy.clone(),
            transport,
            audit: low.audit.clone(),
            audit_max_bytes: match (low.audit_max_bytes, &low.audit) {
                (Some(0), _) => return Err(ConfigError::ZeroAuditMaxBytes),
                (Some(_), None) => return Err(ConfigError::AuditMaxBytesWithoutAudit),
                (max, _) => max,
            },
            tool_mode: low.tool_mode,
            categories: low.categories.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            job_wait: low.job_wait.map(std::time::Duration::from_secs),
            call_timeout: positive_secs(low.call_timeout, "--call-timeout (TRUENAS_MCP_CALL_TIMEOUT)")?,
            connect_timeout: positive_secs(low.connect_timeout, "--connect-timeout (TRUENAS_MCP_CONNECT_TIMEOUT)")?,
            state_dir: low.state_dir.clone(),
            state: low.state.as_deref().map(str::parse).transpose()?,
            control: low.control.clone(),
            admin_token,
            elicitation: low.elicitation == Switch::On && !low.no_elicitation,
        })
    }

    /// Which NAS.
    pub fn nas(&self) -> &NasTarget {
        &self.nas
    }

    /// The policy file, or `None` for the built-in default.
    pub fn policy(&self) -> Option<&PathBuf> {
        self.policy.as_ref()
    }

    /// The shadow policy file (`--shadow-policy`), if one is given.
    pub fn shadow_policy(&self) -> Option<&PathBuf> {
        self.shadow_policy.as_ref()
    }

    /// Where MCP is served.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The audit file, if any.
    pub fn audit(&self) -> Option<&PathBuf> {
        self.audit.as_ref()
    }

    /// The audit file's size limit, if it rotates.
    pub fn audit_max_bytes(&self) -> Option<u64> {
        self.audit_max_bytes
    }

    /// Whether clients that declared elicitation are asked to approve calls.
    pub fn elicitation(&self) -> bool {
        self.elicitation
    }

    /// How actions are exposed.
    pub fn tool_mode(&self) -> ToolMode {
        self.tool_mode
    }

    /// How long a call waits for its job, if not the default.
    pub fn job_wait(&self) -> Option<std::time::Duration> {
        self.job_wait
    }

    /// The per-call timeout, if not the default.
    pub fn call_timeout(&self) -> Option<std::time::Duration> {
        self.call_timeout
    }

    /// The connect deadline, if not the default.
    pub fn connect_timeout(&self) -> Option<std::time::Duration> {
        self.connect_timeout
    }

    /// The state directory given, if one was (else the default, [`crate::state::default_dir`]).
    pub fn state_dir(&self) -> Option<&PathBuf> {
        self.state_dir.as_ref()
    }

    /// Where limit counters live, if given (`None`: a file in the state directory, falling
    /// back to memory with a warning when there is none).
    pub fn state(&self) -> Option<&StateStore> {
        self.state.as_ref()
    }

    /// The control socket path given, if one was.
    pub fn control(&self) -> Option<&PathBuf> {
        self.control.as_ref()
    }

    /// The token that opens the approvals page, if the page is served.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// The categories to expose; empty means all.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }
}

/// The bearer tokens as given: inline (`--http-token`), or one per line in a file
/// (`--http-token-file`), never both. Errors never show a token.
fn http_tokens(low: &CommonArgs) -> Result<Vec<String>, ConfigError> {
    let Some(path) = &low.http_token_file else { return Ok(low.http_tokens.clone()) };
    if !low.http_tokens.is_empty() {
        return Err(ConfigError::TwoTokenSources);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::TokenFile { path: path.display().to_string(), reason: e.to_string() })?;
    let tokens: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if tokens.is_empty() {
        return Err(ConfigError::EmptyToken);
    }
    Ok(tokens)
}

/// The bearer tokens, each checked: not empty, at least [`MIN_TOKEN_CHARS`] long, not repeated.
/// Errors say which token by position, never by its text.
fn check_tokens(given: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut tokens: Vec<String> = Vec::with_capacity(given.len());
    for (i, token) in given.iter().enumerate() {
        let token = token.trim();
        let position = i + 1;
        if token.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(ConfigError::ShortToken { position });
        }
        if tokens.iter().any(|t| t == token) {
            return Err(ConfigError::RepeatedToken { position });
        }
        tokens.push(token.to_string());
    }
    Ok(tokens)
}

/// The admin token, checked: only with HTTP, at least [`MIN_TOKEN_CHARS`] long, and none of the
/// agents' tokens. Errors never show it. Once accepted it is scrubbed from every output.
fn check_admin_token(given: Option<&str>, transport: &Transport) -> Result<Option<String>, ConfigError> {
    let Some(token) = given.map(str::trim) else { return Ok(None) };
    let Transport::Http { tokens, .. } = transport else { return Err(ConfigError::AdminWithoutHttp) };
    if token.chars().count() < MIN_TOKEN_CHARS {
        return Err(ConfigError::ShortAdminToken);
    }
    if let Some(i) = tokens.iter().position(|t| t == token) {
        return Err(ConfigError::AdminIsAgentToken { position: i + 1 });
    }
    crate::redact::remember_secret(token);
    Ok(Some(token.to_owned()))
}

/// A timeout in whole seconds; zero would fail every call, so it is refused.
fn positive_secs(secs: Option<u64>, flag: &'static str) -> Result<Option<std::time::Duration>, ConfigError> {
    match secs {
        Some(0) => Err(ConfigError::ZeroTimeout(flag)),
        other => Ok(other.map(std::time::Duration::from_secs)),
    }
}

fn resolve_nas(low: &CommonArgs) -> Result<NasTarget, ConfigError> {
    if low.demo {
        return Ok(NasTarget::Demo);
    }
    let non_empty = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let url = non_empty(&low.url).or_else(|| non_empty(&low.host)).ok_or(ConfigError::MissingUrl)?;
    let endpoint = Endpoint::parse(&url).map_err(ConfigError::Url)?;
    let api_key = match (non_empty(&low.api_key), &low.api_key_file) {
        (Some(_), Some(_)) => return Err(ConfigError::TwoApiKeys),
        (Some(key), None) => key,
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| ConfigError::KeyFile { path: path.display().to_string(), reason: e.to_string() })?
            .trim()
            .to_string(),
        (None, None) => return Err(ConfigError::MissingApiKey),
    };
    if api_key.is_empty() {
        return Err(ConfigError::MissingApiKey);
    }
    let verify = match low.verify_ssl.as_deref().map(str::trim) {
        None | Some("") | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => return Err(ConfigError::VerifySsl(other.to_string())),
    };
    let trust = match (&low.ca_file, verify) {
        (Some(_), false) => return Err(ConfigError::CaFileWithoutVerify),
        (None, true) => TlsTrust::PublicRoots,
        (None, false) => TlsTrust::Off,
        (Some(path), true) => {
            let problem = |reason: String| ConfigError::CaFile { path: path.display().to_string(), reason };
            let pem = std::fs::read(path).map_err(|e| problem(e.to_string()))?;
            TlsTrust::from_pem(&pem).map_err(problem)?
        }
    };
    Ok(NasTarget::Remote { endpoint, api_key: ApiKey::new(api_key), username: non_empty(&low.username), trust })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
