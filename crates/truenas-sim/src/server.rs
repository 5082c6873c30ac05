//! The HTTP side of the simulated NAS: `GET /api/versions`, the JSON-RPC websocket at
//! `/api/current` and `/api/<version>` (absent when playing a NAS without JSON-RPC), REST at
//! `/api/v2.0/...` (releases before 26.0), and the test hooks `GET /_sim/calls` and
//! `POST /_sim/faults` for clients outside the process.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

use super::faults::FaultRequest;
use super::machine::Machine;
use super::recorder::RecordedCall;
use super::tls::Peer;
use super::{connection, rest};
use truenas_api::schema::Release;

pub(crate) fn router(machine: Arc<Machine>) -> Router {
    let mut router = Router::new().route("/_sim/calls", get(calls)).route("/_sim/faults", post(faults));
    // A release without JSON-RPC (24.10), or one told to play it, has none of these: clients
    // take the 404 of `/api/versions` for "REST only".
    if !machine.config.rest_only && machine.config.release.has_json_rpc() {
        router = router
            .route("/api/versions", get(versions))
            .route("/api/current", get(websocket))
            .route("/api/{version}", get(versioned_websocket));
    }
    // TrueNAS 26.0 removed the REST API.
    if machine.config.release < Release::V26_0 {
        router = router.route("/api/v2.0/{*path}", any(rest::serve));
    }
    router.with_state(machine)
}

/// The API versions a NAS of `release` serves, as `GET /api/versions` lists them: every
/// point release of the API directories it ships (25.10 also keeps the 25.04 ones). None for
/// 24.04 and 24.10, which have no JSON-RPC API.
pub(crate) fn api_versions(release: Release) -> Vec<String> {
    let series: &[(&str, u32)] = match release {
        Release::V24_04 | Release::V24_10 => &[],
        Release::V25_04 => &[("v25.04", 2)],
        Release::V25_10 => &[("v25.04", 2), ("v25.10", 5)],
        Release::V26_0 => &[("v25.04", 2), ("v25.10", 5), ("v26.0", 0)],
        Release::V27_0 => &[("v25.04", 2), ("v25.10", 5), ("v26.0", 0), ("v27.0", 0)],
    };
    series.iter().flat_map(|(prefix, last)| (0..=*last).map(move |n| format!("{prefix}.{n}"))).collect()
}

async fn versions(State(machine): State<Arc<Machine>>) -> Json<Vec<String>> {
    Json(api_versions(machine.config.release))
}

async fn websocket(
    State(machine): State<Arc<Machine>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| connection::serve(socket, machine, peer))
}

/// Every listed version speaks the current protocol; the simulator keeps one set of models.
async fn versioned_websocket(
    State(machine): State<Arc<Machine>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(version): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !api_versions(machine.config.release).contains(&version) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade.on_upgrade(move |socket| connection::serve(socket, machine, peer))
}

async fn calls(State(machine): State<Arc<Machine>>) -> Json<Vec<RecordedCall>> {
    Json(machine.recorder.calls())
}

async fn faults(State(machine): State<Arc<Machine>>, Json(request): Json<FaultRequest>) -> StatusCode {
    machine.faults.apply(request);
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_end_with_the_release_api() {
        for release in Release::ALL {
            let list = api_versions(release);
            assert_eq!(list.last().map(String::as_str), Some(release.api_version()));
        }
        assert_eq!(api_versions(Release::V25_10).len(), 9);
        assert_eq!(api_versions(Release::V25_04), ["v25.04.0", "v25.04.1", "v25.04.2"]);
        assert!(api_versions(Release::V24_10).is_empty());
    }

    #[tokio::test]
    async fn a_24_10_nas_answers_404_where_json_rpc_would_be() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = crate::SimConfig { release: Release::V24_10, ..crate::SimConfig::default() };
        let sim = crate::start(listener, config).await.unwrap();
        let addr = sim.local_addr();
        for path in ["/api/versions", "/api/current", "/api/v25.10.5"] {
            let status = reqwest::get(format!("http://{addr}{path}")).await.unwrap().status();
            assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "{path}");
        }
    }
}
