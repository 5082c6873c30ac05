//! The simulated NAS's state: one field per store, each defined in its domain folder
//! (`storage/`, `sharing/`, `account/`, `network/`, `apps/`, `system/`, `vm/`,
//! `data_protection/`), and the demo NAS they make together.

use crate::account::{self, account_seed, directory};
use crate::apps::{app as apps, app_catalog, docker};
use crate::data_protection;
use crate::network::{interface, network_config};
use crate::sharing::{iscsi, nfs, sharing_seed, smb};
use crate::storage::{self, disk, fs, fs_seed, storage_seed};
use crate::system::{
    acme, alert, audit, boot_env, boot_pool, certificate, host, reporting, service_config, settings, tasks, update,
};
use crate::vm::{self, vm_seed};
use truenas_api::schema::Release;

/// Everything that persists between calls, guarded by one lock in the machine.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) host: host::Host,
    pub(crate) vm: vm::VmStore,
    pub(crate) smb: smb::SmbStore,
    pub(crate) nfs: nfs::NfsStore,
    pub(crate) iscsi: iscsi::IscsiStore,
    pub(crate) account: account::AccountStore,
    pub(crate) settings: settings::Settings,
    pub(crate) storage: storage::Storage,
    pub(crate) interfaces: interface::Interfaces,
    pub(crate) network: network_config::Network,
    pub(crate) disks: disk::Disks,
    pub(crate) certificates: certificate::Certificates,
    pub(crate) acme: acme::Authenticators,
    pub(crate) alerts: alert::Alerts,
    pub(crate) catalog: app_catalog::Catalog,
    pub(crate) apps: apps::AppStore,
    pub(crate) docker: docker::Docker,
    pub(crate) update: update::Updates,
    pub(crate) boot_envs: boot_env::BootEnvs,
    pub(crate) boot_pool: boot_pool::BootPool,
    pub(crate) fs: fs::FileSystem,
    pub(crate) reporting: reporting::Reporting,
    pub(crate) audit: audit::Audit,
    pub(crate) tasks: tasks::Tasks,
    pub(crate) service_configs: service_config::ServiceConfigs,
    pub(crate) directory: directory::Directory,
    pub(crate) data_protection: data_protection::DataProtection,
}

impl State {
    /// A fresh NAS with the demo seed data.
    pub(crate) fn demo(release: Release) -> State {
        let mut vm = vm::VmStore::default();
        vm_seed::seed(&mut vm, release);
        let mut storage = storage::Storage::default();
        storage_seed::seed(&mut storage);
        let host = host::Host::demo();
        let catalog = app_catalog::Catalog::default();
        let apps = apps::AppStore::demo(&catalog);
        let data_protection = data_protection::DataProtection::demo(release, &storage);
        State {
            network: network_config::demo(&host.hostname),
            host,
            vm,
            smb: sharing_seed::smb(release),
            nfs: sharing_seed::nfs(release),
            iscsi: sharing_seed::iscsi(release),
            account: account_seed::seeded(release),
            settings: settings::Settings::demo(release),
            storage,
            interfaces: interface::demo(),
            disks: disk::demo(),
            certificates: certificate::demo(),
            acme: acme::demo(),
            alerts: alert::demo(),
            catalog,
            apps,
            docker: docker::Docker::default(),
            update: update::Updates::demo(release),
            boot_envs: boot_env::BootEnvs::demo(release),
            boot_pool: boot_pool::BootPool::default(),
            fs: fs_seed::demo(),
            reporting: reporting::Reporting::default(),
            audit: audit::Audit::default(),
            tasks: tasks::Tasks::demo(),
            service_configs: service_config::ServiceConfigs::demo(),
            directory: directory::Directory::demo(),
            data_protection,
        }
    }
}
