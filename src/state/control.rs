//! The control socket: a Unix socket in the state directory (mode 0600) over which
//! `truenas-mcp approvals ...` asks the running server to list, show, approve or deny
//! approvals. One JSON object per line each way. The approver is the OS user on the other
//! end of the socket (its peer credentials), never a name the client sends.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

/// The socket's file name in the state directory.
pub const SOCKET: &str = "control.sock";

/// Longest request line read (an id and a reason fit easily).
const MAX_LINE: usize = 16 * 1024;

/// A request on the control socket, and the `truenas-mcp approvals` subcommand that sends it:
/// one enum, so the command line and the wire cannot drift apart.
#[derive(Debug, Clone, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ControlRequest {
    /// List approvals: pending first, then recent answers.
    List,
    /// Show one approval: the call, what it would send, the rule that asked.
    Show {
        /// The approval id.
        id: String,
    },
    /// Approve a pending call; the agent's next identical call goes through, once.
    Approve {
        /// The approval id.
        id: String,
    },
    /// Deny a pending call; the agent reads the reason.
    Deny {
        /// The approval id.
        id: String,
        /// Why (shown to the agent).
        #[serde(default)]
        #[arg(long)]
        reason: Option<String>,
    },
}

/// What answers control requests (the gateway, which audits each answer).
pub trait ControlHandler: Send + Sync + 'static {
    /// Answers one request from `user`; `Err` is the message the client prints.
    fn handle(&self, request: ControlRequest, user: &str) -> impl Future<Output = Result<Value, String>> + Send;
}

/// Why the control socket cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Another server answers on the socket.
    #[error(
        "another truenas-mcp server is using the control socket `{0}`; give this one its own --state-dir or --control"
    )]
    InUse(String),
    /// Binding or setting up the socket failed.
    #[error("cannot listen on the control socket `{path}`: {source}")]
    Bind {
        /// The socket path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No server listens on the socket.
    #[error(
        "no truenas-mcp server is running with the control socket `{0}` (start the server, or pass --control or --state-dir as it was started with)"
    )]
    NoServer(String),
    /// The conversation with the server failed.
    #[error("control socket `{path}`: {reason}")]
    Io {
        /// The socket path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The server refused the request.
    #[error("{0}")]
    Refused(String),
}

/// The control socket path: `control` if given, else `control.sock` in `state_dir`.
pub fn socket_path(control: Option<&Path>, state_dir: &Path) -> PathBuf {
    control.map_or_else(|| state_dir.join(SOCKET), Path::to_path_buf)
}

/// Binds the socket with mode 0600. A socket file nobody answers on (a server that died) is
/// replaced; one a live server answers on is an error.
pub async fn bind(path: &Path) -> Result<UnixListener, ControlError> {
    let shown = path.display().to_string();
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ControlError::InUse(shown));
        }
        std::fs::remove_file(path).map_err(|source| ControlError::Bind { path: shown.clone(), source })?;
    }
    let listener = UnixListener::bind(path).map_err(|source| ControlError::Bind { path: shown.clone(), source })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|source| ControlError::Bind { path: shown, source })?;
    }
    Ok(listener)
}

/// Serves control requests until `shutdown`; each connection in its own task.
pub async fn serve<H: ControlHandler>(listener: UnixListener, handler: Arc<H>, shutdown: CancellationToken) {
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "control socket: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let handler = Arc::clone(&handler);
        tokio::spawn(async move { connection(stream, handler).await });
    }
}

async fn connection<H: ControlHandler>(stream: UnixStream, handler: Arc<H>) {
    let user = match stream.peer_cred() {
        Ok(cred) => user_name(cred.uid()),
        Err(e) => {
            // No credentials, no approver: refuse to answer anything.
            tracing::warn!(error = %e, "control socket: no peer credentials; connection closed");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read.take(MAX_LINE as u64 * 64)).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = if line.len() > MAX_LINE {
            json!({"ok": false, "error": "request too long"})
        } else {
            match serde_json::from_str::<ControlRequest>(&line) {
                Ok(request) => match handler.handle(request, &user).await {
                    Ok(value) => json!({"ok": true, "result": value}),
                    Err(error) => json!({"ok": false, "error": error}),
                },
                Err(e) => json!({"ok": false, "error": format!("bad request: {e}")}),
            }
        };
        let mut text = reply.to_string();
        text.push('\n');
        if write.write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The user name of `uid` from `/etc/passwd`, else `uid:N`.
pub fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let id = fields.nth(1)?.parse::<u32>().ok()?;
                (id == uid && !name.is_empty()).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid:{uid}"))
}

/// Sends one request to the server and returns its result.
pub async fn request(path: &Path, request: &ControlRequest) -> Result<Value, ControlError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| ControlError::Io { path: shown.clone(), reason: e.to_string() };
    let stream = UnixStream::connect(path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => ControlError::NoServer(shown.clone()),
        _ => io(e),
    })?;
    let (read, mut write) = stream.into_split();
    let mut line =
        serde_json::to_string(request).map_err(|e| ControlError::Io { path: shown.clone(), reason: e.to_string() })?;
    line.push('\n');
    write.write_all(line.as_bytes()).await.map_err(io)?;
    let mut reply = String::new();
    BufReader::new(read).read_line(&mut reply).await.map_err(io)?;
    let reply: Value = serde_json::from_str(&reply)
        .map_err(|_| ControlError::Io { path: shown.clone(), reason: "the server sent no answer".into() })?;
    if reply.get("ok") == Some(&Value::Bool(true)) {
        Ok(reply.get("result").cloned().unwrap_or(Value::Null))
    } else {
        let error = reply.get("error").and_then(Value::as_str).unwrap_or("the server refused the request");
        Err(ControlError::Refused(error.to_owned()))
    }
}
