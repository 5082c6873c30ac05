//! What apps can be installed and upgraded to: `app.available`, `app.categories`,
//! `app.outdated_docker_images`, `app.rollback_versions`, `app.upgrade_summary` and the
//! `catalog.*` reads, over `state::app_catalog`.

use serde_json::{Value, json};

use crate::apps::app_catalog::{human_version, version_key};
use crate::apps::app_methods::installed;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers, run_query};

pub(crate) fn register(h: &mut Handlers) {
    h.call("app.available", |ctx| {
        let rows: Vec<Value> = {
            let state = ctx.machine.state();
            state.catalog.apps().iter().map(|a| a.available_entry(state.apps.uses_catalog_app(a.name))).collect()
        };
        run_query(ctx, rows)
    });
    h.call("app.categories", |ctx| Ok(json!(ctx.machine.state().catalog.categories())));
    h.call("app.outdated_docker_images", |ctx| {
        let state = ctx.machine.state();
        let name = ctx.params.str(0)?;
        installed(&state, name)?;
        let app = state.apps.get(name)?;
        let images: Vec<String> = if app.image_updates_available {
            let tag = app.catalog.app_version(&app.version).unwrap_or("latest");
            vec![format!("{}:{tag}", app.catalog.image)]
        } else {
            Vec::new()
        };
        Ok(json!(images))
    });
    h.call("app.rollback_versions", |ctx| {
        let state = ctx.machine.state();
        let name = ctx.params.str(0)?;
        installed(&state, name)?;
        Ok(json!(state.apps.get(name)?.rollback_versions()))
    });
    h.call("app.upgrade_summary", upgrade_summary);
    h.call("catalog.trains", |ctx| Ok(json!(ctx.machine.state().catalog.trains())));
    h.call("catalog.config", |ctx| Ok(ctx.machine.state().catalog.config()));
}

fn upgrade_summary(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let state = ctx.machine.state();
    let name = ctx.params.str(0)?;
    installed(&state, name)?;
    let requested = ctx.params.get(1).and_then(|o| o.get("app_version")).and_then(Value::as_str).unwrap_or("latest");
    let target = state.apps.upgrade_target(name, requested)?;
    let app = state.apps.get(name)?;
    let catalog = app.catalog;
    let (latest, latest_app) = catalog.latest();
    let human = |v: &str| human_version(catalog.app_version(v).unwrap_or(v), v);
    let newer: Vec<Value> = catalog
        .versions
        .iter()
        .filter(|(v, _)| version_key(v) > version_key(&app.version))
        .map(|(v, _)| json!({"version": v, "human_version": human(v)}))
        .collect();
    Ok(json!({
        "latest_version": latest,
        "latest_human_version": human_version(latest_app, latest),
        "upgrade_version": target,
        "upgrade_human_version": human(&target),
        "available_versions_for_upgrade": newer,
        "changelog": format!("{} {}: bug fixes and a newer upstream release.", catalog.title, human(&target)),
    }))
}
