//! The HTTP floor: the smallest streamable-HTTP relay between the bench's HTTP clients and the
//! NAS, with no MCP library, no policy and no audit. Each `initialize` opens a session with its
//! own logged-in NAS websocket (no connection shared between sessions, so no hand-off between
//! tasks: cheaper than any server that multiplexes one connection); each later POST carrying
//! the session's id is answered as the stdio relay answers a line ([`super::relay::answer`]),
//! as plain JSON (no server-sent events), notifications with `202 Accepted`. It runs on the
//! machinery the server's HTTP path uses (axum on hyper, a tokio runtime with one worker per
//! core), so the calls per second it reaches with many sessions are what this machine can do
//! with one more HTTP hop and nothing else: the most any guarded server can reach here.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use serde_json::Value;

use super::clients::NasClient;

/// Set (to anything) in the relay's environment: it serves HTTP, not stdio.
pub(crate) const HTTP_ENV: &str = "OVERHEAD_RELAY_HTTP";

/// What the relay prints on stdout, then its MCP URL, once it listens.
pub(crate) const LISTENING: &str = "floor relay listening on ";

const SESSION_HEADER: &str = "mcp-session-id";

/// One session's NAS connection, used by one request at a time.
type Session = Arc<tokio::sync::Mutex<NasClient>>;

struct Relay {
    url: String,
    user: String,
    key: String,
    sessions: Mutex<HashMap<String, Session>>,
    next: AtomicU64,
}

/// Serves `http://127.0.0.1:PORT/mcp` (a free port, printed on stdout) until killed.
pub(crate) async fn serve(url: &str, user: String, key: String) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let relay = Relay { url: url.to_string(), user, key, sessions: Mutex::default(), next: AtomicU64::new(0) };
    let app = Router::new().route("/mcp", post(handle)).with_state(Arc::new(relay));
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{LISTENING}http://{addr}/mcp").and_then(|()| stdout.flush()).map_err(|e| e.to_string())?;
    drop(stdout);
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

async fn handle(State(relay): State<Arc<Relay>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    if request.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response();
    }
    if request.get("method").and_then(Value::as_str) == Some("initialize") {
        let mut nas = match super::relay::open(&relay.url, &relay.user, &relay.key).await {
            Ok(nas) => nas,
            Err(e) => return (StatusCode::BAD_GATEWAY, e).into_response(),
        };
        let reply = super::relay::answer(&request, &mut nas).await;
        let id = relay.next.fetch_add(1, Ordering::Relaxed).to_string();
        if let Ok(mut sessions) = relay.sessions.lock() {
            sessions.insert(id.clone(), Arc::new(tokio::sync::Mutex::new(nas)));
        }
        return ([(SESSION_HEADER, id)], axum::Json(reply)).into_response();
    }
    let session = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|id| relay.sessions.lock().ok()?.get(id).cloned());
    let Some(session) = session else {
        return (StatusCode::NOT_FOUND, "no such session").into_response();
    };
    let reply = super::relay::answer(&request, &mut *session.lock().await).await;
    axum::Json(reply).into_response()
}
