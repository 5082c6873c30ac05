//! `user.*`: local users on top of `state::account`. Create and update answer with the full
//! entry plus the generated `password` (`null` unless `random_password` was asked for).

use serde_json::{Value, json};

use crate::account::account_users::user_not_found;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};

pub(crate) fn register(h: &mut Handlers) {
    h.reads("user", |ctx| ctx.machine.state().account.view().user_entries(), user_not_found);
    h.call("user.create", create);
    h.call("user.update", update);
    h.call("user.delete", delete);
    h.call("user.shell_choices", shell_choices);
    h.call("user.set_password", set_password);
    h.call("user.get_next_uid", |ctx| Ok(json!(ctx.machine.state().account.users.next_uid())));
}

/// The entry of user `id` with the one-shot `password` member create and update return.
fn entry_with_password(ctx: &Ctx<'_>, id: i64, password: Option<String>) -> Result<Value, Failure> {
    let state = ctx.machine.state();
    let mut entry = state.account.view().user_entry(state.account.users.lookup(id)?);
    entry["password"] = json!(password);
    Ok(entry)
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("user.create", 0);
    let (id, password) = ctx.machine.state().account.create_user(data)?;
    entry_with_password(ctx, id, password)
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let password = ctx.machine.state().account.update_user(id, data)?;
    entry_with_password(ctx, id, password)
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    // TrueNAS's default is to delete the primary group along with its last user.
    let delete_group = ctx.params.get(1).and_then(|o| o.get("delete_group")).and_then(Value::as_bool).unwrap_or(true);
    ctx.machine.state().account.delete_user(id, delete_group)?;
    Ok(json!(id))
}

fn shell_choices(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let groups: Vec<i64> = ctx
        .params
        .get(0)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    Ok(ctx.machine.state().account.view().shell_choices(&groups))
}

fn set_password(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.params.object(0);
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let username = text("username").unwrap_or_default();
    // The simulated session is a full administrator, so any user's password may be reset.
    ctx.machine.state().account.users.set_password(
        username,
        text("old_password"),
        text("new_password").unwrap_or_default(),
    )?;
    Ok(Value::Null)
}

#[cfg(test)]
#[path = "user_methods_tests.rs"]
mod tests;
