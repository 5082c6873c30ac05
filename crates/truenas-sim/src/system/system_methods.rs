//! `system.*`: version strings and the host facts of `system.info`.

use serde_json::json;

use crate::methods::{Ctx, Handlers};

pub(crate) fn register(h: &mut Handlers) {
    h.call("system.info", |ctx: &Ctx<'_>| Ok(ctx.machine.state().host.system_info(ctx.machine.config.release)));
    h.call("system.version", |ctx| Ok(json!(ctx.machine.config.release.system_version())));
    h.call("system.version_short", |ctx| {
        let full = ctx.machine.config.release.system_version();
        Ok(json!(full.trim_start_matches("TrueNAS-")))
    });
    h.call("system.ready", |_| Ok(json!(true)));
    h.call("system.state", |_| Ok(json!("READY")));
    h.call("system.boot_id", |ctx| Ok(json!(ctx.machine.boot_id)));
    h.call("system.product_type", |_| Ok(json!("COMMUNITY_EDITION")));
}
