//! Bringing a connection up: ask `GET /api/versions` which API the NAS speaks, then either open
//! the JSON-RPC websocket (log in with the API key, subscribe to job events) or, on a release
//! without JSON-RPC (the endpoint answers 404), use REST `/api/v2.0` with the key as bearer. A
//! `Session` is one authenticated transport and what we learned about the NAS on it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::error::NasError;
use super::jobs::{JobTracker, WaitFor, Waited};
use super::rest::RestClient;
use super::rpc::Connection;
use super::{ApiKey, NasConfig};
use crate::schema::{MethodTable, Release};

/// How calls travel.
pub(crate) enum Transport {
    /// JSON-RPC 2.0 over the websocket, jobs followed through events.
    JsonRpc { conn: Connection, jobs: JobTracker },
    /// REST `/api/v2.0` (releases without JSON-RPC), jobs followed by polling.
    Rest(RestClient),
}

/// One authenticated connection.
pub(crate) struct Session {
    pub(crate) transport: Transport,
    pub(crate) release: Release,
    pub(crate) version: String,
}

/// What `GET /api/versions` told us.
enum Probe {
    /// JSON-RPC, at this API version (`None`: `current`).
    JsonRpc(Option<String>),
    /// No JSON-RPC on this NAS: REST.
    Rest,
}

impl Session {
    pub(crate) async fn open(config: &NasConfig, tls: &Option<Arc<rustls::ClientConfig>>) -> Result<Session, NasError> {
        let api = match probe(config).await {
            Probe::JsonRpc(api) => api,
            Probe::Rest => {
                let (client, release, version) = RestClient::open(config).await?;
                tracing::info!(%version, api = %release, "connected to TrueNAS over REST (no JSON-RPC on this release)");
                return Ok(Session { transport: Transport::Rest(client), release, version });
            }
        };
        let url = config.endpoint.websocket_url(api.as_deref().unwrap_or("current"));
        tracing::debug!(%url, "connecting to TrueNAS");
        let (conn, events) = Connection::open(&url, tls.clone(), config.max_in_flight).await?;
        let t = config.call_timeout;

        login(&conn, &config.api_key, config.username.as_deref(), t).await?;

        let version = conn.call("system.version", json!([]), t).await?;
        let version = version.as_str().unwrap_or_default().to_string();
        let release = api
            .as_deref()
            .and_then(Release::from_version_string)
            .or_else(|| Release::from_version_string(&version))
            .ok_or_else(|| NasError::UnsupportedRelease(version.clone()))?;

        let jobs = JobTracker::default();
        jobs.follow(events);
        if let Err(e) = conn.call("core.subscribe", json!(["core.get_jobs"]), t).await {
            // Waiting still works by polling; say so once.
            tracing::warn!(error = %e, "cannot subscribe to job events; job progress will be polled");
        }
        tracing::info!(%version, api = %release, "connected to TrueNAS");
        Ok(Session { transport: Transport::JsonRpc { conn, jobs }, release, version })
    }

    /// Whether the transport is gone (a REST session never is: each call is its own request).
    pub(crate) fn is_closed(&self) -> bool {
        match &self.transport {
            Transport::JsonRpc { conn, .. } => conn.is_closed(),
            Transport::Rest(_) => false,
        }
    }

    pub(crate) fn close(&self) {
        if let Transport::JsonRpc { conn, .. } = &self.transport {
            conn.close();
        }
    }

    /// Calls `method` and returns its reply (a job id for job methods).
    pub(crate) async fn call(&self, method: &str, params: &Value, timeout: Duration) -> Result<Value, NasError> {
        match &self.transport {
            Transport::JsonRpc { conn, .. } => conn.call(method, params.clone(), timeout).await,
            Transport::Rest(client) => client.call(MethodTable::get(self.release), method, params).await,
        }
    }

    /// Waits for a job started on this session.
    pub(crate) async fn wait(&self, job: WaitFor<'_>) -> Result<Waited, NasError> {
        match &self.transport {
            Transport::JsonRpc { conn, jobs } => jobs.wait(conn, job).await,
            Transport::Rest(client) => client.wait(job).await,
        }
    }
}

/// Asks `GET /api/versions` which API versions the NAS serves. A 404 means a release without
/// JSON-RPC (REST only). Otherwise picks the newest version we have a method table for, so
/// TrueNAS adapts its newer models to the schema we validate against; `None` (no match, or the
/// endpoint unreachable) means "use `current`".
async fn probe(config: &NasConfig) -> Probe {
    let url = config.endpoint.http_url("/api/versions");
    let Ok(response) = config.http.get(&url).timeout(config.call_timeout).send().await else {
        return Probe::JsonRpc(None);
    };
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Probe::Rest;
    }
    let offered: Vec<String> = match response.error_for_status() {
        Ok(ok) => ok.json().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let api = Release::ALL.iter().rev().map(|r| r.api_version()).find(|v| offered.iter().any(|o| o == v));
    Probe::JsonRpc(api.map(str::to_string))
}

async fn login(
    conn: &Connection,
    key: &ApiKey,
    username: Option<&str>,
    timeout: std::time::Duration,
) -> Result<(), NasError> {
    if let Some(user) = username {
        let request = json!([{"mechanism": "API_KEY_PLAIN", "username": user, "api_key": key.expose()}]);
        match conn.call("auth.login_ex", request, timeout).await {
            Ok(reply) => {
                return match reply.get("response_type").and_then(Value::as_str) {
                    Some("SUCCESS") => Ok(()),
                    Some("EXPIRED") => Err(NasError::AuthExpired),
                    Some(other) => {
                        tracing::debug!(response_type = other, "auth.login_ex refused");
                        Err(NasError::AuthFailed { user: Some(user.to_string()) })
                    }
                    None => Err(NasError::Protocol("auth.login_ex answered without a response_type".into())),
                };
            }
            // A release without login_ex: fall through to the older method.
            Err(NasError::Rpc(e)) if e.code == -32601 => {}
            Err(e) => return Err(e),
        }
    }
    match conn.call("auth.login_with_api_key", json!([key.expose()]), timeout).await? {
        Value::Bool(true) => Ok(()),
        _ => Err(NasError::AuthFailed { user: username.map(str::to_string) }),
    }
}
