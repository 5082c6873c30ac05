//! One call from arrival to result: the authentication gate, validation against the release's
//! schema, the handler, and for job methods the job (its id at once, or its outcome for
//! sessions that turned `legacy_jobs` off).

use std::sync::Arc;

use serde_json::{Value, json};

use super::failure::{Failure, Invalid, errno};
use super::jobs::{JobSpec, Outcome};
use super::machine::Machine;
use super::methods::{Ctx, Handler};
use super::params::Params;
use super::session::Session;
use truenas_api::schema::{MethodTable, ParamsError, Release};

/// Methods a session may call before it logs in.
const UNAUTHENTICATED: [&str; 10] = [
    "auth.login",
    "auth.login_ex",
    "auth.login_ex_continue",
    "auth.login_with_api_key",
    "auth.login_with_token",
    "auth.mechanism_choices",
    "core.ping",
    "core.set_options",
    "core.subscribe",
    "core.unsubscribe",
];

/// Runs `method` for `session`. `id` is the JSON-RPC id, recorded in the job's `message_ids`.
pub(crate) async fn call(
    machine: &Arc<Machine>,
    session: &Arc<Session>,
    id: Option<&Value>,
    method: &str,
    params: &Value,
) -> Result<Value, Failure> {
    if !session.is_authenticated() && !UNAUTHENTICATED.contains(&method) {
        return Err(Failure::not_authenticated());
    }
    validate(machine.config.release, method, params)?;
    let Some(handler) = machine.handlers.get(method) else {
        return Err(Failure::call(errno::ENOTSUP, format!("{method} is not implemented by the simulated NAS")));
    };
    let ctx = Ctx { machine, session, params: Params::new(method, params) };
    let plan = match handler {
        Handler::Call(f) => return f(&ctx),
        Handler::Job(f) => f(&ctx),
    };
    let legacy = session.options().legacy_jobs;
    let spec = JobSpec {
        method: method.to_string(),
        arguments: params.clone(),
        description: plan.description,
        abortable: plan.abortable,
        lock: plan.lock,
        credentials: session.credentials(),
        message_ids: id.cloned().into_iter().filter(|id| !id.is_null()).collect(),
    };
    let job = machine.jobs.submit(spec, plan.body);
    if legacy {
        return Ok(json!(job));
    }
    match machine.jobs.wait(job).await {
        Some(Outcome::Success(value)) => Ok(value),
        Some(Outcome::Failed(failure)) => Err(failure),
        // An aborted job has no error, so the waiting call gets its (empty) result.
        Some(Outcome::Aborted) => Ok(Value::Null),
        None => Err(Failure::fault("the simulated NAS is shutting down")),
    }
}

/// Checks params against the release schema, as the middleware's models do.
fn validate(release: Release, method: &str, params: &Value) -> Result<(), Failure> {
    MethodTable::get(release).validate(method, params).map_err(invalid_params)
}

fn invalid_params(error: ParamsError) -> Failure {
    match error {
        ParamsError::Invalid { problems, .. } => Failure::Validation(
            problems
                .into_iter()
                .map(|p| Invalid { attribute: Some(p.attribute), message: p.message, errno: errno::EINVAL })
                .collect(),
        ),
        ParamsError::UnknownMethod { method, .. } => Failure::call(errno::EINVAL, format!("{method} does not exist")),
    }
}
