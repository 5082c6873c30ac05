//! `vm.*`: the VM lifecycle on top of `state::vm`. `vm.stop` and `vm.restart` are jobs with
//! progress; every change is also published on the `vm.query` collection.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::crud::Collection;
use crate::events::Change;
use crate::failure::Failure;
use crate::machine::Machine;
use crate::methods::{Ctx, Handlers, JobPlan};
use crate::state::State;
use crate::vm::{MAXIMUM_SUPPORTED_VCPUS, random_mac, vm_not_found};
use truenas_api::schema::Release;

const RESOLUTIONS: [&str; 10] = [
    "1920x1200",
    "1920x1080",
    "1600x1200",
    "1600x900",
    "1400x1050",
    "1280x1024",
    "1280x720",
    "1024x768",
    "800x600",
    "640x480",
];

/// The VMs, published on `vm.query` as they change.
const VM: Collection = Collection { namespace: "vm", entry: |s, id| s.vm.entry(id), published: true };

pub(crate) fn register(h: &mut Handlers) {
    h.reads("vm", |ctx| ctx.machine.state().vm.entries(), vm_not_found);
    h.call("vm.create", |ctx| VM.create(ctx, |s, config| s.vm.create(config)));
    h.call("vm.update", |ctx| VM.update(ctx, |s, id, data| s.vm.update(id, data)));
    h.call("vm.delete", delete);
    h.call("vm.clone", clone_vm);
    h.call("vm.start", start);
    h.job("vm.stop", stop);
    h.job("vm.restart", restart);
    h.call("vm.poweroff", poweroff);
    h.call("vm.status", |ctx| Ok(ctx.machine.state().vm.vm(ctx.params.int(0)?)?.status()));
    h.call("vm.get_available_memory", |ctx| {
        let state = ctx.machine.state();
        Ok(json!(state.host.available(ctx.params.bool(0), state.vm.guest_bytes())))
    });
    h.call("vm.get_memory_usage", |ctx| {
        let state = ctx.machine.state();
        let vm = state.vm.entry(ctx.params.int(0)?)?;
        let running = vm["status"]["state"] == "RUNNING";
        Ok(json!(if running { vm["memory"].as_u64().unwrap_or(0) * 1024 * 1024 } else { 0 }))
    });
    h.call("vm.get_display_devices", |ctx| {
        let state = ctx.machine.state();
        let devices = state.vm.display_devices(ctx.params.int(0)?)?;
        let entries = devices.iter().map(|d| {
            let mut entry = d.entry();
            let configured = d.attributes.get("password").and_then(Value::as_str).is_some_and(|p| !p.is_empty());
            entry["attributes"]["password_configured"] = json!(configured);
            entry
        });
        Ok(Value::Array(entries.collect()))
    });
    h.call("vm.get_display_web_uri", display_web_uri);
    h.call("vm.port_wizard", |ctx| {
        let (port, web) = ctx.machine.state().vm.port_wizard();
        Ok(json!({"port": port, "web": web}))
    });
    h.call("vm.random_mac", |_| Ok(json!(random_mac())));
    h.call("vm.bootloader_options", |_| Ok(json!({"UEFI": "UEFI", "UEFI_CSM": "Legacy BIOS"})));
    h.call("vm.maximum_supported_vcpus", |_| Ok(json!(MAXIMUM_SUPPORTED_VCPUS)));
    h.call("vm.supports_virtualization", |_| Ok(json!(true)));
    h.call("vm.resolution_choices", |_| {
        Ok(Value::Object(RESOLUTIONS.iter().map(|r| (r.to_string(), json!(r))).collect()))
    });
}

/// Publishes the VM's current entry on `vm.query` (or its removal).
pub(crate) fn publish(machine: &Machine, change: Change, id: i64) {
    machine.events.emit_entry("vm.query", change, id, || machine.state().vm.entry(id).ok());
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    ctx.machine.state().vm.delete(id)?;
    publish(ctx.machine, Change::Removed, id);
    // 25.10 answers `true`; 26.0 answers `null`.
    Ok(if ctx.machine.config.release >= Release::V26_0 { Value::Null } else { json!(true) })
}

fn clone_vm(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let new_id = ctx.machine.state().vm.clone_vm(id, ctx.params.opt_str(1))?;
    publish(ctx.machine, Change::Added, new_id);
    Ok(json!(true))
}

fn start(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    {
        let mut state = ctx.machine.state();
        let State { host, vm, .. } = &mut *state;
        vm.start(id, ctx.params.flag(1, "overcommit"), host)?;
    }
    publish(ctx.machine, Change::Changed, id);
    Ok(Value::Null)
}

fn poweroff(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    ctx.machine.state().vm.poweroff(id)?;
    publish(ctx.machine, Change::Changed, id);
    Ok(Value::Null)
}

/// `vm.stop`: an ACPI shutdown the guest takes a few steps to honour; `force` powers off at once.
fn stop(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let force = ctx.params.flag(1, "force");
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        machine.state().vm.require_running(id)?;
        let steps: &[(i64, &str)] = if force {
            &[(50, "Powering off guest")]
        } else {
            &[
                (10, "Sending ACPI shutdown to guest"),
                (30, "Waiting for guest to shut down"),
                (50, "Waiting for guest to shut down"),
                (70, "Waiting for guest to shut down"),
                (90, "Releasing guest memory"),
            ]
        };
        job.steps(steps).await;
        machine.state().vm.set_stopped(id);
        publish(&machine, Change::Changed, id);
        Ok(Value::Null)
    })
    .lock(format!("stop_vm_{id}"))
}

/// `vm.restart`: shut down, then start again with a new process.
fn restart(ctx: &Ctx<'_>) -> JobPlan {
    let id = ctx.params.int(0).unwrap_or_default();
    let machine = Arc::clone(ctx.machine);
    JobPlan::new(move |job| async move {
        machine.state().vm.require_running(id)?;
        job.steps(&[(10, "Shutting down guest"), (30, "Waiting for guest to shut down")]).await;
        machine.state().vm.set_stopped(id);
        publish(&machine, Change::Changed, id);
        job.steps(&[(60, "Starting guest"), (80, "Waiting for guest to boot")]).await;
        machine.state().vm.set_running(id)?;
        publish(&machine, Change::Changed, id);
        Ok(Value::Null)
    })
    .lock(format!("restart_vm_{id}"))
}

fn display_web_uri(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let protocol = ctx.params.get(2).and_then(|o| o.get("protocol")).and_then(Value::as_str).unwrap_or("HTTP");
    let state = ctx.machine.state();
    let host = match ctx.params.opt_str(1) {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => state.host.hostname.clone(),
    };
    let devices = state.vm.display_devices(id)?;
    let Some(device) = devices.first() else {
        return Ok(json!({"error": "Display device is not configured for this VM", "uri": null}));
    };
    if device.attributes.get("web").and_then(Value::as_bool) != Some(true) {
        return Ok(json!({"error": "Web display is not configured", "uri": null}));
    }
    let page = match device.attributes.get("type").and_then(Value::as_str) {
        Some("VNC") => "vnc.html",
        _ => "spice_auto.html",
    };
    let uri = format!("{}://{host}/vm/display/{id}/{page}", protocol.to_lowercase());
    Ok(json!({"error": null, "uri": uri}))
}
