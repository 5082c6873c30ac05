//! The system domain: the host, NAS-wide settings, services, alerts, certificates, updates, boot
//! environments, audit, reporting, scheduled tasks and the SSH keychain.
//!
//! State: `host` (hardware facts and the memory model), `settings` (the NAS-wide settings grouped),
//! `system_config` (general and advanced settings, power), `ntp` (time servers), `mail` (outgoing
//! mail), `services` (services and their state), `service_config` (per-service configuration),
//! `alert` (alerts and alert services), `certificate` (certificates), `certificate_entry` (a
//! certificate as `certificate.query` renders it), `acme` (ACME DNS authenticators), `update`
//! (updates and trains), `boot_env` (boot environments), `boot_pool` (the boot pool), `audit` (the
//! audit log), `reporting` (reporting graphs), `tasks` (cron jobs, rsync tasks, init/shutdown
//! scripts, keychain credentials, tunables), `keychain` (the SSH keychain's rules).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `system_methods` (`system.info`,
//! `system.version`), `system_settings_methods` (`system.general.*`, `system.advanced.*`,
//! `system.ntpserver.*`, power), `service_methods` (`service.*`), `service_config_methods`
//! (per-service `*.config`/`*.update`), `mail_methods` (`mail.*`), `config_methods` (`config.*`),
//! `alert_methods` (`alert.*`, `alertservice.*`), `certificate_methods` (`certificate.*`,
//! `acme.*`), `update_methods` (`update.*`), `boot_methods` (`boot.*`, `bootenv.*`,
//! `boot.environment.*`), `audit_methods` (`audit.*`), `reporting_methods` (`reporting.*`),
//! `tasks_methods` (`cronjob.*`, `rsynctask.*`, `initshutdownscript.*`, `tunable.*`),
//! `keychain_methods` (`keychaincredential.*`).

pub(crate) mod acme;
pub(crate) mod alert;
pub(crate) mod alert_methods;
pub(crate) mod audit;
pub(crate) mod audit_methods;
pub(crate) mod boot_env;
pub(crate) mod boot_methods;
pub(crate) mod boot_pool;
pub(crate) mod certificate;
pub(crate) mod certificate_entry;
pub(crate) mod certificate_methods;
pub(crate) mod config_methods;
pub(crate) mod host;
pub(crate) mod keychain;
pub(crate) mod keychain_methods;
pub(crate) mod mail;
pub(crate) mod mail_methods;
pub(crate) mod ntp;
pub(crate) mod reporting;
pub(crate) mod reporting_methods;
pub(crate) mod service_config;
pub(crate) mod service_config_methods;
pub(crate) mod service_methods;
pub(crate) mod services;
pub(crate) mod settings;
pub(crate) mod system_config;
pub(crate) mod system_methods;
pub(crate) mod system_settings_methods;
pub(crate) mod tasks;
pub(crate) mod tasks_methods;
pub(crate) mod update;
pub(crate) mod update_methods;
