//! A harness for tests of handlers and of TrueNAS clients (built for this crate's tests and
//! with the `testing` feature): a simulated machine with fast jobs, a logged-in session whose job
//! calls wait for the outcome, and every successful result checked against the method's
//! `returns` schema from TrueNAS's API dump (read from `TRUENAS_API_DUMP`, default the shared
//! reference folder; skipped with a note when absent).

#![allow(clippy::panic, reason = "a test harness: a call that does not do what the test expects fails the test")]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::SimConfig;
use crate::dispatch;
use crate::failure::Failure;
use crate::machine::Machine;
use crate::reference_dumps::{returns_problems, returns_schemas};
use crate::session::{Session, SessionOptions};
use truenas_api::schema::Release;

/// One simulated NAS and one administrator session on it.
pub struct Harness {
    pub(crate) machine: Arc<Machine>,
    session: Arc<Session>,
}

impl Harness {
    /// A NAS of `release` with its seed, jobs of 1 ms steps, and an administrator logged in.
    pub fn new(release: Release) -> Harness {
        let machine = Arc::new(Machine::new(SimConfig { release, ..SimConfig::default() }));
        machine.faults.set_job_step(Duration::from_millis(1));
        let session = Arc::new(Session::new(1, true));
        session.login(&machine.config.username);
        session.set_options(SessionOptions { legacy_jobs: false, ..SessionOptions::default() });
        Harness { machine, session }
    }

    /// The release the NAS plays.
    pub fn release(&self) -> Release {
        self.machine.config.release
    }

    /// Calls `method`; job methods run to their end.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, Failure> {
        dispatch::call(&self.machine, &self.session, None, method, &params).await
    }

    /// The result of a call that must succeed, checked against the method's `returns` schema.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let result = match self.call(method, params.clone()).await {
            Ok(result) => result,
            Err(e) => panic!("{method} {params} failed: {}", e.reason()),
        };
        match returns_schemas(self.release()).and_then(|s| s.get(method)) {
            Some(schema) => {
                let problems = returns_problems(schema, &result);
                assert!(
                    problems.is_empty(),
                    "{} {method}: result breaks the returns schema: {problems:#?}\n{result:#}",
                    self.release()
                );
            }
            None => eprintln!("skipping the returns check of {method}: no API dump for {}", self.release()),
        }
        result
    }

    /// The failure of a call that must fail.
    pub async fn err(&self, method: &str, params: Value) -> Failure {
        match self.call(method, params).await {
            Ok(result) => panic!("{method} succeeded: {result}"),
            Err(failure) => failure,
        }
    }
}
