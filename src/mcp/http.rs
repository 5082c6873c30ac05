//! Streamable HTTP wiring: rmcp's service mounted at `/mcp` on axum, behind bearer-token
//! authentication (each token is its own grant) and rmcp's Host and Origin checks.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::TrueNasServer;
use crate::ids::GrantId;

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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves MCP over streamable HTTP on `listener` until `shutdown` fires.
///
/// With no tokens every request is the grant `http`; the caller has made sure the listener
/// is on loopback in that case.
pub async fn serve(
    listener: TcpListener,
    server: TrueNasServer,
    tokens: &[String],
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(shutdown.child_token())
        .with_allowed_origins(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"])
        .enforce_origin_validation();
    if !addr.ip().is_loopback() {
        // Reached by LAN names we cannot know; bearer tokens are mandatory here instead.
        config = config.disable_allowed_hosts();
    }
    let service = StreamableHttpService::new(move || Ok(server.clone()), LocalSessionManager::default().into(), config);
    let tokens = Tokens::new(tokens);
    let app = Router::new().nest_service("/mcp", service).layer(middleware::from_fn_with_state(tokens, authenticate));
    tracing::info!("serving MCP at http://{addr}/mcp");
    axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
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
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
