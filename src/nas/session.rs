//! Bringing a connection up: ask `GET /api/versions` which API the NAS speaks, then either open
//! the JSON-RPC websocket (log in with the API key, subscribe to job events) or, on a release
//! without JSON-RPC (the endpoint answers 404), use REST `/api/v2.0` with the key as bearer. A
//! `Session` is one authenticated transport and what we learned about the NAS on it.
//!
//! Every step has a deadline (the probe and the websocket the connect deadline, each call the
//! call timeout) and the caller bounds the whole open with the connect deadline; [`Stage`] says
//! which step was under way when time ran out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::error::NasError;
use super::jobs::{JobTracker, WaitFor, Waited};
use super::rest::RestClient;
use super::rpc::{Connection, Limits};
use super::{ApiKey, NasConfig};
use crate::schema::{MethodTable, Release};

/// How calls travel.
pub(crate) enum Transport {
    /// JSON-RPC 2.0 over the websocket, jobs followed through events.
    JsonRpc { conn: Connection, jobs: JobTracker },
    /// REST `/api/v2.0` (releases without JSON-RPC), jobs followed by polling.
    Rest(RestClient),
}

/// One authenticated connection. Dropping it closes the websocket (and stops its keepalive).
pub(crate) struct Session {
    pub(crate) transport: Transport,
    pub(crate) release: Release,
    pub(crate) version: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

/// The step of an open under way, for the error when the connect deadline runs out.
#[derive(Debug, Default)]
pub(crate) struct Stage(Mutex<&'static str>);

impl Stage {
    fn set(&self, step: &'static str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = step;
    }

    /// The step under way (`"starting"` before the first).
    pub(crate) fn get(&self) -> &'static str {
        let step = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        if step.is_empty() { "starting" } else { step }
    }
}

/// Turns a failed set-up step into a connect error naming the NAS and the step.
fn setup_failed(config: &NasConfig, stage: &Stage, e: NasError) -> NasError {
    let reason = match e {
        NasError::Timeout { after, .. } => format!("no answer within {}s while {}", after.as_secs(), stage.get()),
        NasError::Busy { .. } | NasError::ConnectionLost { .. } | NasError::ReplyTooLarge { .. } => {
            format!("the connection failed while {} ({e})", stage.get())
        }
        other => return other,
    };
    NasError::Connect { url: config.endpoint.http_url(""), reason }
}

/// What `GET /api/versions` told us.
enum Probe {
    /// JSON-RPC, at this API version (`None`: `current`).
    JsonRpc(Option<String>),
    /// No JSON-RPC on this NAS: REST.
    Rest,
}

impl Session {
    /// Connects and logs in, recording each step in `stage`. The caller bounds the whole open
    /// with the connect deadline.
    pub(crate) async fn open(
        config: &NasConfig,
        tls: &Option<Arc<rustls::ClientConfig>>,
        stage: &Stage,
    ) -> Result<Session, NasError> {
        Session::open_steps(config, tls, stage).await.map_err(|e| setup_failed(config, stage, e))
    }

    async fn open_steps(
        config: &NasConfig,
        tls: &Option<Arc<rustls::ClientConfig>>,
        stage: &Stage,
    ) -> Result<Session, NasError> {
        stage.set("asking `GET /api/versions`");
        let api = match probe(config).await? {
            Probe::JsonRpc(api) => api,
            Probe::Rest => {
                stage.set("asking REST `/api/v2.0/system/version`");
                let (client, release, version) = RestClient::open(config).await?;
                tracing::info!(%version, api = %release, "connected to TrueNAS over REST (no JSON-RPC on this release)");
                return Ok(Session { transport: Transport::Rest(client), release, version });
            }
        };
        let url = config.endpoint.websocket_url(api.as_deref().unwrap_or("current"));
        tracing::debug!(%url, "connecting to TrueNAS");
        stage.set("opening the websocket (TCP, TLS, upgrade)");
        let limits = Limits { max_in_flight: config.max_in_flight, max_reply_bytes: config.max_reply_bytes };
        let opened = tokio::time::timeout(config.connect_timeout, Connection::open(&url, tls.clone(), limits)).await;
        let (conn, events) = opened.map_err(|_| NasError::Connect {
            url: config.endpoint.http_url(""),
            reason: format!("no answer within {}s while {}", config.connect_timeout.as_secs(), stage.get()),
        })??;
        let t = config.call_timeout;

        stage.set("logging in");
        // The release the probe named, if any: one without the key-only login needs a username.
        let probed = api.as_deref().and_then(Release::from_version_string);
        login(&conn, &config.api_key, config.username.as_deref(), probed, t).await?;

        stage.set("asking `system.version`");
        let version = conn.call("system.version", &json!([]), t).await?;
        let version = version.as_str().unwrap_or_default().to_string();
        let release = api
            .as_deref()
            .and_then(Release::from_version_string)
            .or_else(|| Release::from_version_string(&version))
            .ok_or_else(|| NasError::UnsupportedRelease(version.clone()))?;
        if Release::is_newer_than_known(&version) {
            tracing::warn!(
                %version,
                api = %release,
                "TrueNAS `{version}` is newer than every release this server knows: serving it with the {} method table",
                release.name()
            );
        }

        let jobs = JobTracker::default();
        jobs.follow(events);
        stage.set("subscribing to job events");
        match conn.call("core.subscribe", &json!(["core.get_jobs"]), t).await {
            Ok(_) => {}
            // A connection that broke or fell silent here is of no use.
            Err(e @ (NasError::Timeout { .. } | NasError::ConnectionLost { .. })) => return Err(e),
            // Waiting still works by polling; say so once.
            Err(e) => tracing::warn!(error = %e, "cannot subscribe to job events; job progress will be polled"),
        }
        conn.keep_alive(config.keepalive());
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

    /// A token cancelled once the websocket is gone; `None` over REST (no lasting connection).
    pub(crate) fn closed_signal(&self) -> Option<tokio_util::sync::CancellationToken> {
        match &self.transport {
            Transport::JsonRpc { conn, .. } => Some(conn.closed_signal()),
            Transport::Rest(_) => None,
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
            Transport::JsonRpc { conn, .. } => conn.call(method, params, timeout).await,
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
/// endpoint unreachable) means "use `current`". A NAS that does not answer within the connect
/// deadline is not tried further: it would not answer the websocket either.
async fn probe(config: &NasConfig) -> Result<Probe, NasError> {
    let url = config.endpoint.http_url("/api/versions");
    let response = match config.http.get(&url).timeout(config.connect_timeout).send().await {
        Ok(response) => response,
        Err(e) if e.is_timeout() => {
            return Err(NasError::Timeout {
                method: "GET /api/versions".into(),
                after: config.connect_timeout,
                write: false,
            });
        }
        Err(_) => return Ok(Probe::JsonRpc(None)),
    };
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(Probe::Rest);
    }
    let offered: Vec<String> = match response.error_for_status() {
        Ok(ok) => ok.json().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let api = Release::ALL.iter().rev().map(|r| r.api_version()).find(|v| offered.iter().any(|o| o == v));
    Ok(Probe::JsonRpc(api.map(str::to_string)))
}

/// Logs in with the API key: `auth.login_ex` with the username when there is one, else (or on
/// a release without `login_ex`) `auth.login_with_api_key`. Without a username, a release that
/// lacks the key-only login (`release`, when the probe named it, or the NAS's own answer) is
/// refused at once, naming the setting that is missing, rather than retried.
pub(super) async fn login(
    conn: &Connection,
    key: &ApiKey,
    username: Option<&str>,
    release: Option<Release>,
    timeout: std::time::Duration,
) -> Result<(), NasError> {
    if username.is_none()
        && let Some(release) = release.filter(|r| MethodTable::get(*r).method("auth.login_with_api_key").is_none())
    {
        return Err(NasError::UsernameRequired { release: Some(release) });
    }
    if let Some(user) = username {
        let request = json!([{"mechanism": "API_KEY_PLAIN", "username": user, "api_key": key.expose()}]);
        match conn.call("auth.login_ex", &request, timeout).await {
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
            Err(NasError::Rpc(e)) if e.code == truenas_api::errno::rpc::METHOD_NOT_FOUND => {}
            Err(e) => return Err(e),
        }
    }
    match conn.call("auth.login_with_api_key", &json!([key.expose()]), timeout).await {
        Ok(Value::Bool(true)) => Ok(()),
        Ok(_) => Err(NasError::AuthFailed { user: username.map(str::to_string) }),
        // A release without the key-only login (27.0 and later): only `login_ex` with a username.
        Err(NasError::Rpc(e)) if e.code == -32601 && username.is_none() => {
            Err(NasError::UsernameRequired { release: None })
        }
        Err(e) => Err(e),
    }
}
