//! `alert.*` and `alertservice.*`. Dismissing or restoring an alert is published on the
//! `alert.list` collection, as the middleware's alert-changed event is.

use serde_json::{Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};
use crate::system::alert::{POLICIES, categories, service_not_found, test_delivery};

pub(crate) fn register(h: &mut Handlers) {
    h.call("alert.list", |ctx| Ok(Value::Array(ctx.machine.state().alerts.entries())));
    h.call("alert.dismiss", |ctx| set_dismissed(ctx, true));
    h.call("alert.restore", |ctx| set_dismissed(ctx, false));
    h.call("alert.list_categories", |ctx| Ok(categories(ctx.machine.config.release)));
    h.call("alert.list_policies", |_| Ok(json!(POLICIES)));
    h.reads("alertservice", |ctx| ctx.machine.state().alerts.services(ctx.machine.config.release), service_not_found);
    h.call("alertservice.create", |ctx| {
        let data = ctx.with_defaults("alertservice.create", 0);
        let mut state = ctx.machine.state();
        let id = state.alerts.create_service(&data);
        Ok(state.alerts.service(id)?.entry(ctx.machine.config.release))
    });
    h.call("alertservice.update", |ctx| {
        let id = ctx.params.int(0)?;
        let data = ctx.with_defaults("alertservice.update", 1);
        let mut state = ctx.machine.state();
        state.alerts.update_service(id, &data)?;
        Ok(state.alerts.service(id)?.entry(ctx.machine.config.release))
    });
    h.call("alertservice.delete", |ctx| {
        ctx.machine.state().alerts.delete_service(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
    h.call("alertservice.test", |ctx| Ok(json!(test_delivery(&ctx.params.object(0)))));
}

fn set_dismissed(ctx: &Ctx<'_>, dismissed: bool) -> Result<Value, Failure> {
    let uuid = ctx.params.str(0)?;
    let changed = {
        let mut state = ctx.machine.state();
        let changed = state.alerts.set_dismissed(uuid, dismissed);
        changed.then(|| state.alerts.alerts.iter().find(|a| a.uuid == uuid).map(|a| a.entry())).flatten()
    };
    if let Some(fields) = changed {
        ctx.machine.events.emit("alert.list", Change::Changed, uuid, Some(fields));
    }
    Ok(Value::Null)
}

#[cfg(test)]
#[path = "alert_methods_tests.rs"]
mod tests;
