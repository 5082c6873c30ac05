//! The simulated NAS's state, one module per domain. Later domains (pools, datasets, shares,
//! users) add a file and a field here.

pub(crate) mod app_catalog;
pub(crate) mod apps;
pub(crate) mod audit;
pub(crate) mod boot_env;
pub(crate) mod boot_pool;
pub(crate) mod clock;
pub(crate) mod docker;
pub(crate) mod fs;
mod fs_acl;
mod fs_seed;
pub(crate) mod host;
pub(crate) mod reporting;
pub(crate) mod update;
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
    pub(crate) catalog: app_catalog::Catalog,
    pub(crate) apps: apps::AppStore,
    pub(crate) docker: docker::Docker,
    pub(crate) update: update::Updates,
    pub(crate) boot_envs: boot_env::BootEnvs,
    pub(crate) boot_pool: boot_pool::BootPool,
    pub(crate) fs: fs::FileSystem,
    pub(crate) reporting: reporting::Reporting,
    pub(crate) audit: audit::Audit,
}

impl State {
    /// A fresh NAS with the demo seed data.
    pub(crate) fn demo(release: Release) -> State {
        let mut vm = vm::VmStore::default();
        vm_seed::seed(&mut vm, release);
        let catalog = app_catalog::Catalog::default();
        let apps = apps::AppStore::demo(&catalog);
        State {
            host: host::Host::demo(),
            vm,
            catalog,
            apps,
            docker: docker::Docker::default(),
            update: update::Updates::demo(release),
            boot_envs: boot_env::BootEnvs::demo(release),
            boot_pool: boot_pool::BootPool::default(),
            fs: fs::FileSystem::demo(),
            reporting: reporting::Reporting::default(),
            audit: audit::Audit::default(),
        }
    }
}
