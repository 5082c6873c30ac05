//! `disk.*`: queries with the `pools` and `passwords` extras, settings, temperatures, and the
//! `disk.wipe` job (abortable, one at a time per device, refused for a disk a pool holds).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::methods::{Ctx, Handlers, JobPlan};
use crate::network::interface_methods::get_instance_by_id;
use crate::query;
use crate::storage::disk::disk_not_found;
use truenas_api::schema::Release;

pub(crate) fn register(h: &mut Handlers) {
    h.call("disk.query", |ctx| {
        let rows = rows(ctx, 1);
        query::run(rows, &ctx.params.value(0), &ctx.params.value(1))
    });
    h.call("disk.get_instance", |ctx| {
        let rows = rows(ctx, 1);
        // `disk.get_instance` matches on `identifier`; the shared helper matches on `id`.
        let rows = rows.into_iter().map(|mut r| {
            r["id"] = r["identifier"].clone();
            r
        });
        let found = get_instance_by_id(ctx, rows.collect(), disk_not_found)?;
        Ok(strip_id(found))
    });
    h.call("disk.update", |ctx| {
        let id = ctx.params.str(0)?;
        let mut state = ctx.machine.state();
        let index = state.disks.update(id, ctx.params.object(1))?;
        let disk = state.disks.disks.get(index).ok_or_else(|| disk_not_found(id))?;
        Ok(for_release(ctx.machine.config.release, disk.entry(index, true, false)))
    });
    h.job("disk.wipe", wipe);
    h.call("disk.temperatures", |ctx| {
        let names: Vec<String> = string_list(ctx.params.get(0));
        Ok(ctx.machine.state().disks.temperatures(&names, ctx.params.bool(1)))
    });
    h.call("disk.temperature_agg", |ctx| {
        let names = string_list(ctx.params.get(0));
        let state = ctx.machine.state();
        let out = state.disks.disks.iter().filter(|d| names.contains(&d.name)).filter_map(|d| {
            let t = d.temperature?;
            Some((d.name.clone(), json!({"min": t - 3, "max": t + 4, "avg": t as f64 + 0.4})))
        });
        Ok(Value::Object(out.collect()))
    });
    h.call("disk.temperature_alerts", |ctx| {
        let devices: Vec<String> = string_list(ctx.params.get(0)).iter().map(|n| format!("/dev/{n}")).collect();
        let state = ctx.machine.state();
        let hot = state.alerts.alerts.iter().filter(|a| {
            a.klass == "DiskTemperatureTooHot"
                && a.args["device"].as_str().is_some_and(|d| devices.iter().any(|x| x == d))
        });
        Ok(Value::Array(hot.map(|a| a.entry()).collect()))
    });
}

/// Every disk's entry, with the `extra` options of the query-options param at `options`.
fn rows(ctx: &Ctx<'_>, options: usize) -> Vec<Value> {
    let extra = ctx.params.get(options).and_then(|o| o.get("extra"));
    let flag = |key: &str| extra.and_then(|e| e.get(key)).and_then(Value::as_bool).unwrap_or(false);
    let entries = ctx.machine.state().disks.entries(flag("pools"), flag("passwords"));
    entries.into_iter().map(|e| for_release(ctx.machine.config.release, e)).collect()
}

/// 26.0 reports whether each disk is self-encrypting; none of the demo disks is.
fn for_release(release: Release, mut entry: Value) -> Value {
    if release >= Release::V26_0
        && let Some(map) = entry.as_object_mut()
    {
        map.insert("sed".into(), json!(false));
        map.insert("sed_status".into(), json!("UNSUPPORTED"));
    }
    entry
}

fn strip_id(mut row: Value) -> Value {
    if let Some(map) = row.as_object_mut() {
        map.remove("id");
    }
    row
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

/// `disk.wipe(dev, mode, synccache)`: QUICK writes the ends of the disk, FULL and FULL_RANDOM
/// all of it; the middleware's job description and per-device lock.
fn wipe(ctx: &Ctx<'_>) -> JobPlan {
    let dev = ctx.params.opt_str(0).unwrap_or_default().to_string();
    let mode = ctx.params.opt_str(1).unwrap_or("QUICK").to_string();
    let machine = Arc::clone(ctx.machine);
    let title: String = mode.replace('_', " ").to_lowercase();
    let title = title.split(' ').map(capitalize).collect::<Vec<_>>().join(" ");
    let (description, lock) = (format!("{title} wipe of disk {dev}"), dev.clone());
    JobPlan::new(move |job| async move {
        machine.state().disks.check_wipe(&dev)?;
        let steps: &[i64] = if mode == "QUICK" { &[25, 50, 75] } else { &[10, 20, 30, 40, 50, 60, 70, 80, 90] };
        for percent in steps {
            job.progress(*percent, "");
            job.step().await;
        }
        machine.state().disks.wiped(&dev);
        Ok(Value::Null)
    })
    .described(description)
    .lock(lock)
    .abortable()
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
#[path = "disk_methods_tests.rs"]
mod tests;
