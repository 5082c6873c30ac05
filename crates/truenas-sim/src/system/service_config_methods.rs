//! `ssh.*`, `ftp.*`, `snmp.*` and `ups.*` over `state::service_config`: each service's settings
//! object, read with `config` and changed with `update`, checked as TrueNAS checks it.

use serde_json::Value;

use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};
use truenas_api::schema::Release;

pub(crate) fn register(h: &mut Handlers) {
    h.call("ssh.config", |ctx| Ok(ctx.machine.state().service_configs.ssh.get()));
    h.call("ssh.update", ssh_update);
    h.call("ftp.config", |ctx| Ok(ctx.machine.state().service_configs.ftp.get()));
    h.call("ftp.update", |ctx| ctx.machine.state().service_configs.update_ftp(&ctx.params.object(0)));
    h.call("snmp.config", |ctx| Ok(snmp_of(ctx, ctx.machine.state().service_configs.snmp.get())));
    h.call("snmp.update", |ctx| {
        ctx.machine.state().service_configs.update_snmp(&ctx.params.object(0)).map(|v| snmp_of(ctx, v))
    });
    h.call("ups.config", |ctx| Ok(ctx.machine.state().service_configs.ups.get()));
    h.call("ups.update", |ctx| ctx.machine.state().service_configs.update_ups(&ctx.params.object(0)));
}

/// The SNMP settings as the release shows them: TrueNAS 27 has no `loglevel`.
fn snmp_of(ctx: &Ctx<'_>, mut settings: Value) -> Value {
    if ctx.machine.config.release >= Release::V27_0
        && let Some(fields) = settings.as_object_mut()
    {
        fields.remove("loglevel");
    }
    settings
}

/// `ssh.update`: sshd may listen only on the NAS's interfaces.
fn ssh_update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let mut state = ctx.machine.state();
    let names: Vec<String> =
        state.interfaces.entries().iter().filter_map(|i| i["name"].as_str().map(str::to_string)).collect();
    state.service_configs.update_ssh(&ctx.params.object(0), &names)
}

#[cfg(test)]
#[path = "service_config_methods_tests.rs"]
mod tests;
