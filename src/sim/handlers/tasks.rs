//! `cronjob.*`, `rsynctask.*`, `initshutdownscript.*`, `keychaincredential.*` and `tunable.*`
//! over `state::tasks`. `cronjob.run`, `rsynctask.run` and the `tunable` changes are jobs with
//! progress; the commands themselves are not executed (the simulated NAS runs nothing).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Ctx, Handlers, JobPlan, object, run_query};
use crate::sim::defaults;
use crate::sim::failure::Failure;
use crate::sim::machine::Machine;
use crate::sim::query;
use crate::sim::state::State;
use crate::sim::state::records::{Records, invalid};
use crate::sim::state::tasks::SAMPLE_PUBLIC_KEY;

type Pick = fn(&mut State) -> &mut Records;

fn cron(s: &mut State) -> &mut Records {
    &mut s.tasks.cronjobs
}
fn rsync(s: &mut State) -> &mut Records {
    &mut s.tasks.rsync
}
fn initshutdown(s: &mut State) -> &mut Records {
    &mut s.tasks.initshutdown
}
fn keychain(s: &mut State) -> &mut Records {
    &mut s.tasks.keychain
}
fn tunable(s: &mut State) -> &mut Records {
    &mut s.tasks.tunables
}

pub(super) fn register(h: &mut Handlers) {
    h.call("cronjob.query", |ctx| query_rows(ctx, cron));
    h.call("cronjob.get_instance", |ctx| get_instance(ctx, cron));
    h.call("cronjob.create", |ctx| create(ctx, "cronjob.create", cron, check_cronjob));
    h.call("cronjob.update", |ctx| update(ctx, "cronjob.update", cron, check_cronjob));
    h.call("cronjob.delete", |ctx| delete(ctx, cron));
    h.job("cronjob.run", run_cronjob);
    h.call("rsynctask.query", |ctx| query_rows(ctx, rsync));
    h.call("rsynctask.get_instance", |ctx| get_instance(ctx, rsync));
    h.call("rsynctask.create", |ctx| create(ctx, "rsynctask.create", rsync, check_rsync));
    h.call("rsynctask.update", |ctx| update(ctx, "rsynctask.update", rsync, check_rsync));
    h.call("rsynctask.delete", |ctx| delete(ctx, rsync));
    h.job("rsynctask.run", run_rsync);
    h.call("initshutdownscript.query", |ctx| query_rows(ctx, initshutdown));
    h.call("initshutdownscript.get_instance", |ctx| get_instance(ctx, initshutdown));
    h.call("initshutdownscript.create", |ctx| create(ctx, "initshutdownscript.create", initshutdown, check_script));
    h.call("initshutdownscript.update", |ctx| update(ctx, "initshutdownscript.update", initshutdown, check_script));
    h.call("initshutdownscript.delete", |ctx| delete(ctx, initshutdown));
    h.call("keychaincredential.query", |ctx| query_rows(ctx, keychain));
    h.call("keychaincredential.get_instance", |ctx| get_instance(ctx, keychain));
    h.call("keychaincredential.create", |ctx| create(ctx, "keychaincredential.create", keychain, check_keychain));
    h.call("keychaincredential.update", |ctx| update(ctx, "keychaincredential.update", keychain, check_keychain));
    h.call("keychaincredential.delete", |ctx| delete(ctx, keychain));
    h.call("keychaincredential.generate_ssh_key_pair", |_| Ok(generate_key_pair()));
    h.call("keychaincredential.remote_ssh_host_key_scan", |ctx| {
        let host = ctx.params.object(0).get("host").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(json!(format!("{host} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedHostKeyOf{}", host.len())))
    });
    h.call("tunable.query", |ctx| query_rows(ctx, tunable));
    h.call("tunable.get_instance", |ctx| get_instance(ctx, tunable));
    h.job("tunable.create", tunable_create);
    h.job("tunable.update", tunable_update);
    h.job("tunable.delete", tunable_delete);
    h.call("tunable.tunable_type_choices", |_| Ok(json!({"SYSCTL": "SYSCTL", "UDEV": "UDEV", "ZFS": "ZFS"})));
}

fn query_rows(ctx: &Ctx<'_>, pick: Pick) -> Result<Value, Failure> {
    let rows = pick(&mut ctx.machine.state()).entries();
    run_query(ctx, rows)
}

fn get_instance(ctx: &Ctx<'_>, pick: Pick) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let (rows, not_found) = {
        let mut state = ctx.machine.state();
        let records = pick(&mut state);
        (records.entries(), records.not_found(id))
    };
    let mut options = ctx.params.object(1);
    options.insert("get".into(), json!(true));
    query::run(rows, &json!([["id", "=", id]]), &Value::Object(options))
        .map_err(|e| if e == query::match_not_found() { not_found } else { e })
}

/// Checks a complete row before it is stored; `schema` prefixes attributes (`cronjob_create`).
type Check = fn(&State, &mut Map<String, Value>, &str, Option<i64>) -> Result<(), Failure>;

fn create(ctx: &Ctx<'_>, method: &str, pick: Pick, check: Check) -> Result<Value, Failure> {
    let mut data = ctx.params.value(0);
    defaults::apply(ctx.machine.config.release, method, 0, &mut data);
    let mut row = object(data);
    let schema = schema_name(method);
    let mut state = ctx.machine.state();
    check(&state, &mut row, &schema, None)?;
    Ok(pick(&mut state).insert(row))
}

fn update(ctx: &Ctx<'_>, method: &str, pick: Pick, check: Check) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let mut state = ctx.machine.state();
    let mut merged = pick(&mut state).clone();
    let mut row = object(merged.update(id, ctx.params.object(1))?);
    check(&state, &mut row, &schema_name(method), Some(id))?;
    let records = pick(&mut state);
    records.update(id, row)
}

/// The prefix of validation attributes: `cronjob.create` -> `cronjob_create`.
fn schema_name(method: &str) -> String {
    method.replace('.', "_")
}

fn delete(ctx: &Ctx<'_>, pick: Pick) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    pick(&mut ctx.machine.state()).delete(id)?;
    Ok(json!(true))
}

fn user_exists(state: &State, name: &str) -> bool {
    state.account.user_entries().iter().any(|u| u["username"] == name)
}

fn check_cronjob(state: &State, row: &mut Map<String, Value>, schema: &str, _: Option<i64>) -> Result<(), Failure> {
    let user = row.get("user").and_then(Value::as_str).unwrap_or_default();
    if !user_exists(state, user) {
        return Err(invalid(&format!("{schema}.user"), "Specified user does not exist"));
    }
    Ok(())
}

fn check_rsync(state: &State, row: &mut Map<String, Value>, schema: &str, _: Option<i64>) -> Result<(), Failure> {
    let user = row.get("user").and_then(Value::as_str).unwrap_or_default();
    if !user_exists(state, user) {
        return Err(invalid(&format!("{schema}.user"), format!("User {user} does not exist")));
    }
    let path = row.get("path").and_then(Value::as_str).unwrap_or_default();
    if !path.starts_with("/mnt/") {
        return Err(invalid(&format!("{schema}.path"), "A path under /mnt is required"));
    }
    let mode = row.get("mode").and_then(Value::as_str).unwrap_or("MODULE");
    let missing = |key: &str| row.get(key).and_then(Value::as_str).is_none_or(str::is_empty);
    if mode == "MODULE" && missing("remotemodule") {
        return Err(invalid(&format!("{schema}.remotemodule"), "This field is required"));
    }
    if missing("remotehost") {
        return Err(invalid(&format!("{schema}.remotehost"), "This field is required"));
    }
    // The entry names the keychain credential; a create or update gives its id.
    if let Some(id) = row.get("ssh_credentials").and_then(Value::as_i64) {
        let credential = state.tasks.keychain.get(id).map_err(|_| {
            invalid(&format!("{schema}.ssh_credentials"), format!("Keychain Credential {id} does not exist"))
        })?;
        row.insert("ssh_credentials".into(), json!({"id": id, "name": credential["name"]}));
    }
    row.entry("locked").or_insert(json!(false));
    row.entry("job").or_insert(Value::Null);
    for key in ["validate_rpath", "ssh_keyscan"] {
        row.remove(key);
    }
    Ok(())
}

fn check_script(_: &State, row: &mut Map<String, Value>, schema: &str, _: Option<i64>) -> Result<(), Failure> {
    let kind = row.get("type").and_then(Value::as_str).unwrap_or_default();
    let field = if kind == "SCRIPT" { "script" } else { "command" };
    if row.get(field).and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(invalid(&format!("{schema}.{field}"), "This field is required"));
    }
    Ok(())
}

fn check_keychain(state: &State, row: &mut Map<String, Value>, schema: &str, id: Option<i64>) -> Result<(), Failure> {
    let name = row.get("name").cloned().unwrap_or(Value::Null);
    if state.tasks.keychain.taken("name", &name, id) {
        return Err(invalid(&format!("{schema}.name"), "Name must be unique"));
    }
    if row.get("type").and_then(Value::as_str) == Some("SSH_KEY_PAIR") {
        let attributes = row.get("attributes").cloned().unwrap_or(Value::Null);
        let private = attributes.get("private_key").and_then(Value::as_str);
        let public = attributes.get("public_key").and_then(Value::as_str);
        if private.is_none() && public.is_none() {
            return Err(invalid(&format!("{schema}.attributes"), "You must specify at least public key"));
        }
    }
    Ok(())
}

fn generate_key_pair() -> Value {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    json!({
        "private_key": format!("-----BEGIN OPENSSH PRIVATE KEY-----\nsimulated{tag}\n-----END OPENSSH PRIVATE KEY-----\n"),
        "public_key": SAMPLE_PUBLIC_KEY.replace("0001", &tag[..8]),
    })
}

/// A job that reports `steps` and then applies `finish`.
fn steps_job(
    machine: Arc<Machine>,
    lock: Option<String>,
    steps: &'static [(i64, &'static str)],
    finish: impl FnOnce(&Machine) -> Result<Value, Failure> + Send + 'static,
) -> JobPlan {
    JobPlan {
        description: None,
        abortable: false,
        lock,
        body: Box::new(move |job| {
            Box::pin(async move {
                for (percent, what) in steps {
                    job.progress(*percent, what);
                    job.step().await;
                }
                finish(&machine)
            })
        }),
    }
}

fn run_cronjob(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let skip_disabled = ctx.params.bool(1);
    const STEPS: &[(i64, &str)] = &[(10, "Executing Cron Task"), (90, "Command finished")];
    steps_job(Arc::clone(ctx.machine), Some(format!("cronjob_run_{id}")), STEPS, move |m| {
        // A disabled job is skipped with `skip_disabled`; either way nothing is executed here.
        let row = m.state().tasks.cronjobs.get(id)?;
        let _skipped = skip_disabled && row["enabled"] == false;
        Ok(Value::Null)
    })
}

fn run_rsync(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    const STEPS: &[(i64, &str)] = &[(10, "Starting rsync copy job..."), (60, "Copying"), (100, "Rsync copy job finished")];
    if let Err(e) = ctx.machine.state().tasks.rsync.get(id) {
        let plan = steps_job(Arc::clone(ctx.machine), None, &[], move |_| Err(e));
        return plan;
    }
    steps_job(Arc::clone(ctx.machine), Some(format!("rsync_task_{id}")), STEPS, |_| Ok(Value::Null))
}

const TUNABLE_STEPS: &[(i64, &str)] = &[(10, "Updating database"), (60, "Applying tunables")];

fn tunable_create(ctx: &Ctx<'_>) -> JobPlan {
    let mut data = ctx.params.value(0);
    defaults::apply(ctx.machine.config.release, "tunable.create", 0, &mut data);
    steps_job(Arc::clone(ctx.machine), Some("tunables".into()), TUNABLE_STEPS, move |m| {
        let mut row = object(data);
        let mut state = m.state();
        let var = row.get("var").cloned().unwrap_or(Value::Null);
        if state.tasks.tunables.taken("var", &var, None) {
            return Err(invalid("tunable_create.var", "This tunable already exists"));
        }
        row.remove("update_initramfs");
        row.insert("orig_value".into(), json!(""));
        Ok(state.tasks.tunables.insert(row))
    })
}

fn tunable_update(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let mut changes = ctx.params.object(1);
    changes.remove("update_initramfs");
    steps_job(Arc::clone(ctx.machine), Some("tunables".into()), TUNABLE_STEPS, move |m| {
        m.state().tasks.tunables.update(id, changes)
    })
}

fn tunable_delete(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    steps_job(Arc::clone(ctx.machine), Some("tunables".into()), TUNABLE_STEPS, move |m| {
        m.state().tasks.tunables.delete(id)?;
        Ok(Value::Null)
    })
}
