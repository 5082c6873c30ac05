//! Service settings, directory services and Kerberos through the dispatcher: results in the
//! shape of TrueNAS's `returns` schemas on every release, updates that persist or are refused
//! whole, the directory jobs, and no secret of these results surviving the agent-side redaction.

use serde_json::{Value, json};

use super::super::testing::Harness;
use crate::redact::{MASK, redact};
use crate::schema::Release;
use crate::sim::reference_dumps::SHAPED;

#[tokio::test]
async fn settings_answer_in_the_shape_of_the_dumps_and_updates_persist() {
    for release in Release::ALL {
        let h = Harness::new(release);
        for method in ["ssh.config", "ftp.config", "snmp.config", "ups.config"] {
            h.ok(method, json!([])).await;
        }
        assert_eq!(h.ok("ssh.update", json!([{"tcpport": 2222, "bindiface": ["enp5s0"]}])).await["tcpport"], 2222);
        assert_eq!(h.ok("ssh.config", json!([])).await["tcpport"], 2222);
        let ftp =
            h.ok("ftp.update", json!([{"passiveportsmin": 50000, "passiveportsmax": 50100, "tls_policy": "data"}]));
        assert_eq!(ftp.await["passiveportsmax"], 50100);
        let v3 = json!([{"v3": true, "v3_username": "mon", "v3_authtype": "SHA", "v3_password": "longenough",
            "v3_privproto": "AES", "v3_privpassphrase": "privacy!", "contact": "admin@example.com"}]);
        assert_eq!(h.ok("snmp.update", v3).await["v3_privproto"], "AES");
        let ups = h.ok("ups.update", json!([{"mode": "SLAVE", "remotehost": "192.168.1.20"}])).await;
        assert_eq!(ups["complete_identifier"], "ups@192.168.1.20:3493");
        assert_eq!(h.ok("ups.config", json!([])).await["mode"], "SLAVE");
    }
}

#[tokio::test]
async fn refused_settings_change_nothing() {
    let h = Harness::new(Release::V25_10);
    let e = h.err("ssh.update", json!([{"bindiface": ["wlan7"], "tcpport": 2200}])).await;
    assert!(e.reason().contains("wlan7 is not a valid interface"), "{}", e.reason());
    assert_eq!(h.ok("ssh.config", json!([])).await["tcpport"], 22);
    assert!(
        h.err("ftp.update", json!([{"passiveportsmin": 6000, "passiveportsmax": 5000}]))
            .await
            .reason()
            .contains("passiveportsmin")
    );
    assert!(h.err("ups.update", json!([{"mode": "SLAVE"}])).await.reason().contains("remotehost"));
    assert_eq!(h.ok("ups.config", json!([])).await["mode"], "MASTER");
}

#[tokio::test]
async fn directory_and_kerberos_methods_answer_in_the_shape_of_the_dumps() {
    for release in with_directoryservices() {
        let h = Harness::new(release);
        let config = h.ok("directoryservices.config", json!([])).await;
        assert_eq!(config["configuration"]["domain"], "ad.homelab.lan");
        assert_eq!(h.ok("directoryservices.status", json!([])).await["status"], "HEALTHY");
        h.ok("kerberos.config", json!([])).await;
        let realm = h.ok("kerberos.realm.query", json!([])).await;
        assert_eq!(realm[0]["realm"], "AD.HOMELAB.LAN");
        let keytabs = h.ok("kerberos.keytab.query", json!([[["name", "=", "AD_MACHINE_ACCOUNT"]]])).await;
        assert_eq!(keytabs.as_array().map(Vec::len), Some(1));
        h.ok("kerberos.keytab.get_instance", json!([1])).await;
        let e = h.err("kerberos.realm.get_instance", json!([9])).await;
        assert!(e.reason().contains("Kerberos Realm 9 does not exist"), "{}", e.reason());
        let updated = h.ok("directoryservices.update", json!([{"timeout": 30, "enable_account_cache": false}])).await;
        assert_eq!((updated["timeout"].clone(), updated["enable_account_cache"].clone()), (json!(30), json!(false)));
        assert_eq!(h.ok("directoryservices.cache_refresh", json!([])).await, Value::Null);
    }
}

#[tokio::test]
async fn leaving_and_joining_again_are_jobs_that_change_the_directory() {
    let h = Harness::new(Release::V26_0);
    let cred =
        json!([{"credential": {"credential_type": "KERBEROS_USER", "username": "Administrator", "password": "x"}}]);
    assert_eq!(h.ok("directoryservices.leave", cred.clone()).await, Value::Null);
    assert_eq!(
        h.ok("directoryservices.status", json!([])).await,
        json!({"type": null, "status": null, "status_msg": null})
    );
    assert!(h.ok("kerberos.keytab.query", json!([])).await.as_array().is_some_and(Vec::is_empty));
    let e = h.err("directoryservices.leave", cred).await;
    assert!(e.reason().contains("must be enabled and healthy"), "{}", e.reason());

    let join = json!([{"service_type": "ACTIVEDIRECTORY", "enable": true,
        "credential": {"credential_type": "KERBEROS_USER", "username": "Administrator", "password": "x"},
        "configuration": {"service_type": "ACTIVEDIRECTORY", "hostname": "nas2", "domain": "corp.example"}}]);
    let joined = h.ok("directoryservices.update", join).await;
    assert_eq!(joined["credential"]["principal"], "NAS2$@CORP.EXAMPLE");
    assert_eq!(joined["configuration"]["idmap"]["idmap_domain"]["idmap_backend"], "RID", "defaults are filled in");
    let jobs = h.ok("core.get_jobs", json!([[["method", "=", "directoryservices.update"]]])).await;
    assert_eq!(jobs[0]["state"], "SUCCESS");
}

#[tokio::test]
async fn no_secret_of_these_results_reaches_the_agent() {
    let h = Harness::new(Release::V25_10);
    h.ok(
        "snmp.update",
        json!([{"v3": true, "v3_username": "mon", "v3_authtype": "SHA",
        "v3_password": "Snmp-Auth-Secret", "v3_privproto": "AES", "v3_privpassphrase": "Snmp-Priv-Secret",
        "community": "Community-Secret"}]),
    )
    .await;
    h.ok(
        "directoryservices.leave",
        json!([{"credential": {"credential_type": "KERBEROS_USER", "username": "a", "password": "b"}}]),
    )
    .await;
    let ldap = json!([{"service_type": "LDAP", "enable": true,
        "credential": {"credential_type": "LDAP_PLAIN", "binddn": "cn=nas,dc=lab", "bindpw": "Ldap-Bind-Secret"},
        "configuration": {"service_type": "LDAP", "server_urls": ["ldaps://ldap.lab"], "basedn": "dc=lab"}}]);
    h.ok("directoryservices.update", ldap).await;
    let mut results = Vec::new();
    for method in ["ssh.config", "snmp.config", "ups.config", "directoryservices.config"] {
        results.push(h.ok(method, json!([])).await);
    }
    let mut all = Value::Array(results);
    // The keytab of the seeded join was dropped by the leave; a fresh NAS still has it.
    all.as_array_mut().unwrap().push(Harness::new(Release::V25_10).ok("kerberos.keytab.query", json!([])).await);
    let before = all.to_string();
    redact(&mut all);
    let text = all.to_string();
    for secret in [
        "Snmp-Auth-Secret",
        "Snmp-Priv-Secret",
        "Community-Secret",
        "Ldap-Bind-Secret",
        "Sim-Ups-Monitor1",
        "LS0tLS1CRUdJTi",
        "BQIAAABH",
    ] {
        assert!(before.contains(secret), "the sim returns {secret}");
        assert!(!text.contains(secret), "{secret} survived redaction: {text}");
    }
    let ssh = &all[0];
    assert_eq!(ssh["host_ed25519_key"], MASK);
    assert!(ssh["host_ed25519_key_pub"].as_str().unwrap().starts_with("ssh-ed25519 "), "public keys stay");
    assert_eq!(all[3]["credential"]["binddn"], "cn=nas,dc=lab");
    assert_eq!(all[4][0]["name"], "AD_MACHINE_ACCOUNT");
}

/// The catalog's examples of both categories succeed against the seeded NAS, in catalog order
/// (leaving the domain after changing its settings, deleting the tunable after changing it).
#[tokio::test]
async fn the_directory_and_service_config_examples_succeed_in_catalog_order() {
    let catalog = crate::catalog::Catalog::builtin().unwrap();
    for release in with_directoryservices() {
        let h = Harness::new(release);
        let mut failures = Vec::new();
        let mut called = 0;
        for action in catalog.actions().filter(|a| a.category == "directory" || a.category == "service_config") {
            let mut args = action.example_args();
            if release >= Release::V27_0 {
                args.remove("loglevel"); // 27 has no SNMP log level: refused there before sending
            }
            let params = action.build_params(&args).unwrap();
            called += 1;
            if let Err(e) = h.call(action.method.as_str(), params.clone()).await {
                failures.push(format!("{} {params}: {}", action.name, e.reason()));
            }
        }
        assert_eq!(called, 20);
        assert!(failures.is_empty(), "{release}: {failures:#?}");
        assert_eq!(h.ok("directoryservices.status", json!([])).await["status"], Value::Null, "the domain was left");
        let tunables = h.ok("tunable.query", json!([[], {"select": ["var"]}])).await;
        assert_eq!(tunables, json!([{"var": "net.core.rmem_max"}]), "the seeded tunable was changed, then deleted");
    }
}

/// The shaped releases with `directoryservices.*` (25.10 on; 25.04 still had `activedirectory.*`).
fn with_directoryservices() -> impl Iterator<Item = crate::schema::Release> {
    SHAPED.into_iter().filter(|r| crate::schema::MethodTable::get(*r).method("directoryservices.config").is_some())
}
