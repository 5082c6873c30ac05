//! `network.configuration.*`, `network.general.summary`, `staticroute.*` and `ipmi.*`.
//!
//! The demo machine is a consumer board without a BMC: `ipmi.is_loaded` is false and
//! `ipmi.chassis.info` answers `{}`, as the middleware does without `/dev/ipmi0`.

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_get_instance, run_query};
use crate::network::network_config::{route_not_found, summary};
use crate::state::State;

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
    h.call("staticroute.query", |ctx| run_query(ctx, ctx.machine.state().network.routes()));
    h.call("staticroute.get_instance", |ctx| {
        run_get_instance(ctx, ctx.machine.state().network.routes(), route_not_found)
    });
    h.call("staticroute.create", |ctx| {
        let data = ctx.with_defaults("staticroute.create", 0);
        let mut state = ctx.machine.state();
        let id = state.network.create_route(&data)?;
        Ok(state.network.route(id)?.entry())
    });
    h.call("staticroute.update", |ctx| {
        let id = ctx.params.int(0)?;
        let mut state = ctx.machine.state();
        state.network.update_route(id, &ctx.params.object(1))?;
        Ok(state.network.route(id)?.entry())
    });
    h.call("staticroute.delete", |ctx| {
        ctx.machine.state().network.delete_route(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
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
