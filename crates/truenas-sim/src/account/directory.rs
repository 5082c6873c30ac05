//! Directory services (`directoryservices.*`, the 25.10 service that replaced
//! `activedirectory.*` and `ldap.*`) and Kerberos (`kerberos.config`, realms, keytabs). The
//! simulated NAS is joined to a homelab Active Directory domain. Joining and leaving follow
//! TrueNAS's rules (what may change while enabled, which services can be left, the machine
//! account keytab and realm a join creates) without talking to any domain controller.

use serde_json::{Map, Value, json};

use crate::json::object;

use crate::failure::{Failure, Invalid, errno};
use crate::records::Records;
use crate::system::service_config::ConfigObject;

/// The domain the demo NAS is joined to.
const DOMAIN: &str = "ad.homelab.lan";

/// Fake keytab contents (base64), as `kerberos.keytab.query` shows a stored keytab.
const KEYTAB: &str =
    "BQIAAABHAAIADkFELkhPTUVMQUIuTEFOAAhUUlVFTkFTJAAAAAFlAAAAAAIAEgAgc2ltdWxhdGVkIGtleXRhYiBvZiB0aGUgc2ltdWxhdG9y";

const SCHEMA: &str = "directoryservices.update";

/// Directory and Kerberos state of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Directory {
    /// `directoryservices.config`.
    config: Map<String, Value>,
    /// Health of the enabled service (`HEALTHY`), `None` when disabled.
    health: Option<&'static str>,
    pub(crate) kerberos: ConfigObject,
    pub(crate) realms: Records,
    pub(crate) keytabs: Records,
}

fn problem(attribute: &str, message: &str) -> Invalid {
    Invalid { attribute: Some(format!("{SCHEMA}.{attribute}")), message: message.to_string(), errno: errno::EINVAL }
}

impl Directory {
    /// Joined to the `ad.homelab.lan` Active Directory domain as `TRUENAS`.
    pub(crate) fn demo() -> Directory {
        let mut directory = Directory {
            config: reset_config(),
            health: None,
            kerberos: ConfigObject::new(json!({"id": 1, "appdefaults_aux": "", "libdefaults_aux": ""})),
            realms: Records::new("Kerberos Realm"),
            keytabs: Records::new("Kerberos Keytab"),
        };
        let idmap = json!({
            "builtin": {"name": null, "range_low": 90000001, "range_high": 100000000},
            "idmap_domain": {"name": "HOMELAB", "range_low": 100000001, "range_high": 200000000,
                "idmap_backend": "RID", "sssd_compat": false},
        });
        let join = json!({
            "service_type": "ACTIVEDIRECTORY", "enable": true,
            "credential": {"credential_type": "KERBEROS_USER", "username": "Administrator", "password": "seeded"},
            "configuration": {"service_type": "ACTIVEDIRECTORY", "hostname": "truenas", "domain": DOMAIN,
                "idmap": idmap, "site": null, "computer_account_ou": null, "use_default_domain": false,
                "enable_trusted_domains": false, "trusted_domains": []},
        });
        // INVARIANT: the seeded join is valid, so it cannot fail.
        let _joined = directory.update(object(join));
        directory
    }

    pub(crate) fn config(&self) -> Value {
        Value::Object(self.config.clone())
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.config.get(key).and_then(Value::as_str)
    }

    fn enabled(&self) -> bool {
        self.config.get("enable") == Some(&json!(true))
    }

    /// `directoryservices.status`.
    pub(crate) fn status(&self) -> Value {
        match self.health {
            Some(health) if self.enabled() => {
                json!({"type": self.config["service_type"], "status": health, "status_msg": null})
            }
            _ => json!({"type": null, "status": null, "status_msg": null}),
        }
    }

    /// `directoryservices.update` with `changes` (already holding the configuration's defaults):
    /// validates as TrueNAS does, then stores, joins (enabling AD or IPA) or disables.
    pub(crate) fn update(&mut self, mut changes: Map<String, Value>) -> Result<Value, Failure> {
        changes.remove("force");
        // The stored configuration is not tagged with its service type; the given one is.
        let given_kind = match changes.get_mut("configuration") {
            Some(Value::Object(conf)) => Some(conf.remove("service_type").unwrap_or(Value::Null)),
            _ => None,
        };
        let old = self.config.clone();
        let mut new = old.clone();
        new.extend(changes);
        let field = |m: &Map<String, Value>, k: &str| m.get(k).cloned().unwrap_or(Value::Null);
        let (was_on, on) = (old.get("enable") == Some(&json!(true)), new.get("enable") == Some(&json!(true)));
        let kind = field(&new, "service_type");
        let mut errors = Vec::new();
        if given_kind.is_some_and(|k| k != kind) {
            errors.push(problem("configuration", "The configuration must be for the selected service type"));
        }
        if was_on && on {
            if field(&old, "service_type") != kind {
                errors.push(problem(
                    "service_type",
                    "Service type for directory services may not be changed while directory services are enabled",
                ));
            }
            if field(&old, "configuration") != field(&new, "configuration") {
                errors.push(problem(
                    "configuration",
                    "Permitted changes while directory services are enabled are limited to account caching, DNS \
                     updates, and timeouts.",
                ));
            }
            if field(&old, "kerberos_realm") != field(&new, "kerberos_realm") {
                errors.push(problem(
                    "kerberos_realm",
                    "Kerberos realm may not be changed while directory service is enabled.",
                ));
            }
        }
        if let Some(realm) = new.get("kerberos_realm").filter(|r| !r.is_null())
            && !self.realms.taken("realm", realm, None)
        {
            errors.push(problem("kerberos_realm", "Unknown kerberos realm"));
        }
        let cred_type = new.get("credential").and_then(|c| c.get("credential_type")).cloned();
        if !on && cred_type == Some(json!("KERBEROS_USER")) && (kind == "ACTIVEDIRECTORY" || kind == "IPA") {
            errors.push(problem(
                "credential.credential_type",
                "Kerberos user credentials may not be stored for disabled directory services when the directory \
                 service type is IPA or Active Directory.",
            ));
        }
        if on {
            if kind.is_null() {
                errors.push(problem("service_type", "A service type is required to enable directory services"));
            }
            if cred_type.is_none() {
                errors.push(problem("credential", "A credential is required to enable directory services"));
            }
            if !new.get("configuration").is_some_and(Value::is_object) {
                errors.push(problem("configuration", "A configuration is required to enable directory services"));
            }
        }
        if !errors.is_empty() {
            return Err(Failure::Validation(errors));
        }
        if !on {
            self.config = if kind.is_null() { reset_config() } else { new };
            self.health = None;
            return Ok(self.config());
        }
        if !was_on && (kind == "ACTIVEDIRECTORY" || kind == "IPA") {
            self.join(&mut new);
        }
        self.config = new;
        self.health = Some("HEALTHY");
        Ok(self.config())
    }

    /// What joining an AD or IPA domain leaves behind: a machine account keytab, the domain's
    /// realm, and that account as the credential in place of the admin's password.
    fn join(&mut self, new: &mut Map<String, Value>) {
        let conf = new.get("configuration").cloned().unwrap_or(Value::Null);
        let domain = conf["domain"].as_str().unwrap_or(DOMAIN).to_string();
        let host = conf["hostname"].as_str().unwrap_or("truenas").to_string();
        let realm = domain.to_uppercase();
        let ad = new.get("service_type") == Some(&json!("ACTIVEDIRECTORY"));
        if !self.realms.taken("realm", &json!(realm), None) {
            self.realms.insert(object(json!({
                "realm": realm, "primary_kdc": null, "kdc": [], "admin_server": [], "kpasswd_server": [],
            })));
        }
        let (keytab, principal) = if ad {
            ("AD_MACHINE_ACCOUNT", format!("{}$@{realm}", host.to_uppercase()))
        } else {
            ("IPA_MACHINE_ACCOUNT", format!("host/{host}.{domain}@{realm}"))
        };
        if !self.keytabs.taken("name", &json!(keytab), None) {
            self.keytabs.insert(object(json!({"name": keytab, "file": KEYTAB})));
        }
        new.insert("kerberos_realm".into(), json!(realm));
        new.insert("credential".into(), json!({"credential_type": "KERBEROS_PRINCIPAL", "principal": principal}));
    }

    /// `directoryservices.leave`: only an enabled AD or IPA domain can be left; the machine
    /// account keytab goes and the settings return to TrueNAS's reset state.
    pub(crate) fn leave(&mut self) -> Result<(), Failure> {
        if !self.enabled() {
            return Err(Failure::call(
                errno::EFAULT,
                "The directory service must be enabled and healthy before the TrueNAS server can leave the domain.",
            ));
        }
        let kind = self.text("service_type").unwrap_or_default().to_string();
        let keytab = match kind.as_str() {
            "ACTIVEDIRECTORY" => "AD_MACHINE_ACCOUNT",
            "IPA" => "IPA_MACHINE_ACCOUNT",
            other => {
                return Err(Failure::call(
                    errno::EFAULT,
                    format!("{other}: Directory service type does not support leave operations"),
                ));
            }
        };
        let ids: Vec<i64> =
            self.keytabs.entries().iter().filter(|k| k["name"] == keytab).filter_map(|k| k["id"].as_i64()).collect();
        for id in ids {
            let _removed = self.keytabs.delete(id);
        }
        self.config = reset_config();
        self.health = None;
        Ok(())
    }
}

/// The settings after `directoryservices.reset`: disabled, flags on, timeout 10, all else null.
fn reset_config() -> Map<String, Value> {
    object(json!({
        "id": 1, "service_type": null, "credential": null, "enable": false, "enable_account_cache": true,
        "enable_dns_updates": true, "timeout": 10, "kerberos_realm": null, "configuration": null,
    }))
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
