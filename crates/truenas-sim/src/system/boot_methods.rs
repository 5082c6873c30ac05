//! `boot.*` and `boot.environment.*`: the boot pool and its boot environments over
//! `state::boot_pool` and `state::boot_env`. Attaching, replacing and scrubbing are jobs. On
//! 24.10 the same environments answer as `bootenv.*` (ids are names, results are booleans,
//! deleting is a job); entries keep the 25.10 shape.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, JobPlan, run_query};

const GIB: i64 = 1024 * 1024 * 1024;

pub(crate) fn register(h: &mut Handlers) {
    h.call("boot.get_state", |ctx| {
        let state = ctx.machine.state();
        // Beside the environments: swap-less TrueNAS keeps about a GiB of other datasets.
        let allocated = state.boot_envs.used_bytes() + GIB;
        Ok(state.boot_pool.state(ctx.machine.config.release, allocated))
    });
    h.call("boot.get_disks", |ctx| Ok(ctx.machine.state().boot_pool.get_disks()));
    h.call("boot.detach", |ctx| {
        ctx.machine.state().boot_pool.detach(ctx.params.str(0)?)?;
        Ok(Value::Null)
    });
    h.call("boot.set_scrub_interval", |ctx| Ok(json!(ctx.params.int(0)?)));
    h.job("boot.attach", attach);
    h.job("boot.replace", replace);
    h.job("boot.scrub", scrub);

    h.call("boot.environment.query", |ctx| run_query(ctx, ctx.machine.state().boot_envs.entries()));
    h.call("boot.environment.clone", |ctx| {
        let data = ctx.params.object(0);
        let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        ctx.machine.state().boot_envs.clone_env(&text("id"), &text("target"))
    });
    h.call("boot.environment.activate", |ctx| ctx.machine.state().boot_envs.activate(&id(ctx)));
    h.call("boot.environment.destroy", |ctx| {
        ctx.machine.state().boot_envs.destroy(&id(ctx))?;
        Ok(Value::Null)
    });
    h.call("boot.environment.keep", |ctx| {
        let value = ctx.params.flag(0, "value");
        ctx.machine.state().boot_envs.keep(&id(ctx), value)
    });

    // 24.10's names; registered only where the release's table has them.
    h.call("bootenv.query", |ctx| run_query(ctx, ctx.machine.state().boot_envs.entries()));
    h.call("bootenv.activate", |ctx| {
        ctx.machine.state().boot_envs.activate(ctx.params.str(0)?)?;
        Ok(json!(true))
    });
    h.call("bootenv.set_attribute", |ctx| {
        let keep = ctx.params.flag(1, "keep");
        ctx.machine.state().boot_envs.keep(ctx.params.str(0)?, keep)?;
        Ok(json!(true))
    });
    h.call("bootenv.create", |ctx| {
        let data = ctx.params.object(0);
        let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
        let name = text("name").unwrap_or_default();
        let mut state = ctx.machine.state();
        // Without a source, 24.10 copies the running environment.
        let source = text("source").unwrap_or_else(|| state.boot_envs.active().to_string());
        state.boot_envs.clone_env(&source, &name)?;
        Ok(json!(name))
    });
    h.job("bootenv.delete", bootenv_delete);
}

/// `bootenv.delete(id)`: a job on 24.10.
fn bootenv_delete(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.opt_str(0).unwrap_or_default().to_string();
    let lock = format!("bootenv_delete_{id}");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.progress(50, &format!("Deleting {id}"));
        machine.state().boot_envs.destroy(&id)?;
        Ok(json!(true))
    })
    .lock(lock)
}

/// The `id` member of the single object param.
fn id(ctx: &Ctx<'_>) -> String {
    ctx.params.get(0).and_then(|o| o.get("id")).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A resilvering job after `change` altered the pool's members.
fn resilver_job(
    ctx: &Ctx<'_>,
    lock: &str,
    change: impl FnOnce(&mut crate::state::State) -> Result<(), Failure> + Send + 'static,
) -> JobPlan {
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        job.progress(0, "Formatting disk");
        change(&mut machine.state())?;
        job.step().await;
        job.progress(30, "Installing boot loader");
        job.step().await;
        machine.state().boot_pool.start_scan("RESILVER");
        for percent in [50, 75] {
            job.progress(percent, "Resilvering boot pool");
            job.step().await;
        }
        machine.state().boot_pool.finish_scan();
        job.progress(100, "Boot pool updated");
        Ok(Value::Null)
    })
    .lock(lock)
}

fn attach(ctx: &Ctx<'_>) -> JobPlan {
    let dev = ctx.params.opt_str(0).unwrap_or_default().to_string();
    resilver_job(ctx, "boot_attach", move |state| state.boot_pool.attach(&dev))
}

fn replace(ctx: &Ctx<'_>) -> JobPlan {
    let label = ctx.params.opt_str(0).unwrap_or_default().to_string();
    let dev = ctx.params.opt_str(1).unwrap_or_default().to_string();
    resilver_job(ctx, "boot_replace", move |state| state.boot_pool.replace(&label, &dev))
}

fn scrub(ctx: &Ctx<'_>) -> JobPlan {
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let size = {
            let mut state = machine.state();
            state.boot_pool.start_scan("SCRUB");
            state.boot_pool.size_text()
        };
        for percent in [0, 25, 50, 75] {
            job.progress(percent, &format!("Scrubbing boot-pool ({size})"));
            job.step().await;
        }
        machine.state().boot_pool.finish_scan();
        job.progress(100, "Scrub finished");
        Ok(Value::Null)
    })
    .lock("boot_scrub")
    .abortable()
}

#[cfg(test)]
#[path = "boot_methods_tests.rs"]
mod tests;
