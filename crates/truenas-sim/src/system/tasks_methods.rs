//! `cronjob.*`, `rsynctask.*`, `initshutdownscript.*` and `tunable.*` over `state::tasks`
//! (`keychaincredential.*` is in `keychain.rs`). `cronjob.run`, `rsynctask.run` and the
//! `tunable` changes are jobs with progress; the commands themselves are not executed (the
//! simulated NAS runs nothing), but a run is recorded where TrueNAS shows it.

use serde_json::{Map, Value, json};

use crate::clock;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, JobPlan, object, run_query};
use crate::query;
use crate::records::{Records, invalid};
use crate::state::State;

/// What TrueNAS says of a task path outside every pool.
const OUTSIDE_POOLS: &str = "The path must reside within a pool mount point";

pub(crate) type Pick = fn(&mut State) -> &mut Records;

fn cron(s: &mut State) -> &mut Records {
    &mut s.tasks.cronjobs
}
fn rsync(s: &mut State) -> &mut Records {
    &mut s.tasks.rsync
}
fn initshutdown(s: &mut State) -> &mut Records {
    &mut s.tasks.initshutdown
}
fn tunable(s: &mut State) -> &mut Records {
    &mut s.tasks.tunables
}

pub(crate) fn register(h: &mut Handlers) {
    h.call("cronjob.query", |ctx| query_rows(ctx, cron));
    h.call("cronjob.get_instance", |ctx| get_instance(ctx, cron));
    h.call("cronjob.create", |ctx| create(ctx, "cronjob.create", "cron_job_create", cron, check_cronjob));
    h.call("cronjob.update", |ctx| update(ctx, "cronjob.update", "cron_job_update", cron, check_cronjob));
    h.call("cronjob.delete", |ctx| delete(ctx, cron));
    h.job("cronjob.run", run_cronjob);
    h.call("rsynctask.query", |ctx| run_query(ctx, rsync_entries(ctx)));
    h.call("rsynctask.get_instance", |ctx| {
        let id = ctx.params.int(0)?;
        let not_found = ctx.machine.state().tasks.rsync.not_found(id);
        instance(ctx, rsync_entries(ctx), not_found)
    });
    h.call("rsynctask.create", |ctx| {
        let row = create(ctx, "rsynctask.create", "rsync_task_create", rsync, check_rsync)?;
        rsync_entry(ctx, &row)
    });
    h.call("rsynctask.update", |ctx| {
        let row = update(ctx, "rsynctask.update", "rsync_task_update", rsync, check_rsync)?;
        rsync_entry(ctx, &row)
    });
    h.call("rsynctask.delete", |ctx| delete(ctx, rsync));
    h.job("rsynctask.run", run_rsync);
    h.call("initshutdownscript.query", |ctx| query_rows(ctx, initshutdown));
    h.call("initshutdownscript.get_instance", |ctx| get_instance(ctx, initshutdown));
    h.call("initshutdownscript.create", |ctx| {
        create(ctx, "initshutdownscript.create", "init_shutdown_script_create", initshutdown, check_script)
    });
    h.call("initshutdownscript.update", |ctx| {
        update(ctx, "initshutdownscript.update", "init_shutdown_script_update", initshutdown, check_script)
    });
    h.call("initshutdownscript.delete", |ctx| delete(ctx, initshutdown));
    h.call("tunable.query", |ctx| query_rows(ctx, tunable));
    h.call("tunable.get_instance", |ctx| get_instance(ctx, tunable));
    h.job("tunable.create", tunable_create);
    h.job("tunable.update", tunable_update);
    h.job("tunable.delete", tunable_delete);
    h.call("tunable.tunable_type_choices", |_| Ok(json!({"SYSCTL": "SYSCTL", "UDEV": "UDEV", "ZFS": "ZFS"})));
}

pub(crate) fn query_rows(ctx: &Ctx<'_>, pick: Pick) -> Result<Value, Failure> {
    let rows = pick(&mut ctx.machine.state()).entries();
    run_query(ctx, rows)
}

pub(crate) fn get_instance(ctx: &Ctx<'_>, pick: Pick) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let (rows, not_found) = {
        let mut state = ctx.machine.state();
        let records = pick(&mut state);
        (records.entries(), records.not_found(id))
    };
    instance(ctx, rows, not_found)
}

/// `get_instance` over `rows`: the entry whose id is param 0, or `not_found`.
fn instance(ctx: &Ctx<'_>, rows: Vec<Value>, not_found: Failure) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(rows, &json!([["id", "=", id]]), &Value::Object(options))
        .map_err(|e| if e == query::match_not_found() { not_found } else { e })
}

/// Checks a complete row before it is stored; `schema` prefixes attributes (`cron_job_create`).
pub(crate) type Check = fn(&State, &mut Map<String, Value>, &str, Option<i64>) -> Result<(), Failure>;

/// `x.create`: TrueNAS's defaults filled in, the row checked, stored and returned.
pub(crate) fn create(ctx: &Ctx<'_>, method: &str, schema: &str, pick: Pick, check: Check) -> Result<Value, Failure> {
    let data = ctx.with_defaults(method, 0);
    let mut row = data;
    let mut state = ctx.machine.state();
    check(&state, &mut row, schema, None)?;
    Ok(pick(&mut state).insert(row))
}

/// `x.update`: the changes (a nested `schedule` completed with its defaults) merged into the
/// stored row, the result checked as a whole, stored and returned.
pub(crate) fn update(ctx: &Ctx<'_>, method: &str, schema: &str, pick: Pick, check: Check) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let changes = ctx.with_defaults(method, 1);
    let mut state = ctx.machine.state();
    let mut merged = pick(&mut state).clone();
    let mut row = object(merged.update(id, changes)?);
    check(&state, &mut row, schema, Some(id))?;
    pick(&mut state).replace(id, row)
}

/// `x.delete`: TrueNAS answers `true`.
fn delete(ctx: &Ctx<'_>, pick: Pick) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    pick(&mut ctx.machine.state()).delete(id)?;
    Ok(json!(true))
}

fn rsync_entries(ctx: &Ctx<'_>) -> Vec<Value> {
    let state = ctx.machine.state();
    state.tasks.rsync_entries(&state.fs, ctx.machine.config.release)
}

/// The entry of the stored rsync row `row`.
fn rsync_entry(ctx: &Ctx<'_>, row: &Value) -> Result<Value, Failure> {
    let id = row["id"].as_i64().unwrap_or_default();
    rsync_entries(ctx).into_iter().find(|e| e["id"] == id).ok_or_else(|| ctx.machine.state().tasks.rsync.not_found(id))
}

fn text<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn check_cronjob(state: &State, row: &mut Map<String, Value>, schema: &str, _: Option<i64>) -> Result<(), Failure> {
    let user = text(row, "user");
    if user.contains(' ') {
        return Err(invalid(&format!("{schema}.user"), "Usernames cannot have spaces"));
    }
    if state.account.users.named(user).is_none() {
        return Err(invalid(&format!("{schema}.user"), "Specified user does not exist"));
    }
    if text(row, "command").is_empty() {
        return Err(invalid(&format!("{schema}.command"), "Please specify a command for cronjob task."));
    }
    Ok(())
}

fn check_rsync(state: &State, row: &mut Map<String, Value>, schema: &str, _: Option<i64>) -> Result<(), Failure> {
    let user = text(row, "user").to_string();
    if user.contains(' ') {
        return Err(invalid(&format!("{schema}.user"), "User names cannot have spaces"));
    }
    if state.account.users.named(&user).is_none() {
        return Err(invalid(&format!("{schema}.user"), format!("Provided user \"{user}\" does not exist")));
    }
    if crate::system::tasks::dataset_split(&state.fs, text(row, "path")).0.is_null() {
        return Err(invalid(&format!("{schema}.path"), OUTSIDE_POOLS));
    }
    let missing = |key: &str| text(row, key).is_empty();
    let credential = row.get("ssh_credentials").and_then(Value::as_i64);
    if text(row, "mode") == "SSH" {
        match credential {
            Some(id) => {
                let found = state.tasks.keychain.get(id).ok();
                let problem = match found.as_ref().map(|c| c["type"].clone()) {
                    None => Some("Credential does not exist".to_string()),
                    Some(kind) if kind != "SSH_CREDENTIALS" => {
                        Some("Credential is not of type SSH_CREDENTIALS".to_string())
                    }
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    return Err(invalid(&format!("{schema}.ssh_credentials"), problem));
                }
            }
            None => {
                // Without a keychain credential TrueNAS connects with the user's own keys.
                for key in ["remotehost", "remoteport"] {
                    if row.get(key).is_none_or(|v| v.is_null() || v == "") {
                        return Err(invalid(&format!("{schema}.{key}"), "This field is required"));
                    }
                }
            }
        }
        if missing("remotepath") {
            return Err(invalid(&format!("{schema}.remotepath"), "This field is required"));
        }
    } else {
        for key in ["remotehost", "remotemodule"] {
            if missing(key) {
                return Err(invalid(&format!("{schema}.{key}"), "This field is required"));
            }
        }
        if credential.is_some() {
            return Err(invalid(
                &format!("{schema}.ssh_credentials"),
                "SSH credentials can't be used when mode is MODULE",
            ));
        }
    }
    row.entry("locked").or_insert(json!(false));
    row.entry("job").or_insert(Value::Null);
    for key in ["validate_rpath", "ssh_keyscan"] {
        row.remove(key);
    }
    Ok(())
}

fn check_script(state: &State, row: &mut Map<String, Value>, schema: &str, _: Option<i64>) -> Result<(), Failure> {
    let field = if text(row, "type") == "SCRIPT" { "script" } else { "command" };
    let value = text(row, field);
    if value.is_empty() {
        return Err(invalid(&format!("{schema}.{field}"), "This field is required"));
    }
    if field == "script" {
        let stat = state.fs.stat(value).map_err(|e| invalid(&format!("{schema}.script"), e.reason()))?;
        if stat["type"] != "FILE" {
            let kind = stat["type"].as_str().unwrap_or_default();
            return Err(invalid(&format!("{schema}.script"), format!("Script must be a regular file not '{kind}'")));
        }
        if stat["mode"].as_u64().unwrap_or_default() & 0o100 == 0 {
            return Err(invalid(&format!("{schema}.script"), "Script must have execute bit set for the user"));
        }
    }
    Ok(())
}

fn run_cronjob(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let skip_disabled = ctx.params.bool(1);
    const STEPS: &[(i64, &str)] =
        &[(10, "Executing Cron Task"), (85, "Executed Cron Task"), (100, "Execution of Cron Task complete.")];
    let steps = match ctx.machine.state().tasks.cronjobs.get(id) {
        // A disabled job is skipped with `skip_disabled`; either way nothing is executed here.
        Ok(row) if skip_disabled && row["enabled"] == false => &[],
        _ => STEPS,
    };
    JobPlan::stepped(ctx.machine, steps, move |m| {
        m.state().tasks.cronjobs.get(id)?;
        Ok(Value::Null)
    })
    .lock(format!("cronjob_run_{id}"))
}

fn run_rsync(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    const STEPS: &[(i64, &str)] =
        &[(10, "Starting rsync copy job..."), (60, "Copying"), (100, "Rsync copy job finished")];
    if let Err(e) = ctx.machine.state().tasks.rsync.get(id) {
        return JobPlan::new(move |_| async move { Err(e) });
    }
    JobPlan::stepped(ctx.machine, STEPS, move |m| {
        // The task shows its last run, as TrueNAS's task state does.
        let mut changes = Map::new();
        let finished = json!({"state": "SUCCESS", "time_finished": clock::date(clock::now_ms())});
        changes.insert("job".into(), finished);
        m.state().tasks.rsync.update(id, changes)?;
        Ok(Value::Null)
    })
    .lock(format!("rsync_task_{id}"))
}

const TUNABLE_STEPS: &[(i64, &str)] = &[(10, "Updating database"), (60, "Applying tunables")];

fn tunable_create(ctx: &Ctx<'_>) -> JobPlan {
    let data = ctx.with_defaults("tunable.create", 0);
    JobPlan::stepped(ctx.machine, TUNABLE_STEPS, move |m| {
        let mut row = data;
        let mut state = m.state();
        let var = row.get("var").cloned().unwrap_or(Value::Null);
        if state.tasks.tunables.taken("var", &var, None) {
            return Err(invalid("tunable_create.var", "This tunable already exists"));
        }
        row.remove("update_initramfs");
        row.insert("orig_value".into(), json!(""));
        Ok(state.tasks.tunables.insert(row))
    })
    .lock("tunables")
}

fn tunable_update(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let mut changes = ctx.params.object(1);
    changes.remove("update_initramfs");
    JobPlan::stepped(ctx.machine, TUNABLE_STEPS, move |m| m.state().tasks.tunables.update(id, changes)).lock("tunables")
}

fn tunable_delete(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    JobPlan::stepped(ctx.machine, TUNABLE_STEPS, move |m| {
        m.state().tasks.tunables.delete(id)?;
        Ok(Value::Null)
    })
    .lock("tunables")
}

#[cfg(test)]
#[path = "tasks_methods_tests.rs"]
mod tests;
