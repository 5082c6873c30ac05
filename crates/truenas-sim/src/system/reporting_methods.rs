//! `reporting.*`: retention settings, the graph list and time series over `state::reporting`.
//! The `netdata_*` names are the same methods under their older names.

use serde_json::Value;

use crate::clock::now_secs;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_query};

pub(crate) fn register(h: &mut Handlers) {
    h.call("reporting.config", |ctx| Ok(ctx.machine.state().reporting.config()));
    h.call("reporting.update", |ctx| Ok(ctx.machine.state().reporting.update(&ctx.params.object(0))));
    for name in ["reporting.graphs", "reporting.netdata_graphs"] {
        h.call(name, |ctx| run_query(ctx, ctx.machine.state().reporting.graphs(ctx.machine.config.release)));
    }
    h.call("reporting.get_data", get_data);
    h.call("reporting.netdata_get_data", get_data);
}

fn get_data(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let graphs = ctx.params.get(0).and_then(Value::as_array).cloned().unwrap_or_default();
    let state = ctx.machine.state();
    state.reporting.get_data(ctx.machine.config.release, &graphs, &ctx.params.object(1), now_secs())
}
