//! The network domain: interfaces, the global network configuration and static routes
//! (`interface.*`, `network.configuration.*`, `staticroute.*`).
//!
//! State: `interface` (interfaces, pending changes, commit and rollback), `interface_checks` (what
//! `interface.create`/`update` refuse), `interface_entry` (an interface as `interface.query`
//! renders it), `ipnet` (IP address and network arithmetic), `network_config` (global configuration
//! and static routes).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `interface_methods` (`interface.*`),
//! `network_methods` (`network.configuration.*`, `staticroute.*`).

pub(crate) mod interface;
pub(crate) mod interface_checks;
pub(crate) mod interface_entry;
pub(crate) mod interface_methods;
pub(crate) mod ipnet;
pub(crate) mod network_config;
pub(crate) mod network_methods;
