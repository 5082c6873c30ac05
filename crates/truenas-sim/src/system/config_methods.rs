//! The configuration file: `config.save` and `config.upload` move it through job pipes, which a
//! plain websocket call cannot open, so called directly they fail as the middleware fails them
//! (`Pipe 'output' is not open`). `core.download` is the way to save it: it runs the job with
//! an output pipe and answers with the job id and a single-use `/_download/...` URL. (The
//! simulated NAS serves no such URL; the job and its result are real.) Restoring needs
//! `POST /_upload`, which it does not offer either.

use serde_json::{Value, json};

use crate::account::api_keys::random_alphanumeric;
use crate::failure::{Failure, errno};
use crate::jobs::JobSpec;
use crate::methods::{Ctx, Handlers, JobPlan};
use truenas_api::schema::MethodTable;

/// Methods whose jobs write a download into their output pipe.
const DOWNLOADABLE: [&str; 1] = ["config.save"];

pub(crate) fn register(h: &mut Handlers) {
    h.job("config.save", |_| pipe_missing("output"));
    h.job("config.upload", |_| pipe_missing("input"));
    h.call("core.download", download);
}

/// What a pipe job does when the caller opened no pipe.
fn pipe_missing(pipe: &'static str) -> JobPlan {
    JobPlan::new(move |_| async move {
        Err(Failure::Exception { class: "ValueError", reason: format!("Pipe '{pipe}' is not open") })
    })
}

/// `core.download(method, args, filename, buffered)`.
fn download(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let method = ctx.params.str(0)?;
    let args = ctx.params.get(1).cloned().unwrap_or(json!([]));
    if !DOWNLOADABLE.contains(&method) {
        return Err(Failure::call(
            errno::EINVAL,
            format!("{method}: the simulated NAS offers no download from this method"),
        ));
    }
    let table = MethodTable::get(ctx.machine.config.release);
    if let Err(e) = table.validate(method, &args) {
        return Err(Failure::call(errno::EINVAL, e.to_string()));
    }
    let options = args.get(0).cloned().unwrap_or(json!({}));
    let spec = JobSpec {
        method: method.to_string(),
        arguments: args,
        description: None,
        abortable: false,
        lock: None,
        credentials: ctx.session.credentials(),
        message_ids: Vec::new(),
    };
    let job = ctx.machine.jobs.submit(spec, move |job| {
        Box::pin(async move {
            let tar = options.get("secretseed").and_then(Value::as_bool).unwrap_or(false)
                || options.get("root_authorized_keys").and_then(Value::as_bool).unwrap_or(false);
            job.progress(50, if tar { "Packing the database and secrets" } else { "Copying the database" });
            job.step().await;
            Ok(Value::Null)
        })
    });
    Ok(json!([job, format!("/_download/{job}?auth_token={}", random_alphanumeric(64))]))
}

#[cfg(test)]
#[path = "config_methods_tests.rs"]
mod tests;
