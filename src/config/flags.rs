//! The first stage of configuration: the command line and environment variables as given
//! (clap), with the subcommands and their arguments. `config` resolves these into a checked
//! [`Config`](super::Config).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::{Switch, ToolMode};

/// Command line and environment, as given.
#[derive(Debug, Parser)]
#[command(name = "truenas-mcp", version, about = "A guarded MCP server for TrueNAS SCALE")]
pub struct LowArgs {
    /// What to run; without a subcommand, serve MCP (stdio, or HTTP with --http).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options shared by every subcommand.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by every subcommand.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Policy file (PolicyLayer JSON); default: the built-in policy/default.json.
    #[arg(long, env = "TRUENAS_MCP_POLICY", global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// A second policy file evaluated beside the active one on every call; it never changes an
    /// outcome, and each disagreement is audited (`shadow_disagreement`). Reloaded like `--policy`.
    #[arg(long, env = "TRUENAS_MCP_SHADOW_POLICY", global = true, value_name = "FILE")]
    pub shadow_policy: Option<PathBuf>,
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio.
    #[arg(long, env = "TRUENAS_MCP_HTTP", global = true, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Bearer token accepted over HTTP; repeat for several clients (each is its own grant).
    #[arg(
        long = "http-token",
        env = "TRUENAS_MCP_HTTP_TOKENS",
        value_delimiter = ',',
        global = true,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub http_tokens: Vec<String>,
    /// A file holding the bearer tokens, one per line (instead of --http-token; for container
    /// secrets). Blank lines are skipped.
    #[arg(long = "http-token-file", env = "TRUENAS_MCP_HTTP_TOKENS_FILE", global = true, value_name = "FILE")]
    pub http_token_file: Option<PathBuf>,
    /// Serve the approvals page at http://ADDR/approvals, opened only with this token (at least
    /// 16 characters, none of the agents' bearer tokens); without it the page is not served.
    #[arg(
        long = "admin-token",
        env = "TRUENAS_MCP_ADMIN_TOKEN",
        global = true,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub admin_token: Option<String>,
    /// Most MCP sessions one bearer token (or, without tokens, all HTTP clients) may hold open
    /// at once; default 64.
    #[arg(long = "http-max-sessions", env = "TRUENAS_MCP_HTTP_MAX_SESSIONS", global = true, value_name = "N")]
    pub http_max_sessions: Option<usize>,
    /// Append one JSON line per call (allowed or denied) to FILE.
    #[arg(long, env = "TRUENAS_MCP_AUDIT", global = true, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Rotate the audit file before it grows past N bytes (`FILE` -> `FILE.1` -> `FILE.2` ...);
    /// the hash chain continues across the files.
    #[arg(long = "audit-max-bytes", env = "TRUENAS_MCP_AUDIT_MAX_BYTES", global = true, value_name = "N")]
    pub audit_max_bytes: Option<u64>,
    /// One `truenas` tool with categories (as the server we replace), or one MCP tool per action.
    #[arg(long, env = "TRUENAS_MCP_TOOL_MODE", value_enum, default_value_t = ToolMode::Hierarchical, global = true)]
    pub tool_mode: ToolMode,
    /// Seconds a call waits for its TrueNAS job before answering with a handle
    /// (`truenas://jobs/{id}`) instead.
    #[arg(long = "job-wait", env = "TRUENAS_MCP_JOB_WAIT", global = true, value_name = "SECS")]
    pub job_wait: Option<u64>,
    /// Seconds to wait for TrueNAS's answer to one call (default 30).
    #[arg(long = "call-timeout", env = "TRUENAS_MCP_CALL_TIMEOUT", global = true, value_name = "SECS")]
    pub call_timeout: Option<u64>,
    /// Seconds a whole connect + login to TrueNAS may take (default 10).
    #[arg(long = "connect-timeout", env = "TRUENAS_MCP_CONNECT_TIMEOUT", global = true, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
    /// Expose only these categories (comma-separated), e.g. `vm,storage`.
    #[arg(long, env = "TRUENAS_MCP_CATEGORIES", value_delimiter = ',', global = true, value_name = "LIST")]
    pub categories: Vec<String>,
    /// Never ask MCP clients to approve calls through elicitation: only out-of-band answers
    /// (the `approvals` CLI) count. Same as TRUENAS_MCP_ELICITATION=off.
    #[arg(long = "no-elicitation", global = true)]
    pub no_elicitation: bool,
    /// `off` turns approval by elicitation off (as --no-elicitation); `on` is the default.
    #[arg(long = "elicitation", env = "TRUENAS_MCP_ELICITATION", value_enum, default_value_t = Switch::On, global = true, hide = true)]
    pub elicitation: Switch,
    /// Start a simulated TrueNAS in-process on a loopback port and use it; no other setup needed.
    #[arg(long, env = "TRUENAS_MCP_DEMO", global = true)]
    pub demo: bool,
    /// TrueNAS address, e.g. `https://truenas.local`.
    #[arg(long = "url", env = "TRUENAS_URL", global = true, hide = true)]
    pub url: Option<String>,
    /// Fallback for TRUENAS_URL (kept for compatibility).
    #[arg(long = "host", env = "TRUENAS_HOST", global = true, hide = true)]
    pub host: Option<String>,
    /// API key (prefer TRUENAS_API_KEY_FILE).
    #[arg(long = "api-key", env = "TRUENAS_API_KEY", global = true, hide = true, hide_env_values = true)]
    pub api_key: Option<String>,
    /// File holding the API key.
    #[arg(long = "api-key-file", env = "TRUENAS_API_KEY_FILE", global = true, hide = true)]
    pub api_key_file: Option<PathBuf>,
    /// Directory for state that outlives the server (approvals), created 0700; default
    /// `$XDG_STATE_HOME/truenas-mcp` or `~/.local/state/truenas-mcp`.
    #[arg(long = "state-dir", env = "TRUENAS_MCP_STATE_DIR", global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Where limit counters live: `file` (the default: slot files in the state directory,
    /// kept across restarts), `memory` (forgotten when the server stops), or
    /// `redis://[:PASSWORD@]HOST:PORT/N` (counters and approvals shared by every server using
    /// that Redis; calls are denied while it cannot be reached).
    // The value is hidden in `--help`: a Redis URL may hold a password.
    #[arg(
        long = "state",
        env = "TRUENAS_MCP_STATE",
        global = true,
        hide_env_values = true,
        value_name = "file|memory|redis://HOST:PORT/N"
    )]
    pub state: Option<String>,
    /// The control socket `truenas-mcp approvals` talks to; default `control.sock` in the
    /// state directory.
    #[arg(long = "control", env = "TRUENAS_MCP_CONTROL", global = true, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// The key owner's username, for `auth.login_ex`.
    #[arg(long = "username", env = "TRUENAS_USERNAME", global = true, hide = true)]
    pub username: Option<String>,
    /// `false` skips TLS certificate checks for this NAS only.
    #[arg(long = "verify-ssl", env = "TRUENAS_VERIFY_SSL", global = true, hide = true)]
    pub verify_ssl: Option<String>,
    /// PEM file of certificates to trust for this NAS (its CA or self-signed certificate).
    #[arg(long = "ca-file", env = "TRUENAS_CA_FILE", global = true, hide = true)]
    pub ca_file: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP: stdio, or streamable HTTP with --http (the same as giving no subcommand).
    Serve,
    /// Run the simulated TrueNAS alone, for other clients.
    #[cfg(feature = "sim")]
    Sim {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:6000")]
        listen: SocketAddr,
        /// API key the simulated NAS accepts (default: the demo key, printed at start).
        #[arg(long, hide_env_values = true)]
        api_key: Option<String>,
        /// Which TrueNAS release to behave as.
        #[arg(long, value_enum, default_value_t = SimRelease::V25_10)]
        release: SimRelease,
        /// Serve HTTPS/WSS with this PEM certificate chain (needs --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Behave as a release without JSON-RPC: serve only REST `/api/v2.0`.
        #[arg(long)]
        rest_only: bool,
        /// Report this version (`TrueNAS-28.0.0`) in `system.version` and `system.info` instead
        /// of the release's own, to play a NAS newer than any method table.
        #[arg(long, value_name = "VERSION")]
        report_version: Option<String>,
    },
    /// Make one call through the policy layer and print the result.
    Call {
        /// Action name, e.g. `vm_list`.
        action: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// List the actions.
    Tools {
        /// Only this category.
        #[arg(long)]
        category: Option<String>,
    },
    /// Work with policy files.
    Policy {
        /// What to do.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Answer approvals of the running server (over its control socket).
    Approvals {
        /// What to do.
        #[command(subcommand)]
        command: crate::state::control::ControlRequest,
    },
    /// Check or read audit files.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the shell completion script for SHELL (e.g. `truenas-mcp completions bash >
    /// /etc/bash_completion.d/truenas-mcp`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per subcommand into --dir.
    Man {
        /// Write `truenas-mcp.1` and a page per subcommand into this directory (it must exist).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain across FILEs, oldest first (`audit.jsonl.2 audit.jsonl.1
    /// audit.jsonl`): exit 1 naming the first broken, edited, missing, reordered or duplicated
    /// line; otherwise print a summary.
    Verify {
        /// The audit files, oldest first.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print records as a table.
    Show {
        /// The audit files, oldest first.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only this action.
        #[arg(long)]
        action: Option<String>,
        /// Only this decision.
        #[arg(long, value_enum)]
        decision: Option<DecisionFilter>,
        /// Only records since this RFC 3339 time, or this long ago (`90s`, `15m`, `2h`, `7d`).
        #[arg(long)]
        since: Option<String>,
        /// Only this grant (`stdio`, `cli`, `http-token-1`, ...).
        #[arg(long)]
        grant: Option<String>,
    },
}

/// `audit show --decision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionFilter {
    /// Allowed by the policy.
    #[value(alias = "allowed")]
    Allow,
    /// Denied by the policy.
    #[value(alias = "denied")]
    Deny,
}

impl DecisionFilter {
    /// The word audit records use.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionFilter::Allow => "allow",
            DecisionFilter::Deny => "deny",
        }
    }
}

/// Releases the simulated NAS can behave as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimRelease {
    /// TrueNAS 24.04: REST `/api/v2.0` only, Kubernetes apps (not driven).
    #[value(name = "24.04")]
    V24_04,
    /// TrueNAS 24.10: REST `/api/v2.0` only, no JSON-RPC.
    #[value(name = "24.10")]
    V24_10,
    /// TrueNAS 25.04 (API v25.04.2): JSON-RPC, with the old snapshot, service and update names.
    #[value(name = "25.04")]
    V25_04,
    /// TrueNAS 25.10 (API v25.10.5).
    #[value(name = "25.10")]
    V25_10,
    /// TrueNAS 26.0 (API v26.0.0).
    #[value(name = "26.0")]
    V26_0,
    /// TrueNAS 27.0 (API v27.0.0): no `auth.login_with_api_key`, keys log in with a username.
    #[value(name = "27.0")]
    V27_0,
}

impl SimRelease {
    /// The method table release.
    pub fn release(self) -> crate::schema::Release {
        match self {
            SimRelease::V24_04 => crate::schema::Release::V24_04,
            SimRelease::V24_10 => crate::schema::Release::V24_10,
            SimRelease::V25_04 => crate::schema::Release::V25_04,
            SimRelease::V25_10 => crate::schema::Release::V25_10,
            SimRelease::V26_0 => crate::schema::Release::V26_0,
            SimRelease::V27_0 => crate::schema::Release::V27_0,
        }
    }
}

/// `policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file and summarise it.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Print the JSON Schema of policy documents.
    Schema,
    /// Print (or write with --out) a commented starting policy generated from the tool catalog.
    Init {
        /// What the policy lets an agent do.
        #[arg(long, value_enum)]
        preset: PresetArg,
        /// Only these categories (comma separated, e.g. `vm,storage`), each action by name;
        /// every other action is denied.
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Write the policy to FILE instead of stdout (refused if FILE exists).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Decide the calls of a case file (TOML or JSON) with a policy, in-process, and compare
    /// with the expected decisions: exit 0 when all match, 1 on a mismatch, 2 on a bad file.
    Test {
        /// The policy file.
        file: PathBuf,
        /// The case file (`.json` is read as JSON, anything else as TOML).
        cases: PathBuf,
    },
    /// Decide one call as the server would, and show every rule considered and why.
    Explain {
        /// The policy file.
        file: PathBuf,
        /// The action (`vm_start`).
        action: String,
        /// The arguments, a JSON object (`'{"id": 1}'`).
        args: String,
        /// The grant calling (`stdio`, `http`, `cli`, or an HTTP token's grant).
        #[arg(long, default_value = "stdio")]
        grant: String,
        /// The time of the call, RFC 3339 (`2026-01-03T04:00:00Z`); default now.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `policy init --preset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    /// Reads only; destructive actions hidden.
    Readonly,
    /// Reads and reversible changes; each destructive action needs a person's approval.
    Operator,
    /// Everything; each destructive action has its own entry to tighten.
    Admin,
}

impl PresetArg {
    /// The policy module's preset.
    pub fn preset(self) -> crate::policy::Preset {
        match self {
            PresetArg::Readonly => crate::policy::Preset::Readonly,
            PresetArg::Operator => crate::policy::Preset::Operator,
            PresetArg::Admin => crate::policy::Preset::Admin,
        }
    }
}
