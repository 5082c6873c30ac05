use serde_json::{Value, json};

use super::*;

fn changes(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn ldap() -> Value {
    json!({
        "service_type": "LDAP", "enable": true,
        "credential": {"credential_type": "LDAP_PLAIN", "binddn": "cn=nas,dc=lab", "bindpw": "secret-bind"},
        "configuration": {"service_type": "LDAP", "server_urls": ["ldap://ldap.lab"], "basedn": "dc=lab"},
    })
}

#[test]
fn the_demo_is_joined_with_its_machine_account() {
    let d = Directory::demo();
    let config = d.config();
    assert_eq!((config["enable"].clone(), config["service_type"].clone()), (json!(true), json!("ACTIVEDIRECTORY")));
    assert_eq!(
        config["credential"],
        json!({"credential_type": "KERBEROS_PRINCIPAL", "principal": "TRUENAS$@AD.HOMELAB.LAN"})
    );
    assert_eq!(config["kerberos_realm"], "AD.HOMELAB.LAN");
    assert_eq!(d.status(), json!({"type": "ACTIVEDIRECTORY", "status": "HEALTHY", "status_msg": null}));
    assert_eq!(d.realms.entries()[0]["realm"], "AD.HOMELAB.LAN");
    assert_eq!(d.keytabs.entries()[0]["name"], "AD_MACHINE_ACCOUNT");
}

#[test]
fn only_caching_dns_and_timeout_change_while_enabled() {
    let mut d = Directory::demo();
    assert_eq!(d.update(changes(json!({"timeout": 30, "force": true}))).unwrap()["timeout"], 30);
    let e = d.update(changes(json!({"service_type": "LDAP"}))).unwrap_err();
    assert!(e.reason().contains("may not be changed while directory services are enabled"), "{}", e.reason());
    let e = d.update(changes(json!({"kerberos_realm": "OTHER.LAN"}))).unwrap_err();
    assert!(e.reason().contains("Kerberos realm may not be changed"), "{}", e.reason());
    assert!(e.reason().contains("Unknown kerberos realm"), "{}", e.reason());
    assert_eq!(d.config()["service_type"], "ACTIVEDIRECTORY", "a refused update changes nothing");
}

#[test]
fn leaving_resets_the_settings_and_drops_the_machine_keytab() {
    let mut d = Directory::demo();
    d.leave().unwrap();
    assert_eq!(d.config(), Value::Object(reset_config()));
    assert_eq!(d.status()["status"], Value::Null);
    assert!(d.keytabs.entries().is_empty());
    assert_eq!(d.realms.entries().len(), 1, "the realm stays");
    let e = d.leave().unwrap_err();
    assert!(e.reason().contains("must be enabled and healthy"), "{}", e.reason());
}

#[test]
fn ldap_binds_keep_their_credential_and_cannot_be_left() {
    let mut d = Directory::demo();
    d.leave().unwrap();
    let out = d.update(changes(ldap())).unwrap();
    assert_eq!(out["credential"]["bindpw"], "secret-bind");
    assert_eq!(d.status()["type"], "LDAP");
    let e = d.leave().unwrap_err();
    assert!(e.reason().contains("LDAP: Directory service type does not support leave operations"), "{}", e.reason());
    // Disabling keeps the settings; a null service type wipes them.
    assert_eq!(d.update(changes(json!({"enable": false}))).unwrap()["service_type"], "LDAP");
    assert_eq!(d.status()["status"], Value::Null);
    assert_eq!(d.update(changes(json!({"service_type": null}))).unwrap()["configuration"], Value::Null);
}

#[test]
fn enabling_needs_a_type_a_credential_and_a_matching_configuration() {
    let mut d = Directory::demo();
    d.leave().unwrap();
    let e = d.update(changes(json!({"enable": true}))).unwrap_err();
    let reason = e.reason();
    assert!(reason.contains("service_type") && reason.contains("credential"), "{reason}");
    let mut wrong = ldap();
    wrong["configuration"]["service_type"] = json!("IPA");
    assert!(d.update(changes(wrong)).is_err());
    let stored_admin = json!({"service_type": "ACTIVEDIRECTORY", "enable": false,
        "credential": {"credential_type": "KERBEROS_USER", "username": "a", "password": "b"}});
    assert!(d.update(changes(stored_admin)).unwrap_err().reason().contains("may not be stored"));
}
