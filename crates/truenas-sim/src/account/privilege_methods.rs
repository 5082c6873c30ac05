//! `privilege.*`: privileges on top of `state::account_privileges`, and the role list.

use serde_json::{Value, json};

use crate::account::account_privileges::{privilege_not_found, role_entries};
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_query};

pub(crate) fn register(h: &mut Handlers) {
    h.reads("privilege", |ctx| ctx.machine.state().account.view().privilege_entries(), privilege_not_found);
    h.call("privilege.create", create);
    h.call("privilege.update", update);
    h.call("privilege.delete", |ctx| {
        ctx.machine.state().account.privileges.delete(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
    h.call("privilege.roles", |ctx| run_query(ctx, role_entries()));
}

fn entry(ctx: &Ctx<'_>, id: i64) -> Result<Value, Failure> {
    let state = ctx.machine.state();
    Ok(state.account.view().privilege_entry(state.account.privileges.lookup(id)?))
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("privilege.create", 0);
    let id = ctx.machine.state().account.create_privilege(data)?;
    entry(ctx, id)
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    ctx.machine.state().account.update_privilege(id, data)?;
    entry(ctx, id)
}
