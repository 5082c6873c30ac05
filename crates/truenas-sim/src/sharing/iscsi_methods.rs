//! `iscsi.*`: global settings, sessions, portals, initiator groups, auth groups, targets,
//! extents and LUN mappings on top of `state::iscsi`. Changes are published on each object's
//! query collection.

use serde_json::{Value, json};

use crate::crud::{Collection, row};
use crate::methods::{Handlers, run_query};
use crate::sharing::ADDRESSES as NAS_ADDRESSES;
use crate::sharing::iscsi::{auth_not_found, initiator_not_found, portal_not_found};
use crate::sharing::iscsi_target::{extent_not_found, target_not_found, targetextent_not_found};

const TARGET: Collection =
    Collection { namespace: "iscsi.target", entry: |s, id| Ok(row(s.iscsi.target_entries(), id)), published: true };
const EXTENT: Collection =
    Collection { namespace: "iscsi.extent", entry: |s, id| Ok(row(s.iscsi.extent_entries(), id)), published: true };
const PORTAL: Collection =
    Collection { namespace: "iscsi.portal", entry: |s, id| Ok(row(s.iscsi.portal_entries(), id)), published: true };
const INITIATOR: Collection = Collection {
    namespace: "iscsi.initiator",
    entry: |s, id| Ok(row(s.iscsi.initiator_entries(), id)),
    published: true,
};
const AUTH: Collection =
    Collection { namespace: "iscsi.auth", entry: |s, id| Ok(row(s.iscsi.auth_entries(), id)), published: true };
const MAPPING: Collection = Collection {
    namespace: "iscsi.targetextent",
    entry: |s, id| Ok(row(s.iscsi.targetextent_entries(), id)),
    published: true,
};

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

    h.reads("iscsi.portal", |ctx| ctx.machine.state().iscsi.portal_entries(), portal_not_found);
    h.call("iscsi.portal.create", |ctx| PORTAL.create(ctx, |s, data| s.iscsi.create_portal(data)));
    h.call("iscsi.portal.update", |ctx| PORTAL.update(ctx, |s, id, data| s.iscsi.update_portal(id, data)));
    h.call("iscsi.portal.delete", |ctx| PORTAL.delete(ctx, |s, id| s.iscsi.delete_portal(id)));
    h.call("iscsi.portal.listen_ip_choices", |_| {
        let all = ["0.0.0.0", "::"].into_iter().chain(NAS_ADDRESSES);
        Ok(Value::Object(all.map(|a| (a.to_string(), json!(a))).collect()))
    });

    h.reads("iscsi.initiator", |ctx| ctx.machine.state().iscsi.initiator_entries(), initiator_not_found);
    h.call("iscsi.initiator.create", |ctx| INITIATOR.create(ctx, |s, data| Ok(s.iscsi.create_initiator(data))));
    h.call("iscsi.initiator.update", |ctx| INITIATOR.update(ctx, |s, id, data| s.iscsi.update_initiator(id, data)));
    h.call("iscsi.initiator.delete", |ctx| INITIATOR.delete(ctx, |s, id| s.iscsi.delete_initiator(id)));

    h.reads("iscsi.auth", |ctx| ctx.machine.state().iscsi.auth_entries(), auth_not_found);
    h.call("iscsi.auth.create", |ctx| AUTH.create(ctx, |s, data| s.iscsi.create_auth(data)));
    h.call("iscsi.auth.update", |ctx| AUTH.update(ctx, |s, id, data| s.iscsi.update_auth(id, data)));
    h.call("iscsi.auth.delete", |ctx| AUTH.delete(ctx, |s, id| s.iscsi.delete_auth(id)));

    h.reads("iscsi.target", |ctx| ctx.machine.state().iscsi.target_entries(), target_not_found);
    h.call("iscsi.target.create", |ctx| TARGET.create(ctx, |s, data| s.iscsi.create_target(data)));
    h.call("iscsi.target.update", |ctx| TARGET.update(ctx, |s, id, data| s.iscsi.update_target(id, data)));
    h.call("iscsi.target.delete", |ctx| {
        let (force, delete_extents) = (ctx.params.bool(1), ctx.params.bool(2));
        TARGET.delete(ctx, |s, id| s.iscsi.delete_target(id, force, delete_extents))
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

    h.reads("iscsi.extent", |ctx| ctx.machine.state().iscsi.extent_entries(), extent_not_found);
    h.call("iscsi.extent.create", |ctx| EXTENT.create(ctx, |s, data| s.iscsi.create_extent(data)));
    h.call("iscsi.extent.update", |ctx| EXTENT.update(ctx, |s, id, data| s.iscsi.update_extent(id, data)));
    h.call("iscsi.extent.delete", |ctx| {
        let (remove, force) = (ctx.params.bool(1), ctx.params.bool(2));
        EXTENT.delete(ctx, |s, id| s.iscsi.delete_extent(id, remove, force))
    });

    h.reads("iscsi.targetextent", |ctx| ctx.machine.state().iscsi.targetextent_entries(), targetextent_not_found);
    h.call("iscsi.targetextent.create", |ctx| MAPPING.create(ctx, |s, data| s.iscsi.create_targetextent(data)));
    h.call("iscsi.targetextent.update", |ctx| MAPPING.update(ctx, |s, id, data| s.iscsi.update_targetextent(id, data)));
    h.call("iscsi.targetextent.delete", |ctx| {
        let force = ctx.params.bool(1);
        MAPPING.delete(ctx, |s, id| s.iscsi.delete_targetextent(id, force))
    });
}
