//! `system.general.*`, `system.advanced.config`, `system.ntpserver.*` and the power jobs
//! `system.reboot` / `system.shutdown` (which take the reason TrueNAS 25.04+ requires). A
//! simulated reboot restarts the services by their boot setting; a simulated shutdown is
//! recorded, and the simulated NAS keeps answering.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::crud::Collection;
use crate::events::Change;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::system::ntp::ntp_server_not_found;
use crate::system::system_config::PowerEvent;

const NTP_SERVERS: Collection =
    Collection { namespace: "system.ntpserver", entry: |s, id| s.settings.ntp.get(id), published: false };

pub(crate) fn register(h: &mut Handlers) {
    h.call("system.general.config", |ctx| Ok(ctx.machine.state().settings.system.general()));
    h.call("system.general.update", |ctx| {
        Ok(ctx.machine.state().settings.system.update_general(&ctx.params.object(0)))
    });
    h.call("system.advanced.config", |ctx| Ok(ctx.machine.state().settings.system.advanced()));
    h.reads("system.ntpserver", |ctx| ctx.machine.state().settings.ntp.entries(), ntp_server_not_found);
    h.call("system.ntpserver.create", |ctx| NTP_SERVERS.create(ctx, |s, data| s.settings.ntp.create(&data)));
    h.call("system.ntpserver.update", |ctx| NTP_SERVERS.update(ctx, |s, id, data| s.settings.ntp.update(id, &data)));
    h.call("system.ntpserver.delete", |ctx| NTP_SERVERS.delete(ctx, |s, id| s.settings.ntp.delete(id)));
    h.job("system.reboot", |ctx| power(ctx, "REBOOT"));
    h.job("system.shutdown", |ctx| power(ctx, "SHUTDOWN"));
    h.call("system.reboot.info", |ctx| Ok(json!({"boot_id": ctx.machine.boot_id, "reboot_required_reasons": []})));
}

/// `system.reboot(reason, {delay})` and `system.shutdown(reason, {delay})`; on 24.10, which
/// takes no reason, `system.reboot({delay})`. The delay is recorded, not waited for.
fn power(ctx: &Ctx<'_>, action: &'static str) -> JobPlan {
    let with_reason = ctx.machine.config.release > truenas_api::schema::Release::V24_10;
    let reason = if with_reason { ctx.params.opt_str(0).unwrap_or_default().to_string() } else { String::new() };
    let options = ctx.params.get(usize::from(with_reason));
    let delay = options.and_then(|o| o.get("delay")).and_then(Value::as_i64);
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let id = action.to_lowercase();
        machine.events.emit("system", Change::Added, id, None);
        let steps: &[(i64, &str)] = match action {
            "REBOOT" => &[(20, "Stopping services"), (60, "Rebooting"), (90, "Starting services")],
            _ => &[(20, "Stopping services"), (80, "Powering off")],
        };
        job.steps(steps).await;
        let mut state = machine.state();
        state.settings.system.power_log.push(PowerEvent { action, reason, delay });
        if action == "REBOOT" {
            state.settings.services.boot();
        }
        Ok(Value::Null)
    })
    .lock("system_power")
}

#[cfg(test)]
#[path = "system_settings_methods_tests.rs"]
mod tests;
