//! Test harness for the handler tests of the network, disk, certificate and alert domains: a
//! simulated machine called through the dispatcher (authentication, params validated against
//! the release's schema, the handler, jobs waited for), with every successful result checked
//! against the method's `returns` schema in TrueNAS's own API dump.
//!
//! The dumps are reference material, not shipped with the crate: they are read from the
//! folder in `TRUENAS_API_DUMP` (default: the shared reference folder), and the returns check
//! is skipped, saying so, when a dump is absent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::schema::Release;
use crate::sim::SimConfig;
use crate::sim::dispatch;
use crate::sim::failure::Failure;
use crate::sim::machine::Machine;
use crate::sim::reference_dumps::{returns_schemas, undate};
use crate::sim::session::{Session, SessionOptions};

/// A logged-in session on a fresh simulated NAS whose jobs take 1 ms a step.
pub(super) struct Nas {
    pub(super) machine: Arc<Machine>,
    session: Arc<Session>,
}

impl Nas {
    pub(super) fn new() -> Nas {
        Nas::release(Release::V25_10)
    }

    pub(super) fn release(release: Release) -> Nas {
        let machine = Arc::new(Machine::new(SimConfig { release, ..SimConfig::default() }));
        machine.faults.set_job_step(Duration::from_millis(1));
        let session = Arc::new(Session::new(1, true));
        session.login("truenas_admin");
        session.set_options(SessionOptions { legacy_jobs: false, ..SessionOptions::default() });
        Nas { machine, session }
    }

    /// Calls `method`; a job's call returns the job's outcome.
    pub(super) async fn call(&self, method: &str, params: Value) -> Result<Value, Failure> {
        dispatch::call(&self.machine, &self.session, Some(&json!(1)), method, &params).await
    }

    /// A call that must succeed; its result must match the method's `returns` schema.
    pub(super) async fn ok(&self, method: &str, params: Value) -> Value {
        match self.call(method, params.clone()).await {
            Ok(value) => {
                check_returns(self.machine.config.release, method, &value);
                value
            }
            Err(failure) => panic!("{method} {params} failed: {}", failure.reason()),
        }
    }

    /// A call that must fail.
    pub(super) async fn fail(&self, method: &str, params: Value) -> Failure {
        match self.call(method, params.clone()).await {
            Ok(value) => panic!("{method} {params} succeeded: {value}"),
            Err(failure) => failure,
        }
    }
}

/// Panics with every mismatch between `value` and the `returns` schema of `method`.
pub(super) fn check_returns(release: Release, method: &str, value: &Value) {
    let Some(schemas) = returns_schemas(release) else { return };
    let schema = schemas.get(method).unwrap_or_else(|| panic!("{release} has no method {method}"));
    let validator = jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(schema).unwrap();
    let problems: Vec<String> =
        validator.iter_errors(&undate(value)).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(problems.is_empty(), "{release} {method} result does not match its returns schema: {problems:#?}\n{value}");
}
