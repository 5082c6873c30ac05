//! `api_key.*`: API keys on top of `state::api_keys`. `api_key.create` (and an update with
//! `reset`) is the only answer that carries a key's secret, in `key`.

use serde_json::{Value, json};

use crate::account::api_keys::api_key_not_found;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};

pub(crate) fn register(h: &mut Handlers) {
    h.reads("api_key", |ctx| ctx.machine.state().account.view().api_key_entries(), api_key_not_found);
    h.call("api_key.create", create);
    h.call("api_key.update", update);
    h.call("api_key.delete", |ctx| {
        ctx.machine.state().account.api_keys.delete(ctx.params.int(0)?)?;
        Ok(json!(true))
    });
    h.call("api_key.my_keys", my_keys);
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let mut state = ctx.machine.state();
    let (id, key) = state.account.create_api_key(&ctx.params.object(0))?;
    state.account.view().api_key_entry_with_secret(id, &key)
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let mut state = ctx.machine.state();
    let account = &mut state.account;
    match account.api_keys.update(id, &data)? {
        Some(key) => account.view().api_key_entry_with_secret(id, &key),
        None => Ok(account.view().api_key_entry(account.api_keys.key(id)?)),
    }
}

/// The keys of the logged-in user.
fn my_keys(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let user = ctx.session.user().unwrap_or_default();
    let state = ctx.machine.state();
    let mine: Vec<Value> =
        state.account.view().api_key_entries().into_iter().filter(|k| k["username"] == json!(user)).collect();
    Ok(Value::Array(mine))
}
