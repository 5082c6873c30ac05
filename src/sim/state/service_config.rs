//! Settings of the SSH, FTP, SNMP and UPS services (`ssh.*`, `ftp.*`, `snmp.*`, `ups.*`), of
//! Kerberos (`kerberos.config`, realms, keytabs) and of directory services
//! (`directoryservices.*`): each a single settings object, updated by merging the given fields.

use serde_json::{Map, Value, json};

use super::records::Records;

/// One settings object (`<service>.config`).
#[derive(Debug, Clone)]
pub(crate) struct ConfigObject(Map<String, Value>);

impl ConfigObject {
    fn new(value: Value) -> ConfigObject {
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

    pub(crate) fn field(&self, key: &str) -> &Value {
        self.0.get(key).unwrap_or(&Value::Null)
    }
}

/// Service and directory settings of the simulated NAS.
#[derive(Debug)]
pub(crate) struct ServiceConfigs {
    pub(crate) ssh: ConfigObject,
    pub(crate) ftp: ConfigObject,
    pub(crate) snmp: ConfigObject,
    pub(crate) ups: ConfigObject,
    pub(crate) kerberos: ConfigObject,
    pub(crate) directory: ConfigObject,
    pub(crate) realms: Records,
    pub(crate) keytabs: Records,
}

impl ServiceConfigs {
    /// TrueNAS's defaults, with SSH on port 22 bound to every interface and no directory joined.
    pub(crate) fn demo() -> ServiceConfigs {
        let ssh = json!({
            "id": 1, "bindiface": [], "tcpport": 22, "password_login_groups": [], "passwordauth": false,
            "kerberosauth": false, "tcpfwd": false, "compression": false, "sftp_log_level": "",
            "sftp_log_facility": "", "weak_ciphers": ["AES128-CBC", "NONE"], "options": "",
            "privatekey": "", "host_dsa_key": null, "host_dsa_key_pub": null, "host_dsa_key_cert_pub": null,
            "host_ecdsa_key": null, "host_ecdsa_key_pub": null, "host_ecdsa_key_cert_pub": null,
            "host_ed25519_key": null,
            "host_ed25519_key_pub": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedHostKeyOfTheTrueNASSimulator root@truenas",
            "host_ed25519_key_cert_pub": null, "host_key": null, "host_key_pub": null, "host_rsa_key": null,
            "host_rsa_key_pub": null, "host_rsa_key_cert_pub": null,
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
        let ups = json!({
            "powerdown": true, "rmonitor": false, "id": 1, "nocommwarntime": null, "remoteport": 3493,
            "shutdowntimer": 30, "hostsync": 15, "description": "", "driver": "", "extrausers": "",
            "identifier": "ups", "mode": "MASTER", "monpwd": "", "monuser": "upsmon", "options": "",
            "optionsupsd": "", "port": "", "remotehost": "", "shutdown": "BATT", "shutdowncmd": null,
            "complete_identifier": "ups@localhost:3493",
        });
        let kerberos = json!({"id": 1, "appdefaults_aux": "", "libdefaults_aux": ""});
        let directory = json!({
            "id": 1, "service_type": null, "credential": null, "enable": false, "enable_account_cache": true,
            "enable_dns_updates": true, "timeout": 60, "kerberos_realm": null, "configuration": null,
        });
        ServiceConfigs {
            ssh: ConfigObject::new(ssh),
            ftp: ConfigObject::new(ftp),
            snmp: ConfigObject::new(snmp),
            ups: ConfigObject::new(ups),
            kerberos: ConfigObject::new(kerberos),
            directory: ConfigObject::new(directory),
            realms: Records::new("Kerberos Realm"),
            keytabs: Records::new("Kerberos Keytab"),
        }
    }

    /// `ups.config`'s derived `complete_identifier`: `identifier@host:port`.
    pub(crate) fn refresh_ups_identifier(&mut self) {
        let ups = &self.ups;
        let host = match (ups.field("mode").as_str(), ups.field("remotehost").as_str()) {
            (Some("SLAVE"), Some(h)) if !h.is_empty() => h.to_string(),
            _ => "localhost".to_string(),
        };
        let complete = format!(
            "{}@{host}:{}",
            ups.field("identifier").as_str().unwrap_or("ups"),
            ups.field("remoteport").as_i64().unwrap_or(3493)
        );
        self.ups.0.insert("complete_identifier".into(), json!(complete));
    }

    /// `directoryservices.status`: type and health of the joined directory, if any.
    pub(crate) fn directory_status(&self) -> Value {
        let d = &self.directory;
        if d.field("enable") == &json!(true) {
            json!({"type": d.field("service_type"), "status": "HEALTHY", "status_msg": null})
        } else {
            json!({"type": null, "status": null, "status_msg": null})
        }
    }

    /// Leaves the joined directory: service disabled, credential dropped.
    pub(crate) fn leave_directory(&mut self) {
        let changes = json!({"enable": false, "service_type": null, "credential": null, "configuration": null,
            "kerberos_realm": null});
        if let Value::Object(c) = changes {
            self.directory.update(&c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_ignore_unknown_keys_and_the_id() {
        let mut s = ServiceConfigs::demo();
        let changes = json!({"tcpport": 2222, "id": 9, "rootlogin": true});
        let out = s.ssh.update(changes.as_object().unwrap());
        assert_eq!(out["tcpport"], 2222);
        assert_eq!(out["id"], 1);
        assert!(out.get("rootlogin").is_none());
    }

    #[test]
    fn ups_identifier_follows_mode_host_and_port() {
        let mut s = ServiceConfigs::demo();
        let changes = json!({"mode": "SLAVE", "remotehost": "10.0.0.5", "remoteport": 3500, "identifier": "apc"});
        s.ups.update(changes.as_object().unwrap());
        s.refresh_ups_identifier();
        assert_eq!(s.ups.field("complete_identifier"), "apc@10.0.0.5:3500");
    }

    #[test]
    fn a_joined_directory_is_healthy_until_left() {
        let mut s = ServiceConfigs::demo();
        assert_eq!(s.directory_status()["type"], Value::Null);
        let join = json!({"enable": true, "service_type": "ACTIVEDIRECTORY"});
        s.directory.update(join.as_object().unwrap());
        assert_eq!(s.directory_status()["status"], "HEALTHY");
        s.leave_directory();
        assert_eq!(s.directory_status()["status"], Value::Null);
    }
}
