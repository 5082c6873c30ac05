//! Alerts (`alert.*`) and the services they are sent through (`alertservice.*`): the alerts
//! raised on the demo machine, dismissing and restoring them, the class catalogue
//! (`alert.list_categories`), and CRUD plus a test send for alert services.

use serde_json::{Map, Value, json};

use crate::failure::Failure;
use crate::system::certificate_entry::now_secs;
use crate::table::Table;
use truenas_api::schema::Release;

/// One raised alert.
#[derive(Debug, Clone)]
pub(crate) struct Alert {
    pub(crate) uuid: String,
    pub(crate) klass: &'static str,
    pub(crate) level: &'static str,
    pub(crate) args: Value,
    /// The class's text, with `%(name)s` placeholders.
    pub(crate) text: &'static str,
    pub(crate) formatted: String,
    pub(crate) raised: u64,
    pub(crate) last_seen: u64,
    pub(crate) dismissed: bool,
    pub(crate) one_shot: bool,
}

impl Alert {
    pub(crate) fn entry(&self) -> Value {
        let date = |secs: u64| json!({"$date": secs * 1000});
        json!({
            "uuid": self.uuid,
            "source": "",
            "klass": self.klass,
            "args": self.args,
            "node": "Controller A",
            "key": self.args.to_string(),
            "datetime": date(self.raised),
            "last_occurrence": date(self.last_seen),
            "dismissed": self.dismissed,
            "mail": null,
            "text": self.text,
            "id": self.uuid,
            "level": self.level,
            "formatted": self.formatted,
            "one_shot": self.one_shot,
        })
    }
}

/// One alert service.
#[derive(Debug, Clone)]
pub(crate) struct AlertService {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) attributes: Map<String, Value>,
    pub(crate) level: String,
    pub(crate) enabled: bool,
}

impl AlertService {
    /// The entry as `release` shows it: from 25.10 the type lives inside the attributes, before
    /// that it is a field of its own beside them.
    pub(crate) fn entry(&self, release: Release) -> Value {
        let kind = self.attributes.get("type").and_then(Value::as_str).unwrap_or_default();
        let title = match kind {
            "AWSSNS" => "AWS SNS",
            "Mail" => "Email",
            "SNMPTrap" => "SNMP Trap",
            other => other,
        };
        if release < Release::V25_10 {
            let mut attributes = self.attributes.clone();
            attributes.shift_remove("type");
            return json!({"name": self.name, "type": kind, "attributes": attributes, "level": self.level,
                "enabled": self.enabled, "id": self.id, "type__title": title});
        }
        json!({"name": self.name, "attributes": self.attributes, "level": self.level, "enabled": self.enabled,
            "id": self.id, "type__title": title})
    }

    fn from_data(id: i64, data: &Map<String, Value>) -> AlertService {
        AlertService {
            id,
            name: data.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            attributes: stored_attributes(data),
            level: data.get("level").and_then(Value::as_str).unwrap_or("WARNING").to_string(),
            enabled: data.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        }
    }
}

/// The attributes of a service definition with its type inside, whether the definition sent it
/// there (25.10 on) or beside them (before 25.10).
fn stored_attributes(data: &Map<String, Value>) -> Map<String, Value> {
    let mut attributes = data.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(kind) = data.get("type").filter(|_| !attributes.contains_key("type")) {
        attributes.insert("type".into(), kind.clone());
    }
    attributes
}

/// Alerts and alert services of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Alerts {
    pub(crate) alerts: Vec<Alert>,
    services: Table<AlertService>,
}

/// What `get_instance` says of an unknown alert service (the middleware names the service
/// class `AlertServiceService`, whose verbose name is `Alert`).
pub(crate) fn service_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Alert {id} does not exist"))
}

impl Alerts {
    pub(crate) fn entries(&self) -> Vec<Value> {
        self.alerts.iter().map(Alert::entry).collect()
    }

    /// `alert.dismiss` / `alert.restore`: an unknown uuid is ignored, as the middleware does.
    /// Returns whether an alert changed.
    pub(crate) fn set_dismissed(&mut self, uuid: &str, dismissed: bool) -> bool {
        match self.alerts.iter_mut().find(|a| a.uuid == uuid) {
            Some(alert) if alert.dismissed != dismissed => {
                alert.dismissed = dismissed;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn services(&self, release: Release) -> Vec<Value> {
        self.services.values().map(|s| s.entry(release)).collect()
    }

    pub(crate) fn service(&self, id: i64) -> Result<&AlertService, Failure> {
        self.services.get(id)
    }

    /// `alertservice.create` (defaults already filled in; the schema checked the attributes).
    pub(crate) fn create_service(&mut self, data: &Map<String, Value>) -> i64 {
        self.services.insert(|id| AlertService::from_data(id, data))
    }

    /// `alertservice.update`: the whole definition is replaced.
    pub(crate) fn update_service(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        let old = self.service(id)?;
        let mut new = AlertService::from_data(id, data);
        if !data.contains_key("enabled") {
            new.enabled = old.enabled;
        }
        *self.services.get_mut(id)? = new;
        Ok(())
    }

    pub(crate) fn delete_service(&mut self, id: i64) -> Result<(), Failure> {
        self.services.delete(id).map(drop)
    }
}

/// `alertservice.test`: whether the test alert got through. The simulated network delivers
/// everywhere except to hosts under `.invalid`.
pub(crate) fn test_delivery(data: &Map<String, Value>) -> bool {
    let attributes = data.get("attributes").and_then(Value::as_object);
    !attributes.into_iter().flatten().filter_map(|(_, v)| v.as_str()).any(|v| {
        let host = v.split("://").nth(1).unwrap_or(v).split(['/', ':', '@']).next().unwrap_or_default();
        host.ends_with(".invalid") || v.ends_with(".invalid")
    })
}

/// `alert.list_policies`.
pub(crate) const POLICIES: [&str; 4] = ["IMMEDIATELY", "HOURLY", "DAILY", "NEVER"];

/// An alert class: (id, title, default level).
type Class = (&'static str, &'static str, &'static str);

/// A slice of the middleware's class catalogue: (category id, title, classes).
const CATEGORIES: [(&str, &str, &[Class]); 6] = [
    (
        "CERTIFICATES",
        "Certificates",
        &[
            ("CertificateExpired", "Certificate Has Expired", "CRITICAL"),
            ("CertificateIsExpiring", "Certificate Is Expiring", "NOTICE"),
            ("CertificateIsExpiringSoon", "Certificate Is Expiring Soon", "WARNING"),
        ],
    ),
    (
        "HARDWARE",
        "Hardware",
        &[
            ("DiskTemperatureTooHot", "Disk Temperature Is Too Hot", "CRITICAL"),
            ("SMARTFailedSelfTest", "Failed Selftest", "WARNING"),
            ("SMARTUncorrectedErrors", "Uncorrected Errors Detected", "WARNING"),
            ("MemoryErrors", "Uncorrected Memory Errors Detected", "CRITICAL"),
        ],
    ),
    (
        "NETWORK",
        "Network",
        &[
            ("LAGGInactivePorts", "Ports are Not ACTIVE on LAGG Interface", "CRITICAL"),
            (
                "NoCriticalFailoverInterfaceFound",
                "At Least 1 Network Interface Is Required To Be Marked Critical For Failover",
                "CRITICAL",
            ),
        ],
    ),
    (
        "STORAGE",
        "Storage",
        &[
            ("VolumeStatus", "Pool Status Is Not Healthy", "CRITICAL"),
            ("ZpoolCapacityWarning", "Pool Space Usage Is Above 80%", "WARNING"),
            ("ScrubPaused", "Scrub Is Paused", "NOTICE"),
        ],
    ),
    (
        "SYSTEM",
        "System",
        &[
            ("HasUpdate", "Update Available", "INFO"),
            ("SSHLoginFailures", "SSH Login Failures", "WARNING"),
            ("NTPHealthCheck", "NTP Health Check Failed", "WARNING"),
        ],
    ),
    (
        "TASKS",
        "Tasks",
        &[
            ("ReplicationFailed", "Replication Failed", "CRITICAL"),
            ("CloudSyncTaskFailed", "Cloud Sync Task Failed", "ERROR"),
        ],
    ),
];

/// `alert.list_categories`; 26.0 adds each class's product types.
pub(crate) fn categories(release: Release) -> Value {
    let categories = CATEGORIES.iter().map(|(id, title, classes)| {
        let classes: Vec<Value> = classes
            .iter()
            .map(|(cid, ctitle, level)| {
                let mut class = json!({"id": cid, "title": ctitle, "level": level, "proactive_support": false});
                if release >= Release::V26_0 {
                    class["product_types"] = json!(["COMMUNITY_EDITION", "ENTERPRISE"]);
                }
                class
            })
            .collect();
        json!({"id": id, "title": title, "classes": classes})
    });
    Value::Array(categories.collect())
}

/// The alerts and services of a fresh simulated NAS: an update is available, `sdd` failed its
/// last SMART self-test, and an earlier burst of SSH login failures was dismissed; alerts go
/// to the admins by e-mail and to a Slack channel.
pub(crate) fn demo() -> Alerts {
    let now = now_secs();
    let alert = |n: u8, klass, level, text, args: Value, formatted: &str, hours: u64, dismissed, one_shot| Alert {
        uuid: format!("6d1c4b7e-2f3a-4c5d-8e9f-0a1b2c3d4e{n:02}"),
        klass,
        level,
        args,
        text,
        formatted: formatted.to_string(),
        raised: now - hours * 3_600,
        last_seen: now - 600,
        dismissed,
        one_shot,
    };
    let update = "A system update is available. Go to System Settings → Update to download and apply the update.";
    let alerts = vec![
        alert(1, "HasUpdate", "INFO", update, Value::Null, update, 20, false, true),
        alert(
            2,
            "SMARTFailedSelfTest",
            "WARNING",
            "%(name)s (%(serial)s) failed a SMART selftest.",
            json!({"name": "sdd", "serial": "ZRT0AB34"}),
            "sdd (ZRT0AB34) failed a SMART selftest.",
            6,
            false,
            false,
        ),
        alert(
            3,
            "SSHLoginFailures",
            "WARNING",
            "%(count)d SSH login failures in the last 24 hours:\n%(failures)s",
            json!({"count": 3, "failures": "Failed password for root from 192.168.1.77 port 50122 ssh2"}),
            "3 SSH login failures in the last 24 hours:\nFailed password for root from 192.168.1.77 port 50122 ssh2",
            30,
            true,
            false,
        ),
    ];
    let service = |id, name: &str, attributes: Value, level: &str| AlertService {
        id,
        name: name.to_string(),
        attributes: attributes.as_object().cloned().unwrap_or_default(),
        level: level.to_string(),
        enabled: true,
    };
    // The middleware names the service class `AlertServiceService`, whose verbose name is `Alert`.
    let mut services = Table::new("Alert");
    services.insert(|id| service(id, "Email admins", json!({"type": "Mail", "email": "admin@example.com"}), "WARNING"));
    services.insert(|id| {
        service(
            id,
            "Homelab Slack",
            json!({"type": "Slack", "url": "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"}),
            "ERROR",
        )
    });
    Alerts { alerts, services }
}

#[cfg(test)]
#[path = "alert_tests.rs"]
mod tests;
