//! `group.*`: local groups on top of `state::account_groups`. Create, update and delete answer
//! with the group's id, as the middleware does.

use serde_json::{Value, json};

use crate::account::account_groups::group_not_found;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};

pub(crate) fn register(h: &mut Handlers) {
    h.reads("group", |ctx| ctx.machine.state().account.view().group_entries(), group_not_found);
    h.call("group.create", create);
    h.call("group.update", update);
    h.call("group.delete", delete);
    h.call("group.get_next_gid", |ctx| {
        let state = ctx.machine.state();
        Ok(json!(state.account.groups.next_gid(&state.account.privileges)))
    });
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("group.create", 0);
    Ok(json!(ctx.machine.state().account.create_group(data)?))
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    ctx.machine.state().account.update_group(id, data)?;
    Ok(json!(id))
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    ctx.machine.state().account.delete_group(id, ctx.params.flag(1, "delete_users"))?;
    Ok(json!(id))
}
