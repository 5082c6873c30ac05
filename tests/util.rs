//! Helpers for the end-to-end tests: a simulated NAS in this process on a real socket, the
//! real `truenas-mcp` binary spawned against it, and an rmcp client talking to that binary.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Map, Value, json};
use tokio::process::Command;

use truenas_sim::{self as sim, SimConfig, SimHandle};

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_truenas-mcp")
}

/// A path in the repository (policy files, ...).
pub(crate) fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A simulated TrueNAS 25.10 on 127.0.0.1, with fast jobs.
pub(crate) async fn start_sim() -> SimHandle {
    start_sim_release(truenas_mcp::schema::Release::V25_10).await
}

/// A simulated NAS of the given release on 127.0.0.1, with fast jobs.
pub(crate) async fn start_sim_release(release: truenas_mcp::schema::Release) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = sim::start(listener, SimConfig { release, ..SimConfig::default() }).await.unwrap();
    handle.faults().set_job_step(std::time::Duration::from_millis(20));
    handle
}

/// A simulated TrueNAS 25.10 without JSON-RPC (REST `/api/v2.0` only), with fast jobs.
pub(crate) async fn start_rest_only_sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = SimConfig { rest_only: true, ..SimConfig::default() };
    let handle = sim::start(listener, config).await.unwrap();
    handle.faults().set_job_step(std::time::Duration::from_millis(20));
    handle
}

/// A command running the binary against `nas`, with no inherited TrueNAS settings.
pub(crate) fn command(nas: &SimHandle) -> Command {
    let mut cmd = Command::new(bin());
    for var in [
        "TRUENAS_URL",
        "TRUENAS_HOST",
        "TRUENAS_API_KEY",
        "TRUENAS_API_KEY_FILE",
        "TRUENAS_USERNAME",
        "TRUENAS_VERIFY_SSL",
        "TRUENAS_CA_FILE",
        "TRUENAS_MCP_POLICY",
        "TRUENAS_MCP_SHADOW_POLICY",
        "TRUENAS_MCP_HTTP",
        "TRUENAS_MCP_HTTP_TOKENS",
        "TRUENAS_MCP_HTTP_TOKENS_FILE",
        "TRUENAS_MCP_AUDIT",
        "TRUENAS_MCP_TOOL_MODE",
        "TRUENAS_MCP_DEMO",
        "TRUENAS_MCP_CALL_TIMEOUT",
        "TRUENAS_MCP_CONNECT_TIMEOUT",
        "TRUENAS_MCP_STATE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("TRUENAS_URL", nas.url())
        .env("TRUENAS_API_KEY", sim::DEMO_API_KEY)
        .env("TRUENAS_USERNAME", sim::DEMO_USERNAME)
        .env("RUST_LOG", "warn")
        // Counters in memory unless a test asks for a state directory: tests never share a
        // counters file (nor write one in the home directory).
        .env("TRUENAS_MCP_STATE", "memory")
        .kill_on_drop(true);
    cmd
}

/// Records progress notifications the server sends.
#[derive(Clone, Default)]
pub(crate) struct Client {
    pub(crate) progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Client {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(params);
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

pub(crate) type Session = RunningService<RoleClient, Client>;

/// Spawns the binary over stdio with extra arguments and connects an rmcp client.
pub(crate) async fn connect_stdio(nas: &SimHandle, args: &[&str]) -> (Session, Client) {
    let mut cmd = command(nas);
    cmd.args(args);
    let (transport, _stderr) = TokioChildProcess::builder(cmd).stderr(Stdio::inherit()).spawn().unwrap();
    let client = Client::default();
    let session = client.clone().serve(transport).await.unwrap();
    (session, client)
}

/// Calls the hierarchical `truenas` tool.
pub(crate) async fn truenas(session: &Session, category: &str, action: &str, params: Value) -> CallToolResult {
    let mut args = Map::new();
    args.insert("category".into(), json!(category));
    if !action.is_empty() {
        args.insert("action".into(), json!(action));
    }
    if !params.is_null() {
        args.insert("params".into(), params);
    }
    session.call_tool(CallToolRequestParams::new("truenas").with_arguments(args)).await.unwrap()
}

/// Calls a flat tool by action name.
pub(crate) async fn flat(session: &Session, action: &str, params: Value) -> CallToolResult {
    let args = params.as_object().cloned().unwrap_or_default();
    session.call_tool(CallToolRequestParams::new(action.to_string()).with_arguments(args)).await.unwrap()
}

/// The text of a tool result.
pub(crate) fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

/// Whether the result is an error.
pub(crate) fn is_error(result: &CallToolResult) -> bool {
    result.is_error.unwrap_or(false)
}

/// The JSON in a successful result's text.
pub(crate) fn json_of(result: &CallToolResult) -> Value {
    assert!(!is_error(result), "expected success, got: {}", text(result));
    serde_json::from_str(&text(result)).unwrap()
}

/// Methods the NAS received, leaving out the client's own session set-up.
pub(crate) fn nas_methods(nas: &SimHandle) -> Vec<String> {
    nas.recorder().calls().into_iter().map(|c| c.method).filter(|m| !is_session_method(m)).collect()
}

/// Calls of one method the NAS received, with their params.
pub(crate) fn nas_calls_of(nas: &SimHandle, method: &str) -> Vec<Value> {
    nas.recorder().calls().into_iter().filter(|c| c.method == method).map(|c| c.params).collect()
}

/// Whether a method belongs to the client's own session set-up and job following.
pub(crate) fn is_session_method(method: &str) -> bool {
    method.starts_with("auth.")
        || matches!(method, "system.version" | "core.subscribe" | "core.set_options" | "core.ping" | "core.get_jobs")
}

/// Writes a policy document to a temporary file and returns its path.
pub(crate) fn policy_file(dir: &tempdir::Dir, name: &str, doc: &Value) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path
}

/// A minimal temporary directory, removed on drop.
pub(crate) mod tempdir {
    use std::path::{Path, PathBuf};

    pub(crate) struct Dir(PathBuf);

    impl Dir {
        pub(crate) fn new(tag: &str) -> Dir {
            let path = std::env::temp_dir().join(format!("truenas-mcp-{tag}-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs `truenas-mcp approvals ARGS --state-dir STATE` (talking to the control socket of the
/// server on that state directory): (exit code, stdout, stderr).
pub(crate) async fn approvals_cli<S: AsRef<std::ffi::OsStr>>(state: &Path, args: &[S]) -> (i32, String, String) {
    let out = Command::new(bin())
        .arg("approvals")
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .env_remove("TRUENAS_MCP_CONTROL")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The records of the audit log at `path` (none if it does not exist yet); a line that is not
/// JSON fails the test.
pub(crate) fn audit_records(path: &Path) -> Vec<serde_json::Value> {
    let raw = std::fs::read_to_string(path).unwrap_or_default();
    raw.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
