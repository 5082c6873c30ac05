//! The floor: the smallest stdio relay between the bench's stdio client and the NAS, with no MCP
//! library, no policy and no audit. It logs in to the NAS once over its JSON-RPC websocket, then
//! answers each JSON-RPC line on stdin with one line on stdout: `initialize` with an empty
//! server, each `tools/call` with the result of one `vm.query` as the text of a tool result
//! (whatever the call asked: it relays the one call the bench times), notifications with
//! nothing. It runs in a child process (the bench re-executes itself with `--relay URL`, the
//! API key in the environment), on the machinery class the server's stdio path uses: a
//! current-thread tokio runtime, its stdin and stdout pipes polled non-blocking by the runtime
//! and tokio-tungstenite with the server's read buffer and no Nagle delay. What the server adds
//! over this relay is what it adds over one more process hop. With `OVERHEAD_RELAY_HTTP` in its
//! environment it serves streamable HTTP instead ([`super::http_relay`]).

use std::os::fd::AsFd as _;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::unix::pipe;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::clients::NasClient;

/// The environment the relay reads its NAS account from (the same names the server reads).
pub(crate) const USER_ENV: &str = "TRUENAS_USERNAME";
pub(crate) const KEY_ENV: &str = "TRUENAS_API_KEY";

/// The method each `tools/call` is relayed as.
const METHOD: &str = "vm.query";

/// The server's websocket read buffer (`src/nas/rpc.rs`: tungstenite zero-fills it per read).
const READ_BUFFER: usize = 16 * 1024;

/// Serves stdin and stdout until stdin closes, relaying to the NAS at `url`
/// (`ws://HOST:PORT/api/current`).
pub(crate) fn main(url: &str) -> Result<(), String> {
    let user = std::env::var(USER_ENV).map_err(|_| format!("`{USER_ENV}` is not set"))?;
    let key = std::env::var(KEY_ENV).map_err(|_| format!("`{KEY_ENV}` is not set"))?;
    if std::env::var_os(super::http_relay::HTTP_ENV).is_some() {
        // As the server serves HTTP: a runtime with one worker per core.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        return runtime.block_on(super::http_relay::serve(url, user, key));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(serve(url, &user, &key))
}

async fn serve(url: &str, user: &str, key: &str) -> Result<(), String> {
    let mut nas = open(url, user, key).await?;
    let mut input = BufReader::new(input());
    let mut output = output();
    let mut line = String::new();
    loop {
        line.clear();
        let read = input.read_line(&mut line).await.map_err(|e| format!("cannot read stdin: {e}"))?;
        if read == 0 {
            return Ok(());
        }
        let Ok(request) = serde_json::from_str::<Value>(&line) else { continue };
        let Some(reply) = answer(&request, &mut nas).await else { continue };
        let mut bytes = serde_json::to_vec(&reply).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        output.write_all(&bytes).await.map_err(|e| format!("cannot write stdout: {e}"))?;
        output.flush().await.map_err(|e| format!("cannot write stdout: {e}"))?;
    }
}

/// The relay's NAS connection: logged in, with the server's read buffer and no Nagle delay.
pub(super) async fn open(url: &str, user: &str, key: &str) -> Result<NasClient, String> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    NasClient::open(url, user, key, Some(config), true).await
}

/// The reply to one JSON-RPC message, `None` for a notification: `initialize` with an empty
/// server, each `tools/call` with the result of one `vm.query` on `nas` as the text of a tool
/// result, anything else with "method not found".
pub(super) async fn answer(request: &Value, nas: &mut NasClient) -> Option<Value> {
    let id = request.get("id")?;
    let reply = match request.get("method").and_then(Value::as_str) {
        Some("initialize") => {
            let version = request.pointer("/params/protocolVersion").cloned().unwrap_or(Value::Null);
            let server = json!({"name": "overhead-floor-relay", "version": "1"});
            json!({"jsonrpc": "2.0", "id": id, "result":
                {"protocolVersion": version, "capabilities": {}, "serverInfo": server}})
        }
        Some("tools/call") => {
            let result = match nas.call(METHOD, json!([])).await {
                Ok(result) => json!({"content": [{"type": "text", "text": result.to_string()}]}),
                Err(e) => json!({"content": [{"type": "text", "text": e}], "isError": true}),
            };
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        }
        _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}}),
    };
    Some(reply)
}

/// Stdin: the pipe itself, polled by the runtime, when it is one (as the server reads it).
fn input() -> Box<dyn AsyncRead + Unpin> {
    match std::io::stdin().as_fd().try_clone_to_owned().and_then(pipe::Receiver::from_owned_fd) {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdin()),
    }
}

/// Stdout: the pipe itself, polled by the runtime, when it is one (as the server writes it).
fn output() -> Box<dyn AsyncWrite + Unpin> {
    match std::io::stdout().as_fd().try_clone_to_owned().and_then(pipe::Sender::from_owned_fd) {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdout()),
    }
}
