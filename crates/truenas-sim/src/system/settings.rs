//! The NAS-wide settings, grouped so the state has one field for them: general and advanced
//! settings with the power log (`system_config`), time servers (`ntp`), services (`services`)
//! and outgoing mail (`mail`).

use crate::system::mail::MailStore;
use crate::system::ntp::NtpStore;
use crate::system::services::ServiceStore;
use crate::system::system_config::SystemConfig;
use truenas_api::schema::Release;

/// Settings of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) system: SystemConfig,
    pub(crate) ntp: NtpStore,
    pub(crate) services: ServiceStore,
    pub(crate) mail: MailStore,
}

impl Settings {
    pub(crate) fn demo(release: Release) -> Settings {
        Settings {
            system: SystemConfig::demo(release),
            ntp: NtpStore::demo(),
            services: ServiceStore::demo(),
            mail: MailStore::demo(),
        }
    }
}
