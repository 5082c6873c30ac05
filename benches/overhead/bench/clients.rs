//! The three minimal clients the bench times: a JSON-RPC websocket client straight to the NAS
//! (the baseline), an MCP client over a child's stdio, and an MCP client over streamable HTTP.
//! Each is hand-rolled (one request at a time, a `serde_json::Value` per message) so that what
//! the client itself costs is small and the same on every path.

use std::process::Stdio;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The MCP protocol version the clients speak (sessions over HTTP).
const PROTOCOL: &str = "2025-06-18";
const ACCEPT: &str = "application/json, text/event-stream";

/// A JSON-RPC 2.0 websocket client logged in to the NAS, as the server's own client is.
pub(crate) struct NasClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next: u64,
}

impl NasClient {
    /// Connects to `ws://ADDR/api/current` and logs in with `auth.login_ex`.
    pub(crate) async fn connect(addr: &str, user: &str, key: &str) -> Result<NasClient, String> {
        NasClient::open(&format!("ws://{addr}/api/current"), user, key, None, false).await
    }

    /// Connects to `url` with tungstenite's `config` (its default when `None`), `nodelay` on the
    /// socket or not, and logs in with `auth.login_ex`.
    pub(crate) async fn open(
        url: &str,
        user: &str,
        key: &str,
        config: Option<WebSocketConfig>,
        nodelay: bool,
    ) -> Result<NasClient, String> {
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, config, nodelay)
            .await
            .map_err(|e| format!("cannot connect `{url}`: {e}"))?;
        let mut client = NasClient { ws, next: 0 };
        let login = json!([{"mechanism": "API_KEY_PLAIN", "username": user, "api_key": key}]);
        let reply = client.call("auth.login_ex", login).await?;
        if reply.get("response_type").and_then(Value::as_str) != Some("SUCCESS") {
            return Err(format!("login refused: {reply}"));
        }
        Ok(client)
    }

    /// One call; its result.
    pub(crate) async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next += 1;
        let id = self.next;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.ws.send(Message::text(request.to_string())).await.map_err(|e| e.to_string())?;
        while let Some(frame) = self.ws.next().await {
            let text = match frame.map_err(|e| e.to_string())? {
                Message::Text(text) => text,
                _ => continue,
            };
            let mut reply: Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
            if reply.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(error) = reply.get("error") {
                return Err(format!("`{method}` failed: {error}"));
            }
            return Ok(reply.get_mut("result").map(Value::take).unwrap_or(Value::Null));
        }
        Err("the NAS closed the connection".into())
    }
}

/// An MCP client over a spawned server's stdin and stdout (newline-delimited JSON-RPC).
pub(crate) struct StdioClient {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: String,
    next: u64,
}

impl StdioClient {
    /// Spawns `cmd` and initializes an MCP session with it.
    pub(crate) async fn spawn(mut cmd: Command) -> Result<StdioClient, String> {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| format!("cannot spawn the server: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the server's stdio is not piped".into());
        };
        let mut client = StdioClient { child, stdin, stdout: BufReader::new(stdout), line: String::new(), next: 0 };
        client.request("initialize", initialize_params()).await?;
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
        Ok(client)
    }

    /// The server process's id (while it runs).
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    async fn send(&mut self, message: &Value) -> Result<(), String> {
        let mut bytes = serde_json::to_vec(message).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        self.stdin.write_all(&bytes).await.map_err(|e| format!("cannot write to the server: {e}"))?;
        self.stdin.flush().await.map_err(|e| e.to_string())
    }

    /// One request; its result (an error reply is an error).
    pub(crate) async fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await?;
        loop {
            self.line.clear();
            let read = self.stdout.read_line(&mut self.line).await.map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the server closed its stdout".into());
            }
            let Ok(reply) = serde_json::from_str::<Value>(&self.line) else { continue };
            if reply.get("id").and_then(Value::as_u64) == Some(id) {
                return result_of(reply);
            }
        }
    }

    /// Calls the `truenas` tool; an `isError` result is an error.
    pub(crate) async fn truenas(&mut self, category: &str, action: &str) -> Result<(), String> {
        let result = self.request("tools/call", tool_call(category, action)).await?;
        tool_ok(&result)
    }
}

/// An MCP session over streamable HTTP.
pub(crate) struct HttpClient {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    next: u64,
}

impl HttpClient {
    /// Opens a session at `url` (`initialize`, then `notifications/initialized`).
    pub(crate) async fn open(url: &str) -> Result<HttpClient, String> {
        let http = reqwest::Client::builder().build().map_err(|e| e.to_string())?;
        let mut client = HttpClient { http, url: url.to_string(), session: None, next: 0 };
        client.request("initialize", initialize_params()).await?;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = client.post(&note).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("`notifications/initialized` answered {}", response.status()));
        }
        Ok(client)
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut request = self.http.post(&self.url).header("accept", ACCEPT).json(body);
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session).header("mcp-protocol-version", PROTOCOL);
        }
        request
    }

    /// One request; its result. The reply is plain JSON or one server-sent event.
    pub(crate) async fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next += 1;
        let id = self.next;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self.post(&body).send().await.map_err(|e| e.to_string())?;
        if let Some(session) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            self.session = Some(session.to_string());
        }
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("`{method}` answered {status}: {text}"));
        }
        let replies = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .chain(std::iter::once(text.as_str()))
            .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok());
        for reply in replies {
            if reply.get("id").and_then(Value::as_u64) == Some(id) {
                return result_of(reply);
            }
        }
        Err(format!("`{method}`: no reply in the response"))
    }

    /// Calls the `truenas` tool; an `isError` result is an error.
    pub(crate) async fn truenas(&mut self, category: &str, action: &str) -> Result<(), String> {
        let result = self.request("tools/call", tool_call(category, action)).await?;
        tool_ok(&result)
    }
}

fn initialize_params() -> Value {
    json!({"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "overhead-bench", "version": "1"}})
}

fn tool_call(category: &str, action: &str) -> Value {
    json!({"name": "truenas", "arguments": {"category": category, "action": action}})
}

fn result_of(mut reply: Value) -> Result<Value, String> {
    if let Some(error) = reply.get("error") {
        return Err(format!("error reply: {error}"));
    }
    Ok(reply.get_mut("result").map(Value::take).unwrap_or(Value::Null))
}

/// A tool result that is not an error (the bench refuses to time refusals).
fn tool_ok(result: &Value) -> Result<(), String> {
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        let text = result.pointer("/content/0/text").and_then(Value::as_str).unwrap_or("");
        return Err(format!("the tool call failed: {}", text.chars().take(300).collect::<String>()));
    }
    Ok(())
}
