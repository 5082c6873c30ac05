//! The `truenas-mcp` binary: parse the command line, build the pieces, run.

use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use truenas_mcp::app;
use truenas_mcp::catalog::Catalog;
use truenas_mcp::config::{AuditCommand, Command, Config, LowArgs, PolicyCommand, Transport, cli};
use truenas_mcp::gateway::{CallError, Invocation};
use truenas_mcp::ids::GrantId;
use truenas_mcp::mcp::{self, TrueNasServer};
use truenas_mcp::policy::{AuditTransport, PolicyEngine, RecordKind};
use truenas_mcp::redact;
use truenas_mcp::state::control::{self, ControlRequest};

/// Prints a line to stdout; a closed pipe (`truenas-mcp tools | head`) ends the output quietly
/// instead of panicking as `println!` does.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Exit code for bad configuration or usage (as clap uses).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    // One crypto provider for every TLS client, whatever features dependencies enable.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    init_logging();
    // The version text names the TrueNAS releases known at run time (`config::cli`).
    let low = cli::parse();
    // Serving one client over stdio, the tasks of a call hand over to each other on one thread;
    // a second worker would only be woken to steal them. HTTP serves many sessions on every core.
    let stdio = matches!(low.command, None | Some(Command::Serve)) && low.common.http.is_none();
    let mut builder =
        if stdio { tokio::runtime::Builder::new_current_thread() } else { tokio::runtime::Builder::new_multi_thread() };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(low)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr only (stdout carries MCP over stdio), filtered by `RUST_LOG`. Whatever
/// `RUST_LOG` says, the websocket and MCP libraries never log below INFO: at DEBUG and TRACE they
/// print frame and message payloads (the login frame carries the API key, tool calls carry
/// argument values). Every line passes the scrubber (the API key, bearer tokens, credentialed
/// URLs) on its way out.
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, filter};

    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    let no_payloads = filter::filter_fn(|meta| {
        let target = meta.target();
        // Websocket frames carry the login (the API key); MCP messages carry argument values.
        let noisy = ["tungstenite", "tokio_tungstenite", "rmcp"];
        !noisy.iter().any(|t| target.starts_with(t)) || *meta.level() <= tracing::Level::INFO
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(|| ScrubbedStderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(env)
        .with_filter(no_payloads);
    tracing_subscriber::registry().with(stderr).init();
}

/// Stderr through the scrubber. The formatter hands over each event in one write.
struct ScrubbedStderr;

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(redact::scrub_text(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

async fn run(low: LowArgs) -> anyhow::Result<ExitCode> {
    match low.command {
        None | Some(Command::Serve) => serve(&low).await,
        Some(Command::Completions { shell }) => {
            // A closed pipe (`truenas-mcp completions bash | head`) ends the output quietly.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &cli::completions(shell));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { ref dir }) => man(dir.as_deref()),
        Some(Command::Call { ref action, ref args }) => call(&low, action, args).await,
        Some(Command::Tools { ref category }) => tools(category.as_deref()),
        Some(Command::Approvals { ref command }) => approvals(&low, command).await,
        Some(Command::Policy { command: PolicyCommand::Check { ref file } }) => policy_check(file),
        Some(Command::Policy {
            command: PolicyCommand::Explain { ref file, ref action, ref args, ref grant, ref at, json },
        }) => policy_explain(file, action, args, grant, at.as_deref(), json),
        Some(Command::Audit { command: AuditCommand::Verify { ref files } }) => Ok(audit_verify(files)),
        Some(Command::Audit {
            command: AuditCommand::Show { ref files, ref action, decision, ref since, ref grant },
        }) => audit_show(files, action, decision.map(|d| d.as_str()), since.as_deref(), grant),
        Some(Command::Policy { command: PolicyCommand::Init { preset, ref categories, ref out } }) => {
            policy_init(preset.preset(), categories, out.as_deref())
        }
        Some(Command::Policy { command: PolicyCommand::Test { ref file, ref cases } }) => policy_test(file, cases),
        Some(Command::Policy { command: PolicyCommand::Schema }) => {
            out!("{}", serde_json::to_string_pretty(&PolicyEngine::json_schema())?);
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "sim")]
        Some(Command::Sim {
            listen,
            ref api_key,
            release,
            rest_only,
            ref tls_cert,
            ref tls_key,
            ref report_version,
        }) => {
            let tls = (tls_cert.as_deref(), tls_key.as_deref());
            run_sim(listen, api_key.as_deref(), release, rest_only, tls, report_version.clone()).await
        }
    }
}

/// `sim`: the simulated TrueNAS alone, until Ctrl-C.
#[cfg(feature = "sim")]
async fn run_sim(
    listen: std::net::SocketAddr,
    api_key: Option<&str>,
    release: truenas_mcp::config::SimRelease,
    rest_only: bool,
    (tls_cert, tls_key): (Option<&std::path::Path>, Option<&std::path::Path>),
    reported_version: Option<String>,
) -> anyhow::Result<ExitCode> {
    use truenas_sim::{self as sim, SimConfig};
    let mut config = SimConfig { release: release.release(), rest_only, reported_version, ..SimConfig::default() };
    if let Some(key) = api_key {
        config.api_key = key.to_string();
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot bind {listen}"))?;
    let key = config.api_key.clone();
    let user = config.username.clone();
    let handle = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => {
            let identity = match sim::TlsIdentity::from_files(cert, key) {
                Ok(identity) => identity,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(USAGE));
                }
            };
            sim::start_tls(listener, config, &identity).await
        }
        _ => sim::start(listener, config).await,
    }
    .context("cannot start the simulated NAS")?;
    out!("simulated TrueNAS listening on {}", handle.url());
    out!("  TRUENAS_URL={} TRUENAS_USERNAME={user} TRUENAS_API_KEY={key}", handle.url());
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `man [--dir DIR]`: the page to stdout, or every page into DIR (exit code 2 if it cannot
/// be written).
fn man(dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let written = match dir {
        None => cli::man_page().and_then(|page| std::io::Write::write_all(&mut std::io::stdout().lock(), &page)),
        Some(dir) => cli::write_man_pages(dir),
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`truenas-mcp man | head`) ends the output quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => {
            let target = dir.map_or_else(|| "stdout".to_string(), |d| format!("`{}`", d.display()));
            eprintln!("error: cannot write the man page to {target}: {e}");
            Ok(ExitCode::from(USAGE))
        }
    }
}

/// `policy check FILE`: errors to stderr with exit code 1; otherwise the warnings and the
/// summary to stdout with exit code 0.
fn policy_check(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin().context("the embedded tool catalog is invalid")?;
    match app::load_policy(Some(file), &catalog) {
        Ok(policy) => {
            let warnings = policy.warnings();
            if warnings.is_empty() {
                out!("{}: valid", file.display());
            } else {
                out!("{}: valid, with {} warning(s)", file.display(), warnings.len());
                for warning in warnings {
                    out!("warning: {warning}");
                }
            }
            out!("{}", policy.summary());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `policy init --preset P [--categories a,b] [--out FILE]`: the policy to stdout or FILE;
/// exit code 2 for an unknown category or a FILE that exists.
fn policy_init(
    preset: truenas_mcp::policy::Preset,
    categories: &[String],
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin().context("the embedded tool catalog is invalid")?;
    let text = match truenas_mcp::policy::starting_policy(&catalog, preset, categories) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let Some(path) = out else {
        use std::io::Write as _;
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return Ok(ExitCode::SUCCESS);
    };
    // `create_new`: an existing policy is never overwritten.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    match written {
        Ok(()) => {
            eprintln!("wrote {}; check it with `truenas-mcp policy check {}`", path.display(), path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            Ok(ExitCode::from(USAGE))
        }
    }
}

/// `policy test FILE CASES`: one line per case, a diff under each mismatch; exit code 0 when
/// every case matches, 1 on a mismatch, 2 when the policy or the case file is bad.
fn policy_test(file: &std::path::Path, cases: &std::path::Path) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin().context("the embedded tool catalog is invalid")?;
    let policy = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", file.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    let case_text = match std::fs::read_to_string(cases) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", cases.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    let json = cases.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let outcomes = match truenas_mcp::policy::run_cases(&policy, &catalog, &case_text, json) {
        Ok(outcomes) => outcomes,
        Err(e) => {
            eprintln!("error: {}: {e}", cases.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    for o in &outcomes {
        if o.passed {
            out!("ok    {}", o.name);
        } else {
            out!("FAIL  {}", o.name);
            out!("        expected: {}", o.expected);
            out!("        got:      {}", o.got);
        }
    }
    out!("{} case(s), {} passed, {failed} failed", outcomes.len(), outcomes.len() - failed);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `policy explain FILE ACTION JSON`: the decision and every rule considered, with exit code 0
/// whatever the decision; 2 when the file, the action or the arguments are bad.
fn policy_explain(
    file: &std::path::Path,
    action: &str,
    args: &str,
    grant: &str,
    at: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let usage = |message: String| {
        eprintln!("error: {message}");
        Ok(ExitCode::from(USAGE))
    };
    let catalog = Catalog::builtin().context("the embedded tool catalog is invalid")?;
    let policy = match app::load_policy(Some(file), &catalog) {
        Ok(policy) => policy,
        Err(e) => return usage(e.to_string()),
    };
    let Ok(serde_json::Value::Object(args)) = serde_json::from_str::<serde_json::Value>(args) else {
        return usage("the arguments must be a JSON object, e.g. '{\"id\": 1}'".into());
    };
    let at = match at {
        None => std::time::SystemTime::now(),
        Some(text) => match time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
            Ok(t) => t.into(),
            Err(_) => return usage(format!("--at: `{text}` is not an RFC 3339 time (2026-01-03T04:00:00Z)")),
        },
    };
    let grant = GrantId::new(grant);
    match truenas_mcp::policy::explain(&policy, &catalog, action, &args, &grant, at) {
        Ok(explained) if json => out!("{}", serde_json::to_string_pretty(&explained)?),
        Ok(explained) => out!("{}", explained.to_string().trim_end()),
        Err(e) => return usage(e.to_string()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `audit verify FILE...`: the summary to stdout with exit code 0, or the first break to stderr
/// with exit code 1.
fn audit_verify(files: &[std::path::PathBuf]) -> ExitCode {
    match truenas_mcp::policy::verify_audit_chain(files) {
        Ok(summary) => {
            out!("{}", summary.to_string().trim_end());
            ExitCode::SUCCESS
        }
        Err(broken) => {
            eprintln!("audit chain broken at {broken}");
            ExitCode::from(1)
        }
    }
}

/// `audit show FILE...`: the matching records as a table; lines that are not records are noted
/// on stderr.
fn audit_show(
    files: &[std::path::PathBuf],
    action: &Option<String>,
    decision: Option<&str>,
    since: Option<&str>,
    grant: &Option<String>,
) -> anyhow::Result<ExitCode> {
    let now = time::OffsetDateTime::now_utc();
    let since = match since.map(|s| truenas_mcp::policy::parse_since(s, now)).transpose() {
        Ok(since) => since,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let filter = truenas_mcp::policy::ShowFilter {
        action: action.clone(),
        decision: decision.map(str::to_string),
        since,
        grant: grant.clone(),
    };
    match truenas_mcp::policy::show_audit(files, &filter) {
        Ok((table, notes)) => {
            for note in notes {
                eprintln!("note: {note}");
            }
            out!("{}", table.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Resolves the configuration, or exits with a one-line message and code 2.
fn config(low: &LowArgs) -> Result<Config, ExitCode> {
    Config::from_low_args(&low.common).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(USAGE)
    })
}

async fn build(config: &Config, serving: bool) -> Result<app::App, ExitCode> {
    let built = if serving { app::build_server(config).await } else { app::build(config).await };
    built.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(USAGE)
    })
}

async fn serve(low: &LowArgs) -> anyhow::Result<ExitCode> {
    let config = match config(low) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let app = match build(&config, true).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    // Connect early so a wrong URL or key shows up in the log at once, without blocking MCP.
    let nas = app.gateway.nas().clone();
    tokio::spawn(async move {
        if let Err(e) = nas.connect().await {
            tracing::warn!("TrueNAS not reachable yet: {e}");
        }
    });
    match config.transport() {
        Transport::Stdio => {
            let server = TrueNasServer::new(app.gateway.clone(), config.tool_mode(), GrantId::new("stdio"))
                .with_categories(config.categories())
                .with_elicitation(config.elicitation());
            mcp::serve_stdio(server).await?;
        }
        Transport::Http { addr, tokens, max_sessions } => {
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot bind {addr}"))?;
            let local = listener.local_addr()?;
            eprintln!("truenas-mcp: serving MCP at {}", mcp::http::endpoint_url(local));
            let server = TrueNasServer::new(app.gateway.clone(), config.tool_mode(), GrantId::new("http"))
                .with_categories(config.categories())
                .with_elicitation(config.elicitation());
            let shutdown = CancellationToken::new();
            let on_signal = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                on_signal.cancel();
            });
            let approvals_page = config
                .admin_token()
                .map(|t| mcp::http::approvals_page::ApprovalsPage::new(t.to_owned(), app.gateway.clone()));
            if approvals_page.is_some() {
                eprintln!("truenas-mcp: approvals page at http://{local}/approvals");
            }
            let options =
                mcp::http::HttpOptions { tokens: tokens.clone(), max_sessions: *max_sessions, approvals_page };
            mcp::http::serve(listener, server, &options, shutdown).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn call(low: &LowArgs, action: &str, args: &str) -> anyhow::Result<ExitCode> {
    let args = match serde_json::from_str::<serde_json::Value>(args) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            eprintln!("error: the arguments must be a JSON object, e.g. '{{\"id\": 1}}'");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let config = match config(low) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let app = match build(&config, false).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let grant = GrantId::new("cli");
    let secrets = redact::secret_values(&args);
    let invocation = Invocation {
        grant: &grant,
        action,
        args,
        progress: None,
        cancel: CancellationToken::new(),
        transport: AuditTransport::Cli,
        kind: RecordKind::Call,
    };
    match app.gateway.execute(invocation).await {
        Ok(done) => {
            out!("{}", serde_json::to_string_pretty(&done.result)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}", redact::scrub_text_with(&e.to_string(), &secrets));
            if matches!(e, CallError::ApprovalRequired { .. }) {
                eprintln!("{CALL_CANNOT_BE_APPROVED}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// What `call` adds to `[APPROVAL REQUIRED]`: its approval lives in this process's memory and
/// ends with it, so no person can answer it.
const CALL_CANNOT_BE_APPROVED: &str = "note: a one-shot `truenas-mcp call` cannot be approved out of band: \
     it keeps its approval in memory and exits, with no state directory and no control socket, so \
     `truenas-mcp approvals approve` has nothing to answer. Make calls that need approval through a \
     running server (stdio or --http): it keeps approvals in its state directory (--state-dir) and \
     answers `truenas-mcp approvals` on its control socket";

/// `approvals list | show ID | approve ID | deny ID [--reason TEXT]`, over the running
/// server's control socket. Exit code 1 when the server refuses or cannot be reached.
async fn approvals(low: &LowArgs, request: &ControlRequest) -> anyhow::Result<ExitCode> {
    let dir = low.common.state_dir.clone().or_else(truenas_mcp::state::default_dir);
    let path = match (&low.common.control, &dir) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => control::socket_path(None, dir),
        (None, None) => {
            eprintln!("error: no state directory: set --state-dir (TRUENAS_MCP_STATE_DIR) or --control");
            return Ok(ExitCode::from(USAGE));
        }
    };
    match control::request(&path, request).await {
        Ok(result) => {
            match request {
                ControlRequest::List => print_approvals(&result),
                ControlRequest::Show { .. } => out!("{}", serde_json::to_string_pretty(&result)?),
                ControlRequest::Approve { id } => out!("approved {id}: the agent's next identical call goes through"),
                ControlRequest::Deny { id, .. } => out!("denied {id}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// One line per approval: id, status, action, method, grant, who answered.
fn print_approvals(list: &serde_json::Value) {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.is_empty() {
        out!("no approvals");
        return;
    }
    let field = |a: &serde_json::Value, k: &str| a.get(k).and_then(serde_json::Value::as_str).unwrap_or("-").to_owned();
    out!("{:<32}  {:<8}  {:<24}  {:<24}  {:<8}  by", "id", "status", "action", "method", "grant");
    for a in items {
        out!(
            "{:<32}  {:<8}  {:<24}  {:<24}  {:<8}  {}",
            field(a, "id"),
            field(a, "status"),
            field(a, "action"),
            field(a, "method"),
            field(a, "grant"),
            field(a, "by")
        );
    }
}

fn tools(category: Option<&str>) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin().context("the embedded tool catalog is invalid")?;
    let mut shown = 0;
    for cat in catalog.categories().iter().filter(|c| category.is_none_or(|want| want == c.name)) {
        out!("{} — {}", cat.name, cat.description);
        for name in &cat.actions {
            if let Some(a) = catalog.action(name.as_str()) {
                out!("  {:<32} {:<11} {}", a.name.as_str(), a.risk.as_str(), a.method);
                shown += 1;
            }
        }
    }
    if shown == 0 {
        eprintln!("error: no category `{}`", category.unwrap_or_default());
        return Ok(ExitCode::from(USAGE));
    }
    Ok(ExitCode::SUCCESS)
}
