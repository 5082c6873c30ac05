//! `update.*`: the 25.10 update flow over `state::update`. `update.download`, `update.run` and
//! `update.manual` are jobs; installing creates a boot environment activated for the next boot.

use std::sync::Arc;

use serde_json::{Value, json};

use super::audit::record;
use super::{Ctx, Handlers, JobPlan};
use crate::sim::failure::{Failure, errno};
use crate::sim::jobs::JobCtx;
use crate::sim::machine::Machine;

pub(super) fn register(h: &mut Handlers) {
    h.call("update.status", |ctx| Ok(ctx.machine.state().update.status()));
    h.call("update.config", |ctx| Ok(ctx.machine.state().update.config()));
    h.call("update.update", |ctx| {
        let mut state = ctx.machine.state();
        state.update.update(&ctx.params.object(0))?;
        Ok(state.update.config())
    });
    h.call("update.available_versions", |ctx| Ok(ctx.machine.state().update.available_versions()));
    h.call("update.profile_choices", |ctx| Ok(ctx.machine.state().update.profile_choices()));
    h.job("update.download", download);
    h.job("update.run", run);
    h.job("update.manual", manual);
}

fn plan(ctx: &Ctx<'_>, lock: &str) -> (Arc<Machine>, Option<String>) {
    (Arc::clone(ctx.machine), Some(lock.to_string()))
}

/// Fetches `version` unless it is already there.
async fn fetch(machine: &Machine, job: &JobCtx, version: &str) {
    if machine.state().update.is_downloaded(version) {
        return;
    }
    for percent in [10, 35, 60, 85] {
        job.progress(percent, &format!("Downloading update {version}"));
        job.step().await;
    }
    machine.state().update.set_downloaded(version);
}

/// Installs `version` into a new boot environment.
async fn install(machine: &Machine, job: &JobCtx, version: &str, reboot: bool) -> Result<Value, Failure> {
    for (percent, text) in [(90, "Verifying update"), (92, "Creating boot environment"), (96, "Installing update")] {
        job.progress(percent, text);
        job.step().await;
    }
    {
        let mut state = machine.state();
        state.boot_envs.install(version);
        state.update.applied = true;
    }
    if reboot {
        // The simulated NAS does not restart; the new version is activated for the next boot.
        job.progress(99, "Rebooting system");
        job.step().await;
    }
    job.progress(100, "Update installed, reboot to use it");
    Ok(json!(true))
}

fn download(ctx: &Ctx<'_>) -> JobPlan {
    let requested = ctx.params.opt_str(1).map(str::to_string);
    let (machine, lock) = plan(ctx, "update");
    JobPlan {
        description: None,
        abortable: true,
        lock,
        body: Box::new(move |job| {
            Box::pin(async move {
                let version = machine.state().update.target(requested.as_deref())?;
                fetch(&machine, &job, &version).await;
                job.progress(100, "Update downloaded");
                Ok(json!(true))
            })
        }),
    }
}

fn run(ctx: &Ctx<'_>) -> JobPlan {
    let attrs = ctx.params.object(0);
    let requested = attrs.get("version").and_then(Value::as_str).map(str::to_string);
    let reboot = attrs.get("reboot").and_then(Value::as_bool).unwrap_or(false);
    record(ctx, "update.run", "Update software");
    let (machine, lock) = plan(ctx, "update");
    JobPlan {
        description: None,
        abortable: false,
        lock,
        body: Box::new(move |job| {
            Box::pin(async move {
                let version = machine.state().update.target(requested.as_deref())?;
                fetch(&machine, &job, &version).await;
                install(&machine, &job, &version, reboot).await
            })
        }),
    }
}

/// `update.manual`: installs an update file already on the NAS.
fn manual(ctx: &Ctx<'_>) -> JobPlan {
    let path = ctx.params.opt_str(0).unwrap_or_default().to_string();
    let (machine, lock) = plan(ctx, "update");
    JobPlan {
        description: None,
        abortable: false,
        lock,
        body: Box::new(move |job| {
            Box::pin(async move {
                let version = {
                    let state = machine.state();
                    state.update.check_not_applied()?;
                    if !state.fs.is_file(&path) {
                        return Err(Failure::call(errno::ENOENT, format!("{path} does not exist")));
                    }
                    state.update.next_version()
                };
                install(&machine, &job, &version, false).await
            })
        }),
    }
}
