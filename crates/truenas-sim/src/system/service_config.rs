//! Settings of the SSH, FTP, SNMP and UPS services (`ssh.*`, `ftp.*`, `snmp.*`, `ups.*`): each a
//! single settings object, updated by merging the given fields and checked as TrueNAS checks it.
//! Also [`ConfigObject`], the settings object other single-row services use.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};

/// One settings object (`<service>.config`).
#[derive(Debug, Clone)]
pub(crate) struct ConfigObject(Map<String, Value>);

impl ConfigObject {
    pub(crate) fn new(value: Value) -> ConfigObject {
        ConfigObject(match value {
            Value::Object(map) => map,
            _ => Map::new(),
        })
    }

    pub(crate) fn get(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// Merges `changes` (keys the object lacks and `id` are ignored) and returns the result.
    pub(crate) fn update(&mut self, changes: &Map<String, Value>) -> Value {
        for (key, value) in changes {
            if key != "id" && self.0.contains_key(key) {
                self.0.insert(key.clone(), value.clone());
            }
        }
        self.get()
    }

    /// Sets one field, whether the object had it or not (derived fields).
    pub(crate) fn set(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_string(), value);
    }

    pub(crate) fn field(&self, key: &str) -> &Value {
        self.0.get(key).unwrap_or(&Value::Null)
    }

    fn text(&self, key: &str) -> &str {
        self.field(key).as_str().unwrap_or_default()
    }
}

/// Fake host key material: base64 text shaped like TrueNAS's stored host keys.
const HOST_KEY: &str = "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0Kc2ltdWxhdGVkIGhvc3Qga2V5IG9mIHRoZSBUcnVlTkFTIHNpbXVsYXRvcgotLS0tLUVORCBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K";

/// Service settings of the simulated NAS.
#[derive(Debug)]
pub(crate) struct ServiceConfigs {
    pub(crate) ssh: ConfigObject,
    pub(crate) ftp: ConfigObject,
    pub(crate) snmp: ConfigObject,
    pub(crate) ups: ConfigObject,
}

impl ServiceConfigs {
    /// TrueNAS's defaults, with SSH keys-only on port 22 and a USB UPS attached.
    pub(crate) fn demo() -> ServiceConfigs {
        let pub_key =
            |kind: &str, tag: &str| format!("{kind} AAAA{tag}SimulatedHostKeyOfTheTrueNASSimulator root@truenas");
        let ssh = json!({
            "id": 1, "bindiface": [], "tcpport": 22, "password_login_groups": [], "passwordauth": false,
            "kerberosauth": false, "tcpfwd": false, "compression": false, "sftp_log_level": "",
            "sftp_log_facility": "", "weak_ciphers": ["AES128-CBC", "NONE"], "options": "",
            "privatekey": HOST_KEY, "host_dsa_key": null, "host_dsa_key_pub": null, "host_dsa_key_cert_pub": null,
            "host_ecdsa_key": HOST_KEY, "host_ecdsa_key_pub": pub_key("ecdsa-sha2-nistp256", "E2VjZHNh"),
            "host_ecdsa_key_cert_pub": null, "host_ed25519_key": HOST_KEY,
            "host_ed25519_key_pub": pub_key("ssh-ed25519", "C3NzaC1lZDI1NTE5"), "host_ed25519_key_cert_pub": null,
            "host_key": null, "host_key_pub": null, "host_rsa_key": HOST_KEY,
            "host_rsa_key_pub": pub_key("ssh-rsa", "B3NzaC1yc2E"), "host_rsa_key_cert_pub": null,
        });
        let ftp = json!({
            "id": 1, "port": 21, "clients": 5, "ipconnections": 2, "loginattempt": 1, "timeout": 600,
            "timeout_notransfer": 300, "onlyanonymous": false, "anonpath": null, "onlylocal": false,
            "banner": "", "filemask": "077", "dirmask": "022", "fxp": false, "resume": false,
            "defaultroot": true, "ident": false, "reversedns": false, "masqaddress": "",
            "passiveportsmin": 0, "passiveportsmax": 0, "localuserbw": 0, "localuserdlbw": 0,
            "anonuserbw": 0, "anonuserdlbw": 0, "tls": false, "tls_policy": "on",
            "tls_opt_allow_client_renegotiations": false, "tls_opt_allow_dot_login": false,
            "tls_opt_allow_per_user": false, "tls_opt_common_name_required": false,
            "tls_opt_enable_diags": false, "tls_opt_export_cert_data": false,
            "tls_opt_no_empty_fragments": false, "tls_opt_no_session_reuse_required": false,
            "tls_opt_stdenvvars": false, "tls_opt_dns_name_required": false,
            "tls_opt_ip_address_required": false, "ssltls_certificate": null, "options": "",
        });
        let snmp = json!({
            "location": "", "contact": "", "traps": false, "v3": false, "community": "public",
            "v3_username": "", "v3_authtype": "", "v3_password": "", "v3_privproto": null,
            "v3_privpassphrase": null, "loglevel": 3, "options": "", "zilstat": false, "id": 1,
        });
        let mut ups = ConfigObject::new(json!({
            "powerdown": true, "rmonitor": false, "id": 1, "nocommwarntime": null, "remoteport": 3493,
            "shutdowntimer": 30, "hostsync": 15, "description": "APC Back-UPS in the rack",
            "driver": "usbhid-ups$Back-UPS ES 700G", "extrausers": "", "identifier": "ups", "mode": "MASTER",
            "monpwd": "Sim-Ups-Monitor1", "monuser": "upsmon", "options": "", "optionsupsd": "", "port": "auto",
            "remotehost": "", "shutdown": "BATT", "shutdowncmd": null, "complete_identifier": "",
        }));
        refresh_ups_identifier(&mut ups);
        ServiceConfigs { ssh: ConfigObject::new(ssh), ftp: ConfigObject::new(ftp), snmp: ConfigObject::new(snmp), ups }
    }

    /// `ssh.update`: merges `changes`; listening interfaces must be among `interfaces`.
    pub(crate) fn update_ssh(&mut self, changes: &Map<String, Value>, interfaces: &[String]) -> Result<Value, Failure> {
        let mut errors = Vec::new();
        for name in changes.get("bindiface").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !interfaces.iter().any(|i| i == name) {
                errors.push(problem("ssh_update.bindiface", format!("{name} is not a valid interface")));
            }
        }
        fail_on(errors)?;
        Ok(self.ssh.update(changes))
    }

    /// `ftp.update`: passive ports are 0 or 1024-65535 with min below max; anonymous-only access
    /// needs a path.
    pub(crate) fn update_ftp(&mut self, changes: &Map<String, Value>) -> Result<Value, Failure> {
        update_checked(&mut self.ftp, changes, |new| {
            let mut errors = Vec::new();
            let (low, high) = (port(new, "passiveportsmin"), port(new, "passiveportsmax"));
            for (key, value) in [("passiveportsmin", low), ("passiveportsmax", high)] {
                if value != 0 && !(1024..=65535).contains(&value) {
                    errors
                        .push(problem(&format!("ftp_update.{key}"), "This value must be 0 or between 1024 and 65535"));
                }
            }
            if (low != 0 || high != 0) && low >= high {
                errors.push(problem("ftp_update.passiveportsmax", "This value must be higher than passiveportsmin"));
            }
            if new.field("onlyanonymous") == &json!(true) && new.text("anonpath").is_empty() {
                errors.push(problem("ftp_update.anonpath", "This field is required for anonymous login"));
            }
            errors
        })
    }

    /// `snmp.update`: SNMPv3 needs a user, an authentication type and a password of 8 or more
    /// characters; a privacy protocol needs its passphrase.
    pub(crate) fn update_snmp(&mut self, changes: &Map<String, Value>) -> Result<Value, Failure> {
        update_checked(&mut self.snmp, changes, |new| {
            let mut errors = Vec::new();
            if new.field("v3") == &json!(true) {
                for key in ["v3_username", "v3_authtype", "v3_password"] {
                    if new.text(key).is_empty() {
                        errors.push(problem(
                            &format!("snmp_update.{key}"),
                            "This field is required when SNMPv3 is enabled",
                        ));
                    }
                }
                let password = new.text("v3_password");
                if !password.is_empty() && password.chars().count() < 8 {
                    errors.push(problem("snmp_update.v3_password", "Password must contain at least 8 characters"));
                }
                if !new.field("v3_privproto").is_null() && new.text("v3_privpassphrase").is_empty() {
                    errors.push(problem(
                        "snmp_update.v3_privpassphrase",
                        "This field is required when SNMPv3 private protocol is specified",
                    ));
                }
            }
            errors
        })
    }

    /// `ups.update`: MASTER mode needs a driver and a port, SLAVE mode a remote host; the
    /// identifier is re-derived.
    pub(crate) fn update_ups(&mut self, changes: &Map<String, Value>) -> Result<Value, Failure> {
        update_checked(&mut self.ups, changes, |new| {
            let required: &[&str] = if new.text("mode") == "SLAVE" { &["remotehost"] } else { &["driver", "port"] };
            let mut errors: Vec<Invalid> = required
                .iter()
                .filter(|key| new.text(key).is_empty())
                .map(|key| problem(&format!("ups_update.{key}"), "This field is required"))
                .collect();
            let identifier = new.text("identifier");
            if !identifier.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                errors.push(problem("ups_update.identifier", "Use alphanumeric characters, \".\", \"-\" and \"_\""));
            }
            refresh_ups_identifier(new);
            errors
        })
    }
}

/// Applies `changes` to a copy of `config`, keeps the copy when `check` (which may also derive
/// fields) finds no problem, and returns the new settings; on a problem nothing changes.
fn update_checked(
    config: &mut ConfigObject,
    changes: &Map<String, Value>,
    check: impl FnOnce(&mut ConfigObject) -> Vec<Invalid>,
) -> Result<Value, Failure> {
    let mut new = config.clone();
    new.update(changes);
    fail_on(check(&mut new))?;
    *config = new;
    Ok(config.get())
}

/// `ups.config`'s derived `complete_identifier`: `identifier@host:port`.
fn refresh_ups_identifier(ups: &mut ConfigObject) {
    let host = match ups.text("mode") {
        "SLAVE" if !ups.text("remotehost").is_empty() => ups.text("remotehost").to_string(),
        _ => "localhost".to_string(),
    };
    let port = ups.field("remoteport").as_i64().unwrap_or(3493);
    let complete = format!("{}@{host}:{port}", ups.text("identifier"));
    ups.set("complete_identifier", json!(complete));
}

fn port(config: &ConfigObject, key: &str) -> i64 {
    config.field(key).as_i64().unwrap_or_default()
}

fn problem(attribute: &str, message: impl Into<String>) -> Invalid {
    Invalid { attribute: Some(attribute.to_string()), message: message.into(), errno: errno::EINVAL }
}

/// `ValidationErrors` when there are problems.
fn fail_on(errors: Vec<Invalid>) -> Result<(), Failure> {
    if errors.is_empty() { Ok(()) } else { Err(Failure::Validation(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::object as changes;

    #[test]
    fn updates_ignore_unknown_keys_and_the_id() {
        let mut s = ServiceConfigs::demo();
        let out = s.update_ssh(&changes(json!({"tcpport": 2222, "id": 9, "rootlogin": true})), &[]).unwrap();
        assert_eq!(out["tcpport"], 2222);
        assert_eq!(out["id"], 1);
        assert!(out.get("rootlogin").is_none());
    }

    #[test]
    fn ssh_listens_only_on_known_interfaces() {
        let mut s = ServiceConfigs::demo();
        let nics = ["enp3s0".to_string()];
        assert!(s.update_ssh(&changes(json!({"bindiface": ["enp3s0"]})), &nics).is_ok());
        let e = s.update_ssh(&changes(json!({"bindiface": ["eth9"]})), &nics).unwrap_err();
        assert!(e.reason().contains("eth9 is not a valid interface"), "{}", e.reason());
        assert_eq!(s.ssh.field("bindiface"), &json!(["enp3s0"]));
    }

    #[test]
    fn ftp_passive_ports_need_a_valid_range_and_nothing_changes_on_error() {
        let mut s = ServiceConfigs::demo();
        assert!(s.update_ftp(&changes(json!({"passiveportsmin": 50000, "passiveportsmax": 50100}))).is_ok());
        let e = s.update_ftp(&changes(json!({"passiveportsmin": 50200, "port": 2121}))).unwrap_err();
        assert!(e.reason().contains("higher than passiveportsmin"), "{}", e.reason());
        assert!(s.update_ftp(&changes(json!({"passiveportsmin": 80}))).is_err());
        assert_eq!(s.ftp.field("port"), 21, "a refused update changes nothing");
        assert!(s.update_ftp(&changes(json!({"onlyanonymous": true}))).is_err());
    }

    #[test]
    fn snmp_v3_needs_its_user_type_and_a_long_password() {
        let mut s = ServiceConfigs::demo();
        let e = s.update_snmp(&changes(json!({"v3": true}))).unwrap_err();
        assert!(e.reason().contains("v3_username"), "{}", e.reason());
        let short = json!({"v3": true, "v3_username": "mon", "v3_authtype": "SHA", "v3_password": "short"});
        assert!(s.update_snmp(&changes(short)).unwrap_err().reason().contains("at least 8"));
        let ok = json!({"v3": true, "v3_username": "mon", "v3_authtype": "SHA", "v3_password": "longenough"});
        assert_eq!(s.update_snmp(&changes(ok)).unwrap()["v3"], true);
        assert!(s.update_snmp(&changes(json!({"v3_privproto": "AES"}))).is_err());
    }

    #[test]
    fn ups_identifier_follows_mode_host_and_port() {
        let mut s = ServiceConfigs::demo();
        assert_eq!(s.ups.field("complete_identifier"), "ups@localhost:3493");
        let slave = json!({"mode": "SLAVE", "remotehost": "10.0.0.5", "remoteport": 3500, "identifier": "apc"});
        let out = s.update_ups(&changes(slave)).unwrap();
        assert_eq!(out["complete_identifier"], "apc@10.0.0.5:3500");
        let e = s.update_ups(&changes(json!({"remotehost": ""}))).unwrap_err();
        assert!(e.reason().contains("remotehost"), "{}", e.reason());
        assert!(s.update_ups(&changes(json!({"mode": "MASTER", "driver": ""}))).is_err());
    }
}
