//! `ssh.*`, `ftp.*`, `snmp.*`, `ups.*`, `kerberos.*` and `directoryservices.*` over
//! `state::service_config`. Settings updates merge the given fields; `directoryservices.update`,
//! `leave` and `cache_refresh` are jobs with progress that join or leave no real domain.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Ctx, Handlers, JobPlan, run_query};
use crate::sim::defaults;
use crate::sim::failure::{Failure, errno};
use crate::sim::machine::Machine;
use crate::sim::query;
use crate::sim::state::State;
use crate::sim::state::records::{Records, invalid};
use crate::sim::state::service_config::ConfigObject;

type PickConfig = fn(&mut State) -> &mut ConfigObject;
type PickRows = fn(&mut State) -> &mut Records;

fn ssh(s: &mut State) -> &mut ConfigObject {
    &mut s.service_configs.ssh
}
fn ftp(s: &mut State) -> &mut ConfigObject {
    &mut s.service_configs.ftp
}
fn snmp(s: &mut State) -> &mut ConfigObject {
    &mut s.service_configs.snmp
}
fn kerberos(s: &mut State) -> &mut ConfigObject {
    &mut s.service_configs.kerberos
}
fn directory(s: &mut State) -> &mut ConfigObject {
    &mut s.service_configs.directory
}
fn realms(s: &mut State) -> &mut Records {
    &mut s.service_configs.realms
}
fn keytabs(s: &mut State) -> &mut Records {
    &mut s.service_configs.keytabs
}

pub(super) fn register(h: &mut Handlers) {
    h.call("ssh.config", |ctx| Ok(ssh(&mut ctx.machine.state()).get()));
    h.call("ssh.update", |ctx| Ok(ssh(&mut ctx.machine.state()).update(&ctx.params.object(0))));
    h.call("ftp.config", |ctx| Ok(ftp(&mut ctx.machine.state()).get()));
    h.call("ftp.update", ftp_update);
    h.call("snmp.config", |ctx| Ok(snmp(&mut ctx.machine.state()).get()));
    h.call("snmp.update", snmp_update);
    h.call("ups.config", |ctx| Ok(ctx.machine.state().service_configs.ups.get()));
    h.call("ups.update", |ctx| {
        let mut state = ctx.machine.state();
        state.service_configs.ups.update(&ctx.params.object(0));
        state.service_configs.refresh_ups_identifier();
        Ok(state.service_configs.ups.get())
    });
    h.call("kerberos.config", |ctx| Ok(kerberos(&mut ctx.machine.state()).get()));
    h.call("kerberos.update", |ctx| Ok(kerberos(&mut ctx.machine.state()).update(&ctx.params.object(0))));
    h.call("kerberos.realm.query", |ctx| rows(ctx, realms));
    h.call("kerberos.realm.get_instance", |ctx| get_instance(ctx, realms));
    h.call("kerberos.keytab.query", |ctx| rows(ctx, keytabs));
    h.call("kerberos.keytab.get_instance", |ctx| get_instance(ctx, keytabs));
    h.call("directoryservices.config", |ctx| Ok(directory(&mut ctx.machine.state()).get()));
    h.call("directoryservices.status", |ctx| Ok(ctx.machine.state().service_configs.directory_status()));
    h.job("directoryservices.update", directory_update);
    h.job("directoryservices.leave", directory_leave);
    h.job("directoryservices.cache_refresh", |ctx| {
        steps(ctx.machine, &[(10, "Refreshing directory services cache"), (80, "Filling user cache")], |_| {
            Ok(Value::Null)
        })
    });
}

fn rows(ctx: &Ctx<'_>, pick: PickRows) -> Result<Value, Failure> {
    let entries = pick(&mut ctx.machine.state()).entries();
    run_query(ctx, entries)
}

fn get_instance(ctx: &Ctx<'_>, pick: PickRows) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let (entries, not_found) = {
        let mut state = ctx.machine.state();
        let records = pick(&mut state);
        (records.entries(), records.not_found(id))
    };
    query::run(entries, &json!([["id", "=", id]]), &json!({"get": true}))
        .map_err(|e| if e == query::match_not_found() { not_found } else { e })
}

fn ftp_update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let mut state = ctx.machine.state();
    let mut merged = ftp(&mut state).clone();
    merged.update(&ctx.params.object(0));
    let (low, high) = (merged.field("passiveportsmin").as_i64(), merged.field("passiveportsmax").as_i64());
    if let (Some(low), Some(high)) = (low, high) {
        if low != 0 && high != 0 && low >= high {
            return Err(invalid("ftp_update.passiveportsmin", "This value must be lower than passiveportsmax"));
        }
    }
    *ftp(&mut state) = merged;
    Ok(ftp(&mut state).get())
}

fn snmp_update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let mut state = ctx.machine.state();
    let mut merged = snmp(&mut state).clone();
    merged.update(&ctx.params.object(0));
    if merged.field("v3") == &json!(true) {
        for key in ["v3_username", "v3_authtype", "v3_password"] {
            if merged.field(key).as_str().is_none_or(str::is_empty) {
                return Err(invalid(&format!("snmp_update.{key}"), "This field is required when SNMPv3 is enabled"));
            }
        }
    }
    *snmp(&mut state) = merged;
    Ok(snmp(&mut state).get())
}

/// A job that reports `list` and then applies `finish`.
fn steps(
    machine: &Arc<Machine>,
    list: &'static [(i64, &'static str)],
    finish: impl FnOnce(&Machine) -> Result<Value, Failure> + Send + 'static,
) -> JobPlan {
    let machine = Arc::clone(machine);
    JobPlan {
        description: None,
        abortable: false,
        lock: Some("directoryservices_change".into()),
        body: Box::new(move |job| {
            Box::pin(async move {
                for (percent, what) in list {
                    job.progress(*percent, what);
                    job.step().await;
                }
                finish(&machine)
            })
        }),
    }
}

/// `directoryservices.update`: stores the settings; enabling a service "joins" it.
fn directory_update(ctx: &Ctx<'_>) -> JobPlan {
    let mut data = ctx.params.value(0);
    defaults::apply(ctx.machine.config.release, "directoryservices.update", 0, &mut data);
    let mut changes: Map<String, Value> = super::object(data);
    changes.remove("force");
    const STEPS: &[(i64, &str)] = &[(10, "Validating configuration"), (40, "Joining domain"), (80, "Updating cache")];
    steps(ctx.machine, STEPS, move |m| {
        let enable = changes.get("enable") == Some(&json!(true));
        let kind = changes.get("service_type").cloned().unwrap_or(Value::Null);
        if enable && kind.is_null() {
            return Err(invalid("directoryservices.service_type", "Service type is required when enabling"));
        }
        Ok(m.state().service_configs.directory.update(&changes))
    })
}

/// `directoryservices.leave`: only a joined Active Directory or IPA domain can be left.
fn directory_leave(ctx: &Ctx<'_>) -> JobPlan {
    const STEPS: &[(i64, &str)] = &[(10, "Leaving domain"), (60, "Removing machine account"), (90, "Clearing cache")];
    steps(ctx.machine, STEPS, |m| {
        let mut state = m.state();
        let configs = &mut state.service_configs;
        let kind = configs.directory.field("service_type").clone();
        if configs.directory.field("enable") != &json!(true) || !(kind == "ACTIVEDIRECTORY" || kind == "IPA") {
            return Err(Failure::call(errno::EINVAL, "Not joined to an Active Directory or IPA domain"));
        }
        configs.leave_directory();
        Ok(Value::Null)
    })
}
