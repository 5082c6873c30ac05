//! `sharing.smb.*`, `smb.*`, `sharing.nfs.*` and `nfs.*` on top of `state::smb` and
//! `state::nfs`. Share changes are published on their query collection.

use serde_json::{Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_get_instance, run_query};
use crate::sharing::ADDRESSES as NAS_ADDRESSES;
use crate::sharing::{nfs, smb};

pub(crate) fn register(h: &mut Handlers) {
    h.call("sharing.smb.query", |ctx| run_query(ctx, ctx.machine.state().smb.entries()));
    h.call("sharing.smb.get_instance", |ctx| {
        run_get_instance(ctx, ctx.machine.state().smb.entries(), smb::share_not_found)
    });
    h.call("sharing.smb.create", smb_create);
    h.call("sharing.smb.update", smb_update);
    h.call("sharing.smb.delete", smb_delete);
    h.call("smb.config", |ctx| Ok(ctx.machine.state().smb.config()));
    h.call("smb.update", |ctx| {
        let mut state = ctx.machine.state();
        state.smb.update_config(ctx.params.object(0))?;
        Ok(state.smb.config())
    });
    h.call("smb.bindip_choices", |_| Ok(address_choices()));

    h.call("sharing.nfs.query", |ctx| run_query(ctx, ctx.machine.state().nfs.entries()));
    h.call("sharing.nfs.get_instance", |ctx| {
        run_get_instance(ctx, ctx.machine.state().nfs.entries(), nfs::share_not_found)
    });
    h.call("sharing.nfs.create", nfs_create);
    h.call("sharing.nfs.update", nfs_update);
    h.call("sharing.nfs.delete", nfs_delete);
    h.call("nfs.config", |ctx| Ok(ctx.machine.state().nfs.config()));
    h.call("nfs.update", |ctx| {
        let mut state = ctx.machine.state();
        state.nfs.update_config(ctx.params.object(0))?;
        Ok(state.nfs.config())
    });
    h.call("nfs.client_count", |ctx| Ok(json!(ctx.machine.state().nfs.clients)));
    h.call("nfs.bindip_choices", |_| Ok(address_choices()));
}

/// `{address: address}` for every address of the NAS.
fn address_choices() -> Value {
    Value::Object(NAS_ADDRESSES.iter().map(|a| (a.to_string(), json!(a))).collect())
}

fn smb_create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("sharing.smb.create", 0);
    let (id, entry) = {
        let mut state = ctx.machine.state();
        let id = state.smb.create(data)?;
        (id, state.smb.entry(id)?)
    };
    ctx.machine.events.emit("sharing.smb.query", Change::Added, id, Some(entry.clone()));
    Ok(entry)
}

fn smb_update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let entry = {
        let mut state = ctx.machine.state();
        state.smb.update(id, data)?;
        state.smb.entry(id)?
    };
    ctx.machine.events.emit("sharing.smb.query", Change::Changed, id, Some(entry.clone()));
    Ok(entry)
}

fn smb_delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    ctx.machine.state().smb.delete(id)?;
    ctx.machine.events.emit("sharing.smb.query", Change::Removed, id, None);
    Ok(json!(true))
}

fn nfs_create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("sharing.nfs.create", 0);
    let (id, entry) = {
        let mut state = ctx.machine.state();
        let id = state.nfs.create(data)?;
        (id, state.nfs.entry(id)?)
    };
    ctx.machine.events.emit("sharing.nfs.query", Change::Added, id, Some(entry.clone()));
    Ok(entry)
}

fn nfs_update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let entry = {
        let mut state = ctx.machine.state();
        state.nfs.update(id, data)?;
        state.nfs.entry(id)?
    };
    ctx.machine.events.emit("sharing.nfs.query", Change::Changed, id, Some(entry.clone()));
    Ok(entry)
}

fn nfs_delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    ctx.machine.state().nfs.delete(id)?;
    ctx.machine.events.emit("sharing.nfs.query", Change::Removed, id, None);
    Ok(json!(true))
}
