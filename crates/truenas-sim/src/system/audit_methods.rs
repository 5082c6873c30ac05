//! `audit.*`: the audit log over `state::audit`. `audit.query` takes one object whose
//! `query-filters` and `query-options` run through the generic query engine.

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};
use crate::query;

pub(crate) fn register(h: &mut Handlers) {
    h.call("audit.config", |ctx| Ok(ctx.machine.state().audit.config()));
    h.call("audit.update", |ctx| {
        let mut state = ctx.machine.state();
        state.audit.update(&ctx.params.object(0))?;
        Ok(state.audit.config())
    });
    h.call("audit.query", audit_query);
}

fn audit_query(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let services: Vec<&str> = data
        .get("services")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let rows = ctx.machine.state().audit.records(&services);
    let filters = data.get("query-filters").cloned().unwrap_or(json!([]));
    let options = data.get("query-options").cloned().unwrap_or(json!({}));
    query::run(rows, &filters, &options)
}

/// Adds the audit record the middleware writes for an audited method (`description` is its
/// audit text with the extended part, e.g. `App: Creating jellyfin`).
pub(crate) fn record(ctx: &Ctx<'_>, method: &str, description: &str) {
    let user = ctx.session.user().unwrap_or_default();
    ctx.machine.state().audit.method_call(&user, method, description, true);
}
