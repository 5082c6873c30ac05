//! The simulated NAS's state, one module per domain. Later domains (pools, datasets, shares,
//! users, apps) add a file and a field here.

pub(crate) mod host;
pub(crate) mod iscsi;
mod iscsi_target;
pub(crate) mod nfs;
mod sharing_env;
mod sharing_seed;
pub(crate) mod smb;
pub(crate) mod vm;
mod vm_device;
mod vm_seed;

pub(crate) use iscsi_target::{extent_not_found, target_not_found, targetextent_not_found};
pub(crate) use sharing_env::ADDRESSES as NAS_ADDRESSES;
pub(crate) use vm_device::device_not_found as vm_device_not_found;

use crate::schema::Release;

/// Everything that persists between calls, guarded by one lock in the machine.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) host: host::Host,
    pub(crate) vm: vm::VmStore,
    pub(crate) smb: smb::SmbStore,
    pub(crate) nfs: nfs::NfsStore,
    pub(crate) iscsi: iscsi::IscsiStore,
}

impl State {
    /// A fresh NAS with the demo seed data.
    pub(crate) fn demo(release: Release) -> State {
        let mut vm = vm::VmStore::default();
        vm_seed::seed(&mut vm, release);
        State {
            host: host::Host::demo(),
            vm,
            smb: sharing_seed::smb(release),
            nfs: sharing_seed::nfs(release),
            iscsi: sharing_seed::iscsi(release),
        }
    }
}
