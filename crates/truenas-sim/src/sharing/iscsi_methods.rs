//! `iscsi.*`: global settings, sessions, portals, initiator groups, auth groups, targets,
//! extents and LUN mappings on top of `state::iscsi`. Changes are published on each object's
//! query collection.

use serde_json::{Map, Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_get_instance, run_query};
use crate::sharing::ADDRESSES as NAS_ADDRESSES;
use crate::sharing::iscsi::{IscsiStore, auth_not_found, initiator_not_found, portal_not_found};
use crate::sharing::iscsi_target::{extent_not_found, target_not_found, targetextent_not_found};

/// A state call that changes row `id` with the update's changes.
type UpdateFn = fn(&mut IscsiStore, i64, Map<String, Value>) -> Result<(), Failure>;

/// The state calls behind one iSCSI collection.
struct Kind {
    collection: &'static str,
    entries: fn(&IscsiStore) -> Vec<Value>,
}

const TARGET: Kind = Kind { collection: "iscsi.target.query", entries: IscsiStore::target_entries };
const EXTENT: Kind = Kind { collection: "iscsi.extent.query", entries: IscsiStore::extent_entries };
const PORTAL: Kind = Kind { collection: "iscsi.portal.query", entries: IscsiStore::portal_entries };
const INITIATOR: Kind = Kind { collection: "iscsi.initiator.query", entries: IscsiStore::initiator_entries };
const AUTH: Kind = Kind { collection: "iscsi.auth.query", entries: IscsiStore::auth_entries };
const MAPPING: Kind = Kind { collection: "iscsi.targetextent.query", entries: IscsiStore::targetextent_entries };

pub(crate) fn register(h: &mut Handlers) {
    h.call("iscsi.global.config", |ctx| Ok(ctx.machine.state().iscsi.global_config()));
    h.call("iscsi.global.update", |ctx| {
        let mut state = ctx.machine.state();
        state.iscsi.update_global(ctx.params.object(0))?;
        Ok(state.iscsi.global_config())
    });
    h.call("iscsi.global.sessions", |ctx| run_query(ctx, ctx.machine.state().iscsi.session_entries()));
    h.call("iscsi.global.client_count", |ctx| {
        let state = ctx.machine.state();
        let sessions = state.iscsi.session_entries();
        let mut initiators: Vec<&str> = sessions.iter().filter_map(|s| s.get("initiator")?.as_str()).collect();
        initiators.dedup();
        Ok(json!(initiators.len()))
    });
    h.call("iscsi.global.alua_enabled", |_| Ok(json!(false)));
    h.call("iscsi.global.iser_enabled", |ctx| Ok(ctx.machine.state().iscsi.global_config()["iser"].clone()));

    h.call("iscsi.portal.query", |ctx| query(ctx, &PORTAL));
    h.call("iscsi.portal.get_instance", |ctx| get(ctx, &PORTAL, portal_not_found));
    h.call("iscsi.portal.create", |ctx| create(ctx, &PORTAL, "iscsi.portal.create", |s, data| s.create_portal(data)));
    h.call("iscsi.portal.update", |ctx| update(ctx, &PORTAL, IscsiStore::update_portal));
    h.call("iscsi.portal.delete", |ctx| delete(ctx, &PORTAL, |s, id| s.delete_portal(id)));
    h.call("iscsi.portal.listen_ip_choices", |_| {
        let all = ["0.0.0.0", "::"].into_iter().chain(NAS_ADDRESSES);
        Ok(Value::Object(all.map(|a| (a.to_string(), json!(a))).collect()))
    });

    h.call("iscsi.initiator.query", |ctx| query(ctx, &INITIATOR));
    h.call("iscsi.initiator.get_instance", |ctx| get(ctx, &INITIATOR, initiator_not_found));
    h.call("iscsi.initiator.create", |ctx| {
        create(ctx, &INITIATOR, "iscsi.initiator.create", |s, data| Ok(s.create_initiator(data)))
    });
    h.call("iscsi.initiator.update", |ctx| update(ctx, &INITIATOR, IscsiStore::update_initiator));
    h.call("iscsi.initiator.delete", |ctx| delete(ctx, &INITIATOR, |s, id| s.delete_initiator(id)));

    h.call("iscsi.auth.query", |ctx| query(ctx, &AUTH));
    h.call("iscsi.auth.get_instance", |ctx| get(ctx, &AUTH, auth_not_found));
    h.call("iscsi.auth.create", |ctx| create(ctx, &AUTH, "iscsi.auth.create", |s, data| s.create_auth(data)));
    h.call("iscsi.auth.update", |ctx| update(ctx, &AUTH, IscsiStore::update_auth));
    h.call("iscsi.auth.delete", |ctx| delete(ctx, &AUTH, |s, id| s.delete_auth(id)));

    h.call("iscsi.target.query", |ctx| query(ctx, &TARGET));
    h.call("iscsi.target.get_instance", |ctx| get(ctx, &TARGET, target_not_found));
    h.call("iscsi.target.create", |ctx| create(ctx, &TARGET, "iscsi.target.create", |s, data| s.create_target(data)));
    h.call("iscsi.target.update", |ctx| update(ctx, &TARGET, IscsiStore::update_target));
    h.call("iscsi.target.delete", |ctx| {
        let (force, delete_extents) = (ctx.params.bool(1), ctx.params.bool(2));
        delete(ctx, &TARGET, |s, id| s.delete_target(id, force, delete_extents))
    });
    h.call("iscsi.target.validate_name", |ctx| {
        let name = ctx.params.str(0)?;
        let valid = regex::Regex::new(r"^[-a-z0-9\.:]+$").is_ok_and(|re| re.is_match(name));
        let taken = ctx.machine.state().iscsi.target_entries().iter().any(|t| t["name"] == name);
        Ok(match (valid, taken) {
            (false, _) => {
                json!("Only lowercase alphanumeric characters plus dot (.), dash (-), and colon (:) are allowed.")
            }
            (true, true) => json!("Target with this name already exists"),
            (true, false) => Value::Null,
        })
    });

    h.call("iscsi.extent.query", |ctx| query(ctx, &EXTENT));
    h.call("iscsi.extent.get_instance", |ctx| get(ctx, &EXTENT, extent_not_found));
    h.call("iscsi.extent.create", |ctx| create(ctx, &EXTENT, "iscsi.extent.create", |s, data| s.create_extent(data)));
    h.call("iscsi.extent.update", |ctx| update(ctx, &EXTENT, IscsiStore::update_extent));
    h.call("iscsi.extent.delete", |ctx| {
        let (remove, force) = (ctx.params.bool(1), ctx.params.bool(2));
        delete(ctx, &EXTENT, |s, id| s.delete_extent(id, remove, force))
    });

    h.call("iscsi.targetextent.query", |ctx| query(ctx, &MAPPING));
    h.call("iscsi.targetextent.get_instance", |ctx| get(ctx, &MAPPING, targetextent_not_found));
    h.call("iscsi.targetextent.create", |ctx| {
        create(ctx, &MAPPING, "iscsi.targetextent.create", |s, data| s.create_targetextent(data))
    });
    h.call("iscsi.targetextent.update", |ctx| update(ctx, &MAPPING, IscsiStore::update_targetextent));
    h.call("iscsi.targetextent.delete", |ctx| {
        let force = ctx.params.bool(1);
        delete(ctx, &MAPPING, |s, id| s.delete_targetextent(id, force))
    });
}

fn query(ctx: &Ctx<'_>, kind: &Kind) -> Result<Value, Failure> {
    let rows = (kind.entries)(&ctx.machine.state().iscsi);
    run_query(ctx, rows)
}

fn get(ctx: &Ctx<'_>, kind: &Kind, not_found: fn(i64) -> Failure) -> Result<Value, Failure> {
    let rows = (kind.entries)(&ctx.machine.state().iscsi);
    run_get_instance(ctx, rows, not_found)
}

/// The current entry of row `id` of `kind`.
fn entry(store: &IscsiStore, kind: &Kind, id: i64) -> Value {
    (kind.entries)(store).into_iter().find(|e| e["id"] == id).unwrap_or(Value::Null)
}

fn create(
    ctx: &Ctx<'_>,
    kind: &Kind,
    method: &str,
    insert: impl FnOnce(&mut IscsiStore, Map<String, Value>) -> Result<i64, Failure>,
) -> Result<Value, Failure> {
    let data = ctx.with_defaults(method, 0);
    let (id, entry) = {
        let mut state = ctx.machine.state();
        let id = insert(&mut state.iscsi, data)?;
        (id, entry(&state.iscsi, kind, id))
    };
    ctx.machine.events.emit(kind.collection, Change::Added, id, Some(entry.clone()));
    Ok(entry)
}

fn update(ctx: &Ctx<'_>, kind: &Kind, apply: UpdateFn) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let entry = {
        let mut state = ctx.machine.state();
        apply(&mut state.iscsi, id, ctx.params.object(1))?;
        entry(&state.iscsi, kind, id)
    };
    ctx.machine.events.emit(kind.collection, Change::Changed, id, Some(entry.clone()));
    Ok(entry)
}

fn delete(
    ctx: &Ctx<'_>,
    kind: &Kind,
    remove: impl FnOnce(&mut IscsiStore, i64) -> Result<(), Failure>,
) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    remove(&mut ctx.machine.state().iscsi, id)?;
    ctx.machine.events.emit(kind.collection, Change::Removed, id, None);
    Ok(json!(true))
}
