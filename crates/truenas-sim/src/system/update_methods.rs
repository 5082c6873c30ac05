//! `update.*`: the 25.10 update flow over `state::update`. `update.download`, `update.run` and
//! `update.manual` are jobs; installing creates a boot environment activated for the next boot.
//! On 24.10 and 25.04 the train-based methods answer instead (`update.check_available`,
//! `get_trains`, `set_train`), and `update.update` is the job that installs (25.10's `update.run`).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::failure::{Failure, errno};
use crate::jobs::JobCtx;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::system::audit_methods::record;
use truenas_api::schema::Release;

pub(crate) fn register(h: &mut Handlers) {
    h.call("update.status", |ctx| Ok(ctx.machine.state().update.status()));
    h.call("update.config", |ctx| Ok(ctx.machine.state().update.config()));
    if h.release < Release::V25_10 {
        legacy(h);
    } else {
        h.call("update.update", |ctx| {
            let mut state = ctx.machine.state();
            state.update.update(&ctx.params.object(0))?;
            Ok(state.update.config())
        });
    }
    h.call("update.available_versions", |ctx| Ok(ctx.machine.state().update.available_versions()));
    h.call("update.profile_choices", |ctx| Ok(ctx.machine.state().update.profile_choices()));
    h.job("update.download", download);
    h.job("update.run", run);
    h.job("update.manual", manual);
}

/// The train-based methods of 24.10 and 25.04.
fn legacy(h: &mut Handlers) {
    h.job("update.update", run);
    h.call("update.check_available", |ctx| {
        let state = ctx.machine.state();
        if state.update.applied {
            return Ok(json!({"status": "REBOOT_REQUIRED"}));
        }
        Ok(match state.update.offered_version() {
            None => json!({"status": "UNAVAILABLE"}),
            Some(version) => json!({
                "status": "AVAILABLE",
                "version": version,
                "changes": [{"operation": "upgrade", "old": {"version": state.update.current_version()}, "new": {"version": version}}],
                "notice": null,
                "notes": null,
                "changelog": "",
            }),
        })
    });
    h.call("update.get_trains", |ctx| {
        let state = ctx.machine.state();
        let trains: serde_json::Map<String, Value> = state
            .update
            .trains()
            .iter()
            .map(|(name, description)| (name.to_string(), json!({"description": description})))
            .collect();
        Ok(json!({"trains": trains, "current": state.update.train(), "selected": state.update.selected_train}))
    });
    h.call("update.set_train", |ctx| {
        ctx.machine.state().update.set_train(ctx.params.str(0)?)?;
        Ok(json!(true))
    });
    h.call("update.get_auto_download", |ctx| Ok(json!(ctx.machine.state().update.autocheck)));
    h.call("update.set_auto_download", |ctx| {
        ctx.machine.state().update.autocheck = ctx.params.bool(0);
        Ok(json!(true))
    });
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
    job.steps(&[(90, "Verifying update"), (92, "Creating boot environment"), (96, "Installing update")]).await;
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
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let version = machine.state().update.target(requested.as_deref())?;
        fetch(&machine, &job, &version).await;
        job.progress(100, "Update downloaded");
        Ok(json!(true))
    })
    .lock("update")
    .abortable()
}

fn run(ctx: &Ctx<'_>) -> JobPlan {
    let attrs = ctx.params.object(0);
    let requested = attrs.get("version").and_then(Value::as_str).map(str::to_string);
    let reboot = attrs.get("reboot").and_then(Value::as_bool).unwrap_or(false);
    let method = if ctx.machine.config.release < Release::V25_10 { "update.update" } else { "update.run" };
    record(ctx, method, "Update software");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let version = machine.state().update.target(requested.as_deref())?;
        fetch(&machine, &job, &version).await;
        install(&machine, &job, &version, reboot).await
    })
    .lock("update")
}

/// `update.manual`: installs an update file already on the NAS.
fn manual(ctx: &Ctx<'_>) -> JobPlan {
    let path = ctx.params.opt_str(0).unwrap_or_default().to_string();
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
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
    .lock("update")
}

#[cfg(test)]
#[path = "update_methods_tests.rs"]
mod tests;
