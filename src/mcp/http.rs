//! Streamable HTTP wiring: rmcp's service mounted at `/mcp` on axum, behind bearer-token
//! authentication (each token is its own grant), the binding of each MCP session to the grant
//! that opened it (see `sessions`), and rmcp's Host and Origin checks. With an admin token
//! it also serves the approvals page at `/approvals` ([`approvals_page`]) and Prometheus
//! metrics at `/metrics` (`metrics_route`), outside the agents' authentication: both open only
//! with the admin token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt as _;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::TrueNasServer;
use crate::ids::GrantId;
use sessions::Sessions;

#[path = "http_sessions.rs"]
mod sessions;

#[path = "approvals_page.rs"]
pub mod approvals_page;

#[path = "metrics_route.rs"]
mod metrics_route;

/// How many sessions one grant may hold open at once, unless configured otherwise.
pub const DEFAULT_MAX_SESSIONS: usize = 64;

/// A session without any request for this long is closed and its memory freed.
pub const SESSION_IDLE: Duration = Duration::from_secs(300);

/// How HTTP is served.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Accepted bearer tokens; empty means none required (the caller made sure the listener is
    /// on loopback).
    pub tokens: Vec<String>,
    /// How many sessions one grant may hold open at once.
    pub max_sessions: usize,
    /// The approvals page, served at `/approvals` when an admin token is configured.
    pub approvals_page: Option<approvals_page::ApprovalsPage>,
}

/// The accepted bearer tokens, each mapped to its grant.
#[derive(Clone)]
struct Tokens(Arc<Vec<(String, GrantId)>>);

impl Tokens {
    fn new(tokens: &[String]) -> Tokens {
        let grants = tokens.iter().enumerate().map(|(i, t)| (t.clone(), GrantId::new(format!("http-token-{}", i + 1))));
        Tokens(Arc::new(grants.collect()))
    }

    /// The grant of a presented token; compares in constant time per candidate.
    fn grant(&self, presented: &str) -> Option<GrantId> {
        let mut found = None;
        for (token, grant) in self.0.iter() {
            if constant_time_eq(token.as_bytes(), presented.as_bytes()) {
                found = Some(grant.clone());
            }
        }
        found
    }
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves MCP over streamable HTTP on `listener` until `shutdown` fires.
///
/// With no tokens every request is the grant `http`.
pub async fn serve(
    listener: TcpListener,
    server: TrueNasServer,
    options: &HttpOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(shutdown.child_token())
        .with_allowed_origins(allowed_origins(addr))
        .enforce_origin_validation();
    config = if addr.ip().is_loopback() {
        // Names a loopback server answers to (DNS rebinding): the usual ones and its own address.
        config.with_allowed_hosts(allowed_hosts(addr))
    } else {
        // Reached by LAN names we cannot know; bearer tokens are mandatory here instead.
        config.disable_allowed_hosts()
    };
    let mut manager = LocalSessionManager::default();
    manager.session_config = session_config();
    let manager = Arc::new(manager);
    let sessions = Arc::new(Sessions::new(Arc::clone(&manager), options.max_sessions));
    let service = StreamableHttpService::new(move || Ok(server.for_session()), manager, config);
    let tokens = Tokens::new(&options.tokens);
    let page = approvals_page::router(options.approvals_page.clone(), tokens.clone(), addr);
    // Layers run outside in: authenticate first, then check the session belongs to the grant.
    // The page is merged after them: an agent's token never authenticates it.
    let app = Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(sessions, sessions::bind))
        .layer(middleware::from_fn_with_state(tokens, authenticate))
        .merge(page)
        .merge(metrics_route::router(options.approvals_page.clone()));
    tracing::info!("serving MCP at http://{addr}/mcp");
    if options.approvals_page.is_some() {
        tracing::info!("serving the approvals page at http://{addr}/approvals");
    }
    // The peer address names the approver on the page (`web-admin@ADDRESS`).
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    // Replies go out in several writes (headers, then each server-sent event): with Nagle's
    // algorithm on, the last one waited for the client's delayed ACK, 40 ms a call.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on an MCP connection");
        }
    });
    axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
}

fn session_config() -> SessionConfig {
    let mut config = SessionConfig::default();
    config.keep_alive = Some(SESSION_IDLE);
    config
}

/// Host names a loopback listener on `addr` answers to.
pub(super) fn allowed_hosts(addr: SocketAddr) -> Vec<String> {
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    let own = addr.ip().to_string();
    if !hosts.contains(&own) {
        hosts.push(own);
    }
    hosts
}

/// Origins a browser page may call from: loopback pages, and pages served from `addr`'s host.
fn allowed_origins(addr: SocketAddr) -> Vec<String> {
    let mut origins: Vec<String> =
        vec!["http://localhost:*".into(), "http://127.0.0.1:*".into(), "http://[::1]:*".into()];
    let own = match addr.ip() {
        std::net::IpAddr::V4(ip) => format!("http://{ip}:*"),
        std::net::IpAddr::V6(ip) => format!("http://[{ip}]:*"),
    };
    if addr.ip().is_loopback() && !origins.contains(&own) {
        origins.push(own);
    }
    origins
}

/// Attaches the caller's grant to the request, or answers 401.
async fn authenticate(State(tokens): State<Tokens>, mut request: Request, next: Next) -> Response {
    let grant = if tokens.0.is_empty() {
        GrantId::new("http")
    } else {
        match bearer(request.headers()).and_then(|t| tokens.grant(t)) {
            Some(grant) => grant,
            None => {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "missing or unknown bearer token\n",
                )
                    .into_response();
            }
        }
    };
    request.extensions_mut().insert(grant);
    next.run(request).await
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// The address a listener for `addr` would serve, for messages.
pub fn endpoint_url(addr: SocketAddr) -> String {
    format!("http://{addr}/mcp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_is_its_own_grant_and_unknown_tokens_have_none() {
        let tokens = Tokens::new(&["alpha".to_string(), "beta".to_string()]);
        assert_eq!(tokens.grant("alpha"), Some(GrantId::new("http-token-1")));
        assert_eq!(tokens.grant("beta"), Some(GrantId::new("http-token-2")));
        assert_eq!(tokens.grant("alph"), None);
        assert_eq!(tokens.grant(""), None);
    }

    #[test]
    fn a_loopback_listener_answers_to_its_own_address() {
        let hosts = allowed_hosts("127.0.0.2:8080".parse().unwrap());
        assert_eq!(hosts, ["localhost", "127.0.0.1", "::1", "127.0.0.2"]);
        assert_eq!(allowed_hosts("127.0.0.1:8080".parse().unwrap()).len(), 3);
        assert!(allowed_origins("127.0.0.2:1".parse().unwrap()).contains(&"http://127.0.0.2:*".to_string()));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
