//! `core.*`: ping, per-connection options, event subscriptions and the job table
//! (`core.get_jobs`, `core.job_abort`, `core.job_wait`).

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::jobs::Outcome;
use crate::methods::{Ctx, Handlers, JobPlan, run_query};
use crate::session::SessionOptions;
use truenas_api::schema::Release;

pub(crate) fn register(h: &mut Handlers) {
    h.call("core.ping", |_| Ok(json!("pong")));
    h.call("core.set_options", set_options);
    h.call("core.subscribe", subscribe);
    h.call("core.unsubscribe", unsubscribe);
    h.call("core.get_jobs", |ctx| run_query(ctx, ctx.machine.jobs.dicts()));
    h.call("core.job_abort", job_abort);
    h.job("core.job_wait", job_wait);
}

fn set_options(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let given = ctx.params.object(0);
    let mut options = ctx.session.options();
    let flag = |key: &str, current: bool| given.get(key).and_then(Value::as_bool).unwrap_or(current);
    options = SessionOptions {
        legacy_jobs: flag("legacy_jobs", options.legacy_jobs),
        private_methods: flag("private_methods", options.private_methods),
        py_exceptions: flag("py_exceptions", options.py_exceptions),
    };
    ctx.session.set_options(options);
    if ctx.machine.config.release < Release::V25_10 {
        // 25.10 began answering with the options in force.
        return Ok(Value::Null);
    }
    Ok(json!({
        "legacy_jobs": options.legacy_jobs,
        "private_methods": options.private_methods,
        "py_exceptions": options.py_exceptions,
    }))
}

fn subscribe(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let event = ctx.params.str(0)?;
    Ok(json!(ctx.session.subscribe(event)))
}

fn unsubscribe(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    ctx.session.unsubscribe(ctx.params.str(0)?);
    Ok(Value::Null)
}

fn job_abort(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    ctx.machine.jobs.abort(u64::try_from(id).unwrap_or(u64::MAX))?;
    Ok(Value::Null)
}

/// A job that ends as job `id` ends, with its result or its error.
fn job_wait(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let jobs = ctx.machine.jobs.clone();
    JobPlan::new(move |_| async move {
        match jobs.wait(u64::try_from(id).unwrap_or(u64::MAX)).await {
            Some(Outcome::Success(value)) => Ok(value),
            Some(Outcome::Failed(failure)) => Err(failure),
            Some(Outcome::Aborted) => Ok(Value::Null),
            None => Err(Failure::Exception { class: "KeyError", reason: id.to_string() }),
        }
    })
}
