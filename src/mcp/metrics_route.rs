//! `GET /metrics`: the gateway's metrics in the Prometheus text format 0.0.4, for the admin
//! token only (as a bearer token; any other credential, an agent's included, is 401). Without
//! an admin token configured the route answers 404 to everyone.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::approvals_page::ApprovalsPage;

/// The content type of the text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `/metrics` route, opened by the approvals page's admin token.
pub(super) fn router(page: Option<ApprovalsPage>) -> Router {
    match page {
        Some(page) => Router::new().route("/metrics", get(metrics)).with_state(page),
        None => Router::new().route("/metrics", get(|| async { (StatusCode::NOT_FOUND, "not found\n") })),
    }
}

async fn metrics(State(page): State<ApprovalsPage>, request: Request) -> Response {
    let presented = super::bearer(request.headers()).unwrap_or("");
    if !page.is_admin_token(presented) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "missing or wrong admin token\n")
            .into_response();
    }
    let body = page.gateway().metrics_text();
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], body).into_response()
}
