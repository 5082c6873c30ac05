//! `sharing.smb.*`, `smb.*`, `sharing.nfs.*` and `nfs.*` on top of `state::smb` and
//! `state::nfs`. Share changes are published on their query collection.

use serde_json::{Value, json};

use crate::crud::Collection;
use crate::methods::Handlers;
use crate::sharing::ADDRESSES as NAS_ADDRESSES;
use crate::sharing::{nfs, smb};

const SMB: Collection = Collection { namespace: "sharing.smb", entry: |s, id| s.smb.entry(id), published: true };
const NFS: Collection = Collection { namespace: "sharing.nfs", entry: |s, id| s.nfs.entry(id), published: true };

pub(crate) fn register(h: &mut Handlers) {
    h.reads("sharing.smb", |ctx| ctx.machine.state().smb.entries(), smb::share_not_found);
    h.call("sharing.smb.create", |ctx| SMB.create(ctx, |s, data| s.smb.create(data)));
    h.call("sharing.smb.update", |ctx| SMB.update(ctx, |s, id, data| s.smb.update(id, data)));
    h.call("sharing.smb.delete", |ctx| SMB.delete(ctx, |s, id| s.smb.delete(id)));
    h.call("smb.config", |ctx| Ok(ctx.machine.state().smb.config()));
    h.call("smb.update", |ctx| {
        let mut state = ctx.machine.state();
        state.smb.update_config(ctx.params.object(0))?;
        Ok(state.smb.config())
    });
    h.call("smb.bindip_choices", |_| Ok(address_choices()));

    h.reads("sharing.nfs", |ctx| ctx.machine.state().nfs.entries(), nfs::share_not_found);
    h.call("sharing.nfs.create", |ctx| NFS.create(ctx, |s, data| s.nfs.create(data)));
    h.call("sharing.nfs.update", |ctx| NFS.update(ctx, |s, id, data| s.nfs.update(id, data)));
    h.call("sharing.nfs.delete", |ctx| NFS.delete(ctx, |s, id| s.nfs.delete(id)));
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
