//! `service.*`: the service table on top of `state::services`. `service.control` (25.10+) is a
//! job; the older `service.start/stop/restart/reload` answer at once and exist only on 25.10.
//! Every change is published on the `service.query` collection.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::events::Change;
use crate::failure::{Failure, errno};
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::system::services::{Verb, service_not_found};

pub(crate) fn register(h: &mut Handlers) {
    h.reads("service", |ctx| ctx.machine.state().settings.services.entries(), service_not_found);
    h.call("service.update", update);
    h.job("service.control", control);
    h.call("service.started", |ctx| {
        Ok(json!(ctx.machine.state().settings.services.named(ctx.params.str(0)?)?.running()))
    });
    h.call("service.started_or_enabled", |ctx| {
        let state = ctx.machine.state();
        let service = state.settings.services.named(ctx.params.str(0)?)?;
        Ok(json!(service.running() || service.enable))
    });
    h.call("service.start", |ctx| control_now(ctx, Verb::Start));
    h.call("service.stop", |ctx| control_now(ctx, Verb::Stop));
    h.call("service.restart", |ctx| control_now(ctx, Verb::Restart));
    h.call("service.reload", |ctx| control_now(ctx, Verb::Reload));
}

/// Publishes the service's entry on `service.query`.
pub(crate) fn publish(machine: &Machine, name: &str) {
    let entry = machine.state().settings.services.named(name).map(|s| s.entry());
    if let Ok(fields) = entry {
        machine.events.emit("service.query", Change::Changed, fields["id"].clone(), Some(fields));
    }
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let target = ctx.params.value(0);
    let id = ctx.machine.state().settings.services.set_enable(&target, ctx.params.flag(1, "enable"))?;
    let name = ctx.machine.state().settings.services.get(id).map(|s| s.name)?;
    publish(ctx.machine, name);
    Ok(json!(id))
}

/// The 25.10 methods that act at once: `(service, options)`.
fn control_now(ctx: &Ctx<'_>, verb: Verb) -> Result<Value, Failure> {
    let name = ctx.params.str(0)?;
    let result = ctx.machine.state().settings.services.control(verb, name)?;
    publish(ctx.machine, name);
    Ok(json!(result))
}

/// `service.control(verb, service, options)`: the daemon takes a moment to change state.
fn control(ctx: &Ctx<'_>) -> JobPlan {
    let verb = ctx.params.opt_str(0).and_then(Verb::parse);
    let name = ctx.params.opt_str(1).unwrap_or_default().to_string();
    let lock = format!("service_{name}");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        let verb = verb.ok_or_else(|| Failure::call(errno::EINVAL, "Unknown service verb"))?;
        machine.state().settings.services.require(&name)?;
        let doing = match verb {
            Verb::Start => "Starting",
            Verb::Stop => "Stopping",
            Verb::Restart => "Restarting",
            Verb::Reload => "Reloading",
        };
        job.progress(10, &format!("{doing} {name}"));
        job.step().await;
        let result = machine.state().settings.services.control(verb, &name)?;
        job.progress(90, &format!("Waiting for {name}"));
        job.step().await;
        publish(&machine, &name);
        Ok(json!(result))
    })
    .lock(lock)
}

#[cfg(test)]
#[path = "service_methods_tests.rs"]
mod tests;
