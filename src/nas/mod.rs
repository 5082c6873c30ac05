//! The TrueNAS client: JSON-RPC 2.0 over a websocket (REST `/api/v2.0` on releases without
//! it), API-key login, job waits, reconnects.
//!
//! The one public way to call a middleware method is [`NasClient::call`], which consumes a
//! [`Permit`]: only the policy engine makes those, so nothing reaches the NAS without a
//! decision. Framing and request ids live in `rpc`; connecting, logging in and choosing the
//! transport in `session`; the connection state machine in `link` (its events in `events`);
//! job waits in `jobs` (`rest_jobs` over REST); the REST transport in `rest`, its
//! method-to-HTTP rules in `truenas_api::rest`; addresses and TLS in `endpoint`; what a call
//! that fails says in `error` (`NasError`).
//!
//! A misbehaving NAS never wedges the client. Every network step has a deadline, and a call
//! answers within its call timeout plus one connect deadline (plus a quarter second of slack).
//! The connection state (`Link`) sits behind a std mutex that is never held across an await;
//! calls that need a connection share one attempt, run in its own task, and all hear its
//! outcome. A keepalive `core.ping` closes a connection that falls silent, and the next call
//! connects anew.

mod endpoint;
mod error;
mod events;
mod jobs;
mod link;
mod rest;
mod rest_jobs;
mod rpc;
mod session;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use endpoint::{Endpoint, TlsTrust};
pub use error::{FieldError, NasError, RpcError};
pub use events::NasEvent;
pub use jobs::{JobProgress, ProgressSink};
pub use truenas_api::rest::same_over_rest;

use crate::ids::{JobId, MethodName};
use crate::policy::Permit;
use crate::schema::{MethodTable, Release};
use jobs::Waited;
use link::{Link, SLACK};

/// What a call answers when its job outlives the wait budget: the job, its last known state,
/// and the resource to follow it with.
fn handle(id: JobId, method: &str, budget: Duration, seen: Option<jobs::JobSnapshot>) -> Value {
    let (state, percent, description) = match seen {
        Some(s) => (s.state, s.percent, s.description),
        None => ("RUNNING".to_string(), None, String::new()),
    };
    serde_json::json!({
        "job_id": id.0,
        "method": method,
        "state": state,
        "progress": {"percent": percent, "description": description},
        "resource": format!("truenas://jobs/{id}"),
        "message": format!(
            "TrueNAS job {id} is still running after {}s; read truenas://jobs/{id} to follow it",
            budget.as_secs()
        ),
    })
}

/// A TrueNAS API key. Its text is only ever written to the login request: `Debug` hides it
/// and it has no `Display`.
#[derive(Clone)]
pub struct ApiKey(Arc<str>);

impl ApiKey {
    /// Wraps a key, and has the scrubber replace it wherever it appears in text from now on.
    pub fn new(key: impl Into<String>) -> ApiKey {
        let key = key.into();
        crate::redact::remember_secret(&key);
        ApiKey(Arc::from(key))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How to reach and log in to the NAS.
#[derive(Debug, Clone)]
pub struct NasConfig {
    endpoint: Endpoint,
    api_key: ApiKey,
    username: Option<String>,
    call_timeout: Duration,
    // Bounds a whole connection attempt: TCP, TLS, websocket upgrade, probe, login, set-up.
    connect_timeout: Duration,
    max_in_flight: usize,
    // A larger websocket message closes the connection with a clear error.
    max_reply_bytes: usize,
    // This NAS's own TLS settings, shared by the websocket and `http`.
    tls: Arc<rustls::ClientConfig>,
    // Used for `GET /api/versions`; carries the same TLS settings as the websocket.
    http: reqwest::Client,
}

impl NasConfig {
    /// A configuration with the defaults: 30 s per call, 10 s to connect and log in, 16 calls in
    /// flight (TrueNAS refuses past 20 per connection), replies up to 64 MiB.
    pub fn new(endpoint: Endpoint, api_key: ApiKey, username: Option<String>, trust: &TlsTrust) -> NasConfig {
        let tls = endpoint::tls_config(trust);
        let connect_timeout = Duration::from_secs(10);
        let http = http_client(&tls, connect_timeout);
        NasConfig {
            endpoint,
            api_key,
            username,
            call_timeout: Duration::from_secs(30),
            connect_timeout,
            max_in_flight: 16,
            max_reply_bytes: 64 << 20,
            tls,
            http,
        }
    }

    /// Changes the per-call timeout.
    pub fn with_call_timeout(mut self, timeout: Duration) -> NasConfig {
        self.call_timeout = timeout;
        self
    }

    /// Changes the connect deadline: TCP, TLS, websocket upgrade, login and set-up together.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> NasConfig {
        self.connect_timeout = timeout;
        self.http = http_client(&self.tls, timeout);
        self
    }

    /// Changes the largest reply accepted from TrueNAS, in bytes.
    pub fn with_max_reply_bytes(mut self, bytes: usize) -> NasConfig {
        self.max_reply_bytes = bytes;
        self
    }

    /// How often an idle or busy connection is pinged, and how long the ping may take: a third
    /// of the call timeout (so a silent connection is found before a call's own timeout),
    /// between 250 ms and 15 s.
    pub(crate) fn keepalive(&self) -> Duration {
        (self.call_timeout / 3).clamp(Duration::from_millis(250), Duration::from_secs(15))
    }

    /// The NAS address.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// The HTTP client for the probe and REST: this NAS's TLS settings and the connect deadline.
/// Redirects are never followed: TrueNAS's API does not redirect, and following one would
/// send the request (its body, on a 307) to a host the operator never named, maybe in clear.
fn http_client(tls: &Arc<rustls::ClientConfig>, connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((**tls).clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// How a call should be carried out.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// Reads are retried once on a fresh connection if the connection broke; writes never are.
    pub read_only: bool,
    /// Receives job progress.
    pub progress: Option<ProgressSink>,
    /// Cancels the wait; a running job is asked to abort.
    pub cancel: CancellationToken,
    /// How long to wait for a job before answering with a handle to it instead; `None` waits
    /// for as long as the job runs.
    pub job_budget: Option<Duration>,
}

/// What a successful call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    /// The method's result, or the finished job's result.
    pub result: Value,
    /// The job id, for job methods.
    pub job: Option<JobId>,
    /// The job was still running when the wait budget ran out; `result` describes the job
    /// and where to follow it.
    pub still_running: bool,
}

/// The TrueNAS client. Cheap to clone; connects lazily and reconnects with backoff.
#[derive(Clone)]
pub struct NasClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: NasConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    // INVARIANT: never held across an await (a std guard cannot be): network I/O happens in
    // the attempt's own task, outside the lock.
    state: std::sync::Mutex<Link>,
    // Connection events for whoever listens (`events`).
    events: tokio::sync::broadcast::Sender<NasEvent>,
    // Whether a connection was ever up: the next one is a reconnection.
    ever_up: std::sync::atomic::AtomicBool,
    // The release of the current or last connection.
    last_release: std::sync::Mutex<Option<Release>>,
}

impl NasClient {
    /// A client for `config`; nothing is connected until the first call (or [`NasClient::connect`]).
    pub fn new(config: NasConfig) -> NasClient {
        let tls = config.endpoint.is_secure().then(|| Arc::clone(&config.tls));
        let state = std::sync::Mutex::new(Link::Down { failures: 0, retry_at: Instant::now(), last: None });
        let (events, _) = tokio::sync::broadcast::channel(events::CAPACITY);
        let inner = Inner {
            config,
            tls,
            state,
            events,
            ever_up: std::sync::atomic::AtomicBool::new(false),
            last_release: std::sync::Mutex::new(None),
        };
        NasClient { inner: Arc::new(inner) }
    }

    /// Connects now (if not connected) and returns the NAS's version string.
    pub async fn connect(&self) -> Result<String, NasError> {
        Ok(self.session().await?.version.clone())
    }

    /// The release of the connected NAS, if connected.
    pub async fn release(&self) -> Option<Release> {
        match &*self.lock() {
            Link::Up(session) if !session.is_closed() => Some(session.release),
            _ => None,
        }
    }

    /// Calls the permitted method with `params` and, for a job, waits for its outcome.
    ///
    /// The params are checked against TrueNAS's schema of the method for the connected release
    /// first; nothing is sent if they do not fit. If nothing was sent, the permit's limit
    /// reservation is refunded.
    pub async fn call(&self, permit: Permit, params: Value, options: CallOptions) -> Result<CallOutcome, NasError> {
        let method = permit.method().as_str().to_string();
        let mut attempt = self.call_bounded(&method, &params, &options).await;
        if !options.read_only
            && let Err(NasError::Timeout { write, .. }) = &mut attempt
        {
            *write = true;
        }
        match &attempt {
            Err(e) if e.nothing_sent() => permit.rollback(),
            _ => drop(permit),
        }
        attempt
    }

    /// One call within its bound (its timeout plus one connect deadline): a read whose
    /// connection broke is retried once on a new connection, in what is left of the bound.
    async fn call_bounded(&self, method: &str, params: &Value, options: &CallOptions) -> Result<CallOutcome, NasError> {
        let config = &self.inner.config;
        let deadline = Instant::now() + config.call_timeout + config.connect_timeout + SLACK;
        let attempt = self.call_once(method, params, options).await;
        if !(options.read_only && matches!(attempt, Err(NasError::ConnectionLost { .. }))) {
            return attempt;
        }
        tracing::info!(%method, "connection lost during a read; retrying once on a new connection");
        let retry = tokio::time::timeout_at(deadline, self.call_once(method, params, options)).await;
        retry.unwrap_or_else(|_| {
            Err(NasError::Timeout { method: method.to_string(), after: config.call_timeout, write: false })
        })
    }

    async fn call_once(&self, method: &str, params: &Value, options: &CallOptions) -> Result<CallOutcome, NasError> {
        let session = self.session().await?;
        let table = MethodTable::get(session.release);
        let spec = table
            .method(method)
            .ok_or_else(|| NasError::MethodUnavailable { method: method.to_string(), release: session.release })?;
        if !table.is_prepared(method) {
            // A large schema takes a while to compile: not on a runtime worker thread. Should the
            // blocking task fail, `validate` compiles it here; either way nothing unchecked is sent.
            let name = method.to_string();
            let _ = tokio::task::spawn_blocking(move || table.prepare(&name)).await;
        }
        table.validate(method, params).map_err(NasError::InvalidParams)?;
        let timeout = self.inner.config.call_timeout;
        let reply = session.call(method, params, timeout).await;
        let reply = match reply {
            Err(e @ NasError::ConnectionLost { .. }) => {
                self.mark_down(&session);
                return Err(e);
            }
            other => other?,
        };
        if !spec.job {
            return Ok(CallOutcome { result: reply, job: None, still_running: false });
        }
        let id = reply.as_u64().map(JobId).ok_or_else(|| {
            NasError::Protocol(format!("`{method}` is a job but TrueNAS returned `{reply}` instead of a job id"))
        })?;
        let budget = options.job_budget.unwrap_or(Duration::MAX);
        let job = jobs::WaitFor {
            id,
            method,
            call_timeout: timeout,
            budget,
            progress: options.progress.clone(),
            cancel: &options.cancel,
        };
        let waited = session.wait(job).await;
        if let Err(NasError::ConnectionLost { .. }) = waited {
            self.mark_down(&session);
        }
        Ok(match waited? {
            Waited::Finished(result) => CallOutcome { result, job: Some(id), still_running: false },
            Waited::StillRunning(seen) => {
                CallOutcome { result: handle(id, method, budget, seen), job: Some(id), still_running: true }
            }
        })
    }

    /// A read that is part of a permitted call (its `[[action.lookup]]`), made before the call
    /// itself: it needs the call's permit, borrowed, so no read happens for a call the policy
    /// did not allow. Never a job; checked against the release's schema like any call; retried
    /// once on a lost connection within the same bound as any read.
    pub async fn read_for(&self, permit: &Permit, method: &MethodName, params: Value) -> Result<Value, NasError> {
        let options = CallOptions { read_only: true, ..CallOptions::default() };
        let name = method.as_str();
        tracing::debug!(action = %permit.action(), method = name, "reading before the call");
        if let Some(release) = self.release().await
            && MethodTable::get(release).is_job(name) == Some(true)
        {
            return Err(NasError::Protocol(format!("`{name}` is a job, not a read")));
        }
        self.call_bounded(name, &params, &options).await.map(|outcome| outcome.result)
    }

    /// Reads one job's current state (`core.get_jobs` filtered by id) under a permit for it.
    pub async fn job(&self, permit: Permit, id: JobId) -> Result<Value, NasError> {
        let params = serde_json::json!([[["id", "=", id.0]]]);
        let outcome = self.call(permit, params, CallOptions { read_only: true, ..CallOptions::default() }).await?;
        outcome.result.as_array().and_then(|jobs| jobs.first()).cloned().ok_or_else(|| {
            NasError::Rpc(RpcError {
                code: truenas_api::errno::rpc::CALL_ERROR,
                message: "Method call error".into(),
                errno: Some(truenas_api::errno::ENOENT),
                errname: Some("ENOENT".into()),
                reason: Some(format!("job {id} does not exist")),
                fields: Vec::new(),
            })
        })
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rest_tests.rs"]
mod rest_tests;
