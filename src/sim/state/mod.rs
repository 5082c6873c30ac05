//! The simulated NAS's state, one module per domain. Later domains (pools, datasets, shares,
//! users, apps) add a file and a field here.

mod dataset;
mod dataset_crypto;
mod dataset_entry;
mod dataset_perm;
mod dataset_props;
pub(crate) mod host;
mod pool;
mod pool_entry;
mod pool_topology;
mod snapshot;
mod snapshot_task;
pub(crate) mod storage;
mod storage_seed;
pub(crate) mod vm;
mod vm_device;
mod vm_seed;

pub(crate) use vm_device::device_not_found as vm_device_not_found;

use crate::schema::Release;

/// Everything that persists between calls, guarded by one lock in the machine.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) host: host::Host,
    pub(crate) vm: vm::VmStore,
    pub(crate) storage: storage::Storage,
}

impl State {
    /// A fresh NAS with the demo seed data.
    pub(crate) fn demo(release: Release) -> State {
        let mut vm = vm::VmStore::default();
        vm_seed::seed(&mut vm, release);
        let mut storage = storage::Storage::default();
        storage_seed::seed(&mut storage);
        State { host: host::Host::demo(), vm, storage }
    }
}
