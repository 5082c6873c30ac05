//! `vm.device.*`: device CRUD on top of `state::vm_device`, plus the choice lists a client
//! needs to build one.

use serde_json::{Value, json};

use crate::events::Change;
use crate::failure::Failure;
use crate::methods::{Ctx, Handlers};
use crate::vm::vm_device::device_not_found as vm_device_not_found;
use crate::vm::vm_methods::publish;

pub(crate) fn register(h: &mut Handlers) {
    h.reads("vm.device", |ctx| ctx.machine.state().vm.device_entries(), vm_device_not_found);
    h.call("vm.device.create", create);
    h.call("vm.device.update", update);
    h.call("vm.device.delete", delete);
    h.call("vm.device.nic_attach_choices", |_| Ok(json!({"br0": "br0", "enp5s0": "enp5s0", "enp6s0": "enp6s0"})));
    h.call("vm.device.bind_choices", |_| {
        Ok(json!({"0.0.0.0": "0.0.0.0", "::": "::", "127.0.0.1": "127.0.0.1", "192.168.1.50": "192.168.1.50"}))
    });
    h.call("vm.device.iotype_choices", |_| {
        Ok(json!({"NATIVE": "NATIVE", "THREADS": "THREADS", "IO_URING": "IO_URING"}))
    });
}

/// The owning VM changed too: its `devices` list is part of its entry.
fn vm_of(ctx: &Ctx<'_>, device: i64) -> Option<i64> {
    ctx.machine.state().vm.device(device).ok().map(|d| d.vm)
}

fn create(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let data = ctx.with_defaults("vm.device.create", 0);
    let (id, entry) = {
        let mut state = ctx.machine.state();
        let id = state.vm.create_device(data)?;
        (id, state.vm.device(id)?.entry())
    };
    if let Some(vm) = vm_of(ctx, id) {
        publish(ctx.machine, Change::Changed, vm);
    }
    Ok(entry)
}

fn update(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let (id, data) = ctx.id_and_data()?;
    let entry = {
        let mut state = ctx.machine.state();
        state.vm.update_device(id, data)?;
        state.vm.device(id)?.entry()
    };
    if let Some(vm) = vm_of(ctx, id) {
        publish(ctx.machine, Change::Changed, vm);
    }
    Ok(entry)
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, Failure> {
    let id = ctx.params.int(0)?;
    let vm = vm_of(ctx, id);
    ctx.machine.state().vm.delete_device(id)?;
    if let Some(vm) = vm {
        publish(ctx.machine, Change::Changed, vm);
    }
    Ok(json!(true))
}
