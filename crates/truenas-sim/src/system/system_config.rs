//! The general and advanced system settings (`system.general.*`, `system.advanced.config`) and
//! the log of reboots and shutdowns asked for (`system.reboot`, `system.shutdown`), with the
//! reason TrueNAS 25.04+ requires.

use serde_json::{Map, Value, json};

use crate::json::object;

use truenas_api::schema::Release;

/// What a member of the general settings is to the two methods.
#[derive(Clone, Copy, PartialEq)]
enum Member {
    /// `system.general.config` returns it; `system.general.update` leaves it.
    Shown,
    /// Returned and changeable.
    Updatable,
    /// Accepted by `system.general.update` only (how the change is applied, not a setting).
    UpdateOnly,
}

/// The members of the general settings, in the order `system.general.config` lists them.
const GENERAL: [(&str, Member); 19] = [
    ("id", Member::Shown),
    ("ui_certificate", Member::Updatable),
    ("ui_httpsport", Member::Updatable),
    ("ui_httpsredirect", Member::Updatable),
    ("ui_httpsprotocols", Member::Updatable),
    ("ui_port", Member::Updatable),
    ("ui_address", Member::Updatable),
    ("ui_v6address", Member::Updatable),
    ("ui_allowlist", Member::Updatable),
    ("ui_consolemsg", Member::Updatable),
    ("ui_x_frame_options", Member::Updatable),
    ("kbdmap", Member::Updatable),
    ("timezone", Member::Updatable),
    ("usage_collection", Member::Updatable),
    ("wizardshown", Member::Shown),
    ("usage_collection_is_set", Member::Shown),
    ("ds_auth", Member::Updatable),
    ("ui_restart_delay", Member::UpdateOnly),
    ("rollback_timeout", Member::UpdateOnly),
];

fn general_members(wanted: [Member; 2]) -> impl Iterator<Item = &'static str> {
    GENERAL.iter().filter(move |(_, m)| wanted.contains(m)).map(|(key, _)| *key)
}

/// The certificate a fresh install serves the web UI with.
const UI_CERTIFICATE: (i64, &str) = (1, "truenas_default");

/// A reboot or shutdown that was asked for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PowerEvent {
    /// `REBOOT` or `SHUTDOWN`.
    pub(crate) action: &'static str,
    pub(crate) reason: String,
    pub(crate) delay: Option<i64>,
}

/// General and advanced settings, and the power log.
#[derive(Debug)]
pub(crate) struct SystemConfig {
    release: Release,
    general: Map<String, Value>,
    advanced: Map<String, Value>,
    /// Reboots and shutdowns, oldest first.
    pub(crate) power_log: Vec<PowerEvent>,
}

impl SystemConfig {
    pub(crate) fn demo(release: Release) -> SystemConfig {
        let general = object(json!({
            "id": 1,
            "ui_certificate": UI_CERTIFICATE.0,
            "ui_httpsport": 443,
            "ui_httpsredirect": true,
            "ui_httpsprotocols": ["TLSv1.2", "TLSv1.3"],
            "ui_port": 80,
            "ui_address": ["0.0.0.0"],
            "ui_v6address": ["::"],
            "ui_allowlist": [],
            "ui_consolemsg": false,
            "ui_x_frame_options": "SAMEORIGIN",
            "kbdmap": "us",
            "timezone": "Etc/UTC",
            "usage_collection": null,
            "wizardshown": true,
            "usage_collection_is_set": false,
            "ds_auth": false,
        }));
        let mut advanced = object(json!({
            "id": 1,
            "advancedmode": false,
            "autotune": false,
            "kdump_enabled": false,
            "boot_scrub": 7,
            "consolemenu": true,
            "consolemsg": false,
            "debugkernel": false,
            "fqdn_syslog": false,
            "motd": "Welcome to TrueNAS",
            "login_banner": "",
            "powerdaemon": false,
            "serialconsole": false,
            "serialport": "ttyS0",
            "anonstats_token": "",
            "serialspeed": "9600",
            "overprovision": null,
            "traceback": true,
            "uploadcrash": true,
            "anonstats": true,
            "sed_user": "USER",
            "sysloglevel": "F_INFO",
            "syslogservers": [],
            "syslog_audit": false,
            "isolated_gpu_pci_ids": [],
            "kernel_extra_options": "",
        }));
        if release >= Release::V26_0 {
            advanced.insert("nvidia".into(), json!(false));
        }
        SystemConfig { release, general, advanced, power_log: Vec::new() }
    }

    /// The `system.general.config` result: 25.10 expands the UI certificate, 26.0 gives its id
    /// and name.
    pub(crate) fn general(&self) -> Value {
        let mut out = Map::new();
        for key in general_members([Member::Shown, Member::Updatable]) {
            out.insert(key.into(), self.general.get(key).cloned().unwrap_or(Value::Null));
        }
        let cert = self.general.get("ui_certificate").and_then(Value::as_i64);
        let name = cert.filter(|id| *id == UI_CERTIFICATE.0).map(|_| UI_CERTIFICATE.1);
        if self.release >= Release::V26_0 {
            out.insert("ui_certificate_name".into(), json!(name));
        } else {
            let expanded = cert.map(|id| json!({"id": id, "name": name, "certificate_type": "CERTIFICATE"}));
            out.insert("ui_certificate".into(), expanded.unwrap_or(Value::Null));
        }
        Value::Object(out)
    }

    /// `system.general.update`: merges the changes and returns the new settings.
    pub(crate) fn update_general(&mut self, changes: &Map<String, Value>) -> Value {
        let updatable: Vec<&str> = general_members([Member::Updatable, Member::UpdateOnly]).collect();
        for (key, value) in changes.iter().filter(|(k, _)| updatable.contains(&k.as_str())) {
            if key == "usage_collection" {
                self.general.insert("usage_collection_is_set".into(), json!(true));
            }
            if !["ui_restart_delay", "rollback_timeout"].contains(&key.as_str()) {
                self.general.insert(key.clone(), value.clone());
            }
        }
        self.general()
    }

    /// The `system.advanced.config` result.
    pub(crate) fn advanced(&self) -> Value {
        Value::Object(self.advanced.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_settings_change_and_keep_their_shape_per_release() {
        let mut c = SystemConfig::demo(Release::V25_10);
        assert_eq!(c.general()["ui_certificate"]["name"], "truenas_default");
        let changes = json!({"ui_port": 8080, "timezone": "Europe/Paris", "usage_collection": false});
        let after = c.update_general(changes.as_object().unwrap());
        assert_eq!((after["ui_port"].clone(), after["usage_collection_is_set"].clone()), (json!(8080), json!(true)));
        assert_eq!(c.general()["timezone"], "Europe/Paris");
        let c26 = SystemConfig::demo(Release::V26_0);
        assert_eq!(
            (c26.general()["ui_certificate"].clone(), c26.general()["ui_certificate_name"].clone()),
            (json!(1), json!("truenas_default"))
        );
        assert!(c26.advanced().get("nvidia").is_some() && c.advanced().get("nvidia").is_none());
    }
}
