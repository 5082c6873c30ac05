//! The simulated NAS's state, one module per domain. Later domains (pools, datasets, shares,
//! users, apps) add a file and a field here.

pub(crate) mod acme;
pub(crate) mod alert;
pub(crate) mod certificate;
mod certificate_entry;
pub(crate) mod disk;
pub(crate) mod host;
pub(crate) mod interface;
mod interface_checks;
mod interface_entry;
mod ipnet;
pub(crate) mod network_config;
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
    pub(crate) interfaces: interface::Interfaces,
    pub(crate) network: network_config::Network,
    pub(crate) disks: disk::Disks,
    pub(crate) certificates: certificate::Certificates,
    pub(crate) acme: acme::Authenticators,
    pub(crate) alerts: alert::Alerts,
}

impl State {
    /// A fresh NAS with the demo seed data.
    pub(crate) fn demo(release: Release) -> State {
        let mut vm = vm::VmStore::default();
        vm_seed::seed(&mut vm, release);
        let host = host::Host::demo();
        State {
            network: network_config::demo(&host.hostname),
            host,
            vm,
            interfaces: interface::demo(),
            disks: disk::demo(),
            certificates: certificate::demo(),
            acme: acme::demo(),
            alerts: alert::demo(),
        }
    }
}
