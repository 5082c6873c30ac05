//! The audit log (`audit.*`): settings, and records of logins, API calls, sudo and SMB access.
//! A fresh NAS has a few days of history; audited changes made through the simulated API add
//! records as they happen.

use serde_json::{Map, Value, json};

use crate::clock::{date, now_ms};
use crate::failure::{Failure, Invalid, errno};

const GIB: i64 = 1024 * 1024 * 1024;

/// Audit settings and records.
#[derive(Debug)]
pub(crate) struct Audit {
    retention: i64,
    reservation: i64,
    quota: i64,
    quota_fill_warning: i64,
    quota_fill_critical: i64,
    records: Vec<Value>,
}

/// Where the demo's API client connects from.
const CLIENT: &str = "192.168.1.20";

/// The time `minutes` ago, in milliseconds: when a seeded record happened.
fn ago(minutes: i64) -> i64 {
    now_ms() - minutes * 60_000
}

fn record(
    ms: i64,
    service: &str,
    username: &str,
    address: &str,
    event: &str,
    event_data: Value,
    success: bool,
) -> Value {
    let service_data = match service {
        "MIDDLEWARE" => json!({
            "vers": {"major": 0, "minor": 1},
            "origin": format!("{address}:51234"),
            "protocol": "WEBSOCKET",
            "credentials": {"credentials": "API_KEY", "credentials_data": {"username": username}},
        }),
        "SMB" => json!({"vers": {"major": 0, "minor": 1}, "service": "media", "session_id": "3104"}),
        _ => Value::Null,
    };
    json!({
        "audit_id": uuid::Uuid::new_v4().to_string(),
        "message_timestamp": ms / 1000,
        "timestamp": date(ms),
        "address": address,
        "username": username,
        "session": uuid::Uuid::new_v4().to_string(),
        "service": service,
        "service_data": service_data,
        "event": event,
        "event_data": event_data,
        "success": success,
    })
}

fn login(credentials: &str) -> Value {
    json!({"credentials": {"credentials": credentials, "credentials_data": {}}, "error": null})
}

fn call(method: &str, description: &str) -> Value {
    json!({"method": method, "params": [], "description": description, "authenticated": true, "authorized": true})
}

impl Default for Audit {
    fn default() -> Self {
        let failed = json!({"credentials": {"credentials": "LOGIN_PASSWORD", "credentials_data": {"username": "admin"}}, "error": "Bad username or password"});
        let records = vec![
            record(
                ago(3 * 1440),
                "MIDDLEWARE",
                "truenas_admin",
                CLIENT,
                "AUTHENTICATION",
                login("LOGIN_PASSWORD"),
                true,
            ),
            record(
                ago(3 * 1440 - 5),
                "MIDDLEWARE",
                "truenas_admin",
                CLIENT,
                "METHOD_CALL",
                call("sharing.smb.create", "SMB share create media"),
                true,
            ),
            record(
                ago(2 * 1440),
                "SUDO",
                "truenas_admin",
                CLIENT,
                "ACCEPT",
                json!({"sudo": {"accept": {"command": "/usr/sbin/zpool", "submituser": "truenas_admin", "runuser": "root", "command_args": ["status", "tank"]}}}),
                true,
            ),
            record(
                ago(2 * 1440 - 30),
                "SMB",
                "alice",
                "192.168.1.31",
                "AUTHENTICATION",
                json!({"logonId": "0", "clientAccount": "alice", "result": {"type": "NTSTATUS", "value_parsed": "NT_STATUS_OK"}}),
                true,
            ),
            record(
                ago(2 * 1440 - 31),
                "SMB",
                "alice",
                "192.168.1.31",
                "CONNECT",
                json!({"host": "truenas", "unix_token": {"uid": 3000, "gid": 3000}}),
                true,
            ),
            record(ago(1440), "MIDDLEWARE", "admin", "10.0.0.66", "AUTHENTICATION", failed.clone(), false),
            record(ago(1440 - 1), "MIDDLEWARE", "admin", "10.0.0.66", "AUTHENTICATION", failed, false),
            record(ago(600), "MIDDLEWARE", "truenas_admin", CLIENT, "AUTHENTICATION", login("API_KEY"), true),
            record(
                ago(598),
                "MIDDLEWARE",
                "truenas_admin",
                CLIENT,
                "METHOD_CALL",
                call("app.upgrade", "App: Upgrading plex"),
                true,
            ),
            record(
                ago(120),
                "SYSTEM",
                "root",
                "127.0.0.1",
                "ESCALATION",
                json!({"syscall": "EXECVE", "proctitle": "/usr/bin/sudo -i"}),
                true,
            ),
            record(ago(30), "MIDDLEWARE", "truenas_admin", CLIENT, "AUTHENTICATION", login("API_KEY"), true),
        ];
        Audit { retention: 7, reservation: 0, quota: 0, quota_fill_warning: 75, quota_fill_critical: 95, records }
    }
}

impl Audit {
    pub(crate) fn config(&self) -> Value {
        let used = 48 * 1024 * 1024 + self.records.len() as i64 * 2048;
        json!({
            "id": 1,
            "retention": self.retention,
            "reservation": self.reservation,
            "quota": self.quota,
            "quota_fill_warning": self.quota_fill_warning,
            "quota_fill_critical": self.quota_fill_critical,
            "remote_logging_enabled": false,
            "space": {
                "used": used, "used_by_dataset": used, "used_by_reservation": self.reservation * GIB,
                "used_by_snapshots": 0, "available": 180 * GIB,
            },
            "enabled_services": {"MIDDLEWARE": [], "SMB": [], "SUDO": []},
        })
    }

    /// `audit.update`: bounds are the schema's; the thresholds must stay ordered.
    pub(crate) fn update(&mut self, changes: &Map<String, Value>) -> Result<(), Failure> {
        let get = |k: &str, old: i64| changes.get(k).and_then(Value::as_i64).unwrap_or(old);
        let warning = get("quota_fill_warning", self.quota_fill_warning);
        let critical = get("quota_fill_critical", self.quota_fill_critical);
        if critical <= warning {
            return Err(Failure::Validation(vec![Invalid {
                attribute: Some("audit_update.quota_fill_critical".into()),
                message: "Must be greater than quota_fill_warning".into(),
                errno: errno::EINVAL,
            }]));
        }
        self.retention = get("retention", self.retention);
        self.reservation = get("reservation", self.reservation);
        self.quota = get("quota", self.quota);
        self.quota_fill_warning = warning;
        self.quota_fill_critical = critical;
        Ok(())
    }

    /// Records of `services` (MIDDLEWARE when none are named), oldest first.
    pub(crate) fn records(&self, services: &[&str]) -> Vec<Value> {
        let wanted: Vec<&str> = if services.is_empty() { vec!["MIDDLEWARE"] } else { services.to_vec() };
        self.records.iter().filter(|r| r["service"].as_str().is_some_and(|s| wanted.contains(&s))).cloned().collect()
    }

    /// Adds a `METHOD_CALL` record for an audited call made now.
    pub(crate) fn method_call(&mut self, username: &str, method: &str, description: &str, success: bool) {
        self.records.push(record(
            now_ms(),
            "MIDDLEWARE",
            username,
            CLIENT,
            "METHOD_CALL",
            call(method, description),
            success,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_per_service_with_middleware_by_default() {
        let a = Audit::default();
        let middleware = a.records(&[]);
        assert!(middleware.iter().all(|r| r["service"] == "MIDDLEWARE"));
        assert_eq!(middleware.iter().filter(|r| r["success"] == false).count(), 2);
        assert_eq!(a.records(&["SMB", "SUDO"]).len(), 3);
        let stamps: Vec<i64> = a
            .records(&["MIDDLEWARE", "SMB", "SUDO", "SYSTEM"])
            .iter()
            .map(|r| r["message_timestamp"].as_i64().unwrap())
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    }

    #[test]
    fn update_keeps_thresholds_ordered_and_calls_are_recorded() {
        let mut a = Audit::default();
        let bad = json!({"quota_fill_warning": 80, "quota_fill_critical": 60});
        assert!(a.update(bad.as_object().unwrap()).unwrap_err().reason().contains("quota_fill_critical"));
        a.update(json!({"retention": 30}).as_object().unwrap()).unwrap();
        assert_eq!(a.config()["retention"], 30);
        a.method_call("truenas_admin", "app.create", "App: Creating jellyfin", true);
        let last = a.records(&[]).pop().unwrap();
        assert_eq!(last["event_data"]["description"], "App: Creating jellyfin");
    }
}
