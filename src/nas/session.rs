//! Bringing a connection up: pick the API version, open the websocket, log in with the API
//! key, subscribe to job events. A `Session` is one authenticated connection and what we
//! learned about the NAS on it.

use std::sync::Arc;

use serde_json::{Value, json};

use super::error::NasError;
use super::jobs::JobTracker;
use super::rpc::Connection;
use super::{ApiKey, NasConfig};
use crate::schema::Release;

/// One authenticated connection.
pub(crate) struct Session {
    pub(crate) conn: Connection,
    pub(crate) jobs: JobTracker,
    pub(crate) release: Release,
    pub(crate) version: String,
}

impl Session {
    pub(crate) async fn open(config: &NasConfig, tls: &Option<Arc<rustls::ClientConfig>>) -> Result<Session, NasError> {
        let api = pick_api(config).await;
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
        Ok(Session { conn, jobs, release, version })
    }
}

/// Asks `GET /api/versions` which API versions the NAS serves and picks the newest one we
/// have a method table for, so TrueNAS adapts its newer models to the schema we validate
/// against. `None` (endpoint missing or unreachable) means "use `current`".
async fn pick_api(config: &NasConfig) -> Option<String> {
    let url = config.endpoint.http_url("/api/versions");
    let response = config.http.get(&url).timeout(config.call_timeout).send().await.ok()?;
    let offered: Vec<String> = response.error_for_status().ok()?.json().await.ok()?;
    Release::ALL.iter().rev().map(|r| r.api_version()).find(|v| offered.iter().any(|o| o == v)).map(str::to_string)
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
