//! `system.*`: version strings and the host facts of `system.info`.

use serde_json::json;

use crate::methods::{Ctx, Handlers};

pub(crate) fn register(h: &mut Handlers) {
    h.call("system.info", |ctx: &Ctx<'_>| {
        let mut info = ctx.machine.state().host.system_info(ctx.machine.config.release);
        info["version"] = json!(version(ctx));
        Ok(info)
    });
    h.call("system.version", |ctx| Ok(json!(version(ctx))));
    h.call("system.version_short", |ctx| Ok(json!(version(ctx).trim_start_matches("TrueNAS-"))));
    h.call("system.ready", |_| Ok(json!(true)));
    h.call("system.state", |_| Ok(json!("READY")));
    h.call("system.boot_id", |ctx| Ok(json!(ctx.machine.boot_id)));
    h.call("system.product_type", |_| Ok(json!("COMMUNITY_EDITION")));
}

/// The version the NAS reports: the release's own, or the one it was told to report.
fn version<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    let config = &ctx.machine.config;
    config.reported_version.as_deref().unwrap_or(config.release.system_version())
}
