//! `keychaincredential.*` over `state::keychain`: SSH key pairs and SSH connections that
//! replication and rsync tasks log in with. Key generation and host key scans are simulated
//! (no `ssh-keygen` or network access).

use serde_json::{Value, json};

use super::tasks::{Pick, create, get_instance, query_rows};
use super::{Ctx, Handlers, object};
use crate::sim::failure::Failure;
use crate::sim::state::State;
use crate::sim::state::keychain::{generate_key_pair, host_key_scan};
use crate::sim::state::records::Records;

fn keychain(s: &mut State) -> &mut Records {
    &mut s.tasks.keychain
}

const KEYCHAIN: Pick = keychain;

pub(super) fn register(h: &mut Handlers) {
    h.call("keychaincredential.query", |ctx| query_rows(ctx, KEYCHAIN));
    h.call("keychaincredential.get_instance", |ctx| get_instance(ctx, KEYCHAIN));
    h.call("keychaincredential.create", |ctx| {
        create(ctx, "keychaincredential.create", "keychain_credential_create", KEYCHAIN, |state, row, schema, id| {
            state.tasks.check_keychain(row, schema, id)
        })
    });
    h.call("keychaincredential.update", update);
    h.call("keychaincredential.delete", |ctx| {
        let id = ctx.params.int(0)?;
        ctx.machine.state().tasks.delete_keychain(id, ctx.params.flag(1, "cascade"))?;
        Ok(Value::Null)
    });
    h.call("keychaincredential.used_by", |ctx| {
        Ok(Value::Array(ctx.machine.state().tasks.keychain_used_by(ctx.params.int(0)?)?))
    });
    h.call("keychaincredential.generate_ssh_key_pair", |_| Ok(generate_key_pair()));
    h.call("keychaincredential.remote_ssh_host_key_scan", |ctx| {
        let options = ctx.params.object(0);
        let host = options.get("host").and_then(Value::as_str).unwrap_or_default();
        let port = options.get("port").and_then(Value::as_i64).unwrap_or(22);
        Ok(json!(host_key_scan(host, port)))
    });
}

/// `keychaincredential.update`: the type stays; `attributes`, when given, replace the old ones
/// whole (TrueNAS does not merge them).
fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let mut state = ctx.machine.state();
    let mut row = object(state.tasks.keychain.get(id)?);
    for (key, value) in ctx.params.object(1) {
        row.insert(key, value);
    }
    state.tasks.check_keychain(&mut row, "keychain_credentials_update", Some(id))?;
    state.tasks.keychain.replace(id, row)
}
