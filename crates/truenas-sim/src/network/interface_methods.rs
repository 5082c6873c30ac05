//! `interface.*`: interface CRUD on top of `state::interface`, and the commit / check-in /
//! rollback cycle. A commit with a check-in timeout starts a timer task that reverts the
//! change unless `interface.checkin` comes first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, run_query};
use crate::network::interface::interface_not_found;

pub(crate) fn register(h: &mut Handlers) {
    h.call("interface.query", |ctx| run_query(ctx, ctx.machine.state().interfaces.entries()));
    h.call("interface.get_instance", |ctx| {
        get_instance_by_id(ctx, ctx.machine.state().interfaces.entries(), interface_not_found)
    });
    h.call("interface.create", create);
    h.call("interface.update", update);
    h.call("interface.delete", |ctx| {
        let id = ctx.params.str(0)?;
        ctx.machine.state().interfaces.delete(id)?;
        Ok(json!(id))
    });
    h.call("interface.commit", commit);
    h.call("interface.checkin", |ctx| {
        ctx.machine.state().interfaces.checkin();
        Ok(Value::Null)
    });
    h.call("interface.rollback", |ctx| {
        ctx.machine.state().interfaces.rollback();
        Ok(Value::Null)
    });
    h.call("interface.has_pending_changes", |ctx| Ok(json!(ctx.machine.state().interfaces.has_pending_changes())));
    h.call("interface.checkin_waiting", |ctx| Ok(json!(ctx.machine.state().interfaces.checkin_waiting())));
}

/// The disk methods read their `get_instance` through this name.
pub(crate) use crate::methods::run_get_instance_by_name as get_instance_by_id;

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let mut state = ctx.machine.state();
    let name = state.interfaces.create(&data)?;
    state.interfaces.entry(&name).ok_or_else(|| interface_not_found(&name))
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.str(0)?;
    let mut state = ctx.machine.state();
    state.interfaces.update(id, &ctx.params.object(1))?;
    state.interfaces.entry(id).ok_or_else(|| interface_not_found(id))
}

/// `interface.commit(options)`: applies what is saved; arms the revert timer when asked to.
fn commit(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let options = ctx.params.object(0);
    let rollback = options.get("rollback").and_then(Value::as_bool).unwrap_or(true);
    let timeout = options.get("checkin_timeout").and_then(Value::as_i64).unwrap_or(60);
    let armed = ctx.machine.state().interfaces.commit(rollback, timeout)?;
    if let Some(generation) = armed {
        revert_after(Arc::clone(ctx.machine), generation, Duration::from_secs(timeout.unsigned_abs()));
    }
    Ok(Value::Null)
}

/// Reverts commit `generation` after `wait` unless it was checked in (or superseded).
fn revert_after(machine: Arc<Machine>, generation: u64, wait: Duration) {
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(wait) => {
                if machine.state().interfaces.expire(generation) {
                    tracing::info!(generation, "simulated NAS: interface changes not checked in, rolled back");
                }
            }
            () = machine.shutdown.cancelled() => {}
        }
    });
}

#[cfg(test)]
#[path = "interface_methods_tests.rs"]
mod tests;
