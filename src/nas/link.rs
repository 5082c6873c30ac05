//! The connection state machine: at most one connection attempt at a time, run in its own
//! task and bounded by the connect deadline, whose outcome every waiting call hears; the
//! backoff after a failure; and the state lock, a std mutex never held across an await, so
//! no network I/O ever happens under it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::session::{Session, Stage};
use super::{NasClient, NasError};

/// What a connection attempt ends with, shared by every call waiting for it.
type Attempt = Option<Result<Arc<Session>, NasError>>;

/// The connection state machine.
pub(super) enum Link {
    /// No connection; the next attempt may start at `retry_at`.
    Down { failures: u32, retry_at: Instant, last: Option<NasError> },
    /// One attempt under way, ending by `deadline`; callers wait on `done`. `stage` is the
    /// step it is at, for callers whose own deadline comes first.
    Connecting { done: watch::Receiver<Attempt>, deadline: Instant, stage: Arc<Stage> },
    /// A live connection (it may have closed since; callers check).
    Up(Arc<Session>),
}

const BACKOFF_FIRST: Duration = Duration::from_millis(250);
// Short enough that a healed NAS is used again within seconds.
const BACKOFF_MAX: Duration = Duration::from_secs(5);
// Slack for the scheduler in the documented bound of a call.
pub(super) const SLACK: Duration = Duration::from_millis(250);

/// What a caller of an attempt waits on: its outcome, its deadline, the step it is at.
type Waiting = (watch::Receiver<Attempt>, Instant, Arc<Stage>);

impl NasClient {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Link> {
        // Every update is a single assignment, so a poisoned lock still holds a valid state.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live session, connecting when there is none. Concurrent callers share one attempt
    /// and its outcome; it ends within one connect deadline. During the backoff after a failed
    /// attempt, callers get that attempt's error at once instead of waiting.
    pub(super) async fn session(&self) -> Result<Arc<Session>, NasError> {
        let config = &self.inner.config;
        let (mut done, deadline, stage) = {
            let mut state = self.lock();
            match &*state {
                Link::Up(session) if !session.is_closed() => return Ok(Arc::clone(session)),
                Link::Up(_) => self.start_attempt(&mut state, 0),
                Link::Connecting { done, deadline, stage } => (done.clone(), *deadline, Arc::clone(stage)),
                Link::Down { failures, retry_at, .. } if *retry_at <= Instant::now() => {
                    let failures = *failures;
                    self.start_attempt(&mut state, failures)
                }
                Link::Down { last: Some(last), .. } => return Err(last.clone()),
                Link::Down { retry_at, last: None, .. } => {
                    let wait = retry_at.saturating_duration_since(Instant::now());
                    return Err(NasError::Connect {
                        url: config.endpoint.http_url(""),
                        reason: format!("still unreachable; next attempt in {}ms", wait.as_millis()),
                    });
                }
            }
        };
        // The attempt's task is bounded by `deadline`; the extra second only guards against a
        // task that never reports.
        let outcome = tokio::time::timeout_at(deadline + Duration::from_secs(1), done.wait_for(Option::is_some)).await;
        match outcome {
            Ok(Ok(result)) => match &*result {
                Some(result) => result.clone(),
                None => Err(self.abandoned()),
            },
            Ok(Err(_)) => Err(self.abandoned()),
            Err(_) => Err(NasError::Connect {
                url: config.endpoint.http_url(""),
                reason: format!(
                    "no connection within {}s; the attempt was still {}",
                    config.connect_timeout.as_secs(),
                    stage.get()
                ),
            }),
        }
    }

    fn abandoned(&self) -> NasError {
        NasError::Connect {
            url: self.inner.config.endpoint.http_url(""),
            reason: "the connection attempt ended without an outcome".into(),
        }
    }

    /// Starts one connection attempt in its own task, bounded by the connect deadline; the task
    /// records the outcome in the state (the backoff on failure) and tells every waiter.
    fn start_attempt(&self, state: &mut Link, failures: u32) -> Waiting {
        let (tx, rx) = watch::channel(None);
        let deadline = Instant::now() + self.inner.config.connect_timeout;
        let stage = Arc::new(Stage::default());
        *state = Link::Connecting { done: rx.clone(), deadline, stage: Arc::clone(&stage) };
        let inner = Arc::clone(&self.inner);
        let waiting = (rx, deadline, Arc::clone(&stage));
        tokio::spawn(async move {
            let config = &inner.config;
            let opened = tokio::time::timeout_at(deadline, Session::open(config, &inner.tls, &stage)).await;
            let result = match opened {
                Ok(result) => result.map(Arc::new),
                Err(_) => Err(NasError::Connect {
                    url: config.endpoint.http_url(""),
                    reason: format!("no answer within {}s while {}", config.connect_timeout.as_secs(), stage.get()),
                }),
            };
            {
                let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
                *state = match &result {
                    Ok(session) => {
                        inner.announce_up(session);
                        Link::Up(Arc::clone(session))
                    }
                    Err(e) => {
                        let delay =
                            BACKOFF_FIRST.saturating_mul(2u32.saturating_pow(failures.min(16))).min(BACKOFF_MAX);
                        tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot connect to TrueNAS");
                        Link::Down { failures: failures + 1, retry_at: Instant::now() + delay, last: Some(e.clone()) }
                    }
                };
            }
            tx.send_replace(Some(result));
        });
        waiting
    }

    pub(super) fn mark_down(&self, session: &Arc<Session>) {
        session.close();
        let mut state = self.lock();
        if let Link::Up(current) = &*state
            && Arc::ptr_eq(current, session)
        {
            *state = Link::Down { failures: 0, retry_at: Instant::now(), last: None };
        }
    }
}
