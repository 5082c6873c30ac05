//! The simulated NAS's state, one module per domain. Later domains (pools, datasets, shares,
//! users) add a file and a field here.

pub(crate) mod account;
mod account_checks;
pub(crate) mod account_groups;
pub(crate) mod account_privileges;
mod account_seed;
mod account_users;
pub(crate) mod acme;
pub(crate) mod alert;
pub(crate) mod api_keys;
pub(crate) mod app_catalog;
pub(crate) mod apps;
pub(crate) mod audit;
pub(crate) mod boot_env;
pub(crate) mod boot_pool;
pub(crate) mod certificate;
mod certificate_entry;
pub(crate) mod clock;
pub(crate) mod cloud_credentials;
pub(crate) mod cloud_task;
pub(crate) mod data_protection;
mod dataset;
mod dataset_crypto;
mod dataset_entry;
mod dataset_perm;
mod dataset_props;
pub(crate) mod directory;
pub(crate) mod disk;
pub(crate) mod docker;
pub(crate) mod fs;
mod fs_acl;
mod fs_seed;
pub(crate) mod host;
pub(crate) mod interface;
mod interface_checks;
mod interface_entry;
mod ipnet;
pub(crate) mod iscsi;
mod iscsi_target;
pub(crate) mod keychain;
pub(crate) mod mail;
pub(crate) mod network_config;
pub(crate) mod nfs;
pub(crate) mod ntp;
mod pool;
mod pool_entry;
mod pool_topology;
pub(crate) mod records;
pub(crate) mod replication;
pub(crate) mod reporting;
pub(crate) mod service_config;
pub(crate) mod services;
pub(crate) mod settings;
mod sharing_env;
mod sharing_seed;
pub(crate) mod smb;
mod snapshot;
mod snapshot_task;
pub(crate) mod storage;
mod storage_seed;
pub(crate) mod system_config;
pub(crate) mod tasks;
pub(crate) mod update;
pub(crate) mod vm;
mod vm_device;
mod vm_seed;

pub(crate) use iscsi_target::{extent_not_found, target_not_found, targetextent_not_found};
pub(crate) use sharing_env::ADDRESSES as NAS_ADDRESSES;
pub(crate) use vm_device::device_not_found as vm_device_not_found;

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
            fs: fs::FileSystem::demo(),
            reporting: reporting::Reporting::default(),
            audit: audit::Audit::default(),
            tasks: tasks::Tasks::demo(),
            service_configs: service_config::ServiceConfigs::demo(),
            directory: directory::Directory::demo(),
            data_protection,
        }
    }
}
