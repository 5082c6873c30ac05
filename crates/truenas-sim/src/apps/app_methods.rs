//! `app.*`: installed apps on top of `state::apps`. Every lifecycle method is a job with the
//! middleware's progress texts and per-app locks; every change is published on `app.query`.
//! Catalog lookups (`app.available`, `app.categories`, `catalog.*`) live in `app_catalog.rs`.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::apps::app::{AppState, app_not_found};
use crate::events::Change;
use crate::failure::Failure;
use crate::jobs::JobCtx;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan, run_get_instance_by_name, run_query};
use crate::state::State;
use crate::system::audit_methods::record;

pub(crate) fn register(h: &mut Handlers) {
    h.call("app.query", |ctx| run_query(ctx, rows(ctx)));
    h.call("app.get_instance", |ctx| run_get_instance_by_name(ctx, rows(ctx), app_not_found));
    h.call("app.config", |ctx| {
        let state = ctx.machine.state();
        let name = ctx.params.str(0)?;
        installed(&state, name)?;
        Ok(Value::Object(state.apps.get(name)?.values.clone()))
    });
    h.job("app.create", create);
    h.job("app.update", update);
    h.job("app.delete", delete);
    h.job("app.start", |ctx| {
        change_state(ctx, "app_start", (AppState::Deploying, AppState::Running), ("Starting", "Started"))
    });
    h.job("app.stop", |ctx| {
        change_state(ctx, "app_stop", (AppState::Stopping, AppState::Stopped), ("Stopping", "Stopped"))
    });
    h.job("app.redeploy", redeploy);
    h.job("app.upgrade", upgrade);
    h.job("app.rollback", rollback);
    h.job("app.pull_images", pull_images);
}

/// The app `name` as `app.get_instance` sees it: installed on Docker's current pool.
pub(crate) fn installed(state: &State, name: &str) -> Result<(), Failure> {
    let app = state.apps.get(name)?;
    if state.docker.pool.as_deref() == Some(app.pool.as_str()) { Ok(()) } else { Err(app_not_found(name)) }
}

/// The app's `app.query` entry.
fn entry(machine: &Machine, name: &str) -> Result<Value, Failure> {
    Ok(machine.state().apps.get(name)?.entry(machine.config.release))
}

/// Publishes the app's entry on `app.query` (or its removal).
fn publish(machine: &Machine, change: Change, name: &str) {
    machine.events.emit_entry("app.query", change, name, || entry(machine, name).ok());
}

fn set_state(machine: &Machine, name: &str, state: AppState) -> Result<(), Failure> {
    machine.state().apps.set_state(name, state)?;
    publish(machine, Change::Changed, name);
    Ok(())
}

/// The apps on Docker's current pool, as `app.query` lists them.
fn rows(ctx: &Ctx<'_>) -> Vec<Value> {
    let state = ctx.machine.state();
    state.apps.entries(state.docker.pool.as_deref(), ctx.machine.config.release)
}

/// A job on one installed app: `lock` is the middleware's lock name (suffixed with the app);
/// `body` gets the machine, the job and the app name once Docker runs and the app exists.
fn app_job<F, Fut>(ctx: &Ctx<'_>, lock: &str, body: F) -> JobPlan
where
    F: FnOnce(Arc<Machine>, JobCtx, String) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Value, Failure>> + Send + 'static,
{
    let name = ctx.params.opt_str(0).unwrap_or_default().to_string();
    let lock = format!("{lock}_{name}");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        {
            let state = machine.state();
            state.docker.validate()?;
            installed(&state, &name)?;
        }
        body(machine, job, name).await
    })
    .lock(lock)
}

fn create(ctx: &Ctx<'_>) -> JobPlan {
    let data = ctx.with_defaults("app.create", 0);
    let name = data.get("app_name").and_then(Value::as_str).unwrap_or_default().to_string();
    record(ctx, "app.create", &format!("App: Creating {name}"));
    let lock = format!("app_create_{name}");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        {
            let mut guard = machine.state();
            let state = &mut *guard;
            state.docker.validate()?;
            let pool = state.docker.pool.clone().unwrap_or_default();
            state.apps.install(&state.catalog, &pool, &data)?;
        }
        publish(&machine, Change::Added, &name);
        job.steps(&[(25, "Initial Validation completed"), (60, "App installation in progress, pulling images")]).await;
        set_state(&machine, &name, AppState::Running)?;
        job.progress(100, &format!("'{name}' installed successfully"));
        entry(&machine, &name)
    })
    .lock(lock)
}

fn update(ctx: &Ctx<'_>) -> JobPlan {
    let values = ctx.params.get(1).and_then(|o| o.get("values")).and_then(Value::as_object).cloned();
    record(ctx, "app.update", &format!("App: Updating {}", ctx.params.opt_str(0).unwrap_or_default()));
    app_job(ctx, "app_update", move |machine, job, name| async move {
        let running = machine.state().apps.get(&name)?.state != AppState::Stopped;
        job.progress(25, "Initial Validation completed");
        machine.state().apps.update_values(&name, values.unwrap_or_default())?;
        job.progress(60, "Configuration updated");
        publish(&machine, Change::Changed, &name);
        if running {
            job.steps(&[(70, "Updating docker resources")]).await;
        }
        job.progress(100, &format!("Update completed for '{name}'"));
        entry(&machine, &name)
    })
}

fn delete(ctx: &Ctx<'_>) -> JobPlan {
    record(ctx, "app.delete", &format!("App: Deleting {}", ctx.params.opt_str(0).unwrap_or_default()));
    app_job(ctx, "app_delete", |machine, job, name| async move {
        job.steps(&[(20, format!("Deleting '{name}' app")), (80, "Cleaning up resources".into())]).await;
        machine.state().apps.remove(&name)?;
        publish(&machine, Change::Removed, &name);
        job.progress(100, &format!("Deleted '{name}' app"));
        Ok(json!(true))
    })
}

/// `app.start` and `app.stop`: the app passes through `passing` to `reached`, with the
/// middleware's progress words (`Starting`, `Started`).
fn change_state(
    ctx: &Ctx<'_>,
    lock: &str,
    (passing, reached): (AppState, AppState),
    (doing, done): (&'static str, &'static str),
) -> JobPlan {
    app_job(ctx, lock, move |machine, job, name| async move {
        set_state(&machine, &name, passing)?;
        job.steps(&[(20, format!("{doing} '{name}' app"))]).await;
        set_state(&machine, &name, reached)?;
        job.progress(100, &format!("{done} '{name}' app"));
        Ok(Value::Null)
    })
}

fn redeploy(ctx: &Ctx<'_>) -> JobPlan {
    app_job(ctx, "app_redeploy", |machine, job, name| async move {
        set_state(&machine, &name, AppState::Deploying)?;
        job.steps(&[(20, format!("Redeploying '{name}' app")), (60, "Recreating containers".into())]).await;
        set_state(&machine, &name, AppState::Running)?;
        job.progress(100, &format!("Redeployed '{name}' app"));
        entry(&machine, &name)
    })
}

fn upgrade(ctx: &Ctx<'_>) -> JobPlan {
    let options = ctx.params.object(1);
    let requested = options.get("app_version").and_then(Value::as_str).unwrap_or("latest").to_string();
    let snapshot = options.get("snapshot_hostpaths").and_then(Value::as_bool).unwrap_or(false);
    let values: Map<String, Value> = options.get("values").and_then(Value::as_object).cloned().unwrap_or_default();
    record(ctx, "app.upgrade", &format!("App: Upgrading {}", ctx.params.opt_str(0).unwrap_or_default()));
    app_job(ctx, "app_upgrade", move |machine, job, name| async move {
        let target = machine.state().apps.upgrade_target(&name, &requested)?;
        job.progress(0, &format!("Retrieving versions for '{name}' app"));
        let mut plan = vec![(10, format!("Validating '{name}' app upgrade to {target}"))];
        if snapshot {
            plan.push((20, "Taking snapshots of host paths".into()));
        }
        plan.push((40, format!("Upgrading '{name}' app to {target}")));
        job.steps(&plan).await;
        {
            let mut state = machine.state();
            state.apps.update_values(&name, values)?;
            state.apps.set_version(&name, &target)?;
        }
        publish(&machine, Change::Changed, &name);
        job.steps(&[(80, "Deploying upgraded app")]).await;
        job.progress(100, &format!("Upgraded '{name}' app successfully"));
        entry(&machine, &name)
    })
}

fn rollback(ctx: &Ctx<'_>) -> JobPlan {
    let options = ctx.params.object(1);
    let version = options.get("app_version").and_then(Value::as_str).unwrap_or_default().to_string();
    let snapshot = options.get("rollback_snapshot").and_then(Value::as_bool).unwrap_or(true);
    record(ctx, "app.rollback", &format!("App: Rollback {}", ctx.params.opt_str(0).unwrap_or_default()));
    app_job(ctx, "app_rollback", move |machine, job, name| async move {
        machine.state().apps.check_rollback(&name, &version)?;
        let mut plan = vec![(20, format!("Rolling back '{name}' app to {version}"))];
        if snapshot {
            plan.push((40, "Rolling back ix-volumes snapshots".into()));
        }
        plan.push((60, "Deploying rolled back app".into()));
        job.steps(&plan).await;
        machine.state().apps.set_version(&name, &version)?;
        publish(&machine, Change::Changed, &name);
        job.progress(100, &format!("Rollback completed for '{name}' app"));
        entry(&machine, &name)
    })
}

fn pull_images(ctx: &Ctx<'_>) -> JobPlan {
    let redeploy = ctx.params.get(1).and_then(|o| o.get("redeploy")).and_then(Value::as_bool).unwrap_or(true);
    app_job(ctx, "pull_images", move |machine, job, name| async move {
        job.steps(&[(20, format!("Pulling images for '{name}' app"))]).await;
        machine.state().apps.set_image_updates(&name, false)?;
        publish(&machine, Change::Changed, &name);
        if redeploy {
            job.steps(&[(60, format!("Redeploying '{name}' app"))]).await;
        }
        job.progress(100, &format!("Images for '{name}' app have been pulled"));
        Ok(Value::Null)
    })
}
