//! Fault switches for reliability tests: reply latency, dropped connections, injected errors,
//! replies that are malformed or never come, and the pace of simulated jobs. Shared by every connection; settable from Rust or over HTTP:
//!
//! ```text
//! POST /_sim/faults
//! {"clear": true, "latency_ms": 250, "job_step_ms": 10, "drop_connection_on": "vm.start",
//!  "fail_next": {"method": "vm.start", "errname": "EBUSY", "reason": "Rate Limit Exceeded"},
//!  "silent": true, "no_result_next": "vm.query", "slow": {"method": "vm.query", "ms": 1500}}
//! ```
//!
//! Every member is optional; `clear` applies first. Unknown members are refused (400/422).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

/// Default time per progress step of a simulated job.
const DEFAULT_JOB_STEP: Duration = Duration::from_millis(200);

/// A shared handle on the fault switches; clones see the same switches.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    latency: Duration,
    // Latency of single methods, instead of `latency` (a slow handler; `core.ping` stays quick).
    slow: HashMap<String, Duration>,
    job_step: Option<Duration>,
    // One-shot: armed methods, consumed by their next call.
    drop_on: HashMap<String, usize>,
    fail_next: HashMap<String, Vec<(String, String)>>,
    // Subscribed clients get no collection updates (tests their polling fallback).
    mute_events: bool,
    // Calls are recorded but never answered, login included (a hung middleware).
    silent: bool,
    // One-shot: armed methods answer with neither `result` nor `error`.
    no_result_on: HashMap<String, usize>,
}

/// A fault injected for one call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InjectedError {
    pub(crate) errname: String,
    pub(crate) reason: String,
}

/// The JSON body of `POST /_sim/faults`; every field is optional and `clear` runs first.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultRequest {
    #[serde(default)]
    clear: bool,
    latency_ms: Option<u64>,
    job_step_ms: Option<u64>,
    drop_connection_on: Option<String>,
    fail_next: Option<FailNextRequest>,
    mute_events: Option<bool>,
    silent: Option<bool>,
    no_result_next: Option<String>,
    slow: Option<SlowRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlowRequest {
    method: String,
    ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNextRequest {
    method: String,
    errname: String,
    reason: String,
}

impl Faults {
    /// Delays every reply by `d`.
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// The next call of `method` closes its connection without a reply (one-shot).
    pub fn drop_connection_on(&self, method: &str) {
        *self.lock().drop_on.entry(method.to_string()).or_default() += 1;
    }

    /// The next call of `method` fails with a `-32001` error carrying `errname` and `reason`
    /// (one-shot). The reason is rendered as TrueNAS does: `[ERRNAME] reason`.
    pub fn fail_next(&self, method: &str, errname: &str, reason: &str) {
        self.lock().fail_next.entry(method.to_string()).or_default().push((errname.to_string(), reason.to_string()));
    }

    /// Time per progress step of simulated jobs (default 200 ms; jobs take about 5 steps).
    pub fn set_job_step(&self, d: Duration) {
        self.lock().job_step = Some(d);
    }

    /// Turns every fault off and restores the default job step.
    pub fn clear(&self) {
        *self.lock() = FaultState::default();
    }

    /// Stops (or resumes) sending collection updates to subscribers, as a NAS whose event
    /// stream is lost would: clients must fall back to polling.
    pub fn mute_events(&self, muted: bool) {
        self.lock().mute_events = muted;
    }

    /// Delays every reply to `method` by `d`, in place of the latency of all replies.
    pub fn set_slow(&self, method: &str, d: Duration) {
        self.lock().slow.insert(method.to_string(), d);
    }

    /// Stops (or resumes) answering calls: every call is recorded and then left without a
    /// reply, as a hung middleware behind a live socket would. Websocket upgrades still succeed.
    pub fn set_silent(&self, silent: bool) {
        self.lock().silent = silent;
    }

    /// The next call of `method` is answered with neither `result` nor `error` (one-shot).
    pub fn no_result_next(&self, method: &str) {
        *self.lock().no_result_on.entry(method.to_string()).or_default() += 1;
    }

    pub(crate) fn is_silent(&self) -> bool {
        self.lock().silent
    }

    /// Consumes an armed reply-without-result for `method`.
    pub(crate) fn take_no_result(&self, method: &str) -> bool {
        take_one(&mut self.lock().no_result_on, method)
    }

    pub(crate) fn events_muted(&self) -> bool {
        self.lock().mute_events
    }

    pub(crate) fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// The delay of a reply to `method`.
    pub(crate) fn latency_of(&self, method: &str) -> Duration {
        let state = self.lock();
        state.slow.get(method).copied().unwrap_or(state.latency)
    }

    pub(crate) fn job_step(&self) -> Duration {
        self.lock().job_step.unwrap_or(DEFAULT_JOB_STEP)
    }

    /// Consumes an armed drop for `method`.
    pub(crate) fn take_drop(&self, method: &str) -> bool {
        take_one(&mut self.lock().drop_on, method)
    }

    /// Consumes an armed error for `method`.
    pub(crate) fn take_failure(&self, method: &str) -> Option<InjectedError> {
        let mut state = self.lock();
        let queue = state.fail_next.get_mut(method)?;
        let (errname, reason) = if queue.is_empty() { None } else { Some(queue.remove(0)) }?;
        if queue.is_empty() {
            state.fail_next.remove(method);
        }
        Some(InjectedError { errname, reason })
    }

    pub(crate) fn apply(&self, request: FaultRequest) {
        if request.clear {
            self.clear();
        }
        if let Some(ms) = request.latency_ms {
            self.set_latency(Duration::from_millis(ms));
        }
        if let Some(ms) = request.job_step_ms {
            self.set_job_step(Duration::from_millis(ms));
        }
        if let Some(method) = request.drop_connection_on {
            self.drop_connection_on(&method);
        }
        if let Some(f) = request.fail_next {
            self.fail_next(&f.method, &f.errname, &f.reason);
        }
        if let Some(muted) = request.mute_events {
            self.mute_events(muted);
        }
        if let Some(silent) = request.silent {
            self.set_silent(silent);
        }
        if let Some(method) = request.no_result_next {
            self.no_result_next(&method);
        }
        if let Some(slow) = request.slow {
            self.set_slow(&slow.method, Duration::from_millis(slow.ms));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        // Every update is a single assignment or push, so a poisoned lock still holds valid state.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Consumes one armed count of a one-shot fault.
fn take_one(armed: &mut HashMap<String, usize>, method: &str) -> bool {
    match armed.get_mut(method) {
        Some(n) if *n > 0 => {
            *n -= 1;
            if *n == 0 {
                armed.remove(method);
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shot_faults_fire_once() {
        let f = Faults::default();
        f.drop_connection_on("vm.start");
        f.fail_next("vm.stop", "EBUSY", "busy");
        assert!(!f.take_drop("vm.stop"));
        assert!(f.take_drop("vm.start"));
        assert!(!f.take_drop("vm.start"));
        assert_eq!(f.take_failure("vm.stop").map(|e| e.errname), Some("EBUSY".to_string()));
        assert_eq!(f.take_failure("vm.stop"), None);
        f.no_result_next("vm.query");
        assert!(f.take_no_result("vm.query"));
        assert!(!f.take_no_result("vm.query"));
    }

    #[test]
    fn http_requests_set_the_same_switches() {
        let f = Faults::default();
        let req: FaultRequest = serde_json::from_str(
            r#"{"latency_ms": 5, "job_step_ms": 7, "fail_next": {"method": "a", "errname": "EIO", "reason": "r"}}"#,
        )
        .unwrap();
        f.apply(req);
        assert_eq!(f.latency(), Duration::from_millis(5));
        f.apply(serde_json::from_str(r#"{"slow": {"method": "vm.query", "ms": 9}}"#).unwrap());
        assert_eq!(f.latency_of("vm.query"), Duration::from_millis(9));
        assert_eq!(f.latency_of("core.ping"), Duration::from_millis(5));
        assert_eq!(f.job_step(), Duration::from_millis(7));
        assert!(f.take_failure("a").is_some());
        f.apply(serde_json::from_str(r#"{"clear": true}"#).unwrap());
        assert_eq!(f.job_step(), DEFAULT_JOB_STEP);
        assert!(serde_json::from_str::<FaultRequest>(r#"{"latency": 5}"#).is_err());
    }
}
