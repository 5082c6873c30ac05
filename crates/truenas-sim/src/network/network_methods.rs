//! `network.configuration.*`, `network.general.summary`, `staticroute.*` and `ipmi.*`.
//!
//! The demo machine is a consumer board without a BMC: `ipmi.is_loaded` is false and
//! `ipmi.chassis.info` answers `{}`, as the middleware does without `/dev/ipmi0`.

use serde_json::{Value, json};

use crate::crud::Collection;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};
use crate::network::network_config::{route_not_found, summary};
use crate::state::State;

const ROUTES: Collection =
    Collection { namespace: "staticroute", entry: |s, id| Ok(s.network.route(id)?.entry()), published: false };

pub(crate) fn register(h: &mut Handlers) {
    h.call("network.configuration.config", |ctx| Ok(ctx.machine.state().network.config_entry()));
    h.call("network.configuration.update", update_config);
    h.call("network.configuration.activity_choices", |_| {
        Ok(json!([
            ["acme", "ACME"],
            ["catalog", "Catalog(s) information"],
            ["cloud_sync", "Cloud sync"],
            ["update", "Update"]
        ]))
    });
    h.call("network.general.summary", |ctx| {
        let state = ctx.machine.state();
        Ok(summary(&state.network, &state.interfaces))
    });
    h.reads("staticroute", |ctx| ctx.machine.state().network.routes(), route_not_found);
    h.call("staticroute.create", |ctx| ROUTES.create(ctx, |s, data| s.network.create_route(&data)));
    h.call("staticroute.update", |ctx| ROUTES.update(ctx, |s, id, data| s.network.update_route(id, &data)));
    h.call("staticroute.delete", |ctx| ROUTES.delete(ctx, |s, id| s.network.delete_route(id)));
    h.call("ipmi.is_loaded", |_| Ok(json!(false)));
    h.call("ipmi.chassis.info", |_| Ok(json!({})));
}

/// `network.configuration.update`: the hostname is the machine's, so `system.info` follows.
fn update_config(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let mut state = ctx.machine.state();
    let State { network, interfaces, host, .. } = &mut *state;
    network.update(&data, interfaces)?;
    host.hostname = network.config.hostname.clone();
    Ok(network.config_entry())
}

#[cfg(test)]
#[path = "network_methods_tests.rs"]
mod tests;
