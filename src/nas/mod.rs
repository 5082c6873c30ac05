//! The TrueNAS client: JSON-RPC 2.0 over a websocket (REST `/api/v2.0` on releases without
//! it), API-key login, job waits, reconnects.
//!
//! The one public way to call a middleware method is [`NasClient::call`], which consumes a
//! [`Permit`]: only the policy engine makes those, so nothing reaches the NAS without a
//! decision. Framing and request ids live in `rpc`; connecting, logging in and choosing the
//! transport in `session`; job waits in `jobs` (`rest_jobs` over REST); the REST transport in
//! `rest`, its method-to-HTTP rules in `rest_map` and `rest_query`; addresses and TLS in
//! `endpoint`.

mod endpoint;
mod error;
mod jobs;
mod rest;
mod rest_jobs;
pub(crate) mod rest_map;
mod rest_query;
mod rpc;
mod session;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub use endpoint::{Endpoint, TlsTrust};
pub use error::{FieldError, NasError, RpcError};
pub use jobs::{JobProgress, ProgressSink};
pub use rest_map::same_over_rest;

use crate::ids::JobId;
use crate::policy::Permit;
use crate::schema::{MethodTable, Release};
use jobs::Waited;
use session::Session;

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
    max_in_flight: usize,
    // This NAS's own TLS settings, shared by the websocket and `http`.
    tls: Arc<rustls::ClientConfig>,
    // Used for `GET /api/versions`; carries the same TLS settings as the websocket.
    http: reqwest::Client,
}

impl NasConfig {
    /// A configuration with the defaults: 30 s per call, 16 calls in flight (TrueNAS refuses
    /// past 20 per connection).
    pub fn new(endpoint: Endpoint, api_key: ApiKey, username: Option<String>, trust: &TlsTrust) -> NasConfig {
        let tls = endpoint::tls_config(trust);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        NasConfig { endpoint, api_key, username, call_timeout: Duration::from_secs(30), max_in_flight: 16, tls, http }
    }

    /// Changes the per-call timeout.
    pub fn with_call_timeout(mut self, timeout: Duration) -> NasConfig {
        self.call_timeout = timeout;
        self
    }

    /// The NAS address.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
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
    state: Mutex<Link>,
}

/// The connection state machine.
enum Link {
    Down { failures: u32, retry_at: Instant },
    Up(Arc<Session>),
}

const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

impl NasClient {
    /// A client for `config`; nothing is connected until the first call (or [`NasClient::connect`]).
    pub fn new(config: NasConfig) -> NasClient {
        let tls = config.endpoint.is_secure().then(|| Arc::clone(&config.tls));
        let state = Mutex::new(Link::Down { failures: 0, retry_at: Instant::now() });
        NasClient { inner: Arc::new(Inner { config, tls, state }) }
    }

    /// Connects now (if not connected) and returns the NAS's version string.
    pub async fn connect(&self) -> Result<String, NasError> {
        Ok(self.session().await?.version.clone())
    }

    /// The release of the connected NAS, if connected.
    pub async fn release(&self) -> Option<Release> {
        match &*self.inner.state.lock().await {
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
        let mut attempt = self.call_once(&method, &params, &options).await;
        if options.read_only
            && let Err(NasError::ConnectionLost { .. }) = attempt
        {
            tracing::info!(%method, "connection lost during a read; retrying once on a new connection");
            attempt = self.call_once(&method, &params, &options).await;
        }
        match &attempt {
            Err(e) if e.nothing_sent() => permit.rollback(),
            _ => drop(permit),
        }
        attempt
    }

    async fn call_once(&self, method: &str, params: &Value, options: &CallOptions) -> Result<CallOutcome, NasError> {
        let session = self.session().await?;
        let table = MethodTable::get(session.release);
        let spec = table
            .method(method)
            .ok_or_else(|| NasError::MethodUnavailable { method: method.to_string(), release: session.release })?;
        table.validate(method, params).map_err(NasError::InvalidParams)?;
        let timeout = self.inner.config.call_timeout;
        let reply = session.call(method, params, timeout).await;
        let reply = match reply {
            Err(e @ NasError::ConnectionLost { .. }) => {
                self.mark_down(&session).await;
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
            self.mark_down(&session).await;
        }
        Ok(match waited? {
            Waited::Finished(result) => CallOutcome { result, job: Some(id), still_running: false },
            Waited::StillRunning(seen) => {
                CallOutcome { result: handle(id, method, budget, seen), job: Some(id), still_running: true }
            }
        })
    }

    /// Reads one job's current state (`core.get_jobs` filtered by id) under a permit for it.
    pub async fn job(&self, permit: Permit, id: JobId) -> Result<Value, NasError> {
        let params = serde_json::json!([[["id", "=", id.0]]]);
        let outcome = self.call(permit, params, CallOptions { read_only: true, ..CallOptions::default() }).await?;
        outcome.result.as_array().and_then(|jobs| jobs.first()).cloned().ok_or_else(|| {
            NasError::Rpc(RpcError {
                code: -32001,
                message: "Method call error".into(),
                errno: Some(2),
                errname: Some("ENOENT".into()),
                reason: Some(format!("job {id} does not exist")),
                fields: Vec::new(),
            })
        })
    }

    /// The live session, connecting (after any backoff) when there is none.
    async fn session(&self) -> Result<Arc<Session>, NasError> {
        let mut state = self.inner.state.lock().await;
        let failures = match &*state {
            Link::Up(session) if !session.is_closed() => return Ok(Arc::clone(session)),
            Link::Up(_) => 0,
            Link::Down { failures, retry_at } => {
                let wait = retry_at.saturating_duration_since(Instant::now());
                if wait > self.inner.config.call_timeout {
                    return Err(NasError::Connect {
                        url: self.inner.config.endpoint.websocket_url("current"),
                        reason: format!("still unreachable; next attempt in {}s", wait.as_secs()),
                    });
                }
                tokio::time::sleep(wait).await;
                *failures
            }
        };
        match Session::open(&self.inner.config, &self.inner.tls).await {
            Ok(session) => {
                let session = Arc::new(session);
                *state = Link::Up(Arc::clone(&session));
                Ok(session)
            }
            Err(e) => {
                let delay = BACKOFF_FIRST.saturating_mul(2u32.saturating_pow(failures.min(16))).min(BACKOFF_MAX);
                *state = Link::Down { failures: failures + 1, retry_at: Instant::now() + delay };
                Err(e)
            }
        }
    }

    async fn mark_down(&self, session: &Arc<Session>) {
        session.close();
        let mut state = self.inner.state.lock().await;
        if let Link::Up(current) = &*state
            && Arc::ptr_eq(current, session)
        {
            *state = Link::Down { failures: 0, retry_at: Instant::now() };
        }
    }
}
