//! `keychaincredential.*` over `state::keychain`: SSH key pairs and SSH connections that
//! replication and rsync tasks log in with. Key generation and host key scans are simulated
//! (no `ssh-keygen` or network access).

use serde_json::{Value, json};

use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, object};
use crate::records::Records;
use crate::state::State;
use crate::system::keychain::{generate_key_pair, host_key_scan, in_use};
use crate::system::tasks_methods::{Pick, create, get_instance, query_rows};

fn keychain(s: &mut State) -> &mut Records {
    &mut s.tasks.keychain
}

const KEYCHAIN: Pick = keychain;

pub(crate) fn register(h: &mut Handlers) {
    h.call("keychaincredential.query", |ctx| query_rows(ctx, KEYCHAIN));
    h.call("keychaincredential.get_instance", |ctx| get_instance(ctx, KEYCHAIN));
    h.call("keychaincredential.create", |ctx| {
        create(ctx, "keychaincredential.create", "keychain_credential_create", KEYCHAIN, |state, row, schema, id| {
            state.tasks.check_keychain(row, schema, id)
        })
    });
    h.call("keychaincredential.update", update);
    h.call("keychaincredential.delete", delete);
    h.call("keychaincredential.used_by", |ctx| {
        let id = ctx.params.int(0)?;
        let state = ctx.machine.state();
        let mut used = state.tasks.keychain_used_by(id)?;
        let replications = state.data_protection.replications.using_credentials(&state.tasks.credential_closure(id));
        used.extend(
            replications
                .into_iter()
                .map(|(_, name)| json!({"title": format!("Replication task {name}"), "unbind_method": "disable"})),
        );
        Ok(Value::Array(used))
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
    let (id, data) = ctx.id_and_data()?;
    let mut state = ctx.machine.state();
    let mut row = object(state.tasks.keychain.get(id)?);
    for (key, value) in data {
        row.insert(key, value);
    }
    state.tasks.check_keychain(&mut row, "keychain_credentials_update", Some(id))?;
    state.tasks.keychain.replace(id, row)
}

/// `keychaincredential.delete`: the keychain's own rules, plus the replication tasks that
/// connect with the credential (or with the SSH credentials a key pair backs), which refuse the
/// delete unless `cascade`, and are then disabled.
fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let cascade = ctx.params.flag(1, "cascade");
    let mut state = ctx.machine.state();
    state.tasks.keychain.get(id)?;
    let replications = state.data_protection.replications.using_credentials(&state.tasks.credential_closure(id));
    if !replications.is_empty() && !cascade {
        return Err(in_use());
    }
    state.tasks.delete_keychain(id, cascade)?;
    for (task, _) in replications {
        state.data_protection.replications.disable(task)?;
    }
    Ok(Value::Null)
}

#[cfg(test)]
#[path = "keychain_methods_tests.rs"]
mod tests;
